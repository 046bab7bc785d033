"""The state each screen is sent: the services' state of a session
(:func:`deliberation.services.live.presentation.state_for`) completed with what only this
layer knows or renders — the phones connected now (presence, :mod:`.rooms`) and an
amendment's side-by-side comparison (a template).

Every state that reaches a screen (a socket's connect, sync and acks, the broadcasts, the
console and projector pages) is built here.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import force_locale

from ..models import LiveSession, Participant
from ..services.live import sessions
from . import rooms

COMPARISON_TEMPLATE = "live/_amendment_compare.html"


def state_for(
    session: LiveSession, role: str, participant: Participant | None = None
) -> dict[str, Any]:
    """The whole state for one screen (docs/protocol.md), in the process language."""
    # Phones are not told how many phones are connected: no presence read for them.
    connected = rooms.connected_count(session.id) if role != "phone" else 0
    state = sessions.state_for(session, role, participant, connected=connected)
    item = state["item"]
    if item is not None and item.get("amendment"):
        with force_locale(state["session"]["language"]):
            item["text_html"] = comparison_html(item["amendment"])
    return state


def comparison_html(amendment: dict[str, Any]) -> str:
    """Both wordings of an amendment side by side, the changes marked (escaped HTML)."""
    return render_template(COMPARISON_TEMPLATE, amendment=amendment)
