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
from deliberation.services.people.accounts import create_or_update_organizer
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, LiveServer, log_in
from tests.live_fixtures import ballot_id, make_member
from tests.test_accessibility import assert_clean, axe_violations

pytestmark = pytest.mark.timeout(300)

SIZES = [(1024, 768), (1280, 720), (1366, 768), (1920, 1080), (3840, 2160)]
SHOTS = ROOT / "test-artifacts" / "projector"
FACILITATOR = "slides@example.org"
PASSWORD = "a projector password"

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
CONSENSUS = ["full", "full", "reservations", "full"] + [
    "mixed",
    "disagree",
    "reservations",
    "block",
]
CONSENSUS += ["reservations", "full", "mixed"]
YES_NO = ["yes", "yes", "yes", "abstain", "no", "no", "yes", "abstain", "yes", "no", "yes"]
GRADES = ["excellent", "very_good", "good", "fair", "poor", "reject"]


def judgment(index: int) -> dict:
    # Each participant grades the four paths; groups lean differently.
    shift = 0 if index < 4 else (3 if index < 8 else 1)
    return {"grades": {f"o{n + 1}": GRADES[min(5, (n + shift + index % 2) % 6)] for n in range(4)}}


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
        return {name: {keys[k]: v for k, v in value.items() if k in keys}}
    if isinstance(value, list):
        return {name: [keys.get(k, k) for k in value]}
    return choice


def vote_all(session, poll, method: str) -> None:
    people = [sessions.join(session.join_code, f"P{i}", g)[0] for i, g in enumerate(GROUPS)]
    for index, person in enumerate(people):
        choice = with_keys(CHOICES[method](index), poll)
        ballots.cast(person.id, poll.id, ballot_id(), choice, poll.round)


def prepare_states(database_url: str, tmp_path: Path) -> tuple[dict[str, str], dict[str, int]]:
    """Every state to look at, each on its own session: state name → join code, and state
    name → session id."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "live-test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "EXPORTS_DIR": str(tmp_path / "exports"),
        }
    )
    codes: dict[str, str] = {}
    ids: dict[str, int] = {}
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
            ids[f"results-{method}"] = session.id
        # Majority judgment of one text (the item is the one option).
        session, item = new_session(process, "Atelier de Mons", "hypothesis")
        poll = voting.open_poll(session, item, "majority_judgment", secret=False)
        vote_all(session, poll, "majority_judgment")
        voting.close_poll(poll)
        voting.publish_poll(poll)
        codes["results-majority_judgment-one"] = session.join_code
        # A facilitator of the process (the theme is chosen in the console).
        organizer, _created = create_or_update_organizer(FACILITATOR, PASSWORD)
        make_member(process.id, organizer.id, "facilitator")
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
    return codes, ids


# What the slide must never do, measured in the page: an element outside the viewport, a
# scrollbar, a box that cuts its content, text under a thirtieth of the height.
MEASURE = """() => {
  const width = innerWidth, height = innerHeight, floor = height / 30;
  const shown = (node) => {
    const style = getComputedStyle(node);
    const box = node.getBoundingClientRect();
    return style.visibility !== "hidden" && style.display !== "none" && box.width > 0 &&
      box.height > 0 && !node.closest("[hidden]");
  };
  const hasText = (node) =>
    Array.from(node.childNodes).some((c) => c.nodeType === 3 && c.textContent.trim());
  const name = (node) => node.tagName.toLowerCase() + (node.id ? "#" + node.id : "") +
    (typeof node.className === "string" && node.className ? "." + node.className : "");
  const outside = [], small = [], cut = [];
  for (const node of document.querySelectorAll("#projector *")) {
    if (!shown(node)) continue;
    const box = node.getBoundingClientRect();
    if (box.left < -0.5 || box.top < -0.5 || box.right > width + 0.5 ||
        box.bottom > height + 0.5) {
      outside.push(name(node) + " " + [box.left, box.top, box.right, box.bottom].map(Math.round));
    }
    const style = getComputedStyle(node);
    if (hasText(node) && parseFloat(style.fontSize) < floor - 0.01) {
      small.push(name(node) + " " + style.fontSize);
    }
    // A box that hides what overflows it must not be hiding anything (a bar's part is cut
    // to its share by design; its figure is then left out, and said in the legend).
    const clips = ["hidden", "clip", "auto", "scroll"].includes(style.overflowY);
    const over = node.scrollHeight > node.clientHeight + 1 ||
      node.scrollWidth > node.clientWidth + 1;
    if (clips && over && !node.classList.contains("seg")) {
      cut.push(name(node) + " " + node.scrollWidth + "×" + node.scrollHeight);
    }
  }
  const root = document.documentElement;
  const scrolls = root.scrollHeight > height || root.scrollWidth > width;
  return {outside, small, cut, scrolls, floor};
}"""

SETTLED = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
# The one rule the theme changes (colours): the dark theme is checked for contrast only.
CONTRAST = {"runOnly": {"type": "rule", "values": ["color-contrast"]}}


def axe_contrast(page) -> list[dict]:
    return page.evaluate(
        """async options => {
             const result = await axe.run(document, options);
             return result.violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
             }));
           }""",
        CONTRAST,
    )


@pytest.fixture(scope="module")
def slides(tmp_path_factory, demo_database):
    """The server on a database holding every state, an organiser of its process, and one
    Chromium page."""
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
    codes, ids = prepare_states(server.database_url, tmp_path)
    server.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield {
                "server": server,
                "codes": codes,
                "ids": ids,
                "page": page,
                "errors": errors,
                "browser": browser,
                "email": FACILITATOR,
            }
            browser.close()
    finally:
        server.stop()


def open_state(page, server, code: str, state: str) -> None:
    page.goto(f"{server.url}/projector/{code}")
    expected = {"join": "idle", "item": "item", "open": "open", "results": "published"}
    kind = state.split("-", 1)[0]
    wanted = "item" if state == "amendment-item" else expected.get(kind, "published")
    page.wait_for_selector(f"#projector[data-state={wanted}][data-fit]")
    page.evaluate(SETTLED)


STATES = [
    "join",
    "item-hypothesis",
    "item-action_paths",
    *[f"open-{m}" for m in ITEM_OF],
    *[f"results-{m}" for m in ITEM_OF],
    "results-majority_judgment-one",
    "amendment-item",
    "amendment-results",
]


@pytest.fixture(scope="module")
def tour(slides):
    """Every state at every size, measured and photographed once (one page, its viewport
    resized); at 1920×1080 axe-core in the light theme, then in the dark one."""
    server, page = slides["server"], slides["page"]
    found: dict = {"measures": {}, "code_hidden": [], "axe": {}}
    for state in STATES:
        page.set_viewport_size({"width": 1920, "height": 1080})
        open_state(page, server, slides["codes"][state], state)
        join_code = "#p-code-big" if state == "join" else "#p-join .join-code"
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.evaluate(SETTLED)
            found["measures"][(state, width, height)] = page.evaluate(MEASURE)
            if not page.is_visible(join_code):
                found["code_hidden"].append(f"{state} at {width}×{height}")
            # The 4K ones as JPEG: a PNG of 3840×2160 takes seconds to write.
            big = width > 2000
            name = f"{state}-{width}x{height}.{'jpg' if big else 'png'}"
            page.screenshot(path=str(SHOTS / name), type="jpeg" if big else "png")
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.evaluate(SETTLED)
        found["axe"][f"{state} (light)"] = axe_violations(page)
        page.evaluate("document.getElementById('projector').dataset.theme = 'dark'")
        page.evaluate(SETTLED)
        found["axe"][f"{state} (dark)"] = axe_contrast(page)
        page.screenshot(path=str(SHOTS / f"{state}-dark-1920x1080.png"))
    return found


def test_every_state_fits_every_projector(tour, slides):
    failures: list[str] = []
    for (state, width, height), found in tour["measures"].items():
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
    assert len(tour["measures"]) == len(STATES) * len(SIZES)
    assert slides["errors"] == []


def test_the_join_code_is_on_every_slide(tour):
    assert tour["code_hidden"] == []


def test_no_axe_violation_in_either_theme(tour):
    assert_clean(tour["axe"])


def test_what_each_state_shows(slides):
    """The pictures the states are about: the thresholds on the scale, abstentions apart, the
    median and the majority grade in words, ranks, one small multiple per group (no item
    title repeated in them) and the divergence in words."""
    server, codes, page = slides["server"], slides["codes"], slides["page"]
    page.set_viewport_size({"width": 1920, "height": 1080})
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
    # Each group's bar is drawn on the same base (yes + no), abstentions left out of it too.
    assert page.locator("#p-results .sm .seg.k-yes").count() == 3
    assert page.locator("#p-results .sm .seg.k-no").count() == 3
    open_state(page, server, codes["results-majority_judgment"], "results-majority_judgment")
    assert page.locator("#p-results .profile-row").count() == 4
    assert page.locator("#p-results .profile-row .median").count() == 4
    words = page.eval_on_selector_all("#p-results .grade-word", "n => n.map(x => x.textContent)")
    assert all(word != "–" and "_" not in word for word in words), words
    assert page.locator("#p-results .sm-matrix thead th[data-group]").count() == 3
    one = "results-majority_judgment-one"
    open_state(page, server, codes[one], one)
    assert page.locator("#p-results .profile-row").count() == 1
    assert page.locator("#p-results .profile-row .bar-label").count() == 0  # the title says it
    assert page.locator("#p-results .sm[data-group] .profile-bar").count() == 3
    # Beside its results an amendment shows the wording voted on, the changes marked.
    open_state(page, server, codes["amendment-results"], "amendment-results")
    assert page.is_visible(".amendment-proposed .amendment-text ins")
    assert page.is_hidden(".amendment-original")
    open_state(page, server, codes["amendment-item"], "amendment-item")
    assert page.is_visible(".amendment-original .amendment-text del")
    assert page.is_visible(".amendment-proposed .amendment-text ins")
    for method in ("dot", "ranking"):
        open_state(page, server, codes[f"results-{method}"], f"results-{method}")
        labels = page.eval_on_selector_all(
            "#p-results .slide-main .rank-row .bar-label", "n => n.map(x => x.textContent)"
        )
        assert labels[0].startswith("1. ") and len(labels) == 4
        # A column per group, a row per option.
        assert page.locator("#p-results .sm-matrix thead th[data-group]").count() == 3
        assert page.locator("#p-results .sm-matrix tbody tr").count() == 4


def test_the_projector_follows_the_theme_chosen_in_the_console(slides):
    """Dark chosen in the console: the projector turns dark at once, and a projector
    reloaded later comes back dark (the theme is kept on the session)."""
    server, codes, browser = slides["server"], slides["codes"], slides["browser"]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    console = context.new_page()
    log_in(console, server.url, slides["email"], PASSWORD)
    projector = slides["page"]
    open_state(projector, server, codes["results-consensus"], "results-consensus")
    assert projector.get_attribute("#projector", "data-theme") == "light"
    console.goto(f"{server.url}/facilitate/session/{slides['ids']['results-consensus']}")
    console.wait_for_selector("#connection[data-state=online]")
    console.select_option("#projector-theme", "dark")
    console.click("#btn-theme")
    projector.wait_for_selector("#projector[data-theme=dark]")
    console.wait_for_selector("#console-log:not([hidden])")
    projector.reload()
    projector.wait_for_selector("#projector[data-fit]")
    assert projector.get_attribute("#projector", "data-theme") == "dark"
    assert console.input_value("#projector-theme") == "dark"
    context.close()
