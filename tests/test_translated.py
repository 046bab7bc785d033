"""Tables of translated strings built once per language (deliberation.translated), and the
stylesheets inlined in the phone pages joined once per version of their files."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask_babel import Babel, force_locale
from flask_babel import gettext as _

from deliberation import assets
from deliberation.translated import once_per_locale

TRANSLATIONS = Path(__file__).resolve().parent.parent / "deliberation" / "translations"


def _babel_app() -> Flask:
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app)
    return app


def test_a_table_is_built_once_per_locale_and_in_that_locale():
    built: list[str] = []

    @once_per_locale
    def words() -> dict[str, str]:
        built.append("once")
        return {"send": _("Send my vote")}

    with _babel_app().test_request_context():
        with force_locale("fr"):
            french = words()
            assert words() is french  # the same table, not built again
        with force_locale("en"):
            english = words()
        with force_locale("fr"):
            assert words() is french
    assert french == {"send": "Envoyer mon vote"}
    assert english == {"send": "Send my vote"}
    assert built == ["once", "once"]
    assert all(type(text) is str for text in (*french.values(), *english.values()))


def test_the_inlined_stylesheets_are_joined_once_and_read_again_when_a_file_changes(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(assets, "CSS_DIR", tmp_path)
    assets._joined.cache_clear()
    sheet = tmp_path / "one.css"
    sheet.write_text("a { color: red; }", encoding="utf-8")
    (tmp_path / "two.css").write_text("b { color: blue; }", encoding="utf-8")
    first = assets.inline_css("one.css", "two.css")
    assert first == "a { color: red; }\nb { color: blue; }"
    assert assets.inline_css("one.css", "two.css") is first  # joined once
    sheet.write_text("a { color: green; }", encoding="utf-8")
    stat = sheet.stat()  # a later version of the file, whatever the clock's resolution
    os.utime(sheet, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert assets.inline_css("one.css", "two.css").startswith("a { color: green; }")
    assets._joined.cache_clear()
