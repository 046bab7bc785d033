"""What proceedings are read for (issue 13): the organisation a participant gives when
joining (or that of their registration), and the Actes read back with python-docx — the
minutes per session and item, the participating organisations, the attendance per event,
group and territory."""

from __future__ import annotations

import docx
from docx.text.paragraph import Paragraph
from test_registration import logged_in, register, world  # noqa: F401  (the fixture)

from deliberation.documents.proceedings import build_proceedings
from deliberation.extensions import db
from deliberation.models import LiveSession, Participant, Process, Registration
from deliberation.services.live import admission, minutes, sessions
from deliberation.services.registration import registrations
from tests.live_fixtures import free_item, make_process, workshop


def joined(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (p.display_name, p.organisation)
            for p in db.session.scalars(db.select(Participant).order_by(Participant.id))
        ]


def test_an_open_session_takes_the_organisation_given_when_joining(app):
    with app.app_context():
        session = workshop(make_process(language="en"))
        code = session.join_code
    phone = app.test_client()
    page = phone.get(f"/j/{code}").get_data(as_text=True)
    assert 'name="organisation"' in page and 'autocomplete="organization"' in page
    too_long = phone.post(f"/j/{code}", data={"name": "Ana", "organisation": "CPAS " + "x" * 200})
    assert too_long.status_code == 400
    html = too_long.get_data(as_text=True)
    assert 'id="organisation-error"' in html and 'value="CPAS xxx' in html  # nothing lost
    assert joined(app) == []
    answer = phone.post(f"/j/{code}", data={"name": "Ana", "organisation": "  CPAS   de Namur "})
    assert answer.status_code == 200
    assert joined(app) == [("Ana", "CPAS de Namur")]
    app.test_client().post(f"/j/{code}", data={"name": "Bob"})  # optional
    assert joined(app)[1] == ("Bob", "")


def test_a_ticket_holder_takes_the_organisation_of_the_registration_when_listed(app, world):  # noqa: F811
    register(app.test_client(), world, listed="1")  # CSEF, agreed to be listed
    register(app.test_client(), world, name="Marc", organisation="Forem")  # not listed
    with app.app_context():
        codes = dict(db.session.execute(db.select(Registration.name, Registration.code)).all())
    join_url = f"/j/{world['assembly_code']}"
    for name, typed in (("Nathalie", "Typed"), ("Marc", "")):
        phone = app.test_client()
        phone.get(join_url)
        data = {"name": name, "organisation": typed, "ticket": codes[name]}
        assert phone.post(join_url, data=data).status_code == 200
    # Marc did not agree to have Forem listed: his place carries nothing of it.
    assert joined(app) == [("Nathalie", "CSEF"), ("Marc", "")]


def test_participating_organisations_from_registrations_and_joins_once_each(app, world):  # noqa: F811
    register(app.test_client(), world, listed="1")  # CSEF
    with app.app_context():
        process = db.session.get(Process, world["process_id"])
        live = workshop(process, "Atelier de Liège")
        for organisation in ("csef", "Mires", "", "Régie des quartiers"):
            participant = sessions.new_participant(live, "", "", organisation)
            db.session.add(participant)
        db.session.commit()
        assert registrations.participating_organisations(process) == [
            "CSEF",
            "Mires",
            "Régie des quartiers",
        ]


def body_blocks(document) -> list[tuple[str, str]]:
    """(style, text) of every paragraph, and ("table", cells joined by « | ») of every table."""
    found = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            found.append((block.style.name, block.text))
        else:
            rows = [" | ".join(cell.text for cell in row.cells) for row in block.rows]
            found.append(("table", "\n".join(rows)))
    return found


def test_the_actes_print_minutes_organisations_and_attendance(app, world, tmp_path):  # noqa: F811
    register(app.test_client(), world, listed="1")  # CSEF, social worker
    register(app.test_client(), world, name="Pia", organisation="Forem", group="service_user")
    workshop_place = {"event_ids": [str(world["workshop"])], "group": "employer"}
    register(app.test_client(), world, name="Léa", organisation="", **workshop_place)
    owner = logged_in(app.test_client(), world)
    with app.app_context():
        codes = dict(db.session.execute(db.select(Registration.name, Registration.code)).all())
    owner.post(
        f"/organize/{world['slug']}/registration/check-in",
        data={"code": admission.format_ticket(codes["Nathalie"])},
    )
    with app.app_context():
        process = db.session.get(Process, world["process_id"])
        live = workshop(process, "Atelier de Liège")
        first = free_item(live, "Faut-il ouvrir le samedi ?")
        second = free_item(live, "Qui finance ?")
        free_item(live, "Sans compte rendu")
        db.session.add(sessions.new_participant(live, "Ana", "employer", "Mires"))
        db.session.commit()
        saved = minutes.save(live, first.id, "Ana ouvre le débat.", None, "a@example.org")
        minutes.save(
            live,
            first.id,
            "Ana ouvre le débat.\n\n- Bob : pour\n- Carla : contre",
            saved.version,
            "a@example.org",
        )
        minutes.save(live, second.id, "Le CPAS propose une convention.", None, "a@example.org")
        document = build_proceedings(process)
        path = tmp_path / "actes.docx"
        document.save(str(path))
        session_title = db.session.get(LiveSession, live.id).title
    blocks = body_blocks(docx.Document(str(path)))
    texts = [text for _style, text in blocks]
    start = texts.index(f"Atelier — {session_title}")
    heading = texts.index("Compte rendu", start)
    assert blocks[heading][0] == "Heading 3"
    minutes_part = blocks[heading + 1 : heading + 7]
    assert minutes_part[0] == ("Heading 4", "Question à la salle — Faut-il ouvrir le samedi ?")
    assert minutes_part[1] == ("Normal", "Ana ouvre le débat.")
    assert minutes_part[2] == ("List Bullet", "Bob : pour")
    assert minutes_part[3] == ("List Bullet", "Carla : contre")
    assert minutes_part[4] == ("Heading 4", "Question à la salle — Qui finance ?")
    assert minutes_part[5] == ("Normal", "Le CPAS propose une convention.")
    assert "Sans compte rendu" not in " ".join(texts[heading:])  # no minutes, no heading
    # Participation: the organisations (Forem was not agreed to be listed), then attendance.
    orgs = texts.index("Organisations participantes")
    assert blocks[orgs][0] == "Heading 2"
    listed = [text for style, text in blocks[orgs + 1 :] if style == "List Bullet"][:2]
    assert listed == ["CSEF", "Mires"]
    assert "Forem" not in "\n".join(texts[orgs:])
    attendance = texts.index("Présence aux événements")
    tables = [text for style, text in blocks[attendance:] if style == "table"]
    assert tables[0].splitlines()[0] == "Événement | Date | Territoire | Inscrits | Présents"
    assert "Assemblée générale | 21 novembre 2014 | – | 2 | 1" in tables[0]
    assert "Atelier Liège | 2 octobre 2014 | Liège | 1 | 0" in tables[0]
    assert tables[1].splitlines() == [
        "Groupe | Inscrits | Présents",
        "Employeurs | 1 | 0",
        "Personnes accompagnées | 1 | 0",
        "Travailleurs sociaux | 1 | 1",
    ]
    assert tables[2].splitlines() == [
        "Territoire | Inscrits | Présents",
        "Liège | 1 | 0",
        "– | 2 | 1",
    ]
