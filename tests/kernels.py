"""Notebook kernels started through the server's REST API (as JupyterLab starts them)."""

from __future__ import annotations

from typing import Any


class NotebookKernel:
    """A notebook session created through ``POST /api/sessions``, and a client to run code in it."""

    def __init__(self, server: Any, model: dict[str, Any]) -> None:
        self.server = server
        self.model = model
        self.kernel_id: str = model["kernel"]["id"]
        self.client: Any = None
        self.execution_count: int | None = None  # of the last cell run ("In [n]")

    async def connect(self) -> None:
        manager = self.server.kernel_manager.get_kernel(self.kernel_id)
        self.client = manager.client()
        self.client.start_channels()
        await self.client.wait_for_ready(timeout=60)

    async def run(self, code: str, cell_id: str | None = None) -> tuple[str, str]:
        """Execute ``code``; return (stdout, stderr). Fails on an error in the cell.
        ``cell_id``: sent in the request's metadata as JupyterLab sends it (``cellId``)."""
        if cell_id is not None:
            session = self.client.session
            original = session.msg

            def with_cell(msg_type: str, content: Any = None, **kwargs: Any) -> Any:
                if msg_type == "execute_request":
                    kwargs["metadata"] = {**(kwargs.get("metadata") or {}), "cellId": cell_id}
                return original(msg_type, content, **kwargs)

            session.msg = with_cell
            try:
                return await self.run(code)
            finally:
                session.msg = original
        streams = {"stdout": "", "stderr": ""}
        errors: list[str] = []

        def collect(message: dict[str, Any]) -> None:
            kind, content = message["header"]["msg_type"], message["content"]
            if kind == "stream":
                streams[content["name"]] += content["text"]
            elif kind == "error":
                errors.append("\n".join(content["traceback"]))

        reply = await self.client.execute_interactive(code, output_hook=collect, timeout=120)
        assert reply["content"]["status"] == "ok", errors
        self.execution_count = reply["content"].get("execution_count")
        return streams["stdout"], streams["stderr"]

    def close(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
