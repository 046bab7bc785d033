"""The process file: round trips (demo and hand-written), refusals with their line, CLI."""

from __future__ import annotations

from textwrap import dedent
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from deliberation.extensions import db
from deliberation.models import Process, TextVersion
from deliberation.services.authoring import authoring
from deliberation.services.authoring.process_file import (
    ProcessFileError,
    dump_process,
    import_process_file,
    load_process_text,
)
from deliberation.services.consolidation import grid
from deliberation.services.demo.demo import DEMO_FILE
from tests.conftest import ROOT

SMALL = dedent(
    """\
    # A small process written by hand.
    slug: petit-test
    title: Un petit test
    subtitle: Pour voir
    language: fr
    introduction: |
      Une introduction en **Markdown**, sur deux paragraphes.

      - avec une liste « française » ;
      - et des apostrophes typographiques : l’accompagnement.
    thresholds:
      validated: 80
      rework: 40
    labels:
      full: D’accord
    groups: [service_user, social_worker, "Élus locaux"]
    grid:
      rows:
        name: Thème transversal
        values: [Participation, Formation]
      cols:
        name: Politique publique
        values: [Emploi]
    territories:
      - Bassin de Namur
      - Bassin de Liège
    fields:
      - title: Premier champ
        description: Un champ pour essayer.
        questions:
          - id: q-acc
            text: Faut-il accompagner ?
            illustrative: yes
            hypotheses:
              - id: oui
                text: Oui, toujours.
                grid_row: Participation
                grid_col: Emploi
              - id: non
                text: Non, jamais.
              - Une hypothèse sans id.
        expert_inputs:
          - title: Un éclairage
            author: Jeanne Test
            role: academic
            affiliation: Université fictive
            illustrative: true
            text: |
              Premier paragraphe.

              Second paragraphe avec *emphase*.
            references: "- Une référence : 2014"
            stances:
              oui: supports
              non: contradicts
        findings:
          - text: Un constat qui renvoie à une note[^1].
            question: q-acc
            recommendations:
              - Une recommandation.
              - text: Une recommandation placée sur la grille.
                grid_row: Formation
                grid_col: Emploi
            action_paths: [Une piste., Une autre piste.]
            conditions:
              - Une condition[^2].
            notes:
              - La première note.
              - |
                La seconde note, avec une liste :

                - un ;
                - deux.
      - title: Second champ
        illustrative: true
    """
)


def tree(process: Process) -> dict[str, Any]:
    """The whole process as plain values, without ids or timestamps, read from the models."""

    def columns(item: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        ignored = {"id", "created_at", "updated_at", "position", *skip}
        return {
            c.key: getattr(item, c.key)
            for c in item.__table__.columns
            if c.key not in ignored and not c.key.endswith("_id")
        }

    def children(finding: Any, relation: str) -> list[dict]:
        return [columns(c) for c in getattr(finding, relation)]

    return {
        **columns(process),
        "territories": [t.name for t in process.territories],
        "fields": [
            {
                **columns(field_),
                "questions": [
                    {
                        **columns(q),
                        "hypotheses": [
                            {
                                **columns(h),
                                "stances": sorted(
                                    (s.expert_input.author, s.stance) for s in h.stances
                                ),
                            }
                            for h in q.hypotheses
                        ],
                    }
                    for q in field_.questions
                ],
                "expert_inputs": [
                    {**columns(e), "stances": len(e.stances)} for e in field_.expert_inputs
                ],
                "findings": [
                    {
                        **columns(f),
                        "question": f.question.text if f.question else None,
                        **{
                            rel: children(f, rel)
                            for rel in ("recommendations", "action_paths", "conditions", "notes")
                        },
                    }
                    for f in field_.findings
                ],
            }
            for field_ in process.fields
        ],
    }


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Process.id))),
        db.session.scalar(select(func.count(TextVersion.id))),
    )


def refused(text: str, replace: bool = False) -> ProcessFileError:
    before = counts()
    with pytest.raises(ProcessFileError) as caught:
        load_process_text(text, replace=replace)
    db.session.rollback()
    assert counts() == before, "a refused file must write nothing"
    return caught.value


# -- round trips -------------------------------------------------------------------------


def test_demo_round_trip(any_db_app):
    with any_db_app.app_context():
        process = import_process_file(DEMO_FILE)
        first_dump, first_tree = dump_process(process), tree(process)
        assert first_tree["fields"][0]["findings"], "the demo has findings"

        again = load_process_text(first_dump, replace=True)
        db.session.expire_all()
        assert dump_process(again) == first_dump
        assert tree(again) == first_tree
        assert db.session.scalar(select(func.count(Process.id))) == 1


def test_demo_file_and_its_export_hold_the_same_data(app):
    with app.app_context():
        process = import_process_file(DEMO_FILE)
        exported = yaml.safe_load(dump_process(process))
    original = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    # The export lists territories in the file's own order, as everything else.
    assert original.pop("territories") == exported.pop("territories")
    assert exported == original


def test_small_file_round_trip(any_db_app):
    with any_db_app.app_context():
        process = load_process_text(SMALL)
        assert process.threshold_validated == 80
        assert process.threshold_block == 5  # default for a threshold left out
        assert process.grid["rows"]["values"] == ["Participation", "Formation"]
        field_ = process.fields[0]
        hypotheses = field_.questions[0].hypotheses
        assert [h.text for h in hypotheses][2] == "Une hypothèse sans id."
        assert (hypotheses[0].grid_row, hypotheses[0].grid_col) == ("Participation", "Emploi")
        assert sorted(s.stance for s in field_.expert_inputs[0].stances) == [
            "contradicts",
            "supports",
        ]
        finding = field_.findings[0]
        assert finding.question is field_.questions[0]
        assert finding.recommendations[1].grid_row == "Formation"
        assert finding.notes[1].text.endswith("- deux.")
        assert process.fields[1].illustrative and not field_.illustrative

        first_dump, first_tree = dump_process(process), tree(process)
        again = load_process_text(first_dump, replace=True)
        db.session.expire_all()
        assert dump_process(again) == first_dump
        assert tree(again) == first_tree


def test_dump_is_readable_utf8_with_block_scalars(app):
    with app.app_context():
        text = dump_process(load_process_text(SMALL))
    assert "l’accompagnement" in text and "\\u" not in text
    assert "introduction: |-\n  Une introduction en **Markdown**" in text
    assert "      - |-\n            La seconde note, avec une liste :\n" in text
    # Hypotheses get ids so that stances can name them.
    assert "stances:\n          f1-q1-h1: supports\n          f1-q1-h2: contradicts" in text


def test_import_records_an_imported_version_per_text_item(app):
    with app.app_context():
        process = load_process_text(SMALL)
        versions = db.session.scalars(select(TextVersion)).all()
        hypothesis = process.fields[0].questions[0].hypotheses[0]
        mine = [v for v in versions if (v.item_type, v.item_id) == ("hypothesis", hypothesis.id)]
        assert [(v.number, v.kind, v.text) for v in mine] == [(1, "imported", "Oui, toujours.")]
        # process, 2 fields, 1 question, 3 hypotheses, 1 expert input, 1 finding and its
        # 2 recommendations, 2 action paths, 1 condition and 2 notes.
        assert len(versions) == 1 + 2 + 1 + 3 + 1 + 1 + 2 + 2 + 1 + 2
        assert {v.kind for v in versions} == {"imported"}


# -- refusals --------------------------------------------------------------------------


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


@pytest.mark.parametrize(
    ("change", "needle", "reason"),
    [
        (
            ("text: Non, jamais.", "text: Non : jamais."),
            "Non : jamais",
            "YAML syntax error: mapping values are not allowed here",
        ),
        (("text: Non, jamais.", "text:  # vide"), "# vide", "hypothesis text is empty"),
        (("text: Non, jamais.", 'text: "   "'), '"   "', "hypothesis text is empty"),
        (("non: contradicts", "non: agree"), "non: agree", "unknown stance 'agree'"),
        (("oui: supports", "peut-etre: supports"), "peut-etre", "unknown hypothesis 'peut-etre'"),
        (("question: q-acc", "question: q-x"), "question: q-x", "unknown question 'q-x'"),
        (("role: academic", "role: professor"), "role: professor", "unknown role 'professor'"),
        (("illustrative: yes", "illustrative: maybe"), "maybe", "must be true or false"),
        (("validated: 80", "validated: 180"), "validated: 180", "from 0 to 100"),
        (("rework: 40", "rework: 90"), "rework: 90", "rework threshold cannot be above"),
        (("- id: non", "- id: oui"), "- id: oui\n", "id 'oui' is used twice"),
        (("  - Bassin de Liège", "  - Bassin de Namur"), "  - Bassin de Namur\n", "twice"),
        (("    description:", "    descriptio:"), "descriptio:", "unknown key 'descriptio'"),
        (("slug: petit-test", "slug: Petit Test"), "slug:", "lower-case letters"),
        (("language: fr", "language: klingon"), "language:", "unknown language 'klingon'"),
        (("author: Jeanne Test", "author: ''"), "author:", "expert input author is empty"),
    ],
)
def test_refusals_name_the_line(app, change, needle, reason):
    text = SMALL.replace(*change, 1)
    assert text != SMALL
    # A needle with a newline matches a whole line: look for its last occurrence then.
    expected = (
        line_of(text, needle) if "\n" not in needle else text[: text.rindex(needle)].count("\n") + 1
    )
    with app.app_context():
        error = refused(text)
    assert reason in str(error)
    assert error.line == expected, str(error)
    assert str(error).startswith(f"line {expected}: ")


def test_missing_title(app):
    with app.app_context():
        error = refused("# no title\nslug: sans-titre\nfields: []\n")
    assert str(error) == "line 2: process title is missing"


def test_missing_field_title(app):
    text = "slug: x\ntitle: X\nfields:\n  - description: hop\n  - questions: []\n"
    with app.app_context():
        error = refused(text)
    assert str(error) == "line 4: field title is missing"


def test_over_long_texts(app):
    long_hypothesis = SMALL.replace("text: Non, jamais.", "text: " + "x" * 20_001)
    long_title = SMALL.replace("title: Premier champ", "title: " + "é" * 301)
    with app.app_context():
        error = refused(long_hypothesis)
        assert error.line == line_of(long_hypothesis, "x" * 100)
        assert "hypothesis text is too long (20001 characters, at most 20000)" in str(error)
        error = refused(long_title)
        assert error.line == line_of(long_title, "é" * 100)
        assert "field title is too long (301 characters, at most 300)" in str(error)


def test_not_a_process_at_all(app):
    with app.app_context():
        assert "the file is empty" in str(refused("# nothing here\n"))
        assert str(refused("- a\n- list\n")).startswith("line 1: a process must be")
        assert "aliases" in str(refused("slug: &s a\ntitle: *s\n"))
        assert refused("slug: a\ntitle: A\nfields: oops\n").line == 3


def test_duplicate_slug_needs_replace(app):
    with app.app_context():
        first = load_process_text(SMALL)
        first_id = first.id
        versions = counts()[1]
        error = refused(SMALL.replace("title: Un petit test", "title: Autre"))
        assert str(error) == "line 2: slug 'petit-test' already exists (use --replace)"
        assert db.session.get(Process, first_id).title == "Un petit test"

        replaced = load_process_text(SMALL.replace("title: Un petit test", "title: Autre"), True)
        assert replaced.title == "Autre"
        assert db.session.scalar(select(func.count(Process.id))) == 1
        # The old items' histories went with them: one version per item again.
        assert counts()[1] == versions


def test_refused_late_error_writes_nothing_even_with_replace(app):
    with app.app_context():
        load_process_text(SMALL)
        before = dump_process(db.session.scalar(select(Process)))
        bad = SMALL.replace("title: Un petit test", "title: Changé").replace(
            "oui: supports", "inconnue: supports"
        )
        error = refused(bad, replace=True)
        assert "unknown hypothesis 'inconnue'" in str(error)
        assert dump_process(db.session.scalar(select(Process))) == before


def test_file_not_utf8(app, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("slug: a\ntitle: Caf\u00e9\n".encode("latin-1"))
    with app.app_context(), pytest.raises(ProcessFileError) as caught:
        import_process_file(path)
    assert str(caught.value) == "line 2: the file is not UTF-8 text (save it as UTF-8)"


# -- command line ------------------------------------------------------------------------


def test_cli_import_export_and_errors(app, runner, tmp_path):
    # The commands are plain click commands: ``flask`` pushes the app context, the test
    # runner does not.
    with app.app_context():
        source = tmp_path / "petit.yaml"
        source.write_text(SMALL, encoding="utf-8")
        result = runner.invoke(args=["import-process", str(source)])
        assert result.exit_code == 0, result.output
        assert "Imported 'petit-test'" in result.output

        exported = tmp_path / "export.yaml"
        result = runner.invoke(args=["export-process", "petit-test", "-o", str(exported)])
        assert result.exit_code == 0, result.output
        assert exported.read_text(encoding="utf-8") == dump_process(
            db.session.scalar(select(Process).filter_by(slug="petit-test"))
        )

        result = runner.invoke(args=["import-process", str(exported)])
        assert result.exit_code == 1
        assert "line 5: slug 'petit-test' already exists (use --replace)" in result.output
        result = runner.invoke(args=["import-process", "--replace", str(exported)])
        assert result.exit_code == 0, result.output

        broken = tmp_path / "broken.yaml"
        broken.write_text(SMALL.replace("non: contradicts", "non: agree"), encoding="utf-8")
        result = runner.invoke(args=["import-process", "--replace", str(broken)])
        assert result.exit_code == 1
        line = line_of(SMALL, "non: contradicts")
        assert (
            f"line {line}: unknown stance 'agree' (expected supports, nuances or contradicts)"
            in result.output
        )

        result = runner.invoke(args=["export-process", "nope", "-o", str(exported)])
        assert result.exit_code == 1 and "No process with slug 'nope'" in result.output


def test_the_documented_example_imports(app):
    doc = (ROOT / "docs" / "process-format.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    with app.app_context():
        process = load_process_text(example)
        finding = process.fields[0].findings[0]
        assert finding.question is process.fields[0].questions[0]
        assert finding.conditions[0].text.endswith("[^1].")
        assert len(process.fields[0].expert_inputs[0].stances) == 2
        assert process.fields[1].illustrative


def test_unclosed_quote_says_where_it_began(app):
    text = 'slug: a\ntitle: A\nfields:\n  - title: "Premier champ\n  - title: Second\n'
    with app.app_context():
        error = refused(text)
    assert str(error) == (
        "line 6: YAML syntax error: found unexpected end of stream "
        "(while scanning a quoted scalar that starts on line 4)"
    )


def test_a_process_authored_on_screen_round_trips(any_db_app):
    """Whatever the authoring screens accept, the file carries back unchanged."""
    with any_db_app.app_context():
        process = authoring.create_process(
            "orga@example.org",
            title="  Un   processus  ",
            slug="ecran",
            language="en",
            subtitle="Sous-titre\nsur deux lignes  ",
            introduction="Texte avec espaces en fin de ligne   \n\n    du code indenté\n",
            groups="Élus\nUsagers",
            consensus_labels={"full": "Oui !", "block": ""},
            threshold_validated="60",
            threshold_rework="60",
        )
        authoring.add_territory(process, "Zone « A »")
        grid.set_axes(process, "Thème", ["Santé", "Emploi"], "Politique", ["Région"])
        one = authoring.create_item("field", process, "me", title="Champ", illustrative="on")
        two = authoring.create_item("field", process, "me", title="Autre", description="- a\n- b")
        question = authoring.create_item("question", one, "me", text="Q : « oui » ?")
        hypothesis = authoring.create_item("hypothesis", question, "me", text="#1 d’abord")
        grid.tag_items(process, [("hypothesis", hypothesis.id, "Santé", "Région")])
        authoring.create_item("hypothesis", question, "me", text="yes")
        expert = authoring.create_item(
            "expert_input", two, "me", author="X", role="institution", text="*t*"
        )
        authoring.set_stances(expert, {hypothesis.id: "nuances"})
        # A finding of the second field answering a question of the first one.
        finding = authoring.create_item("finding", two, "me", text="F[^1]", question_id=question.id)
        authoring.create_item("recommendation", finding, "me", text="R: 1")
        authoring.create_item("note", finding, "me", text="N\n\n1. un\n2. deux")
        authoring.create_item("implementation_condition", finding, "me", text="C[^2]")
        db.session.expire_all()
        process = db.session.get(Process, process.id)

        first_dump, first_tree = dump_process(process), tree(process)
        again = load_process_text(first_dump, replace=True)
        db.session.expire_all()
        assert dump_process(again) == first_dump
        assert tree(again) == first_tree
