"""The one app factory: explicit settings in, a FastAPI app out. No module globals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from swagger_ui_bundle import swagger_ui_path

import loopwise
from loopwise.accounts import api as accounts_api
from loopwise.core.clock import Clock, SystemClock
from loopwise.core.settings import Settings
from loopwise.data import api as data_api
from loopwise.db.engine import Database
from loopwise.db.migrate import ensure_current
from loopwise.mlflow_compat import api as mlflow_api
from loopwise.mlflow_compat import models_api as mlflow_models_api
from loopwise.mlflow_compat import openapi as mlflow_openapi
from loopwise.planning import api as planning_api
from loopwise.planning import board_api, hypotheses
from loopwise.projects import api as projects_api
from loopwise.registry import api as registry_api
from loopwise.tracking import api as tracking_api
from loopwise.web import errors, pages, security
from loopwise.web.body import BodyLimit
from loopwise.web.state import SYSTEM, AppState
from loopwise.web.timing import ServerTiming
from loopwise.wiring import default_bus, default_promotion_checks

log = logging.getLogger("loopwise")
WEB = Path(__file__).parent
# The address in-process clients (SDK ``Client.in_process``, CLI seeding and exports) use:
# a loopback name, allowed by default; ``in_process`` keeps it allowed whatever
# LOOPWISE_ALLOWED_HOSTS says (nothing listens, so no browser can reach such an app).
IN_PROCESS_URL = "http://127.0.0.1"
# The API browser (/docs): Swagger UI from the swagger-ui-bundle-v2 package, served here
# like any static file (no CDN: the page works offline and its CSP is the pages' own); its
# start-up code is the static file api-docs.js, so the page runs no inline script.
SWAGGER = "/static/swagger-ui"


def in_process(settings: Settings) -> Settings:
    """``settings`` for an app served inside this process to a client at IN_PROCESS_URL."""
    hosts = settings.allowed_hosts
    if not hosts or "*" in hosts or "127.0.0.1" in hosts:
        return settings
    return settings.model_copy(update={"allowed_hosts": (*hosts, "127.0.0.1")})


def sweep_verdicts(state: AppState) -> int:
    """Re-judge hypotheses whose time-box has passed (server sweep, CLI refresh)."""
    with state.context(SYSTEM, write=True) as ctx:
        return hypotheses.refresh_due(ctx)


async def _sweeper(state: AppState, every: float) -> None:
    while True:
        try:
            changed = await run_in_threadpool(sweep_verdicts, state)
            if changed:
                log.info("time-box sweep: %d verdicts changed", changed)
        except Exception:  # keep sweeping; the next tick retries
            log.exception("time-box sweep failed")
        await asyncio.sleep(every)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    sweep: bool = True,
) -> FastAPI:
    db = database or Database(
        settings.resolved_database_url,
        statement_timeout_ms=settings.statement_timeout_ms,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    ensure_current(db.engine)
    state = AppState(
        settings=settings,
        db=db,
        clock=clock or SystemClock(),
        bus=default_bus(),
        promotion_checks=default_promotion_checks(),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = None
        if sweep and settings.verdict_refresh_seconds > 0:
            task = asyncio.create_task(_sweeper(state, settings.verdict_refresh_seconds))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="Loopwise",
        version=loopwise.__version__,
        description="Plan and evidence for machine-learning projects.",
        lifespan=lifespan,
        docs_url=None,  # served below without inline script
        redoc_url=None,
    )
    app.state.loopwise = state
    templates = Jinja2Templates(directory=str(WEB / "templates"))
    pages.configure(templates)
    app.state.templates = templates
    errors.install(app)

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": loopwise.__version__}

    @app.get("/docs", include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "api_docs.html",
            {"swagger": SWAGGER, "openapi_url": app.openapi_url},
        )

    # The MLflow protocol first: its log calls are the hottest requests, and routes are
    # matched in order. Its handlers check their own bodies (mlflow_compat.wire).
    app.include_router(mlflow_api.router)
    app.include_router(mlflow_models_api.router)
    json_only = [Depends(security.json_body)]
    for api in (
        accounts_api,
        projects_api,
        planning_api,
        tracking_api,
        board_api,
        registry_api,
        data_api,
    ):
        app.include_router(api.router, dependencies=json_only)
    for router in pages.routers():
        app.include_router(router)
    app.mount(SWAGGER, StaticFiles(directory=swagger_ui_path), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    app.add_middleware(
        BodyLimit,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_artifact_bytes,
    )
    app.add_middleware(  # before the body is read: refuse foreign hosts and origins first
        security.Guard,
        allowed=security.allowed_hosts(settings.allowed_hosts, settings.host),
    )
    app.add_middleware(ServerTiming)
    mlflow_openapi.install(app)  # the MLflow routes' schemas, described by hand
    return app
