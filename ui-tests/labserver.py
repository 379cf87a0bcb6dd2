"""What the browser tests know about the JupyterLab server they run against."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Lab:
    url: str
    token: str
    root_dir: Path

    def lab_url(self, path: str = "lab") -> str:
        # `reset` starts from the default layout: one test's open panels do not leak into the next.
        return f"{self.url}{path}?reset&token={self.token}"
