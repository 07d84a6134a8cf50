"""Seed the demo project through the SDK, i.e. through the real API.

Safe to run again: every piece is looked up by its name before it is created (the
project by key, hypotheses and work items by title, runs by name), nothing is deleted,
and a seed that was cut short is completed. A run a crashed seed left ``running`` is
marked ``failed`` (it never counts as evidence) and trained again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from loopwise.core.errors import NotFound
from loopwise.core.progress import QuietReporter, Reporter
from loopwise.demo.training import ModelSpec, load_split, steps, train
from loopwise.planning.hypotheses.models import Hypothesis, Verdict
from loopwise.planning.items.models import ItemStatus
from loopwise.sdk.client import Client

PROJECT_KEY = "CANCER"
PROJECT_NAME = "Breast cancer screening"

CHARTER: dict[str, Any] = {
    "problem": (
        "Radiologists triage fine-needle aspirate results by hand and miss about 4 in "
        "1,000 malignant cases at first read. Flag likely-malignant samples for a second "
        "read so that fewer cancers slip through, without flooding the review queue."
    ),
    "business_kpi": {
        "name": "Malignant cases missed at triage",
        "baseline": 4.2,
        "target": 2.0,
        "unit": "per 1,000 screenings",
    },
    "success_metric": {"key": "recall", "comparator": ">=", "threshold": 0.95},
    "constraints": [
        {"name": "p95 latency", "value": "< 50 ms per sample on the triage server"},
        {"name": "Review load", "value": "precision >= 0.85 (at most 15% needless reviews)"},
        {"name": "Explainability", "value": "per-prediction feature attributions for clinicians"},
        {"name": "Data residency", "value": "EU only; no patient data leaves the hospital"},
    ],
    "data_sources": [
        {
            "name": "Wisconsin Diagnostic Breast Cancer (scikit-learn bundled)",
            "owner": "UCI Machine Learning Repository",
            "permission": "granted",
        },
        {
            "name": "Hospital pathology exports 2019-2025",
            "owner": "Pathology IT (Dr. M. Keller)",
            "permission": "pending",
        },
    ],
}

SUPPORTED_BY_GB = "Gradient boosting reaches recall >= 0.95"
AUC_BY_LOGREG = "Scaled logistic regression reaches ROC AUC >= 0.99"
FOREST_RECALL = "Random forest reaches recall >= 0.95 at the default cut-off"
FEW_FEATURES = "Ten measurements are enough for recall >= 0.95"


def _hypotheses(now: datetime) -> list[dict[str, Any]]:
    two_weeks = now + timedelta(days=14)
    return [
        {
            "title": SUPPORTED_BY_GB,
            "statement": "Gradient boosting reaches recall >= 0.95 on the hold-out set "
            "within two weeks, with the decision cut-off chosen on the training split only.",
            "metric": "recall",
            "comparator": ">=",
            "threshold": 0.95,
            "baseline": 0.906,
            "time_box_end": two_weeks,
            "labels": ["modeling"],
        },
        {
            "title": AUC_BY_LOGREG,
            "statement": "Logistic regression on standardised features ranks malignant "
            "above benign samples with ROC AUC >= 0.99: a simple, explainable model may do.",
            "metric": "roc_auc",
            "comparator": ">=",
            "threshold": 0.99,
            "baseline": 0.5,
            "time_box_end": two_weeks,
            "labels": ["modeling", "explainability"],
        },
        {
            "title": FOREST_RECALL,
            "statement": "A random forest reaches recall >= 0.95 without tuning the "
            "decision cut-off.",
            "metric": "recall",
            "comparator": ">=",
            "threshold": 0.95,
            "time_box_end": two_weeks,
            "kill_after_runs": 2,
            "kill_criterion": "Stop after two forest configurations miss the bar.",
            "labels": ["modeling"],
        },
        {
            "title": FEW_FEATURES,
            "statement": "A model that sees only the 10 most informative of the 30 "
            "measurements keeps recall >= 0.95, which would make the lab form shorter.",
            "metric": "recall",
            "comparator": ">=",
            "threshold": 0.95,
            "time_box_end": now + timedelta(days=21),
            "labels": ["data", "cost"],
        },
    ]


RUNS: tuple[ModelSpec, ...] = (
    ModelSpec("baseline-majority", "Baselines", "dummy", {"strategy": "most_frequent"}),
    ModelSpec("logreg-C1", "Linear models", "logreg", {"C": 1.0}, AUC_BY_LOGREG),
    ModelSpec("logreg-C0.1", "Linear models", "logreg", {"C": 0.1}, AUC_BY_LOGREG),
    ModelSpec(
        "logreg-top10-features", "Linear models", "logreg", {"C": 1.0, "k_best": 10}, FEW_FEATURES
    ),
    ModelSpec("forest-200", "Tree ensembles", "forest", {"n_estimators": 200}, FOREST_RECALL),
    ModelSpec(
        "forest-200-depth3",
        "Tree ensembles",
        "forest",
        {"n_estimators": 200, "max_depth": 3},
        FOREST_RECALL,
    ),
    ModelSpec(
        "gboost-depth3",
        "Tree ensembles",
        "boosting",
        {"n_estimators": 150, "learning_rate": 0.1, "max_depth": 3},
        SUPPORTED_BY_GB,
    ),
    ModelSpec(
        "gboost-depth2-tuned-cutoff",
        "Tree ensembles",
        "boosting",
        {
            "n_estimators": 200,
            "learning_rate": 0.05,
            "max_depth": 2,
            "subsample": 0.8,
            "decision_threshold": "tuned",
            "target_oof_recall": 0.97,
        },
        SUPPORTED_BY_GB,
    ),
)

# (title, kind, final column, description); each moves backlog -> ... -> final.
TASKS: tuple[tuple[str, str, ItemStatus, str], ...] = (
    (
        "Build the stratified hold-out split (25%, seed 42)",
        "task",
        ItemStatus.DONE,
        "Never tune on the hold-out set: cut-offs come from out-of-fold predictions.",
    ),
    (
        "Majority-class baseline",
        "task",
        ItemStatus.DONE,
        "Anything useful must beat 'everything is benign' (recall 0).",
    ),
    (
        "Get sign-off for the hospital pathology exports",
        "data_task",
        ItemStatus.IN_PROGRESS,
        "Data protection officer review requested; permission pending.",
    ),
    (
        "Measure p95 latency on the triage server",
        "task",
        ItemStatus.READY,
        "The charter allows 50 ms per sample; the runs log latency_p95_ms on a laptop.",
    ),
    ("Draft the model card for clinical review", "task", ItemStatus.BACKLOG, ""),
)

_PATH = {
    ItemStatus.READY: [ItemStatus.READY],
    ItemStatus.IN_PROGRESS: [ItemStatus.READY, ItemStatus.IN_PROGRESS],
    ItemStatus.REVIEW: [ItemStatus.READY, ItemStatus.IN_PROGRESS, ItemStatus.REVIEW],
    ItemStatus.DONE: [ItemStatus.READY, ItemStatus.IN_PROGRESS, ItemStatus.DONE],
    ItemStatus.KILLED: [ItemStatus.READY, ItemStatus.IN_PROGRESS, ItemStatus.KILLED],
}


@dataclass(frozen=True)
class HypothesisOutcome:
    key: str
    title: str
    verdict: str
    verdict_run_id: str | None


@dataclass
class SeedResult:
    project_created: bool = False
    hypotheses_created: int = 0
    items_created: int = 0
    runs_created: int = 0
    runs_marked_failed: int = 0
    hypotheses: list[HypothesisOutcome] = field(default_factory=list)

    @property
    def complete_before(self) -> bool:
        """True when the store already held the whole demo and nothing was added."""
        return not (
            self.project_created
            or self.hypotheses_created
            or self.items_created
            or self.runs_created
        )


def _move(client: Client, key: str, current: str, final: ItemStatus, note: str) -> None:
    """Walk an item from backlog to ``final``; items someone already moved are left alone."""
    if current != ItemStatus.BACKLOG or final is ItemStatus.BACKLOG:
        return
    path = _PATH[final]
    for i, status in enumerate(path):
        client.move_item(key, status.value, note if i == len(path) - 1 else "")


def seed_demo(client: Client, *, reporter: Reporter | None = None) -> SeedResult:
    """Create (or complete) the demo project; returns what was added and the verdicts."""
    report = reporter or QuietReporter()
    result = SeedResult()
    now = datetime.now(UTC)

    try:
        client.get_project(PROJECT_KEY)
    except NotFound:
        client.create_project(
            PROJECT_KEY,
            PROJECT_NAME,
            phase="modeling",
            charter=CHARTER,
            description="Demo: flag likely-malignant samples in breast cancer screening.",
        )
        result.project_created = True

    existing = {h.item.title: h for h in client.list_hypotheses(PROJECT_KEY)}
    for hypothesis in _hypotheses(now):
        if hypothesis["title"] not in existing:
            fields = dict(hypothesis)
            title = fields.pop("title")
            existing[title] = client.create_hypothesis(PROJECT_KEY, title, **fields)
            result.hypotheses_created += 1
    keys = {title: h.item.key for title, h in existing.items()}

    items = {i.title: i for i in client.list_items(PROJECT_KEY)}
    for title, kind, _final, description in TASKS:
        if title not in items:
            items[title] = client.create_item(
                PROJECT_KEY, title, kind=kind, description=description
            )
            result.items_created += 1

    runs = client.list_runs(PROJECT_KEY, limit=1000)
    planned = {spec.run_name for spec in RUNS}
    done = {r.name for r in runs if r.status.value == "finished"}
    for stale in (r for r in runs if r.name in planned and r.status.value == "running"):
        client.finish_run(stale.id, "failed")  # left behind by a seed that crashed
        result.runs_marked_failed += 1
    todo = [spec for spec in RUNS if spec.run_name not in done]

    if todo:
        report.info(f"training {len(todo)} models on the breast cancer data set")
        split = load_split()
        for spec in todo:
            advance = report.task(spec.run_name, steps(spec))
            _record_run(client, spec, split, keys, advance)
            result.runs_created += 1

    if not result.complete_before:
        # Walk the board only while seeding, never over changes made since.
        for title, _kind, final, _description in TASKS:
            item = items[title]
            _move(client, item.key, item.status, final, "")
        for h in client.list_hypotheses(PROJECT_KEY):
            final, note = _hypothesis_status(h)
            _move(client, h.item.key, h.item.status, final, note)

    for h in client.list_hypotheses(PROJECT_KEY):
        result.hypotheses.append(
            HypothesisOutcome(h.item.key, h.item.title, h.verdict.value, h.verdict_run_id)
        )
    return result


def _hypothesis_status(h: Hypothesis) -> tuple[ItemStatus, str]:
    if h.verdict is Verdict.SUPPORTED:
        # Review, not done: the Definition of Done also wants a journal note from a person.
        return ItemStatus.REVIEW, h.verdict_reason
    if h.verdict is Verdict.REFUTED:
        return ItemStatus.KILLED, h.verdict_reason
    return ItemStatus.IN_PROGRESS, ""


def _record_run(
    client: Client,
    spec: ModelSpec,
    split: Any,
    hypothesis_keys: dict[str, str],
    advance: Callable[[int], None],
) -> None:
    trained = train(spec, split, advance)
    hypothesis = hypothesis_keys.get(spec.hypothesis) if spec.hypothesis else None
    with client.start_run(
        PROJECT_KEY,
        hypothesis=hypothesis,
        experiment=spec.experiment,
        name=spec.run_name,
        params=trained.params,
        tags=trained.tags,
    ) as run:
        for key, points in trained.series.items():
            for step, value in points:
                run.log_metric(key, value, step=step)
        run.log_metrics(trained.final)
        for path, content in trained.artifacts.items():
            client.upload_artifact(run.id, path, content)
