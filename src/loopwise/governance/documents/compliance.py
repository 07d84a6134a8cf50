"""Pure builders: the EU AI Act Annex IV technical documentation (all nine points of Annex
IV of Regulation (EU) 2024/1689), the impact assessment and the risk register, from a
gathered record. Each point is filled from evidence or MISSING with what is missing."""

from __future__ import annotations

from collections import Counter

from loopwise.governance.calendar import Calendar
from loopwise.governance.documents.cards import NO_MODEL
from loopwise.governance.documents.gather import ProjectRecord
from loopwise.governance.documents.links import (
    Links,
    attestation,
    calendar_table,
    gates_table,
    num,
    when,
)
from loopwise.governance.documents.model import (
    Cell,
    Document,
    DocumentKind,
    Field,
    Section,
    Table,
    maybe,
    missing,
    value,
)
from loopwise.governance.models import DueState, GateStatus
from loopwise.planning.risks.models import Risk


def _risk_rows(risks: tuple[Risk, ...], links: Links) -> tuple[tuple[Cell, ...], ...]:
    return tuple(
        (
            Cell(r.key, links.risk(r.key)),
            Cell(r.title),
            Cell(r.category.value),
            Cell(f"{r.likelihood} x {r.impact} = {r.score}", links.risk(r.key)),
            Cell(r.level),
            Cell(num(r.residual_score), links.risk(r.key)),
            Cell(r.owner or "—"),
            Cell(r.mitigation or "—"),
            Cell(r.status.value),
            Cell(
                (r.next_review.isoformat() if r.next_review else "—")
                + (" (overdue)" if r.review_overdue else "")
            ),
        )
        for r in risks
    )


RISK_COLUMNS = (
    "Risk",
    "Title",
    "Category",
    "Likelihood x impact",
    "Level",
    "Residual",
    "Owner",
    "Mitigation",
    "Status",
    "Next review",
)


def _tier(record: ProjectRecord, links: Links) -> Field:
    return maybe(
        "Risk tier (EU AI Act)",
        record.risk_tier,
        links.gate(record.risk_tier_gate) if record.risk_tier_gate else None,
        "the note of the intake gate's 'risk_tier' attestation",
    )


def annex_iv(record: ProjectRecord, calendar: Calendar) -> Document:
    links = Links(record.base_url)
    p, m = record.project, record.model
    mv_link = links.model_version(m.version.id) if m else None
    run = m.run if m else None
    ev = m.evaluations[0] if m and m.evaluations else None
    instructions = attestation(record.gates, "production_readiness", "instructions")
    oversight = attestation(record.gates, "ethics_checkpoint", "oversight")
    harms = attestation(record.gates, "ethics_checkpoint", "harms")
    plan = attestation(record.gates, "post_market_monitoring", "plan")
    s = p.charter.success_metric
    met = None
    if m and s and s.key in m.version.metrics:
        got = m.version.metrics[s.key]
        met = (
            f"{s.key} = {num(got)}: "
            + ("meets" if s.comparator.holds(float(got), s.threshold) else "does not meet")
            + f" {s.comparator.value} {num(s.threshold)}"
        )
    deployments = tuple(
        (
            Cell(d.id, links.deployment(d.id)),
            Cell(d.environment),
            Cell(num(d.traffic_share)),
            Cell(when(d.started_at)),
            Cell(d.outcome),
        )
        for d in (m.deployments if m else ())
    )
    metrics = (
        tuple(
            (Cell(e.name), Cell(num(e.value), links.evaluation(ev.id)))
            for e in ev.evaluation.metrics
        )
        if ev
        else ()
    )
    data_rows = (
        tuple(
            (
                Cell(f"{dv.dataset} v{dv.version}", links.dataset_version(dv.id)),
                Cell(u.role.value),
                Cell(dv.content_hash[:16]),
                Cell(num(dv.quality_index), links.dataset_version(dv.id)),
            )
            for u, dv in zip(m.run_datasets, m.datasets, strict=True)
        )
        if m
        else ()
    )
    stages = tuple(
        (
            Cell(when(e.at)),
            Cell(f"v{e.version}: {e.from_stage.value} -> {e.to_stage.value}", mv_link),
            Cell(e.actor or "—"),
            Cell(e.reason or "—"),
        )
        for e in (m.stage_history if m else ())
    )
    phases = tuple(
        (
            Cell(when(c.at)),
            Cell(f"{c.from_phase.label} -> {c.to_phase.label}", links.project(p.key)),
            Cell(c.actor or "—"),
            Cell(("override: " if c.override else "") + (c.reason or "—")),
        )
        for c in record.phase_history
    )
    monitors = tuple(
        (
            Cell(mo.name, links.monitor(p.key, mo.name)),
            Cell(", ".join(c.kind.value for c in mo.checks)),
            Cell(str(mo.reference_rows)),
            Cell("active" if mo.active else "paused"),
        )
        for mo in (m.monitors if m else ())
    )
    art9 = tuple(g for g in record.gates if any(c.endswith("Art. 9") for c in g.definition.clauses))
    sections = (
        Section(
            "annex_iv_1",
            "1. General description of the AI system",
            (
                maybe(
                    "Intended purpose",
                    p.charter.problem,
                    links.project(p.key),
                    "the problem statement in the project charter",
                ),
                maybe(
                    "System and version",
                    f"{m.model.name} v{m.version.version}" if m else None,
                    mv_link,
                    NO_MODEL,
                ),
                _tier(record, links),
                maybe(
                    "Instructions for use",
                    instructions[0] if instructions else None,
                    links.gate(instructions[1]) if instructions else None,
                    "the note of the production readiness gate's 'instructions' attestation",
                ),
            ),
            (
                Table(
                    "Deployments (forms in which it is put into service)",
                    ("Deployment", "Environment", "Traffic share", "Started", "Outcome"),
                    deployments,
                ),
            ),
        ),
        Section(
            "annex_iv_2",
            "2. Detailed description of the elements and of the development process",
            (
                maybe(
                    "Development run",
                    run.id if run else None,
                    links.run(run.id) if run else None,
                    "the run the model version was registered from",
                ),
                maybe(
                    "Code version",
                    run.git_commit if run else None,
                    links.run(run.id) if run else None,
                    "the git commit logged with the run",
                ),
                maybe(
                    "Design choices (parameters)",
                    ", ".join(f"{k}={v}" for k, v in sorted(run.params.items())) if run else None,
                    links.run(run.id) if run else None,
                    "parameters logged with the run",
                ),
                maybe(
                    "Validation and testing",
                    f"evaluation {ev.id} on {ev.evaluation.rows} rows" if ev else None,
                    links.evaluation(ev.id) if ev else None,
                    "a stored evaluation of the version",
                ),
                maybe(
                    "Human oversight measures (Art. 14)",
                    oversight[0] if oversight else None,
                    links.gate(oversight[1]) if oversight else None,
                    "the note of the ethics checkpoint's 'oversight' attestation",
                ),
            ),
            (
                Table(
                    "Data (Art. 10)",
                    ("Dataset version", "Role", "Content hash", "Quality index"),
                    data_rows,
                ),
            ),
        ),
        Section(
            "annex_iv_3",
            "3. Monitoring, functioning and control",
            (
                maybe(
                    "Foreseeable unintended outcomes and risks",
                    harms[0] if harms else None,
                    links.gate(harms[1]) if harms else None,
                    "the note of the ethics checkpoint's 'harms' attestation",
                ),
                maybe(
                    "Accuracy for groups of persons",
                    ", ".join(f"{k}={num(v)}" for k, v in m.fairness[0].values.items())
                    if m and m.fairness
                    else None,
                    mv_link,
                    "a fairness audit of the version",
                ),
            ),
            (Table("Performance (capabilities and limitations)", ("Metric", "Value"), metrics),),
        ),
        Section(
            "annex_iv_4",
            "4. Appropriateness of the performance metrics",
            (
                maybe(
                    "Success metric (charter)",
                    f"{s.key} {s.comparator.value} {num(s.threshold)}" if s else None,
                    links.project(p.key),
                    "a success metric in the charter",
                ),
                maybe(
                    "Met by the version",
                    met,
                    mv_link,
                    "the version's value of the charter's success metric",
                ),
                maybe(
                    "Business KPI it serves",
                    p.charter.business_kpi.name if p.charter.business_kpi else None,
                    links.project(p.key),
                    "the business KPI in the charter",
                ),
            ),
        ),
        Section(
            "annex_iv_5",
            "5. Risk management system (Art. 9)",
            (
                maybe(
                    "Risk register",
                    f"{len(record.risks)} risks" if record.risks else None,
                    links.risks(p.key),
                    "risks in the project's risk register",
                ),
            ),
            (
                Table("Risks", RISK_COLUMNS, _risk_rows(record.risks, links)),
                gates_table(art9, links, "Gates serving Art. 9"),
            ),
        ),
        Section(
            "annex_iv_6",
            "6. Relevant changes made through the lifecycle",
            (
                maybe(
                    "Stage changes",
                    f"{len(stages)} recorded" if stages else None,
                    mv_link,
                    "stage changes of the version (registry)",
                ),
            ),
            (
                Table("Stage history", ("When", "Change", "By", "Reason"), stages),
                Table("Phase history", ("When", "Change", "By", "Reason"), phases),
            ),
        ),
        Section(
            "annex_iv_7",
            "7. Harmonised standards applied",
            (
                missing(
                    "Standards",
                    "the harmonised standards (or other specifications) applied: "
                    "not kept in the record; add by hand",
                ),
            ),
        ),
        Section(
            "annex_iv_8",
            "8. EU declaration of conformity (Art. 47)",
            (
                missing(
                    "Declaration",
                    "a copy of the EU declaration of conformity: not kept in the record; attach it",
                ),
            ),
        ),
        Section(
            "annex_iv_9",
            "9. Post-market monitoring plan (Art. 72)",
            (
                maybe(
                    "Plan",
                    plan[0] if plan else None,
                    links.gate(plan[1]) if plan else None,
                    "the note of the post-market monitoring gate's 'plan' attestation",
                ),
                maybe(
                    "Monitors",
                    f"{len(monitors)} watching the version" if monitors else None,
                    links.project(p.key) + "/monitors",
                    "a monitor watching the version",
                ),
            ),
            (Table("Monitors", ("Monitor", "Checks", "Reference rows", "State"), monitors),),
        ),
    )
    subject = f"{m.model.name} v{m.version.version}" if m else p.key
    return Document(
        DocumentKind.ANNEX_IV,
        f"Annex IV technical documentation: {subject}",
        subject,
        p.key,
        record.generated_at,
        sections,
    )


def impact_assessment(record: ProjectRecord, calendar: Calendar) -> Document:
    links = Links(record.base_url)
    p, m = record.project, record.model
    today = record.generated_at.date()
    oversight = attestation(record.gates, "ethics_checkpoint", "oversight")
    harms = attestation(record.gates, "ethics_checkpoint", "harms")
    dpia = attestation(record.gates, "privacy_review", "impact_assessment")
    legal = attestation(record.gates, "privacy_review", "legal_basis")
    personal = tuple(
        (
            Cell(f"{dv.dataset} v{dv.version}", links.dataset_version(dv.id)),
            Cell(col),
            Cell(", ".join(f.value for f in flags)),
            Cell(dv.meta.legal_basis or "—"),
            Cell(dv.meta.residency or "—"),
            Cell(dv.meta.retention_until.isoformat() if dv.meta.retention_until else "—"),
        )
        for dv in record.datasets
        for col, flags in sorted(dv.meta.personal_data.items())
    )
    audits = tuple(
        (
            Cell(a.id, links.model_version(a.model_version_id)),
            Cell(", ".join(a.sensitive_cols)),
            Cell(a.primary_measure),
            Cell(num(a.values.get(a.primary_measure)), links.model_version(a.model_version_id)),
            Cell(num(a.values.get("four_fifths_rule"))),
        )
        for a in (m.fairness if m else ())
    )
    rights = tuple(r for r in record.risks if r.category.value in ("ethical", "legal"))
    overdue = [g for g in record.gates if g.due and g.due.state is DueState.OVERDUE]
    sections = (
        Section(
            "context",
            "Context and purpose",
            (
                maybe("Purpose", p.charter.problem, links.project(p.key), "the charter's problem"),
                _tier(record, links),
                value("Phase", p.phase.label, links.project(p.key)),
                maybe(
                    "System",
                    f"{m.model.name} v{m.version.version} ({m.version.stage.value})" if m else None,
                    links.model_version(m.version.id) if m else None,
                    NO_MODEL,
                ),
            ),
        ),
        Section(
            "affected",
            "Affected persons and groups",
            (
                maybe(
                    "Groups audited",
                    ", ".join(sorted({c for a in m.fairness for c in a.sensitive_cols}))
                    if m
                    else None,
                    links.model_version(m.version.id) if m else None,
                    "a fairness audit naming sensitive columns",
                ),
                maybe(
                    "Foreseeable harms",
                    harms[0] if harms else None,
                    links.gate(harms[1]) if harms else None,
                    "the note of the ethics checkpoint's 'harms' attestation",
                ),
            ),
        ),
        Section(
            "personal_data",
            "Personal data",
            (
                maybe(
                    "Legal basis and retention",
                    legal[0] if legal else None,
                    links.gate(legal[1]) if legal else None,
                    "the note of the privacy review's 'legal_basis' attestation",
                ),
                maybe(
                    "Data protection impact assessment",
                    dpia[0] if dpia else None,
                    links.gate(dpia[1]) if dpia else None,
                    "the note of the privacy review's 'impact_assessment' attestation",
                ),
            ),
            (
                Table(
                    "Columns flagged as personal data",
                    ("Dataset version", "Column", "Flags", "Legal basis", "Residency", "Retention"),
                    personal,
                    "no column flagged",
                ),
            ),
        ),
        Section(
            "fairness",
            "Fairness",
            (),
            (
                Table(
                    "Fairness audits",
                    ("Audit", "Groups", "Measure", "Value", "Four-fifths rule"),
                    audits,
                ),
            ),
        ),
        Section(
            "rights_risks",
            "Risks to health, safety and fundamental rights",
            (value("Ethical and legal risks", len(rights), links.risks(p.key)),),
            (Table("Risks", RISK_COLUMNS, _risk_rows(rights, links)),),
        ),
        Section(
            "oversight",
            "Human oversight and redress",
            (
                maybe(
                    "Oversight and appeal path",
                    oversight[0] if oversight else None,
                    links.gate(oversight[1]) if oversight else None,
                    "the note of the ethics checkpoint's 'oversight' attestation",
                ),
            ),
        ),
        Section(
            "mitigations",
            "Mitigations and gates",
            (
                value(
                    "Gates passed",
                    sum(g.review.status is GateStatus.PASSED for g in record.gates),
                    links.project(p.key),
                ),
                value("Gates overdue", len(overdue), links.project(p.key)),
            ),
            (gates_table(record.gates, links),),
        ),
        Section(
            "calendar",
            "Compliance calendar",
            (value("Source", calendar.source),),
            (calendar_table(calendar, today),),
        ),
    )
    return Document(
        DocumentKind.IMPACT_ASSESSMENT,
        f"Impact assessment: {p.key}",
        p.key,
        p.key,
        record.generated_at,
        sections,
    )


def risk_register(record: ProjectRecord) -> Document:
    links = Links(record.base_url)
    p = record.project
    levels = Counter(r.level for r in record.risks)
    statuses = Counter(r.status.value for r in record.risks)
    sections = (
        Section(
            "summary",
            "Summary",
            (
                value("Risks", len(record.risks), links.risks(p.key)),
                value(
                    "By level",
                    ", ".join(f"{k}: {levels[k]}" for k in ("high", "medium", "low")),
                    links.risks(p.key),
                ),
                value(
                    "By status",
                    ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())) or "none",
                    links.risks(p.key),
                ),
                value(
                    "Reviews overdue",
                    sum(r.review_overdue for r in record.risks),
                    links.risks(p.key),
                ),
            ),
        ),
        Section(
            "register",
            "Register",
            (),
            (Table("Risks", RISK_COLUMNS, _risk_rows(record.risks, links), "no risks recorded"),),
        ),
    )
    return Document(
        DocumentKind.RISK_REGISTER,
        f"Risk register: {p.key}",
        p.key,
        p.key,
        record.generated_at,
        sections,
    )
