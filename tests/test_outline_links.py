"""The organiser outline leads to every screen of the process, and each recommendation, action
path and condition to its traceability page."""

from __future__ import annotations

import re

from consolidation_data import build_tree, log_in, make_organizer


def hrefs(html: str) -> list[str]:
    return re.findall(r'<a[^>]*\shref="([^"]+)"', html)


def test_outline_links_to_the_process_screens_and_each_trace(app, client):
    with app.app_context():
        tree = build_tree()
        organizer = make_organizer(tree.process)
        slug = tree.process.slug
        traced = [
            *(("recommendation", r.id) for r in tree.recommendations),
            *(("action_path", a.id) for a in tree.action_paths),
            *(("implementation_condition", c.id) for c in tree.conditions),
        ]
        untraced = [("finding", f.id) for f in tree.findings] + [
            ("hypothesis", h.id) for h in tree.hypotheses
        ]
        organizer_id = organizer.id
    log_in(client, organizer_id)
    page = client.get(f"/organize/{slug}")
    assert page.status_code == 200
    links = hrefs(page.get_data(as_text=True))

    screens = [
        f"/facilitate/{slug}/sessions",
        f"/organize/{slug}/consolidation",
        f"/organize/{slug}/assembly/new",
        f"/organize/{slug}/traceability",
        f"/organize/{slug}/grid/table",
        f"/organize/{slug}/exports",
    ]
    for url in screens:
        assert links.count(url) == 1, url
    traces = {link for link in links if "/trace/" in link}
    assert traces == {f"/organize/{slug}/trace/{kind}/{item_id}" for kind, item_id in traced}
    for kind, item_id in untraced:
        assert f"/trace/{kind}/{item_id}" not in "".join(links)

    # Every link leads somewhere that answers.
    for url in [*screens, *sorted(traces)]:
        assert client.get(url).status_code == 200, url
