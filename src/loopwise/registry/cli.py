"""``loopwise model|deploy|incident|delivery|lineage``: the model registry from the
command line.

Parse -> registry service -> print. Stage moves ask the same promotion checks as the app.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text
from rich.tree import Tree

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.registry import lineage, service
from loopwise.registry.models import (
    CheckResult,
    DeliveryMetrics,
    Deployment,
    Incident,
    ModelVersion,
    RegisteredModel,
    Stage,
    StageEvent,
)
from loopwise.registry.schemas import (
    AliasSet,
    IncidentCreate,
    IncidentResolve,
    ModelCreate,
    RollbackIn,
    StageChange,
    VersionCreate,
)

if TYPE_CHECKING:
    from loopwise.console import CliEnv

model_app = typer.Typer(
    name="model",
    help="Registered models: versions from runs, aliases, stages, canary, rollback.",
    no_args_is_help=True,
)
deploy_app = typer.Typer(name="deploy", help="Deployments of model versions.", no_args_is_help=True)
incident_app = typer.Typer(
    name="incident", help="Incidents in production, opened and resolved.", no_args_is_help=True
)
lineage_app = typer.Typer(
    name="lineage",
    help="Lineage: dataset versions -> runs -> model versions -> deployments.",
    no_args_is_help=True,
)

ModelArg = Annotated[str, typer.Argument(help="Registered model name.")]
VersionArg = Annotated[int, typer.Argument(min=1, help="Version number, e.g. 3.")]


def groups() -> list[typer.Typer]:
    return [model_app, deploy_app, incident_app, lineage_app]


def commands() -> list[tuple[str, Any]]:
    return [("delivery", delivery_metrics)]


_STAGE_STYLE = {
    Stage.PRODUCTION: "green",
    Stage.CANARY: "yellow",
    Stage.STAGING: "cyan",
    Stage.ARCHIVED: "dim",
}


def _stage(stage: Stage, share: float | None = None) -> Text:
    text = stage.value + (f" {share:.0%}" if stage is Stage.CANARY and share is not None else "")
    return Text(text, style=_STAGE_STYLE.get(stage, ""))


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h"


# --- models ----------------------------------------------------------------------------


def _model_rows(env: CliEnv, found: list[RegisteredModel]) -> Any:
    if not found:
        return "no registered models yet"
    rows = [
        (
            m.name,
            m.project_key,
            f"v{m.latest_version}" if m.latest_version else "—",
            f"v{m.production_version}" if m.production_version else "—",
            ", ".join(f"{a}=v{v}" for a, v in m.aliases.items()) or "—",
            env.when(m.updated_at),
        )
        for m in found
    ]
    return env.table(["Model", "Project", "Latest", "Production", "Aliases", "Updated"], rows)


def _model_view(env: CliEnv, m: RegisteredModel) -> Any:
    return env.fields(
        [
            ("Model", m.name),
            ("Project", m.project_key),
            ("Latest version", f"v{m.latest_version}" if m.latest_version else "—"),
            ("In production", f"v{m.production_version}" if m.production_version else "—"),
            ("Aliases", ", ".join(f"{a}=v{v}" for a, v in m.aliases.items()) or "—"),
            ("Description", m.description or "—"),
            ("Created", env.when(m.created_at)),
        ]
    )


def _metrics(env: CliEnv, v: ModelVersion, limit: int = 4) -> str:
    shown = [f"{k}={env.num(x)}" for k, x in list(v.metrics.items())[:limit]]
    if len(v.metrics) > limit:
        shown.append(f"+{len(v.metrics) - limit}")
    return ", ".join(shown)


def _version_rows(env: CliEnv, found: list[ModelVersion]) -> Any:
    if not found:
        return "no versions yet: register one with `loopwise model register NAME --run RUN`"
    rows = [
        (
            f"v{v.version}",
            _stage(v.stage, v.traffic_share),
            ", ".join(v.aliases) or "—",
            v.run_id or "—",
            _metrics(env, v),
            env.when(v.created_at),
        )
        for v in found
    ]
    return env.table(["Version", "Stage", "Aliases", "Run", "Metrics", "Created"], rows)


def _version_view(env: CliEnv, v: ModelVersion) -> Any:
    return env.fields(
        [
            ("Model", f"{v.model} v{v.version}"),
            ("Id", v.id),
            ("Stage", _stage(v.stage, v.traffic_share)),
            ("Aliases", ", ".join(v.aliases) or "—"),
            ("Run", v.run_id or "—"),
            ("Source", v.source or "—"),
            ("Metrics", _metrics(env, v, limit=20) or "—"),
            ("Description", v.description or "—"),
        ]
    )


@model_app.command("list")
def list_models(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Only this project's models.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List registered models."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.list_models(c, project)
    env.emit(found, list[RegisteredModel], as_json=as_json, render=lambda: _model_rows(env, found))


@model_app.command("create")
def create_model(
    ctx: typer.Context,
    project: ProjectArg,
    name: Annotated[str, typer.Argument(help="Model name, unique in the workspace.")],
    description: Annotated[str, typer.Option(help="What the model does.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Register a model in a project."""
    env = env_of(ctx)
    data = ModelCreate(name=name, description=description)
    with env.write() as c:
        created = service.create_model(c, project, data.name, data.description)
    env.emit(created, RegisteredModel, as_json=as_json, render=lambda: _model_view(env, created))


@model_app.command("show")
def get_model(ctx: typer.Context, name: ModelArg, as_json: JsonOption = False) -> None:
    """Show a registered model."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.get_model(c, name)
    env.emit(found, RegisteredModel, as_json=as_json, render=lambda: _model_view(env, found))


@model_app.command("versions")
def list_versions(ctx: typer.Context, name: ModelArg, as_json: JsonOption = False) -> None:
    """List a model's versions, newest first."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.list_versions(c, name)
    env.emit(found, list[ModelVersion], as_json=as_json, render=lambda: _version_rows(env, found))


@model_app.command("register")
def create_version(
    ctx: typer.Context,
    name: ModelArg,
    run: Annotated[
        str | None, typer.Option(help="The run it comes from; its latest metrics are kept.")
    ] = None,
    source: Annotated[str, typer.Option(help="Where the model files are, e.g. model/.")] = "",
    description: Annotated[str, typer.Option(help="What changed.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Register a new version of a model, from a run."""
    env = env_of(ctx)
    data = VersionCreate(run_id=run, source=source, description=description)
    with env.write() as c:
        created = service.create_version(
            c, name, run_id=data.run_id, source=data.source, description=data.description
        )
    env.emit(created, ModelVersion, as_json=as_json, render=lambda: _version_view(env, created))


@model_app.command("alias")
def set_alias(
    ctx: typer.Context,
    name: ModelArg,
    alias: Annotated[str, typer.Argument(help="e.g. champion.")],
    version: VersionArg,
    as_json: JsonOption = False,
) -> None:
    """Point an alias at a version (moves it if it pointed elsewhere)."""
    env = env_of(ctx)
    data = AliasSet(version=version)
    with env.write() as c:
        found = service.set_alias(c, name, alias, data.version)
    env.emit(
        found,
        ModelVersion,
        as_json=as_json,
        render=lambda: f"{found.model}@{alias} is v{found.version}",
    )


@model_app.command("unalias")
def delete_alias(
    ctx: typer.Context,
    name: ModelArg,
    alias: Annotated[str, typer.Argument(help="The alias to remove.")],
) -> None:
    """Remove an alias."""
    env = env_of(ctx)
    with env.write() as c:
        service.delete_alias(c, name, alias)
    env.console.print(Text(f"removed {name}@{alias}"))


@model_app.command("checks")
def promotion_report(
    ctx: typer.Context,
    name: ModelArg,
    version: VersionArg,
    stage: Annotated[
        Stage, typer.Option(help="The target stage the checks are for (canary, production).")
    ] = Stage.PRODUCTION,
    as_json: JsonOption = False,
) -> None:
    """What each promotion check says now (canary and production need all of theirs)."""
    env = env_of(ctx)
    with env.read() as c:
        results = service.promotion_report(c, name, version, stage)
    rows = [
        (
            r.name,
            Text("pass", style="green") if r.passed else Text("FAIL", style="red"),
            r.detail,
        )
        for r in results
    ]
    env.emit(
        results,
        list[CheckResult],
        as_json=as_json,
        render=lambda: env.table(["Check", "Result", "Detail"], rows),
    )


@model_app.command("stage")
def transition(
    ctx: typer.Context,
    name: ModelArg,
    version: VersionArg,
    stage: Annotated[Stage, typer.Argument(help="Target stage.")],
    traffic_share: Annotated[
        float | None,
        typer.Option(help="Canary only: the share of traffic, e.g. 0.01, 0.1, 0.5."),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why, for the history.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Move a version to another stage (staging, canary with a traffic share, production,
    archived); production first asks every promotion check."""
    env = env_of(ctx)
    data = StageChange(stage=stage, traffic_share=traffic_share, reason=reason)
    with env.write() as c:
        moved = service.transition(
            c, name, version, data.stage, traffic_share=data.traffic_share, reason=data.reason
        )
    env.emit(
        moved,
        ModelVersion,
        as_json=as_json,
        render=lambda: (
            Text(f"{moved.model} v{moved.version} is now ")
            + _stage(moved.stage, moved.traffic_share)
        ),
    )


@model_app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: ModelArg,
    reason: Annotated[str, typer.Option(help="Why (required; kept in the history).")],
    as_json: JsonOption = False,
) -> None:
    """Return production to the version that held it before the current one."""
    env = env_of(ctx)
    data = RollbackIn(reason=reason)
    with env.write() as c:
        restored = service.rollback(c, name, data.reason)
    env.emit(
        restored,
        ModelVersion,
        as_json=as_json,
        render=lambda: f"rolled back: {restored.model} v{restored.version} is in production again",
    )


@model_app.command("history")
def stage_history(ctx: typer.Context, name: ModelArg, as_json: JsonOption = False) -> None:
    """Every stage change of a model's versions, oldest first."""
    env = env_of(ctx)
    with env.read() as c:
        events = service.stage_history(c, name)
    rows = [
        (
            env.when(e.at),
            f"v{e.version}",
            e.from_stage.value,
            _stage(e.to_stage, e.traffic_share),
            e.actor or "system",
            e.reason,
        )
        for e in events
    ]
    env.emit(
        events,
        list[StageEvent],
        as_json=as_json,
        render=lambda: (
            env.table(["At", "Version", "From", "To", "By", "Reason"], rows)
            if events
            else f"{name} has no stage changes yet"
        ),
    )


# --- deployments, incidents, delivery --------------------------------------------------


@deploy_app.command("list")
def list_deployments(
    ctx: typer.Context,
    project: ProjectArg,
    active: Annotated[bool, typer.Option("--active", help="Only running deployments.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List a project's deployments, newest first."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.list_deployments(c, project, active_only=active)

    def render() -> Any:
        if not found:
            return "no deployments yet"
        rows = []
        for d in found:
            outcome = d.outcome if d.ended_at is None else f"{d.outcome} {env.when(d.ended_at)}"
            if d.reason:
                outcome += f" ({d.reason})"
            rows.append(
                (
                    d.id,
                    f"{d.model} v{d.version}",
                    f"{d.environment} {d.traffic_share:.0%}",
                    env.when(d.started_at),
                    outcome,
                )
            )
        return env.table(["Id", "Model", "Where", "Started", "Outcome"], rows)

    env.emit(found, list[Deployment], as_json=as_json, render=render)


def _incident_rows(env: CliEnv, found: list[Incident]) -> Any:
    if not found:
        return "no incidents"
    rows = [
        (
            i.id,
            i.severity,
            i.title,
            env.when(i.opened_at),
            env.when(i.resolved_at) if i.resolved_at else Text("open", style="red"),
            i.deployment_id or "—",
        )
        for i in found
    ]
    return env.table(["Id", "Severity", "Title", "Opened", "Resolved", "Deployment"], rows)


@incident_app.command("open")
def open_incident(
    ctx: typer.Context,
    project: ProjectArg,
    title: Annotated[str, typer.Argument(help="What is wrong.")],
    severity: Annotated[str, typer.Option(help="sev1 (worst) to sev4.")] = "sev3",
    deployment: Annotated[
        str | None, typer.Option(help="The deployment at fault, e.g. dep_...")
    ] = None,
    notes: Annotated[str, typer.Option(help="Notes.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Open an incident."""
    env = env_of(ctx)
    data = IncidentCreate(title=title, severity=severity, deployment_id=deployment, notes=notes)
    with env.write() as c:
        opened = service.open_incident(
            c,
            project,
            data.title,
            severity=data.severity,
            deployment_id=data.deployment_id,
            notes=data.notes,
        )
    env.emit(
        opened,
        Incident,
        as_json=as_json,
        render=lambda: f"opened {opened.id} ({opened.severity}): {opened.title}",
    )


@incident_app.command("resolve")
def resolve_incident(
    ctx: typer.Context,
    incident_id: Annotated[str, typer.Argument(help="Incident id, e.g. inc_...")],
    notes: Annotated[str, typer.Option(help="What fixed it.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Resolve an incident (time to recovery counts from its opening)."""
    env = env_of(ctx)
    data = IncidentResolve(notes=notes)
    with env.write() as c:
        resolved = service.resolve_incident(c, incident_id, data.notes)
    env.emit(
        resolved,
        Incident,
        as_json=as_json,
        render=lambda: f"resolved {resolved.id}: {resolved.title}",
    )


@incident_app.command("list")
def list_incidents(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """List a project's incidents, newest first."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.list_incidents(c, project)
    env.emit(found, list[Incident], as_json=as_json, render=lambda: _incident_rows(env, found))


def delivery_metrics(
    ctx: typer.Context,
    project: ProjectArg,
    days: Annotated[int, typer.Option(min=7, max=3650, help="Window in days, up to now.")] = 90,
    as_json: JsonOption = False,
) -> None:
    """Delivery metrics: deploy frequency, lead time, change failure rate, recovery time."""
    env = env_of(ctx)
    with env.read() as c:
        m = service.delivery_metrics(c, project, days=days)

    def render() -> list[Any]:
        out: list[Any] = [
            env.fields(
                [
                    ("Project", f"{m.project_key} ({m.first} to {m.last})"),
                    ("Production deployments", m.production_deployments),
                    ("Per week", f"{m.deployments_per_week:.2f}"),
                    ("Lead time (median)", _hours(m.lead_time_hours_median)),
                    (
                        "Change failure rate",
                        "—" if m.change_failure_rate is None else f"{m.change_failure_rate:.0%}",
                    ),
                    ("Mean time to recovery", _hours(m.mean_time_to_recovery_hours)),
                ]
            )
        ]
        busy = [(f"{monday}", n, "█" * min(n, 40)) for monday, n in m.weekly_deployments if n]
        if busy:
            out.append(env.table(["Week of", "Deployments", ""], busy))
        return out

    env.emit(m, DeliveryMetrics, as_json=as_json, render=render)


# --- lineage ---------------------------------------------------------------------------


def _tree(found: lineage.Lineage) -> Tree:
    """The lineage graph as a tree from its root, following edges either way."""
    nodes = {n.id: n for n in found.nodes}
    links: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    for e in found.edges:
        links[e.source].append((e.target, e.relation, True))
        links[e.target].append((e.source, e.relation, False))

    def label(node_id: str, relation: str = "", forward: bool = True) -> Text:
        node = nodes.get(node_id)
        text = Text()
        if relation:
            text.append(f"{relation} → " if forward else f"← {relation}: ", style="dim")
        if node is None:
            return text + Text(node_id)
        text.append(f"{node.kind.replace('_', ' ')} ", style="bold")
        text.append(node.label)
        if node.detail:
            text.append(f" ({node.detail})")
        text.append(f"  {node.id}", style="dim")
        return text

    root = Tree(label(found.root))
    seen = {found.root}

    def grow(branch: Tree, node_id: str) -> None:
        for other, relation, forward in links[node_id]:
            if other in seen:
                continue
            seen.add(other)
            grow(branch.add(label(other, relation, forward)), other)

    grow(root, found.root)
    return root


@lineage_app.command("dataset")
def from_dataset_version(
    ctx: typer.Context,
    version_id: Annotated[str, typer.Argument(help="Dataset version id, e.g. dsv_...")],
    as_json: JsonOption = False,
) -> None:
    """Everything built on a dataset version: runs, model versions, deployments."""
    env = env_of(ctx)
    with env.read() as c:
        found = lineage.from_dataset_version(c, version_id)
    env.emit(found, lineage.Lineage, as_json=as_json, render=lambda: _tree(found))


@lineage_app.command("deployment")
def from_deployment(
    ctx: typer.Context,
    deployment_id: Annotated[str, typer.Argument(help="Deployment id, e.g. dep_...")],
    as_json: JsonOption = False,
) -> None:
    """Where a deployment came from: model version, run, and the data the run used."""
    env = env_of(ctx)
    with env.read() as c:
        found = lineage.from_deployment(c, deployment_id)
    env.emit(found, lineage.Lineage, as_json=as_json, render=lambda: _tree(found))
