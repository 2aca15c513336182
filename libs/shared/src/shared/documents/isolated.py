"""Render in a separate process with a time limit, so a runaway document cannot hang or bloat a worker.

WeasyPrint is CPU-bound Python (the GIL makes threads useless for it), so parallel renders need
processes anyway. Each document gets its own child forked from a forkserver that has already
imported WeasyPrint (fast start, clean state: the forkserver has no event loop, threads or sockets),
and the child is killed when the time limit passes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import threading
import time
from typing import Any

from shared.documents.render import RenderedDocument, render_document
from shared.documents.snapshot import DocumentKind, DocumentSnapshot

_ctx_lock = threading.Lock()
_ctx: Any = None


class RenderError(Exception):
    """The document could not be rendered from this snapshot (retrying will not help)."""


class RenderTimeout(RenderError):
    pass


def _context() -> Any:
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["shared.documents._forkserver_warmup"])
            _ctx = ctx
    return _ctx


def _child(conn: multiprocessing.connection.Connection, kind: str, snapshot: dict[str, Any]) -> None:
    try:
        try:
            result = render_document(kind, snapshot)  # type: ignore[arg-type]
            conn.send(("ok", result.pdf, result.pages, result.sha256))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which decides
            conn.send(("error", f"{type(exc).__name__}: {exc}"[:2000], 0, ""))
    except (BrokenPipeError, EOFError):
        pass  # the parent gave up on us (time limit): nobody is listening any more
    finally:
        conn.close()


def render_blocking(
    kind: DocumentKind, snapshot: DocumentSnapshot | dict[str, Any], timeout: float
) -> RenderedDocument:
    """Render in a child process; kill it and raise RenderTimeout after `timeout` seconds."""
    data = snapshot.model_dump(mode="json") if isinstance(snapshot, DocumentSnapshot) else snapshot
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, kind, data), daemon=True, name=f"render-{kind}")
    deadline = time.monotonic() + timeout
    proc.start()
    child.close()
    try:
        if not parent.poll(max(deadline - time.monotonic(), 0)):
            raise RenderTimeout(f"rendering took longer than {timeout:g}s and was stopped")
        try:
            status, payload, pages, sha = parent.recv()
        except EOFError as exc:
            raise RenderError(f"the render process died (exit code {proc.exitcode})") from exc
        if status != "ok":
            raise RenderError(payload)
        return RenderedDocument(pdf=payload, pages=pages, sha256=sha)
    finally:
        parent.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        proc.close()


class IsolatedRenderer:
    """Async front: at most `max_parallel` render processes at a time, each with a time limit."""

    def __init__(self, timeout: float = 30.0, max_parallel: int = 1) -> None:
        self.timeout = timeout
        self._slots = asyncio.Semaphore(max_parallel)

    async def render(
        self, kind: DocumentKind, snapshot: DocumentSnapshot | dict[str, Any]
    ) -> RenderedDocument:
        async with self._slots:
            return await asyncio.to_thread(render_blocking, kind, snapshot, self.timeout)

    @staticmethod
    def warm_up(timeout: float = 120.0) -> None:
        """Start the forkserver and wait until it is warm (it renders a document once while starting),
        so the first real job is not charged for it against its time limit."""
        from shared.documents.samples import sample_snapshot

        render_blocking("pi", sample_snapshot("pi", placas=1), timeout)
