"""The export benchmark's synthetic process, at a small scale, builds both documents."""

from __future__ import annotations

import io

import docx

from bench.export import populate
from deliberation.documents.proceedings import build_proceedings
from deliberation.documents.synthesis import build_synthesis


def test_benchmark_process_builds_both_documents(app):
    sizes = {
        "fields": 2,
        "findings": 4,
        "hypotheses": 16,
        "expert_inputs": 4,
        "sessions": 4,
        "polls": 8,
    }
    with app.app_context():
        process = populate(sizes)
        actes, synthese = io.BytesIO(), io.BytesIO()
        build_proceedings(process).save(actes)
        build_synthesis(process).save(synthese)
    actes_doc = docx.Document(actes)
    # Every poll has ballots, so every poll has its chart.
    assert len(actes_doc.inline_shapes) == sizes["polls"]
    findings = [p.text for p in docx.Document(synthese).paragraphs if p.style.name == "Finding"]
    assert [int(text.split(".")[0]) for text in findings] == list(range(1, 5))
