"""``loopwise dataset`` against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from cli_testing import CliCall, assert_one_line_error

from loopwise import Client


@pytest.fixture
def frame() -> pd.DataFrame:
    rows = 300
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:04d}" for i in range(rows)],
            "age": [20 + i % 60 for i in range(rows)],
            "income": [1000.0 + 13 * i for i in range(rows)],
            "target": [i % 2 for i in range(rows)],
        }
    )


@pytest.fixture
def project(cli: CliCall, tmp_path: Path) -> str:
    charter = tmp_path / "charter.json"
    charter.write_text(
        json.dumps(
            {"data_sources": [{"name": "patients", "owner": "ada", "permission": "granted"}]}
        )
    )
    cli.ok("project", "create", "DATA", "Data project", "--charter", str(charter))
    return "DATA"


def test_register_a_local_file_by_reference(
    cli: CliCall, project: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "patients.csv"
    frame.to_csv(path, index=False)
    first = cli.json(
        "dataset",
        "register",
        project,
        "patients",
        str(path),
        "--owner",
        "ada",
        "--licence",
        "internal",
        "--source",
        "EHR export",
        "--legal-basis",
        "consent",
        "--residency",
        "EU",
        "--retention-until",
        "2031-12-31",
        "--personal",
        "patient_id:direct_identifier",
        "--personal",
        "age:quasi_identifier",
        "--personal",
        "age:sensitive",
    )
    assert first["created"] is True
    v = first["version"]
    assert v["location"] == str(path.resolve())  # referenced, not copied
    assert v["rows"] == 300 and v["columns"] == 4 and v["format"] == "csv"
    assert v["meta"]["personal_data"] == {
        "patient_id": ["direct_identifier"],
        "age": ["quasi_identifier", "sensitive"],
    }
    assert v["meta"]["retention_until"] == "2031-12-31" and v["meta"]["residency"] == "EU"
    assert not list(Path(cli.home).rglob("*.csv"))  # no copy in the content store

    again = cli.ok("dataset", "register", project, "patients", str(path))
    assert "already registered: patients v1" in again.stdout
    frame.head(100).to_csv(path, index=False)
    second = cli.json("dataset", "register", project, "patients", str(path))
    assert second["created"] is True and second["version"]["version"] == 2

    listed = cli.json("dataset", "list", project)
    assert [(d["name"], d["latest_version"]) for d in listed] == [("patients", 2)]
    assert "patients" in cli.ok("dataset", "list", project).stdout
    versions = cli.json("dataset", "versions", project, "patients")
    assert [x["version"] for x in versions] == [2, 1]
    human = cli.ok("dataset", "versions", project, "patients").stdout
    assert v["id"] in human and "300 x 4" in human
    shown = cli.json("dataset", "show", v["id"])
    assert shown["content_hash"] == v["content_hash"]
    human = cli.ok("dataset", "show", v["id"]).stdout
    for text in ("Profile", "income", "Quality", "completeness", "EHR export", "2031-12-31"):
        assert text in human


def test_folder_and_dvc_file(
    cli: CliCall, project: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:150].to_parquet(folder / "a.parquet")
    frame.iloc[150:].to_parquet(folder / "b.parquet")
    parts = cli.json("dataset", "register", project, "parts", str(folder))
    assert parts["version"]["format"] == "parquet" and parts["version"]["rows"] == 300

    data = tmp_path / "repo" / "data"
    data.mkdir(parents=True)
    frame.to_csv(data / "train.csv", index=False)
    dvc = tmp_path / "repo" / "train.dvc"
    dvc.write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 99\n  path: data/train.csv\n"
    )
    reg = cli.json("dataset", "register", project, "train", str(dvc), "--owner", "ada")
    v = reg["version"]
    assert v["format"] == "dvc" and v["content_hash"] == "md5:0123456789abcdef0123456789abcdef"
    assert v["location"] == str((data / "train.csv").resolve())  # found beside the .dvc file
    assert v["profiled"] is True and v["rows"] == 300
    assert cli.json("dataset", "register", project, "train", str(dvc))["created"] is False


def test_expectations_readiness_leakage_cite(
    cli: CliCall, project: str, frame: pd.DataFrame, tmp_path: Path, client: Client
) -> None:
    created = cli.json("dataset", "create", project, "patients", '{"column": "age", "min": 0}')
    assert created["expectations"] == [{"column": "age", "min": 0}]
    ds = cli.json(
        "dataset",
        "expect",
        project,
        "patients",
        '{"column": "age", "max": 70}',
        '{"column": "target", "allowed": [0, 1]}',
    )
    assert [e["column"] for e in ds["expectations"]] == ["age", "target"]
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"column": "age", "max": 70}]))
    assert (
        len(
            cli.json("dataset", "expect", project, "patients", "--file", str(rules))["expectations"]
        )
        == 1
    )

    train_path, eval_path = tmp_path / "train.csv", tmp_path / "eval.csv"
    frame.iloc[:200].to_csv(train_path, index=False)
    frame.iloc[180:].to_csv(eval_path, index=False)  # 20 shared rows
    train = cli.json(
        "dataset",
        "register",
        project,
        "patients",
        str(train_path),
        "--owner",
        "ada",
        "--licence",
        "internal",
    )["version"]
    failing = [e for e in train["expectations"] if not e["passed"]]
    assert [e["expectation"] for e in failing] == [{"column": "age", "max": 70}]
    evaluation = cli.json("dataset", "register", project, "holdout", str(eval_path))["version"]

    check = cli.json(
        "dataset", "leakage", train["id"], evaluation["id"], "--id-column", "patient_id"
    )
    assert check["report"]["shared_rows"] == 20
    assert check["report"]["id_overlaps"] == [["patient_id", 20]]
    human = cli.ok("dataset", "leakage", train["id"], evaluation["id"]).stdout
    assert "leakage: 20 evaluation rows" in human

    ready = cli.json("dataset", "readiness", evaluation["id"])
    assert any("leakage" in i for i in ready["issues"])
    assert any("no owner" in i for i in ready["issues"])
    assert cli.json("dataset", "readiness", evaluation["id"], "--format", "json") == ready
    human = cli.ok("dataset", "readiness", evaluation["id"]).stdout
    assert "not ready" in human and "- no owner recorded" in human
    train_ready = cli.ok("dataset", "readiness", train["id"]).stdout
    assert "expectation failed" in train_ready and "0 of 1 pass" in train_ready

    # md and html: the web app's own export templates, or JSON (with a note) before they exist.
    for fmt in ("md", "html"):
        result = cli.ok("dataset", "readiness", evaluation["id"], "--format", fmt)
        if "no " + fmt + " readiness template" in result.stderr:
            assert json.loads(result.stdout) == ready
        else:
            assert "holdout" in result.stdout
            assert "no owner recorded" in result.stdout
            if fmt == "html":
                assert "<html" in result.stdout.lower()

    item = cli.json("item", "create", project, "Clean the export", "--kind", "data_task")["key"]
    assert_one_line_error(cli("item", "move", item, "done"), 4, "Definition of Done")
    cited = cli.json("dataset", "cite", item, train["id"])
    assert [c["id"] for c in cited] == [train["id"]]
    assert cli.json("item", "checks", item)[0]["checked"] is True
    cli.ok("item", "move", item, "done")

    with client.start_run(project, name="fit") as run:
        run.log_metric("auc", 0.9)
    link = cli.json("dataset", "use", run.id, train["id"], "--role", "train")
    assert link == {
        "run_id": run.id,
        "version_id": train["id"],
        "dataset": "patients",
        "version": 1,
        "role": "train",
    }
    assert "used holdout v1 as input" in cli.ok("dataset", "use", run.id, evaluation["id"]).stdout


def test_dataset_errors_are_one_line(
    cli: CliCall, project: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "patients.csv"
    frame.to_csv(path, index=False)
    assert_one_line_error(cli("dataset", "register", "NOPE", "x", str(path)), 3, "not found")
    assert_one_line_error(cli("dataset", "list", "NOPE"), 3, "not found")
    assert_one_line_error(cli("dataset", "versions", project, "ghost"), 3, "ghost")
    assert_one_line_error(cli("dataset", "show", "dsv_missing"), 3, "dsv_missing")
    assert_one_line_error(cli("dataset", "readiness", "dsv_missing"), 3, "dsv_missing")
    assert_one_line_error(
        cli("dataset", "register", project, "p", str(path), "--personal", "age"), 2, "COLUMN:FLAG"
    )
    assert_one_line_error(
        cli("dataset", "register", project, "p", str(path), "--personal", "age:secret"),
        2,
        "personal_data",
    )
    assert_one_line_error(
        cli("dataset", "register", project, "p", str(path), "--personal", "nope:sensitive"),
        2,
        "unknown columns",
    )
    bad_date = cli(
        "dataset", "register", project, "p", str(path), "--retention-until", "2030-02-30"
    )
    assert bad_date.exit_code == 2 and "--retention-until" in bad_date.stderr
    assert cli("dataset", "register", project, "p", str(tmp_path / "missing.csv")).exit_code == 2
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    assert_one_line_error(cli("dataset", "register", project, "p", str(other)), 2, "format")
    assert_one_line_error(cli("dataset", "expect", project, "p", "{bad"), 2, "not JSON")
    cli.ok("dataset", "register", project, "p", str(path))
    assert_one_line_error(cli("dataset", "expect", project, "p", '{"rule": "a <== b"}'), 2)
    assert cli("dataset", "expect", project, "p").exit_code == 2  # nothing given
    assert_one_line_error(cli("dataset", "expect", project, "ghost", "--clear"), 3, "ghost")
    assert_one_line_error(cli("dataset", "create", project, " "), 2, "name")
    assert cli.json("dataset", "expect", project, "p", "--clear")["expectations"] == []
    assert cli("dataset", "readiness", "dsv_x", "--format", "pdf").exit_code == 2
    assert cli.json("dataset", "list", project)[0]["name"] == "p"  # only the good one
