"""The ``loopwise.hypothesis`` tag never fails the call that sets it: keys that name no
hypothesis are recorded (the run's ``loopwise.hypothesis.link`` tag, the log, the run
page's Plan panel) and linked once the hypothesis exists."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from loopwise.planning.hypotheses import service as hypotheses
from loopwise.planning.hypotheses.schemas import HypothesisCreate
from loopwise.planning.items import service as items
from loopwise.planning.items.models import ItemKind
from loopwise.planning.items.schemas import ItemCreate
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import RunCreate
from use_cases import UseCases

pytestmark = pytest.mark.store

TAG, LINK = hypotheses.HYPOTHESIS_TAG, hypotheses.LINK_TAG


def _hypothesis(do: UseCases, project: str) -> str:
    body = HypothesisCreate(title="GB wins", statement="s", metric_key="auc", threshold=0.8)
    return do(hypotheses.create_hypothesis, project, body).item.key


def _run(do: UseCases, project: str, tag: str) -> str:
    run = do(tracking.create_run, project, RunCreate(name="r"))
    do(tracking.set_tags, run.id, {TAG: tag})
    return run.id


def _tags(do: UseCases, run_id: str) -> dict[str, str]:
    return do.read(tracking.get_run, run_id).tags


def test_unknown_keys_are_kept_and_explained(
    do: UseCases, make_project: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    make_project("CHURN")
    make_project("OTHER")
    known = _hypothesis(do, "CHURN")
    elsewhere = _hypothesis(do, "OTHER")
    task = do(items.create_item, "CHURN", ItemCreate(title="t", kind=ItemKind.TASK)).key
    with caplog.at_level(logging.WARNING, logger="loopwise.planning"):
        run_id = _run(do, "CHURN", f"{known}, churn-999 ,{elsewhere},{task},not a key!")
    tags = _tags(do, run_id)
    assert tags[TAG] == f"{known}, churn-999 ,{elsewhere},{task},not a key!"
    assert tags[LINK].split("; ") == [
        f"linked: {known}",
        "unlinked: no such hypothesis CHURN-999",
        f"unlinked: {elsewhere} belongs to another project",
        f"unlinked: {task} is a task, not a hypothesis",
        "unlinked: no such hypothesis NOT A KEY!",
    ]
    assert "no such hypothesis CHURN-999" in caplog.text
    assert [e.run_id for e in do.read(hypotheses.get_hypothesis, known).evidence] == [run_id]
    links = do.read(hypotheses.plan_links, run_id, tags)
    assert [(p.key, p.title is not None) for p in links] == [
        (known, True),
        ("CHURN-999", False),
        (elsewhere, False),
        (task, False),
        ("NOT A KEY!", False),
    ]
    assert links[1].reason == "no such hypothesis CHURN-999"


def test_a_run_waiting_for_its_hypothesis_is_linked_when_it_is_created(
    do: UseCases, make_project: Callable[[str], str]
) -> None:
    make_project("CHURN")
    make_project("OTHER")
    waiting = _run(do, "CHURN", "CHURN-1")
    other_project = _run(do, "OTHER", "CHURN-1")
    assert _tags(do, waiting)[LINK] == "unlinked: no such hypothesis CHURN-1"
    key = _hypothesis(do, "CHURN")
    assert key == "CHURN-1"
    assert [e.run_id for e in do.read(hypotheses.get_hypothesis, key).evidence] == [waiting]
    assert _tags(do, waiting)[LINK] == "linked: CHURN-1"
    assert _tags(do, other_project)[LINK] == "unlinked: no such hypothesis CHURN-1"


def test_an_empty_tag_says_so(do: UseCases, make_project: Callable[[str], str]) -> None:
    make_project("CHURN")
    assert _tags(do, _run(do, "CHURN", " , "))[LINK] == "unlinked: the tag names no hypothesis"
