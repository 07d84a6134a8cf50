"""OpenAPI descriptions of the MLflow endpoints.

The handlers read their bodies and query strings by hand (``wire.py``): MLflow's log
calls are the hottest requests, and FastAPI's body parsing would cost more than the
database write. So the routes declare no parameters FastAPI could see, and these models
describe them instead: each route's ``openapi_extra`` carries its request body, query
parameters and replies, referring to JSON schemas generated from the models below, which
``install`` adds to the document's components. Nothing here validates a request; the
models say what MLflow's protocol sends (see the shared protocol reference), and the
handlers stay as lenient as MLflow's own server where it is (numbers as numeric strings,
``run_uuid`` for ``run_id``).
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from pydantic.json_schema import models_json_schema

SCHEMAS = "#/components/schemas/"
JSON = "application/json"

ExperimentId = Annotated[
    str, Field(pattern=r"^[0-9]+$", description="Decimal experiment number; 0 is Default.")
]
RunId = Annotated[str, Field(description="32 hex characters (Loopwise's run_ id without it).")]
Millis = Annotated[int, Field(ge=0, description="Epoch milliseconds.")]
MetricValue = Annotated[
    float | Literal["NaN", "Infinity", "-Infinity"],
    Field(description="A number, or NaN/Infinity/-Infinity as strings."),
]
RunStatus = Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
ViewType = Literal["ACTIVE_ONLY", "DELETED_ONLY", "ALL"]
Stage = Literal["None", "Staging", "Production", "Archived"]
EITHER_RUN_ID: JsonDict = {"anyOf": [{"required": ["run_id"]}, {"required": ["run_uuid"]}]}


class _Doc(BaseModel):
    model_config = ConfigDict(extra="allow")  # MLflow clients may send more; it is ignored


class _Either(_Doc):
    """A body naming its run as ``run_id`` or as the legacy ``run_uuid`` (clients send both)."""

    model_config = ConfigDict(json_schema_extra=EITHER_RUN_ID)
    run_id: RunId | None = None
    run_uuid: RunId | None = None


# --- shared shapes ---------------------------------------------------------------------


class MlflowTag(_Doc):
    key: Annotated[str, Field(min_length=1, max_length=250)]
    value: str = ""


class MlflowParam(_Doc):
    key: Annotated[str, Field(min_length=1, max_length=250)]
    value: str = ""


class MlflowMetric(_Doc):
    key: Annotated[str, Field(min_length=1, max_length=250, pattern=r"^[A-Za-z0-9_\-. /:]+$")]
    value: MetricValue
    timestamp: Millis | None = None
    step: int | None = None


class MlflowError(BaseModel):
    """MLflow's error body: RESOURCE_DOES_NOT_EXIST (404), INVALID_PARAMETER_VALUE and
    RESOURCE_ALREADY_EXISTS (400), PERMISSION_DENIED (403), UNAUTHENTICATED (401)."""

    error_code: str
    message: str


class MlflowExperiment(BaseModel):
    experiment_id: ExperimentId
    name: str
    artifact_location: str
    lifecycle_stage: Literal["active", "deleted"]
    creation_time: Millis
    last_update_time: Millis
    tags: list[MlflowTag] = []


class MlflowRunInfo(BaseModel):
    run_id: RunId
    run_uuid: RunId
    experiment_id: ExperimentId
    run_name: str
    user_id: str
    status: RunStatus
    start_time: Millis
    end_time: Millis | None = None
    artifact_uri: str
    lifecycle_stage: Literal["active", "deleted"]


class MlflowRunData(BaseModel):
    metrics: list[MlflowMetric] = Field(description="The latest value of each metric.")
    params: list[MlflowParam]
    tags: list[MlflowTag]


class MlflowRun(BaseModel):
    info: MlflowRunInfo
    data: MlflowRunData
    inputs: dict[str, Any] = {}
    outputs: dict[str, Any] = {}


class MlflowModelVersion(BaseModel):
    name: str
    version: Annotated[str, Field(pattern=r"^[0-9]+$")]
    creation_timestamp: Millis
    last_updated_timestamp: Millis
    current_stage: Stage
    description: str
    source: str
    run_id: str
    status: Literal["READY"]
    run_link: str
    aliases: list[str]
    tags: list[MlflowTag]


class MlflowAlias(BaseModel):
    alias: str
    version: str


class MlflowRegisteredModel(BaseModel):
    name: str
    creation_timestamp: Millis
    last_updated_timestamp: Millis
    description: str
    aliases: list[MlflowAlias]
    tags: list[MlflowTag]
    latest_versions: list[MlflowModelVersion] = Field(
        default=[], description="The newest version in each stage."
    )


class MlflowLoggedModelInfo(BaseModel):
    model_id: str
    experiment_id: ExperimentId
    name: str
    creation_timestamp_ms: Millis
    last_updated_timestamp_ms: Millis
    artifact_uri: str
    status: str
    model_type: str
    source_run_id: RunId | None = None
    tags: list[MlflowTag]


class MlflowLoggedModel(BaseModel):
    info: MlflowLoggedModelInfo
    data: dict[str, Any]


# --- request bodies and query strings --------------------------------------------------


class MlflowExperimentByName(_Doc):
    experiment_name: str


class MlflowExperimentCreate(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    artifact_location: str | None = Field(default=None, description="Ignored: proxied.")
    tags: list[MlflowTag] = []


class MlflowExperimentRef(_Doc):
    experiment_id: ExperimentId


class MlflowExperimentSearch(_Doc):
    max_results: Annotated[int, Field(ge=1)] = 1000
    page_token: str | None = None
    filter: str | None = Field(
        default=None,
        description="clauses joined by AND on name, tags.<key>, experiment_id, "
        "creation_time, last_update_time",
    )
    view_type: ViewType = "ACTIVE_ONLY"
    order_by: list[str] = []


class MlflowExperimentRename(_Doc):
    experiment_id: ExperimentId
    new_name: Annotated[str, Field(min_length=1, max_length=200)]


class MlflowExperimentTag(_Doc):
    experiment_id: ExperimentId
    key: Annotated[str, Field(min_length=1, max_length=250)]
    value: str = ""


class MlflowExperimentTagRef(_Doc):
    experiment_id: ExperimentId
    key: Annotated[str, Field(min_length=1, max_length=250)]


class MlflowRunCreate(_Doc):
    experiment_id: ExperimentId = "0"
    user_id: str | None = None
    run_name: str | None = None
    start_time: Millis | None = None
    tags: list[MlflowTag] = []


class MlflowRunRef(_Either):
    pass


class MlflowRunUpdate(_Either):
    status: RunStatus | None = None
    end_time: Millis | None = None
    run_name: str | None = None


class MlflowRunOnly(_Doc):
    run_id: RunId


class MlflowLogParam(_Either):
    key: Annotated[str, Field(min_length=1, max_length=250)]
    value: str


class MlflowLogMetric(_Either):
    key: Annotated[str, Field(min_length=1, max_length=250, pattern=r"^[A-Za-z0-9_\-. /:]+$")]
    value: MetricValue
    timestamp: Millis | None = None
    step: int | None = None


class MlflowLogBatch(_Doc):
    run_id: RunId
    metrics: Annotated[list[MlflowMetric], Field(max_length=1000)] = []
    params: Annotated[list[MlflowParam], Field(max_length=1000)] = []
    tags: Annotated[list[MlflowTag], Field(max_length=1000)] = []


class MlflowSetTag(_Either):
    key: Annotated[str, Field(min_length=1, max_length=250)]
    value: str = ""


class MlflowDeleteTag(_Doc):
    run_id: RunId
    key: Annotated[str, Field(min_length=1, max_length=250)]


class MlflowRunSearch(_Doc):
    experiment_ids: list[ExperimentId] = []
    filter: str | None = Field(
        default=None, description="MLflow's grammar, e.g. metrics.acc > 0.9 and params.lr = '0.1'"
    )
    run_view_type: ViewType = "ACTIVE_ONLY"
    max_results: Annotated[int, Field(ge=1, le=50_000)] = 1000
    order_by: list[str] = []
    page_token: str | None = None


class MlflowHistoryQuery(_Either):
    metric_key: Annotated[str, Field(min_length=1, max_length=250)]
    max_results: Annotated[int, Field(ge=1, le=25_000)] = 25_000
    page_token: str | None = None


class MlflowBulkIntervalQuery(_Doc):
    run_ids: Annotated[list[RunId], Field(min_length=1, max_length=100)]
    metric_key: Annotated[str, Field(min_length=1, max_length=250)]
    start_step: int | None = Field(default=None, description="with end_step, inclusive")
    end_step: int | None = None
    max_results: Annotated[int, Field(ge=1, le=2500)] = 2500


class MlflowDataset(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    digest: Annotated[str, Field(min_length=1, max_length=70)]
    source_type: str | None = None
    source: str | None = None
    schema_: str | None = Field(default=None, alias="schema", description="mlflow_colspec JSON")


class MlflowDatasetInput(_Doc):
    dataset: MlflowDataset
    tags: list[MlflowTag] = Field(default=[], description="mlflow.data.context: the role")


class MlflowLogInputs(_Doc):
    run_id: RunId
    datasets: list[MlflowDatasetInput] = []


class MlflowModelOutput(_Doc):
    model_id: str
    step: int | None = None


class MlflowLogOutputs(_Doc):
    run_id: RunId
    models: list[MlflowModelOutput] = []


class MlflowArtifactQuery(_Doc):
    path: str = Field(default="", description="<experiment>/<run>/artifacts[/folder]")


class MlflowModelName(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]


class MlflowModelCreate(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str | None = None
    tags: list[MlflowTag] = []


class MlflowModelSearch(_Doc):
    filter: str | None = Field(
        default=None, description="name LIKE 'a%' AND tags.k = 'v' (registry.search grammar)"
    )
    max_results: Annotated[int, Field(ge=1)] | None = None
    page_token: str | None = None
    order_by: list[str] = []


class MlflowAliasSet(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    alias: Annotated[str, Field(min_length=1, max_length=100)]
    version: Annotated[str, Field(pattern=r"^[0-9]+$")]


class MlflowAliasRef(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    alias: Annotated[str, Field(min_length=1, max_length=100)]


class MlflowVersionCreate(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    source: str | None = Field(default=None, description="runs:/..., mlflow-artifacts:/...")
    run_id: RunId | None = None
    model_id: str | None = None
    description: str | None = None
    tags: list[MlflowTag] = []


class MlflowVersionRef(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    version: Annotated[str, Field(pattern=r"^[0-9]+$")]


class MlflowStageChange(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    version: Annotated[str, Field(pattern=r"^[0-9]+$")]
    stage: Stage
    archive_existing_versions: bool = False


class MlflowLatestVersions(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    stages: list[Stage] = Field(default=[], description="Every stage when empty.")


class MlflowModelUpdate(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str | None = None


class MlflowModelRename(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    new_name: Annotated[str, Field(min_length=1, max_length=200)]


class MlflowModelTagSet(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    key: Annotated[str, Field(min_length=1, max_length=250)]
    value: str = ""


class MlflowModelTagRef(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    key: Annotated[str, Field(min_length=1, max_length=250)]


class MlflowVersionUpdate(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    version: Annotated[str, Field(pattern=r"^[0-9]+$")]
    description: str | None = None


class MlflowVersionTagSet(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    version: Annotated[str, Field(pattern=r"^[0-9]+$")]
    key: Annotated[str, Field(min_length=1, max_length=250)]
    value: str = ""


class MlflowVersionTagRef(_Doc):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    version: Annotated[str, Field(pattern=r"^[0-9]+$")]
    key: Annotated[str, Field(min_length=1, max_length=250)]


class MlflowLoggedModelCreate(_Doc):
    experiment_id: ExperimentId
    name: Annotated[str, Field(max_length=250)] | None = None
    source_run_id: RunId | None = None
    model_type: str | None = None
    tags: list[MlflowTag] = []
    params: list[MlflowParam] = []


class MlflowLoggedModelUpdate(_Doc):
    model_id: str | None = None
    status: str | None = Field(default=None, description="e.g. LOGGED_MODEL_READY")


class MlflowLoggedModelTags(_Doc):
    model_id: str | None = None
    tags: list[MlflowTag] = []


class MlflowLoggedModelSearch(_Doc):
    experiment_ids: list[ExperimentId] = []
    filter: str | None = Field(default=None, description="name = '...'")
    max_results: Annotated[int, Field(ge=1, le=50_000)] | None = None
    page_token: str | None = None


class MlflowLoggedModelParams(_Doc):
    model_id: str | None = None
    params: list[MlflowParam] = []


# --- replies ---------------------------------------------------------------------------


class MlflowEmpty(BaseModel):
    """``{}``: done."""


class MlflowExperimentReply(BaseModel):
    experiment: MlflowExperiment


class MlflowExperimentCreated(BaseModel):
    experiment_id: ExperimentId


class MlflowExperimentPage(BaseModel):
    experiments: list[MlflowExperiment]
    next_page_token: str | None = None


class MlflowRunReply(BaseModel):
    run: MlflowRun


class MlflowRunInfoReply(BaseModel):
    run_info: MlflowRunInfo


class MlflowRunPage(BaseModel):
    runs: list[MlflowRun]
    next_page_token: str | None = Field(default=None, description="Absent on the last page.")


class MlflowHistoryPage(BaseModel):
    metrics: list[MlflowMetric]
    next_page_token: str | None = None


class MlflowMetricWithRunId(MlflowMetric):
    run_id: str


class MlflowBulkIntervalPage(BaseModel):
    metrics: list[MlflowMetricWithRunId]


class MlflowServerInfo(BaseModel):
    store_type: str
    workspaces_enabled: bool
    multipart_uploads_enabled: bool
    multipart_downloads_enabled: bool


class MlflowArtifactFile(BaseModel):
    path: str
    is_dir: bool
    file_size: int | None = None


class MlflowArtifactList(BaseModel):
    files: list[MlflowArtifactFile] = Field(
        default=[], description="Absent when the path is a file or missing."
    )


class MlflowModelReply(BaseModel):
    registered_model: MlflowRegisteredModel


class MlflowModelPage(BaseModel):
    registered_models: list[MlflowRegisteredModel]
    next_page_token: str | None = None


class MlflowVersionList(BaseModel):
    model_versions: list[MlflowModelVersion]


class MlflowVersionPage(BaseModel):
    model_versions: list[MlflowModelVersion]
    next_page_token: str | None = None


class MlflowVersionReply(BaseModel):
    model_version: MlflowModelVersion


class MlflowDownloadUri(BaseModel):
    artifact_uri: str


class MlflowLoggedModelReply(BaseModel):
    model: MlflowLoggedModel


class MlflowLoggedModelPage(BaseModel):
    models: list[MlflowLoggedModel]


MODELS: list[type[BaseModel]] = [
    m for m in list(globals().values()) if isinstance(m, type) and m.__name__.startswith("Mlflow")
]


# --- openapi_extra ---------------------------------------------------------------------


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": SCHEMAS + model.__name__}


def _parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=SCHEMAS + "{model}")
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema["properties"].items()
    ]


def describe(
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    reply: type[BaseModel] | None = MlflowEmpty,
    raw_body: bool = False,
    file_reply: bool = False,
) -> dict[str, Any]:
    """An ``openapi_extra`` for one MLflow route: its JSON body or query string, its
    200 reply, and MLflow's error body for 400, 403 and 404."""
    error = {"description": "MLflow's error body", "content": {JSON: {"schema": _ref(MlflowError)}}}
    extra: dict[str, Any] = {
        "responses": {
            "400": copy.deepcopy(error) | {"description": "INVALID_PARAMETER_VALUE and kin"},
            "403": copy.deepcopy(error) | {"description": "PERMISSION_DENIED"},
            "404": copy.deepcopy(error) | {"description": "RESOURCE_DOES_NOT_EXIST"},
        }
    }
    if reply is not None:
        extra["responses"]["200"] = {"content": {JSON: {"schema": _ref(reply)}}}
    if file_reply:
        extra["responses"]["200"] = {
            "description": "The file's bytes, with a content type guessed from its name",
            "content": {"application/octet-stream": {"schema": {}}},
        }
    if body is not None:
        needed = bool(body.model_json_schema().get("required"))
        extra["requestBody"] = {"required": needed, "content": {JSON: {"schema": _ref(body)}}}
    if raw_body:
        extra["requestBody"] = {
            "required": True,
            "content": {"application/octet-stream": {"schema": {}}},
        }
    if query is not None:
        extra["parameters"] = _parameters(query)
    return extra


def components() -> dict[str, Any]:
    """JSON schemas of every model above, for the document's ``components.schemas``."""
    _, defs = models_json_schema(
        [(m, "validation") for m in MODELS], ref_template=SCHEMAS + "{model}"
    )
    return dict(defs.get("$defs", {}))


def install(app: FastAPI) -> None:
    """Add the MLflow schemas to the app's OpenAPI document when it is first built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            ours = components()
            clash = set(schemas) & set(ours)
            if clash:  # a native schema would be silently replaced
                raise RuntimeError(f"MLflow schema names clash with native ones: {clash}")
            schemas.update(ours)
        return app.openapi_schema or build()

    # FastAPI's documented way to supply the schema; its class declares openapi a method
    app.openapi = openapi  # type: ignore[method-assign]
