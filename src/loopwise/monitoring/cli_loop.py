"""``loopwise monitor webhook ...`` and ``loopwise monitor review ...``: the alerts' webhooks
(create, list, deliveries, deliver now) and the human review queue (settings, items,
answers, undo, agreement, export). Parse -> service -> print."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.data.models import DatasetVersion
from loopwise.monitoring import review, webhooks
from loopwise.monitoring.models import (
    Agreement,
    Delivery,
    ReviewItem,
    ReviewSettings,
    Webhook,
    WebhookCreated,
    WebhookEvent,
)
from loopwise.monitoring.schemas import ReviewIn, ReviewSettingsIn, WebhookCreate

webhook_app = typer.Typer(
    name="webhook",
    help="Webhooks: a project's monitoring alerts POSTed as signed Slack-compatible JSON.",
    no_args_is_help=True,
)
review_app = typer.Typer(
    name="review",
    help="The human review queue: confirm or correct predictions; answers become labels.",
    no_args_is_help=True,
)
NameArg = Annotated[str, typer.Argument(help="Monitor name.")]


# --- webhooks ---------------------------------------------------------------------------


@webhook_app.command("create")
def create_webhook(
    ctx: typer.Context,
    project: ProjectArg,
    name: Annotated[str, typer.Argument(help="Webhook name, e.g. ml-alerts.")],
    url: Annotated[str, typer.Argument(help="Where to POST (http or https).")],
    secret: Annotated[
        str | None, typer.Option(help="Signing secret (16+ characters); default a new one.")
    ] = None,
    event: Annotated[
        list[WebhookEvent] | None, typer.Option(help="An event to send; repeat. Default: all.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a webhook; prints its signing secret, this once."""
    env = env_of(ctx)
    body = WebhookCreate(name=name, url=url, secret=secret, events=event or list(WebhookEvent))
    with env.write() as c:
        made = webhooks.create_webhook(c, project, body)
    env.emit(
        made,
        WebhookCreated,
        as_json=as_json,
        render=lambda: Text(
            f"webhook {made.webhook.name} ({made.webhook.id}) created; its signing secret, "
            f"shown this once:\n{made.secret}"
        ),
    )


@webhook_app.command("list")
def list_webhooks(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """A project's webhooks (their secrets are never shown again)."""
    env = env_of(ctx)
    with env.read() as c:
        found = webhooks.list_webhooks(c, project)

    def render() -> Any:
        if not found:
            return "no webhooks yet: add one with `loopwise monitor webhook create`"
        rows = [
            (h.id, h.name, h.url, ", ".join(e.value for e in h.events), "yes" if h.active else "no")
            for h in found
        ]
        return env.table(["Id", "Name", "URL", "Events", "Active"], rows)

    env.emit(found, list[Webhook], as_json=as_json, render=render)


@webhook_app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    project: ProjectArg,
    webhook_id: Annotated[str, typer.Argument(help="Webhook id (whk_...).")],
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """A webhook's deliveries, newest first, with every attempt."""
    env = env_of(ctx)
    with env.read() as c:
        found = webhooks.list_deliveries(c, project, webhook_id, limit=limit)

    def render() -> Any:
        if not found:
            return "no deliveries yet"
        rows = [
            (
                d.id,
                d.event.value,
                d.state.value,
                d.attempts,
                "; ".join(
                    f"#{a.number} {a.status_code or 'no answer'} {a.duration_ms:.0f} ms"
                    + (f" ({a.error[:40]})" if a.error else "")
                    for a in d.log
                )
                or "—",
                env.when(d.next_attempt_at),
            )
            for d in found
        ]
        return env.table(["Delivery", "Event", "State", "Attempts", "Log", "Next"], rows)

    env.emit(found, list[Delivery], as_json=as_json, render=render)


@webhook_app.command("deliver")
def deliver(ctx: typer.Context) -> None:
    """Send every due delivery now (what the server and `loopwise worker` do on schedule)."""
    env = env_of(ctx)
    made = webhooks.deliver_due(env.state())
    env.note(f"{made} attempt(s) made")


# --- the review queue -------------------------------------------------------------------


def _item_rows(env: Any, found: list[ReviewItem]) -> Any:
    rows = [
        (
            i.id,
            i.prediction_id,
            i.reason.value,
            env.num(i.score),
            "—" if i.model_label is None else i.model_label,
            ", ".join(f"{v.reviewer}:{'skip' if v.label is None else v.label}" for v in i.votes)
            or "—",
            env.num(i.label),
        )
        for i in found
    ]
    return env.table(["Item", "Prediction", "Reason", "Score", "Model", "Reviews", "Label"], rows)


@review_app.command("settings")
def settings(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    enabled: Annotated[bool, typer.Option("--on/--off", help="Fill the queue at ingest.")] = True,
    confidence_below: Annotated[
        float | None, typer.Option(help="Queue predictions less confident than this (0.5-1).")
    ] = None,
    sample_rate: Annotated[float, typer.Option(help="Share of the others sampled (0-1).")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the sampling.")] = 0,
    classes: Annotated[str, typer.Option(help="Answers offered, e.g. 0,1.")] = "0,1",
    reviews_per_item: Annotated[int, typer.Option(min=1, max=2)] = 1,
    as_json: JsonOption = False,
) -> None:
    """Set which predictions of later batches go to the review queue."""
    env = env_of(ctx)
    body = ReviewSettingsIn(
        enabled=enabled,
        confidence_below=confidence_below,
        sample_rate=sample_rate,
        seed=seed,
        classes=[int(c) for c in classes.replace(",", " ").split()],
        reviews_per_item=reviews_per_item,
    )
    with env.write() as c:
        done = review.set_settings(c, project, name, body)
    env.emit(done, ReviewSettings, as_json=as_json, render=lambda: Text(f"review settings: {done}"))


@review_app.command("list")
def list_items(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    reviewed: Annotated[bool, typer.Option("--reviewed", help="Reviewed items.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Items waiting for review (or reviewed ones), newest first."""
    env = env_of(ctx)
    with env.read() as c:
        found = review.list_items(c, project, name, waiting=not reviewed, limit=limit)
    env.emit(
        found,
        list[ReviewItem],
        as_json=as_json,
        render=lambda: _item_rows(env, found) if found else "the queue is empty",
    )


@review_app.command("answer")
def answer(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    item: Annotated[int, typer.Argument(help="Item id.")],
    label: Annotated[int | None, typer.Argument(help="The right label; omit with --skip.")] = None,
    skip: Annotated[bool, typer.Option("--skip", help="Skip the item.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Confirm or correct one item with its right label (it becomes the label)."""
    env = env_of(ctx)
    with env.write() as c:
        done = review.review(c, project, name, item, ReviewIn(label=label, skip=skip))
    vote = done.votes[-1]
    env.emit(
        done,
        ReviewItem,
        as_json=as_json,
        render=lambda: Text(f"item {done.id} ({done.prediction_id}): {vote.action.value}"),
    )


@review_app.command("undo")
def undo(ctx: typer.Context, project: ProjectArg, name: NameArg) -> None:
    """Take back your latest answer or skip on this monitor."""
    env = env_of(ctx)
    with env.write() as c:
        item = review.undo(c, project, name)
    env.note("nothing to undo" if item is None else f"item {item.id} is back in the queue")


@review_app.command("kappa")
def kappa(
    ctx: typer.Context, project: ProjectArg, name: NameArg, as_json: JsonOption = False
) -> None:
    """Cohen's kappa between first and second answers of the items reviewed twice."""
    env = env_of(ctx)
    with env.read() as c:
        found = review.agreement(c, project, name)
    env.emit(
        found,
        Agreement,
        as_json=as_json,
        render=lambda: Text(
            f"{found.items} item(s) reviewed twice; agreement {env.num(found.observed)}, "
            f"Cohen's kappa {env.num(found.kappa)}"
        ),
    )


@review_app.command("export")
def export(
    ctx: typer.Context,
    project: ProjectArg,
    name: NameArg,
    dataset: Annotated[
        str | None, typer.Option(help="Dataset name; default <monitor>-reviews.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The reviewed predictions with their labels as a new dataset version."""
    env = env_of(ctx)
    with env.write() as c:
        version, created = review.export(c, project, name, dataset)
    env.emit(
        version,
        DatasetVersion,
        as_json=as_json,
        render=lambda: Text(
            f"{'exported' if created else 'unchanged since the last export'}: "
            f"{version.dataset} v{version.version} ({version.id}, {version.rows} rows)"
        ),
    )
