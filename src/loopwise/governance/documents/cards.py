"""Pure builders: the model card (the sections of Mitchell et al., "Model Cards for Model
Reporting", 2019) and the datasheet (the sections of Gebru et al., "Datasheets for
Datasets", 2021) from a gathered record. Every figure carries the link of its record;
what the record lacks is MISSING with what would fill it."""

from __future__ import annotations

from loopwise.governance.documents.gather import ModelRecord, ProjectRecord
from loopwise.governance.documents.links import Links, attestation, interval, num, when
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

NO_MODEL = "a registered model version in this project"


def _subject(record: ProjectRecord) -> str:
    m = record.model
    return f"{m.model.name} v{m.version.version}" if m else record.project.key


def _metrics_table(m: ModelRecord, links: Links) -> Table:
    if not m.evaluations:
        return Table("Evaluation metrics", ("Metric", "Value", "Interval"), ())
    ev = m.evaluations[0]
    link = links.evaluation(ev.id)
    level = f"{ev.evaluation.confidence:.0%} interval"
    rows = tuple(
        (Cell(e.name), Cell(num(e.value), link), Cell(interval(e.low, e.high), link))
        for e in ev.evaluation.metrics
    )
    return Table(
        f"Evaluation {ev.id} ({ev.evaluation.rows} rows)", ("Metric", "Value", level), rows
    )


def _slices_table(m: ModelRecord, links: Links) -> Table:
    ev = next((e for e in m.evaluations if e.evaluation.slices), None)
    if ev is None:
        return Table("Sliced metrics", ("Slice", "Rows", "Metric", "Value", "Interval"), ())
    link = links.evaluation(ev.id)
    rows = tuple(
        (
            Cell(f"{ev.evaluation.slice_column} = {s.value}"),
            Cell(str(s.rows), link),
            Cell(e.name),
            Cell(num(e.value), link),
            Cell(interval(e.low, e.high), link),
        )
        for s in ev.evaluation.slices
        for e in s.metrics
    )
    return Table(
        f"Sliced metrics (evaluation {ev.id})",
        ("Slice", "Rows", "Metric", "Value", "Interval"),
        rows,
    )


def _fairness_table(m: ModelRecord, links: Links) -> Table:
    if not m.fairness:
        return Table("Fairness audit", ("Measure", "Value"), ())
    audit = m.fairness[0]
    link = links.model_version(m.version.id)
    rows = tuple((Cell(k), Cell(num(v), link)) for k, v in audit.values.items())
    title = (
        f"Fairness audit {audit.id} on {', '.join(audit.sensitive_cols)} ({audit.rows} rows, "
        f"dataset version {audit.dataset_version_id})"
    )
    return Table(title, ("Measure", "Value"), rows)


def _data_table(m: ModelRecord, links: Links, roles: tuple[str, ...]) -> Table:
    rows = tuple(
        (
            Cell(f"{dv.dataset} v{dv.version}", links.dataset_version(dv.id)),
            Cell(u.role.value),
            Cell(str(dv.rows), links.dataset_version(dv.id)),
            Cell(dv.content_hash[:16]),
        )
        for u, dv in zip(m.run_datasets, m.datasets, strict=True)
        if u.role.value in roles
    )
    return Table("Datasets", ("Dataset version", "Role", "Rows", "Content hash"), rows)


def _details(record: ProjectRecord, links: Links) -> Section:
    m = record.model
    if m is None:
        return Section("model_details", "Model details", (missing("Model", NO_MODEL),))
    v, run = m.version, m.run
    fields: list[Field] = [
        value("Name", m.model.name, links.model(m.model.name)),
        value("Version", v.version, links.model_version(v.id)),
        value("Stage", v.stage.value, links.model_version(v.id)),
        value("Registered", when(v.created_at), links.model_version(v.id)),
        maybe(
            "Description",
            v.description or m.model.description,
            links.model_version(v.id),
            "a description of the model or version (registry)",
        ),
        maybe(
            "Trained in run",
            run.id if run else None,
            links.run(run.id) if run else None,
            "the run the version was registered from",
        ),
        maybe(
            "Code version (git commit)",
            run.git_commit if run else None,
            links.run(run.id) if run else None,
            "the git commit logged with the run",
        ),
    ]
    params = (
        tuple((Cell(k), Cell(val, links.run(run.id))) for k, val in sorted(run.params.items()))
        if run
        else ()
    )
    return Section(
        "model_details",
        "Model details",
        tuple(fields),
        (Table("Training parameters", ("Parameter", "Value"), params),),
    )


def _intended_use(record: ProjectRecord, links: Links) -> Section:
    p = record.project
    purpose = attestation(record.gates, "intake", "purpose")
    harms = attestation(record.gates, "ethics_checkpoint", "harms")
    kpi = p.charter.business_kpi
    return Section(
        "intended_use",
        "Intended use",
        (
            maybe(
                "Primary intended use",
                p.charter.problem,
                links.project(p.key),
                "the problem statement in the project charter",
            ),
            maybe(
                "Intended users",
                purpose[0] if purpose else None,
                links.gate(purpose[1]) if purpose else None,
                "the note of the intake gate's 'purpose' attestation",
            ),
            maybe(
                "Business KPI",
                f"{kpi.name} (baseline {num(kpi.baseline)}, target {num(kpi.target)})"
                if kpi
                else None,
                links.project(p.key),
                "the business KPI in the charter",
            ),
            maybe(
                "Out-of-scope uses and misuse",
                harms[0] if harms else None,
                links.gate(harms[1]) if harms else None,
                "the note of the ethics checkpoint's 'harms' attestation",
            ),
        ),
    )


def _factors(record: ProjectRecord, links: Links) -> Section:
    m = record.model
    sensitive = sorted({c for a in m.fairness for c in a.sensitive_cols}) if m else []
    sliced = (
        sorted({e.evaluation.slice_column for e in m.evaluations if e.evaluation.slice_column})
        if m
        else []
    )
    link = links.model_version(m.version.id) if m else None
    ev_link = (
        next((links.evaluation(e.id) for e in m.evaluations if e.evaluation.slice_column), None)
        if m
        else None
    )
    return Section(
        "factors",
        "Factors",
        (
            maybe(
                "Groups audited for fairness",
                ", ".join(sensitive),
                link,
                "a fairness audit of this version naming its sensitive columns",
            ),
            maybe(
                "Evaluation factors (slices)",
                ", ".join(sliced),
                ev_link,
                "an evaluation of this version with a slice column",
            ),
        ),
    )


def _metrics(record: ProjectRecord, links: Links) -> Section:
    p, m = record.project, record.model
    s = p.charter.success_metric
    names = [e.name for e in m.evaluations[0].evaluation.metrics] if m and m.evaluations else []
    return Section(
        "metrics",
        "Metrics",
        (
            maybe(
                "Success metric (charter)",
                f"{s.key} {s.comparator.value} {num(s.threshold)}" if s else None,
                links.project(p.key),
                "a success metric in the project charter",
            ),
            maybe(
                "Performance measures",
                ", ".join(names),
                links.evaluation(m.evaluations[0].id) if m and m.evaluations else None,
                "a stored evaluation of this version",
            ),
            maybe(
                "Variation (interval)",
                f"bootstrap, {m.evaluations[0].evaluation.confidence:.0%}"
                if m and m.evaluations
                else None,
                links.evaluation(m.evaluations[0].id) if m and m.evaluations else None,
                "a stored evaluation of this version",
            ),
            maybe(
                "Primary fairness measure",
                m.fairness[0].primary_measure if m and m.fairness else None,
                links.model_version(m.version.id) if m else None,
                "a fairness audit of this version",
            ),
        ),
    )


def _evaluation_data(record: ProjectRecord, links: Links) -> Section:
    m = record.model
    ev = m.evaluations[0] if m and m.evaluations else None
    dv_id = ev.dataset_version_id if ev else None
    tables = (_data_table(m, links, ("eval", "test")),) if m else ()
    return Section(
        "evaluation_data",
        "Evaluation data",
        (
            maybe(
                "Evaluation dataset version",
                dv_id,
                links.dataset_version(dv_id) if dv_id else None,
                "an evaluation of this version on a registered dataset version",
            ),
            maybe(
                "Rows evaluated",
                ev.evaluation.rows if ev else None,
                links.evaluation(ev.id) if ev else None,
                "a stored evaluation of this version",
            ),
        ),
        tables,
    )


def _training_data(record: ProjectRecord, links: Links) -> Section:
    m = record.model
    train = (
        [
            (u, dv)
            for u, dv in zip(m.run_datasets, m.datasets, strict=True)
            if u.role.value == "train"
        ]
        if m
        else []
    )
    first = train[0][1] if train else None
    tables = (_data_table(m, links, ("train", "input")),) if m else ()
    return Section(
        "training_data",
        "Training data",
        (
            maybe(
                "Training dataset version",
                f"{first.dataset} v{first.version}" if first else None,
                links.dataset_version(first.id) if first else None,
                "a dataset version used by the training run with the role 'train'",
            ),
            maybe(
                "Content hash",
                first.content_hash if first else None,
                links.dataset_version(first.id) if first else None,
                "the training dataset version",
            ),
        ),
        tables,
    )


def _quantitative(record: ProjectRecord, links: Links) -> Section:
    m = record.model
    if m is None:
        return Section(
            "quantitative_analyses", "Quantitative analyses", (missing("Results", NO_MODEL),)
        )
    registered = tuple(
        (Cell(k), Cell(num(val), links.model_version(m.version.id)))
        for k, val in sorted(m.version.metrics.items())
    )
    return Section(
        "quantitative_analyses",
        "Quantitative analyses",
        (
            maybe(
                "Unitary results",
                f"evaluation {m.evaluations[0].id}" if m.evaluations else None,
                links.evaluation(m.evaluations[0].id) if m.evaluations else None,
                "a stored evaluation of this version",
            ),
            maybe(
                "Intersectional results",
                "fairness audit " + m.fairness[0].id if m.fairness else None,
                links.model_version(m.version.id),
                "a fairness audit of this version",
            ),
        ),
        (
            _metrics_table(m, links),
            Table("Metrics registered with the version", ("Metric", "Value"), registered),
            _slices_table(m, links),
            _fairness_table(m, links),
        ),
    )


def _ethics(record: ProjectRecord, links: Links) -> Section:
    m = record.model
    audit = m.fairness[0] if m and m.fairness else None
    ethics = next(
        (
            g
            for g in record.gates
            if g.template == "ethics_checkpoint" and m and g.model_version_id == m.version.id
        ),
        None,
    )
    personal = sorted({c for dv in (m.datasets if m else ()) for c in dv.meta.personal_data})
    rows = tuple(
        (Cell(r.key, links.risk(r.key)), Cell(r.title), Cell(r.level), Cell(r.mitigation or "—"))
        for r in record.risks
        if r.category.value in ("ethical", "legal")
    )
    return Section(
        "ethical_considerations",
        "Ethical considerations",
        (
            maybe(
                "Fairness measure justification",
                audit.justification if audit else None,
                links.model_version(m.version.id) if m else None,
                "the justification given with the fairness audit",
            ),
            maybe(
                "Ethics checkpoint",
                ethics.review.status.value if ethics else None,
                links.gate(ethics.id) if ethics else None,
                "the version's ethics checkpoint gate",
            ),
            value(
                "Personal data in training data",
                ", ".join(personal) or "none flagged",
                links.dataset_version(m.datasets[0].id) if m and m.datasets else None,
            )
            if m and m.datasets
            else missing("Personal data in training data", "the training run's dataset versions"),
        ),
        (Table("Ethical and legal risks", ("Risk", "Title", "Level", "Mitigation"), rows),),
    )


def _caveats(record: ProjectRecord, links: Links) -> Section:
    m = record.model
    warnings = tuple(w for a in (m.fairness if m else ()) for w in a.warnings)
    alerts = tuple(
        (
            Cell(a.monitor, links.monitor(a.project_key, a.monitor)),
            Cell(a.check.value),
            Cell(a.severity.value),
            Cell(a.state.value),
            Cell(num(a.value)),
        )
        for a in (m.alerts if m else ())
    )
    return Section(
        "caveats",
        "Caveats and recommendations",
        (
            value(
                "Fairness audit warnings",
                "; ".join(warnings) or "none",
                links.model_version(m.version.id) if m else None,
            ),
        ),
        (Table("Monitoring alerts", ("Monitor", "Check", "Severity", "State", "Value"), alerts),),
    )


EXPLAINED = 20  # features listed per explanation (the model page and the API give all)


def _explanations(record: ProjectRecord, links: Links) -> Section:
    m = record.model
    if m is None or not m.explanations:
        return Section(
            "explanations",
            "Explanations",
            (
                missing(
                    "Feature importance",
                    "not recorded: a permutation-importance explanation "
                    "of this version (Client.explain)",
                ),
            ),
        )
    fields, tables = [], []
    for e in m.explanations:
        method = "permutation importance" if e.method.value == "permutation" else "mean |SHAP|"
        on = links.dataset_version(e.dataset_version_id)
        detail = f"{method}, scoring {e.scoring}" if e.scoring else method
        if e.n_repeats:
            detail += f", {e.n_repeats} repeats"
        fields.append(
            value(f"Method ({e.method.value})", detail, links.model_version(e.model_version_id))
        )
        fields.append(value(f"Computed on ({e.method.value})", e.dataset_hash, on))
        rows = tuple(
            (Cell(f.feature), Cell(num(f.mean), on), Cell(num(f.std))) for f in e.ranked[:EXPLAINED]
        )
        shown = f"top {EXPLAINED} of {len(e.features)}" if len(e.features) > EXPLAINED else "all"
        tables.append(
            Table(f"Feature importance, {method} ({shown})", ("Feature", "Importance", "Std"), rows)
        )
    return Section("explanations", "Explanations", tuple(fields), tuple(tables))


def model_card(record: ProjectRecord) -> Document:
    links = Links(record.base_url)
    sections = (
        _details(record, links),
        _intended_use(record, links),
        _factors(record, links),
        _metrics(record, links),
        _evaluation_data(record, links),
        _training_data(record, links),
        _quantitative(record, links),
        _ethics(record, links),
        _caveats(record, links),
        _explanations(record, links),
    )
    return Document(
        DocumentKind.MODEL_CARD,
        f"Model card: {_subject(record)}",
        _subject(record),
        record.project.key,
        record.generated_at,
        sections,
    )


# --- the datasheet ---------------------------------------------------------------------


def _describe(expectation: dict[str, object]) -> str:
    if "rule" in expectation:
        return str(expectation["rule"])
    rest = ", ".join(f"{k} {v}" for k, v in expectation.items() if k != "column")
    return f"{expectation.get('column')}: {rest}"


NO_DATA = "a registered dataset version in this project"


def datasheet(record: ProjectRecord) -> Document:
    links = Links(record.base_url)
    p, dv, r = record.project, record.dataset, record.readiness
    subject = f"{dv.dataset} v{dv.version}" if dv else p.key
    title = f"Datasheet: {subject}"
    if dv is None:
        sections = tuple(
            Section(k, t, (missing("Dataset", NO_DATA),)) for k, t in _DATASHEET_SECTIONS
        )
        return Document(
            DocumentKind.DATASHEET, title, subject, p.key, record.generated_at, sections
        )
    link, meta = links.dataset_version(dv.id), dv.meta
    schema = tuple(
        (
            Cell(name),
            Cell(dtype, link),
            Cell(", ".join(f.value for f in meta.personal_data.get(name, ())) or "—"),
        )
        for name, dtype in dv.schema
    )
    dims = tuple((Cell(k), Cell(num(v), link)) for k, v in dv.dimensions.items())
    expectations = tuple(
        (Cell(_describe(e.expectation)), Cell(num(e.passed), link), Cell(str(e.failed), link))
        for e in dv.expectations
    )
    sources = tuple(
        (Cell(s.name), Cell(s.owner), Cell(s.permission.value, links.project(p.key)))
        for s in p.charter.data_sources
    )
    uses = tuple(
        (Cell(u.run_id, links.run(u.run_id)), Cell(u.role.value)) for u in record.dataset_runs
    )
    leakage = r.leakage if r else ()
    sections = (
        Section(
            "motivation",
            "Motivation",
            (
                maybe(
                    "Purpose",
                    p.charter.problem,
                    links.project(p.key),
                    "the charter's problem statement",
                ),
                maybe(
                    "Created and owned by", meta.owner, link, "the owner recorded with the version"
                ),
                missing(
                    "Funding",
                    "who funded the creation of the dataset (not kept in the record; add by hand)",
                ),
            ),
        ),
        Section(
            "composition",
            "Composition",
            (
                value("Rows", dv.rows, link),
                value("Columns", dv.columns, link),
                value("Duplicate rows", dv.duplicate_rows, link),
                maybe(
                    "Quality index",
                    num(dv.quality_index) if dv.quality_index is not None else None,
                    link,
                    "a profiled version (quality is measured when the data is readable)",
                ),
                value("Content hash", dv.content_hash, link),
                value("Format and size", f"{dv.format.value}, {dv.size_bytes} bytes", link),
                value(
                    "Personal data columns",
                    ", ".join(sorted(meta.personal_data)) or "none flagged",
                    link,
                ),
            ),
            (
                Table("Schema", ("Column", "Type", "Personal data"), schema),
                Table("Quality dimensions", ("Dimension", "Score"), dims),
            ),
        ),
        Section(
            "collection",
            "Collection process",
            (
                maybe("Source", meta.source, link, "the source recorded with the version"),
                value("Registered", when(dv.created_at), link),
            ),
            (Table("Charter data sources", ("Source", "Owner", "Permission"), sources),),
        ),
        Section(
            "preprocessing",
            "Preprocessing, cleaning and labelling",
            (
                value(
                    "Readiness",
                    ("ready" if r.ready else "not ready: " + "; ".join(r.issues))
                    if r
                    else "not assessed",
                    links.readiness(dv.id),
                ),
                value("Leakage checks", len(leakage), links.readiness(dv.id)),
            ),
            (Table("Expectations", ("Expectation", "Passed", "Failing rows"), expectations),),
        ),
        Section(
            "uses",
            "Uses",
            (value("Runs that used it", len(record.dataset_runs), link),),
            (Table("Runs", ("Run", "Role"), uses),),
        ),
        Section(
            "distribution",
            "Distribution",
            (
                maybe("Licence", meta.licence, link, "the licence recorded with the version"),
                maybe("Residency", meta.residency, link, "where the data must stay (residency)"),
                maybe("Legal basis", meta.legal_basis, link, "the legal basis for processing"),
            ),
        ),
        Section(
            "maintenance",
            "Maintenance",
            (
                maybe("Maintainer", meta.owner, link, "the owner recorded with the version"),
                maybe(
                    "Retention until",
                    meta.retention_until.isoformat() if meta.retention_until else None,
                    link,
                    "the retention date recorded with the version",
                ),
                value("Version", dv.version, link),
            ),
        ),
    )
    return Document(DocumentKind.DATASHEET, title, subject, p.key, record.generated_at, sections)


_DATASHEET_SECTIONS = (
    ("motivation", "Motivation"),
    ("composition", "Composition"),
    ("collection", "Collection process"),
    ("preprocessing", "Preprocessing, cleaning and labelling"),
    ("uses", "Uses"),
    ("distribution", "Distribution"),
    ("maintenance", "Maintenance"),
)
