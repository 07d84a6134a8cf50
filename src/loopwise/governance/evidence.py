"""Gate evidence: what a criterion path means, looked up from the record through the other
slices' services (never their tables). Each lookup is lazy and asked once per review.

- ``fairness.<measure>``: the newest fairness audit of the gate's model version (on the
  gate's dataset version when one is pinned).
- ``eval.<metric>``: the model version's metrics, else its newest stored evaluation;
  ``eval.success_metric`` is the version's value of the charter's success metric.
- ``charter.metric``, ``charter.threshold``, ``charter.comparator``,
  ``charter.success_metric_met`` (the version meets the charter's success metric),
  ``charter.kpi_baseline``, ``charter.kpi_target``, ``charter.<constraint name>``.
- ``data.quality_index``, ``data.rows``, ``data.columns``, ``data.duplicate_rows``,
  ``data.personal`` (a column flags personal data), ``data.licence``, ``data.owner``,
  ``data.<quality dimension>``: the gate's dataset version, else (phase gates) the
  project's newest dataset version.
- ``hypothesis.<KEY>``: the hypothesis's verdict (``hypothesis CHURN-3 supported``).
- ``monitoring.monitors``: how many monitors watch the gate's model version.

A value the record does not hold is MISSING, listed by the review.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from loopwise.core.context import Context
from loopwise.core.errors import NotFound, PermissionDenied
from loopwise.data import service as data
from loopwise.data.models import DatasetVersion
from loopwise.governance import audits
from loopwise.governance.criteria import MISSING, Evidence, Missing, Value
from loopwise.monitoring import service as monitoring
from loopwise.planning.hypotheses import service as hypotheses
from loopwise.projects.models import Project
from loopwise.registry import evaluations
from loopwise.registry import service as registry
from loopwise.registry.models import ModelVersion


def _number(value: object) -> Value | Missing:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float) and math.isfinite(value):
        return value
    return MISSING


class Record:
    """The evidence of one gate: ``record.lookup`` is a ``criteria.Evidence``."""

    def __init__(
        self,
        ctx: Context,
        project: Project,
        model_version_id: str | None,
        dataset_version_id: str | None,
    ) -> None:
        self.ctx = ctx
        self.project = project
        self.model_version_id = model_version_id
        self.dataset_version_id = dataset_version_id
        self._version: ModelVersion | None = None
        self._dataset: DatasetVersion | None | bool = False  # False: not looked up yet
        self._sources: dict[str, Callable[[str], Value | Missing]] = {
            "fairness": self._fairness,
            "eval": self._eval,
            "charter": self._charter,
            "data": self._data,
            "hypothesis": self._hypothesis,
            "monitoring": self._monitoring,
        }

    def lookup(self, path: str) -> Value | Missing:
        head, _, rest = path.partition(".")
        source = self._sources.get(head)
        if source is None or not rest:
            return MISSING
        try:
            return source(rest)
        except (NotFound, PermissionDenied):
            return MISSING

    # --- sources ---------------------------------------------------------------------

    def version(self) -> ModelVersion | None:
        if self._version is None and self.model_version_id is not None:
            self._version = registry.version_by_id(self.ctx, self.model_version_id)
        return self._version

    def _fairness(self, measure: str) -> Value | Missing:
        if self.model_version_id is None:
            return MISSING
        values = audits.latest_values(self.ctx, self.model_version_id, self.dataset_version_id)
        return MISSING if values is None else _number(values.get(measure))

    def _eval(self, metric: str) -> Value | Missing:
        version = self.version()
        if version is None:
            return MISSING
        if metric == "success_metric":
            success = self.project.charter.success_metric
            return MISSING if success is None else self._eval(success.key)
        if metric in version.metrics:
            return _number(version.metrics[metric])
        record = evaluations.latest_for_version(self.ctx, version.id)
        if record is None:
            return MISSING
        for estimate in record.evaluation.metrics:
            if estimate.name == metric:
                return _number(estimate.value)
        return MISSING

    def _charter(self, field: str) -> Value | Missing:
        charter = self.project.charter
        success, kpi = charter.success_metric, charter.business_kpi
        simple: dict[str, object] = {
            "metric": success.key if success else None,
            "threshold": success.threshold if success else None,
            "comparator": success.comparator.value if success else None,
            "kpi_baseline": kpi.baseline if kpi else None,
            "kpi_target": kpi.target if kpi else None,
            "problem": charter.problem or None,
        }
        if field == "success_metric_met":
            value = self._eval("success_metric")
            if success is None or not isinstance(value, int | float) or isinstance(value, bool):
                return MISSING
            return success.comparator.holds(float(value), success.threshold)
        if field in simple:
            return MISSING if simple[field] is None else _number(simple[field])
        for constraint in charter.constraints:
            if constraint.name == field:
                try:
                    return _number(float(constraint.value))
                except ValueError:
                    return constraint.value
        return MISSING

    def dataset(self) -> DatasetVersion | None:
        if self._dataset is False:
            if self.dataset_version_id is not None:
                self._dataset = data.get_version(self.ctx, self.dataset_version_id)
            else:
                newest = data.latest_versions(self.ctx, self.project.key).values()
                self._dataset = max(newest, key=lambda v: v.created_at, default=None)
        return self._dataset if isinstance(self._dataset, DatasetVersion) else None

    def _data(self, field: str) -> Value | Missing:
        dv = self.dataset()
        if dv is None:
            return MISSING
        simple: dict[str, object] = {
            "quality_index": dv.quality_index,
            "rows": dv.rows,
            "columns": dv.columns,
            "duplicate_rows": dv.duplicate_rows,
            "personal": bool(dv.meta.personal_data),
            "licence": dv.meta.licence or None,
            "owner": dv.meta.owner or None,
        }
        if field in simple:
            return MISSING if simple[field] is None else _number(simple[field])
        return _number(dv.dimensions.get(field))

    def _hypothesis(self, key: str) -> Value | Missing:
        return hypotheses.get_hypothesis(self.ctx, key).verdict.value

    def _monitoring(self, field: str) -> Value | Missing:
        if field != "monitors" or self.model_version_id is None:
            return MISSING
        found = monitoring.list_monitors(self.ctx, self.project.key)
        return sum(1 for m in found if m.model_version_id == self.model_version_id)


def evidence_of(record: Record) -> Evidence:
    return record.lookup
