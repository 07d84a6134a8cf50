"""One settings object, built from LOOPWISE_* environment variables or CLI flags.

Nothing reads the environment after start-up: the object is built once and passed in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".loopwise"


class Settings(BaseSettings):
    """Runtime configuration. Each field maps to a ``LOOPWISE_<NAME>`` variable."""

    model_config = SettingsConfigDict(env_prefix="LOOPWISE_", extra="ignore", frozen=True)

    home: Path = Field(
        default_factory=_default_home,
        description="Folder for the default SQLite database and artifacts.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<home>/loopwise.db. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db.",
    )
    artifact_root: Path | None = Field(
        default=None, description="Folder for run artifacts; default <home>/artifacts."
    )
    host: str = Field(default="127.0.0.1", description="Address the server binds to.")
    port: int = Field(default=5080, ge=0, le=65535, description="Port the server binds to.")
    # NoDecode: the variable is a comma-separated list, not JSON.
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Host names the server answers to (the Host header, any port), "
        "comma-separated; '*' allows any. Default: localhost, 127.0.0.1, ::1 and the "
        "bound address unless it is a wildcard.",
    )
    auth: bool = Field(
        default=False,
        description="Require an API token or a login. Off: local single-user mode.",
    )
    default_gates: bool = Field(
        default=True,
        description="Give each new project the default governance gates (phase exits and "
        "model version gates, docs/governance.md); off: `loopwise gate adopt` adds them.",
    )
    max_artifact_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1, description="Largest artifact file accepted, in bytes."
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1,
        description="Largest request body read, in bytes (uploads: max_artifact_bytes).",
    )
    statement_timeout_ms: int = Field(
        default=30_000,
        ge=0,
        description="The server cancels any database statement that runs longer than "
        "this and answers 400 query_timeout (0 turns it off). The CLI has none.",
    )
    verdict_refresh_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How often the server re-checks hypothesis time-boxes (0 turns it off).",
    )
    monitor_check_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How often the server checks monitor windows whose data changed "
        "(0 turns it off: run `loopwise worker` processes instead).",
    )
    monitor_check_on_ingest: bool = Field(
        default=True,
        description="Check a monitor's changed windows right after each batch or labels "
        "upload, in the request (off: the schedule or the workers do it).",
    )
    monitor_lease_seconds: float = Field(
        default=300.0,
        ge=1,
        description="How long a worker holds a monitor window it is checking; a window "
        "whose worker died is taken over after this.",
    )
    webhook_seconds: float = Field(
        default=10.0,
        ge=0,
        description="How often the server sends due webhook deliveries (0 turns it off: "
        "run `loopwise worker` processes instead).",
    )
    webhook_max_attempts: int = Field(
        default=6, ge=1, le=50, description="Attempts of a webhook delivery before it fails."
    )
    webhook_backoff_seconds: float = Field(
        default=30.0,
        ge=0.1,
        description="Wait after a webhook delivery's first failed attempt; it doubles after "
        "each further one (at most a day).",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long one webhook attempt waits for an answer."
    )
    public_url: str | None = Field(
        default=None,
        description="The address people reach the server at, for links in webhook messages "
        "(default http://<host>:<port>).",
    )

    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="FULL",
        description="SQLite durability: NORMAL survives a killed process, FULL also a power "
        "cut or OS crash (the WAL is synced at every commit).",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("home", "artifact_root", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'loopwise.db'}"

    @property
    def resolved_artifact_root(self) -> Path:
        return self.artifact_root or self.home / "artifacts"
