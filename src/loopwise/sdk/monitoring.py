"""SDK methods for monitoring: monitors, batches (files, DataFrames, Arrow; or only their
profile, computed here), late labels, results and alerts, webhooks and their deliveries,
the human review queue."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from loopwise.core.limits import MAX_BATCH
from loopwise.data.models import DatasetVersion
from loopwise.monitoring.models import (
    Agreement,
    Alert,
    Batch,
    Delivery,
    Labelled,
    Monitor,
    Result,
    ReviewItem,
    ReviewSettings,
    Webhook,
    WebhookCreated,
)

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

    # --- webhooks -----------------------------------------------------------------------

    def create_webhook(
        self,
        project: str,
        name: str,
        url: str,
        *,
        secret: str | None = None,
        events: list[str] | None = None,
    ) -> WebhookCreated:
        """A webhook for the project's monitoring alerts; the answer holds the signing
        secret, this once."""
        body: dict[str, Any] = {"name": name, "url": url, "secret": secret}
        if events is not None:
            body["events"] = events
        data = self._request("POST", f"/api/v1/projects/{project}/webhooks", json=body)
        return self._parse(WebhookCreated, data)

    def list_webhooks(self, project: str) -> list[Webhook]:
        data = self._request("GET", f"/api/v1/projects/{project}/webhooks")
        return self._parse(list[Webhook], data)

    def webhook_deliveries(
        self, project: str, webhook_id: str, *, limit: int = 100
    ) -> list[Delivery]:
        """Deliveries newest first, each with its attempts (status code, error, duration)."""
        data = self._request(
            "GET",
            f"/api/v1/projects/{project}/webhooks/{webhook_id}/deliveries",
            params={"limit": limit},
        )
        return self._parse(list[Delivery], data)

    # --- the review queue ---------------------------------------------------------------

    def set_review_settings(self, project: str, name: str, **fields: Any) -> ReviewSettings:
        """``fields``: enabled, confidence_below, sample_rate, seed, classes,
        reviews_per_item (``monitoring.schemas.ReviewSettingsIn``)."""
        data = self._request(
            "PUT", f"/api/v1/projects/{project}/monitors/{name}/review/settings", json=fields
        )
        return self._parse(ReviewSettings, data)

    def review_items(
        self, project: str, name: str, *, state: str = "waiting", limit: int = 100
    ) -> list[ReviewItem]:
        """Items newest first: ``waiting``, ``reviewed`` or ``all``."""
        data = self._request(
            "GET",
            f"/api/v1/projects/{project}/monitors/{name}/review/items",
            params={"state": state, "limit": limit},
        )
        return self._parse(list[ReviewItem], data)

    def next_review_item(self, project: str, name: str) -> ReviewItem | None:
        data = self._request("GET", f"/api/v1/projects/{project}/monitors/{name}/review/next")
        return None if data is None else self._parse(ReviewItem, data)

    def review(
        self, project: str, name: str, item_id: int, label: int | None = None, *, skip: bool = False
    ) -> ReviewItem:
        """Answer an item with a label (it becomes the prediction's label), or skip it."""
        data = self._request(
            "POST",
            f"/api/v1/projects/{project}/monitors/{name}/review/items/{item_id}",
            json={"label": label, "skip": skip},
        )
        return self._parse(ReviewItem, data)

    def undo_review(self, project: str, name: str) -> ReviewItem | None:
        data = self._request("POST", f"/api/v1/projects/{project}/monitors/{name}/review/undo")
        return None if data is None else self._parse(ReviewItem, data)

    def review_agreement(self, project: str, name: str) -> Agreement:
        """Cohen's kappa between first and second answers of the items answered twice."""
        data = self._request("GET", f"/api/v1/projects/{project}/monitors/{name}/review/agreement")
        return self._parse(Agreement, data)

    def export_reviews(self, project: str, name: str, dataset: str | None = None) -> DatasetVersion:
        """The reviewed predictions with their labels as a new dataset version."""
        data = self._request(
            "POST",
            f"/api/v1/projects/{project}/monitors/{name}/review/export",
            json={"dataset": dataset},
        )
        return self._parse(DatasetVersion, data)
