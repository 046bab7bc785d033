"""Pages long enough to render that they must not stop the server meanwhile.

Under gevent one OS thread serves every request and every phone: a page that takes seconds
to render (the outline of a process with thousands of items: each Markdown text rendered
and sanitised, four links per item) would stop every vote for as long. Such a page is
streamed instead: Jinja renders it piece by piece, and after every ``SLICE_S`` of rendering
the greenlet gives way (``time.sleep(0)``, gevent's when serving) so the others run; the
browser receives it in chunks. The page's context is built when the
streaming starts (``context`` is a function): by then the view has returned and its
database session is gone, so objects loaded in the view could not load their children.
Outside gevent, the pause is a no-op.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, stream_template, stream_with_context

# Longest stretch of rendering between two pauses.
SLICE_S = 0.01
# Pieces of text are sent in chunks of about this many characters.
CHUNK_CHARS = 16 * 1024


def _paced(pieces: Iterator[str]) -> Iterator[str]:
    buffer: list[str] = []
    size = 0
    since = time.perf_counter()
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= CHUNK_CHARS:
            yield "".join(buffer)
            buffer, size = [], 0
        if time.perf_counter() - since >= SLICE_S:
            time.sleep(0)  # gevent's sleep when serving: every other greenlet runs now
            since = time.perf_counter()
    if buffer:
        yield "".join(buffer)


def render_template_cooperatively(
    template_name: str, context: Callable[[], dict[str, Any]]
) -> Response:
    """Like ``render_template``, streamed, giving way to other requests while it renders.

    ``context()`` is called inside the stream, with the request context pushed again."""

    def pages() -> Iterator[str]:
        yield from _paced(stream_template(template_name, **context()))

    return Response(stream_with_context(pages()), mimetype="text/html")
