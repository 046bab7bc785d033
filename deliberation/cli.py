"""Command-line interface: ``flask --app app <command>``.

Each command turns its arguments into one service call and prints the outcome.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .extensions import db
from .models import Process


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
    from .live.broadcast import organizer_signed_out
    from .services.accounts import AccountError, create_or_update_organizer

    try:
        organizer, created = create_or_update_organizer(email, password, name=name)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    if not created:
        # Reaches the servers' sockets through a Redis message queue; without one, the
        # old sessions are refused at their next request or event all the same.
        organizer_signed_out(organizer.id)
    click.echo(f"{'Created' if created else 'Updated'} organiser {organizer.email}.")


@click.command("import-process")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace a process with the same slug.")
def import_process(file: Path, replace: bool) -> None:
    """Import a whole process from a process file (YAML)."""
    from .services.process_file import ProcessFileError, import_process_file

    try:
        process = import_process_file(file, replace=replace)
    except ProcessFileError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Imported {process.slug!r}: {process.title}")


@click.command("export-process")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_process(slug: str, output: Path) -> None:
    """Export a whole process to a process file (YAML)."""
    from .services.process_file import dump_process

    process = _process_or_fail(slug)
    output.write_text(dump_process(process), encoding="utf-8")
    click.echo(f"Wrote {output}")


@click.command("load-demo")
@click.option("--organizer-email", default="organisateur@example.org", show_default=True)
def load_demo(organizer_email: str) -> None:
    """Load the demo Assises (idempotent) and make sure a demo organiser exists."""
    from .services.demo import ensure_demo

    report = ensure_demo(organizer_email)
    for line in report:
        click.echo(line)


export_group = AppGroup("export", help="Export documents: the Synthèse and the Actes.")


def _export(kind: str, slug: str, output: Path | None) -> None:
    from .documents.jobs import build_document

    process = _process_or_fail(slug)
    path = build_document(kind, process.id, output, current_app.config["EXPORTS_DIR"])
    click.echo(f"Wrote {path}")


@export_group.command("synthesis")
@click.option("--process", "slug", required=True, help="Process slug.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_synthesis(slug: str, output: Path | None) -> None:
    """The Synthèse des possibles (.docx)."""
    _export("synthesis", slug, output)


@export_group.command("proceedings")
@click.option("--process", "slug", required=True, help="Process slug.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_proceedings(slug: str, output: Path | None) -> None:
    """The Actes, the full proceedings (.docx)."""
    _export("proceedings", slug, output)


def register(app: Flask) -> None:
    for command in (create_organizer, import_process, export_process, load_demo, export_group):
        app.cli.add_command(command)
