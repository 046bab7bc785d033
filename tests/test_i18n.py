"""The French catalogue covers every UI string, keeps its placeholders, and the pages switch
between French (the default) and English."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from werkzeug.security import generate_password_hash

from deliberation.extensions import db
from deliberation.models import Organizer
from tests.live_fixtures import free_item, make_member, make_process, workshop

ROOT = Path(__file__).resolve().parent.parent
FRENCH_PO = ROOT / "deliberation" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
# %(name)s, %d, %% … (Python) and {name} (filled in by the page scripts).
PERCENT_PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_]\w*\))?[-#0 +]*\d*(?:\.\d+)?[sdifgeEGxXrc%]")
BRACE_PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*\}")


def extraction_keywords() -> list[str]:
    """The extra keywords of `make messages`, so this test extracts exactly what it does."""
    recipe = re.search(r"pybabel -q extract (.*)", (ROOT / "Makefile").read_text())
    assert recipe, "the Makefile has a `messages` target running pybabel extract"
    return re.findall(r"-k (\S+)", recipe.group(1))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> list[str | tuple[str, ...]]:
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    arguments = ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg")]
    for keyword in extraction_keywords():
        arguments += ["-k", keyword]
    CommandLineInterface().run([*arguments, "-o", str(pot), str(ROOT)])
    with pot.open("rb") as handle:
        return [message.id for message in read_po(handle) if message.id]


@pytest.fixture(scope="module")
def french():
    with FRENCH_PO.open("rb") as handle:
        return read_po(handle)


def test_extraction_finds_python_and_template_strings(extracted):
    # A silent extractor (a broken babel.cfg) would make the coverage test below vacuous.
    assert "Synthesis of possibilities" in extracted  # deliberation/views/exports.py
    assert "Burning questions" in extracted  # templates/organize/outline.html
    assert ("%(num)d ballot", "%(num)d ballots") in extracted  # ngettext in a template


def test_every_ui_string_has_a_french_translation(extracted, french):
    missing = []
    for msgid in extracted:
        message = french.get(msgid)
        strings = message.string if message else None
        if isinstance(strings, str):
            strings = (strings,)
        if not message or message.fuzzy or not strings or not all(s.strip() for s in strings):
            missing.append(msgid)
    assert not missing, (
        "UI strings without a French translation (run `make messages`, then translate them in "
        f"{FRENCH_PO.relative_to(ROOT)}):\n" + "\n".join(repr(m) for m in missing)
    )
    assert not french.fuzzy and not [m.id for m in french if m.id and m.fuzzy]


def placeholders(text: str) -> list[str]:
    return sorted(PERCENT_PLACEHOLDER.findall(text) + BRACE_PLACEHOLDER.findall(text))


def test_translations_keep_their_placeholders(french):
    wrong = []
    for message in french:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            pairs = [(message.id[0], message.string[0])]
            pairs += [(message.id[1], form) for form in message.string[1:]]
        else:
            pairs = [(message.id, message.string)]
        for source, translated in pairs:
            if translated and placeholders(source) != placeholders(translated):
                wrong.append(f"{source!r} -> {translated!r}")
            # A stray % in a formatted string breaks the formatting at run time.
            rest = PERCENT_PLACEHOLDER.sub("", translated or "")
            if PERCENT_PLACEHOLDER.search(source) and "%" in rest:
                wrong.append(f"stray %: {translated!r}")
    assert not wrong, "\n".join(wrong)
    assert not [error for _message, errors in french.check() for error in errors]


@pytest.fixture
def compiled_catalogue() -> None:
    """The pages read the compiled catalogue: `make test` builds it; plain pytest may not."""
    compiled = FRENCH_PO.with_suffix(".mo")
    if not compiled.exists() or compiled.stat().st_mtime < FRENCH_PO.stat().st_mtime:
        pytest.fail(
            f"{compiled.relative_to(ROOT)} is missing or older than its .po: "
            "run `make translations`"
        )


EMAIL = "i18n@example.org"
PASSWORD = "a long pass phrase"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="(\w+)"', page)
    assert found, "the page declares its language"
    return found.group(1)


@pytest.mark.usefixtures("compiled_catalogue")
def test_home_page_is_french_by_default_and_english_on_request(client):
    page = text(client.get("/"))
    assert html_lang(page) == "fr"
    assert "Accueil" in page and "Aucune synthèse publiée pour l’instant." in page
    assert "No synthesis published yet." not in page
    english_browser = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert html_lang(text(english_browser)) == "en"
    client.post("/lang/en")
    page = text(client.get("/", headers={"Accept-Language": "fr"}))
    assert html_lang(page) == "en" and "No synthesis published yet." in page
    assert "Accueil" not in page
    client.post("/lang/fr")
    assert "Accueil" in text(client.get("/"))


@pytest.mark.usefixtures("compiled_catalogue")
def test_organiser_outline_in_french_then_in_english(app, client):
    with app.app_context():
        organizer = Organizer(
            email=EMAIL,
            name="Orga",
            password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
        )
        db.session.add(organizer)
        process = make_process(slug="assises", language="fr")
        make_member(process.id, organizer.id, "co_organizer")
    logged_in = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert logged_in.status_code == 302
    page = text(client.get("/organize/assises"))
    assert html_lang(page) == "fr"
    assert "Bienvenue, Orga." in page  # the log-in flash, with its placeholder filled
    for french_text in ("Questions vives", "Hypothèses de réponse", "Constats", "Recommandations"):
        assert french_text in page
    assert "Burning questions" not in page and "Findings" not in page
    client.post("/lang/en")
    page = text(client.get("/organize/assises"))
    assert html_lang(page) == "en"
    for english_text in ("Burning questions", "Hypotheses", "Findings", "Recommendations"):
        assert english_text in page
    assert "Questions vives" not in page and "Constats" not in page


def live_config(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="live-config"[^>]*>(.*?)</script>', page)
    assert found, "the phone page hands its strings to its script"
    return json.loads(found.group(1))


@pytest.mark.usefixtures("compiled_catalogue")
def test_phone_pages_in_french_and_in_english(app, client):
    with app.app_context():
        french_session = workshop(make_process(slug="fr-process", language="fr"))
        free_item(french_session, "Ouvrir le samedi ?")
        french_code = french_session.join_code
        english_code = workshop(make_process(slug="en-process", language="en")).join_code

    # Typing the code: the visitor's language, French by default.
    entry = text(client.get("/j"))
    assert html_lang(entry) == "fr" and "Tapez le code affiché à l" in entry
    # Joining: the process language, whatever the visitor chose.
    join = text(client.get(f"/j/{french_code}"))
    assert html_lang(join) == "fr" and "Je préfère ne pas le dire" in join
    assert "Personne accompagnée" in join and "Rejoindre" in join

    client.post("/lang/en")
    entry = text(client.get("/j"))
    assert html_lang(entry) == "en" and "Type the code shown on the screen" in entry
    assert "Je préfère ne pas le dire" in text(client.get(f"/j/{french_code}"))
    client.post("/lang/fr")
    english_join = text(client.get(f"/j/{english_code}"))
    assert html_lang(english_join) == "en" and "I prefer not to say" in english_join

    # The phone page's script gets its strings already translated.
    joined = client.post(f"/j/{french_code}", data={"name": "Awa"})
    assert joined.status_code == 200
    strings = live_config(joined.get_data(as_text=True))["strings"]
    assert "Envoyer mon vote" in json.dumps(strings, ensure_ascii=False)
    assert "Send my vote" not in json.dumps(strings)
