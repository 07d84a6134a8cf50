"""SDK methods for gates, fairness audits and the audit trail: thin calls to the API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from loopwise.audit.chain import Entry
from loopwise.audit.service import VerifyReport
from loopwise.governance.models import FairnessAuditRecord, Gate

T = TypeVar("T")


def _q(part: str) -> str:
    return quote(part, safe="")


class GovernanceMethods:
    """Mixed into ``loopwise.Client``."""

    if TYPE_CHECKING:  # Client's plumbing, declared for the type checker

        def _request(self, method: str, path: str, **kwargs: Any) -> Any: ...

        @staticmethod
        def _parse(kind: type[T], data: Any) -> T: ...

    # --- gates ---------------------------------------------------------------------------

    def list_gates(self, project: str) -> list[Gate]:
        """Every gate of a project: its phase exit gates and its model versions' gates."""
        return self._parse(list[Gate], self._request("GET", f"/api/v1/projects/{project}/gates"))

    def adopt_default_gates(self, project: str) -> list[Gate]:
        """Give an existing project the default gates (project admins); idempotent."""
        path = f"/api/v1/projects/{project}/gates/adopt"
        return self._parse(list[Gate], self._request("POST", path))

    def version_gates(self, model: str, version: int) -> list[Gate]:
        path = f"/api/v1/models/{_q(model)}/versions/{version}/gates"
        return self._parse(list[Gate], self._request("GET", path))

    def get_gate(self, gate_id: str) -> Gate:
        return self._parse(Gate, self._request("GET", f"/api/v1/gates/{_q(gate_id)}"))

    def attest_gate(self, gate_id: str, item: str, note: str = "") -> Gate:
        """Attest a checklist item (you hold its role or a higher one)."""
        body = {"item": item, "note": note}
        data = self._request("POST", f"/api/v1/gates/{_q(gate_id)}/attest", json=body)
        return self._parse(Gate, data)

    def approve_gate(self, gate_id: str, note: str = "") -> Gate:
        """Approve as the role you hold (not as the author of the gate's model version)."""
        data = self._request("POST", f"/api/v1/gates/{_q(gate_id)}/approve", json={"note": note})
        return self._parse(Gate, data)

    def reject_gate(self, gate_id: str, note: str) -> Gate:
        """Reject, with a reason: the gate fails while the rejection counts."""
        data = self._request("POST", f"/api/v1/gates/{_q(gate_id)}/reject", json={"note": note})
        return self._parse(Gate, data)

    def waive_gate(self, gate_id: str, target: str, reason: str, expires_at: datetime) -> Gate:
        """Waive one requirement (``criterion:1``, ``checklist:<key>``, ``approval:1``)
        until ``expires_at`` (time-zone aware); project admins."""
        body = {"target": target, "reason": reason, "expires_at": expires_at.isoformat()}
        data = self._request("POST", f"/api/v1/gates/{_q(gate_id)}/waivers", json=body)
        return self._parse(Gate, data)

    # --- fairness audits -----------------------------------------------------------------

    def run_fairness_audit(
        self,
        model: str,
        version: int,
        dataset_version_id: str,
        label_col: str,
        prediction_col: str,
        sensitive_cols: Sequence[str],
        *,
        primary_measure: str = "demographic_parity_ratio",
        justification: str = "",
        min_group_size: int = 30,
        bootstrap: int = 1000,
    ) -> FairnessAuditRecord:
        """Audit a model version's predictions stored in a dataset version, and keep it."""
        body = {
            "dataset_version_id": dataset_version_id,
            "label_col": label_col,
            "prediction_col": prediction_col,
            "sensitive_cols": list(sensitive_cols),
            "primary_measure": primary_measure,
            "justification": justification,
            "min_group_size": min_group_size,
            "bootstrap": bootstrap,
        }
        path = f"/api/v1/models/{_q(model)}/versions/{version}/fairness-audits"
        return self._parse(FairnessAuditRecord, self._request("POST", path, json=body))

    def fairness_audits(self, model: str, version: int) -> list[FairnessAuditRecord]:
        """A model version's audits, newest first."""
        path = f"/api/v1/models/{_q(model)}/versions/{version}/fairness-audits"
        return self._parse(list[FairnessAuditRecord], self._request("GET", path))

    # --- the audit trail (workspace admins) ------------------------------------------------

    def audit_log(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        object: str | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[Entry]:
        """Trail entries newest first, filtered by exact actor id, action or object; page
        back with ``before_seq`` (the smallest seq seen)."""
        given = {"actor": actor, "action": action, "object": object, "before_seq": before_seq}
        params = {k: v for k, v in given.items() if v is not None} | {"limit": limit}
        return self._parse(list[Entry], self._request("GET", "/api/v1/audit", params=params))

    def verify_audit(self) -> VerifyReport:
        """Walk the whole chain: ``ok``, how many entries verified, the first broken link."""
        return self._parse(VerifyReport, self._request("GET", "/api/v1/audit/verify"))
