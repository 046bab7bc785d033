"""The projector is a slide (issue 20), in real headless Chromium: for each vote method and
each state — the join screen, an item, an open vote, results with groups, an amendment's
comparison — at the five projector sizes (1024×768 to 3840×2160), no element lies outside
the screen, nothing scrolls or is cut, and no text is smaller than a thirtieth of the
screen's height. Screenshots of every state and size are written to test-artifacts/projector
(git-ignored) for a person to look at; axe-core finds no WCAG violation in either theme.

One server, one browser, one page per state whose viewport is resized in a loop: the states
are written in the database before the server starts (the services, as a facilitator's
console would call them), so that each projector page opens on its state."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deliberation import create_app
from deliberation.extensions import db
from deliberation.models import ActionPath, Field, Finding, Hypothesis, Process, Question
from deliberation.models import Recommendation as RecommendationRow
from deliberation.services.live import amendments, ballots, sessions, voting
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, LiveServer
from tests.live_fixtures import ballot_id
from tests.test_accessibility import assert_clean, axe_violations

pytestmark = pytest.mark.timeout(300)

SIZES = [(1024, 768), (1280, 720), (1366, 768), (1920, 1080), (3840, 2160)]
SHOTS = ROOT / "test-artifacts" / "projector"

HYPOTHESIS = (
    "L’accompagnement doit partir des besoins exprimés par la personne elle-même, et non "
    "des catégories administratives des dispositifs qui la reçoivent."
)
RECOMMENDATION = (
    "Créer dans chaque bassin de vie un lieu unique d’accueil où la personne est orientée "
    "sans devoir raconter son parcours plusieurs fois."
)
FINDING = "Les dispositifs se sont empilés sans évaluation commune de leurs effets."
ACTION_PATHS = (
    "Évaluer les dispositifs existants avec les personnes accompagnées",
    "Former les conseillers à l’accueil des personnes éloignées de l’emploi",
    "Financer la mobilité vers les lieux de formation",
    "Ouvrir les comités d’accompagnement aux usagers",
)
AMENDED = (
    "L’accompagnement doit partir des besoins exprimés par la personne elle-même, et le "
    "parcours se construit avec elle, pas seulement selon les dispositifs qui la reçoivent."
)
# Three groups of three or four ballots: each shown (fewer than three would be merged).
GROUPS = ["service_user"] * 4 + ["social_worker"] * 4 + ["employer"] * 3
# One choice per participant above, per method (the groups differ: the divergence is said).
CONSENSUS = ["full", "full", "reservations", "full"] + ["mixed", "disagree", "reservations", "block"]
CONSENSUS += ["reservations", "full", "mixed"]
YES_NO = ["yes", "yes", "yes", "abstain", "no", "no", "yes", "abstain", "yes", "no", "yes"]
GRADES = ["excellent", "very_good", "good", "fair", "poor", "reject"]


def judgment(index: int) -> dict:
    # Each participant grades the four paths; groups lean differently.
    shift = 0 if index < 4 else (3 if index < 8 else 1)
    return {
        "grades": {
            f"o{n + 1}": GRADES[min(5, (n + shift + index % 2) % 6)] for n in range(4)
        }
    }


def dots(index: int) -> dict:
    if index < 4:
        return {"dots": {"o1": 2, "o2": 1}}
    if index < 8:
        return {"dots": {"o3": 2, "o4": 1}}
    return {"dots": {"o1": 1, "o3": 1, "o2": 1}}


def ranking(index: int) -> dict:
    orders = [["o1", "o2", "o3", "o4"], ["o3", "o4", "o1", "o2"], ["o2", "o1", "o4", "o3"]]
    return {"ranking": orders[0 if index < 4 else (1 if index < 8 else 2)]}


CHOICES = {
    "consensus": lambda i: {"answer": CONSENSUS[i]},
    "yes_no": lambda i: {"answer": YES_NO[i]},
    "majority_judgment": judgment,
    "dot": dots,
    "ranking": ranking,
}
# The item each method is voted on (action paths for the methods with options).
ITEM_OF = {
    "consensus": "hypothesis",
    "yes_no": "recommendation",
    "majority_judgment": "action_paths",
    "dot": "action_paths",
    "ranking": "action_paths",
}


def build_process() -> Process:
    process = Process(slug="assises-slide", title="Assises de l’insertion", language="fr")
    field = Field(title="Dispositifs d’accompagnement", position=0)
    process.fields.append(field)
    question = Question(text="Comment partir des besoins de la personne ?", position=0)
    field.questions.append(question)
    question.hypotheses.append(Hypothesis(text=HYPOTHESIS, position=0))
    finding = Finding(text=FINDING, position=0)
    field.findings.append(finding)
    finding.recommendations.append(RecommendationRow(text=RECOMMENDATION, position=0))
    for position, text in enumerate(ACTION_PATHS):
        finding.action_paths.append(ActionPath(text=text, position=position))
    db.session.add(process)
    db.session.commit()
    return process


def new_session(process: Process, title: str, item_type: str):
    session = sessions.create_session(process, "workshop", title, field_id=process.fields[0].id)
    finding = process.fields[0].findings[0]
    targets = {
        "hypothesis": process.fields[0].questions[0].hypotheses[0].id,
        "recommendation": finding.recommendations[0].id,
        "action_paths": finding.id,
    }
    item = sessions.add_agenda_item(session, item_type, targets[item_type])
    return session, item


def with_keys(choice: dict, poll) -> dict:
    """A choice written with o1, o2… in the poll's own option keys (the action paths')."""
    keys = {f"o{n}": option["key"] for n, option in enumerate(poll.options or [], start=1)}
    name, value = next(iter(choice.items()))
    if isinstance(value, dict):
        return {name: {keys.get(k, k): v for k, v in value.items()}}
    if isinstance(value, list):
        return {name: [keys.get(k, k) for k in value]}
    return choice


def vote_all(session, poll, method: str) -> None:
    people = [sessions.join(session.join_code, f"P{i}", g)[0] for i, g in enumerate(GROUPS)]
    for index, person in enumerate(people):
        choice = with_keys(CHOICES[method](index), poll)
        ballots.cast(person.id, poll.id, ballot_id(), choice, poll.round)


def prepare_states(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Every state to look at, each on its own session: state name → join code."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "live-test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "EXPORTS_DIR": str(tmp_path / "exports"),
        }
    )
    codes: dict[str, str] = {}
    with app.test_request_context():
        process = build_process()
        idle, _item = new_session(process, "Atelier de Liège — accueil", "hypothesis")
        codes["join"] = idle.join_code
        for item_type in ("hypothesis", "action_paths"):
            session, item = new_session(process, "Atelier de Namur", item_type)
            sessions.show_item(session, item)
            codes[f"item-{item_type}"] = session.join_code
        for method, item_type in ITEM_OF.items():
            session, item = new_session(process, "Atelier de Mons", item_type)
            poll = voting.open_poll(session, item, method, countdown_seconds=90)
            vote_all(session, poll, method)
            codes[f"open-{method}"] = session.join_code
            session, item = new_session(process, "Atelier de Charleroi", item_type)
            poll = voting.open_poll(session, item, method, secret=False)
            vote_all(session, poll, method)
            voting.close_poll(poll)
            voting.publish_poll(poll)
            codes[f"results-{method}"] = session.join_code
        # An amendment from the floor, compared word by word, then voted.
        for state in ("item", "results"):
            session, item = new_session(process, "Atelier de Tournai", "hypothesis")
            sessions.show_item(session, item)
            author = sessions.join(session.join_code, "Ana", "service_user")[0]
            proposal, _again = amendments.propose(
                author, "amendment", AMENDED, "hypothesis", item.item_id, ballot_id()
            )
            amended = amendments.accept_for_vote(proposal)
            sessions.show_item(session, amended)
            if state == "results":
                poll = voting.open_poll(session, amended, "consensus", secret=False)
                vote_all(session, poll, "consensus")
                voting.close_poll(poll)
                voting.publish_poll(poll)
            codes[f"amendment-{state}"] = session.join_code
        db.session.remove()
        db.engine.dispose()
    return codes


# What the slide must never do, measured in the page: an element outside the viewport, a
# scrollbar, a box that cuts its content, text under a thirtieth of the height.
MEASURE = """() => {
  const width = innerWidth, height = innerHeight, floor = height / 30;
  const visible = (node) => {
    const style = getComputedStyle(node);
    if (style.visibility === "hidden" || style.display === "none") return false;
    const box = node.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && !node.closest("[hidden]");
  };
  const outside = [], small = [], cut = [];
  const name = (node) => node.tagName.toLowerCase() + (node.id ? "#" + node.id : "") +
    (node.className && node.className.baseVal === undefined ? "." + String(node.className).trim().split(/\\s+/).join(".") : "");
  for (const node of document.querySelectorAll("#projector *")) {
    if (!visible(node)) continue;
    const box = node.getBoundingClientRect();
    if (box.left < -0.5 || box.top < -0.5 || box.right > width + 0.5 || box.bottom > height + 0.5) {
      outside.push(name(node) + " " + [box.left, box.top, box.right, box.bottom].map(Math.round));
    }
    const text = Array.from(node.childNodes).some((c) => c.nodeType === 3 && c.textContent.trim());
    if (text) {
      const size = parseFloat(getComputedStyle(node).fontSize);
      if (size < floor - 0.01) small.push(name(node) + " " + size.toFixed(1) + "px");
    }
    const style = getComputedStyle(node);
    if (["hidden", "clip", "auto", "scroll"].includes(style.overflowY) && !node.classList.contains("seg") &&
        (node.scrollHeight > node.clientHeight + 1 || node.scrollWidth > node.clientWidth + 1)) {
      cut.push(name(node) + " " + node.scrollWidth + "×" + node.scrollHeight + " in " + node.clientWidth + "×" + node.clientHeight);
    }
  }
  const root = document.documentElement;
  const scrolls = root.scrollHeight > height || root.scrollWidth > width;
  return {outside, small, cut, scrolls, smallest: Math.min(...Array.from(document.querySelectorAll("#projector *"))
    .filter((n) => visible(n) && Array.from(n.childNodes).some((c) => c.nodeType === 3 && c.textContent.trim()))
    .map((n) => parseFloat(getComputedStyle(n).fontSize))), floor};
}"""

SETTLED = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.fixture(scope="module")
def slides(tmp_path_factory, demo_database):
    """The server on a database holding every state, and one Chromium page."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    tmp_path = tmp_path_factory.mktemp("slides")
    server = LiveServer(tmp_path)
    target = Path(server.database_url.removeprefix("sqlite:///"))
    database = Path(demo_database.database_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        source = database.with_name(database.name + suffix)
        if source.exists():
            shutil.copy(source, target.with_name(target.name + suffix))
    codes = prepare_states(server.database_url, tmp_path)
    server.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield server, codes, page, errors
            browser.close()
    finally:
        server.stop()


def open_state(page, server, code: str, state: str) -> None:
    page.goto(f"{server.url}/projector/{code}")
    expected = {"join": "idle", "item": "item", "open": "open", "results": "published"}
    kind = state.split("-", 1)[0]
    wanted = "item" if state == "amendment-item" else expected.get(kind, "published")
    page.wait_for_selector(f"#projector[data-state={wanted}]")
    page.evaluate(SETTLED)


STATES = [
    "join",
    "item-hypothesis",
    "item-action_paths",
    *[f"open-{m}" for m in ITEM_OF],
    *[f"results-{m}" for m in ITEM_OF],
    "amendment-item",
    "amendment-results",
]


def test_every_state_fits_every_projector(slides):
    server, codes, page, errors = slides
    failures: list[str] = []
    for state in STATES:
        page.set_viewport_size({"width": 1920, "height": 1080})
        open_state(page, server, codes[state], state)
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.evaluate(SETTLED)
            found = page.evaluate(MEASURE)
            page.screenshot(path=str(SHOTS / f"{state}-{width}x{height}.png"))
            where = f"{state} at {width}×{height}"
            if found["outside"]:
                failures.append(f"{where}: outside the screen: {found['outside'][:5]}")
            if found["small"]:
                failures.append(f"{where}: text under {found['floor']:.1f}px: {found['small'][:5]}")
            if found["cut"]:
                failures.append(f"{where}: content cut: {found['cut'][:5]}")
            if found["scrolls"]:
                failures.append(f"{where}: the page scrolls")
    assert not failures, "\n".join(failures)
    assert errors == []


def test_what_each_state_shows(slides):
    """The pictures the states are about: the join code on every slide, the thresholds on
    the scale, abstentions apart, the median and the majority grade in words, ranks, one
    small multiple per group (no item title repeated in them) and the divergence in words."""
    server, codes, page, _errors = slides
    page.set_viewport_size({"width": 1920, "height": 1080})
    for state in STATES:
        open_state(page, server, codes[state], state)
        selector = "#p-code-big" if state == "join" else "#p-join .join-code"
        assert page.is_visible(selector), f"{state}: the join code is not on screen"
    open_state(page, server, codes["results-consensus"], "results-consensus")
    assert page.locator("#p-results .mark-label").count() == 2  # validation and blocks
    assert "70" in page.inner_text("#p-results .mark-label.mark-validated")
    assert "5" in page.inner_text("#p-results .mark-label.mark-block")
    assert page.locator("#p-results .scale-track .seg-num").count() == 5
    assert page.locator("#p-results .sm").count() == 3
    assert page.is_visible("#p-results .divergence")
    title = page.inner_text("#p-title")
    assert title not in page.inner_text("#p-results .small-multiples")
    open_state(page, server, codes["results-yes_no"], "results-yes_no")
    assert page.inner_text("#p-results .apart .bar-figure[data-key=abstain]").startswith("2 ·")
    assert page.locator("#p-results .scale-track .seg.k-abstain").count() == 0
    open_state(page, server, codes["results-majority_judgment"], "results-majority_judgment")
    assert page.locator("#p-results .profile-row").count() == 4
    assert page.locator("#p-results .profile-row .median").count() == 4
    words = page.eval_on_selector_all("#p-results .grade-word", "n => n.map(x => x.textContent)")
    assert all(word != "–" and "_" not in word for word in words), words
    for method in ("dot", "ranking"):
        open_state(page, server, codes[f"results-{method}"], f"results-{method}")
        labels = page.eval_on_selector_all(
            "#p-results .slide-main .rank-row .bar-label", "n => n.map(x => x.textContent)"
        )
        assert labels[0].startswith("1. ") and len(labels) == 4
        assert page.locator("#p-results .sm").count() == 3


def test_no_axe_violation_in_either_theme(slides):
    server, codes, page, _errors = slides
    page.set_viewport_size({"width": 1920, "height": 1080})
    found: dict[str, list[dict]] = {}
    for theme in ("light", "dark"):
        for state in STATES:
            open_state(page, server, codes[state], state)
            page.evaluate(f"document.getElementById('projector').dataset.theme = '{theme}'")
            page.evaluate(SETTLED)
            found[f"{state} ({theme})"] = axe_violations(page)
            if theme == "dark":
                page.screenshot(path=str(SHOTS / f"{state}-dark-1920x1080.png"))
    assert_clean(found)
