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
from starlette.concurrency import run_in_threadpool
from swagger_ui_bundle import swagger_ui_path

import loopwise
from loopwise import slices
from loopwise.core.clock import Clock, SystemClock
from loopwise.core.settings import Settings
from loopwise.core.slice import Periodic, resolve
from loopwise.db.engine import Database
from loopwise.db.migrate import ensure_current
from loopwise.web import errors, pages, security
from loopwise.web.body import BodyLimit
from loopwise.web.state import SYSTEM, AppState
from loopwise.web.timing import ServerTiming

log = logging.getLogger("loopwise")
WEB = Path(__file__).parent / "web"
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


def run_job(state: AppState, job: Periodic) -> int:
    """One run of a slice's periodic job as the system user, in one transaction (or in
    those the job opens itself)."""
    if not job.transaction:
        done: int = resolve(job.job)(state)
        return done
    with state.context(SYSTEM, write=True) as ctx:
        changed: int = resolve(job.job)(ctx)
        return changed


async def _repeat(state: AppState, job: Periodic, every: float) -> None:
    while True:
        try:
            changed = await run_in_threadpool(run_job, state, job)
            if changed:
                log.info("%s: %d changed", job.name, changed)
        except Exception:  # keep going; the next tick retries
            log.exception("%s failed", job.name)
        await asyncio.sleep(every)


# Endpoints are module functions, not closures over one app: FastAPI caches what it learns
# of each endpoint callable (process-wide), and a closure would keep its app alive there.
def health() -> dict[str, str]:
    return {"status": "ok", "version": loopwise.__version__}


def api_docs(request: Request) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        "api_docs.html",
        {"swagger": SWAGGER, "openapi_url": request.app.openapi_url},
    )
    return response


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
    state = build_state(settings, db, clock or SystemClock())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        for job in slices.periodic() if sweep else []:
            every = float(getattr(settings, job.every_setting))
            if every > 0:
                tasks.append(asyncio.create_task(_repeat(state, job, every)))
        try:
            yield
        finally:
            for task in tasks:
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
    templates = pages.templates()
    app.state.templates = templates
    errors.install(app, slices.error_shapes())

    app.add_api_route("/api/v1/health", health, methods=["GET"], tags=["meta"])
    app.add_api_route("/docs", api_docs, methods=["GET"], include_in_schema=False)

    # Routers that read their own bodies first (the MLflow protocol: its log calls are the
    # hottest requests, and routes are matched in order), then JSON endpoints, then pages.
    for router in slices.raw_api_routers():
        app.include_router(router)
    json_only = [Depends(security.json_body)]
    for router in slices.api_routers():
        app.include_router(router, dependencies=json_only)
    for router in slices.page_routers():
        app.include_router(router)
    app.mount(SWAGGER, StaticFiles(directory=swagger_ui_path), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    app.add_middleware(
        BodyLimit,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_artifact_bytes,
        streamed=slices.streamed_routes(),
    )
    app.add_middleware(  # before the body is read: refuse foreign hosts and origins first
        security.Guard,
        allowed=security.allowed_hosts(settings.allowed_hosts, settings.host),
    )
    app.add_middleware(ServerTiming)
    for hook in slices.app_hooks():  # e.g. the MLflow routes' schemas, described by hand
        hook(app)
    return app


def build_state(settings: Settings, db: Database, clock: Clock) -> AppState:
    """What one app (or one CLI invocation) holds: the slices' event handlers, hooks and
    identity, wired together."""
    return AppState(
        settings=settings,
        db=db,
        clock=clock,
        bus=slices.event_bus(),
        identity=slices.identity(db, clock),
        hooks=slices.hooks(),
    )
