"""One verdict everywhere (issue 20): workshops in three territories and a general assembly,
every vote method, known ballots; every surface (consolidation page, open data JSON and CSV,
public page, Synthèse, Actes) checked against figures computed HERE from the rules of
docs/vote-methods.md — not from the code under test."""

from __future__ import annotations

import csv
import io
import json
import re
from fractions import Fraction
from pathlib import Path

import docx
from consolidation_data import build_tree, log_in, make_organizer

from deliberation.documents.proceedings import build_proceedings
from deliberation.documents.synthesis import build_synthesis
from deliberation.extensions import db
from deliberation.models import ActionPath
from deliberation.services.demo.demo_sessions import Vote, record_session
from deliberation.services.publishing import opendata

# The process thresholds (the defaults): validated from 70 %, rework from 50 %, blocks under 5 %.
VALIDATED, REWORK, BLOCK = 70, 50, 5
GRADES = ("excellent", "very_good", "good", "fair", "poor", "reject")
GRADES_FR = {
    "excellent": "Excellent",
    "very_good": "Très bien",
    "good": "Bien",
    "fair": "Assez bien",
    "poor": "Passable",
    "reject": "À rejeter",
}
NBSP = "\u00a0"


# -- the documented rules, computed by the test ------------------------------------------


def truncated(part: int, whole: int) -> float:
    """Percentages are truncated to one decimal, never rounded up."""
    return (part * 1000 // whole) / 10


def pct(part: int, whole: int) -> str:
    """As a French sentence prints a share: « 12,5 % », « 75 % »."""
    value = truncated(part, whole)
    text = f"{value:.0f}" if value.is_integer() else f"{value:.1f}".replace(".", ",")
    return f"{text}{NBSP}%"


def whole(n: int) -> str:
    return f"{n}{NBSP}%"


def consensus_verdict(counts: dict[str, int]) -> tuple[str, str]:
    """Consensus scale: support = fully agree + agree with reservations, of ballots cast;
    validated from 70 % with blocks strictly under 5 %, else to rework from 50 %, else
    rejected. Returns (outcome, reason in French)."""
    ballots = sum(counts.values())
    supporters = counts.get("full", 0) + counts.get("reservations", 0)
    blocks = counts.get("block", 0)
    support, block_share = Fraction(supporters, ballots), Fraction(blocks, ballots)
    head = f"{pct(supporters, ballots)} de soutien, {pct(blocks, ballots)} de blocages : "
    if support >= Fraction(VALIDATED, 100) and block_share < Fraction(BLOCK, 100):
        return "validated", head + (
            f"soutien d’au moins {whole(VALIDATED)} et blocages sous {whole(BLOCK)} → validé"
        )
    if support >= Fraction(VALIDATED, 100):
        return "rework", head + f"au-delà du seuil de blocage de {whole(BLOCK)} → à retravailler"
    if support >= Fraction(REWORK, 100):
        return "rework", head + (
            f"soutien sous le seuil de validation de {whole(VALIDATED)}, d’au moins "
            f"{whole(REWORK)} → à retravailler"
        )
    return "rejected", head + f"soutien sous {whole(REWORK)} → rejeté"


def yes_no_verdict(yes: int, no: int, abstain: int) -> tuple[str, str]:
    """Yes / no: the share of yes among yes + no; abstentions apart, of ballots cast."""
    expressed = yes + no
    head = f"{pct(yes, expressed)} de oui sur {expressed} votes exprimés (oui + non) : "
    share = Fraction(yes, expressed)
    if share >= Fraction(VALIDATED, 100):
        outcome, text = "validated", head + f"au moins {whole(VALIDATED)} → validé"
    elif share >= Fraction(REWORK, 100):
        outcome, text = (
            "rework",
            head
            + (
                f"sous le seuil de validation de {whole(VALIDATED)}, au moins {whole(REWORK)} → "
                "à retravailler"
            ),
        )
    else:
        outcome, text = "rejected", head + f"sous {whole(REWORK)} → rejeté"
    if abstain:
        cast = yes + no + abstain
        text += f" ; abstentions à part : {abstain} ({pct(abstain, cast)} des bulletins)"
    return outcome, text


def majority_grade(grades: list[str]) -> tuple[str, str]:
    """The lower median grade, with « + » when more grades are above it than below, « − »
    the other way round."""
    ordered = sorted(grades, key=GRADES.index)  # best first
    median = ordered[(len(ordered) - 1) // 2 + (1 if len(ordered) % 2 == 0 else 0)]
    better = sum(1 for g in grades if GRADES.index(g) < GRADES.index(median))
    worse = sum(1 for g in grades if GRADES.index(g) > GRADES.index(median))
    return median, "+" if better > worse else "−" if worse > better else ""


def grade_verdict(grades: list[str]) -> tuple[str, str, str]:
    """(outcome, grade in words, reason): validated from « bien », rejected at « à rejeter »."""
    grade, sign = majority_grade(grades)
    words = GRADES_FR[grade] + (f" {sign}" if sign else "")
    if GRADES.index(grade) <= GRADES.index("good"):
        outcome, label = "validated", "validé"
    elif grade == "reject":
        outcome, label = "rejected", "rejeté"
    else:
        outcome, label = "rework", "à retravailler"
    return outcome, words, f"mention majoritaire : {words}, seuil : Bien → {label}"


LABELS = {"validated": "Validé", "rework": "À retravailler", "rejected": "Rejeté"}


# -- the ballots ----------------------------------------------------------------------------


def answers(group: str, **counts: int) -> list[tuple[str, dict]]:
    return [(group, {"answer": a}) for a, n in counts.items() for _ in range(n)]


def grades(*ballots: str) -> list[tuple[str, dict]]:
    return [("", {"grades": {"item": grade}}) for grade in ballots]


PATHS = ("Logement d’abord", "Formation qualifiante", "Mobilité partagée")
OPTIONS = [
    {"key": "o1", "label": "Accueil de jour"},
    {"key": "o2", "label": "Permanence mobile"},
    {"key": "o3", "label": "Guichet unique"},
]
RANKED = [
    {"key": "r1", "label": "Alpha"},
    {"key": "r2", "label": "Bêta"},
    {"key": "r3", "label": "Gamma"},
]

# rec1, consensus, per territory and per group (group → answer → count).
REC1 = {
    "Namur": {"service_user": {"full": 3}, "social_worker": {"full": 3, "mixed": 1, "block": 1}},
    "Liège": {"service_user": {"full": 4, "reservations": 1},
              "social_worker": {"full": 4, "reservations": 1}},
    # At least 3 per group in each territory: a secret poll keeps its small groups folded
    # into « Autre » once closed (docs/security.md), so they could not add up across territories.
    "Mons": {"service_user": {"full": 1, "disagree": 2}, "social_worker": {"disagree": 3}},
}  # fmt: skip
REC1_ASSEMBLY = {"full": 2, "disagree": 5}
# rec2, yes / no / abstain: (yes, no, abstain).
REC2 = {"Namur": (5, 1, 2), "Liège": (2, 2, 0), "Mons": (1, 0, 1)}
REC2_ASSEMBLY = (3, 3, 1)
# hyp1, majority judgment of one text.
HYP1 = {"Namur": ["good", "good", "fair"], "Liège": ["very_good", "fair", "fair"],
        "Mons": ["excellent"]}  # fmt: skip
HYP1_ASSEMBLY = ["fair", "fair", "fair", "good"]
# finding1, dots over three action paths; Mons closes its vote with no ballot.
DOTS = {
    "Namur": [{"ap1": 2, "ap2": 1}, {"ap1": 1, "ap3": 2}, {"ap2": 3}],
    "Liège": [{"ap3": 3}, {"ap1": 1, "ap3": 1}],
    "Mons": [],
}
# finding2, majority judgment of three options (o1 and o2 graded alike: a tie).
MJ3 = {
    "Namur": [("good", "good", "poor"), ("very_good", "very_good", "fair"),
              ("fair", "fair", "reject")],
    "Liège": [("good", "good", "fair"), ("excellent", "excellent", "poor"),
              ("poor", "poor", "poor")],
}  # fmt: skip
# rec3, ranking (Borda).
RANKING = {"Namur": [["r1", "r2", "r3"], ["r2", "r1", "r3"]], "Liège": [["r3", "r1", "r2"]]}


def record_everything(tree) -> None:
    """Every territory's workshop, then the assembly. The dot vote is on finding 1's action
    paths (renamed, and a third added), so the options are the paths' own names."""
    names = {t.name: t for t in tree.territories}
    paths = tree.action_paths
    paths[0].text, paths[1].text = PATHS[0], PATHS[1]
    paths.append(ActionPath(finding=tree.findings[0], position=2, text=PATHS[2]))
    db.session.add(paths[2])
    db.session.commit()
    keys = {f"ap{n}": f"ap{path.id}" for n, path in enumerate(paths, start=1)}
    rec1, rec2, rec3 = tree.recommendations
    hyp1 = tree.hypotheses[0]
    finding1, finding2, _finding3 = tree.findings
    for name, territory in names.items():
        votes = [
            Vote("recommendation", rec1.id,
                 [b for group, counts in REC1[name].items() for b in answers(group, **counts)]),
            Vote("recommendation", rec2.id,
                 answers("", yes=REC2[name][0], no=REC2[name][1], abstain=REC2[name][2]),
                 method="yes_no"),
            Vote("hypothesis", hyp1.id, grades(*HYP1[name]), method="majority_judgment"),
            Vote("action_paths", finding1.id,
                 [("", {"dots": {keys[k]: n for k, n in d.items()}}) for d in DOTS[name]],
                 method="dot"),
        ]  # fmt: skip
        if name in MJ3:
            ballots = [
                ("", {"grades": dict(zip(("o1", "o2", "o3"), b, strict=True))}) for b in MJ3[name]
            ]
            votes.append(
                Vote("finding", finding2.id, ballots, method="majority_judgment", options=OPTIONS)
            )
        if name in RANKING:
            ballots = [("", {"ranking": order}) for order in RANKING[name]]
            votes.append(Vote("recommendation", rec3.id, ballots, method="ranking", options=RANKED))
        record_session(tree.process, f"Atelier de {name}", votes, territory=territory)
    record_session(
        tree.process,
        "Assemblée générale",
        [
            Vote("recommendation", rec1.id, answers("", **REC1_ASSEMBLY)),
            Vote("recommendation", rec2.id,
                 answers("", yes=REC2_ASSEMBLY[0], no=REC2_ASSEMBLY[1], abstain=REC2_ASSEMBLY[2]),
                 method="yes_no"),
            Vote("hypothesis", hyp1.id, grades(*HYP1_ASSEMBLY), method="majority_judgment"),
        ],
        session_kind="assembly",
    )  # fmt: skip


def added(*dicts: dict[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in dicts:
        for key, n in counts.items():
            total[key] = total.get(key, 0) + n
    return total


def section(html: str, item_type: str, item_id: int) -> str:
    match = re.search(
        rf'<section class="item-consolidation" id="{item_type}-{item_id}".*?</section>', html, re.S
    )
    assert match, f"no section for {item_type} {item_id}"
    return match.group(0)


def summary_row(html: str, item_type: str, item_id: int) -> str:
    match = re.search(
        rf'<tr>\s*<th scope="row"><a href="#{item_type}-{item_id}">.*?</tr>', html, re.S
    )
    assert match, f"no summary row for {item_type} {item_id}"
    return match.group(0)


def territory_row(html: str, name: str) -> str:
    match = re.search(rf'<th scope="row">{name}\s.*?</tr>', html, re.S)
    assert match, f"no row for {name}"
    return match.group(0)


def outcome_paragraphs(document) -> dict[str, str]:
    """Outcome lines → their style (the verdict's colour)."""
    return {p.text: p.style.name for p in document.paragraphs if p.style.name.startswith("Outcome")}


def test_every_surface_says_the_verdicts_the_rules_give(any_db_app, tmp_path: Path):
    app, client = any_db_app, any_db_app.test_client()
    # Territories listed out of alphabetical order: the process's order must be kept.
    with app.app_context():
        tree = build_tree(slug="verdicts", territories=("Namur", "Liège", "Mons"))
        tree.process.language = "fr"
        db.session.commit()
        record_everything(tree)
        organizer = make_organizer(tree.process)
        opendata.set_synthesis_published(tree.process, True)
        rec1, rec2, rec3 = (r.id for r in tree.recommendations)
        hyp1 = tree.hypotheses[0].id
        finding1, finding2 = tree.findings[0].id, tree.findings[1].id
        process = tree.process
        synthesis = docx.Document(io.BytesIO(_saved(build_synthesis(process), tmp_path, "s")))
        actes = docx.Document(io.BytesIO(_saved(build_proceedings(process), tmp_path, "a")))
        data = json.loads(opendata.as_json(process))
        rows = list(csv.DictReader(io.StringIO(opendata.as_csv(process))))
        organizer_id = organizer.id

    # -- figures, from the rules ----------------------------------------------------------
    rec1_by_territory = {name: added(*groups.values()) for name, groups in REC1.items()}
    rec1_workshops = added(*rec1_by_territory.values())
    assert consensus_verdict(rec1_by_territory["Namur"]) == (
        "rework",
        f"75{NBSP}% de soutien, 12,5{NBSP}% de blocages : au-delà du seuil de blocage de "
        f"5{NBSP}% → à retravailler",
    )  # the issue's own example
    rec1_overall = consensus_verdict(rec1_workshops)
    assert rec1_overall[0] == "validated"  # 17 of 24 supporters, 1 block of 24 (4.1 %)
    rec1_final = consensus_verdict(REC1_ASSEMBLY)
    assert rec1_final[0] == "rejected"
    social_workers = added(*(groups["social_worker"] for groups in REC1.values()))
    social_verdict = consensus_verdict(social_workers)
    assert social_verdict[0] == "rework"  # 8 of 13, 1 block: 7.6 %

    yes, no, abstain = (sum(v[i] for v in REC2.values()) for i in range(3))
    rec2_overall = yes_no_verdict(yes, no, abstain)
    rec2_final = yes_no_verdict(*REC2_ASSEMBLY)
    assert (rec2_overall[0], rec2_final[0]) == ("validated", "rework")

    hyp1_overall = grade_verdict([g for grades_ in HYP1.values() for g in grades_])
    hyp1_final = grade_verdict(HYP1_ASSEMBLY)
    assert hyp1_overall[:2] == ("validated", "Bien −")
    assert hyp1_final[:2] == ("rework", "Assez bien +")

    dots = added(*(d for ballots in DOTS.values() for d in ballots))
    assert dots == {"ap1": 4, "ap2": 4, "ap3": 6}  # Mobilité first, then a tie

    # -- consolidation page (French) ------------------------------------------------------
    log_in(client, organizer_id)
    client.post("/lang/fr")
    html = client.get("/organize/verdicts/consolidation").get_data(as_text=True)

    rec1_html = section(html, "recommendation", rec1)
    positions = [rec1_html.index(f"Atelier de {name}") for name in ("Namur", "Liège", "Mons")]
    assert positions == sorted(positions), "territories in the process's order"
    for name, counts in rec1_by_territory.items():
        outcome, reason = consensus_verdict(counts)
        row = territory_row(rec1_html, name)
        assert f"outcome-{outcome}" in row and reason in row
    assert rec1_overall[1] in rec1_html  # the workshops' figure…
    final = re.search(r'<p class="final-outcome">.*?</p>', rec1_html, re.S).group(0)
    assert "outcome-rejected" in final and rec1_final[1] in final  # …and the assembly's
    row = summary_row(html, "recommendation", rec1)
    assert "outcome-validated" in row and "outcome-rejected" in row
    # Per group on the consolidated vote: its outcome and its block share.
    overall = re.search(r'<tr class="overall">.*?</tr>', rec1_html, re.S).group(0)
    social = re.search(r"<li>Travailleur social[^<]*\(13\).*?</li>", overall, re.S).group(0)
    assert "outcome-rework" in social
    assert f"oppositions fermes {truncated(1, 13):.1f}&nbsp;%".replace(".", ",") in social

    rec2_html = section(html, "recommendation", rec2)
    assert rec2_overall[1] in rec2_html and rec2_final[1] in rec2_html

    # Ranking (Borda): n − 1 points for a first place … 0 for the last, options by name.
    points = {key: 0 for key in ("r1", "r2", "r3")}
    for order in (o for orders in RANKING.values() for o in orders):
        for place, key in enumerate(order):
            points[key] += len(order) - 1 - place
    assert points == {"r1": 4, "r2": 3, "r3": 2}
    ranking_html = section(html, "recommendation", rec3)
    overall = re.search(r'<tr class="overall">.*?</tr>', ranking_html, re.S).group(0)
    ranks = re.findall(r'<li value="(\d)"><span class="rank">\d\.</span> ([^\n]*?)\n', overall)
    assert ranks == [("1", "Alpha"), ("2", "Bêta"), ("3", "Gamma")]
    assert "— 4 (44,4&nbsp;%)" in overall  # 4 of the 9 points given

    hyp1_html = section(html, "hypothesis", hyp1)
    assert hyp1_overall[2] in hyp1_html and hyp1_final[2] in hyp1_html
    assert "Bien&nbsp;−" in hyp1_html  # the grade with its sign, in French
    assert "de soutien" not in hyp1_html  # no support share beside a majority grade

    dots_html = section(html, "action_paths", finding1)
    for name in ("Namur", "Liège"):  # they cast 3 and 2 ballots: never « no votes »
        assert "Sans vote exprimé" not in territory_row(dots_html, name)
    assert "[&#39;" not in dots_html and "ap3" not in re.sub(r'"[^"]*"', "", dots_html)
    overall = re.search(r'<tr class="overall">.*?</tr>', dots_html, re.S).group(0)
    ranks = re.findall(r'<li value="(\d)"><span class="rank">\d\.</span> ([^\n]*?)\n', overall)
    assert ranks == [("1", "Mobilité partagée"), ("2", "Logement d’abord"),
                     ("2", "Formation qualifiante")]  # fmt: skip
    assert "Sans vote exprimé" not in overall
    assert overall.count("ex æquo") == 2
    assert "clos sans bulletin : non compté" in territory_row(dots_html, "Mons")

    mj3_html = section(html, "finding", finding2)
    overall = re.search(r'<tr class="overall">.*?</tr>', mj3_html, re.S).group(0)
    o1 = [b[0] for ballots in MJ3.values() for b in ballots]
    o3 = [b[2] for ballots in MJ3.values() for b in ballots]
    assert grade_verdict(o1)[:2] == ("validated", "Bien") and grade_verdict(o3)[0] == "rework"
    ranks = re.findall(r'<li value="(\d)"><span class="rank">\d\.</span> ([^\n]*?)\n', overall)
    assert ranks == [("1", "Accueil de jour"), ("1", "Permanence mobile"), ("3", "Guichet unique")]
    assert "Sans vote exprimé" not in mj3_html and "very_good" not in mj3_html

    # -- open data --------------------------------------------------------------------------
    items = {(i["item_type"], i["item_id"]): i for i in data["items"]}
    for key, (outcome, reason) in {
        ("recommendation", rec1): rec1_final,
        ("recommendation", rec2): rec2_final,
        ("hypothesis", hyp1): hyp1_final[::2],
    }.items():
        assert (items[key]["where"], items[key]["outcome"], items[key]["reason"]) == (
            "assembly",
            outcome,
            reason,
        )
        assert items[key]["outcome_label"] == LABELS[outcome]
    polls = [p for p in data["polls"] if p["item_type"] == "recommendation"]
    namur = next(p for p in polls if p["session"] == "Atelier de Namur" and p["item_id"] == rec1)
    assert namur["reason"] == consensus_verdict(rec1_by_territory["Namur"])[1]
    assert namur["item_outcome"] == "rejected"
    csv_rec1 = {
        row["item_outcome"]
        for row in rows
        if (row["item_type"], row["item_id"]) == ("recommendation", str(rec1))
    }
    assert csv_rec1 == {"rejected"}
    assembly_rows = [row for row in rows if row["session"] == "Assemblée générale"]
    assert any(row["reason"] == rec1_final[1] for row in assembly_rows)

    # -- public page -------------------------------------------------------------------------
    public = client.get("/p/verdicts").get_data(as_text=True)
    rec1_line = f"Rejeté en assemblée générale, 7 votes — {rec1_final[1]}"
    rec2_line = f"À retravailler en assemblée générale, 7 votes — {rec2_final[1]}"
    # Each verdict its own colour (class), icon and word.
    icon = '<span class="outcome-icon" aria-hidden="true">'
    assert f'<p class="outcome outcome-rejected">{icon}✗</span> {rec1_line}</p>' in public
    assert f'<p class="outcome outcome-rework">{icon}↻</span> {rec2_line}</p>' in public

    # -- Synthèse and Actes --------------------------------------------------------------------
    lines = outcome_paragraphs(synthesis)
    assert lines[rec1_line] == "Outcome Rejected"
    assert lines[rec2_line] == "Outcome Rework"
    assert (
        "Ordre de priorité (Vote par gommettes, en ateliers (2), 5 votes) : 1. Mobilité "
        "partagée; 2. Logement d’abord; 2. Formation qualifiante" in lines
    )  # Mons closed its dot vote with no ballot: two workshops voted
    acts = outcome_paragraphs(actes)
    styles = {"validated": "Outcome Validated", "rework": "Outcome Rework"}
    styles["rejected"] = "Outcome Rejected"
    for counts in rec1_by_territory.values():
        outcome, reason = consensus_verdict(counts)
        line = f"{LABELS[outcome]}, {sum(counts.values())} votes — {reason}"
        assert acts[line] == styles[outcome]
    hyp1_namur = grade_verdict(HYP1["Namur"])
    assert f"{LABELS[hyp1_namur[0]]}, 3 votes — {hyp1_namur[2]}" in acts
    # The majority grade with its sign in the Actes' table, no support share beside it.
    cells = {cell.text for table in actes.tables for row in table.rows for cell in row.cells}
    assert hyp1_namur[1] == "Bien −" and "Bien −" in cells
    # Abstentions beside yes / no state their own base (Namur: 2 of 8 ballots cast).
    assert f"{truncated(2, 8):.1f}".replace(".", ",") + "\u202f% des bulletins" in cells
    assert f"{LABELS[hyp1_final[0]]} en assemblée générale, 4 votes — {hyp1_final[2]}" in {
        cell.text for table in actes.tables for row in table.rows for cell in row.cells
    }


def _saved(document, tmp_path: Path, name: str) -> bytes:
    path = tmp_path / f"{name}.docx"
    document.save(str(path))
    return path.read_bytes()
