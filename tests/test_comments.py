"""Readers' comments on the recommendations (issue 16, part 2): the rules, moderation,
reports, the public pages, open data, throttling, access; hostile strings everywhere."""

from __future__ import annotations

import csv
import io
import json

import pytest

from deliberation.extensions import db
from deliberation.models import Process, PublicComment, Recommendation
from deliberation.services.publishing import comments, opendata
from deliberation.services.publishing.comments import CommentError
from tests.access_world import build_world, client_as
from tests.conftest import make_app

HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>[x](javascript:alert(3))"


def english(app):
    return app.test_request_context(headers={"Accept-Language": "en"})


@pytest.fixture
def world(app):
    built = build_world(app)
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="assises"))
        process.synthesis_published = True
        db.session.commit()
    return built


def _ids(app) -> tuple[int, int]:
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="assises"))
        first = db.session.scalars(db.select(Recommendation).order_by("id")).first()
        return process.id, first.id


def _count(app, **where) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(PublicComment.id)).filter_by(**where))


def test_a_comment_waits_for_approval_then_is_published_or_hidden_with_a_reason(app, world):
    process_id, rec_id = _ids(app)
    with english(app):
        process = db.session.get(Process, process_id)
        comment = comments.post_comment(process, rec_id, author_name=" Ana ", body=" Yes! ")
        assert (comment.state, comment.author_name, comment.body) == ("pending", "Ana", "Yes!")
        assert comments.public_comments(process, rec_id) == []
        comments.approve(process, comment.id, "owner@example.org")
        assert [c.id for c in comments.public_comments(process, rec_id)] == [comment.id]
        assert comments.published_counts(process) == {rec_id: 1}
        comments.report(process, comment.id)
        comments.report(process, comment.id)
        assert db.session.get(PublicComment, comment.id).reports == 2
        assert comments.moderation_queue(process).reported[0].id == comment.id
        with pytest.raises(CommentError, match="reason"):
            comments.hide(process, comment.id, "  ", "owner@example.org")
        comments.hide(process, comment.id, "Personal attack", "owner@example.org")
        shown = comments.public_comments(process, rec_id)
        assert [(c.state, c.hidden_reason) for c in shown] == [("hidden", "Personal attack")]
        assert comments.published_counts(process) == {}
        with pytest.raises(CommentError):  # a hidden comment cannot be reported any more
            comments.report(process, comment.id)
        data = comments.open_data(process)
        assert data[0]["body"] == "" and data[0]["hidden_reason"] == "Personal attack"
        assert data[0]["author"] == ""


def test_modes_closed_moderated_immediate(app, world):
    process_id, rec_id = _ids(app)
    with english(app):
        process = db.session.get(Process, process_id)
        assert comments.comments_mode(process) == "moderated"
        comments.set_comments_mode(process, "immediate")
        assert comments.post_comment(process, rec_id, author_name="", body="Now").state == (
            "published"
        )
        comments.set_comments_mode(process, "closed")
        with pytest.raises(CommentError, match="closed"):
            comments.post_comment(process, rec_id, author_name="", body="Later")
        with pytest.raises(CommentError, match="closed, moderated or open"):
            comments.set_comments_mode(process, "anything")
        comments.set_comments_mode(process, "moderated")
        process.synthesis_published = False
        db.session.commit()
        with pytest.raises(CommentError, match="closed"):
            comments.post_comment(process, rec_id, author_name="", body="Unpublished")
    assert _count(app) == 1


@pytest.mark.parametrize(
    "values, message",
    [
        ({"body": ""}, "Write your comment first"),
        ({"body": " \n "}, "Write your comment first"),
        ({"body": None}, "not a valid text"),
        ({"body": "x" * (comments.BODY_MAX + 1)}, "too long"),
        ({"author_name": "n" * 301}, "too long"),
        ({"recommendation_id": 10**30}, "does not exist"),
        ({"recommendation_id": "1 OR 1=1"}, "does not exist"),
    ],
)
def test_bad_comments_are_refused_with_a_message(app, world, values, message):
    process_id, rec_id = _ids(app)
    with english(app):
        process = db.session.get(Process, process_id)
        arguments = {"author_name": "Ana", "body": "Fine", **values}
        recommendation_id = arguments.pop("recommendation_id", rec_id)
        with pytest.raises(CommentError, match=message):
            comments.post_comment(process, recommendation_id, **arguments)
    assert _count(app) == 0


def test_a_reader_comments_the_organiser_approves_and_the_public_sees_it(app, world):
    _process_id, rec_id = _ids(app)
    reader = app.test_client()
    page = f"/p/assises/recommendations/{rec_id}"
    assert reader.get(page, headers={"Accept-Language": "en"}).status_code == 200
    sent = reader.post(
        f"{page}/comments",
        data={"author_name": HOSTILE, "body": HOSTILE},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert "once the organisers approve it" in sent.get_data(as_text=True)
    assert "alert(1)" not in sent.get_data(as_text=True).split('id="comments"')[1]

    organiser = client_as(app, world.people["co_organizer"])
    queue = organiser.get("/organize/assises/comments").get_data(as_text=True)
    assert "<script>alert" not in queue and "&lt;script&gt;" in queue
    with app.app_context():
        comment_id = db.session.scalar(db.select(PublicComment.id))
    assert organiser.post(f"/organize/assises/comments/{comment_id}/approve").status_code == 302

    shown = reader.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'id="comment-{comment_id}"' in shown
    assert "<script>alert" not in shown and "<img src=x" not in shown
    assert 'href="javascript' not in shown.lower()
    synthesis = reader.get("/p/assises", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "1 comment" in synthesis

    reported = reader.post(
        f"/p/assises/comments/{comment_id}/report", data={"recommendation_id": str(rec_id)}
    )
    assert reported.status_code == 302 and f"#comment-{comment_id}" in reported.location
    data = json.loads(reader.get("/p/assises/comments.json").data)
    assert data["comments"][0]["body"] == HOSTILE and "reports" not in data["comments"][0]
    rows = list(
        csv.DictReader(io.StringIO(reader.get("/p/assises/comments.csv").get_data(as_text=True)))
    )
    assert rows[0]["body"] == HOSTILE and rows[0]["state"] == "published"
    assert json.loads(reader.get("/p/assises/results.json").data)["comments"][0]["id"] == (
        comment_id
    )


def test_a_formula_in_a_comment_cannot_run_in_a_spreadsheet(app, world):
    process_id, rec_id = _ids(app)
    with english(app):
        process = db.session.get(Process, process_id)
        comments.set_comments_mode(process, "immediate")
        comments.post_comment(process, rec_id, author_name="@SUM(A1)", body="=1+1")
        rows = list(csv.DictReader(io.StringIO(opendata.comments_csv(process))))
        assert (rows[0]["author"], rows[0]["body"]) == ("'@SUM(A1)", "'=1+1")


def test_pending_comments_and_unpublished_syntheses_show_nothing(app, world):
    process_id, rec_id = _ids(app)
    with english(app):
        process = db.session.get(Process, process_id)
        comments.post_comment(process, rec_id, author_name="Ana", body="Secret draft")
    reader = app.test_client()
    assert "Secret draft" not in reader.get(f"/p/assises/recommendations/{rec_id}").get_data(
        as_text=True
    )
    assert "Secret draft" not in reader.get("/p/assises/comments.json").get_data(as_text=True)
    with app.app_context():
        db.session.scalar(db.select(Process)).synthesis_published = False
        db.session.commit()
    for url in (
        f"/p/assises/recommendations/{rec_id}",
        "/p/assises/comments.json",
        "/p/assises/comments.csv",
    ):
        assert reader.get(url).status_code == 404
    assert (
        reader.post(f"/p/assises/recommendations/{rec_id}/comments", data={"body": "x"}).status_code
        == 404
    )
    assert _count(app) == 1


def test_bad_input_is_a_message_never_an_error(app, world):
    _process_id, rec_id = _ids(app)
    reader = app.test_client()
    for data in ({}, {"body": " \n "}, {"body": "x" * 5000}, {"author_name": "n" * 400}):
        answer = reader.post(
            f"/p/assises/recommendations/{rec_id}/comments", data=data, follow_redirects=True
        )
        assert answer.status_code == 200 and "flash-error" in answer.get_data(as_text=True)
    for url in ("/p/assises/recommendations/999999", f"/p/assises/recommendations/{10**18}"):
        assert reader.get(url).status_code == 404
    assert (
        reader.post("/p/assises/comments/999/report", data={"recommendation_id": "x"}).status_code
        == 302
    )
    organiser = client_as(app, world.people["owner"])
    for url in ("/organize/assises/comments/999/approve", "/organize/assises/comments/999/hide"):
        answer = organiser.post(url, data={"reason": "x"}, follow_redirects=True)
        assert answer.status_code == 200 and "does not exist" in answer.get_data(as_text=True)
    assert _count(app) == 0


def test_a_burst_of_comments_from_one_address_is_throttled(tmp_path):
    app = make_app(tmp_path, COMMENT_LIMIT="3 per minute", RATELIMIT_ENABLED=True)
    build_world(app)
    with app.app_context():
        db.session.scalar(db.select(Process)).synthesis_published = True
        db.session.commit()
    _process_id, rec_id = _ids(app)
    reader = app.test_client()
    answers = [
        reader.post(
            f"/p/assises/recommendations/{rec_id}/comments",
            data={"body": f"Comment {n}"},
            headers={"Accept-Language": "en"},
        )
        for n in range(6)
    ]
    assert [a.status_code for a in answers] == [302] * 3 + [429] * 3
    assert "please wait" in answers[-1].get_data(as_text=True)
    assert _count(app) == 3


def test_only_publishers_moderate(app, world):
    with app.app_context():
        process = db.session.scalar(db.select(Process))
        rec_id = db.session.scalars(db.select(Recommendation)).first().id
        db.session.add(PublicComment(process_id=process.id, recommendation_id=rec_id, body="x"))
        db.session.commit()
        comment_id = db.session.scalar(db.select(PublicComment.id))
    url = f"/organize/assises/comments/{comment_id}/approve"
    assert client_as(app, world.people["facilitator"]).post(url).status_code == 403
    assert client_as(app, world.people["outsider"]).post(url).status_code == 404
    assert "/login" in app.test_client().post(url).location
    assert _count(app, state="pending") == 1


def test_moderation_and_reports_on_sqlite_and_postgresql(any_db_app):
    """Reports are counted by one UPDATE each, moderation locks the row: on both databases;
    deleting the recommendation deletes its comments."""
    app = any_db_app
    build_world(app)
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="assises"))
        process.synthesis_published = True
        db.session.commit()
    process_id, rec_id = _ids(app)
    with english(app):
        process = db.session.get(Process, process_id)
        comments.set_comments_mode(process, "immediate")
        comments.set_comments_mode(process, "immediate")  # the second change updates the row
        comment = comments.post_comment(process, rec_id, author_name="Ana", body="Good")
        for _report in range(3):
            comments.report(process, comment.id)
        db.session.expire_all()
        assert db.session.get(PublicComment, comment.id).reports == 3
        comments.hide(process, comment.id, "Spam", "owner@example.org")
        comments.approve(process, comment.id, "owner@example.org")
        db.session.expire_all()
        again = db.session.get(PublicComment, comment.id)
        assert (again.state, again.reports, again.hidden_reason) == ("published", 0, "")
        db.session.delete(db.session.get(Recommendation, rec_id))
        db.session.commit()
    assert _count(app) == 0
