"""The demo: the Assises de l'insertion and an organiser account, loaded by ``make run``.

``flask --app app load-demo`` calls :func:`ensure_demo`. It is idempotent: the process is
imported only when its slug is absent, the demo organiser is created only when there is no
organiser account at all, and it becomes the owner of the demo process while that process
has no member. The demo password is public (it is printed and documented), so it is shown
only while the account still has it.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select

from ..extensions import db
from ..models import Organizer, Process
from .access import Role
from .accounts import create_or_update_organizer, find_organizer
from .demo_sessions import ensure_demo_sessions
from .membership import add_member, members
from .process_file import import_process_file

DEMO_FILE = Path(__file__).resolve().parent.parent / "demo" / "assises-insertion.yaml"
DEMO_SLUG = "assises-insertion"
# Documented in the README and docs/process-format.md: change it after the first log-in.
DEMO_PASSWORD = "assises-demo"
DEMO_ORGANIZER_NAME = "Organisateur (démo)"


def login_url() -> str:
    """Where ``python app.py`` serves (same HOST and PORT variables), plus the log-in path."""
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "5000")
    return f"http://{host}:{port}/login"


def ensure_demo(organizer_email: str) -> list[str]:
    """Load the demo process and the demo organiser if absent; return lines to print."""
    lines: list[str] = []
    process = db.session.scalar(select(Process).filter_by(slug=DEMO_SLUG))
    if process is None:
        process = import_process_file(DEMO_FILE)
        lines.append(f"Loaded the demo process “{process.title}” ({DEMO_SLUG}).")
    else:
        lines.append(f"The demo process {DEMO_SLUG} is already there: left unchanged.")
    lines += ensure_demo_sessions(process)

    if not db.session.scalar(select(func.count(Organizer.id))):
        organizer, _created = create_or_update_organizer(
            organizer_email, DEMO_PASSWORD, name=DEMO_ORGANIZER_NAME
        )
        lines.append(f"Created the demo organiser account {organizer.email}.")

    account = find_organizer(organizer_email)
    if account is not None and not members(process):
        # The demo belongs to the demo organiser (a database from before memberships too).
        add_member(process, account, Role.OWNER)
        lines.append(f"The demo organiser {account.email} owns the demo process.")

    lines.append(f"Organisers log in at {login_url()}")
    if account is None:
        lines.append(
            "  Organiser accounts already exist: log in with yours "
            "(flask --app app create-organizer EMAIL adds one)."
        )
    elif account.check_password(DEMO_PASSWORD):
        lines.append(f"  e-mail:   {account.email}")
        lines.append(f"  password: {DEMO_PASSWORD}   (the public demo password: change it)")
    else:
        lines.append(f"  e-mail:   {account.email}")
        lines.append("  password: changed since the demo was loaded (not shown)")
    return lines
