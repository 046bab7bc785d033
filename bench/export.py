"""Export benchmark: the Actes and the Synthèse of a large synthetic process.

    python -m bench.export [--polls 200] [--repeat 3] [--keep DIR]

Builds, in a temporary SQLite database, a process of 5 fields, 60 findings, 300 hypotheses,
150 expert inputs, 40 sessions and 200 closed polls with counts per group, then times each
document (build + save) and prints JSON. Targets: Actes < 5 s, Synthèse < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert

SIZES = {
    "fields": 5,
    "findings": 60,
    "hypotheses": 300,
    "expert_inputs": 150,
    "sessions": 40,
    "polls": 200,
}
GROUPS = ["service_user", "social_worker", "employer", "public_official", "expert", ""]
LOREM = (
    "L’accompagnement des demandeurs d’emploi suppose du temps, des moyens et une relation "
    "de confiance entre la personne et son conseiller"
)


def _text(rng: random.Random, words: int = 25, markdown: bool = False) -> str:
    base = LOREM.split()
    text = " ".join(rng.choice(base) for _ in range(words)) + "."
    if markdown:
        text = (
            f"{text}\n\nCe qui aide :\n\n- **la continuité** de la relation ;\n- *le temps* pris."
        )
    return text


def _random_choice(rng: random.Random, method, option_keys: list[str], dots: int) -> dict:
    """A plausible ballot for ``method``, drawn from what the method says it accepts."""
    if method.answer_keys:
        return {"answer": rng.choice(method.answer_keys)}
    if method.grade_keys:  # never the worst grade: the options look worth grading
        return {"grades": {key: rng.choice(method.grade_keys[:-1]) for key in option_keys}}
    if method.uses_dots:
        return {"dots": {rng.choice(option_keys): 1}}
    return {"ranking": rng.sample(option_keys, len(option_keys))}


def populate(sizes: dict[str, int] | None = None, seed: int = 7):
    """Create the synthetic process in the current app's database; returns it."""
    from deliberation import methods
    from deliberation.extensions import db
    from deliberation.models import (
        ActionPath,
        AgendaItem,
        ExpertInput,
        ExpertStance,
        Field,
        Finding,
        Hypothesis,
        ImplementationCondition,
        LiveSession,
        Note,
        Participant,
        Poll,
        PollCount,
        Process,
        Question,
        Recommendation,
        Territory,
    )

    sizes = {**SIZES, **(sizes or {})}
    rng = random.Random(seed)
    process = Process(
        slug="bench",
        title="Assises (benchmark)",
        language="fr",
        introduction=_text(rng, 120, markdown=True) + "[^1]\n\n[^1]: Une note.",
    )
    db.session.add(process)
    territories = [Territory(name=f"Bassin {n}") for n in range(1, 5)]
    process.territories.extend(territories)
    fields = [Field(title=f"Champ {n}", position=n) for n in range(sizes["fields"])]
    process.fields.extend(fields)
    per_field = lambda total: max(1, total // sizes["fields"])  # noqa: E731
    hypotheses: list[list[Hypothesis]] = []
    findings: list[Finding] = []
    for field_ in fields:
        field_hyps: list[Hypothesis] = []
        for q in range(4):
            question = Question(text=_text(rng, 15) + " ?", position=q)
            field_.questions.append(question)
            for h in range(per_field(sizes["hypotheses"]) // 4):
                hypothesis = Hypothesis(text=_text(rng, 20), position=h)
                question.hypotheses.append(hypothesis)
                field_hyps.append(hypothesis)
        hypotheses.append(field_hyps)
        for e in range(per_field(sizes["expert_inputs"])):
            expert = ExpertInput(
                title=f"Éclairage {e}",
                author=f"Auteur {e}",
                role="academic",
                affiliation="Université (fictive)",
                position=e,
                text=_text(rng, 80, markdown=True),
                references="- Réf. 1",
            )
            field_.expert_inputs.append(expert)
            for hypothesis in rng.sample(field_hyps, 2):
                expert.stances.append(ExpertStance(hypothesis=hypothesis, stance="supports"))
        for f in range(per_field(sizes["findings"])):
            finding = Finding(text=_text(rng, 30), position=f)
            finding.recommendations.extend(
                Recommendation(text=_text(rng, 25), position=i) for i in range(2)
            )
            finding.action_paths.extend(
                ActionPath(text=_text(rng, 20), position=i) for i in range(3)
            )
            finding.conditions.extend(
                ImplementationCondition(
                    text=_text(rng, 20) + (" [^1]" if i == 0 else ""), position=i
                )
                for i in range(2)
            )
            finding.notes.append(Note(text="Précisions :\n\n- un ;\n- deux.", position=0))
            field_.findings.append(finding)
            findings.append(finding)
    db.session.commit()

    polls: list[Poll] = []
    polls_per_session = max(1, sizes["polls"] // sizes["sessions"])
    day = date(2014, 1, 6)
    for s in range(sizes["sessions"]):
        assembly = s == sizes["sessions"] - 1
        live = LiveSession(
            process=process,
            kind="assembly" if assembly else "workshop",
            title=f"Séance {s + 1}",
            field=fields[s % len(fields)],
            territory=territories[s % len(territories)],
            held_on=day + timedelta(days=7 * s),
            place="Salle communale",
            join_code=f"B{s:05d}"[:6],
        )
        db.session.add(live)
        for position in range(polls_per_session):
            finding = findings[(s * polls_per_session + position) % len(findings)]
            # Mostly the default method, then every other method in turn.
            mix = (methods.DEFAULT_METHOD, *methods.METHOD_KEYS)
            method = mix[position % len(mix)]
            item = AgendaItem(
                session=live,
                position=position,
                item_type="finding",
                item_id=finding.id,
                text=finding.text,
            )
            options = []
            if methods.method(method).uses_options:
                item.item_type = "free"
                options = [{"key": f"o{k}", "label": f"Piste {k}"} for k in range(4)]
            poll = Poll(
                session=live, agenda_item=item, method=method, state="closed", options=options
            )
            db.session.add(poll)
            polls.append(poll)
    db.session.commit()

    participants, counts = [], []
    for live_index in range(sizes["sessions"]):
        for g, group in enumerate(GROUPS):
            for n in range(6):
                participants.append(
                    {
                        "session_id": polls[live_index * polls_per_session].session_id,
                        "token_id": f"b{live_index}-{g}-{n}",
                        "group": group,
                    }
                )
    for poll in polls:
        for group in GROUPS:
            voters = rng.randint(3, 12)
            row = {"#ballots": voters}
            option_keys = [o["key"] for o in poll.options]
            for _ in range(voters):
                choice = _random_choice(rng, methods.method(poll.method), option_keys, poll.dots)
                for k, v in (
                    methods.method(poll.method)
                    .clean_choice(choice, option_keys, poll.dots)[1]
                    .items()
                ):
                    row[k] = row.get(k, 0) + v
            counts.extend(
                {"poll_id": poll.id, "group": group, "key": k, "count": v} for k, v in row.items()
            )
    db.session.execute(insert(Participant), participants)
    db.session.execute(insert(PollCount), counts)
    db.session.commit()
    return process


def machine() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=SIZES["polls"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="keep the documents here")
    args = parser.parse_args(argv)

    from deliberation import create_app
    from deliberation.documents.proceedings import build_proceedings
    from deliberation.documents.synthesis import build_synthesis
    from deliberation.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                "EXPORTS_DIR": str(out),
                "SOCKETIO_MESSAGE_QUEUE": None,
            }
        )
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            process = populate({"polls": args.polls})
            setup = time.perf_counter() - started
            timings: dict[str, list[float]] = {"proceedings": [], "synthesis": []}
            cpu: dict[str, list[float]] = {"proceedings": [], "synthesis": []}
            sizes: dict[str, int] = {}
            for _ in range(args.repeat):
                for kind, build in (
                    ("proceedings", build_proceedings),
                    ("synthesis", build_synthesis),
                ):
                    db.session.expire_all()  # every run reads the database afresh
                    begin, begin_cpu = time.perf_counter(), time.process_time()
                    document = build(db.session.get(type(process), process.id))
                    path = out / f"bench-{kind}.docx"
                    document.save(str(path))
                    timings[kind].append(time.perf_counter() - begin)
                    cpu[kind].append(time.process_time() - begin_cpu)
                    sizes[kind] = path.stat().st_size
            db.session.remove()
            db.engine.dispose()
    report = {
        "command": " ".join(
            ["python -m bench.export", *(argv if argv is not None else sys.argv[1:])]
        ),
        "sizes": {**SIZES, "polls": args.polls},
        "setup_seconds": round(setup, 2),
        "proceedings_seconds": {
            "best": round(min(timings["proceedings"]), 3),
            "worst": round(max(timings["proceedings"]), 3),
        },
        "synthesis_seconds": {
            "best": round(min(timings["synthesis"]), 3),
            "worst": round(max(timings["synthesis"]), 3),
        },
        # CPU time of this process: steadier than wall time on a shared machine.
        "cpu_seconds": {kind: round(min(values), 3) for kind, values in cpu.items()},
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "bytes": sizes,
        "targets": {"proceedings": 5.0, "synthesis": 1.0},
        "machine": machine(),
    }
    # Judged on the best run: the others mostly measure what else the machine is doing.
    report["within_targets"] = (
        report["proceedings_seconds"]["best"] < 5.0 and report["synthesis_seconds"]["best"] < 1.0
    )
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if report["within_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
