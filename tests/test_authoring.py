"""The authoring services and the model constraints behind them, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy.exc import IntegrityError

from deliberation.extensions import db
from deliberation.models import (
    TEXT_MAX,
    TITLE_MAX,
    AgendaItem,
    ExpertStance,
    Field,
    Hypothesis,
    LiveSession,
    Poll,
    Process,
    Question,
    Recommendation,
    TextVersion,
)
from deliberation.services.authoring import authoring
from deliberation.services.authoring.authoring import ConfirmationRequired, ValidationError

AUTHOR = "org@example.org"


@pytest.fixture
def ctx(any_db_app):
    with any_db_app.app_context():
        yield any_db_app


def make_tree():
    process = authoring.create_process(AUTHOR, title="Assises", slug="assises")
    field1 = authoring.create_item("field", process, AUTHOR, title="Dispositifs")
    field2 = authoring.create_item("field", process, AUTHOR, title="Processus")
    question = authoring.create_item("question", field1, AUTHOR, text="Quelle place ?")
    hypothesis = authoring.create_item("hypothesis", question, AUTHOR, text="Une place centrale")
    findings = [
        authoring.create_item("finding", field, AUTHOR, text=f"Constat {field.title} {n}")
        for field in (field1, field2)
        for n in (1, 2)
    ]
    return process, field1, field2, question, hypothesis, findings


# -- model constraints -------------------------------------------------------------------


def test_database_refuses_empty_titles_and_texts(ctx):
    db.session.add(Process(title="", slug="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    process = Process(title="P", slug="p")
    db.session.add(process)
    db.session.commit()
    db.session.add(Field(process_id=process.id, title=""))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    field = Field(process_id=process.id, title="F")
    db.session.add(field)
    db.session.commit()
    db.session.add(Question(field_id=field.id, text=""))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_database_refuses_duplicate_slugs(ctx):
    db.session.add_all([Process(title="A", slug="same"), Process(title="B", slug="same")])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_deleting_a_process_cascades_in_the_database(ctx):
    process, field1, *_ = make_tree()
    process_id = process.id
    # A bulk delete goes through the database's ON DELETE CASCADE, not the ORM.
    db.session.execute(db.delete(Process).where(Process.id == process_id))
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(Field.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Hypothesis.id))) == 0


# -- creating and validating -------------------------------------------------------------


def test_services_refuse_empty_and_over_long_input(ctx):
    with pytest.raises(ValidationError, match="empty"):
        authoring.create_process(AUTHOR, title="   ", slug="ok")
    with pytest.raises(ValidationError, match=str(TITLE_MAX)):
        authoring.create_process(AUTHOR, title="x" * (TITLE_MAX + 1), slug="ok")
    process = authoring.create_process(AUTHOR, title="Ok", slug="ok")
    with pytest.raises(ValidationError, match="slug"):
        authoring.create_process(AUTHOR, title="Other", slug="Not A Slug")
    with pytest.raises(ValidationError, match="taken"):
        authoring.create_process(AUTHOR, title="Other", slug="ok")
    field = authoring.create_item("field", process, AUTHOR, title="F")
    with pytest.raises(ValidationError, match="empty"):
        authoring.create_item("question", field, AUTHOR, text="\n  \n")
    with pytest.raises(ValidationError, match=str(TEXT_MAX)):
        authoring.create_item("question", field, AUTHOR, text="y" * (TEXT_MAX + 1))
    with pytest.raises(ValidationError):
        authoring.create_item("hypothesis", field, AUTHOR, text="under a field")
    with pytest.raises(ValidationError, match="threshold"):
        authoring.update_process(process, AUTHOR, threshold_validated=40, threshold_rework=60)
    with pytest.raises(ValidationError):
        authoring.update_process(process, AUTHOR, threshold_block="many")
    assert db.session.scalar(db.select(db.func.count(Question.id))) == 0


def test_every_kind_can_be_created_and_updated(ctx):
    process, field1, _f2, question, hypothesis, findings = make_tree()
    finding = findings[0]
    made = {
        "recommendation": authoring.create_item("recommendation", finding, AUTHOR, text="R"),
        "action_path": authoring.create_item("action_path", finding, AUTHOR, text="A"),
        "implementation_condition": authoring.create_item(
            "implementation_condition", finding, AUTHOR, text="C"
        ),
        "note": authoring.create_item("note", finding, AUTHOR, text="N"),
    }
    expert = authoring.create_item(
        "expert_input", field1, AUTHOR, author="Dr X", role="academic", text="Étude"
    )
    for kind, item in made.items():
        authoring.update_item(item, AUTHOR, text=f"{kind} revised")
        assert item.text == f"{kind} revised"
    authoring.update_item(expert, AUTHOR, affiliation="UCLouvain", role="field_worker")
    assert expert.role == "field_worker"
    with pytest.raises(ValidationError):
        authoring.update_item(expert, AUTHOR, role="wizard")
    authoring.set_stances(expert, {hypothesis.id: "nuances"})
    assert [(s.hypothesis_id, s.stance) for s in expert.stances] == [(hypothesis.id, "nuances")]
    with pytest.raises(ValidationError):
        authoring.set_stances(expert, {hypothesis.id: "loves"})
    authoring.set_stances(expert, {hypothesis.id: ""})
    assert expert.stances == []
    authoring.update_process(
        process, AUTHOR, language="en", groups="service users\nworkers\n\nworkers"
    )
    assert process.groups == ["service users", "workers"]
    territory = authoring.add_territory(process, "Liège")
    with pytest.raises(ValidationError):
        authoring.add_territory(process, "Liège")
    authoring.rename_territory(territory, "Namur")
    assert [t.name for t in process.territories] == ["Namur"]


def test_findings_are_numbered_across_fields(ctx):
    process, _f1, field2, _q, _h, findings = make_tree()
    assert authoring.finding_numbers(process) == {f.id: n for n, f in enumerate(findings, 1)}
    authoring.move(process.fields[1], -1)  # field 2 first now
    db.session.refresh(process)
    numbers = authoring.finding_numbers(process)
    assert [numbers[f.id] for f in findings] == [3, 4, 1, 2]


# -- versions ----------------------------------------------------------------------------


def test_every_text_change_is_a_version_and_rollback_is_one_too(ctx):
    *_, hypothesis, _findings = make_tree()
    authoring.update_item(hypothesis, AUTHOR, text="Second")
    authoring.update_item(hypothesis, "other@example.org", text="Third")
    authoring.update_item(hypothesis, AUTHOR, text="Third")  # unchanged: no version
    versions = authoring.history(hypothesis)
    assert [(v.number, v.kind, v.text) for v in versions] == [
        (1, "created", "Une place centrale"),
        (2, "edited", "Second"),
        (3, "edited", "Third"),
    ]
    assert versions[2].author == "other@example.org"
    authoring.rollback(hypothesis, 1, AUTHOR)
    assert hypothesis.text == "Une place centrale"
    last = authoring.history(hypothesis)[-1]
    assert (last.number, last.kind, last.text) == (4, "rollback", "Une place centrale")
    with pytest.raises(ValidationError):
        authoring.rollback(hypothesis, 99, AUTHOR)


def test_multi_field_items_roll_back_every_field(ctx):
    process, field1, *_ = make_tree()
    authoring.update_item(field1, AUTHOR, title="Renamed", description="Desc")
    authoring.rollback(field1, 1, AUTHOR)
    assert (field1.title, field1.description) == ("Dispositifs", "")
    authoring.update_process(process, AUTHOR, introduction="Intro")
    authoring.rollback(process, 1, AUTHOR)
    assert process.introduction == ""
    assert (
        db.session.scalar(db.select(db.func.count(TextVersion.id)).filter_by(item_type="process"))
        == 3
    )


# -- order -------------------------------------------------------------------------------


def test_move_and_reorder(ctx):
    process, field1, *_ = make_tree()
    finding = field1.findings[0]
    items = [authoring.create_item("action_path", finding, AUTHOR, text=t) for t in "abc"]
    authoring.move(items[2], -1)
    assert [a.text for a in finding.action_paths] == ["a", "c", "b"]
    authoring.move(items[0], -1)  # already first: nothing moves
    assert [a.text for a in finding.action_paths] == ["a", "c", "b"]
    authoring.reorder(finding, "action_path", [items[1].id, items[0].id, items[2].id])
    assert [a.text for a in finding.action_paths] == ["b", "a", "c"]
    assert [a.position for a in finding.action_paths] == [0, 1, 2]
    with pytest.raises(ValidationError):
        authoring.reorder(finding, "action_path", [items[1].id, items[0].id])


# -- deletion ----------------------------------------------------------------------------


def test_deleting_a_leaf_needs_no_confirmation(ctx):
    *_, findings = make_tree()
    recommendation = authoring.create_item("recommendation", findings[0], AUTHOR, text="R")
    authoring.delete_item(recommendation)
    assert db.session.scalar(db.select(db.func.count(Recommendation.id))) == 0
    # Its history is kept.
    assert (
        db.session.scalar(
            db.select(db.func.count(TextVersion.id)).filter_by(item_type="recommendation")
        )
        == 1
    )


def test_deleting_an_item_with_children_asks_first(ctx):
    process, field1, _f2, question, hypothesis, _ = make_tree()
    with pytest.raises(ConfirmationRequired) as raised:
        authoring.delete_item(field1)
    assert raised.value.impact.children == {"question": 1, "hypothesis": 1, "finding": 2}
    assert db.session.get(Field, field1.id) is not None
    authoring.delete_item(field1, confirm=True)
    assert db.session.get(Hypothesis, hypothesis.id) is None
    assert [f.position for f in process.fields] == [0]


def test_deleting_a_voted_item_asks_first_and_keeps_the_vote_readable(ctx):
    process, field1, _f2, question, hypothesis, _ = make_tree()
    expert = authoring.create_item("expert_input", field1, AUTHOR, author="Dr X")
    authoring.set_stances(expert, {hypothesis.id: "supports"})
    session = LiveSession(process=process, title="Atelier", join_code="ABC123")
    agenda = AgendaItem(session=session, item_type="hypothesis", item_id=hypothesis.id)
    db.session.add_all([session, agenda, Poll(session=session, agenda_item=agenda)])
    db.session.commit()
    with pytest.raises(ConfirmationRequired) as raised:
        authoring.delete_item(hypothesis)
    assert raised.value.impact.polls == 1 and raised.value.impact.stances == 1
    authoring.delete_item(hypothesis, confirm=True)
    db.session.refresh(agenda)
    assert agenda.item_id is None and agenda.text == "Une place centrale"
    assert db.session.scalar(db.select(db.func.count(Poll.id))) == 1
    assert db.session.scalar(db.select(db.func.count(ExpertStance.id))) == 0
