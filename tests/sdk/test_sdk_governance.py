"""The SDK's governance methods in-process (SDK -> API -> service -> database): gates,
fairness audits and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_ratio

from loopwise import Client
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import InvalidInput


def test_gates_audits_and_the_trail_through_the_sdk(client: Client, clock: FrozenClock) -> None:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "label": rng.integers(0, 2, 300),
            "pred": rng.integers(0, 2, 300),
            "sex": rng.choice(["F", "M"], 300),
        }
    )
    client.create_project("GOV", "Governed")
    client.create_model("GOV", "churn")
    client.create_model_version("churn", source="s3://m/1")
    dv = client.register_dataset("GOV", "scored", frame).version.id
    adopted = client.adopt_default_gates("GOV")
    assert {g.template for g in adopted if g.model == "churn"} >= {"bias_audit"}

    record = client.run_fairness_audit("churn", 1, dv, "label", "pred", ["sex"], bootstrap=100)
    expected = demographic_parity_ratio(
        frame["label"], frame["pred"], sensitive_features=frame["sex"]
    )
    assert record.values["demographic_parity_ratio"] == pytest.approx(expected)
    assert record.detail is not None and record.detail.bootstrap == 100
    assert [a.id for a in client.fairness_audits("churn", 1)] == [record.id]

    bias = next(g for g in client.version_gates("churn", 1) if g.template == "bias_audit")
    client.attest_gate(bias.id, "measure_choice", "selection matters here")
    assert client.approve_gate(bias.id, "looks right").review.status.value == "passed"
    with pytest.raises(InvalidInput, match="needs a reason"):
        client.reject_gate(bias.id, "")
    waived = client.waive_gate(
        bias.id, "approval:1", "approver away", clock.now() + timedelta(days=3)
    )
    assert [w.target for w in waived.waivers] == ["approval:1"]
    assert client.get_gate(bias.id).id == bias.id

    trail = client.audit_log(action="gate.approve")
    assert [e.object for e in trail] == [f"gate:{bias.id}"]
    assert client.verify_audit().ok
