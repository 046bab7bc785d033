"""The demo: the Assises de l'insertion and an organiser account, loaded by ``make run``.

``flask --app app load-demo`` calls :func:`ensure_demo`. It is idempotent: the process is
imported only when its slug is absent, the demo organiser is created only when there is no
organiser account at all, and it becomes the owner of the demo process while that process
has no member. Its password is drawn at random for this instance, printed, and kept in
``instance/demo-login.txt`` (mode 0600, never in git; the README names it): running the
command again prints it again, as long as the account still has it, and a database made
afresh gets the same one back. No password is written in the repository.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from ...extensions import db
from ...keys import write_private
from ...models import Organizer, Process
from ..authoring.process_file import import_process_file
from ..people.access import Role
from ..people.accounts import create_or_update_organizer, find_organizer
from ..people.membership import add_member, members
from ..people.passwords import password_problem
from .demo_experts import ensure_demo_experts
from .demo_registration import ensure_demo_registrations
from .demo_sessions import ensure_demo_sessions

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "assises-insertion.yaml"
DEMO_SLUG = "assises-insertion"
DEMO_ORGANIZER_NAME = "Organisateur (démo)"
DEMO_LOGIN_FILE = "demo-login.txt"
# Easy to read aloud and to type from a projected screen: no 0/o, 1/l/i.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def login_url() -> str:
    """Where ``python app.py`` serves (same HOST and PORT variables), plus the log-in path."""
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "5000")
    return f"http://{host}:{port}/login"


def login_file_path() -> Path:
    return Path(current_app.instance_path) / DEMO_LOGIN_FILE


def new_demo_password() -> str:
    """Four groups of four characters (about 78 bits), e.g. ``k7dm-q3xa-w9te-h4pn``."""
    groups = ("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def read_login(path: Path) -> tuple[str, str] | None:
    """The (e-mail, password) kept in the demo login file, or None."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    fields = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep and not line.startswith("#"):
            fields[name.strip()] = value.strip()
    if fields.get("e-mail") and fields.get("password"):
        return fields["e-mail"], fields["password"]
    return None


def write_login(path: Path, email: str, password: str) -> None:
    write_private(
        path,
        "# The demo organiser of this instance, made by `flask --app app load-demo`.\n"
        "# Log in with it, then change the password (the name at the top right of any page).\n"
        f"e-mail: {email}\n"
        f"password: {password}\n",
    )


def ensure_demo(organizer_email: str, login_file: Path | None = None) -> list[str]:
    """Load the demo process and the demo organiser if absent; return lines to print."""
    login_file = login_file or login_file_path()
    lines: list[str] = []
    process = db.session.scalar(select(Process).filter_by(slug=DEMO_SLUG))
    if process is None:
        process = import_process_file(DEMO_FILE)
        lines.append(f"Loaded the demo process “{process.title}” ({DEMO_SLUG}).")
    else:
        lines.append(f"The demo process {DEMO_SLUG} is already there: left unchanged.")
    lines += ensure_demo_sessions(process)
    lines += ensure_demo_registrations(process)
    lines += ensure_demo_experts(process)

    kept = read_login(login_file)
    if not db.session.scalar(select(func.count(Organizer.id))):
        # A database made afresh on this instance gets the kept password back.
        password = kept[1] if kept and password_problem(kept[1]) is None else new_demo_password()
        organizer, _created = create_or_update_organizer(
            organizer_email, password, name=DEMO_ORGANIZER_NAME
        )
        write_login(login_file, organizer.email, password)
        kept = (organizer.email, password)
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
        return lines
    lines.append(f"  e-mail:   {account.email}")
    if kept and kept[0] == account.email and account.check_password(kept[1]):
        lines.append(f"  password: {kept[1]}")
        lines.append(f"  (kept in {login_file}; change it once logged in)")
    else:
        lines.append(
            "  password: not shown (changed since the demo was loaded; "
            "flask --app app create-organizer EMAIL sets a new one)"
        )
    return lines
