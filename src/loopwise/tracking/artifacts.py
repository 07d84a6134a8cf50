"""Run artifacts on the local file system, confined to each run's own folder.

Layout: ``<artifact_root>/<project_id>/<run_id>/<path>``. Paths are relative, use
forward slashes, and may not climb out (``..``), start at a root, or carry NUL bytes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import Conflict, InvalidInput, NotFound, TooLarge
from loopwise.tracking import service as tracking
from loopwise.tracking.models import ArtifactInfo

CHUNK = 1024 * 1024


def clean_path(path: str, *, allow_empty: bool = False) -> PurePosixPath:
    """Validate a user-given artifact path; raise InvalidInput when it could escape."""
    if "\x00" in path or "\\" in path:
        raise InvalidInput("artifact path may not contain NUL or backslash")
    pure = PurePosixPath(path)
    if pure.is_absolute() or path.startswith("/"):
        raise InvalidInput(f"artifact path {path!r} must be relative")
    parts = [p for p in pure.parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidInput(f"artifact path {path!r} may not contain '..'")
    if not parts and not allow_empty:
        raise InvalidInput("artifact path is empty")
    if len(path) > 1000:
        raise InvalidInput("artifact path is longer than 1000 characters")
    if any(len(p.encode()) > 255 for p in parts):  # the file system limit per name
        raise InvalidInput("artifact path has a folder or file name longer than 255 bytes")
    return PurePosixPath(*parts) if parts else PurePosixPath()


def run_folder(ctx: Context, run_id: str, needed: Role) -> Path:
    project_id = tracking.run_project_id(ctx, run_id, needed)
    return ctx.settings.resolved_artifact_root / project_id / run_id


def _inside(root: Path, rel: PurePosixPath) -> Path:
    target = (root / rel).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise InvalidInput("artifact path escapes the run's folder")
    return target


def destination(ctx: Context, run_id: str, path: str) -> Path:
    """Where an upload to ``path`` goes; checks contributor rights and the path."""
    return destination_in(run_folder(ctx, run_id, Role.CONTRIBUTOR), path)


def destination_in(root: Path, path: str) -> Path:
    """Where an upload to ``path`` under ``root`` goes; checks the path."""
    return _inside(root, clean_path(path))


def store_in(root: Path, path: str, source: Path | bytes, limit: int) -> ArtifactInfo:
    """Store a file under ``root`` from a finished temporary file (moved) or bytes."""
    target = _inside(root, clean_path(path))
    if target.is_dir():
        raise InvalidInput(f"artifact path {path!r} is a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise Conflict(
            f"cannot store {path!r}: part of that path is already an artifact file"
        ) from exc
    if isinstance(source, bytes):
        if len(source) > limit:
            raise TooLarge(f"artifact exceeds {limit} bytes")
        tmp = target.with_name(f".{target.name}.upload")
        tmp.write_bytes(source)
        os.replace(tmp, target)
    else:
        shutil.move(source, target)
    return ArtifactInfo(str(clean_path(path)), target.stat().st_size, False)


def list_in(root: Path, path: str = "") -> list[ArtifactInfo] | None:
    """One level under ``root/path``: None when it does not exist, one entry for a file."""
    rel = clean_path(path, allow_empty=True)
    folder = _inside(root, rel)
    if not folder.exists():
        return None
    if folder.is_file():
        return [ArtifactInfo(str(rel), folder.stat().st_size, False)]
    out = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        child_rel = rel / child.name
        out.append(
            ArtifactInfo(
                str(child_rel), 0 if child.is_dir() else child.stat().st_size, child.is_dir()
            )
        )
    return out


def file_in(root: Path, path: str) -> Path | None:
    target = _inside(root, clean_path(path))
    return target if target.is_file() else None


def save(ctx: Context, run_id: str, path: str, source: Path | bytes) -> ArtifactInfo:
    """Store a run artifact from a finished temporary file (moved) or bytes."""
    root = run_folder(ctx, run_id, Role.CONTRIBUTOR)
    return store_in(root, path, source, ctx.settings.max_artifact_bytes)


def list_artifacts(ctx: Context, run_id: str, path: str = "") -> list[ArtifactInfo]:
    listing = list_in(run_folder(ctx, run_id, Role.VIEWER), path)
    if listing is None:
        if clean_path(path, allow_empty=True).parts:
            raise NotFound(f"no artifact folder {path!r} in run {run_id!r}")
        return []
    return listing


def open_path(ctx: Context, run_id: str, path: str) -> Path:
    """The file behind an artifact, for streaming it out."""
    target = file_in(run_folder(ctx, run_id, Role.VIEWER), path)
    if target is None:
        raise NotFound(f"no artifact {path!r} in run {run_id!r}")
    return target
