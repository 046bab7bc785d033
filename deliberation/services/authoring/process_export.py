"""Export: a whole process as its process file (see :mod:`.process_file`)."""

from __future__ import annotations

from typing import Any

from ...models import ExpertInput, Process
from .process_events import events_data
from .process_experts import invitations_data
from .process_format import FINDING_ITEMS, FORMAT_VERSION, GRID_AXES, THRESHOLDS, dump_yaml

HEADER = (
    "# Process file, format {version}: see docs/process-format.md.\n"
    "# Findings are numbered across the process in field order (1, 2, 3…);\n"
    "# an expert input's stances name hypotheses by their id.\n"
)


def dump_process(process: Process) -> str:
    """The whole process as a process file (YAML text)."""
    return HEADER.format(version=FORMAT_VERSION) + dump_yaml(process_data(process))


def process_data(process: Process) -> dict[str, Any]:
    """The process as the plain data of its file."""
    hypothesis_ids: dict[int, str] = {}
    question_ids: dict[int, str] = {}
    for f_index, field_ in enumerate(process.fields, 1):
        for q_index, question in enumerate(field_.questions, 1):
            question_ids[question.id] = f"f{f_index}-q{q_index}"
            for h_index, hypothesis in enumerate(question.hypotheses, 1):
                hypothesis_ids[hypothesis.id] = f"f{f_index}-q{q_index}-h{h_index}"
    linked = {f.question_id for field_ in process.fields for f in field_.findings}
    data: dict[str, Any] = {"format": int(FORMAT_VERSION), "slug": process.slug}
    data["title"] = process.title
    _put(data, "subtitle", process.subtitle)
    data["language"] = process.language
    _put(data, "introduction", process.introduction)
    _put(data, "steering_committee", process.steering_committee)
    data["thresholds"] = {key: getattr(process, attr) for key, (attr, _d) in THRESHOLDS.items()}
    _put(data, "labels", {k: v for k, v in (process.consensus_labels or {}).items() if v})
    data["groups"] = list(process.groups or [])
    _put(data, "priority_method", process.priority_method)
    grid = process.grid or {}
    if any((grid.get(axis) or {}).get("name") or (grid.get(axis) or {}).get("values")
           for axis in GRID_AXES):  # fmt: skip
        data["grid"] = {
            axis: {
                "name": str((grid.get(axis) or {}).get("name") or ""),
                "values": [str(v) for v in (grid.get(axis) or {}).get("values") or []],
            }
            for axis in GRID_AXES
        }
    _put(data, "territories", [t.name for t in process.territories])
    data.update(events_data(process))
    fields: list[dict[str, Any]] = []
    for field_ in process.fields:
        entry: dict[str, Any] = {"title": field_.title}
        _put(entry, "description", field_.description)
        _put(entry, "illustrative", field_.illustrative)
        questions = []
        for question in field_.questions:
            q: dict[str, Any] = {}
            if question.id in linked:
                q["id"] = question_ids[question.id]
            q["text"] = question.text
            _put(q, "illustrative", question.illustrative)
            q["hypotheses"] = [
                _tagged(_summarised({"id": hypothesis_ids[h.id], "text": h.text}, h), h)
                for h in question.hypotheses
            ]
            questions.append(q)
        _put(entry, "questions", questions)
        _put(entry, "expert_inputs", [_expert(e, hypothesis_ids) for e in field_.expert_inputs])
        findings = []
        for finding in field_.findings:
            item: dict[str, Any] = _summarised({"text": finding.text}, finding)
            if finding.question_id in question_ids:
                item["question"] = question_ids[finding.question_id]
            for key, (_model, relation, _what) in FINDING_ITEMS.items():
                _put(item, key, [_child(c) for c in getattr(finding, relation)])
            findings.append(item)
        _put(entry, "findings", findings)
        _put(entry, "expert_invitations", invitations_data(field_))
        fields.append(entry)
    data["fields"] = fields
    return data


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    """Write only what is set: the file stays short and readable."""
    if value:
        data[key] = value


def _tagged(data: dict[str, Any], item: Any) -> dict[str, Any]:
    _put(data, "grid_row", item.grid_row)
    _put(data, "grid_col", item.grid_col)
    return data


def _summarised(data: dict[str, Any], item: Any) -> dict[str, Any]:
    """The item's plain-language summary, when it has one (easy-to-read mode)."""
    _put(data, "plain_summary", getattr(item, "plain_summary", ""))
    return data


def _child(item: Any) -> str | dict[str, Any]:
    if item.grid_row or item.grid_col or getattr(item, "plain_summary", ""):
        return _tagged(_summarised({"text": item.text}, item), item)
    return item.text


def _expert(expert_input: ExpertInput, hypothesis_ids: dict[int, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    _put(data, "title", expert_input.title)
    data["author"] = expert_input.author
    data["role"] = expert_input.role
    _put(data, "affiliation", expert_input.affiliation)
    _put(data, "illustrative", expert_input.illustrative)
    _put(data, "text", expert_input.text)
    _put(data, "references", expert_input.references)
    order = list(hypothesis_ids)
    stances = sorted(
        (s for s in expert_input.stances if s.hypothesis_id in hypothesis_ids),
        key=lambda s: order.index(s.hypothesis_id),
    )
    _put(data, "stances", {hypothesis_ids[s.hypothesis_id]: s.stance for s in stances})
    _put(
        data,
        "justifications",
        {hypothesis_ids[s.hypothesis_id]: s.justification for s in stances if s.justification},
    )
    return data
