"""Files the tool writes, and what they say about where they came from.

- Atomic writes: every file goes to a temporary name in the same folder and is moved into place
  with ``os.replace``, so a reader never sees a half-written file and an interrupted run never
  destroys what was there before.
- Staging: a folder of outputs is built beside its destination and swapped into place whole
  (``staging_dir``).
- Provenance: package versions, the project's commit, and the model's fingerprint (package
  version and a hash of ``model/`` code and data), so that a cached run made by other model code
  is never reused silently.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

import model

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = Path(model.__file__).resolve().parent
VERSIONED = (
    "jjj-talent",
    "mesa",
    "numpy",
    "numba",
    "scipy",
    "pandas",
    "pyarrow",
    "pydantic",
    "matplotlib",
    "PyYAML",
)
"""Packages whose versions every manifest records."""


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``, else delete it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes files private; outputs are for sharing
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_with(path: Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` and move the result onto ``path`` atomically."""
    with atomic_path(path) as tmp:
        write(tmp)
    return path


def write_text(path: Path, text: str) -> Path:
    return write_with(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> Path:
    return write_with(path, lambda tmp: tmp.write_bytes(data))


def write_json(path: Path, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    return write_with(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    return write_with(path, lambda tmp: frame.to_csv(tmp, index=False))


# --- folders ------------------------------------------------------------------------------------


class staging_dir:  # noqa: N801 - used as a function: ``with staging_dir(out) as stage``
    """Context manager: a fresh folder beside ``target``; on success it replaces ``target``
    (the old one is removed only after the new one is in place), on failure it is deleted."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target)

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.stage = Path(
            tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent)
        )
        os.chmod(self.stage, 0o755)  # mkdtemp makes it private; outputs are for sharing
        return self.stage

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            return
        old = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old-{time.time_ns()}")
            self.target.rename(old)
        self.stage.rename(self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


FIT_TABLE = "fit.csv"
"""A calibration's fit on each target, in its record folder (``record_dir``) and, copied, in the
folder of a run whose scenario extends that layer (``experiments.run.copy_record``)."""
RECORD_VALIDATION = "validation"
"""The record's folder of the fitted layer's validation (``jjj-talent validate ... --out``:
validation.csv and summary.json), copied into a run folder as ``VALIDATION_TABLE`` and
``VALIDATION_SUMMARY`` when it validated the layer's values."""
VALIDATION_TABLE, VALIDATION_SUMMARY = "validation.csv", "validation.json"


def record_dir(layer: Path) -> Path:
    """Where a fit's record, fit table and ensemble are kept beside its parameter layer: the
    layer's path without ``.yaml`` (``scenarios/calibrated-2015/`` for
    ``scenarios/calibrated-2015.yaml``)."""
    return Path(layer).with_suffix("")


AddFiles = Callable[[Path], None]
"""Writes extra files (a report, charts) into a staging folder before it is swapped into place:
how a command adds what it draws to what a run or analysis wrote, in one atomic step."""


# --- provenance ---------------------------------------------------------------------------------


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str:
    """The project's commit, with ``+dirty`` when the work tree has changes; 'unknown' outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


@functools.cache
def model_fingerprint() -> str:
    """``<package version>+<sha256 of model/>``: the hash covers every file under ``model/``
    (code and data, by relative path and content; caches excluded), so any change to what a run
    computes changes it, while outputs, tests and reports do not."""
    try:
        version = importlib.metadata.version("jjj-talent")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256()
    for path in sorted(MODEL_DIR.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
            continue
        digest.update(path.relative_to(MODEL_DIR).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"{version}+{digest.hexdigest()[:16]}"
