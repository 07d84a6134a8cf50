"""SDK methods for monitoring: monitors, batches (files, DataFrames, Arrow; or only their
profile, computed here), late labels, results and alerts."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from loopwise.core.limits import MAX_BATCH
from loopwise.monitoring.models import Alert, Batch, Labelled, Monitor, Result

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

T = TypeVar("T")


def _arrow(data: Any) -> pa.Table:
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    return pa.Table.from_pandas(data, preserve_index=False)


class MonitoringMethods:
    """Mixed into ``loopwise.Client``."""

    if TYPE_CHECKING:  # Client's plumbing, declared for the type checker

        def _request(self, method: str, path: str, **kwargs: Any) -> Any: ...

        @staticmethod
        def _parse(kind: type[T], data: Any) -> T: ...

    def create_monitor(
        self, project: str, name: str, reference_version_id: str, **fields: Any
    ) -> Monitor:
        """A monitor of production data against a reference dataset version; ``fields``:
        model, model_version, features, overrides, checks, roles, window, min_rows, ...
        (``monitoring.schemas.MonitorCreate``)."""
        body = {"name": name, "reference_version_id": reference_version_id, **fields}
        data = self._request("POST", f"/api/v1/projects/{project}/monitors", json=body)
        return self._parse(Monitor, data)

    def get_monitor(self, project: str, name: str) -> Monitor:
        return self._parse(
            Monitor, self._request("GET", f"/api/v1/projects/{project}/monitors/{name}")
        )

    def list_monitors(self, project: str) -> list[Monitor]:
        data = self._request("GET", f"/api/v1/projects/{project}/monitors")
        return self._parse(list[Monitor], data)

    def log_batch(
        self,
        project: str,
        name: str,
        data: str | Path | pd.DataFrame | pa.Table | pa.RecordBatch,
        *,
        profile_only: bool = False,
        at: datetime | None = None,
    ) -> Batch:
        """Log production rows: a CSV or Parquet file (streamed from disk), a pandas
        DataFrame or Arrow data (sent as Parquet). With ``profile_only`` the rows stay
        here: their profile is computed in record batches and only it is sent (drift is
        judged from it; performance and serving need the rows). ``at``: the profile's time
        (default now)."""
        base = f"/api/v1/projects/{project}/monitors/{name}"
        if profile_only:
            return self._log_profile(project, name, data, at)
        if isinstance(data, str | Path):
            path = Path(data)
            with path.open("rb") as handle:
                payload = self._request(
                    "POST", f"{base}/batches", files={"file": (path.name, handle)}
                )
            return self._parse(Batch, payload)
        import pyarrow.parquet as pq

        buffer = io.BytesIO()
        pq.write_table(_arrow(data), buffer)
        payload = self._request(
            "POST", f"{base}/batches", files={"file": ("batch.parquet", buffer.getvalue())}
        )
        return self._parse(Batch, payload)

    def _log_profile(self, project: str, name: str, data: Any, at: datetime | None) -> Batch:
        from loopwise.data import io as data_io
        from loopwise.monitoring.arrays import profile_of
        from loopwise.numeric.sketch import profile_to_dict

        monitor = self.get_monitor(project, name)
        specs = [*monitor.columns, *monitor.predictions]
        if isinstance(data, str | Path):
            path = Path(data)
            _schema, stream = data_io.batches(path, data_io.detect_format(path))
            profile = profile_of(stream, specs)
        else:
            profile = profile_of(_arrow(data).to_batches(max_chunksize=65_536), specs)
        body = {"profile": profile_to_dict(profile), "at": at.isoformat() if at else None}
        payload = self._request(
            "POST", f"/api/v1/projects/{project}/monitors/{name}/profiles", json=body
        )
        return self._parse(Batch, payload)

    def log_labels(
        self, project: str, name: str, labels: Mapping[str, float] | pd.DataFrame
    ) -> Labelled:
        """Labels that arrived later, by prediction id: a mapping, or a DataFrame with the
        monitor's prediction id and label columns. Sent in requests of MAX_BATCH."""
        if isinstance(labels, Mapping):
            pairs = [(str(k), float(v)) for k, v in labels.items()]
        else:
            roles = self.get_monitor(project, name).roles
            pairs = list(
                zip(
                    labels[roles.prediction_id].astype(str),
                    labels[roles.label].astype(float),
                    strict=True,
                )
            )
        received = matched = windows = 0
        for at in range(0, len(pairs), MAX_BATCH):
            body = {
                "labels": [
                    {"prediction_id": pid, "label": value}
                    for pid, value in pairs[at : at + MAX_BATCH]
                ]
            }
            done = self._parse(
                Labelled,
                self._request(
                    "POST", f"/api/v1/projects/{project}/monitors/{name}/labels", json=body
                ),
            )
            received, matched = received + done.received, matched + done.matched
            windows = max(windows, done.windows)
        return Labelled(received, matched, received - matched, windows)

    def monitor_results(
        self,
        project: str,
        name: str,
        *,
        scope: str = "window",
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> list[Result]:
        params: dict[str, Any] = {"scope": scope, "limit": limit}
        if since is not None:
            params["since"] = since.isoformat()
        if until is not None:
            params["until"] = until.isoformat()
        data = self._request(
            "GET", f"/api/v1/projects/{project}/monitors/{name}/results", params=params
        )
        return self._parse(list[Result], data)

    def monitor_batches(self, project: str, name: str) -> list[Batch]:
        data = self._request("GET", f"/api/v1/projects/{project}/monitors/{name}/batches")
        return self._parse(list[Batch], data)

    def check_monitor(self, project: str, name: str) -> int:
        """Check the monitor's windows whose data changed, now; how many were checked."""
        data = self._request("POST", f"/api/v1/projects/{project}/monitors/{name}/check")
        return int(data["checked"])

    def list_alerts(
        self, project: str, *, state: str | None = None, monitor: str | None = None
    ) -> list[Alert]:
        params = {k: v for k, v in (("state", state), ("monitor", monitor)) if v is not None}
        data = self._request("GET", f"/api/v1/projects/{project}/alerts", params=params)
        return self._parse(list[Alert], data)
