"""The runs table (filter grammar, sorting, experiments, paging), the run page's bucketed
charts and the comparison page, without a browser, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import math
import re
import time
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import insert
from starlette.testclient import TestClient

from loopwise import Client
from loopwise.core.clock import FrozenClock
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.tracking import ingest
from loopwise.tracking import pages as tracking_pages
from loopwise.tracking import service as tracking
from loopwise.tracking.tables import ParamRow, RunRow

RUNS = [  # name, experiment, params, final acc
    ("gb-deep", "boosting", {"model": "gb", "depth": 8, "lr": 0.1}, 0.95),
    ("gb-shallow", "boosting", {"model": "gb", "depth": 3, "lr": 0.1}, 0.88),
    ("logreg", "baseline", {"model": "lr", "C": 1.0}, 0.81),
    ("gb-tiny-lr", "boosting", {"model": "gb", "depth": 8, "lr": 0.001}, 0.93),
]


def alerts(page: str) -> list[str]:
    block = re.search(r'<div class="errors" role="alert">(.*?)</div>', page, re.S)
    return (
        [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", block.group(1))] if block else []
    )


def names(page: str) -> list[str]:
    """Run names in the runs table, top to bottom."""
    body = page.split('<table id="runs"', 1)[1] if '<table id="runs"' in page else ""
    return re.findall(r'<a href="/runs/run_[0-9a-f]+">([^<]+)</a>', body)


@pytest.fixture
def seeded(client: Client, clock: FrozenClock) -> dict[str, str]:
    client.create_project("CHURN", "Churn")
    ids = {}
    for n, (name, experiment, params, acc) in enumerate(RUNS):
        clock.advance(timedelta(minutes=5))  # distinct start times: a stable default order
        with client.start_run("CHURN", experiment=experiment, name=name, params=params) as run:
            for step in range(30):
                run.log_metric("acc", acc * (1 - 0.5 / (step + 1 + n)), step=step)
                run.log_metric("loss", 1 / (step + 1 + n), step=step)
            run.log_metric("acc", acc, step=30)
        ids[name] = run.id
    return ids


def test_runs_table_renders_all_runs_with_param_and_metric_columns(
    api: TestClient, seeded: dict[str, str]
) -> None:
    page = api.get("/projects/CHURN/runs")
    assert page.status_code == 200
    assert sorted(names(page.text)) == sorted(seeded)
    for sort_key in ("metrics.acc", "metrics.loss", "params.model", "params.depth"):
        assert f'data-sort="{sort_key}"' in page.text
    assert 'aria-sort="descending" data-sort="attributes.start_time"' in page.text  # default
    assert 'id="run-filter"' in page.text and 'name="runs"' in page.text


def test_filter_with_the_api_grammar(api: TestClient, seeded: dict[str, str]) -> None:
    page = api.get(
        "/projects/CHURN/runs", params={"filter": "metrics.acc > 0.9 and params.model = 'gb'"}
    )
    assert page.status_code == 200
    assert sorted(names(page.text)) == ["gb-deep", "gb-tiny-lr"]
    assert "metrics.acc &gt; 0.9 and params.model = &#39;gb&#39;" in page.text  # kept in the box
    like = api.get("/projects/CHURN/runs", params={"filter": "params.model LIKE 'l%'"})
    assert names(like.text) == ["logreg"]
    none = api.get("/projects/CHURN/runs", params={"filter": "metrics.acc > 2"})
    assert none.status_code == 200 and names(none.text) == [] and "No runs match" in none.text


def test_sort_by_text_and_by_header_links(api: TestClient, seeded: dict[str, str]) -> None:
    page = api.get("/projects/CHURN/runs", params={"order": "metrics.acc DESC"})
    assert names(page.text) == ["gb-deep", "gb-tiny-lr", "gb-shallow", "logreg"]
    assert 'aria-sort="descending" data-sort="metrics.acc"' in page.text
    # the active header flips the direction; the others start with their default
    link = re.search(r'data-sort="metrics.acc"><a class="sort active" href="([^"]+)"', page.text)
    assert link is not None
    flipped = api.get(html.unescape(link.group(1)))
    assert names(flipped.text) == ["logreg", "gb-shallow", "gb-tiny-lr", "gb-deep"]
    by_lr = api.get("/projects/CHURN/runs", params={"order": "params.lr ASC, metrics.acc DESC"})
    assert names(by_lr.text) == ["gb-tiny-lr", "gb-deep", "gb-shallow", "logreg"]  # no lr: last
    oldest = api.get("/projects/CHURN/runs", params={"order": "attributes.start_time ASC"})
    newest = api.get("/projects/CHURN/runs")
    assert names(oldest.text) == names(newest.text)[::-1]


def test_experiment_selector_and_status(
    api: TestClient, client: Client, seeded: dict[str, str]
) -> None:
    experiments = {e["name"]: e["id"] for e in api.get("/api/v1/projects/CHURN/experiments").json()}
    page = api.get("/projects/CHURN/runs", params={"experiment": experiments["baseline"]})
    assert names(page.text) == ["logreg"]
    assert f'<option value="{experiments["baseline"]}" selected>baseline</option>' in page.text
    combined = api.get(
        "/projects/CHURN/runs",
        params={"experiment": experiments["boosting"], "filter": "params.depth = '8'"},
    )
    assert sorted(names(combined.text)) == ["gb-deep", "gb-tiny-lr"]
    client.create_run("CHURN", name="still-going")
    running = api.get("/projects/CHURN/runs", params={"status": "running"})
    assert names(running.text) == ["still-going"]
    unknown = api.get("/projects/CHURN/runs", params={"experiment": "exp_nope"})
    assert unknown.status_code == 400
    assert alerts(unknown.text) == ["Experiment: not an experiment of this project"]


def test_paging_keeps_the_query(
    api: TestClient, seeded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking_pages, "PAGE_SIZE", 2)
    query = {"filter": "params.model = 'gb'", "order": "metrics.acc DESC"}
    first = api.get("/projects/CHURN/runs", params=query)
    assert names(first.text) == ["gb-deep", "gb-tiny-lr"]
    following = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert following is not None and 'rel="prev"' not in first.text
    second = api.get(html.unescape(following.group(1)))
    assert names(second.text) == ["gb-shallow"]
    assert 'rel="next"' not in second.text and 'rel="prev"' in second.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"filter": "metrics.acc >> 0.9"}, "Filter: expected a number or a quoted string, got '>'"),
        ({"filter": "metrics.acc > 'high'"}, "Filter: metrics.acc compares with numbers"),
        ({"filter": "params.model = gb"}, "Filter: expected a number or a quoted string"),
        ({"filter": "colour = 'red'"}, "Filter: unknown attribute 'colour'"),
        ({"filter": "metrics.acc > 0.9 or metrics.acc < 0.1"}, "Filter: expected AND, got 'or'"),
        ({"filter": "metrics.acc >"}, "Filter: the filter ends too early"),
        ({"filter": "params.x IN ('a'"}, "Filter: unclosed IN list: expected , or )"),
        ({"filter": "attributes.start_time > 1e20"}, "Filter: a time is out of range"),
        ({"filter": "attributes.start_time > 1e400"}, "Filter: a time is out of range"),
        ({"filter": "params.x = 'a\x00b'"}, "Filter: contains a NUL character"),
        ({"filter": "x" * 3000}, "Filter: at most 2,000 characters"),
        ({"order": "metrics.acc SIDEWAYS"}, "Sort: cannot order by 'metrics.acc SIDEWAYS'"),
        ({"order": "bogus.acc"}, "Sort: unknown entity 'bogus'"),
        ({"order": "attributes.user_id"}, "Sort: cannot order by attribute 'user_id'"),
        ({"order": ",".join(["metrics.a"] * 6)}, "Sort: at most five sort keys"),
    ],
)
def test_invalid_filter_rerenders_with_a_message(
    api: TestClient, seeded: dict[str, str], params: dict[str, str], message: str
) -> None:
    page = api.get("/projects/CHURN/runs", params=params)
    assert page.status_code == 400
    found = alerts(page.text)
    assert len(found) == 1 and found[0].startswith(message), found
    assert 'aria-invalid="true"' in page.text and 'id="run-filter"' in page.text
    assert '<table id="runs"' not in page.text


def test_hostile_filters_never_500(api: TestClient, seeded: dict[str, str]) -> None:
    for text in [
        "metrics.`acc` > -1e308",
        "metrics.acc > 1e400",
        "params.`we'ird` = 'x'",
        "tags.\"a b\" ILIKE '%'",
        "attributes.run_id IN ('x', 'run_y')",
        "attributes.status != 'FINISHED'",
        "attributes.end_time < -1e15",
        "metrics.acc = 0.95 and metrics.acc = 0.95 and params.model != 'z'",
        "'",
        "`",
        "(",
        "metrics.",
        "params.model NOT IN ('gb') and run_name LIKE '%'",
        "\u202e\u0000",
    ]:
        for name in ("filter", "order"):
            page = api.get("/projects/CHURN/runs", params={name: text})
            assert page.status_code in (200, 400), (name, text, page.status_code)


def test_run_page_charts_come_from_buckets(api: TestClient, client: Client) -> None:
    client.create_project("VIS", "Vision")
    run = client.create_run("VIS", name="long")
    values = [math.sin(i / 300) for i in range(5000)]
    values[3333] = 40.0  # one spike
    values[10] = math.nan
    client.log_metric_columns(run.id, "loss", range(5000), values)
    client.log_metrics(
        run.id, [{"key": "acc", "value": v, "step": i} for i, v in enumerate([0.5, 0.7])]
    )
    page = api.get(f"/runs/{run.id}")
    assert page.status_code == 200
    card = page.text.split('data-metric="loss"', 1)[1].split("</figure>", 1)[0]
    assert '<polygon class="range"' in card and '<polyline class="line mid"' in card
    assert "4,999 points drawn as 1,000 buckets" in card and "1 NaN point skipped" in card
    assert "5,000 points · min -1 · max 40 · last" in card
    short = page.text.split('data-metric="acc"', 1)[1].split("</figure>", 1)[0]
    assert '<polyline class="line"' in short and "<polygon" not in short


def test_compare_page_with_two_runs(api: TestClient, seeded: dict[str, str]) -> None:
    a, b = seeded["gb-deep"], seeded["gb-shallow"]
    page = api.get(f"/projects/CHURN/compare?runs={a},{b}")
    assert page.status_code == 200
    text = page.text
    # the param diff: depth differs, model and lr do not
    rows = {
        k: bool(cls) for cls, k in re.findall(r'<tr( class="differs")? data-param="([^"]+)"', text)
    }
    assert rows == {"depth": True, "lr": False, "model": False}
    assert '<span class="diff-mark" title="values differ">≠</span>' in text
    # overlay charts per common metric, legend with both names
    for key in ("acc", "loss"):
        figure = text.split(f'data-metric="{key}"', 1)[1].split("</figure>", 1)[0]
        assert figure.count('<g class="run"') == 2
        assert "gb-deep" in figure and "gb-shallow" in figure
    assert '<table id="metric-compare"' in text and "0.95" in text and "0.88" in text
    # parallel coordinates: depth and lr are numeric; lr is constant but still an axis
    assert 'data-axis="depth"' in text and 'data-axis="acc"' in text
    assert 'Not numeric, so not drawn: <span class="mono">model</span>' in text
    only = api.get(f"/projects/CHURN/compare?runs={a},{b}&params=diff")
    assert re.findall(r'data-param="([^"]+)"', only.text) == ["depth"]
    assert "Only differing (1)" in only.text and "All (3)" in only.text


def test_compare_accepts_repeated_params_and_picks_a_metric(
    api: TestClient, seeded: dict[str, str]
) -> None:
    ids = [seeded[n] for n in ("gb-deep", "logreg", "gb-tiny-lr")]
    page = api.get("/projects/CHURN/compare", params={"runs": ids, "metric": "loss"})
    assert page.status_code == 200
    assert re.findall(r'<tr data-run="([^"]+)"', page.text)[:3] == ids  # the order asked
    assert '<option value="loss" selected>loss</option>' in page.text
    assert 'class="pc-axis metric" data-axis="loss"' in page.text
    # logreg has neither depth nor lr: its line breaks, and C is on one run only
    assert 'data-axis="C"' not in page.text
    rows = re.findall(r'<tr class="differs" data-param="([^"]+)"', page.text)
    assert rows == ["C", "depth", "lr", "model"]


def test_compare_refuses_bad_selections(
    api: TestClient, client: Client, seeded: dict[str, str]
) -> None:
    one = api.get(f"/projects/CHURN/compare?runs={seeded['logreg']}")
    assert (
        one.status_code == 400 and "Pick 2 to 20 runs to compare (1 given)" in alerts(one.text)[0]
    )
    none = api.get("/projects/CHURN/compare")
    assert none.status_code == 400
    many = ",".join(f"run_{i:032x}" for i in range(21))
    assert api.get(f"/projects/CHURN/compare?runs={many}").status_code == 400
    bad = api.get(f"/projects/CHURN/compare?runs={seeded['logreg']},x'y")
    assert bad.status_code == 400 and alerts(bad.text) == ['Not a run id: "x\'y"']
    missing = api.get(f"/projects/CHURN/compare?runs={seeded['logreg']},run_{'0' * 32}")
    assert missing.status_code == 404
    client.create_project("OTHER", "Other")
    elsewhere = client.create_run("OTHER").id
    cross = api.get(f"/projects/CHURN/compare?runs={seeded['logreg']},{elsewhere}")
    assert cross.status_code == 404 and elsewhere in cross.text
    same_twice = api.get(f"/projects/CHURN/compare?runs={seeded['logreg']},{seeded['logreg']}")
    assert same_twice.status_code == 400  # one distinct run
    assert api.get(f"/projects/NOPE/compare?runs={seeded['logreg']},{elsewhere}").status_code == 404


# --- scale ---------------------------------------------------------------------------------


def seed_runs(app: FastAPI, count: int) -> None:
    """``count`` finished runs in project BIG, in one transaction, with bulk inserts."""
    state = app.state.loopwise
    actor = state.ensure_local_actor()
    base = state.clock.now()
    with state.context(actor, write=True) as ctx:
        project = projects.create_project(ctx, ProjectCreate(key="BIG", name="Big"))
        experiments = [tracking.get_or_create_experiment(ctx, "BIG", f"exp-{k}") for k in range(3)]
        runs, params, points = [], [], []
        for i in range(count):
            run_id = f"run_{i:032x}"
            runs.append(
                {
                    "id": run_id,
                    "project_id": project.id,
                    "experiment_id": experiments[i % 3].id,
                    "name": f"r{i:05d}",
                    "status": "finished",
                    "start_time": base - timedelta(minutes=i),
                    "end_time": base,
                    "git_commit": None,
                    "created_by": actor.user_id,
                    "lifecycle_stage": "active",
                }
            )
            params += [
                {"run_id": run_id, "key": "model", "value": ("gb", "lr", "rf")[i % 3]},
                {"run_id": run_id, "key": "lr", "value": str(10 ** -(i % 4))},
            ]
            points += ingest.points(
                run_id,
                1,
                [("acc", 0, 1, (i * 7919 % count) / count), ("loss", 0, 1, 1 - (i % 100) / 100)],
            )
        ctx.session.execute(insert(RunRow), runs)
        ctx.session.execute(insert(ParamRow), params)
        ingest.insert_points(ctx.session, points)
        for n, experiment in enumerate(experiments):  # run i is in experiment i % 3
            ours = [p for p in points if int(p[0][4:], 16) % 3 == n]
            ingest.upsert_latest(ctx.session, ingest.latest_of(ours), experiment.id)


def test_runs_table_with_ten_thousand_runs(
    app: FastAPI, api: TestClient, database_url: str
) -> None:
    started = time.perf_counter()
    seed_runs(app, 10_000)
    seeded_in = time.perf_counter() - started
    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    print(f"\n[{backend}] seeded 10,000 runs in {seeded_in:.1f}s; page server times:")
    for query in [
        {},
        {"filter": "metrics.acc > 0.9 and params.model = 'gb'"},
        {"order": "metrics.acc DESC"},
        {"filter": "metrics.acc > 0.9 and params.model = 'gb'", "order": "metrics.acc DESC"},
        {"order": "params.lr ASC", "offset": "9900"},
    ]:
        api.get("/projects/BIG/runs", params=query)  # warm
        page = api.get("/projects/BIG/runs", params=query)
        assert page.status_code == 200
        server = page.headers["server-timing"].split("dur=")[1]
        print(f"  {server:>8} ms  {query or 'newest first'}")
        assert 0 < len(names(page.text)) <= 100
    first = api.get("/projects/BIG/runs")
    assert len(names(first.text)) == 100 and 'rel="next"' in first.text
    assert "10,000 runs in this project" in first.text


def test_run_with_a_million_points(api: TestClient, client: Client, database_url: str) -> None:
    client.create_project("HUGE", "Huge")
    run = client.create_run("HUGE", name="million")
    n, page = 1_000_000, 200_000
    for start in range(0, n, page):
        steps = range(start, start + page)
        values = [math.sin(s / 20_000) + (25.0 if s == 654_321 else 0.0) for s in steps]
        client.log_metric_columns(run.id, "loss", steps, values)
    api.get(f"/runs/{run.id}")  # warm
    response = api.get(f"/runs/{run.id}")
    assert response.status_code == 200
    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    print(
        f"\n[{backend}] run page with a 1,000,000-point metric: {response.headers['server-timing']}"
    )
    card = response.text.split('data-metric="loss"', 1)[1].split("</figure>", 1)[0]
    band = re.search(r'<polygon class="range"[^>]* points="([^"]*)"', card)
    assert band is not None
    buckets = len(band.group(1).split()) // 2
    assert 500 <= buckets <= 2000
    assert "1,000,000 points drawn as" in card and "max 25.96" in card  # the spike
    top = min(float(p.split(",")[1]) for p in band.group(1).split())
    assert top < 25  # the one-point spike reaches the top of the plot (14, plus padding)
