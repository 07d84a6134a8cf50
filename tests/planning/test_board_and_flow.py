"""Board, WIP limits, Definition of Done, cycles, forecasts, milestones, risks, RACI and
portfolio: the planning services called directly with the schemas the API validates, on
both backends. What only the REST door does is in test_planning_api.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from loopwise.core.clock import FrozenClock
from loopwise.core.errors import Conflict, InvalidInput, NotFound
from loopwise.numeric.forecast import WhenForecast
from loopwise.planning.board import done
from loopwise.planning.board import service as board
from loopwise.planning.board.models import Column, DoneCheck
from loopwise.planning.board.schemas import CheckIn, ColumnsIn, DoneTemplateIn
from loopwise.planning.cycles import service as cycles
from loopwise.planning.cycles.schemas import CycleCreate
from loopwise.planning.flow import service as flow
from loopwise.planning.flow.schemas import BacktestIn, ForecastIn, HowManyIn, WhenIn
from loopwise.planning.hypotheses import service as hypotheses
from loopwise.planning.hypotheses.schemas import HypothesisCreate
from loopwise.planning.items import service as items
from loopwise.planning.items.models import ItemKind, WorkItem
from loopwise.planning.items.schemas import ItemCreate, StatusChange
from loopwise.planning.milestones import service as milestones
from loopwise.planning.milestones.schemas import MilestoneCreate
from loopwise.planning.portfolio import service as portfolio
from loopwise.planning.raci import service as raci
from loopwise.planning.raci.schemas import RaciSet
from loopwise.planning.risks import service as risks
from loopwise.planning.risks.models import RiskStatus
from loopwise.planning.risks.schemas import RiskCreate, RiskUpdate
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import MetricIn, RunCreate, RunFinish
from use_cases import UseCases

pytestmark = pytest.mark.store


@pytest.fixture
def project(make_project: Callable[[str], str]) -> str:
    return make_project("FLOW")


def make_items(do: UseCases, n: int, key: str = "FLOW", kind: str = "task") -> list[str]:
    return [
        do(
            items.create_item, key, ItemCreate.model_validate({"title": f"item {i}", "kind": kind})
        ).key
        for i in range(n)
    ]


def move(do: UseCases, item: str, status: str, reason: str = "") -> WorkItem:
    """What the API does with a status change: the schema, then the board service."""
    body = StatusChange.model_validate({"status": status, "reason": reason})
    return do(board.move_item, item, body.status, reason=body.reason, note=body.note)


def test_wip_limit_refuses_a_move_unless_a_reason_is_given(do: UseCases, project: str) -> None:
    a, b = make_items(do, 2)
    assert do(board.set_wip_limit, project, "in_progress", 1).wip_limit == 1
    move(do, a, "in_progress")
    with pytest.raises(Conflict, match="WIP limit"):
        move(do, b, "in_progress")
    assert do.read(items.get_item, b).status == "backlog"  # nothing changed
    move(do, b, "in_progress", reason="production incident needs it now")
    last = do.read(items.item_history, b)[-1]
    assert last.to_value == "in_progress"
    assert "production incident" in last.note and "WIP limit" in last.note
    found = do.read(board.board, project)
    column = next(c for c in found.columns if c.column.key == "in_progress")
    assert column.count == 2 and column.over_limit is True


def test_definition_of_done_blocks_done_until_checked(do: UseCases, project: str) -> None:
    rule = DoneTemplateIn.model_validate({"checks": [{"text": "Reviewed"}, {"text": "Documented"}]})
    checks = [DoneCheck(c.text, c.rule) for c in rule.checks]
    assert do(done.set_template, project, ItemKind.TASK, checks) == tuple(checks)
    (item,) = make_items(do, 1)
    with pytest.raises(Conflict, match="Reviewed; Documented"):
        move(do, item, "done")
    for text in ("Reviewed", "Documented"):
        check = CheckIn(text=text, checked=True)
        do(done.set_check, item, check.text, check.checked)
    assert move(do, item, "done").status == "done"
    found = do.read(done.get_checks, item)
    assert [c.text for c in found] == ["Reviewed", "Documented"]
    assert all(c.checked and c.checked_by == "local" for c in found)


def test_hypothesis_done_rule_is_computed_from_the_verdict(do: UseCases, project: str) -> None:
    body = HypothesisCreate(title="h", statement="s", metric_key="auc", threshold=0.9)
    h = do(hypotheses.create_hypothesis, project, body).item.key
    with pytest.raises(InvalidInput):  # computed, not ticked
        do(done.set_check, h, "Verdict recorded", True)
    run = do(tracking.create_run, project, RunCreate(hypotheses=[h]))
    do(tracking.log_metrics, run.id, [MetricIn(key="auc", value=0.95)])
    do(tracking.finish_run, run.id, RunFinish())
    checks = {c.text: c.checked for c in do.read(done.get_checks, h)}
    assert checks == {"Verdict recorded": True, "Journal note written": False}


def test_only_hypotheses_and_experiments_can_be_killed(do: UseCases, project: str) -> None:
    (task,) = make_items(do, 1)
    with pytest.raises(InvalidInput):
        move(do, task, "killed", reason="x")
    assert do.read(items.get_item, task).status == "backlog"
    (exp,) = make_items(do, 1, kind="experiment")
    assert move(do, exp, "killed").status == "killed"


def test_custom_columns_and_unknown_column(do: UseCases, project: str) -> None:
    (item,) = make_items(do, 1)
    body = ColumnsIn.model_validate(
        {
            "columns": [
                {"key": "backlog", "name": "Ideas", "category": "todo"},
                {"key": "labelling", "name": "Labelling", "category": "started", "wip_limit": 2},
                {"key": "done", "name": "Shipped", "category": "done"},
            ]
        }
    )
    columns = [Column(c.key, c.name, c.category, c.wip_limit) for c in body.columns]
    assert do(board.set_columns, project, columns) == columns
    assert do.read(board.get_columns, project) == columns
    assert move(do, item, "labelling").status == "labelling"
    with pytest.raises(InvalidInput, match="no column"):
        move(do, item, "review")
    with pytest.raises(Conflict, match=r"labelling \(1\)"):
        do(board.set_columns, project, [columns[0], columns[2]])
    assert do.read(board.get_columns, project) == columns


def test_board_filters(do: UseCases, project: str) -> None:
    do(items.create_item, project, ItemCreate(title="a", labels=["data"]))
    do(items.create_item, project, ItemCreate(title="b", kind=ItemKind.BUG))

    def titles(**where: Any) -> list[str]:
        found = do.read(board.board, project, board.BoardFilter(**where))
        return sorted(card.title for col in found.columns for card in col.cards)

    assert titles() == ["a", "b"]
    assert titles(label="data") == ["a"]
    assert titles(kind=ItemKind.BUG) == ["b"]
    assert titles(label="data", kind=ItemKind.BUG) == []


def deliver_one_per_day(do: UseCases, clock: FrozenClock, keys: list[str], days: int) -> None:
    """A team that finishes exactly one item every day."""
    for item in keys[:days]:
        move(do, item, "in_progress")
        clock.advance(timedelta(hours=20))
        move(do, item, "done")
        clock.advance(timedelta(hours=4))


def when(do: UseCases, project: str, **query: Any) -> WhenForecast:
    """A when-forecast asked as the API asks it: the query schema, then the service."""
    q = WhenIn.model_validate(query)
    return do.read(
        flow.forecast_when,
        project,
        scope=q.scope,
        item_keys=q.item_keys,
        window_days=q.window_days,
        trials=q.trials,
        data_multiplier=q.data_multiplier,
        seed=q.seed,
    )


def test_forecasts_are_deterministic_for_constant_throughput(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    keys = make_items(do, 40)
    deliver_one_per_day(do, clock, keys, 30)
    forecast = when(do, project, items=7, window_days=28)
    assert forecast.days == {50: 7, 85: 7, 95: 7}
    today = clock.now().date()
    assert forecast.dates[85] == today + timedelta(days=6)
    assert when(do, project, window_days=28).days[50] == 10  # all unfinished items: 10 left
    q = HowManyIn.model_validate({"by": str(today + timedelta(days=4)), "window_days": 28})
    how_many = do.read(
        flow.forecast_how_many, project, q.by, window_days=q.window_days, trials=q.trials
    )
    assert how_many.counts == {50: 5, 85: 5, 95: 5}
    report = do.read(flow.flow_report, project, days=30)
    assert report.cycle_time_percentiles[50] == pytest.approx(20 / 24)
    assert sum(report.daily_throughput) == 30


def test_killed_items_count_and_data_tasks_weigh_more(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    experiments = make_items(do, 20, kind="experiment")
    for item in experiments:  # one killed experiment a day
        clock.advance(timedelta(days=1))
        move(do, item, "killed")
    clock.advance(timedelta(days=1))
    data = make_items(do, 2, kind="data_task")
    forecast = when(do, project, keys=",".join(data).lower(), window_days=20, data_multiplier=2.0)
    assert forecast.scope_low == 4.0 and forecast.days[50] == 4


def test_forecast_without_throughput_is_refused(do: UseCases, project: str) -> None:
    make_items(do, 3)
    with pytest.raises(InvalidInput, match="no item finished"):
        when(do, project, items=3)


def test_forecast_questions_are_checked(do: UseCases, project: str) -> None:
    for bad in ({"items_high": 5}, {"items": 5, "items_high": 4}, {"window_days": 6}):
        with pytest.raises(ValidationError):
            WhenIn.model_validate(bad)
    with pytest.raises(ValidationError):
        BacktestIn.model_validate({"windows": 0})
    with pytest.raises(InvalidInput):
        do.read(flow.flow_report, project, days=0)


def test_milestone_forecast_and_probability(do: UseCases, project: str, clock: FrozenClock) -> None:
    keys = make_items(do, 40)
    deliver_one_per_day(do, clock, keys, 30)
    today = clock.now().date()
    options = ForecastIn.model_validate({"window_days": 28})

    def milestone_forecast(body: dict[str, Any]) -> milestones.MilestoneForecast:
        m = MilestoneCreate.model_validate(body)
        made = do(milestones.create_milestone, project, m.name, m.target_date, item_keys=m.items)
        return do.read(
            milestones.forecast, made.id, window_days=options.window_days, trials=options.trials
        )

    pilot = {"name": "Pilot", "target_date": str(today + timedelta(days=2)), "items": keys[28:35]}
    fc = milestone_forecast(pilot)
    assert fc.milestone.remaining == 5
    assert fc.forecast is not None and fc.forecast.days[50] == 5
    assert fc.probability == 0.0  # five items at one a day cannot land in three days
    ga = {"name": "GA", "target_date": str(today + timedelta(days=30)), "items": keys[30:]}
    assert milestone_forecast(ga).probability == 1.0


def test_backtest_reports_windows(do: UseCases, project: str, clock: FrozenClock) -> None:
    keys = make_items(do, 60)
    deliver_one_per_day(do, clock, keys, 60)
    q = BacktestIn.model_validate({"horizon_weeks": 1, "windows": 4})
    report = do.read(flow.backtest, project, horizon_weeks=q.horizon_weeks, windows=q.windows)
    assert len(report.windows) == 4 and report.hit_rate == 1.0
    assert all(w.actual == 7 for w in report.windows)


def test_cycle_report(do: UseCases, project: str, clock: FrozenClock) -> None:
    a, b, c = make_items(do, 3)

    def new_cycle(**fields: Any) -> Any:
        body = CycleCreate.model_validate(fields)
        return do(
            cycles.create_cycle,
            project,
            goal=body.goal,
            name=body.name,
            starts_on=body.starts_on,
            days=body.days,
        )

    cycle = new_cycle(goal="Baseline model")
    assert cycle.number == 1 and cycle.name == "Cycle 1"
    assert cycle.ends_on == clock.now().date() + timedelta(days=20)  # three weeks by default
    do(cycles.plan_items, project, 1, [a, b, c])
    move(do, a, "done")
    clock.advance(timedelta(days=30))
    move(do, b, "done")  # after the cycle ended: carry-over
    report = do.read(cycles.report, project, 1)
    assert list(report.planned) == [a, b, c]
    assert list(report.done) == [a]
    assert list(report.carry_over) == [b, c]
    nxt = new_cycle()
    assert nxt.starts_on == clock.now().date() - timedelta(days=30) + timedelta(days=21)


def test_risk_register(do: UseCases, project: str, clock: FrozenClock) -> None:
    (item,) = make_items(do, 1)
    body = RiskCreate.model_validate(
        {
            "title": "Labels are noisy",
            "category": "data",
            "likelihood": 4,
            "impact": 5,
            "owner": "ada",
            "next_review": str(clock.now().date() - timedelta(days=1)),
            "items": [item],
        }
    )
    risk = do(risks.create_risk, project, body)
    assert risk.key == "FLOW-R1" and risk.score == 20 and risk.level == "high"
    assert risk.review_overdue is True and list(risk.item_keys) == [item]

    def heat() -> risks.HeatMap:
        return risks.heat_map(do.read(risks.list_risks, project, include_closed=False))

    assert heat().cells[3][4] == ("FLOW-R1",)
    with pytest.raises(ValidationError):
        RiskCreate.model_validate({"title": "x", "category": "data", "likelihood": 6, "impact": 1})
    closed = do(risks.update_risk, "FLOW-R1", RiskUpdate(status=RiskStatus.CLOSED))
    assert closed.review_overdue is False
    assert heat().cells[3][4] == ()
    assert [r.key for r in do.read(risks.list_risks, project)] == ["FLOW-R1"]
    with pytest.raises(NotFound):
        do.read(risks.get_risk, "FLOW-R9")


def test_raci_allows_one_accountable(do: UseCases, project: str) -> None:
    ok = RaciSet.model_validate(
        {"deliverable": "Modeling", "people": {"ada": "A", "bob": "R", "cy": "C"}}
    )
    assert len(do(raci.set_raci, project, ok.deliverable, ok.people)) == 3
    two = RaciSet.model_validate({"deliverable": "Modeling", "people": {"ada": "A", "bob": "A"}})
    with pytest.raises(InvalidInput):
        do(raci.set_raci, project, two.deliverable, two.people)
    assert len(do.read(raci.list_raci, project)) == 3


def test_portfolio_summarises_each_project(
    do: UseCases, make_project: Callable[[str], str]
) -> None:
    make_project("ONE")
    make_project("TWO")
    body = RiskCreate(title="r", category="legal", likelihood=5, impact=5)
    do(risks.create_risk, "ONE", body)
    rows = {p.key: p for p in do.read(portfolio.portfolio)}
    assert set(rows) == {"ONE", "TWO"}
    assert rows["ONE"].open_high_risks == 1 and rows["TWO"].open_high_risks == 0
    assert rows["ONE"].success_rate is None


def test_backtest_on_a_brand_new_project_is_refused(do: UseCases, project: str) -> None:
    make_items(do, 2)  # created today: no complete day of history yet
    with pytest.raises(InvalidInput, match=".+"):
        do.read(flow.backtest, project, horizon_weeks=2, windows=8)
