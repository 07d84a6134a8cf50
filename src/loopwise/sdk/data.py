"""SDK methods for datasets: register files, folders' files, DataFrames and DVC outputs."""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from loopwise.data.models import (
    Dataset,
    DatasetVersion,
    LeakageCheck,
    Readiness,
    Registered,
    RunDataset,
    VersionMeta,
)

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")


def _meta_json(meta: VersionMeta | dict[str, Any] | None) -> str:
    if meta is None:
        return "{}"
    data = asdict(meta) if isinstance(meta, VersionMeta) else dict(meta)
    return json.dumps(data, default=str)


class DataMethods:
    """Mixed into ``loopwise.Client``."""

    if TYPE_CHECKING:  # Client's plumbing, declared for the type checker

        def _request(self, method: str, path: str, **kwargs: Any) -> Any: ...

        @staticmethod
        def _parse(kind: type[T], data: Any) -> T: ...

    def create_dataset(
        self,
        project: str,
        name: str,
        *,
        description: str = "",
        expectations: list[dict[str, Any]] | None = None,
    ) -> Dataset:
        body = {"name": name, "description": description, "expectations": expectations or []}
        return self._parse(
            Dataset, self._request("POST", f"/api/v1/projects/{project}/datasets", json=body)
        )

    def register_dataset(
        self,
        project: str,
        name: str,
        data: str | Path | pd.DataFrame,
        *,
        meta: VersionMeta | dict[str, Any] | None = None,
    ) -> Registered:
        """Register a version from a CSV/Parquet file or a pandas DataFrame (sent as
        Parquet). Identical content returns the existing version (``created`` False)."""
        if isinstance(data, str | Path):
            path = Path(data)
            if path.suffix.lower() == ".dvc":
                return self.register_dvc(project, name, path, meta=meta)
            with path.open("rb") as handle:
                payload = self._request(
                    "POST",
                    f"/api/v1/projects/{project}/datasets/{name}/versions",
                    files={"file": (path.name, handle)},
                    data={"meta": _meta_json(meta)},
                )
        else:
            buffer = io.BytesIO()
            data.to_parquet(buffer, index=False)
            payload = self._request(
                "POST",
                f"/api/v1/projects/{project}/datasets/{name}/versions",
                files={"file": ("dataframe.parquet", buffer.getvalue())},
                data={"meta": _meta_json(meta)},
            )
        return self._parse(Registered, payload)

    def register_dvc(
        self,
        project: str,
        name: str,
        dvc_file: str | Path,
        *,
        meta: VersionMeta | dict[str, Any] | None = None,
    ) -> Registered:
        """Register DVC-tracked data from its .dvc file: hash and path, nothing copied."""
        body = {"dvc": Path(dvc_file).read_text(), "meta": json.loads(_meta_json(meta))}
        payload = self._request(
            "POST", f"/api/v1/projects/{project}/datasets/{name}/versions/dvc", json=body
        )
        return self._parse(Registered, payload)

    def get_dataset_version(self, version_id: str) -> DatasetVersion:
        return self._parse(
            DatasetVersion, self._request("GET", f"/api/v1/dataset-versions/{version_id}")
        )

    def readiness(self, version_id: str) -> Readiness:
        data = self._request("GET", f"/api/v1/dataset-versions/{version_id}/readiness")
        return self._parse(Readiness, data)

    def check_leakage(
        self,
        train_version_id: str,
        eval_version_id: str,
        *,
        label: str | None = None,
        id_columns: list[str] | None = None,
    ) -> LeakageCheck:
        body = {
            "train_version_id": train_version_id,
            "eval_version_id": eval_version_id,
            "label": label,
            "id_columns": id_columns or [],
        }
        return self._parse(LeakageCheck, self._request("POST", "/api/v1/leakage-checks", json=body))

    def use_dataset(self, run_id: str, version_id: str, role: str = "input") -> RunDataset:
        body = {"version_id": version_id, "role": role}
        return self._parse(
            RunDataset, self._request("POST", f"/api/v1/runs/{run_id}/datasets", json=body)
        )

    def cite_dataset(self, item_key: str, version_id: str) -> list[DatasetVersion]:
        data = self._request(
            "POST", f"/api/v1/items/{item_key}/datasets", json={"version_id": version_id}
        )
        return self._parse(list[DatasetVersion], data)
