"""A planning history for the web tests: six weeks of a project's board, seeded through the
REST API while a frozen clock advances, so flow charts, forecasts and milestones have
something to show. Works with a TestClient or an HTTP client to a live server."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Protocol

from loopwise.core.clock import FrozenClock


class Http(Protocol):
    def get(self, url: str, **kwargs: Any) -> Any: ...
    def post(self, url: str, **kwargs: Any) -> Any: ...
    def put(self, url: str, **kwargs: Any) -> Any: ...


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def make_item(http: Http, project: str, title: str, **fields: Any) -> str:
    body = {"title": title, **fields}
    return str(ok(http.post(f"/api/v1/projects/{project}/items", json=body), 201)["key"])


def make_hypothesis(http: Http, project: str, title: str, **fields: Any) -> str:
    body = {"title": title, "statement": title, "metric_key": "recall", "threshold": 0.8}
    body |= fields
    created = ok(http.post(f"/api/v1/projects/{project}/hypotheses", json=body), 201)
    return str(created["item"]["key"])


def move(http: Http, key: str, status: str, reason: str = "") -> None:
    ok(http.post(f"/api/v1/items/{key}/status", json={"status": status, "reason": reason}))


def finish(http: Http, key: str, kind: str) -> None:
    """Move to done, meeting the default Definition of Done the way a team would."""
    if kind in ("experiment", "retraining"):
        for check in ok(http.get(f"/api/v1/items/{key}/checks")):
            body = {"text": check["text"], "checked": True}
            ok(http.post(f"/api/v1/items/{key}/checks", json=body))
    reason = "dataset registered in the warehouse catalogue" if kind == "data_task" else ""
    move(http, key, "done", reason)


TASKS = [
    ("Export CRM snapshot", "data_task", ["data"]),
    ("Join billing events", "data_task", ["data"]),
    ("Label churn reasons", "data_task", ["data", "labels"]),
    ("Baseline logistic regression", "experiment", ["model"]),
    ("Feature: tenure buckets", "task", ["features"]),
    ("Feature: support ticket counts", "task", ["features"]),
    ("Fix leakage in cancel date", "bug", ["data"]),
    ("Gradient boosting sweep", "experiment", ["model"]),
    ("Calibration plot", "task", ["evaluation"]),
    ("Threshold for retention calls", "task", ["evaluation"]),
    ("Model card draft", "task", ["docs"]),
    ("Scoring API stub", "task", ["serving"]),
    ("Latency test at p95", "task", ["serving"]),
    ("Drift monitor for tenure", "task", ["monitoring"]),
    ("Retrain schedule", "retraining", ["monitoring"]),
    ("Explainability for CRM", "task", ["serving"]),
    ("Dashboard for retention team", "task", ["docs"]),
    ("Nightly batch scoring", "task", ["serving"]),
    ("Backfill six months", "data_task", ["data"]),
    ("Review fairness by region", "task", ["evaluation"]),
]


def seed_planning(http: Http, clock: FrozenClock, project: str = "CHURN") -> dict[str, Any]:
    """CHURN: ~24 items moved over six weeks, three hypotheses (one past its time-box),
    two cycles, a milestone, four risks and a RACI table. Leaves the clock six weeks on."""
    start = clock.now()
    ok(
        http.post(
            "/api/v1/projects",
            json={
                "key": project,
                "name": "Churn prediction",
                "phase": "modeling",
                "charter": {"problem": "Subscribers cancel without warning."},
            },
        ),
        201,
    )
    keys = [
        make_item(
            http, project, title, kind=kind, labels=labels, assignee="local" if i % 3 else None
        )
        for i, (title, kind, labels) in enumerate(TASKS)
    ]
    hyps = [
        make_hypothesis(http, project, "Boosting beats logistic regression"),
        make_hypothesis(
            http,
            project,
            "Ticket counts add recall",
            time_box_end=(start + timedelta(days=12)).isoformat(),
        ),
        make_hypothesis(http, project, "Tenure alone explains churn"),
    ]
    ok(
        http.post(
            f"/api/v1/projects/{project}/cycles",
            json={"goal": "A baseline and clean data", "starts_on": str(start.date()), "days": 21},
        ),
        201,
    )
    ok(http.post(f"/api/v1/projects/{project}/cycles", json={"goal": "Beat the baseline"}), 201)
    ok(http.post(f"/api/v1/projects/{project}/cycles/1/items", json={"items": keys[:8] + hyps[:2]}))
    ok(http.post(f"/api/v1/projects/{project}/cycles/2/items", json={"items": keys[8:14]}))
    # Six weeks: start about one item a day-and-a-half, finish with varying cycle times.
    durations = [1, 2, 3, 1, 4, 2, 6, 3, 2, 5, 1, 3, 8, 2]
    for i, key in enumerate(keys[:14]):
        clock.advance(timedelta(hours=30))
        move(http, key, "in_progress")
        clock.advance(timedelta(hours=durations[i] * 5))
        move(http, key, "review")
        clock.advance(timedelta(hours=durations[i] * 7))
        finish(http, key, TASKS[i][1])
    move(http, keys[14], "in_progress")
    move(http, keys[15], "in_progress")
    move(http, hyps[1], "in_progress")
    move(http, keys[16], "ready")
    clock.advance(timedelta(days=4))
    move(http, hyps[0], "in_progress")
    move(http, keys[17], "review", reason="pairing on it")
    clock.advance(timedelta(days=1))
    today = clock.now().date()
    milestone = ok(
        http.post(
            f"/api/v1/projects/{project}/milestones",
            json={
                "name": "Pilot with the retention team",
                "target_date": str(today + timedelta(days=45)),
                "items": keys[10:20],
                "description": "Scores in the CRM for one region",
            },
        ),
        201,
    )
    risks = [
        ("Labels are noisy", "data", 4, 5, "ada", -2),
        ("CRM export permission delayed", "legal", 3, 4, "sales ops", 10),
        ("Model unfair across regions", "ethical", 2, 5, "ml lead", 20),
        ("Scoring latency above 50 ms", "technical", 2, 2, "", None),
    ]
    for title, category, likelihood, impact, owner, review in risks:
        body: dict[str, Any] = {
            "title": title,
            "category": category,
            "likelihood": likelihood,
            "impact": impact,
            "owner": owner,
            "items": keys[:1],
        }
        if review is not None:
            body["next_review"] = str(today + timedelta(days=review))
        if likelihood * impact >= 15:
            body |= {"mitigation": "Relabel a sample twice", "residual_likelihood": 2}
            body["residual_impact"] = 4
        ok(http.post(f"/api/v1/projects/{project}/risks", json=body), 201)
    for deliverable, people in (
        ("Business understanding", {"ada": "A", "bob": "R", "sales ops": "C"}),
        ("Modeling", {"bob": "A", "cy": "R", "ada": "C", "retention team": "I"}),
    ):
        ok(
            http.put(
                f"/api/v1/projects/{project}/raci",
                json={"deliverable": deliverable, "people": people},
            )
        )
    return {"items": keys, "hypotheses": hyps, "milestone": milestone["id"], "today": today}


def today_of(clock: FrozenClock) -> date:
    return clock.now().date()
