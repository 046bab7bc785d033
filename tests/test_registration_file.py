"""The process file carries events and the registration window; the demo has registration
open for its general assembly, with a few registrations."""

from __future__ import annotations

from textwrap import dedent

import pytest
from sqlalchemy import select

from deliberation.extensions import db
from deliberation.models import Process, Registration
from deliberation.services.authoring.process_export import dump_process
from deliberation.services.authoring.process_file import ProcessFileError, load_process_text
from deliberation.services.demo.demo import DEMO_SLUG, ensure_demo
from deliberation.services.registration import events, registrations

FILE = dedent(
    """\
    format: 1
    slug: small
    title: Petit
    territories:
      - Liège
    events:
      - title: Atelier Liège
        kind: workshop
        starts_at: 2014-10-02 14:00
        place: Liège
        capacity: 40
        territory: Liège
      - title: Assemblée générale
        kind: assembly
        starts_at: 2014-11-21 09:00
        capacity: 250
    registration:
      open: true
      closes_at: 2014-11-14 23:59
    fields:
      - title: Champ 1
    """
)


def test_events_and_registration_round_trip(app):
    with app.app_context():
        process = load_process_text(FILE)
        assert [(e.title, e.capacity) for e in events.events_of(process)] == [
            ("Atelier Liège", 40),
            ("Assemblée générale", 250),
        ]
        assert process.events[0].territory.name == "Liège"
        assert process.registration_window.opened
        text = dump_process(process)
        assert "closes_at: 2014-11-14 23:59" in text and "capacity: 40" in text
        again = load_process_text(text, replace=True)
        assert dump_process(again) == text


@pytest.mark.parametrize(
    "old, new, reason",
    [
        ("capacity: 40", "capacity: lots", "capacity must be a whole number"),
        ("territory: Liège\n", "territory: Mons\n", "not one of the file's territories"),
        ("starts_at: 2014-10-02 14:00", "starts_at: jeudi", "must be a date and time"),
        ("kind: workshop", "kind: party", "unknown kind"),
    ],
)
def test_bad_events_are_refused_with_their_line(app, old, new, reason):
    with app.app_context():
        with pytest.raises(ProcessFileError) as refused:
            load_process_text(FILE.replace(old, new, 1))
        assert reason in str(refused.value)
        assert db.session.scalar(select(Process.id)) is None


def test_the_demo_has_registration_open_for_its_general_assembly(app, tmp_path):
    with app.app_context():
        lines = ensure_demo("organisateur@example.org", tmp_path / "login.txt")
        process = db.session.scalar(select(Process).filter_by(slug=DEMO_SLUG))
        assert events.is_open(process)
        assembly = events.events_of(process)[0]
        assert assembly.kind == "assembly"
        roster = registrations.roster(assembly)
        assert len(roster) >= 5 and {p.status for p in roster} == {"confirmed"}
        assert any("demo registrations" in line for line in lines)
        ensure_demo("organisateur@example.org", tmp_path / "login.txt")
        assert db.session.scalar(select(db.func.count(Registration.id))) == len(roster)
