"""SDK methods for the model registry, deployments, lineage and evaluations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from loopwise.registry.evaluations import Comparison, EvaluationRecord
from loopwise.registry.lineage import Lineage
from loopwise.registry.models import (
    DeliveryMetrics,
    Deployment,
    Incident,
    ModelVersion,
    RegisteredModel,
)

T = TypeVar("T")


class RegistryMethods:
    """Mixed into ``loopwise.Client``."""

    if TYPE_CHECKING:  # Client's plumbing, declared for the type checker

        def _request(self, method: str, path: str, **kwargs: Any) -> Any: ...

        @staticmethod
        def _parse(kind: type[T], data: Any) -> T: ...

    def create_model(self, project: str, name: str, description: str = "") -> RegisteredModel:
        body = {"name": name, "description": description}
        return self._parse(
            RegisteredModel, self._request("POST", f"/api/v1/projects/{project}/models", json=body)
        )

    def get_model(self, name: str) -> RegisteredModel:
        return self._parse(RegisteredModel, self._request("GET", f"/api/v1/models/{name}"))

    def create_model_version(
        self, name: str, *, run_id: str | None = None, source: str = ""
    ) -> ModelVersion:
        body = {"run_id": run_id, "source": source}
        return self._parse(
            ModelVersion, self._request("POST", f"/api/v1/models/{name}/versions", json=body)
        )

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        data = self._request(
            "PUT", f"/api/v1/models/{name}/aliases/{alias}", json={"version": version}
        )
        return self._parse(ModelVersion, data)

    def move_model_version(
        self,
        name: str,
        version: int,
        stage: str,
        *,
        traffic_share: float | None = None,
        reason: str = "",
    ) -> ModelVersion:
        body = {"stage": stage, "traffic_share": traffic_share, "reason": reason}
        data = self._request("POST", f"/api/v1/models/{name}/versions/{version}/stage", json=body)
        return self._parse(ModelVersion, data)

    def rollback(self, name: str, reason: str) -> ModelVersion:
        data = self._request("POST", f"/api/v1/models/{name}/rollback", json={"reason": reason})
        return self._parse(ModelVersion, data)

    def deployments(self, project: str, *, active: bool = False) -> list[Deployment]:
        data = self._request(
            "GET", f"/api/v1/projects/{project}/deployments", params={"active": active}
        )
        return self._parse(list[Deployment], data)

    def open_incident(self, project: str, title: str, *, severity: str = "sev3") -> Incident:
        body = {"title": title, "severity": severity}
        return self._parse(
            Incident, self._request("POST", f"/api/v1/projects/{project}/incidents", json=body)
        )

    def delivery_metrics(self, project: str, *, days: int = 90) -> DeliveryMetrics:
        data = self._request("GET", f"/api/v1/projects/{project}/delivery", params={"days": days})
        return self._parse(DeliveryMetrics, data)

    def lineage_of_dataset(self, version_id: str) -> Lineage:
        return self._parse(
            Lineage, self._request("GET", f"/api/v1/lineage/dataset-versions/{version_id}")
        )

    def lineage_of_deployment(self, deployment_id: str) -> Lineage:
        return self._parse(
            Lineage, self._request("GET", f"/api/v1/lineage/deployments/{deployment_id}")
        )

    def evaluate(
        self, project: str, task: str, y_true: list[Any], y_pred: list[Any], **fields: Any
    ) -> EvaluationRecord:
        """Evaluate predictions (``y_score``, ``slices``, ``model``/``version``,
        ``dataset_version_id``, ``n_boot`` ... as keywords) and keep the result."""
        body = {"task": task, "y_true": list(y_true), "y_pred": list(y_pred), **fields}
        data = self._request("POST", f"/api/v1/projects/{project}/evaluations", json=body)
        return self._parse(EvaluationRecord, data)

    def compare(
        self, name: str, *, champion: str = "champion", challenger: str = "challenger"
    ) -> Comparison:
        data = self._request(
            "GET",
            f"/api/v1/models/{name}/compare",
            params={"champion": champion, "challenger": challenger},
        )
        return self._parse(Comparison, data)
