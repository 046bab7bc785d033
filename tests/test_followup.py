"""The follow-up of recommendations (issue 16, part 3): the rules, the organisers' screens,
the public « Suivi » page, its Atom feed and its open data; hostile strings everywhere."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from test_documents_synthesis import reopen, styled

from deliberation.documents.proceedings import build_proceedings
from deliberation.extensions import db
from deliberation.models import (
    ActionPath,
    FollowUp,
    FollowUpEntry,
    FollowUpLink,
    Process,
    Recommendation,
)
from deliberation.services.authoring import authoring
from deliberation.services.publishing import followup, opendata
from deliberation.services.publishing.followup import FollowUpError
from tests.access_world import build_world, client_as

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>=cmd|\x01"


def _items(app):
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="assises"))
        recommendation = db.session.scalars(db.select(Recommendation).order_by("id")).first()
        path = db.session.scalars(db.select(ActionPath).order_by("id")).first()
        return process.id, recommendation.id, path.id


def english(app):
    """A request context whose reader asks for English (the default locale is French)."""
    return app.test_request_context(headers={"Accept-Language": "en"})


@pytest.fixture
def world(app):
    return build_world(app)


def _record(process, rec_id, **values):
    defaults = {
        "status": "in_progress",
        "happened_on": "2026-01-15",
        "note": "Sent to the minister's office.",
        "progress": "20",
        "actor": "owner@example.org",
    }
    return followup.record_status(process, "recommendation", rec_id, **{**defaults, **values})


# -- the rules ------------------------------------------------------------------------------


def test_status_changes_are_appended_never_overwritten(app, world):
    process_id, rec_id, _path_id = _items(app)
    with english(app):
        process = db.session.get(Process, process_id)
        _record(process, rec_id)
        _record(
            process,
            rec_id,
            status="done",
            happened_on="2026-02-01",
            progress="100",
            note="Adopted by decree.",
        )
        follow_up = followup.follow_up_of(process, "recommendation", rec_id)
        history = [(e.status, e.happened_on, e.progress, e.note) for e in follow_up.entries]
        assert history == [
            ("in_progress", date(2026, 1, 15), 20, "Sent to the minister's office."),
            ("done", date(2026, 2, 1), 100, "Adopted by decree."),
        ]
        # A change dated earlier (recorded late) takes its place in the history, and the
        # current status stays the one that happened last.
        _record(
            process,
            rec_id,
            status="not_started",
            happened_on="2026-01-02",
            progress="0",
            note="Received.",
        )
        db.session.expire_all()
        follow_up = followup.follow_up_of(process, "recommendation", rec_id)
        assert [e.status for e in follow_up.entries] == ["not_started", "in_progress", "done"]
        assert follow_up.latest.status == "done"
        assert db.session.scalar(db.select(db.func.count(FollowUpEntry.id))) == 3
        assert db.session.scalar(db.select(db.func.count(FollowUp.id))) == 1


@pytest.mark.parametrize(
    "values, message",
    [
        ({"status": "maybe"}, "Choose a status"),
        ({"status": None}, "Choose a status"),
        ({"happened_on": "31/12/2025"}, "year-month-day"),
        ({"happened_on": ""}, "year-month-day"),
        ({"happened_on": (date.today() + timedelta(days=2)).isoformat()}, "between 1990"),
        ({"happened_on": "1850-01-01"}, "between 1990"),
        ({"note": "   "}, "is required"),
        ({"note": "x" * (followup.NOTE_MAX + 1)}, "too long"),
        ({"note": ["a list"]}, "not a valid text"),
        ({"progress": "101"}, "from 0 to 100"),
        ({"progress": "-5"}, "from 0 to 100"),
        ({"progress": "½"}, "from 0 to 100"),
        ({"progress": None}, "from 0 to 100"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message_and_change_nothing(app, values, message):
    world = build_world(app)
    process_id, rec_id, _path_id = _items(app)
    with english(app):
        process = db.session.get(Process, process_id)
        with pytest.raises(FollowUpError) as refused:
            _record(process, rec_id, **values)
        assert message in refused.value.message
        assert db.session.scalar(db.select(db.func.count(FollowUpEntry.id))) == 0
    assert world


def test_the_messages_are_translated(app, world):
    process_id, rec_id, _path_id = _items(app)
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        process = db.session.get(Process, process_id)
        with pytest.raises(FollowUpError) as refused:
            _record(process, rec_id, progress="200")
        assert "pourcentage" in refused.value.message or "0 à 100" in refused.value.message


def test_only_recommendations_and_action_paths_of_this_process(app, world):
    process_id, rec_id, path_id = _items(app)
    with english(app):
        process = db.session.get(Process, process_id)
        other = Process(slug="other", title="Other")
        db.session.add(other)
        db.session.commit()
        for item_type, item_id, process_ in (
            ("finding", rec_id, process),
            ("recommendation", 10**30, process),
            ("recommendation", rec_id, other),
            ("action_path", rec_id + 10_000, process),
        ):
            with pytest.raises(FollowUpError):
                followup.record_status(
                    process_,
                    item_type,
                    item_id,
                    status="done",
                    happened_on="2026-01-01",
                    note="x",
                    progress="1",
                    actor="a",
                )
        entry = followup.record_status(
            process,
            "action_path",
            path_id,
            status="done",
            happened_on="2026-01-01",
            note="Done.",
            progress="100",
            actor="a",
        )
        assert entry.follow_up.action_path_id == path_id
        assert entry.follow_up.item_type == "action_path"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "//evil.example/x",
        "ftp://example.org/decree.pdf",
        "http://",
        "https://exa mple.org",
        "https://example.org/\x01",
        "http://[::1",
        "",
        "https://example.org/" + "a" * 2000,
    ],
)
def test_links_must_be_http_or_https(app, world, url):
    process_id, rec_id, _path_id = _items(app)
    with english(app):
        process = db.session.get(Process, process_id)
        with pytest.raises(FollowUpError) as refused:
            followup.add_link(process, "recommendation", rec_id, url, "Decree")
        assert "http://" in refused.value.message


def test_links_and_addressee_are_kept(app, world):
    process_id, rec_id, _path_id = _items(app)
    with english(app):
        process = db.session.get(Process, process_id)
        link = followup.add_link(
            process, "recommendation", rec_id, " https://example.org/decree?id=1&x=2 ", "Décret"
        )
        followup.set_addressed_to(process, "recommendation", rec_id, "  Ministère de l'emploi ")
        follow_up = followup.follow_up_of(process, "recommendation", rec_id)
        assert follow_up.addressed_to == "Ministère de l'emploi"
        assert [(x.url, x.label) for x in follow_up.links] == [
            ("https://example.org/decree?id=1&x=2", "Décret")
        ]
        with pytest.raises(FollowUpError):
            followup.remove_link(process, link.id + 1)
        followup.remove_link(process, link.id)
        db.session.expire_all()
        assert followup.follow_up_of(process, "recommendation", rec_id).links == []


def test_overall_progress_counts_every_item_once(app, world):
    process_id, rec_id, path_id = _items(app)
    with english(app):
        process = db.session.get(Process, process_id)
        _record(process, rec_id, progress="40")
        _record(process, rec_id, progress="80", happened_on="2026-01-20")
        followup.record_status(
            process,
            "action_path",
            path_id,
            status="done",
            progress="100",
            happened_on="2026-01-01",
            note="Done.",
            actor="a",
        )
        view = followup.overview(process)
        progresses = [item.progress for item in view.items]
        # make_process: field 1 has 2 findings × (2 recommendations + 2 action paths) = 8.
        assert len(progresses) == 8 and sorted(progresses)[-2:] == [80, 100]
        assert view.progress == round(180 / 8)
        counts = view.status_counts()
        assert counts["in_progress"] == 1 and counts["done"] == 1 and counts[None] == 6


def test_deleting_the_item_deletes_its_follow_up(app, world):
    process_id, rec_id, _path_id = _items(app)
    with english(app):
        process = db.session.get(Process, process_id)
        _record(process, rec_id)
        followup.add_link(process, "recommendation", rec_id, "https://example.org", "")
        authoring.delete_item(db.session.get(Recommendation, rec_id), confirm=True)
        db.session.expire_all()
        for model in (FollowUp, FollowUpEntry):
            assert db.session.scalar(db.select(db.func.count(model.id))) == 0


# -- the screens, the feed, the open data ---------------------------------------------------


def _publish(app, published=True):
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="assises"))
        process.synthesis_published = published
        db.session.commit()


def test_an_organiser_records_and_the_public_page_feed_and_open_data_show_it(app, world):
    _process_id, rec_id, _path_id = _items(app)
    organiser = client_as(app, world.people["co_organizer"])
    base = f"/organize/assises/followup/recommendation/{rec_id}"
    assert organiser.get("/organize/assises/followup").status_code == 200
    answer = organiser.post(
        f"{base}/status",
        data={
            "status": "in_progress",
            "happened_on": "2026-03-01",
            "progress": "35",
            "note": HOSTILE,
        },
    )
    assert answer.status_code == 302
    organiser.post(f"{base}/addressed", data={"addressed_to": HOSTILE})
    organiser.post(f"{base}/links", data={"url": "https://example.org/?q=<b>", "label": HOSTILE})
    page = organiser.get(base).get_data(as_text=True)
    assert "Status recorded" in page and "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    public = app.test_client()
    for url in (
        "/p/assises/followup",
        "/p/assises/followup.atom",
        "/p/assises/followup.csv",
        "/p/assises/followup.json",
    ):
        assert public.get(url).status_code == 404  # not published yet
    _publish(app)

    html = public.get("/p/assises/followup", headers={"Accept-Language": "en"})
    text = html.get_data(as_text=True)
    assert html.status_code == 200
    assert "In progress" in text and "35 %" in text
    assert "<script>alert" not in text and "<img src=x" not in text
    assert text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # note, addressee, link
    assert 'href="https://example.org/?q=&lt;b&gt;"' in text
    assert 'type="application/atom+xml"' in text

    feed = public.get("/p/assises/followup.atom")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)  # well-formed XML, or this raises
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert "35 %" in entries[0].find(f"{ATOM}summary").text
    assert "<script>alert(1)</script>" in entries[0].find(f"{ATOM}summary").text  # as text
    assert "\x01" not in feed.data.decode()
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link == f"http://localhost/p/assises/followup#recommendation-{rec_id}"
    assert root.find(f"{ATOM}updated").text.startswith(str(date.today().year))

    data = json.loads(public.get("/p/assises/followup.json").data)
    followed = [
        r for r in data["followup"] if r["item_id"] == rec_id and r["item_type"] == "recommendation"
    ][0]
    assert followed["status"] == "in_progress" and followed["progress"] == 35
    assert followed["history"][0]["date"] == "2026-03-01"
    assert followed["links"][0]["url"] == "https://example.org/?q=<b>"
    assert "recorded_by" not in json.dumps(data) and "co_organizer@" not in json.dumps(data)

    rows = list(
        csv.DictReader(io.StringIO(public.get("/p/assises/followup.csv").get_data(as_text=True)))
    )
    row = [r for r in rows if r["item_id"] == str(rec_id) and r["item_type"] == "recommendation"][0]
    assert row["status"] == "in_progress" and row["progress"] == "35"
    assert len(rows) == 8  # every followed item listed, one row per change
    hostile_cells = [r["note"] for r in rows if r["note"]] + [row["addressed_to"]]
    assert all(not cell.startswith(opendata.FORMULA_STARTS) for cell in hostile_cells)

    # The results' open data carries the follow-up too.
    results = json.loads(public.get("/p/assises/results.json").data)
    assert any(r["status"] == "in_progress" for r in results["followup"])


def test_a_formula_in_a_note_cannot_run_in_a_spreadsheet(app, world):
    process_id, rec_id, _path_id = _items(app)
    with english(app):
        process = db.session.get(Process, process_id)
        _record(process, rec_id, note='=HYPERLINK("http://evil")')
        rows = list(csv.DictReader(io.StringIO(opendata.followup_csv(process))))
        assert [r["note"] for r in rows if r["note"]] == ['\'=HYPERLINK("http://evil")']


def test_bad_input_from_the_form_is_a_message_never_an_error(app, world):
    _process_id, rec_id, _path_id = _items(app)
    organiser = client_as(app, world.people["owner"])
    base = f"/organize/assises/followup/recommendation/{rec_id}"
    for data in (
        {},
        {"status": "done", "happened_on": "tomorrow", "progress": "1", "note": "x"},
        {"status": "done", "happened_on": "2026-01-01", "progress": "9" * 400, "note": "x"},
        {"status": ["a", "b"], "happened_on": "2026-01-01", "progress": "1", "note": "x"},
    ):
        answer = organiser.post(f"{base}/status", data=data, follow_redirects=True)
        assert answer.status_code == 200
        assert "flash-error" in answer.get_data(as_text=True)
    answer = organiser.post(
        f"{base}/links", data={"url": "javascript:alert(1)"}, follow_redirects=True
    )
    assert "starting with http://" in answer.get_data(as_text=True)
    for url in (
        "/organize/assises/followup/finding/1",
        f"/organize/assises/followup/recommendation/{10**18}",
        "/organize/assises/followup/recommendation/99999",
    ):
        assert organiser.get(url).status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(FollowUpEntry.id))) == 0


def test_a_facilitator_reads_nothing_and_a_reader_edits_nothing(app, world):
    _process_id, rec_id, _path_id = _items(app)
    base = f"/organize/assises/followup/recommendation/{rec_id}"
    payload = {"status": "done", "happened_on": "2026-01-01", "progress": "100", "note": "x"}
    assert client_as(app, world.people["facilitator"]).get(base).status_code == 403
    assert (
        client_as(app, world.people["facilitator"]).post(f"{base}/status", data=payload).status_code
        == 403
    )
    assert (
        client_as(app, world.people["outsider"]).post(f"{base}/status", data=payload).status_code
        == 404
    )
    _publish(app)
    anonymous = app.test_client().post(f"{base}/status", data=payload)
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(FollowUpEntry.id))) == 0
    _publish(app, False)
    assert app.test_client().get("/p/assises/followup").status_code == 404


def test_the_rules_on_sqlite_and_postgresql(any_db_app):
    """The one-item check, the cascades and the ordering of the history on both databases."""
    app = any_db_app
    build_world(app)
    process_id, rec_id, path_id = _items(app)
    with english(app):
        process = db.session.get(Process, process_id)
        _record(process, rec_id, happened_on="2026-02-01", status="done", progress="100")
        _record(process, rec_id, happened_on="2026-01-01")
        followup.add_link(process, "action_path", path_id, "https://example.org/a", "A")
        follow_up = followup.follow_up_of(process, "recommendation", rec_id)
        assert [e.status for e in follow_up.entries] == ["in_progress", "done"]
        assert follow_up.latest.status == "done"
        # A follow-up pointing at two items, or none, is refused by the database itself.
        for both in ({"recommendation_id": rec_id, "action_path_id": path_id}, {}):
            db.session.add(FollowUp(process_id=process_id, **both))
            with pytest.raises(IntegrityError):
                db.session.commit()
            db.session.rollback()
        authoring.delete_item(db.session.get(ActionPath, path_id), confirm=True)
        db.session.expire_all()
        assert db.session.scalar(db.select(db.func.count(FollowUp.id))) == 1
        assert db.session.scalar(db.select(db.func.count(FollowUpLink.id))) == 0
        assert [item.status for item in followup.overview(process).items].count("done") == 1


def test_the_actes_gain_the_follow_up_once_something_was_recorded(app, world, tmp_path):
    process_id, rec_id, _path_id = _items(app)
    with english(app):
        process = db.session.get(Process, process_id)
        before, _path = reopen(build_proceedings(process), tmp_path, "before.docx")
        assert "Follow-up of the recommendations" not in styled(before, "Heading 1")
        _record(process, rec_id, note=HOSTILE, happened_on="2026-01-15", progress="20")
        followup.set_addressed_to(process, "recommendation", rec_id, "Walloon Government")
        followup.add_link(process, "recommendation", rec_id, "https://example.org/d", "Decree")
        after, _path = reopen(build_proceedings(process), tmp_path, "after.docx")
        assert "Follow-up of the recommendations" in styled(after, "Heading 1")
        assert "Field 1" in styled(after, "Heading 2")
        bullets = styled(after, "List Bullet")
        clean_note = HOSTILE.replace("\x01", "")
        assert f"2026-01-15 — In progress (20 %): {clean_note}" in bullets
        text = "\n".join(p.text for p in after.paragraphs)
        assert "Addressed to: Walloon Government" in text
        assert "Decree <https://example.org/d>" in text
        assert "Overall progress: 2 %" in text  # 20 % over 8 items, rounded
        status_table = after.tables[-1]
        assert [c.text for c in status_table.rows[1].cells][1:] == ["In progress", "20 %"]
