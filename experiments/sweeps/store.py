"""A sweep store: a folder of finished runs, content-addressed, that the sweep writes and the
analyses read.

A run is stored under ``runs/KK/KEY.parquet`` (every indicator of every year, so other outputs
can be read later without running again) and ``KEY.json`` (its manifest: inputs, seed, worker,
versions, model fingerprint), where KEY (``run_key``) is the SHA-256 of the scenario's hash, the
seed and the model's fingerprint. Both files are written to a temporary name and moved into
place, the manifest last, and a run counts as finished only when its manifest exists; temporary
files an interrupted sweep left are removed at the next start, and a lock file keeps two sweeps
off one store. ``model.json`` records the fingerprint of the last sweep's model, so that a sweep
can say when the runs it finds were made by other model code.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.files import write_json, write_parquet
from model.errors import JJJError

MODEL_FILE = "model.json"


def run_key(scenario_sha256: str, seed: int, fingerprint: str) -> str:
    """The store key of a model run: SHA-256 of the resolved scenario's hash, the seed and the
    model's fingerprint (``experiments.files.model_fingerprint``), so that a run made by other
    model code is never taken for this one."""
    data = {"scenario": scenario_sha256, "seed": int(seed), "model": fingerprint}
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def function_key(function: str, inputs: Mapping[str, float], seed: int) -> str:
    data = {
        "function": function,
        "inputs": {k: float(v) for k, v in sorted(inputs.items())},
        "seed": int(seed),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class Store:
    """A folder of finished runs (content-addressed by run key) and a sweep's outputs."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"

    def paths(self, key: str) -> tuple[Path, Path]:
        folder = self.runs / key[:2]
        return folder / f"{key}.parquet", folder / f"{key}.json"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store for one sweep; the kernel releases the lock if the process dies."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise JJJError(
                    f"{self.root} is in use by another sweep; wait for it or use another --store"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove_temporary_files(self) -> int:
        """Delete what an interrupted sweep left half-written (call only under ``lock``)."""
        removed = 0
        for folder in [self.root, *sorted(p for p in self.runs.glob("*") if p.is_dir())]:
            for entry in os.scandir(folder):
                if entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.is_file():
                    os.unlink(entry.path)
                    removed += 1
        return removed

    def finished_keys(self) -> set[str]:
        """Keys whose manifest (written last) and table are both in place."""
        keys: set[str] = set()
        if not self.runs.is_dir():
            return keys
        for folder in os.scandir(self.runs):
            if not folder.is_dir():
                continue
            names = {entry.name for entry in os.scandir(folder.path)}
            keys.update(
                name[:-5]
                for name in names
                if name.endswith(".json") and not name.startswith(".") and f"{name[:-5]}.parquet" in names
            )
        return keys

    def model_fingerprint(self) -> str | None:
        """The model fingerprint of the last sweep into this store (None for a new store)."""
        try:
            return str(json.loads((self.root / MODEL_FILE).read_text(encoding="utf-8"))["model_fingerprint"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def set_model_fingerprint(self, fingerprint: str) -> None:
        write_json(self.root / MODEL_FILE, {"model_fingerprint": fingerprint})

    def save(self, key: str, table: pd.DataFrame, manifest: Mapping[str, Any]) -> None:
        """Write a finished run: the table first, then the manifest that marks it finished."""
        table_path, manifest_path = self.paths(key)
        write_parquet(table_path, table)
        write_json(
            manifest_path,
            {
                "key": key,
                **manifest,
                "rows": len(table),
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
        )

    def load(self, key: str) -> pd.DataFrame:
        return self.load_arrow(key).to_pandas()

    def load_arrow(self, key: str) -> pa.Table:
        with open(self.paths(key)[0], "rb") as handle:  # open once: the name may be replaced meanwhile
            return pq.read_table(handle)

    def manifest(self, key: str) -> dict[str, Any]:
        return json.loads(self.paths(key)[1].read_text(encoding="utf-8"))  # type: ignore[no-any-return]
