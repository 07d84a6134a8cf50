"""What only the data REST door does: multipart uploads (the file, the ``meta`` form
field as JSON), 201 for a new version and 200 for known content, the DVC endpoint, and
4xx for what cannot be read. The use cases behind it are tested in test_datasets.py."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

pytestmark = pytest.mark.store

CSV = b"patient_id,age,target\nP1,50,1\nP2,61,0\nP3,47,1\n"


@pytest.fixture
def project(api: TestClient) -> str:
    assert api.post("/api/v1/projects", json={"key": "DATA", "name": "Data"}).status_code == 201
    return "DATA"


def test_an_upload_is_201_when_new_and_200_when_known(api: TestClient, project: str) -> None:
    url = f"/api/v1/projects/{project}/datasets/cancer/versions"
    meta = '{"owner": "ada", "personal_data": {"patient_id": ["direct_identifier"]}}'
    first = api.post(url, files={"file": ("c.csv", CSV)}, data={"meta": meta})
    assert first.status_code == 201, first.text
    body = first.json()
    assert set(body) == {"version", "created"} and body["created"] is True
    version = body["version"]
    assert (version["rows"], version["columns"], version["format"]) == (3, 3, "csv")
    assert version["meta"]["owner"] == "ada"
    assert version["meta"]["personal_data"] == {"patient_id": ["direct_identifier"]}
    again = api.post(url, files={"file": ("again.csv", CSV)})
    assert again.status_code == 200 and again.json() == {"version": version, "created": False}
    assert api.get(f"/api/v1/dataset-versions/{version['id']}").json() == version

    dvc = "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 12\n  path: raw.csv\n"
    dvc_url = f"/api/v1/projects/{project}/datasets/raw/versions/dvc"
    assert api.post(dvc_url, json={"dvc": dvc}).status_code == 201
    assert api.post(dvc_url, json={"dvc": dvc}).status_code == 200


def test_bad_uploads_are_4xx(api: TestClient, project: str) -> None:
    def upload(name: str, content: bytes, meta: str = "{}") -> int:
        r = api.post(
            f"/api/v1/projects/{project}/datasets/x/versions",
            files={"file": (name, content)},
            data={"meta": meta},
        )
        return r.status_code

    assert upload("a.txt", b"hello") == 400
    assert upload("a.parquet", b"not parquet") == 400
    assert upload("a.csv", b"a,b\n1,2\n", meta="{oops") == 400
    assert upload("a.csv", b"a,b\n1,2\n", meta='{"owner": 3}') == 400
    assert upload("a.dvc", b"outs: []") == 400  # .dvc text goes to /versions/dvc
    no_file = api.post(f"/api/v1/projects/{project}/datasets/x/versions", data={"meta": "{}"})
    assert no_file.status_code == 400 and "file" in no_file.json()["error"]["message"]
    assert api.get(f"/api/v1/projects/{project}/datasets").json() == []  # nothing half-made
