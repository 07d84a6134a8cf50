"""Webhooks against a real HTTP receiver on 127.0.0.1: an alert writes one delivery per
webhook in its own transaction; deliveries are Slack-compatible JSON signed with
HMAC-SHA256; failures are retried with growing delays (the FrozenClock moves, nothing
sleeps); a dead receiver ends ``failed`` after the last attempt; every attempt is logged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from monitoring_support import KEY, START, frame, write_batch
from pydantic import ValidationError

from loopwise.core.clock import FrozenClock
from loopwise.core.errors import AlreadyExists
from loopwise.monitoring import ingest, jobs, service, webhooks
from loopwise.monitoring.models import (
    AlertOpened,
    CheckKind,
    DeliveryState,
    WebhookEvent,
)
from loopwise.monitoring.schemas import CheckIn, MonitorCreate, WebhookCreate, WebhookUpdate
from loopwise.web.state import AppState

HOUR = timedelta(hours=1)
SECRET = "s3cret-s3cret-s3cret"


class Receiver:
    """A threaded HTTP server answering POSTs with the next status of ``script`` (the
    last one repeats), recording each request's headers and body."""

    def __init__(self, script: list[int]) -> None:
        self.script = list(script)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                status = receiver.script.pop(0) if len(receiver.script) > 1 else receiver.script[0]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no" if status >= 300 else b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory() -> Iterator[type[Receiver]]:
    made: list[Receiver] = []

    class Made(Receiver):
        def __init__(self, script: list[int]) -> None:
            super().__init__(script)
            made.append(self)

    yield Made
    for r in made:
        r.close()


def _one_alert(state: AppState, write, reference_id: str, tmp_path: Path) -> None:  # noqa: ANN001
    """A monitor with the data drift check only, one normal hour and one drifted hour:
    exactly one alert opens."""
    with write() as ctx:
        service.create_monitor(
            ctx,
            KEY,
            MonitorCreate(
                name="drift",
                reference_version_id=reference_id,
                window="hour",
                checks=[CheckIn(kind=CheckKind.DATA_DRIFT)],
            ),
        )
        normal = write_batch(frame(360, seed=1, ids="a"), tmp_path / "a.csv")
        shifted = write_batch(
            frame(360, seed=2, ids="b", shift=2.0, start=START + HOUR), tmp_path / "b.csv"
        )
        ingest.log_batch(ctx, KEY, "drift", normal)
        ingest.log_batch(ctx, KEY, "drift", shifted)
    jobs.run_pending(state)


def _hook(write, url: str, **fields: object) -> str:  # noqa: ANN001
    with write() as ctx:
        created = webhooks.create_webhook(
            ctx,
            KEY,
            WebhookCreate.model_validate({"name": "ops", "url": url, "secret": SECRET} | fields),
        )
    assert created.secret == SECRET and created.webhook.secret_hint == "…cret"
    return created.webhook.id


def _deliveries(write, hook_id: str):  # noqa: ANN001, ANN202
    with write() as ctx:
        return webhooks.list_deliveries(ctx, KEY, hook_id)


def test_a_delivery_is_slack_json_signed_with_the_secret(
    state: AppState,
    write,
    reference_id: str,
    tmp_path: Path,
    receiver_factory,  # noqa: ANN001
) -> None:
    receiver = receiver_factory([200])
    hook_id = _hook(write, receiver.url)
    _one_alert(state, write, reference_id, tmp_path)
    (pending,) = _deliveries(write, hook_id)  # written with the alert, not sent yet
    assert pending.state is DeliveryState.PENDING and pending.event is WebhookEvent.ALERT_OPENED
    assert receiver.requests == []

    assert webhooks.deliver_due(state) == 1

    ((headers, body),) = receiver.requests
    assert body == pending.body.encode()  # sent byte for byte as stored
    now = state.clock.now().timestamp()
    stamp, signature = headers["X-Loopwise-Timestamp"], headers["X-Loopwise-Signature"]
    assert signature.startswith("sha256=") and int(stamp) == int(now)
    assert webhooks.verify(SECRET, stamp, body, signature, now=now)
    assert not webhooks.verify("another-secret-000", stamp, body, signature, now=now)
    assert not webhooks.verify(SECRET, stamp, body + b" ", signature, now=now)
    assert not webhooks.verify(SECRET, stamp, body, signature, now=now + 3600)  # a replay
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Loopwise-Event"] == "alert_opened"
    payload = json.loads(body)
    assert payload["text"].startswith("[warning] MON") and "data drift" in payload["text"]
    assert [b["type"] for b in payload["blocks"]] == ["header", "section", "section"]
    facts = payload["loopwise"]
    assert facts["monitor"] == "drift" and facts["check"] == "data_drift"
    assert facts["item"] == f"{KEY}-1" and facts["threshold"] == 0.5
    (done,) = _deliveries(write, hook_id)
    assert done.state is DeliveryState.DELIVERED and done.delivered_at == state.clock.now()
    assert [(a.number, a.status_code, a.error) for a in done.log] == [(1, 200, "")]
    assert done.log[0].duration_ms > 0
    assert webhooks.deliver_due(state) == 0  # nothing left


def test_failures_are_retried_with_growing_delays_until_a_2xx(
    state: AppState,
    write,  # noqa: ANN001
    reference_id: str,
    tmp_path: Path,
    clock: FrozenClock,
    receiver_factory,  # noqa: ANN001
) -> None:
    receiver = receiver_factory([500, 500, 200])
    hook_id = _hook(write, receiver.url)
    _one_alert(state, write, reference_id, tmp_path)
    base = timedelta(seconds=state.settings.webhook_backoff_seconds)
    start = clock.now()

    assert webhooks.deliver_due(state) == 1  # 500
    assert webhooks.deliver_due(state) == 0  # not due yet
    clock.advance(base - timedelta(seconds=1))
    assert webhooks.deliver_due(state) == 0
    clock.advance(timedelta(seconds=1))
    assert webhooks.deliver_due(state) == 1  # 500, after base
    clock.advance(2 * base - timedelta(seconds=1))
    assert webhooks.deliver_due(state) == 0
    clock.advance(timedelta(seconds=1))
    assert webhooks.deliver_due(state) == 1  # 200, after twice base

    (done,) = _deliveries(write, hook_id)
    assert done.state is DeliveryState.DELIVERED and done.attempts == 3
    assert [a.status_code for a in done.log] == [500, 500, 200]
    assert [a.at - start for a in done.log] == [timedelta(0), base, 3 * base]
    assert done.log[0].error == "no"  # the receiver's answer, kept in the log
    assert len(receiver.requests) == 3
    stamps = [int(h["X-Loopwise-Timestamp"]) for h, _ in receiver.requests]
    assert stamps == sorted(stamps) and stamps[0] < stamps[-1]  # signed when sent


def test_a_dead_receiver_ends_failed_after_the_last_attempt(
    state: AppState,
    write,
    reference_id: str,
    tmp_path: Path,
    clock: FrozenClock,  # noqa: ANN001
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hook_id = _hook(write, f"http://127.0.0.1:{port}/hook")
    _one_alert(state, write, reference_id, tmp_path)
    most = state.settings.webhook_max_attempts
    for _ in range(most + 3):
        webhooks.deliver_due(state)
        clock.advance(timedelta(days=1))
    (failed,) = _deliveries(write, hook_id)
    assert failed.state is DeliveryState.FAILED and failed.attempts == most
    assert failed.next_attempt_at is None and failed.delivered_at is None
    assert len(failed.log) == most
    assert all(a.status_code is None and "Connect" in a.error for a in failed.log)
    gaps = [b.at - a.at for a, b in zip(failed.log, failed.log[1:], strict=False)]
    assert gaps == [timedelta(days=1)] * (most - 1)  # the clock's steps: each wait passed


def test_backoff_doubles_and_the_state_follows_the_answer() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 5, tzinfo=UTC)
    assert [webhooks.backoff(n, 30).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert webhooks.backoff(40, 30) == timedelta(days=1)  # capped
    assert webhooks.after_attempt(True, 1, 3, now, 30) == (DeliveryState.DELIVERED, None)
    assert webhooks.after_attempt(False, 1, 3, now, 30) == (
        DeliveryState.PENDING,
        now + timedelta(seconds=30),
    )
    assert webhooks.after_attempt(False, 3, 3, now, 30) == (DeliveryState.FAILED, None)


def test_only_http_urls_paused_hooks_get_nothing_and_the_outbox_rolls_back(
    state: AppState,
    write,
    reference_id: str,
    tmp_path: Path,
    receiver_factory,  # noqa: ANN001
) -> None:
    for url in (
        "file:///etc/passwd",
        "ftp://example.com/x",
        "javascript:alert(1)",
        "/hook",
        "http://",
        "http://exa mple.com",
    ):
        with pytest.raises(ValidationError, match="http"):
            WebhookCreate(name="x", url=url)
    receiver = receiver_factory([200])
    live = _hook(write, receiver.url)
    with pytest.raises(AlreadyExists):
        _hook(write, receiver.url)
    paused = _hook(write, receiver.url, name="paused")
    with write() as ctx:
        webhooks.update_webhook(ctx, KEY, paused, WebhookUpdate(active=False))
    _one_alert(state, write, reference_id, tmp_path)
    assert len(_deliveries(write, live)) == 1 and _deliveries(write, paused) == []
    with write() as ctx:
        (alert,) = service.list_alerts(ctx, KEY)
    event = AlertOpened(
        alert.id, alert.monitor_id, KEY, alert.check, alert.severity, alert.item_key, None, "res_x"
    )
    with pytest.raises(RuntimeError), write() as ctx:
        ctx.publish(event)  # the handler writes a delivery ...
        raise RuntimeError("... and the use case fails")
    assert len(_deliveries(write, live)) == 1  # rolled back with it
    with write() as ctx:
        hooks = webhooks.list_webhooks(ctx, KEY)
    assert [h.name for h in hooks] == ["ops", "paused"] and not hooks[1].active
    assert all("secret" not in h.__dataclass_fields__ for h in hooks)
