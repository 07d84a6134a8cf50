"""``loopwise gate``: gates of projects and model versions, sign-offs, waivers, and
fairness audits kept as evidence; ``loopwise governance explanations``: the feature
importances kept with a model version. Parse -> governance service -> print."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.governance import audits, explanations, service
from loopwise.governance.models import (
    Explanation,
    FairnessAuditRecord,
    Gate,
    GateStatus,
    GateTemplate,
)
from loopwise.governance.schemas import AuditIn, WaiverIn
from loopwise.governance.templates import TEMPLATES

if TYPE_CHECKING:
    from loopwise.console import CliEnv

gate_app = typer.Typer(
    name="gate",
    help="Governance gates: checklists, criteria, approvals, waivers; fairness audits.",
    no_args_is_help=True,
)

GateArg = Annotated[str, typer.Argument(help="Gate id (gate_...).")]
NoteOption = Annotated[str, typer.Option(help="A note kept with the sign-off.")]
_STYLE = {GateStatus.PASSED: "green", GateStatus.PENDING: "yellow", GateStatus.FAILED: "red"}


governance_app = typer.Typer(
    name="governance",
    help="Governance records: explanations kept with model versions, documents generated "
    "from the record.",
    no_args_is_help=True,
)


def groups() -> list[typer.Typer]:
    return [gate_app, governance_app]


def _status(gate: Gate) -> Text:
    return Text(gate.review.status.value, style=_STYLE[gate.review.status])


def _where(gate: Gate) -> str:
    if gate.model is not None:
        return f"{gate.model} v{gate.version}, before {gate.stage}"
    return f"exit of {gate.phase}"


def _rows(env: CliEnv, gates: list[Gate]) -> Any:
    if not gates:
        return "no gates: `loopwise gate adopt PROJECT` gives a project the default gates"
    rows = [(g.id, g.title, _where(g), _status(g), len(g.review.missing)) for g in gates]
    return env.table(["Gate", "Title", "Where", "Status", "Missing"], rows)


def _view(env: CliEnv, gate: Gate) -> list[Any]:
    pairs: list[tuple[str, Any]] = [
        ("Gate", gate.id),
        ("Title", gate.title),
        ("Template", f"{gate.template} v{gate.template_version}"),
        ("Where", _where(gate)),
        ("Status", _status(gate)),
        ("Clauses", ", ".join(gate.definition.clauses)),
    ]
    if gate.due is not None:
        pairs.append(("Due", f"{gate.due.date.isoformat()} ({gate.due.state.value})"))
    if gate.dataset_version_id:
        pairs.append(("Dataset version", gate.dataset_version_id))
    if gate.definition.valid_days:
        pairs.append(("Valid for", f"{gate.definition.valid_days} days after each sign-off"))
    if gate.blocker_item:
        pairs.append(("Blocker", gate.blocker_item))
    reqs = [(r.id, r.text, r.state.value, r.detail) for r in gate.review.requirements]
    return [env.fields(pairs), env.table(["Id", "Requirement", "State", "Detail"], reqs)]


def _show(env: CliEnv, gate: Gate, as_json: bool) -> None:
    env.emit(gate, Gate, as_json=as_json, render=lambda: _view(env, gate))


@gate_app.command("templates")
def list_templates(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The gate templates, their versions and the framework clauses they serve."""
    env = env_of(ctx)
    rows = [
        (t.name, t.version, t.title, t.phase or t.stage or "", ", ".join(t.clauses))
        for t in TEMPLATES
    ]
    env.emit(
        list(TEMPLATES),
        list[GateTemplate],
        as_json=as_json,
        render=lambda: env.table(["Template", "v", "Title", "Exit / before", "Clauses"], rows),
    )


@gate_app.command("list")
def list_gates(
    ctx: typer.Context,
    project: ProjectArg,
    model: Annotated[str | None, typer.Option(help="Only this model's version...")] = None,
    version: Annotated[int | None, typer.Option(help="...this version.")] = None,
    as_json: JsonOption = False,
) -> None:
    """A project's gates and their status (or one model version's, with --model/--version)."""
    env = env_of(ctx)
    with env.read() as c:
        if model is not None and version is not None:
            gates = service.version_gates(c, model, version)
        else:
            gates = service.list_gates(c, project)
    env.emit(gates, list[Gate], as_json=as_json, render=lambda: _rows(env, gates))


@gate_app.command("adopt")
def adopt_default_gates(
    ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False
) -> None:
    """Give an existing project (and its model versions) the default gates."""
    env = env_of(ctx)
    with env.write() as c:
        gates = service.adopt_default_gates(c, project)
    env.emit(gates, list[Gate], as_json=as_json, render=lambda: _rows(env, gates))


@gate_app.command("show")
def get_gate(ctx: typer.Context, gate: GateArg, as_json: JsonOption = False) -> None:
    """A gate: each requirement, met or what it misses."""
    env = env_of(ctx)
    with env.read() as c:
        found = service.get_gate(c, gate)
    _show(env, found, as_json)


@gate_app.command("attest")
def attest(
    ctx: typer.Context,
    gate: GateArg,
    item: Annotated[str, typer.Argument(help="Checklist item key (see `gate show`).")],
    note: NoteOption = "",
    as_json: JsonOption = False,
) -> None:
    """Attest a checklist item (you hold its role)."""
    env = env_of(ctx)
    with env.write() as c:
        found = service.attest(c, gate, item, note)
    _show(env, found, as_json)


@gate_app.command("approve")
def approve(
    ctx: typer.Context, gate: GateArg, note: NoteOption = "", as_json: JsonOption = False
) -> None:
    """Approve a gate as the role you hold on its project."""
    env = env_of(ctx)
    with env.write() as c:
        found = service.approve(c, gate, note)
    _show(env, found, as_json)


@gate_app.command("reject")
def reject(
    ctx: typer.Context,
    gate: GateArg,
    note: Annotated[str, typer.Option(help="Why (required).")],
    as_json: JsonOption = False,
) -> None:
    """Reject a gate: it fails (an ethics checkpoint opens a critical blocker)."""
    env = env_of(ctx)
    with env.write() as c:
        found = service.reject(c, gate, note)
    _show(env, found, as_json)


@gate_app.command("waive")
def waive(
    ctx: typer.Context,
    gate: GateArg,
    target: Annotated[str, typer.Argument(help="Requirement id: criterion:1, checklist:KEY...")],
    reason: Annotated[str, typer.Option(help="Why (required, recorded).")],
    expires: Annotated[datetime, typer.Option(help="When the waiver stops counting (UTC).")],
    as_json: JsonOption = False,
) -> None:
    """Waive one requirement of a gate until a date (project admins)."""
    env = env_of(ctx)
    when = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    data = WaiverIn(target=target, reason=reason, expires_at=when)
    with env.write() as c:
        found = service.waive(c, gate, data.target, data.reason, data.expires_at)
    _show(env, found, as_json)


@gate_app.command("set-data")
def set_dataset_version(
    ctx: typer.Context,
    gate: GateArg,
    dataset_version: Annotated[str, typer.Argument(help="Dataset version id, or 'none'.")],
    as_json: JsonOption = False,
) -> None:
    """Name the dataset version a gate is about (sign-offs for another stop counting)."""
    env = env_of(ctx)
    chosen = None if dataset_version == "none" else dataset_version
    with env.write() as c:
        found = service.set_dataset_version(c, gate, chosen)
    _show(env, found, as_json)


@gate_app.command("audit")
def run_audit(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[int, typer.Argument(help="Model version number.")],
    dataset_version: Annotated[str, typer.Argument(help="Dataset version id with the rows.")],
    label: Annotated[str, typer.Option(help="Column of true labels (0/1).")],
    prediction: Annotated[str, typer.Option(help="Column of the version's predictions (0/1).")],
    sensitive: Annotated[list[str], typer.Option(help="A sensitive column (repeat).")],
    primary: Annotated[str, typer.Option(help="The primary measure.")] = (
        "demographic_parity_ratio"
    ),
    justification: Annotated[str, typer.Option(help="Why that measure.")] = "",
    bootstrap: Annotated[
        int, typer.Option(help="Bootstrap replicates for the intervals (0: none).")
    ] = 1000,
    as_json: JsonOption = False,
) -> None:
    """Audit a model version's predictions for group fairness and keep the result."""
    env = env_of(ctx)
    data = AuditIn(
        dataset_version_id=dataset_version,
        label_col=label,
        prediction_col=prediction,
        sensitive_cols=sensitive,
        primary_measure=primary,
        justification=justification,
        bootstrap=bootstrap,
    )
    with env.write() as c:
        record = audits.run_audit(
            c,
            model,
            version,
            data.dataset_version_id,
            data.label_col,
            data.prediction_col,
            data.sensitive_cols,
            primary_measure=data.primary_measure,
            justification=data.justification,
            bootstrap=data.bootstrap,
        )
    rows = [(name, "" if v is None else str(v)) for name, v in record.values.items()]
    env.emit(
        record,
        FairnessAuditRecord,
        as_json=as_json,
        render=lambda: [
            f"audit {record.id}: {record.model} v{record.version} on {record.dataset_version_id}"
            f" ({record.rows} rows); primary: {record.primary_measure}",
            env.table(["Measure", "Value"], rows),
        ],
    )


def _explanations_view(env: CliEnv, found: list[Explanation], top: int) -> list[Any]:
    if not found:
        return ["no explanations: compute one with the SDK, `client.explain(...)`"]
    out: list[Any] = []
    for e in found:
        what = e.scoring if e.method.value == "permutation" else "mean |SHAP value|"
        repeats = f", {e.n_repeats} repeats" if e.n_repeats else ""
        out.append(  # Text: names are printed as written, never read as Rich markup
            Text(
                f"{e.id}: {e.model} v{e.version}, {e.method.value} ({what}{repeats}) on "
                f"{e.dataset_version_id or 'a deleted dataset version'}, "
                f"by {e.created_by or '-'} at {e.created_at:%Y-%m-%d %H:%M} UTC"
            )
        )
        ranked = e.ranked if top <= 0 else e.ranked[:top]
        rows = [(i, f.feature, f"{f.mean:.4g}", f"{f.std:.4g}") for i, f in enumerate(ranked, 1)]
        out.append(env.table(["#", "Feature", "Importance", "Std"], rows))
        if len(ranked) < len(e.features):
            out.append(f"... {len(e.features) - len(ranked)} more (--top 0 shows all)")
    return out


@governance_app.command("explanations")
def list_explanations(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[int, typer.Argument(help="Model version number.")],
    latest: Annotated[bool, typer.Option(help="Only the newest of each method.")] = False,
    top: Annotated[int, typer.Option(help="Features shown per explanation (0: all).")] = 15,
    as_json: JsonOption = False,
) -> None:
    """A model version's explanations (feature importances), newest first. They are
    computed where the model is, with the SDK: `client.explain(...)`."""
    env = env_of(ctx)
    with env.read() as c:
        if latest:
            found = explanations.latest_explanations(c, model, version)
        else:
            found = explanations.list_explanations(c, model, version)
    env.emit(
        found,
        list[Explanation],
        as_json=as_json,
        render=lambda: _explanations_view(env, found, top),
    )
