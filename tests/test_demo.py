"""The demo Assises: its content against the source text, and ``load-demo`` idempotence."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from deliberation.extensions import db
from deliberation.models import EXPERT_ROLES, ExpertInvitation, Organizer, Process
from deliberation.services.authoring.process_file import dump_process
from deliberation.services.authoring.process_format import load_yaml
from deliberation.services.consolidation import grid
from deliberation.services.demo.demo import (
    DEMO_FILE,
    DEMO_LOGIN_FILE,
    DEMO_SLUG,
    ensure_demo,
    read_login,
)
from deliberation.services.people.accounts import authenticate, create_or_update_organizer
from deliberation.services.people.passwords import password_problem
from tests.conftest import ROOT, LiveServer

# "Assises de l'insertion : les documents finaux" (Wallonia, 2012-2015), the text the demo
# is taken from, kept with the tests so that a clone anywhere checks against it.
SOURCE = ROOT / "tests" / "data" / "assises_documents_finaux.txt"
NBSP = "\u00a0"

FIELD_TITLES = [
    "Dispositifs d’accompagnement",
    "Processus d’accompagnement",
    "Les personnes accompagnées",
    "Accompagnement vers le marché de l’emploi",
    "Accompagnement et droit au travail",
]
# The six findings as published (numbered across the document: 1-2, 3-4, 5-6).
FINDINGS = [
    "Dans le cadre des politiques d’activation, l’accompagnement individualisé peut être un "
    f"dispositif adéquat pour les demandeurs d’emploi,{NBSP}car il permet d’assurer une "
    "continuité dans le processus de leur prise en charge.",
    "La diversité organisationnelle et pédagogique du secteur de l’ISP est un atout que la "
    "concurrence entre les opérateurs met en péril.",
    "Les écarts entre les objectifs et obligations formels assignés à l’institution, les valeurs "
    "des travailleurs et les moyens disponibles influencent négativement les conditions de "
    "travail des accompagnateurs et rendent difficile le travail d’accompagnement.",
    "Le processus d’accompagnement est lourd et complexe parce que les personnes visées par "
    "l’accompagnement sont de plus en plus éloignées de l’emploi.",
    "L’accompagnement obligatoire vise à garantir un traitement “égalitaire″ des individus. "
    "Mais, le manque de perspective d’emploi, les contraintes administratives et réglementaires "
    "et les risques de sanctions financières génèrent fréquemment de l’agressivité ou de la "
    "passivité chez les personnes accompagnées. De plus, la généralisation de l’accompagnement "
    "amène un nouveau public peu réceptif au départ à un processus d’insertion.",
    "L’accompagnement est un levier qui vise l’insertion professionnelle de tous. Il doit "
    "également favoriser l’estime de soi et la qualification sociale de la personne "
    "accompagnée.",
]
# Recommendations, action paths and conditions per finding, as counted in the source.
SHAPE = [(1, 3, 1), (1, 2, 4), (2, 1, 5), (2, 3, 3), (5, 3, 2), (1, 4, 0)]


@pytest.fixture
def demo(app):
    with app.app_context():
        ensure_demo("organisateur@example.org")
        yield db.session.scalar(select(Process).filter_by(slug=DEMO_SLUG))


def numbered_findings(process: Process) -> list:
    return [finding for field_ in process.fields for finding in field_.findings]


def test_demo_frame(demo):
    assert demo.title == "Assises de l’insertion"
    assert demo.language == "fr"
    assert demo.subtitle
    assert [f.title for f in demo.fields] == FIELD_TITLES
    assert [f.illustrative for f in demo.fields] == [False, False, False, True, True]
    assert sorted(t.name for t in demo.territories) == [
        "Bassin de Liège",
        "Bassin de Namur",
        "Bassin du Hainaut",
    ]
    assert demo.groups[0] == "service_user"
    assert "EFT-OISP, Mires, Régies des quartiers, Forem, CPAS, CSEF…" in demo.steering_committee


def test_introduction_note_with_its_two_footnotes(demo):
    intro = demo.introduction
    assert intro.startswith("Les politiques de Formation et d’Insertion en Wallonie")
    assert intro.count("[^1]") == 2 and intro.count("[^2]") == 2
    assert "[^1]: Pour prendre connaissance des travaux" in intro
    assert "[^2]: Extrait du décret sur le développement durable" in intro
    assert "\n- les dispositifs d’accompagnement\n" in intro


def test_findings_one_to_six_verbatim(demo):
    findings = numbered_findings(demo)
    assert [f.text for f in findings] == FINDINGS
    assert [len(f.findings) for f in demo.fields] == [2, 2, 2, 0, 0]
    shape = [(len(f.recommendations), len(f.action_paths), len(f.conditions)) for f in findings]
    assert shape == SHAPE
    assert findings[0].recommendations[0].text == (
        "Personnaliser et garantir un dispositif équitable dans la durée et l’assortir d’une "
        "dimension collective."
    )
    assert findings[2].action_paths[0].text.startswith("Etablir une Charte et un Conseil")


def test_finding_two_footnote_lists_eleven_items(demo):
    finding = numbered_findings(demo)[1]
    assert [n.position for n in finding.notes] == [0]
    note = finding.notes[0].text
    assert note.startswith(f"Renforcer la mise en réseau multilatérale des opérateurs par{NBSP}:")
    items = [line for line in note.splitlines() if line.startswith("- ")]
    assert len(items) == 11
    assert items[-1].endswith(f"projets de type «{NBSP}transition-insertion{NBSP}».")
    marked = [c.text for c in finding.conditions if "[^1]" in c.text]
    assert marked == ["Renforcer la mise en réseau multilatérale des opérateurs [^1]."]


def test_every_synthesis_text_is_in_the_source():
    source = SOURCE.read_text(encoding="utf-8")
    data = load_yaml(DEMO_FILE.read_text(encoding="utf-8"))
    texts: list[str] = []
    for field_ in data["fields"][:3]:
        for finding in field_["findings"]:
            texts.append(finding["text"])
            for key in ("recommendations", "action_paths", "conditions"):
                # An item placed on the (illustrative) second grid is {text, grid_row, grid_col}.
                items = [t["text"] if isinstance(t, dict) else t for t in finding.get(key, [])]
                texts += [t.replace("[^1]", "[1]") for t in items]
            for note in finding.get("notes", []):
                texts += [re.sub(r"^- ", "", line) for line in note.splitlines() if line]
    # Markdown footnotes ([^1] and "[^1]: …") were "[1]" in the source.
    intro = re.sub(r"\[\^(\d)\]:", r"[\1]", data["introduction"])
    intro = re.sub(r"\[\^(\d)\]", r"[\1]", intro)
    texts += [re.sub(r"^- ", "", line) for line in intro.splitlines() if line]
    assert len(texts) > 60
    missing = [text for text in texts if text not in source]
    assert missing == []


def test_questions_hypotheses_and_expert_inputs(demo):
    roles: set[str] = set()
    for field_ in demo.fields:
        assert 2 <= len(field_.questions) <= 3, field_.title
        for question in field_.questions:
            assert question.illustrative
            assert 2 <= len(question.hypotheses) <= 4, question.text
        assert field_.expert_inputs, field_.title
        for expert_input in field_.expert_inputs:
            assert expert_input.illustrative
            assert expert_input.role in EXPERT_ROLES
            assert expert_input.text and expert_input.stances
            roles.add(expert_input.role)
            own = {h.id for q in field_.questions for h in q.hypotheses}
            assert {s.hypothesis_id for s in expert_input.stances} <= own
    assert {"academic", "field_worker", "service_user"} <= roles


def test_second_grid_shows_on_first_run(demo):
    table = grid.cross_table(demo)
    assert table.grid.rows.values == (
        "Participation des personnes",
        "Coordination des acteurs",
        "Moyens et conditions de travail",
    )
    assert table.grid.cols.values == ("Emploi", "Formation", "Action sociale")
    # A handful of items of fields 1 to 3, every one fully on the grid, spread over the cells.
    placed = [item for items in table.cells.values() for item in items]
    assert len(placed) >= 10
    assert not table.partly_tagged and not table.off_grid
    assert sum(1 for items in table.cells.values() if items) >= 5
    field_titles = {f.title for f in demo.fields[:3]}
    assert {item.field_title for item in placed} <= field_titles


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def shown_password(lines: list[str]) -> str | None:
    for line in lines:
        name, _sep, value = line.strip().partition(":")
        if name == "password" and not value.strip().startswith("not shown"):
            return value.strip()
    return None


def test_ensure_demo_is_idempotent(app, tmp_path):
    kept = tmp_path / "demo-login.txt"
    with app.app_context():
        first = ensure_demo("organisateur@example.org", kept)
        dump = dump_process(db.session.scalar(select(Process).filter_by(slug=DEMO_SLUG)))
        counts = table_counts()
        assert counts["process"] == 1 and counts["organizer"] == 1
        assert counts["text_version"] > 100  # one "imported" version per text item
        assert any(line.strip() == "e-mail:   organisateur@example.org" for line in first)
        password = shown_password(first)
        assert password and authenticate("organisateur@example.org", password) is not None
        second = ensure_demo("organisateur@example.org", kept)
        assert table_counts() == counts
        assert dump_process(db.session.scalar(select(Process).filter_by(slug=DEMO_SLUG))) == dump
        assert any("already there" in line for line in second)
        assert shown_password(second) == password  # re-running keeps it, and says where
        assert any(str(kept) in line for line in second)


def test_demo_password_is_drawn_at_random_and_kept_private(app, tmp_path):
    """Each instance draws its own demo password, kept 0600 where the README says."""
    drawn = set()
    with app.app_context():
        for attempt in range(2):
            kept = tmp_path / f"instance-{attempt}" / DEMO_LOGIN_FILE
            lines = ensure_demo("organisateur@example.org", kept)
            password = shown_password(lines)
            assert read_login(kept) == ("organisateur@example.org", password)
            assert stat.S_IMODE(kept.stat().st_mode) == 0o600
            assert password_problem(password, "organisateur@example.org") is None
            drawn.add(password)
            db.session.execute(delete(Organizer))  # the next instance starts without one
            db.session.commit()
    assert len(drawn) == 2, "two instances drew the same demo password"


def test_a_database_made_afresh_gets_the_kept_password_back(app, tmp_path):
    kept = tmp_path / DEMO_LOGIN_FILE
    with app.app_context():
        password = shown_password(ensure_demo("organisateur@example.org", kept))
        db.session.execute(delete(Organizer))
        db.session.commit()
        again = ensure_demo("organisateur@example.org", kept)
        assert shown_password(again) == password
        assert authenticate("organisateur@example.org", password) is not None


def test_password_shown_only_while_unchanged(app, tmp_path):
    kept = tmp_path / DEMO_LOGIN_FILE
    with app.app_context():
        password = shown_password(ensure_demo("organisateur@example.org", kept))
        create_or_update_organizer("organisateur@example.org", "a-new-secret-123")
        lines = ensure_demo("organisateur@example.org", kept)
        assert shown_password(lines) is None
        assert not any(password in line for line in lines)
        assert any("changed" in line for line in lines)
        assert any("organisateur@example.org" in line for line in lines)


def test_no_demo_organiser_when_one_exists(app, tmp_path):
    kept = tmp_path / DEMO_LOGIN_FILE
    with app.app_context():
        create_or_update_organizer("someone@example.org", "their-own-password")
        lines = ensure_demo("organisateur@example.org", kept)
        assert db.session.scalar(select(func.count(Organizer.id))) == 1
        assert shown_password(lines) is None and not kept.exists()
        assert any("/login" in line for line in lines)


def test_load_demo_command_twice(app, runner):
    with app.app_context():
        first = runner.invoke(args=["load-demo"])
        assert first.exit_code == 0, first.output
        counts = table_counts()
        second = runner.invoke(args=["load-demo"])
        assert second.exit_code == 0, second.output
        assert table_counts() == counts
    assert "Loaded the demo process" in first.output
    assert "already there" in second.output
    assert "http://127.0.0.1:" in first.output and "/login" in first.output
    assert shown_password(first.output.splitlines()) == shown_password(second.output.splitlines())


def test_fresh_instance_migrates_and_loads_the_demo(tmp_path: Path):
    """What ``make run`` does: ``flask db upgrade`` then ``flask load-demo`` (twice here),
    on an instance folder of its own: the key and the demo login are made there, 0600."""
    server = LiveServer(tmp_path, env={"SECRET_KEY": ""})
    server.flask("db", "upgrade")
    first = server.flask("load-demo").stdout
    second = server.flask("load-demo").stdout
    assert "Loaded the demo process" in first and "already there" in second
    email, password = server.demo_login
    assert shown_password(first.splitlines()) == password == shown_password(second.splitlines())
    assert str(server.instance_path / DEMO_LOGIN_FILE) in first
    key_file = server.instance_path / "secret_key"
    for private in (key_file, server.instance_path / DEMO_LOGIN_FILE):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64


def test_no_password_is_written_in_the_repository():
    """The old public demo password and the old fallback key are nowhere in the code,
    the tests or the docs."""
    patterns = ["README.md", "Makefile", "app.py", "docs/**/*", "deliberation/**/*", "deploy/*"]
    patterns += ["templates/**/*", "static/js/*", "tests/**/*.py", "bench/**/*.py"]
    for path in {path for pattern in patterns for path in ROOT.glob(pattern)}:
        name = str(path.relative_to(ROOT))
        if path.is_file() and path.suffix in {".py", ".md", ".html", ".js", ".yaml", ".po", ""}:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "assises-" + "demo" not in text, name
            assert "dev-only-" + "change-me" not in text, name


def test_demo_publishes_the_handouts_of_fields_one_to_three_and_invites_an_expert(app, runner):
    with app.app_context():
        result = runner.invoke(args=["load-demo"])
        assert result.exit_code == 0, result.output
        process = db.session.scalar(select(Process).filter_by(slug=DEMO_SLUG))
        published = [f.handouts_published_at is not None for f in process.fields]
        assert published[:3] == [True, True, True] and not any(published[3:])
        directory = Path(app.config["EXPORTS_DIR"]) / str(process.id) / "handouts"
        built = sorted(p.name for p in directory.glob("*.docx"))
        assert len(built) == 7 and "introduction.docx" in built
        invitation = db.session.scalar(select(ExpertInvitation))
        assert invitation.state == "writing" and invitation.field_id == process.fields[0].id
        assert "accompagnement **continu**" in invitation.text
    link = re.search(r"/x/[\w-]+", result.output).group(0)
    client = app.test_client()
    assert "Dr Hélène Marchal" in client.get(link).get_data(as_text=True)
    page = client.get(f"/p/{DEMO_SLUG}/documents").get_data(as_text=True)
    assert page.count("-recommendations.docx") == 3 and "/register" in page
