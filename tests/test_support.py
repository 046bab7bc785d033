"""Public support for a published synthesis (issue 16, part 1): the proof of work, one
signature per person and item, withdrawal, counts per group, open data, the organisers'
list, hostile strings, access."""

from __future__ import annotations

import csv
import io
import json

import docx
import pytest
from altcha import solve_challenge_v1
from flask_babel import force_locale

from deliberation.documents import jobs
from deliberation.extensions import db
from deliberation.models import Process, Recommendation, Support
from deliberation.services.publishing import support
from deliberation.services.publishing.support import SupportError
from tests.access_world import build_world, client_as
from tests.test_documents_synthesis import convert_to_pdf

HOSTILE = '=HYPERLINK("x")<script>alert(1)</script>"\'><img src=x onerror=alert(2)>'


@pytest.fixture
def world(app):
    built = build_world(app)
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="assises"))
        process.synthesis_published = True
        process.groups = ["service_user", "social_worker"]
        db.session.commit()
    return built


def _ids(app) -> tuple[int, int]:
    with app.app_context():
        process = db.session.scalar(db.select(Process).filter_by(slug="assises"))
        first = db.session.scalars(db.select(Recommendation).order_by("id")).first()
        return process.id, first.id


def solved(challenge: dict) -> dict:
    """What the page's script sends: the number whose SHA-256 matches the challenge."""
    solution = solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxnumber"]
    )
    assert solution is not None
    return {**challenge, "number": solution.number}


def proof_for(app, process) -> str:
    challenge = support.new_challenge(app.secret_key, process)
    return support.check_solution(app.secret_key, process, solved(challenge))


def english(app):
    return app.test_request_context(headers={"Accept-Language": "en"})


def test_one_person_one_signature_per_item_and_withdrawal(app, world):
    process_id, rec_id = _ids(app)
    with english(app):
        process = db.session.get(Process, process_id)
        first = support.sign(
            process, rec_id, name=" Marie  Dupont ", organisation="CPAS", group="service_user",
            device="a" * 32, challenge=proof_for(app, process),
        )  # fmt: skip
        assert first.new and first.withdraw_token
        # The same person from another browser, typed differently: the same signature.
        again = support.sign(
            process, rec_id, name="marie dupont", organisation="cpas", device="b" * 32,
            challenge=proof_for(app, process),
        )  # fmt: skip
        assert not again.new and again.support.id == first.support.id
        # The same browser under another name: still the first one.
        same_device = support.sign(
            process, rec_id, name="Someone Else", device="a" * 32,
            challenge=proof_for(app, process),
        )  # fmt: skip
        assert not same_device.new
        # The synthesis as a whole is another item.
        whole = support.sign(
            process, None, name="Marie Dupont", organisation="CPAS", group="service_user",
            device="a" * 32, challenge=proof_for(app, process),
        )  # fmt: skip
        assert whole.new
        counts = support.counts(process)
        assert counts[rec_id].total == 1 and counts[rec_id].by_group == {"service_user": 1}
        assert counts[None].total == 1
        support.withdraw(process, first.withdraw_token)
        support.withdraw(process, first.withdraw_token)  # twice is harmless
        assert rec_id not in support.counts(process)
        # Withdrawn, the person may sign again: a new signature.
        back = support.sign(
            process, rec_id, name="Marie Dupont", organisation="CPAS", device="a" * 32,
            challenge=proof_for(app, process),
        )  # fmt: skip
        assert back.new and support.counts(process)[rec_id].total == 1


def test_the_proof_of_work_is_checked_and_spent_once(app, world):
    process_id, rec_id = _ids(app)
    with english(app):
        process = db.session.get(Process, process_id)
        challenge = support.new_challenge(app.secret_key, process)
        answer = solved(challenge)
        for forged in (
            None,
            "x",
            {},
            {**answer, "number": answer["number"] + 1},
            {**answer, "signature": "0" * 64},
            {**answer, "salt": answer["salt"] + "expires=99999999999&"},
            {**answer, "number": -1},
            {**answer, "number": 2**70},
        ):
            with pytest.raises(SupportError, match="automated signing"):
                support.check_solution(app.secret_key, process, forged)
        # Another process's key does not accept it.
        other = Process(id=process.id + 1000, slug="other", title="Other")
        with pytest.raises(SupportError):
            support.check_solution(app.secret_key, other, answer)
        spent = support.check_solution(app.secret_key, process, answer)
        support.sign(process, rec_id, name="Ana", challenge=spent)
        with pytest.raises(SupportError, match="already used"):
            support.sign(process, None, name="Bob", challenge=spent)
        assert db.session.scalar(db.select(db.func.count(Support.id))) == 1


def test_bad_input_is_refused_with_a_message(app, world):
    process_id, rec_id = _ids(app)
    with english(app):
        process = db.session.get(Process, process_id)
        cases = [
            ({"name": "  "}, "required"),
            ({"name": "x" * 301}, "too long"),
            ({"name": "Ana", "comment": "y" * 501}, "too long"),
            ({"name": "Ana", "group": "not_a_group"}, "not one of the choices"),
            ({"name": "Ana\ud800"}, "not a valid text"),
            ({"name": 12}, "not a valid text"),
        ]
        for fields, message in cases:
            with pytest.raises(SupportError, match=message):
                support.sign(process, rec_id, challenge="c" * 64, **fields)
        with pytest.raises(SupportError, match="does not exist"):
            support.sign(process, 10**9, name="Ana", challenge="c" * 64)
        process.synthesis_published = False
        with pytest.raises(SupportError, match="not published"):
            support.sign(process, rec_id, name="Ana", challenge="c" * 64)
        assert db.session.scalar(db.select(db.func.count(Support.id))) == 0


def test_public_pages_forms_open_data_and_the_organisers_list(app, world):
    process_id, rec_id = _ids(app)
    reader = client_as(app, None)
    page = reader.get("/p/assises").get_data(as_text=True)
    assert 'id="support-form"' in page and "0 signatures" in page
    challenge = reader.get("/p/assises/support/challenge")
    assert challenge.status_code == 200 and challenge.headers["Cache-Control"] == "no-store"
    form = {
        "recommendation_id": str(rec_id),
        "name": HOSTILE,
        "organisation": HOSTILE,
        "group": "social_worker",
        "comment": HOSTILE,
        "show_name": "1",
        "proof": json.dumps(solved(challenge.get_json())),
    }
    signed = reader.post("/p/assises/support", data=form)
    assert signed.status_code == 302 and "/p/assises/support/" in signed.location
    private = reader.get(signed.location)
    assert private.headers["Cache-Control"] == "no-store"
    text = private.get_data(as_text=True)
    assert "Withdraw my signature" in text and "<script>alert(1)" not in text
    # Without a solved challenge: refused, counted nowhere.
    refused = reader.post("/p/assises/support", data={**form, "proof": "", "name": "Bot"})
    assert refused.status_code == 302
    assert "automated signing" in reader.get(refused.location).get_data(as_text=True)
    # The recommendation's page shows the count per group and this browser's withdraw button.
    rec_page = reader.get(f"/p/assises/recommendations/{rec_id}").get_data(as_text=True)
    assert "1 signature" in rec_page and "Withdraw my signature" in rec_page
    assert "<script>alert(1)" not in rec_page
    rows = list(csv.DictReader(io.StringIO(reader.get("/p/assises/support.csv").text)))
    assert [row["signatures"] for row in rows] == ["1", "1"]
    assert all(not value.startswith("=") for row in rows for value in row.values())
    assert rows[0]["shown_names"].startswith("'=HYPERLINK")
    data = reader.get("/p/assises/support.json").get_json()
    assert data["support"][0]["by_group"] == {"social_worker": 1}
    # The signature list: organisers only.
    assert reader.get("/organize/assises/supports").status_code in (302, 404)
    assert (
        client_as(app, world.people["outsider"]).get("/organize/assises/supports").status_code
        == 404
    )
    owner = client_as(app, world.people["owner"])
    listing = owner.get("/organize/assises/supports").get_data(as_text=True)
    assert "social worker" in listing.lower() and "<script>alert(1)" not in listing
    organiser_csv = owner.get("/organize/assises/supports/signatures.csv").text
    assert "'=HYPERLINK" in organiser_csv
    # Withdrawn from the browser that signed.
    with app.app_context():
        support_id = db.session.scalar(db.select(Support.id))
    gone = reader.post(f"/p/assises/support/mine/{support_id}/withdraw")
    assert gone.status_code == 302
    assert reader.get("/p/assises/support.json").get_json()["support"] == []
    # Another browser cannot withdraw it, and an unpublished synthesis answers 404.
    with app.app_context():
        process = db.session.get(Process, process_id)
        process.synthesis_published = False
        db.session.commit()
    assert reader.get("/p/assises/support/challenge").status_code == 404
    assert reader.get("/p/assises/support.csv").status_code == 404


def test_the_word_annex_for_a_ministers_office(app, world, tmp_path):
    """Counts per text and group, the named signers, their comments; opened by LibreOffice
    and read back with python-docx."""
    process_id, rec_id = _ids(app)
    with app.app_context(), force_locale("fr"):
        process = db.session.get(Process, process_id)
        process.language = "fr"
        db.session.commit()
        signers = [
            ("Ana", "CPAS de Namur", "service_user", True, "Enfin écouté·es !"),
            ("Bob", "", "social_worker", False, "Oui, mais avec des moyens."),
            ("Chloé", "FdSS", "social_worker", True, ""),
        ]
        for name, organisation, group, shown, comment in signers:
            support.sign(
                process, rec_id, name=name, organisation=organisation, group=group,
                comment=comment, show_name=shown, challenge=proof_for(app, process),
            )  # fmt: skip
        support.sign(process, None, name="Ana", organisation="CPAS de Namur",
                     challenge=proof_for(app, process))  # fmt: skip
        path = jobs.build_document("supports", process_id, None, str(tmp_path / "exports"))
    assert path.name.startswith("assises-soutiens-")
    convert_to_pdf(path, tmp_path)
    document = docx.Document(str(path))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "Soutiens publics de la synthèse" in text
    assert "3 personnes ont signé ; 4 signatures en tout" in text
    rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    groups = ["Sans groupe déclaré", "Personnes accompagnées", "Travailleurs sociaux"]
    assert rows[0] == ["Texte", "Signatures", *groups]
    assert rows[1] == ["La synthèse dans son ensemble", "1", "1", "0", "0"]
    assert rows[2][1:] == ["3", "0", "1", "2"]
    assert "Ana, CPAS de Namur, Personnes accompagnées" in text
    assert "Chloé, FdSS, Travailleurs sociaux" in text
    assert not any(line.startswith("Bob") for line in text.splitlines())
    assert "« Oui, mais avec des moyens. » — Un signataire" in text
    assert "« Enfin écouté·es ! » — Ana" in text
