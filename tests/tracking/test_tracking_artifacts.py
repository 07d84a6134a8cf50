"""Artifacts: store, list, open, confinement to the run's folder (tracking.artifacts
called directly). The REST door's streaming upload and download are in
test_tracking_api.py; what the SDK sends, in tests/sdk."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopwise.core.errors import InvalidInput, NotFound
from loopwise.tracking import artifacts
from loopwise.tracking import service as tracking
from loopwise.tracking.models import ArtifactInfo
from loopwise.tracking.schemas import RunCreate
from use_cases import UseCases

pytestmark = pytest.mark.store

BLOB = bytes(range(256)) * 33  # every byte value, 8448 bytes


@pytest.fixture
def run_id(do: UseCases, project: str) -> str:
    return do(tracking.create_run, project, RunCreate()).id


def test_store_list_open_round_trip(do: UseCases, run_id: str, tmp_path: Path) -> None:
    spooled = tmp_path / "upload.tmp"  # how the API hands over a streamed body: moved
    spooled.write_bytes(BLOB)
    assert do(artifacts.save, run_id, "model/weights.bin", spooled) == ArtifactInfo(
        "model/weights.bin", len(BLOB), False
    )
    assert not spooled.exists()
    for path, content in [
        ("model/config/params.json", b'{"lr": 0.1}'),
        ("report.txt", b"ok\n"),
        ("empty", b""),
    ]:
        assert do(artifacts.save, run_id, path, content) == ArtifactInfo(path, len(content), False)

    assert do.read(artifacts.list_artifacts, run_id) == [
        ArtifactInfo("empty", 0, False),
        ArtifactInfo("model", 0, True),
        ArtifactInfo("report.txt", 3, False),
    ]
    assert do.read(artifacts.list_artifacts, run_id, "model") == [
        ArtifactInfo("model/config", 0, True),
        ArtifactInfo("model/weights.bin", len(BLOB), False),
    ]
    assert do.read(artifacts.list_artifacts, run_id, "model/weights.bin") == [
        ArtifactInfo("model/weights.bin", len(BLOB), False)
    ]
    assert do.read(artifacts.open_path, run_id, "model/weights.bin").read_bytes() == BLOB
    assert do.read(artifacts.open_path, run_id, "empty").read_bytes() == b""

    # Stored inside <artifact root>/<project id>/<run id>/, nowhere else.
    root = do.state.settings.resolved_artifact_root
    project_id = do.read(tracking.get_run, run_id).project_id
    folder = root / project_id / run_id
    assert (folder / "model" / "weights.bin").read_bytes() == BLOB
    stored = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert stored == sorted(
        f"{project_id}/{run_id}/{p}"
        for p in ("model/weights.bin", "model/config/params.json", "report.txt", "empty")
    )


def test_storing_again_replaces_the_file(do: UseCases, run_id: str) -> None:
    do(artifacts.save, run_id, "notes.txt", b"first version, longer")
    do(artifacts.save, run_id, "notes.txt", b"second")
    assert do.read(artifacts.open_path, run_id, "notes.txt").read_bytes() == b"second"
    assert do.read(artifacts.list_artifacts, run_id) == [ArtifactInfo("notes.txt", 6, False)]


def test_missing_artifacts_are_not_found(do: UseCases, run_id: str) -> None:
    assert do.read(artifacts.list_artifacts, run_id) == []
    with pytest.raises(NotFound, match="no artifact 'nope.txt'"):
        do.read(artifacts.open_path, run_id, "nope.txt")
    with pytest.raises(NotFound, match="no artifact folder 'nope'"):
        do.read(artifacts.list_artifacts, run_id, "nope")


def test_odd_names_are_stored_as_written(do: UseCases, run_id: str) -> None:
    names = ["a b.txt", "dir/ünïcode.txt", "q?x.txt", "h#1.txt", "semi;colon", "pct%20.txt"]
    for i, name in enumerate(names):
        assert do(artifacts.save, run_id, name, f"content {i}".encode()).path == name
    for i, name in enumerate(names):
        assert do.read(artifacts.open_path, run_id, name).read_bytes() == f"content {i}".encode()
    top = {a.path for a in do.read(artifacts.list_artifacts, run_id)}
    assert top == {"a b.txt", "dir", "q?x.txt", "h#1.txt", "semi;colon", "pct%20.txt"}


@pytest.mark.parametrize("path", ["../x", "a/../../x", "..", "/etc/x", "a\\..\\x"])
def test_escaping_paths_are_refused_and_store_nothing(do: UseCases, run_id: str, path: str) -> None:
    with pytest.raises(InvalidInput, match="artifact path"):
        do(artifacts.save, run_id, path, b"x")
    with pytest.raises(InvalidInput, match="artifact path"):
        do.read(artifacts.open_path, run_id, path)
    root = do.state.settings.resolved_artifact_root
    assert not [p for p in root.parent.rglob("*") if p.is_file() and p.name == "x"]
