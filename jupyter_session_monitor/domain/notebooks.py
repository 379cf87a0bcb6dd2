"""A notebook's identity across the servers that share a registry."""

from __future__ import annotations

import os


def notebook_file(root_dir: str, notebook_path: str) -> str:
    """A notebook's identity across servers: its absolute path (a server's notebook paths are
    relative to its own folder, which another server's may differ from)."""
    return os.path.normpath(os.path.join(os.path.realpath(root_dir), notebook_path))
