"""Experts writing their own inputs and the workshop handouts (issue 15 parts 3-4): the
personal link (hashed at rest), drafts, submissions, the organisers' review, the accepted
input in the outline with its history; bad input everywhere gets a clear message and saves
nothing; the handouts built by the export job and read back with python-docx."""

from __future__ import annotations

import re

import pytest
from docx import Document

from deliberation.extensions import db
from deliberation.models import (
    ExpertInput,
    ExpertInvitation,
    Field,
    Hypothesis,
    Organizer,
    Process,
    TextVersion,
)
from deliberation.services.experts import invitations, writing
from deliberation.services.experts.writing import ExpertError
from tests.live_fixtures import first_field, make_member, make_process

HOSTILE = "<script>alert(1)</script> \"' ; DROP TABLE expert_input; -- \u202e"


@pytest.fixture
def world(any_db_app):
    app = any_db_app
    with app.app_context():
        process = make_process(language="fr")
        organizer = Organizer(email="organiser@example.org", name="Org")
        organizer.set_password("secret-password")
        db.session.add(organizer)
        db.session.commit()
        make_member(process.id, organizer.id, "co_organizer")
        field_ = first_field(process)
        hypotheses = [h.id for q in field_.questions for h in q.hypotheses]
        ids = {
            "app": app,
            "slug": process.slug,
            "process_id": process.id,
            "field_id": field_.id,
            "hypotheses": hypotheses,
            "organizer_id": organizer.id,
        }
    return ids


def organiser(world):
    client = world["app"].test_client()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = f"{world['organizer_id']}:0"
        flask_session["_fresh"] = True
    return client


def invite(world, name="Marie Dupont") -> str:
    """The organiser invites an expert through the page; returns the personal link's path."""
    client = organiser(world)
    response = client.post(
        f"/organize/{world['slug']}/experts",
        data={
            "name": name,
            "affiliation": "UCLouvain",
            "role": "academic",
            "field_id": str(world["field_id"]),
        },
    )
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    link = re.search(r'value="(http://localhost/x/[^"]+)"', page)
    assert link, page
    # Shown once: the next visit no longer has it.
    assert "/x/" not in client.get(f"/organize/{world['slug']}/experts").get_data(as_text=True)
    return link.group(1).removeprefix("http://localhost")


def expert_form(world, text="Mon éclairage **argumenté**.", **extra):
    h1, h2 = world["hypotheses"][:2]
    return {
        "title": "Ce que montre la recherche",
        "text": text,
        "references": "- Castel, R. (1995). *Les métamorphoses de la question sociale.*",
        f"stance-{h1}": "supports",
        f"why-{h1}": "Les enquêtes longitudinales le confirment.",
        f"stance-{h2}": "nuances",
        f"why-{h2}": "Vrai pour les jeunes, moins pour les plus âgés.",
        **extra,
    }


def test_the_link_is_stored_hashed_and_the_expert_writes_saves_and_submits(world):
    path = invite(world)
    token = path.removeprefix("/x/")
    with world["app"].app_context():
        stored = db.session.scalar(db.select(ExpertInvitation))
        assert stored.token_hash == writing.token_hash(token) and token not in stored.token_hash
    expert = world["app"].test_client()
    page = expert.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Marie Dupont" in html and "Hypothesis 0.0" in html
    assert page.headers["Cache-Control"] == "no-store"
    # A draft with nothing required yet.
    response = expert.post(path, data={"action": "save", "text": "Début"})
    assert response.status_code == 303
    assert "Début" in expert.get(path).get_data(as_text=True)
    # The preview renders (sanitised) Markdown for the expert's link only.
    preview = expert.post(f"{path}/preview", json={"text": "**gras** <script>x</script>"})
    assert preview.json["html"].count("<strong>gras</strong>") == 1
    assert "<script" not in preview.json["html"]
    assert expert.post("/x/" + "a" * 40 + "/preview", json={"text": "x"}).status_code == 400
    response = expert.post(path, data={**expert_form(world), "action": "submit"})
    assert response.status_code == 303
    html = expert.get(path).get_data(as_text=True)
    assert 'data-state="submitted"' in html and "<strong>argumenté</strong>" in html
    # Submitted: the form is gone, a second submit changes nothing and says why.
    again = expert.post(path, data={**expert_form(world, text="Autre"), "action": "submit"})
    assert again.status_code == 422
    assert "examinent" in again.get_data(as_text=True)
    with world["app"].app_context():
        invitation = db.session.scalar(db.select(ExpertInvitation))
        assert len(invitation.submissions) == 1 and invitation.text.startswith("Mon éclairage")


def test_review_changes_then_accept_puts_the_input_in_the_outline_with_its_history(world):
    path = invite(world)
    expert = world["app"].test_client()
    expert.post(path, data={**expert_form(world, text="Première version."), "action": "submit"})
    client = organiser(world)
    with world["app"].app_context():
        invitation_id = db.session.scalar(db.select(ExpertInvitation.id))
    review_url = f"/organize/{world['slug']}/experts/{invitation_id}/review"
    # Asking for changes needs a comment.
    client.post(review_url, data={"decision": "changes_requested", "comment": " "})
    with world["app"].app_context():
        assert db.session.get(ExpertInvitation, invitation_id).state == "submitted"
    client.post(review_url, data={"decision": "changes_requested", "comment": "Citez vos sources."})
    html = expert.get(path).get_data(as_text=True)
    assert "Citez vos sources." in html and 'data-state="changes_requested"' in html
    expert.post(path, data={**expert_form(world, text="Deuxième version."), "action": "submit"})
    response = client.post(review_url, data={"decision": "accepted"})
    assert response.status_code == 303
    # Accepted: the link no longer works; the input is in the outline with its stances.
    assert expert.get(path).status_code == 404
    outline = client.get(f"/organize/{world['slug']}").get_data(as_text=True)
    assert "Deuxième version." in outline and "Marie Dupont" in outline
    assert "Les enquêtes longitudinales le confirment." in outline
    with world["app"].app_context():
        expert_input = db.session.scalar(db.select(ExpertInput))
        assert (expert_input.author, expert_input.role, expert_input.affiliation) == (
            "Marie Dupont",
            "academic",
            "UCLouvain",
        )
        assert {s.stance for s in expert_input.stances} == {"supports", "nuances"}
        history = db.session.scalars(
            db.select(TextVersion)
            .filter_by(item_type="expert_input", item_id=expert_input.id)
            .order_by(TextVersion.number)
        ).all()
        assert [v.number for v in history] == [1, 2]
        assert "Première version." in history[0].text and "Citez vos sources." in history[0].summary
        assert "Deuxième version." in history[1].text
    # A second accept (a double click) changes nothing and says so.
    client.post(review_url, data={"decision": "accepted"})
    with world["app"].app_context():
        assert db.session.scalar(db.select(db.func.count(ExpertInput.id))) == 1


def test_bad_input_gets_a_clear_message_and_saves_nothing(world):
    path = invite(world)
    expert = world["app"].test_client()
    h1 = world["hypotheses"][0]
    cases = [
        ({"text": ""}, "Ce champ est obligatoire."),
        ({"text": "x" * 20_001}, "Trop long"),
        ({f"why-{h1}": ""}, "Dites en une phrase pourquoi."),
        ({f"stance-{h1}": "maybe"}, "Choisissez"),
        ({f"why-{h1}": "y" * 501}, "Au plus 500 caractères."),
        ({"title": "t" * 301}, "Au plus 300 caractères."),
    ]
    for change, message in cases:
        response = expert.post(path, data={**expert_form(world), **change, "action": "submit"})
        assert response.status_code == 422, change
        html = response.get_data(as_text=True)
        assert message in html, (change, message)
        # What was typed comes back (nothing lost).
        assert "Les métamorphoses de la question sociale" in html
    with world["app"].app_context():
        invitation = db.session.scalar(db.select(ExpertInvitation))
        assert invitation.submissions == [] and invitation.state == "writing"
    # Hostile strings are kept as text, never markup.
    response = expert.post(
        path, data={**expert_form(world, text=HOSTILE), "title": HOSTILE, "action": "submit"}
    )
    assert response.status_code == 303
    html = expert.get(path).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    # Unknown or malformed links reveal nothing.
    for bad in ("/x/short", "/x/" + "z" * 43, "/x/" + "é" * 30):
        assert expert.get(bad).status_code == 404


def test_organiser_forms_refuse_bad_input(world):
    client = organiser(world)
    url = f"/organize/{world['slug']}/experts"
    response = client.post(url, data={"name": "", "role": "wizard", "field_id": "999999"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in html and "Choisissez un champ" in html
    with world["app"].app_context():
        assert db.session.scalar(db.select(db.func.count(ExpertInvitation.id))) == 0
    path = invite(world)
    with world["app"].app_context():
        invitation_id = db.session.scalar(db.select(ExpertInvitation.id))
    # Nothing submitted yet: a decision is refused with a message.
    response = client.post(f"{url}/{invitation_id}/review", data={"decision": "accepted"})
    assert "Aucune version" in client.get(response.location).get_data(as_text=True)
    # Withdrawn: the link stops working.
    client.post(f"{url}/{invitation_id}/withdraw")
    assert world["app"].test_client().get(path).status_code == 404


def test_a_form_sent_twice_invites_once(world):
    client = organiser(world)
    url = f"/organize/{world['slug']}/experts"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="submission" value="([^"]+)"', page).group(1)
    data = {
        "name": "Jean",
        "role": "other",
        "field_id": str(world["field_id"]),
        "submission": token,
    }
    assert client.post(url, data=data).status_code == 302
    assert client.post(url, data=data).status_code == 302
    with world["app"].app_context():
        assert db.session.scalar(db.select(db.func.count(ExpertInvitation.id))) == 1


def test_handouts_are_built_published_and_read_back(world, tmp_path):
    app = world["app"]
    app.config["EXPORT_JOBS_SYNCHRONOUS"] = True
    path = invite(world)
    expert = app.test_client()
    expert.post(path, data={**expert_form(world), "action": "submit"})
    with app.app_context():
        invitation = db.session.scalar(db.select(ExpertInvitation))
        process = db.session.get(Process, world["process_id"])
        invitations.review(process, invitation.id, "accepted", "", "organiser@example.org")
        process.introduction = "Les enjeux socio-politiques."
        db.session.commit()
    public = app.test_client()
    assert public.get(f"/p/{world['slug']}/documents").status_code == 404  # nothing public
    client = organiser(world)
    response = client.post(
        f"/organize/{world['slug']}/handouts",
        data={"field_id": str(world["field_id"]), "action": "publish"},
    )
    assert response.status_code == 303
    page = public.get(f"/p/{world['slug']}/documents").get_data(as_text=True)
    assert "Field 1" in page and "Field 2" not in page
    names = sorted(set(re.findall(r"/documents/([\w.-]+\.docx)", page)))
    field_id = world["field_id"]
    assert names == sorted(
        [f"{field_id}-inputs.docx", f"{field_id}-recommendations.docx", "introduction.docx"]
    )
    download = public.get(f"/p/{world['slug']}/documents/{field_id}-inputs.docx")
    assert download.status_code == 200
    assert "assises-atelier-1-eclairages.docx" in download.headers["Content-Disposition"]
    target = tmp_path / "inputs.docx"
    target.write_bytes(download.data)
    text = "\n".join(p.text for p in Document(str(target)).paragraphs)
    assert "Atelier 1\u00a0: Éclairages" in text
    assert "Marie Dupont, chercheur·e, UCLouvain" in text
    assert "Mon éclairage argumenté." in text
    assert (
        "soutient\u00a0: 1.1.1 Hypothesis 0.0 — Les enquêtes longitudinales le confirment." in text
    )
    recommendations = tmp_path / "rec.docx"
    recommendations.write_bytes(
        public.get(f"/p/{world['slug']}/documents/{field_id}-recommendations.docx").data
    )
    text = "\n".join(p.text for p in Document(str(recommendations)).paragraphs)
    assert "Atelier 1\u00a0: Recommandations" in text and "1. Finding text 1" in text
    assert "Rec 0" in text and "Path 1" in text and "Condition" in text
    # Another field's or a made-up file is not served.
    with app.app_context():
        other = db.session.scalar(
            db.select(Field).filter_by(process_id=world["process_id"], position=1)
        )
        other_id = other.id
    assert public.get(f"/p/{world['slug']}/documents/{other_id}-inputs.docx").status_code == 404
    assert public.get(f"/p/{world['slug']}/documents/..%2Fjobs.docx").status_code == 404
    # Withdrawn: gone from the page and the files removed.
    client.post(
        f"/organize/{world['slug']}/handouts",
        data={"field_id": str(field_id), "action": "unpublish"},
    )
    assert public.get(f"/p/{world['slug']}/documents/{field_id}-inputs.docx").status_code == 404


def test_an_expert_cannot_give_a_stance_on_another_fields_hypothesis(world):
    with world["app"].app_context():
        process = db.session.get(Process, world["process_id"])
        invitation, _token = invitations.invite(
            process, {"name": "A", "field_id": str(world["field_id"])}, "o"
        )
        stranger = Hypothesis(question_id=invitation.field.questions[0].id, position=9, text="x")
        db.session.add(stranger)
        db.session.commit()
        draft = writing.read_draft(invitation, {"stance-123456": "supports", "why-123456": "y"})
        assert draft.stances == {}
        with pytest.raises(ExpertError):
            writing.submit(invitation.id, {"text": ""})


def test_the_process_file_carries_invitations_and_justifications(world):
    from deliberation.services.authoring.process_export import dump_process
    from deliberation.services.authoring.process_file import ProcessFileError, load_process_text

    path = invite(world, name="Awa Diallo")
    expert = world["app"].test_client()
    expert.post(path, data={**expert_form(world), "action": "submit"})
    with world["app"].app_context():
        process = db.session.get(Process, world["process_id"])
        invitation = db.session.scalar(db.select(ExpertInvitation))
        invitations.review(process, invitation.id, "changes_requested", "Plus court.", "o")
        accepted, _token = invitations.invite(
            process, {"name": "Paul Hermans", "field_id": str(world["field_id"])}, "o"
        )
        writing.submit(accepted.id, expert_form(world, text="Accepté."))
        invitations.review(process, accepted.id, "accepted", "", "o")
        text = dump_process(process)
        assert "expert_invitations:" in text and "Awa Diallo" in text
        assert "state: changes_requested" in text and "comment: Plus court." in text
        assert "Paul Hermans" in text  # as the field's expert input, not an invitation
        assert text.count("name: Paul Hermans") == 0
        assert "justifications:" in text and "Les enquêtes longitudinales le confirment." in text
        again = load_process_text(text.replace("slug: assises", "slug: assises-copie", 1))
        copied = db.session.scalar(
            db.select(ExpertInvitation).filter_by(process_id=again.id, name="Awa Diallo")
        )
        assert copied.state == "changes_requested" and copied.text.startswith("Mon éclairage")
        assert copied.token_hash != invitation.token_hash  # the link is never in the file
        stance = next(s for e in again.fields[0].expert_inputs for s in e.stances)
        assert stance.justification
        assert dump_process(again).replace("assises-copie", "assises", 1) == text
        bad = text.replace("state: changes_requested", "state: accepted", 1)
        with pytest.raises(ProcessFileError):
            load_process_text(bad.replace("slug: assises", "slug: assises-bis", 1))


def test_the_phone_links_to_its_fields_documents_once_published(world):
    from deliberation.services.live import sessions

    app = world["app"]
    app.config["EXPORT_JOBS_SYNCHRONOUS"] = True
    with app.app_context():
        process = db.session.get(Process, world["process_id"])
        live = sessions.create_session(process, "workshop", "Atelier", field_id=world["field_id"])
        code = live.join_code
    phone = app.test_client()
    assert "/documents" not in phone.get(f"/j/{code}").get_data(as_text=True)
    organiser(world).post(
        f"/organize/{world['slug']}/handouts",
        data={"field_id": str(world["field_id"]), "action": "publish"},
    )
    join = phone.get(f"/j/{code}").get_data(as_text=True)
    assert f'href="/p/{world["slug"]}/documents#field-{world["field_id"]}"' in join
    assert "Les documents de l’atelier" in join
    # Joined, the phone page (answered to the join since issue 14) links there too.
    page = phone.post(f"/j/{code}", data={"name": "Léa"}).get_data(as_text=True)
    assert 'id="ballot"' in page
    assert f"/p/{world['slug']}/documents#field-{world['field_id']}" in page


def test_the_experts_form_sent_twice_submits_once(world):
    path = invite(world)
    expert = world["app"].test_client()
    page = expert.get(path).get_data(as_text=True)
    token = re.search(r'name="submission" value="([^"]+)"', page).group(1)
    data = {**expert_form(world), "action": "submit", "submission": token}
    assert expert.post(path, data=data).status_code == 303
    again = expert.post(path, data=data)  # a double tap, or Back then Send
    assert again.status_code == 302
    assert "une fois" in expert.get(again.location).get_data(as_text=True)
    with world["app"].app_context():
        invitation = db.session.scalar(db.select(ExpertInvitation))
        assert len(invitation.submissions) == 1
