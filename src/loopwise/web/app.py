"""The one app factory: explicit settings in, a FastAPI app out. No module globals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

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
from loopwise.registry import api as registry_api
from loopwise.tracking import api as tracking_api
from loopwise.web import errors, pages
from loopwise.web.state import SYSTEM, AppState
from loopwise.web.timing import ServerTiming
from loopwise.wiring import default_bus, default_promotion_checks

log = logging.getLogger("loopwise")
WEB = Path(__file__).parent


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
    db = database or Database(settings.resolved_database_url)
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
    )
    app.state.loopwise = state
    templates = Jinja2Templates(directory=str(WEB / "templates"))
    pages.configure(templates)
    app.state.templates = templates
    errors.install(app)

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": loopwise.__version__}

    # The MLflow protocol first: its log calls are the hottest requests, and routes are
    # matched in order.
    app.include_router(mlflow_api.router)
    app.include_router(mlflow_models_api.router)
    app.include_router(accounts_api.router)
    app.include_router(planning_api.router)
    app.include_router(tracking_api.router)
    app.include_router(board_api.router)
    app.include_router(registry_api.router)
    app.include_router(data_api.router)
    for router in pages.routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    app.add_middleware(ServerTiming)
    mlflow_openapi.install(app)  # the MLflow routes' schemas, described by hand
    return app
