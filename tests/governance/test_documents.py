"""Documents generated from the record: a project with real records made through the
services, each document checked for its sections, MISSING where the record lacks it,
figures equal to the stored values and linked to their records; the PDF's text read back
with pypdfium2; the Model Card Toolkit JSON and the model-index YAML checked for shape."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest
import yaml
from sklearn.metrics import accuracy_score, recall_score

from loopwise.core.clock import FrozenClock
from loopwise.core.errors import InvalidInput
from loopwise.data import service as data
from loopwise.data.models import DatasetRole, PersonalData, VersionMeta
from loopwise.governance import audits, calendar, explanations
from loopwise.governance import service as gates
from loopwise.governance.documents import render
from loopwise.governance.documents import service as documents
from loopwise.governance.documents.gather import gather
from loopwise.governance.documents.model import Document, DocumentFormat, DocumentKind
from loopwise.governance.documents.schemas import DocumentQuery
from loopwise.governance.documents.service import build_from
from loopwise.governance.models import DueState
from loopwise.governance.schemas import ExplanationIn
from loopwise.monitoring import service as monitoring
from loopwise.monitoring.schemas import MonitorCreate
from loopwise.numeric.evaluation import Task
from loopwise.planning.risks import service as risks
from loopwise.planning.risks.models import RiskCategory
from loopwise.planning.risks.schemas import RiskCreate
from loopwise.projects import service as projects
from loopwise.projects.schemas import CharterIn, DataSourceIn, KpiIn, ProjectCreate, SuccessMetricIn
from loopwise.registry import evaluations
from loopwise.registry import service as registry
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import MetricIn, RunCreate, RunFinish
from use_cases import UseCases

KEY = "DOC"
PROBLEM = "Flag customers likely to churn so retention can call them"
TIER = "high: Annex III point 5(b) (créditworthiness)"  # non-Latin-1 text goes to the PDF

# The field names of Model Card Toolkit's schema (model_card.schema.json v0.0.2, published
# in tensorflow/model-card-toolkit): top level, and what each part may hold.
MCT_TOP = {
    "schema_version",
    "model_details",
    "model_parameters",
    "quantitative_analysis",
    "considerations",
}
MCT_PARTS = {
    "model_details": {
        "name",
        "overview",
        "documentation",
        "owners",
        "version",
        "licenses",
        "references",
        "citations",
    },
    "model_parameters": {"model_architecture", "data", "input_format", "output_format"},
    "quantitative_analysis": {"performance_metrics", "graphics"},
    "considerations": {"users", "use_cases", "limitations", "tradeoffs", "ethical_considerations"},
}
MCT_ITEMS = {
    ("model_parameters", "data"): {"name", "link", "sensitive", "graphics", "description"},
    ("quantitative_analysis", "performance_metrics"): {"type", "value", "slice"},
    ("considerations", "ethical_considerations"): {"name", "mitigation_strategy"},
    ("considerations", "users"): {"description"},
    ("considerations", "use_cases"): {"description"},
    ("considerations", "limitations"): {"description"},
}


def _frame(n: int = 240, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.8, label, 1 - label)
    return pd.DataFrame(
        {
            "tenure": rng.integers(1, 60, n),
            "sex": rng.choice(["F", "M"], n),
            "label": label,
            "pred": pred,
        }
    )


@pytest.fixture
def record(do: UseCases, tmp_path: Path) -> dict[str, Any]:
    """A project with a charter, a dataset version (owner, licence, a personal-data flag),
    a finished run that used it, a model version from that run, an evaluation with slices,
    a fairness audit, risks, and the intake gate's risk tier attested."""
    frame = _frame()
    path = tmp_path / "customers.parquet"
    frame.to_parquet(path, index=False)
    charter = CharterIn(
        problem=PROBLEM,
        business_kpi=KpiIn(name="monthly churn", baseline=0.08, target=0.06),
        success_metric=SuccessMetricIn(key="recall", threshold=0.5),
        data_sources=[DataSourceIn(name="customers", owner="crm-team", permission="granted")],
    )
    do(projects.create_project, ProjectCreate(key=KEY, name="Docs", charter=charter))
    meta = VersionMeta(
        owner="crm-team",
        licence="internal",
        source="crm export",
        personal_data={"sex": (PersonalData.SENSITIVE,)},
        legal_basis="contract",
    )
    dv = do(data.register_path, KEY, "customers", path, meta=meta).version
    run = do(tracking.create_run, KEY, RunCreate(params={"max_depth": "4"}, git_commit="abc1234"))
    do(tracking.log_metrics, run.id, [MetricIn(key="recall", value=0.81)])
    do(tracking.finish_run, run.id, RunFinish())
    do(data.use_in_run, run.id, dv.id, DatasetRole.TRAIN)
    do(registry.create_model, KEY, "churn")
    mv = do(registry.create_version, "churn", run_id=run.id)
    ev = do(
        evaluations.record,
        KEY,
        Task.CLASSIFICATION,
        frame["label"].tolist(),
        frame["pred"].tolist(),
        slices=frame["sex"].tolist(),
        slice_column="sex",
        model="churn",
        version=1,
        dataset_version_id=dv.id,
        n_boot=50,
    )
    audit = do(
        audits.run_audit,
        "churn",
        1,
        dv.id,
        "label",
        "pred",
        ["sex"],
        justification="selection rates matter for outreach",
        min_group_size=10,
    )
    r1 = do(
        risks.create_risk,
        KEY,
        RiskCreate(
            title="Unequal outreach",
            category=RiskCategory.ETHICAL,
            likelihood=3,
            impact=4,
            owner="ana",
            mitigation="fairness audit before canary",
            next_review=date(2026, 3, 1),
        ),
    )
    r2 = do(
        risks.create_risk,
        KEY,
        RiskCreate(
            title="Stale features",
            category=RiskCategory.TECHNICAL,
            likelihood=2,
            impact=2,
        ),
    )
    intake = next(g for g in do.read(gates.list_gates, KEY) if g.template == "intake")
    do(gates.attest, intake.id, "risk_tier", TIER)
    return {
        "frame": frame,
        "dv": dv,
        "run": run,
        "mv": mv,
        "ev": ev,
        "audit": audit,
        "risks": (r1, r2),
        "intake": intake,
    }


def _build(do: UseCases, kind: DocumentKind, **query: Any) -> Document:
    return do.read(documents.build, KEY, kind, DocumentQuery(**query))


def _field(doc: Document, section: str, label: str) -> Any:
    return next(f for f in doc.section(section).fields if f.label == label)


def _cells(doc: Document, section: str, title_start: str) -> list[tuple[Any, ...]]:
    table = next(t for t in doc.section(section).tables if t.title.startswith(title_start))
    return list(table.rows)


# --- the model card ------------------------------------------------------------------------


MITCHELL = [
    "model_details",
    "intended_use",
    "factors",
    "metrics",
    "evaluation_data",
    "training_data",
    "quantitative_analyses",
    "ethical_considerations",
    "caveats",
    "explanations",
]


def test_model_card_figures_are_the_stored_values_linked_to_their_records(
    do: UseCases, record: dict[str, Any]
) -> None:
    card = _build(do, DocumentKind.MODEL_CARD)
    assert [s.key for s in card.sections] == MITCHELL
    mv, run, ev, dv, frame = (
        record["mv"],
        record["run"],
        record["ev"],
        record["dv"],
        record["frame"],
    )
    assert _field(card, "model_details", "Version").link == f"/model-versions/{mv.id}"
    trained = _field(card, "model_details", "Trained in run")
    assert (trained.value, trained.link) == (run.id, f"/runs/{run.id}")
    assert _field(card, "model_details", "Code version (git commit)").value == "abc1234"
    assert _field(card, "intended_use", "Primary intended use").value == PROBLEM
    # the evaluation's figures: equal to the stored ones, which equal scikit-learn's
    metrics = {row[0].text: row[1] for row in _cells(card, "quantitative_analyses", "Evaluation")}
    stored = {e.name: e.value for e in ev.evaluation.metrics}
    assert stored["accuracy"] == pytest.approx(accuracy_score(frame["label"], frame["pred"]))
    assert stored["recall"] == pytest.approx(recall_score(frame["label"], frame["pred"]))
    for name, cell in metrics.items():
        assert float(cell.text) == pytest.approx(stored[name], rel=1e-3)
        assert cell.link == f"/evaluations/{ev.id}"
    sliced = _cells(card, "quantitative_analyses", "Sliced metrics")
    assert {row[0].text for row in sliced} == {"sex = F", "sex = M"}
    fairness = {row[0].text: row[1] for row in _cells(card, "quantitative_analyses", "Fairness")}
    dpr = record["audit"].values["demographic_parity_ratio"]
    assert float(fairness["demographic_parity_ratio"].text) == pytest.approx(dpr, rel=1e-3)
    training = _field(card, "training_data", "Training dataset version")
    assert training.link == f"/datasets/versions/{dv.id}"
    assert _field(card, "training_data", "Content hash").value == dv.content_hash
    # what the record lacks is MISSING, with what would fill it
    users = _field(card, "intended_use", "Intended users")
    assert users.is_missing and "purpose" in users.missing
    explanations = _field(card, "explanations", "Feature importance")
    assert explanations.is_missing and "not recorded" in explanations.missing


def test_model_card_shows_the_recorded_explanations(do: UseCases, record: dict[str, Any]) -> None:
    dv = record["dv"]
    body = ExplanationIn(
        dataset_version_id=dv.id,
        scoring="recall",
        n_repeats=3,
        features=[f"f{i}" for i in range(25)],
        importances_mean=[i / 100 for i in range(25)],
        importances_std=[0.01] * 25,
    )
    kept = do(explanations.record_explanation, "churn", 1, body)
    card = _build(do, DocumentKind.MODEL_CARD)
    method = _field(card, "explanations", "Method (permutation)")
    assert (
        "scoring recall" in method.value
        and method.link == f"/model-versions/{kept.model_version_id}"
    )
    assert _field(card, "explanations", "Computed on (permutation)").value == dv.content_hash
    rows = _cells(card, "explanations", "Feature importance, permutation importance (top 20 of 25)")
    # the most important first, each figure the stored one, linked to its dataset version
    assert [r[0].text for r in rows] == [f.feature for f in kept.ranked[:20]]
    assert [float(r[1].text) for r in rows] == pytest.approx([f.mean for f in kept.ranked[:20]])
    assert {r[1].link for r in rows} == {f"/datasets/versions/{dv.id}"}


def test_model_card_as_model_card_toolkit_json(do: UseCases, record: dict[str, Any]) -> None:
    out = do.read(
        documents.render_document,
        KEY,
        DocumentKind.MODEL_CARD,
        DocumentQuery(format=DocumentFormat.JSON),
    )
    mct = json.loads(out.content)
    assert out.filename == "churn-v1-model-card.mct.json"
    assert set(mct) <= MCT_TOP and set(mct) == MCT_TOP
    for part, names in MCT_PARTS.items():
        assert set(mct[part]) <= names, part
    for (part, key), names in MCT_ITEMS.items():
        for item in mct[part].get(key, []):
            assert set(item) <= names, (part, key)
    assert mct["model_details"]["name"] == "churn"
    assert mct["model_details"]["version"]["name"] == "1"
    performance = mct["quantitative_analysis"]["performance_metrics"]
    unsliced = {m["type"]: m["value"] for m in performance if "slice" not in m}
    assert unsliced == {e.name: e.value for e in record["ev"].evaluation.metrics}
    assert {m["slice"] for m in performance if "slice" in m} == {"sex=F", "sex=M"}
    assert mct["model_parameters"]["data"][0]["sensitive"] == {"sensitive_data": ["sex"]}


def test_model_card_as_hugging_face_model_index(do: UseCases, record: dict[str, Any]) -> None:
    out = do.read(
        documents.render_document,
        KEY,
        DocumentKind.MODEL_CARD,
        DocumentQuery(format=DocumentFormat.YAML),
    )
    text = out.content.decode()
    assert text.startswith("---\n") and text.endswith("---\n")
    meta = yaml.safe_load(text.strip("-\n"))
    (entry,) = meta["model-index"]
    assert entry["name"] == "churn-v1"
    (result,) = entry["results"]
    assert result["task"]["type"] == "tabular-classification"
    assert result["dataset"] == {"name": "customers v1", "type": record["dv"].id}
    for metric in result["metrics"]:
        assert {"type", "value"} <= set(metric)
    assert {m["type"]: m["value"] for m in result["metrics"]} == {
        e.name: e.value for e in record["ev"].evaluation.metrics
    }
    with pytest.raises(InvalidInput, match="model cards"):
        do.read(
            documents.render_document,
            KEY,
            DocumentKind.RISK_REGISTER,
            DocumentQuery(format=DocumentFormat.YAML),
        )


# --- the datasheet, Annex IV, the impact assessment, the risk register ------------------


def test_datasheet_has_gebru_sections_from_the_dataset_version(
    do: UseCases, record: dict[str, Any]
) -> None:
    sheet = _build(do, DocumentKind.DATASHEET)
    assert [s.key for s in sheet.sections] == [
        "motivation",
        "composition",
        "collection",
        "preprocessing",
        "uses",
        "distribution",
        "maintenance",
    ]
    dv = record["dv"]
    rows = _field(sheet, "composition", "Rows")
    assert (rows.value, rows.link) == (str(dv.rows), f"/datasets/versions/{dv.id}")
    assert _field(sheet, "composition", "Content hash").value == dv.content_hash
    assert _field(sheet, "distribution", "Licence").value == "internal"
    assert _field(sheet, "distribution", "Residency").is_missing
    assert _field(sheet, "motivation", "Funding").is_missing
    (use,) = _cells(sheet, "uses", "Runs")
    assert use[0].link == f"/runs/{record['run'].id}"


def test_annex_iv_has_all_nine_points_filled_or_missing(
    do: UseCases, record: dict[str, Any]
) -> None:
    doc = _build(do, DocumentKind.ANNEX_IV)
    assert [s.key for s in doc.sections] == [f"annex_iv_{n}" for n in range(1, 10)]
    tier = _field(doc, "annex_iv_1", "Risk tier (EU AI Act)")
    assert (tier.value, tier.link) == (TIER, f"/gates/{record['intake'].id}")
    assert _field(doc, "annex_iv_2", "Development run").link == f"/runs/{record['run'].id}"
    met = _field(doc, "annex_iv_4", "Met by the version")
    assert met.value == "recall = 0.81: meets >= 0.5"
    assert _field(doc, "annex_iv_7", "Standards").is_missing
    assert _field(doc, "annex_iv_8", "Declaration").is_missing
    assert _field(doc, "annex_iv_9", "Monitors").is_missing  # no monitor watches it yet
    do(
        monitoring.create_monitor,
        KEY,
        MonitorCreate(
            name="churn-watch",
            reference_version_id=record["dv"].id,
            model="churn",
            model_version=1,
        ),
    )
    doc = _build(do, DocumentKind.ANNEX_IV)
    assert _field(doc, "annex_iv_9", "Monitors").value == "1 watching the version"
    (watch,) = _cells(doc, "annex_iv_9", "Monitors")
    assert (watch[0].text, watch[0].link) == (
        "churn-watch",
        f"/projects/{KEY}/monitors/churn-watch",
    )
    risk_links = {row[0].link for row in _cells(doc, "annex_iv_5", "Risks")}
    assert risk_links == {f"/risks/{r.key}" for r in record["risks"]}


def test_impact_assessment_and_risk_register(do: UseCases, record: dict[str, Any]) -> None:
    ia = _build(do, DocumentKind.IMPACT_ASSESSMENT)
    assert [s.key for s in ia.sections] == [
        "context",
        "affected",
        "personal_data",
        "fairness",
        "rights_risks",
        "oversight",
        "mitigations",
        "calendar",
    ]
    (personal,) = _cells(ia, "personal_data", "Columns flagged")
    assert [c.text for c in personal[1:4]] == ["sex", "sensitive", "contract"]
    (rights,) = _cells(ia, "rights_risks", "Risks")  # the ethical one only
    assert rights[0].text == record["risks"][0].key
    gate_rows = _cells(ia, "mitigations", "Gates")
    assert all(row[0].link.startswith("/gates/gate_") for row in gate_rows)
    register = _build(do, DocumentKind.RISK_REGISTER)
    rows = _cells(register, "register", "Risks")
    assert [(r[0].text, r[3].text, r[4].text) for r in rows] == [
        (r.key, f"{r.likelihood} x {r.impact} = {r.score}", r.level) for r in record["risks"]
    ]
    assert _field(register, "summary", "Reviews overdue").value == "0"


def test_a_project_without_records_gets_every_section_missing(do: UseCases) -> None:
    do(projects.create_project, ProjectCreate(key=KEY, name="Empty"))
    card = _build(do, DocumentKind.MODEL_CARD)
    assert _field(card, "model_details", "Model").is_missing
    sheet = _build(do, DocumentKind.DATASHEET)
    assert all(s.missing for s in sheet.sections)
    annex = _build(do, DocumentKind.ANNEX_IV)
    assert len(annex.sections) == 9 and all(s.missing for s in annex.sections[:5])


def test_links_are_absolute_under_a_public_url(do: UseCases, record: dict[str, Any]) -> None:
    rec = do.read(gather, KEY, base_url="https://lw.example.org/")
    card = build_from(rec, DocumentKind.MODEL_CARD)
    link = _field(card, "model_details", "Trained in run").link
    assert link == f"https://lw.example.org/runs/{record['run'].id}"


# --- renderers ------------------------------------------------------------------------------


def test_markdown_and_html_carry_every_section_and_link(
    do: UseCases, record: dict[str, Any]
) -> None:
    doc = _build(do, DocumentKind.MODEL_CARD)
    text = render.markdown(doc)
    for s in doc.sections:
        assert f"## {s.title}" in text
    assert f"(</runs/{record['run'].id}>)" in text
    assert "**MISSING**" in text
    page = render.html(doc)
    assert f'href="/evaluations/{record["ev"].id}"' in page
    assert "<script" not in page


def test_pdf_text_is_there(do: UseCases, record: dict[str, Any], tmp_path: Path) -> None:
    out = do.read(
        documents.render_document,
        KEY,
        DocumentKind.ANNEX_IV,
        DocumentQuery(format=DocumentFormat.PDF),
    )
    assert out.content.startswith(b"%PDF") and out.media_type == "application/pdf"
    pdf = pdfium.PdfDocument(out.content)
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    joined = text.replace("\r\n", "")  # a long link wraps within its cell
    for n in range(1, 10):
        assert f"{n}. " in text
    assert "Post-market monitoring plan" in text
    assert "créditworthiness" in text  # Unicode survives (the shipped DejaVu font)
    assert f"/runs/{record['run'].id}" in joined
    assert "MISSING" in text
    links = [link for i in range(len(pdf)) for link in _uris(pdf, i)]
    assert f"/runs/{record['run'].id}" in links
    pdf.close()


def _uris(pdf: pdfium.PdfDocument, index: int) -> list[str]:
    """The URI actions of a page's link annotations."""
    import ctypes

    import pypdfium2.raw as raw

    page = pdf[index]
    out = []
    for n in range(raw.FPDFPage_GetAnnotCount(page)):
        annot = raw.FPDFPage_GetAnnot(page, n)
        link = raw.FPDFAnnot_GetLink(annot)
        action = raw.FPDFLink_GetAction(link) if link else None
        if action:
            size = raw.FPDFAction_GetURIPath(pdf, action, None, 0)
            buf = ctypes.create_string_buffer(size)
            raw.FPDFAction_GetURIPath(pdf, action, buf, size)
            out.append(buf.value.decode())
        raw.FPDFPage_CloseAnnot(annot)
    return out


# --- the compliance calendar ----------------------------------------------------------------


def test_calendar_dates_are_those_of_article_113() -> None:
    cal = calendar.load()
    dates = {m.key: m.date for m in cal.milestones}
    assert dates == {
        "entry_into_force": date(2024, 8, 1),
        "prohibitions_literacy": date(2025, 2, 2),
        "gpai_governance_penalties": date(2025, 8, 2),
        "general_application": date(2026, 8, 2),
        "annex_i_products": date(2027, 8, 2),
    }
    assert calendar.milestone_of(cal, "EU AI Act Art. 5").key == "prohibitions_literacy"
    assert calendar.milestone_of(cal, "EU AI Act Art. 53").key == "gpai_governance_penalties"
    assert calendar.milestone_of(cal, "NIST AI RMF MAP") is None


def test_gate_due_reads_overdue_met_and_upcoming() -> None:
    cal = calendar.load()
    clauses = ("EU AI Act Art. 9", "EU AI Act Art. 14", "NIST AI RMF GOVERN")
    today = date(2026, 12, 5)
    due = calendar.gate_due(cal, clauses, passed=False, today=today)
    assert due is not None
    assert (due.date, due.state, due.days) == (date(2026, 8, 2), DueState.OVERDUE, -125)
    assert due.clauses == ("EU AI Act Art. 9", "EU AI Act Art. 14")
    met = calendar.gate_due(cal, clauses, passed=True, today=today)
    assert met is not None and met.state is DueState.MET
    annex_i = calendar.gate_due(cal, clauses, passed=False, today=today, route="annex_i")
    assert annex_i is not None
    assert (annex_i.date, annex_i.state) == (date(2027, 8, 2), DueState.UPCOMING)
    assert calendar.gate_due(cal, ("NIST AI RMF MAP",), passed=False, today=today) is None


def test_gates_carry_their_due_date(do: UseCases, clock: FrozenClock) -> None:
    do(projects.create_project, ProjectCreate(key=KEY, name="Due"))
    intake = next(g for g in do.read(gates.list_gates, KEY) if g.template == "intake")
    assert intake.due is not None and intake.due.date == date(2026, 8, 2)
    assert intake.due.state is DueState.UPCOMING  # the test clock is at 2026-01-05
    clock.advance(timedelta(days=334))  # 2026-12-05
    intake = do.read(gates.get_gate, intake.id)
    assert intake.due is not None and intake.due.state is DueState.OVERDUE
