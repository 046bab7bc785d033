"""Command-line interface: ``flask --app app <command>``.

Each command turns its arguments into one service call and prints the outcome.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import operations
from .documents.jobs import build_document
from .extensions import db
from .live.broadcast import organizer_signed_out
from .models import Organizer, Process
from .services.authoring.process_file import (
    ProcessFileError,
    dump_process,
    import_process_file,
    load_yaml,
)
from .services.demo.demo import DEMO_SLUG, ensure_demo
from .services.people import membership
from .services.people.access import Role
from .services.people.accounts import (
    AccountError,
    create_or_update_organizer,
    find_organizer,
    set_admin,
)


def _process_or_fail(slug: str) -> Process:
    process = db.session.scalar(db.select(Process).filter_by(slug=slug))
    if process is None:
        raise click.ClickException(f"No process with slug {slug!r}.")
    return process


@click.command("create-organizer")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.password_option(help="Prompted for when not given.")
def create_organizer(email: str, name: str, password: str) -> None:
    """Create an organiser account (or reset its password, which ends its sessions)."""
    try:
        organizer, created = create_or_update_organizer(email, password, name=name)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    if not created:
        # Reaches the servers' sockets through a Redis message queue; without one, the
        # old sessions are refused at their next request or event all the same.
        organizer_signed_out(organizer.id)
    click.echo(f"{'Created' if created else 'Updated'} organiser {organizer.email}.")


def _organizer_or_fail(email: str) -> Organizer:
    organizer = find_organizer(email)
    if organizer is None:
        raise click.ClickException(
            f"No organiser account {email!r}: create it first with create-organizer."
        )
    return organizer


@click.command("import-process")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace a process with the same slug.")
@click.option(
    "--owner",
    "owner_email",
    default=None,
    help="E-mail of an existing organiser who becomes its owner. Without it the process is "
    "seen by instance administrators only, until one adds an owner (add-member).",
)
def import_process(file: Path, replace: bool, owner_email: str | None) -> None:
    """Import a whole process from a process file (YAML)."""
    owner = _organizer_or_fail(owner_email) if owner_email else None
    kept = None
    if replace:
        existing = db.session.scalar(db.select(Process).filter_by(slug=_slug_in(file)))
        kept = membership.snapshot(existing) if existing is not None else None
    try:
        process = import_process_file(file, replace=replace)
    except ProcessFileError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Imported {process.slug!r}: {process.title}")
    if kept:
        click.echo(f"Kept {membership.restore(process, kept)} of its {len(kept)} member(s).")
    if owner is not None:
        membership.add_member(process, owner, Role.OWNER)
        click.echo(f"Owner: {owner.email}")
    elif not membership.members(process):
        click.echo("No owner: only instance administrators see it (add-member adds one).")


def _slug_in(file: Path) -> str | None:
    """The slug a process file names, to find the process ``--replace`` will replace."""
    try:
        data = load_yaml(file.read_text(encoding="utf-8-sig"))
    except (ProcessFileError, UnicodeDecodeError):
        return None  # the import itself reports what is wrong with the file
    slug = data.get("slug") if isinstance(data, dict) else None
    return slug if isinstance(slug, str) else None


@click.command("add-member")
@click.argument("slug")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.OWNER.value,
    show_default=True,
)
@click.option("--territory", default=None, help="Facilitators: only this territory's sessions.")
def add_member(slug: str, email: str, role: str, territory: str | None) -> None:
    """Make an organiser a member of a process (or change their role)."""
    process = _process_or_fail(slug)
    organizer = _organizer_or_fail(email)
    territory_id = None
    if territory is not None:
        found = [t for t in process.territories if t.name == territory]
        if not found:
            names = ", ".join(t.name for t in process.territories) or "none"
            raise click.ClickException(f"No territory {territory!r} (territories: {names}).")
        territory_id = found[0].id
    try:
        membership.add_member(process, organizer, role, territory_id)
    except membership.MembershipError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"{organizer.email} is {role} of {process.slug!r}.")


@click.command("grant-admin")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the administrator's rights away instead.")
def grant_admin(email: str, revoke: bool) -> None:
    """Make an organiser an instance administrator: sees and may do everything."""
    try:
        organizer = set_admin(email, not revoke)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    state = "no longer an administrator" if revoke else "an instance administrator"
    click.echo(f"{organizer.email} is {state}.")


@click.command("export-process")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_process(slug: str, output: Path) -> None:
    """Export a whole process to a process file (YAML)."""
    process = _process_or_fail(slug)
    output.write_text(dump_process(process), encoding="utf-8")
    click.echo(f"Wrote {output}")


@click.command("load-demo")
@click.option("--organizer-email", default="organisateur@example.org", show_default=True)
def load_demo(organizer_email: str) -> None:
    """Load the demo Assises (idempotent) and make sure a demo organiser exists."""
    report = ensure_demo(organizer_email)
    for line in report:
        click.echo(line)
    # The published handouts are built here, as a worker would (the demo's first page load
    # then finds them); in Word only, for a quick start: « Publish again » adds the PDFs.
    demo = db.session.scalar(db.select(Process).filter_by(slug=DEMO_SLUG))
    if demo is not None and any(f.handouts_published_at for f in demo.fields):
        directory = build_document(
            "handouts",
            demo.id,
            None,
            current_app.config["EXPORTS_DIR"],
        )
        click.echo(f"Handouts built in {directory}")


export_group = AppGroup("export", help="Export documents: the Synthèse and the Actes.")
PDF_HELP = "Also write a PDF beside it with LibreOffice (default: the EXPORT_PDF setting)."


def _export(document_kind: str, slug: str, output: Path | None, pdf: bool | None) -> None:
    process = _process_or_fail(slug)
    with_pdf = current_app.config.get("EXPORT_PDF") if pdf is None else pdf
    path = build_document(
        document_kind,
        process.id,
        output,
        current_app.config["EXPORTS_DIR"],
        pdf=bool(with_pdf),
    )
    click.echo(f"Wrote {path}")
    if path.with_suffix(".pdf").is_file() and with_pdf:
        click.echo(f"Wrote {path.with_suffix('.pdf')}")


@export_group.command("synthesis")
@click.option("--process", "slug", required=True, help="Process slug.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--pdf/--no-pdf", default=None, help=PDF_HELP)
def export_synthesis(slug: str, output: Path | None, pdf: bool | None) -> None:
    """The Synthèse des possibles (.docx, and its PDF when LibreOffice is installed)."""
    _export("synthesis", slug, output, pdf)


@export_group.command("proceedings")
@click.option("--process", "slug", required=True, help="Process slug.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--pdf/--no-pdf", default=None, help=PDF_HELP)
def export_proceedings(slug: str, output: Path | None, pdf: bool | None) -> None:
    """The Actes, the full proceedings (.docx, and its PDF when LibreOffice is installed)."""
    _export("proceedings", slug, output, pdf)


@click.command("backup")
@with_appcontext
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
def backup(destination: Path) -> None:
    """Back the database up into DESTINATION, while the server runs (docs/deployment.md)."""
    try:
        path = operations.backup(db.engine.url, destination)
    except operations.OperationsError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {path} (readable by this user only)")


@click.command("restore")
@with_appcontext
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(source: Path, yes: bool) -> None:
    """Replace the database's content by the backup SOURCE. Stop the server first."""
    where = db.engine.url.render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Replace everything in {where} by {source}?", abort=True)
    db.engine.dispose()  # no pooled connection keeps the old content open
    try:
        kept = operations.restore(db.engine.url, source)
    except operations.OperationsError as error:
        raise click.ClickException(str(error)) from None
    if kept is not None:
        click.echo(f"The database as it was before is kept in {kept}")
    problem = operations.schema_problem(db.engine)
    click.echo(f"Restored {source} into {where}" + (f"; then {problem}" if problem else ""))


def register(app: Flask) -> None:
    for command in (
        backup,
        restore,
        create_organizer,
        import_process,
        add_member,
        grant_admin,
        export_process,
        load_demo,
        export_group,
    ):
        app.cli.add_command(command)
