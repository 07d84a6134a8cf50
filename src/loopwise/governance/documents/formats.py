"""Machine-readable forms of the model card, pure: Model Card Toolkit JSON (the field names
of MCT's published schema, ``model_card.schema.json`` v0.0.2: ``model_details``,
``model_parameters``, ``quantitative_analysis``, ``considerations``) and a Hugging Face
``model-index`` YAML block (the results metadata of a model repository's README:
``name`` and ``results`` of ``task``, ``dataset`` and ``metrics``)."""

from __future__ import annotations

from typing import Any

import yaml

from loopwise.governance.documents.gather import ProjectRecord
from loopwise.governance.documents.links import Links
from loopwise.governance.documents.model import Document

MCT_SCHEMA_VERSION = "0.0.2"
# Hugging Face task ids for our evaluation tasks (clustering has none: "other")
HF_TASKS = {
    "classification": "tabular-classification",
    "regression": "tabular-regression",
}


def _section_text(doc: Document, key: str, label: str) -> str | None:
    found = next((f for f in doc.section(key).fields if f.label == label), None)
    return found.value if found else None


def model_card_mct(record: ProjectRecord, card: Document) -> dict[str, Any]:
    """The model card as Model Card Toolkit JSON; empty parts are left out, as MCT does."""
    links = Links(record.base_url)
    m = record.model
    out: dict[str, Any] = {"schema_version": MCT_SCHEMA_VERSION}
    if m is None:
        out["model_details"] = {"name": record.project.key}
        return out
    v = m.version
    details: dict[str, Any] = {
        "name": m.model.name,
        "version": {"name": str(v.version), "date": v.created_at.date().isoformat()},
        "references": [
            {"reference": links.model_version(v.id)},
            *([{"reference": links.run(m.run.id)}] if m.run else []),
        ],
    }
    overview = v.description or m.model.description or record.project.charter.problem
    if overview:
        details["overview"] = overview
    out["model_details"] = details
    params: dict[str, Any] = {
        "data": [
            {
                "name": f"{dv.dataset} v{dv.version}",
                "link": links.dataset_version(dv.id),
                "description": f"{u.role.value}; {dv.rows} rows; content {dv.content_hash}",
                **(
                    {"sensitive": {"sensitive_data": sorted(dv.meta.personal_data)}}
                    if dv.meta.personal_data
                    else {}
                ),
            }
            for u, dv in zip(m.run_datasets, m.datasets, strict=True)
        ]
    }
    if m.run and m.run.params:
        params["model_architecture"] = ", ".join(
            f"{k}={p}" for k, p in sorted(m.run.params.items())
        )
    out["model_parameters"] = params
    metrics: list[dict[str, Any]] = []
    if m.evaluations:
        ev = m.evaluations[0].evaluation
        metrics += [{"type": e.name, "value": e.value} for e in ev.metrics]
        metrics += [
            {"type": e.name, "value": e.value, "slice": f"{ev.slice_column}={s.value}"}
            for s in ev.slices
            for e in s.metrics
        ]
    else:
        metrics += [
            {"type": k, "value": val}
            for k, val in sorted(v.metrics.items())
            if isinstance(val, int | float)
        ]
    out["quantitative_analysis"] = {"performance_metrics": metrics}
    considerations: dict[str, Any] = {}
    users = _section_text(card, "intended_use", "Intended users")
    if users:
        considerations["users"] = [{"description": users}]
    if record.project.charter.problem:
        considerations["use_cases"] = [{"description": record.project.charter.problem}]
    limits = [w for a in m.fairness for w in a.warnings]
    if limits:
        considerations["limitations"] = [{"description": w} for w in limits]
    risks = [r for r in record.risks if r.category.value in ("ethical", "legal")]
    if risks:
        considerations["ethical_considerations"] = [
            {"name": f"{r.key}: {r.title}", "mitigation_strategy": r.mitigation} for r in risks
        ]
    out["considerations"] = considerations
    return out


def model_index(record: ProjectRecord) -> dict[str, Any]:
    """The Hugging Face ``model-index`` metadata of the model card's version."""
    m = record.model
    if m is None:
        return {"model-index": [{"name": record.project.key, "results": []}]}
    names = {dv.id: f"{dv.dataset} v{dv.version}" for dv in (*record.datasets, *m.datasets)}
    results = []
    for ev in m.evaluations[:1]:
        task = ev.evaluation.task.value
        results.append(
            {
                "task": {"type": HF_TASKS.get(task, "other"), "name": task},
                "dataset": {  # type: the dataset version's id, name: what people call it
                    "name": names.get(ev.dataset_version_id or "", "unregistered data"),
                    "type": ev.dataset_version_id or "unregistered",
                },
                "metrics": [
                    {"type": e.name, "value": e.value, "name": e.name}
                    for e in ev.evaluation.metrics
                ],
            }
        )
    return {"model-index": [{"name": f"{m.model.name}-v{m.version.version}", "results": results}]}


def model_index_yaml(record: ProjectRecord) -> str:
    """The block as it goes between the ``---`` lines at the top of a README."""
    return "---\n" + yaml.safe_dump(model_index(record), sort_keys=False) + "---\n"
