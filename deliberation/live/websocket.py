"""Websocket compression that keeps no compressor per socket.

Phone browsers offer permessage-deflate, and simple-websocket accepts it with wsproto's
defaults: context takeover both ways, i.e. a zlib compressor (~256 KiB) and decompressor
kept for the whole life of every socket. Measured with 2,000 phones offering it: 180 KiB of
server memory per phone instead of 75 (docs/benchmarks.md). Our messages are small and
independent (a ``state``, an acknowledgement), so each is compressed on its own: the
agreement says ``server_no_context_takeover`` and ``client_no_context_takeover``, and
wsproto drops the zlib objects after every message. The ``state`` sent when a poll opens
still travels compressed to every phone, which matters on a venue's wifi.

simple-websocket has no option for this; it names wsproto's ``PerMessageDeflate`` when it
accepts a handshake, so that name is given the parameters here (once per process).
"""

from __future__ import annotations

from functools import partial

import simple_websocket.ws
from wsproto.extensions import PerMessageDeflate

per_message_deflate = partial(
    PerMessageDeflate, client_no_context_takeover=True, server_no_context_takeover=True
)


def compress_each_message_alone() -> None:
    simple_websocket.ws.PerMessageDeflate = per_message_deflate
