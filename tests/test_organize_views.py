"""The organiser screens through HTTP: log-in, authoring every kind of item, bad input,
CSRF, deletion, reordering and history."""

import re

import pytest
from conftest import make_app
from live_fixtures import make_member
from werkzeug.security import generate_password_hash

from deliberation.extensions import db
from deliberation.models import (
    TEXT_MAX,
    TITLE_MAX,
    ActionPath,
    AgendaItem,
    ExpertInput,
    Field,
    Finding,
    Hypothesis,
    ImplementationCondition,
    LiveSession,
    Note,
    Organizer,
    Poll,
    Process,
    Question,
    Recommendation,
    TextVersion,
)

EMAIL = "orga@example.org"
PASSWORD = "correct horse"
# A cheap hash keeps the suite fast; the real default is exercised by the accounts service.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def add_organizer(app) -> int:
    with app.app_context():
        organizer = Organizer(email=EMAIL, name="Orga", password_hash=PASSWORD_HASH)
        db.session.add(organizer)
        db.session.commit()
        return organizer.id


@pytest.fixture
def organizer(app, client):
    """A client logged in as an organiser (the log-in form itself has its own test)."""
    organizer_id = add_organizer(app)
    client.post("/lang/en")  # assertions below read English messages
    with client.session_transaction() as session:
        session["_user_id"] = f"{organizer_id}:0"  # Organizer.get_id(): id:epoch
        session["_fresh"] = True
    return client


@pytest.fixture
def process(app, organizer):
    response = organizer.post(
        "/organize/new", data={"title": "Assises", "slug": "assises", "language": "fr"}
    )
    assert response.status_code == 302 and response.location.endswith("/organize/assises")
    organizer.post("/organize/assises/field/new", data={"title": "Dispositifs"})
    with app.app_context():
        return db.session.scalar(db.select(Process.id))


def count(app, model, **filters):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).filter_by(**filters))


def one(app, model, **filters):
    with app.app_context():
        item = db.session.scalar(db.select(model).filter_by(**filters).order_by(model.id))
        db.session.expunge_all()
        return item


# -- access ------------------------------------------------------------------------------


def test_organise_pages_need_a_log_in(client):
    for path in ("/organize/", "/organize/new", "/organize/x", "/organize/x/settings"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.location
    assert client.post("/organize/preview", json={"text": "x"}).status_code == 302


def test_log_in_and_out(app, client):
    add_organizer(app)
    client.post("/lang/en")
    bad = client.post("/login", data={"email": EMAIL, "password": "wrong password"})
    assert bad.status_code == 400 and b"Wrong e-mail or password" in bad.data
    response = client.post("/login?next=/organize/new", data={"email": EMAIL, "password": PASSWORD})
    assert response.location.endswith("/organize/new")
    assert client.get("/organize/").status_code == 200
    # A next= pointing elsewhere is ignored.
    client.post("/logout")
    response = client.post(
        "/login?next=https://evil.example/", data={"email": EMAIL, "password": PASSWORD}
    )
    assert response.location.endswith("/organize/")
    assert client.post("/logout").status_code == 302
    assert client.get("/organize/").status_code == 302


def test_home_lists_processes_with_outline_links(app, process, organizer):
    page = organizer.get("/").get_data(as_text=True)
    assert "Assises" in page and "/organize/assises" in page
    organizer.post("/logout")
    # Logged out, a process nobody published is not listed, nor linked.
    page = organizer.get("/").get_data(as_text=True)
    assert "Assises" not in page and "/organize/assises" not in page


def test_home_card_says_what_a_visitor_can_expect(app, process, organizer):
    # Before publishing, the members see that the process is being prepared, and nobody else
    # sees it at all (test above).
    page = organizer.get("/").get_data(as_text=True)
    assert "In preparation" in page and "Synthesis published" not in page
    base = "/organize/assises/exports"
    assert organizer.post(f"{base}/publish", data={"published": "1"}).status_code == 302
    with app.app_context():
        published_at = db.session.scalars(db.select(Process)).one().synthesis_published_at
    assert published_at is not None
    organizer.post("/logout")
    page = organizer.get("/").get_data(as_text=True)
    expected = f"Synthesis published on {published_at:%B} {published_at.day}, {published_at.year}"
    assert expected in page and "In preparation" not in page
    organizer.post("/lang/fr")
    page = organizer.get("/").get_data(as_text=True)
    assert "Synthèse publiée le" in page


# -- authoring every kind ----------------------------------------------------------------


def test_create_and_edit_every_kind_through_the_forms(app, process, organizer):
    field = one(app, Field)
    base = "/organize/assises"
    organizer.post(f"{base}/question/new?parent={field.id}", data={"text": "Quelle place ?"})
    question = one(app, Question)
    organizer.post(f"{base}/hypothesis/new?parent={question.id}", data={"text": "Centrale"})
    hypothesis = one(app, Hypothesis)
    organizer.post(
        f"{base}/expert_input/new?parent={field.id}",
        data={
            "author": "Dr Dupont",
            "role": "academic",
            "affiliation": "ULB",
            "title": "Étude",
            "text": "Les *données* montrent…",
            "references": "- Dupont 2013",
            f"stance-{hypothesis.id}": "nuances",
        },
    )
    expert = one(app, ExpertInput)
    assert expert.author == "Dr Dupont" and expert.role == "academic"
    organizer.post(
        f"{base}/finding/new?parent={field.id}",
        data={"text": "Un constat", "question_id": str(question.id)},
    )
    finding = one(app, Finding)
    assert finding.question_id == question.id
    children = {
        "recommendation": Recommendation,
        "action_path": ActionPath,
        "implementation_condition": ImplementationCondition,
        "note": Note,
    }
    for kind in children:
        response = organizer.post(f"{base}/{kind}/new?parent={finding.id}", data={"text": kind})
        assert response.status_code == 302
    outline = organizer.get(base).get_data(as_text=True)
    for text in ("Dispositifs", "Quelle place ?", "Centrale", "Dr Dupont", "<em>données</em>",
                 "Finding 1", "Un constat", *children):  # fmt: skip
        assert text in outline
    assert "nuances" in outline

    # Every item can be edited through its form, and the edit is a new version.
    edits = {
        "field": (Field, {"title": "Dispositifs revus", "description": "Desc"}),
        "question": (Question, {"text": "Quelle place, vraiment ?"}),
        "hypothesis": (Hypothesis, {"text": "Centrale, revue"}),
        "expert_input": (ExpertInput, {"author": "Dr Martin", "role": "field_worker",
                                       f"stance-{hypothesis.id}": "supports"}),
        "finding": (Finding, {"text": "Un constat revu", "question_id": ""}),
        **{kind: (model, {"text": f"{kind} revised"}) for kind, model in children.items()},
    }  # fmt: skip
    for kind, (model, data) in edits.items():
        item = one(app, model)
        assert organizer.get(f"{base}/{kind}/{item.id}/edit").status_code == 200
        response = organizer.post(f"{base}/{kind}/{item.id}/edit", data=data)
        assert response.status_code == 302, kind
        assert response.location.endswith(f"#{kind}-{item.id}")
        edited = one(app, model)
        for name, value in data.items():
            if not name.startswith("stance-") and name != "question_id":
                assert getattr(edited, name) == value
        assert count(app, TextVersion, item_type=kind, item_id=item.id) == 2
    with app.app_context():
        expert = db.session.scalar(db.select(ExpertInput))
        assert [s.stance for s in expert.stances] == ["supports"]
        assert db.session.scalar(db.select(Finding)).question_id is None


def test_process_settings_and_territories(app, process, organizer):
    data = {
        "title": "Assises de l'insertion",
        "subtitle": "2012-2015",
        "language": "en",
        "introduction": "Les **enjeux**",
        "steering_committee": "Comité",
        "threshold_validated": "75",
        "threshold_rework": "40",
        "threshold_block": "10",
        "divergence_points": "20",
        "label_full": "Oui !",
        "groups": "Usagers\nTravailleurs sociaux\n",
    }
    assert organizer.post("/organize/assises/settings", data=data).status_code == 302
    saved = one(app, Process)
    assert saved.title == "Assises de l'insertion" and saved.threshold_validated == 75
    assert saved.consensus_labels == {"full": "Oui !"}
    assert saved.groups == ["Usagers", "Travailleurs sociaux"]
    assert "<strong>enjeux</strong>" in organizer.get("/organize/assises").get_data(as_text=True)

    bad = organizer.post("/organize/assises/settings", data={**data, "threshold_rework": "90"})
    assert bad.status_code == 400 and b"rework threshold" in bad.data
    assert b"Les **enjeux**" in bad.data  # what was typed is still there
    bad = organizer.post("/organize/assises/settings", data={**data, "threshold_block": "lots"})
    assert bad.status_code == 400 and b"whole number" in bad.data

    organizer.post("/organize/assises/territories", data={"name": "Liège"})
    organizer.post("/organize/assises/territories", data={"name": "Liège"})
    assert count(app, db.Model.metadata.tables["territory"]) == 1
    page = organizer.get("/organize/assises/settings").get_data(as_text=True)
    assert "This territory is already listed" in page and "Liège" in page


# -- bad input ---------------------------------------------------------------------------


def test_empty_and_over_long_input_is_refused_and_kept(app, process, organizer):
    field = one(app, Field)
    response = organizer.post("/organize/new", data={"title": "  ", "slug": "ok", "language": "fr"})
    assert response.status_code == 400 and b"cannot be empty" in response.data
    response = organizer.post(
        "/organize/new", data={"title": "T", "slug": "Bad Slug!", "language": "fr"}
    )
    assert response.status_code == 400 and b"lower-case letters" in response.data
    response = organizer.post(
        "/organize/new", data={"title": "T", "slug": "assises", "language": "fr"}
    )
    assert response.status_code == 400 and b"already taken" in response.data

    response = organizer.post("/organize/assises/field/new", data={"title": ""})
    assert response.status_code == 400 and b"cannot be empty" in response.data
    long_title = "t" * (TITLE_MAX + 1)
    response = organizer.post("/organize/assises/field/new", data={"title": long_title})
    assert response.status_code == 400 and str(TITLE_MAX).encode() in response.data
    assert long_title.encode() in response.data  # nothing typed is lost

    long_text = "word " * (TEXT_MAX // 5 + 1)
    response = organizer.post(
        f"/organize/assises/question/new?parent={field.id}", data={"text": long_text}
    )
    assert response.status_code == 400 and b"too long" in response.data
    assert count(app, Question) == 0 and count(app, Field) == 1

    organizer.post(f"/organize/assises/question/new?parent={field.id}", data={"text": "Q"})
    question = one(app, Question)
    response = organizer.post(f"/organize/assises/question/{question.id}/edit", data={"text": ""})
    assert response.status_code == 400 and one(app, Question).text == "Q"


def test_markdown_script_is_sanitised_on_the_outline_and_preview(app, process, organizer):
    field = one(app, Field)
    organizer.post(
        f"/organize/assises/question/new?parent={field.id}",
        data={"text": "Safe <script>alert('pwned')</script> [x](javascript:alert(1)) **bold**"},
    )
    page = organizer.get("/organize/assises").get_data(as_text=True)
    assert "alert('pwned')" not in page and "javascript:alert" not in page
    assert "<strong>bold</strong>" in page
    preview = organizer.post("/organize/preview", json={"text": "<script>x()</script>*ok*"})
    assert preview.json["html"] == "<p><em>ok</em></p>"
    assert organizer.post("/organize/preview", json={"text": 5}).status_code == 400


def test_unknown_things_are_404_not_500(app, process, organizer):
    assert organizer.get("/organize/nope").status_code == 404
    assert organizer.get("/organize/assises/wizard/new").status_code == 404
    assert organizer.get("/organize/assises/question/new").status_code == 404  # no parent
    assert organizer.get("/organize/assises/question/999/edit").status_code == 404
    # An item of another process is not reachable through this one's address.
    organizer.post("/organize/new", data={"title": "Other", "slug": "other", "language": "fr"})
    field = one(app, Field)
    assert organizer.get(f"/organize/other/field/{field.id}/edit").status_code == 404


# -- CSRF --------------------------------------------------------------------------------


def test_csrf_is_enforced(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    add_organizer(app)
    client = app.test_client()
    english = {"Accept-Language": "en"}
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD}, headers=english)
    assert response.status_code == 400 and b"security check" in response.data.replace(b"\n", b" ")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    response = client.post("/organize/new", data={"title": "T", "slug": "t", "language": "fr"})
    assert response.status_code == 400
    assert client.post("/organize/preview", json={"text": "x"}).status_code == 400
    ok = client.post("/organize/preview", json={"text": "*x*"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and ok.json["html"] == "<p><em>x</em></p>"
    response = client.post(
        "/organize/new", data={"title": "T", "slug": "t", "language": "fr", "csrf_token": token}
    )
    assert response.status_code == 302
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# -- deletion ----------------------------------------------------------------------------


def test_delete_asks_and_lists_what_would_be_lost(app, process, organizer):
    field = one(app, Field)
    organizer.post(f"/organize/assises/question/new?parent={field.id}", data={"text": "Q"})
    question = one(app, Question)
    organizer.post(f"/organize/assises/hypothesis/new?parent={question.id}", data={"text": "H"})
    hypothesis = one(app, Hypothesis)
    with app.app_context():
        session = LiveSession(process_id=process, title="Atelier", join_code="QWERTY")
        agenda = AgendaItem(session=session, item_type="hypothesis", item_id=hypothesis.id)
        db.session.add_all([session, agenda, Poll(session=session, agenda_item=agenda)])
        db.session.commit()

    page = organizer.get(f"/organize/assises/field/{field.id}/delete").get_data(as_text=True)
    assert "1 × Burning question" in page and "1 × Hypothesis" in page and "1 vote(s)" in page
    # A post without the confirmation deletes nothing.
    response = organizer.post(f"/organize/assises/field/{field.id}/delete")
    assert response.status_code == 200 and count(app, Field) == 1
    response = organizer.post(f"/organize/assises/field/{field.id}/delete", data={"confirm": "yes"})
    assert response.status_code == 302
    assert count(app, Field) == 0 and count(app, Hypothesis) == 0
    assert count(app, Poll) == 1
    assert one(app, AgendaItem).text == "H"


def test_deleting_a_leaf_and_a_whole_process(app, process, organizer):
    field = one(app, Field)
    organizer.post(f"/organize/assises/finding/new?parent={field.id}", data={"text": "F"})
    finding = one(app, Finding)
    page = organizer.get(f"/organize/assises/finding/{finding.id}/delete").get_data(as_text=True)
    assert "Nothing else depends on it" in page
    organizer.post(f"/organize/assises/finding/{finding.id}/delete", data={"confirm": "yes"})
    assert count(app, Finding) == 0
    # The old address of the process's deletion only leads to the owners' page.
    old = organizer.post(f"/organize/assises/process/{process}/delete", data={"confirm": "yes"})
    assert old.status_code == 302 and old.location.endswith("/organize/assises/delete")
    assert count(app, Process) == 1
    organizer.post("/organize/assises/delete", data={"confirm": "yes"})
    assert count(app, Process) == 0


# -- order -------------------------------------------------------------------------------


def test_reorder_by_buttons_and_by_list(app, process, organizer):
    field = one(app, Field)
    for text in ("one", "two", "three"):
        organizer.post(f"/organize/assises/question/new?parent={field.id}", data={"text": text})
    with app.app_context():
        ids = list(db.session.scalars(db.select(Question.id).order_by(Question.position)))

    def order():
        with app.app_context():
            return list(db.session.scalars(db.select(Question.text).order_by(Question.position)))

    organizer.post(f"/organize/assises/question/{ids[2]}/move", data={"direction": "up"})
    assert order() == ["one", "three", "two"]
    organizer.post(f"/organize/assises/question/{ids[0]}/move", data={"direction": "down"})
    assert order() == ["three", "one", "two"]
    response = organizer.post(
        "/organize/assises/question/reorder",
        json={"parent_id": field.id, "ids": [ids[1], ids[2], ids[0]]},
    )
    assert response.json == {"ok": True}
    assert order() == ["two", "three", "one"]
    response = organizer.post(
        "/organize/assises/question/reorder", json={"parent_id": field.id, "ids": [ids[0]]}
    )
    assert response.status_code == 409 and order() == ["two", "three", "one"]
    assert organizer.post("/organize/assises/question/reorder", json={}).status_code == 400


def test_findings_are_numbered_across_fields_on_the_outline(app, process, organizer):
    organizer.post("/organize/assises/field/new", data={"title": "Second"})
    with app.app_context():
        first, second = db.session.scalars(db.select(Field.id).order_by(Field.position)).all()
    for field_id, texts in ((first, ("A", "B")), (second, ("C",))):
        for text in texts:
            organizer.post(f"/organize/assises/finding/new?parent={field_id}", data={"text": text})
    page = organizer.get("/organize/assises").get_data(as_text=True)
    numbered = r"Finding 1</p>.*?<p>A</p>.*Finding 2</p>.*?<p>B</p>.*Finding 3</p>.*?<p>C</p>"
    assert re.search(numbered, page, re.S)
    organizer.post(f"/organize/assises/field/{second}/move", data={"direction": "up"})
    page = organizer.get("/organize/assises").get_data(as_text=True)
    assert re.search(r"Finding 1</p>.*?<p>C</p>.*Finding 2</p>.*?<p>A</p>", page, re.S)


# -- history -----------------------------------------------------------------------------


def test_history_and_rollback(app, process, organizer):
    field = one(app, Field)
    organizer.post(f"/organize/assises/question/new?parent={field.id}", data={"text": "First"})
    question = one(app, Question)
    url = f"/organize/assises/question/{question.id}"
    organizer.post(f"{url}/edit", data={"text": "Second wording"})
    page = organizer.get(f"{url}/history").get_data(as_text=True)
    assert "Version 2" in page and EMAIL in page
    assert "<ins>Second wording</ins>" in page or "<ins>Second" in page
    response = organizer.post(f"{url}/rollback/1")
    assert response.status_code == 302
    assert one(app, Question).text == "First"
    with app.app_context():
        kinds = list(
            db.session.scalars(
                db.select(TextVersion.kind)
                .filter_by(item_type="question", item_id=question.id)
                .order_by(TextVersion.number)
            )
        )
    assert kinds == ["created", "edited", "rollback"]
    page = organizer.get(f"{url}/history").get_data(as_text=True)
    assert "Version 3" in page and "rollback to version 1" in page
    organizer.post(f"{url}/rollback/42")
    assert "No version 42" in organizer.get(f"{url}/history").get_data(as_text=True)


def test_error_pages_explain_in_html_and_json(client):
    client.post("/lang/en")
    page = client.get("/no/such/page")
    assert page.status_code == 404 and b"There is nothing at this address" in page.data
    answer = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert answer.status_code == 404 and answer.json == {
        "error": "There is nothing at this address."
    }


def test_language_switch_posts_with_the_page_token(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert 'action="/lang/fr"' in page and 'formaction="/lang/en"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/lang/en", data={"next": "/login"}).status_code == 400
    response = client.post("/lang/en", data={"next": "/login", "csrf_token": token})
    assert response.status_code == 302 and response.location.endswith("/login")
    assert b'<html lang="en">' in client.get("/login").data
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_demo_outline_shows_five_fields_and_findings_one_to_six(app, organizer):
    from deliberation.services.demo.demo import ensure_demo

    with app.app_context():
        ensure_demo("demo-organiser@example.org")
        demo = db.session.scalar(db.select(Process).filter_by(slug="assises-insertion"))
        make_member(demo.id, db.session.scalar(db.select(Organizer.id)), "co_organizer")
    page = organizer.get("/organize/assises-insertion").get_data(as_text=True)
    assert page.count('class="field-block"') == 5
    numbers = [int(n) for n in re.findall(r'class="finding-number">Finding (\d+)<', page)]
    assert numbers[:6] == [1, 2, 3, 4, 5, 6] and numbers == sorted(numbers)
    assert page.count('id="recommendation-') >= 6


def test_settings_show_group_names_never_their_keys(app, process, organizer):
    """Issue 18: the default groups were shown as `service_user`…; the organiser reads and
    types names, the stored keys stay (phones and documents translate them)."""
    with app.app_context():
        assert one(app, Process).groups[:2] == ["service_user", "social_worker"]
    organizer.post("/lang/fr")
    page = organizer.get("/organize/assises/settings").get_data(as_text=True)
    area = re.search(r'<textarea[^>]*name="groups"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "Personne accompagnée" in area and "Travailleur social ou conseiller" in area
    assert "service_user" not in area and "social_worker" not in area

    form = {"title": "Assises", "language": "fr", "threshold_validated": "70"}
    form |= {"threshold_rework": "50", "threshold_block": "10", "divergence_points": "20"}
    lines = area.strip().splitlines()
    # Saved as shown, with a new free group and a default one typed in another case.
    typed = "\n".join([*lines[:-1], "Jeunes de moins de 26 ans", "autre"])
    assert (
        organizer.post("/organize/assises/settings", data={**form, "groups": typed}).status_code
        == 302
    )
    with app.app_context():
        saved = one(app, Process).groups
    assert saved[:2] == ["service_user", "social_worker"]
    assert saved[-2:] == ["Jeunes de moins de 26 ans", "other"]
