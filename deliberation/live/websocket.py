"""Websocket compression that keeps no compressor per socket.

Phone browsers offer permessage-deflate, and simple-websocket accepts it with wsproto's
defaults: context takeover both ways, i.e. a zlib compressor (~256 KiB) and decompressor
kept for the whole life of every socket. Measured with 2,000 phones offering it: 180 KiB of
server memory per phone instead of 75 (docs/benchmarks.md). Our messages are small and
independent (a ``state``, an acknowledgement), so each is compressed on its own: the
agreement says ``server_no_context_takeover`` and ``client_no_context_takeover``, and
wsproto drops the zlib objects after every message. The ``state`` sent when a poll opens
still travels compressed to every phone when it is long (an item's text), which matters on
a venue's wifi; a message that fits in one network packet anyway (an acknowledgement, a
short state: under ``MIN_COMPRESSED_BYTES``) is sent as it is, with the RSV1 bit clear, as
RFC 7692 allows: compressing it would cost both ends CPU and save no airtime.

simple-websocket has no option for this; it names wsproto's ``PerMessageDeflate`` when it
accepts a handshake, so that name is given the parameters here (once per process).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import simple_websocket.ws
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import Opcode, RsvBits

# Below this, a message fits in one packet (1,500-byte MTU, minus IP, TCP, TLS and
# websocket headers) compressed or not.
MIN_COMPRESSED_BYTES = 1200


class CompressLongMessages(PerMessageDeflate):
    """permessage-deflate that leaves whole messages under ``MIN_COMPRESSED_BYTES`` as they are."""

    def frame_outbound(
        self, proto: Any, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        whole = fin and opcode in (Opcode.TEXT, Opcode.BINARY)
        if whole and len(data) < MIN_COMPRESSED_BYTES:
            return rsv, data
        return super().frame_outbound(proto, opcode, rsv, data, fin)


per_message_deflate = partial(
    CompressLongMessages, client_no_context_takeover=True, server_no_context_takeover=True
)


def compress_each_message_alone() -> None:
    simple_websocket.ws.PerMessageDeflate = per_message_deflate
