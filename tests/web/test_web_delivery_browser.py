"""Datasets to deployments in a real browser, local mode: upload a CSV, train through the
SDK, register and promote model versions through staging and a canary to production,
roll back, and follow the lineage from the data to the deployments.

Runs on SQLite only: the pages use the same services as the API, whose store tests
already cover PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import loopwise

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

Shot = Callable[[Page, str], Path]
CHARTER = {
    "problem": "Flag suspicious breast masses for a second reading.",
    "data_sources": [
        {"name": "breast_cancer", "owner": "Clinical data team", "permission": "granted"},
        {"name": "breast_cancer_holdout", "owner": "Clinical data team", "permission": "pending"},
    ],
}


@pytest.fixture
def cancer(tmp_path: Path) -> dict[str, Path | pd.DataFrame]:
    """The breast cancer data as CSVs: training rows 0-399, holdout rows 380-568 (20 rows
    overlap on purpose, for the leakage check)."""
    df = load_breast_cancer(as_frame=True).frame
    df.columns = [c.replace(" ", "_") for c in df.columns]
    df.insert(0, "patient_id", [f"P{i:04d}" for i in range(len(df))])
    train, holdout = tmp_path / "breast_cancer.csv", tmp_path / "breast_cancer_holdout.csv"
    df.iloc[:400].to_csv(train, index=False)
    df.iloc[380:].to_csv(holdout, index=False)
    return {"frame": df, "train": train, "holdout": holdout}


def upload(page: Page, base: str, path: Path, status: int = 200, **fields: str) -> None:
    page.goto(f"{base}/projects/CANCER/datasets")
    details = page.locator("#upload-dataset")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    form = details.locator("form")
    form.locator("input[name=file]").set_input_files(str(path))
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    with page.expect_navigation() as nav:
        form.get_by_role("button", name="Upload and profile").click()
    assert nav.value is not None and nav.value.status == status


def train_run(base: str, version_id: str, frame: pd.DataFrame, c: float) -> str:
    """A logistic regression trained through the SDK on the uploaded version."""
    x, y = frame.drop(columns=["patient_id", "target"]), frame["target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c))
    with (
        loopwise.Client(base) as client,
        client.start_run("CANCER", name=f"logreg-c{c:g}", params={"C": c}) as run,
    ):
        run.use_dataset(version_id, "train")
        model.fit(x.iloc[:400], y.iloc[:400])
        predicted = model.predict(x.iloc[400:])
        truth = y.iloc[400:].to_numpy()
        run.log_metric("recall", float((predicted[truth == 1] == 1).mean()))
        run.log_metric("accuracy", float((predicted == truth).mean()))
    return run.id


def register_and_promote(page: Page, base: str, run_id: str, version: int) -> None:
    page.goto(f"{base}/models/screening")
    details = page.locator("#new-version")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    details.locator("select[name=run_id]").select_option(run_id)
    with page.expect_navigation():
        details.get_by_role("button", name="Register version").click()
    row = page.locator(f"tbody#v{version}")
    expect(row.locator("[data-stage]")).to_have_text("○ none")

    with page.expect_navigation():
        row.get_by_role("button", name="Move to staging").click()
    row = page.locator(f"tbody#v{version}")
    expect(row.locator("[data-stage]").first).to_have_text("◐ staging")
    expect(row.locator(f"[data-checks='v{version}']")).to_contain_text("✓ source run finished")

    row.locator("form.canary select[name=traffic_share]").select_option("0.1")
    with page.expect_navigation():
        row.get_by_role("button", name="Start canary").click()
    row = page.locator(f"tbody#v{version}")
    expect(row.locator("[data-stage]").first).to_have_text("◑ canary 10%")

    with page.expect_navigation():
        row.get_by_role("button", name="Promote to production").click()
    expect(page.locator("#production")).to_contain_text(f"v{version}")
    expect(page.locator(f"tbody#v{version} [data-stage]").first).to_have_text("● production")


def test_dataset_to_deployment_with_rollback_and_lineage(
    live_server, page: Page, screenshot: Shot, external_requests: list[str], cancer: dict
) -> None:
    base = live_server.url
    with loopwise.Client(base) as client:
        client.create_project("CANCER", "Breast cancer screening", charter=CHARTER)
        client.create_dataset(
            "CANCER",
            "breast_cancer",
            expectations=[
                {"column": "mean_radius", "min": 5, "max": 40},
                {"column": "target", "allowed": [0, 1]},
                {"column": "patient_id", "unique": True},
                {"rule": "worst_radius >= mean_radius"},
            ],
        )

    # 1. Upload the training CSV in the browser.
    upload(
        page,
        base,
        cancer["train"],
        owner="Clinical data team",
        licence="CC-BY-4.0",
        source="sklearn load_breast_cancer (UCI)",
        legal_basis="consent",
        residency="EU",
        retention_until="2031-12-31",
        personal_data="patient_id: direct_identifier",
    )
    assert "/datasets/versions/dsv_" in page.url
    train_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1")).to_contain_text("breast_cancer v1")
    expect(page.locator("#profile tr[data-column='mean_radius']")).to_contain_text("float")
    expect(page.locator("#expectations")).to_contain_text("✓ pass")
    expect(page.locator("#personal-data")).to_contain_text("direct identifier")
    screenshot(page, "40-dataset-version")

    # The same bytes again: the existing version, with a notice.
    upload(page, base, cancer["train"], name="breast_cancer")
    assert page.url.endswith(f"{train_id}?notice=identical")
    expect(page.locator("#identical-notice")).to_be_visible()

    upload(page, base, cancer["holdout"], owner="Clinical data team", licence="CC-BY-4.0")
    holdout_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1")).to_contain_text("breast_cancer_holdout v1")
    form = page.locator("#leakage-form")
    form.locator("summary").click()
    form.locator("select[name=other]").select_option(train_id)
    form.locator("select[name=label]").select_option("target")
    form.locator("input[name=id_columns]").fill("patient_id")
    with page.expect_navigation():
        form.get_by_role("button", name="Run leakage check").click()
    expect(page.locator("#leakage-checks")).to_contain_text(
        "20 evaluation rows also appear in the training data"
    )
    expect(page.locator("#leakage-checks")).to_contain_text("20 patient_id values")

    page.goto(f"{base}/projects/CANCER/datasets")
    expect(page.locator("#datasets tr[data-dataset='breast_cancer']")).to_contain_text("400")
    screenshot(page, "41-datasets")

    page.goto(f"{base}/datasets/versions/{holdout_id}")
    page.get_by_role("link", name="Readiness report").click()
    expect(page.locator("#verdict")).to_have_text("✗ NOT READY")
    expect(page.locator("#issues")).to_contain_text("permission for breast_cancer_holdout is")
    expect(page.locator("#issues")).to_contain_text("leakage: 20 evaluation rows")
    screenshot(page, "42-readiness")
    with page.expect_download() as info:
        page.get_by_role("link", name="Standalone HTML").click()
    exported = Path(info.value.path()).read_text()
    assert "✗ NOT READY" in exported and "<style>" in exported

    # 2. Train through the SDK on the uploaded version.
    frame = cancer["frame"]
    first_run = train_run(base, train_id, frame, 0.1)
    page.goto(f"{base}/runs/{first_run}")
    expect(page.locator("#run-datasets")).to_contain_text("breast_cancer v1")
    expect(page.locator("#run-datasets")).to_contain_text("20 evaluation rows also appear")

    # 3. Create the model and promote version 1 through staging and a 10% canary.
    page.goto(f"{base}/projects/CANCER/models")
    form = page.locator("#new-model form")
    form.locator("input[name=name]").fill("screening")
    form.locator("textarea[name=description]").fill("Malignant vs benign from FNA features")
    with page.expect_navigation():
        form.get_by_role("button", name="Create model").click()
    assert page.url == f"{base}/models/screening"
    register_and_promote(page, base, first_run, 1)

    # 4. A second version, the same way.
    second_run = train_run(base, train_id, frame, 1.0)
    register_and_promote(page, base, second_run, 2)
    expect(page.locator("tbody#v1 [data-stage]").first).to_have_text("■ archived")

    # Champion and challenger: aliases in the browser, evaluations through the SDK.
    for alias, version in (("champion", "1"), ("challenger", "2")):
        details = page.locator("#set-alias")
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        details.locator("input[name=alias]").fill(alias)
        details.locator("select[name=version]").select_option(version)
        with page.expect_navigation():
            details.get_by_role("button", name="Set alias").click()
    x, y = frame.drop(columns=["patient_id", "target"]), frame["target"]
    with loopwise.Client(base) as client:
        for version, c in ((1, 0.1), (2, 1.0)):
            model = make_pipeline(StandardScaler(), LogisticRegression(C=c))
            model.fit(x.iloc[:400], y.iloc[:400])
            record = client.evaluate(
                "CANCER",
                "classification",
                y.iloc[400:].tolist(),
                model.predict(x.iloc[400:]).tolist(),
                y_score=model.predict_proba(x.iloc[400:])[:, 1].tolist(),
                model="screening",
                version=version,
                dataset_version_id=holdout_id,
                slices=["large" if r > 15 else "small" for r in x.iloc[400:]["mean_radius"]],
                slice_column="tumour size",
                n_boot=200,
            )

    # 5. Roll back with a reason: production returns to version 1.
    page.goto(f"{base}/models/screening")
    expect(page.locator("#comparison")).to_contain_text("roc_auc")
    rollback = page.locator("#rollback")
    rollback.locator("input[name=reason]").fill("recall dropped on live traffic")
    with page.expect_navigation():
        rollback.get_by_role("button", name="Roll back to v1").click()
    expect(page.locator("#production")).to_contain_text("v1")
    expect(page.locator("tbody#v1 [data-stage]").first).to_have_text("● production")
    expect(page.locator("tbody#v2 [data-stage]").first).to_have_text("■ archived")
    expect(page.locator("#history")).to_contain_text("rolled back: recall dropped on live traffic")
    screenshot(page, "43-model")

    page.goto(f"{base}/projects/CANCER/models")
    expect(page.locator("#models tr[data-model='screening']")).to_contain_text("v1")
    screenshot(page, "44-models")

    page.goto(f"{base}/evaluations/{record.id}")
    expect(page.locator("#confusion")).to_be_visible()
    expect(page.locator("#slices")).to_contain_text("large")
    screenshot(page, "45-evaluation")

    # Delivery: an incident opened and resolved in the browser.
    page.goto(f"{base}/projects/CANCER/delivery")
    details = page.locator("#new-incident")
    details.locator("summary").click()
    details.locator("input[name=title]").fill("v2 recall dropped below 0.9")
    details.locator("select[name=severity]").select_option("sev2")
    with page.expect_navigation():
        details.get_by_role("button", name="Open incident").click()
    with page.expect_navigation():
        page.locator("#incidents-table").get_by_role("button", name="Resolve").click()
    details = page.locator("#new-incident")
    details.locator("summary").click()
    details.locator("input[name=title]").fill("Scoring latency above 200 ms")
    with page.expect_navigation():
        details.get_by_role("button", name="Open incident").click()
    active = page.locator("#deployments-table tr.active")
    expect(active).to_have_count(1)
    expect(active).to_contain_text("screening v1")
    expect(page.locator("#deployments-table")).to_contain_text("↶ rolled back")
    expect(page.locator("[data-metric='change-failure'] strong")).to_have_text("50%")
    expect(page.locator("#weekly-deployments svg rect.bar")).to_have_count(1)
    screenshot(page, "46-delivery")

    # 6. The lineage, from the dataset version page.
    page.goto(f"{base}/datasets/versions/{train_id}")
    page.get_by_role("link", name="Lineage: runs, models, deployments →").click()
    assert page.url == f"{base}/lineage/dataset-versions/{train_id}"
    diagram = page.locator("#lineage-diagram svg")
    expect(diagram).to_be_visible()
    for text in ("logreg-c0.1", "logreg-c1", "screening v1", "screening v2", "used as train"):
        expect(diagram).to_contain_text(text)
    nodes = page.locator("#lineage-nodes")
    expect(nodes.locator("tr[data-kind='run']")).to_have_count(2)
    expect(nodes.locator("tr[data-kind='model_version']")).to_have_count(2)
    # v1: staging, canary, production (replaced), production again (rollback); v2: staging,
    # canary, production (rolled back).
    expect(nodes.locator("tr[data-kind='deployment']")).to_have_count(7)
    expect(page.locator("#lineage-edges")).to_contain_text("deployed as")
    screenshot(page, "47-lineage-dataset")

    page.locator("#lineage-diagram a.node", has_text="screening v2").click()
    assert page.url == f"{base}/models/screening#v2"
    page.goto(f"{base}/projects/CANCER/delivery")
    page.locator("#deployments-table tr.active").get_by_role("link", name="lineage").click()
    expect(page.locator("#lineage-diagram svg")).to_contain_text("breast_cancer v1")
    expect(page.locator("#lineage-nodes tr[data-kind='deployment']")).to_have_count(1)
    screenshot(page, "48-lineage-deployment")

    page.goto(f"{base}/datasets/versions/{train_id}")
    screenshot(page, "40-dataset-version")  # now with its runs and leakage check
    assert external_requests == []


def test_upload_errors_and_refused_promotion_in_the_browser(
    live_server, page: Page, screenshot: Shot, cancer: dict
) -> None:
    base = live_server.url
    with loopwise.Client(base) as client:
        client.create_project("CANCER", "Breast cancer screening", charter=CHARTER)
        running = client.create_run("CANCER", name="still-training")
        client.create_model("CANCER", "screening")
        client.create_model_version("screening", run_id=running.id)
        client.move_model_version("screening", 1, "staging")
    upload(page, base, cancer["train"], 400, personal_data="patient_id: secret")
    expect(page.get_by_role("alert")).to_contain_text("Personal data, line 1: 'secret' is not")
    expect(page.locator("textarea[name=personal_data]")).to_have_value("patient_id: secret")
    form = page.locator("#upload-dataset form")
    form.locator("input[name=file]").set_input_files(str(cancer["train"]))
    flags = "patient_id: direct_identifier\nzip: sensitive"
    form.locator("textarea[name=personal_data]").fill(flags)
    with page.expect_navigation() as nav:
        form.get_by_role("button", name="Upload and profile").click()
    assert nav.value is not None and nav.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text("unknown columns: ['zip']")
    expect(page.get_by_role("alert")).to_contain_text("choose the file again")
    screenshot(page, "49-upload-errors")

    page.goto(f"{base}/models/screening")
    row = page.locator("tbody#v1")
    expect(row.locator("[data-checks='v1']")).to_contain_text("✗ source run finished")
    with page.expect_navigation() as nav:
        row.get_by_role("button", name="Promote to production").click()
    assert nav.value is not None and nav.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text(
        "v1 → production: v1 cannot go to production yet: source run finished"
    )
    expect(page.locator("tbody#v1 [data-stage]").first).to_have_text("◐ staging")
    screenshot(page, "50-promotion-refused")
