"""The result store: one folder per finished cell, written whole and then renamed into place.

    ROOT/cells/KEY/    config.json  versions.json  result.json  trace.pt  frame.parquet  [probes.parquet]
    ROOT/failed/KEY/   config.json  versions.json  result.json (error and traceback)
    ROOT/running/KEY.json   {host, pid, started}: a cell being computed
    ROOT/tmp/          folders being written

``frame.parquet`` holds one row per (recorded step, run) of the cell (``Trace.to_frame`` plus the
cell key). A cell folder is built under tmp/ and then moved to cells/ (or failed/) by one rename,
which is atomic on a POSIX file system: a reader sees a cell whole or not at all, a sweep killed at
any moment (SIGKILL included) leaves at most an orphan under tmp/ that is never read, and when two
workers finish the same cell the second rename fails and its copy is dropped (no duplicate).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ubo.sweeps.spec import Cell


def versions() -> dict:
    """ubo's versions record (``theory.report.versions``) plus pyarrow and the host that computed the cell."""
    from ubo.theory.report import versions as base

    return {**base(), "pyarrow": pa.__version__, "host": socket.gethostname()}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True, default=str))


class Store:
    """A sweep's results on disk (a shared path when workers run on several machines)."""

    def __init__(self, root):
        self.root = Path(root)
        for sub in ("cells", "failed", "running", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    # ---- state of a cell -------------------------------------------------------------------------
    def is_done(self, key: str) -> bool:
        return (self.root / "cells" / key).is_dir()

    def is_failed(self, key: str) -> bool:
        return (self.root / "failed" / key).is_dir()

    def running(self, key: str) -> dict | None:
        """The marker of a live computation of ``key`` (a marker left by a dead process on this host is stale)."""
        path = self.root / "running" / f"{key}.json"
        try:
            marker = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if marker["host"] == socket.gethostname() and not _pid_alive(marker["pid"]):
            return None
        return marker

    def state(self, key: str) -> str:
        if self.is_done(key):
            return "done"
        if self.is_failed(key):
            return "failed"
        return "running" if self.running(key) else "missing"

    def status(self, cells: list[Cell]) -> pd.DataFrame:
        """One row per cell of a spec: key, label, state."""
        return pd.DataFrame({"cell": [c.key for c in cells], "label": [c.label for c in cells],
                             "state": [self.state(c.key) for c in cells]})

    # ---- writing ---------------------------------------------------------------------------------
    def mark_running(self, key: str) -> None:
        marker = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}
        tmp = self.root / "tmp" / f"{key}.{uuid.uuid4().hex}.json"
        _write_json(tmp, marker)
        os.replace(tmp, self.root / "running" / f"{key}.json")

    def clear_running(self, key: str) -> None:
        (self.root / "running" / f"{key}.json").unlink(missing_ok=True)

    def forget_failure(self, key: str) -> None:
        shutil.rmtree(self.root / "failed" / key, ignore_errors=True)

    def write(self, cell: Cell, outcome: dict) -> bool:
        """Write a computed cell whole, then rename it into place. False if another worker got there first."""
        tmp = self.root / "tmp" / f"{cell.key}.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex}"
        tmp.mkdir()
        _write_json(tmp / "config.json", cell.config)
        _write_json(tmp / "versions.json", versions())
        result = {"status": outcome["status"], "key": cell.key, "label": cell.label}
        if outcome["status"] == "done":
            trace = outcome["trace"]
            result.update(wall_time=trace.meta["wall_time"], n_diverged=int(trace.diverged.sum()),
                          diverged_at=trace.diverged_at.tolist(), hyper=trace.meta["hyper"])
            trace.save(tmp / "trace.pt")
            frame = trace.to_frame()
            frame.insert(0, "cell", cell.key)
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp / "frame.parquet")
            if outcome.get("probes") is not None:
                probes = outcome["probes"].copy()
                probes.insert(0, "cell", cell.key)
                probes["holds"] = probes["holds"].astype("boolean")
                pq.write_table(pa.Table.from_pandas(probes, preserve_index=False), tmp / "probes.parquet")
                result["verdict"] = verdict(probes)
            if "probe_error" in outcome:
                result.update(verdict="error", probe_error=outcome["probe_error"])
            target = self.root / "cells" / cell.key
        else:
            result.update(error=outcome["error"], traceback=outcome["traceback"])
            target = self.root / "failed" / cell.key
        _write_json(tmp / "result.json", result)
        try:
            os.rename(tmp, target)
        except OSError:  # the target exists: another worker finished this cell first
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        return True

    def clean_orphans(self) -> int:
        """Remove half-written folders and running markers left on this host by processes that died."""
        host, removed = socket.gethostname(), 0
        for path in (self.root / "tmp").iterdir():
            parts = path.name.split(".")
            if len(parts) == 4 and parts[1] == host and not _pid_alive(int(parts[2])):
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
        for path in (self.root / "running").glob("*.json"):
            if self.running(path.stem) is None:
                path.unlink(missing_ok=True)
        return removed

    # ---- reading ---------------------------------------------------------------------------------
    def keys(self, where: str = "cells") -> list[str]:
        return sorted(p.name for p in (self.root / where).iterdir() if p.is_dir())

    def result(self, key: str) -> dict:
        folder = self.root / ("cells" if self.is_done(key) else "failed") / key
        return json.loads((folder / "result.json").read_text())

    def config(self, key: str) -> dict:
        folder = self.root / ("cells" if self.is_done(key) else "failed") / key
        return json.loads((folder / "config.json").read_text())

    def trace(self, key: str):
        from ubo.algorithms import Trace

        return Trace.load(self.root / "cells" / key / "trace.pt")

    def cells(self) -> pd.DataFrame:
        """One row per stored cell (done or failed): state, problem, algorithm, their settings, outcome."""
        rows = []
        for where in ("cells", "failed"):
            for key in self.keys(where):
                config, result = self.config(key), self.result(key)
                row = {"cell": key, "state": result["status"], "problem": config["problem"]["name"],
                       "algorithm": config["algorithm"]["name"], "seed": config["seed"], "runs": config["runs"],
                       "steps": config["steps"]}
                row.update({f"problem.{k}": v for k, v in config["problem"]["params"].items()})
                for group in ("hyper", "theory"):
                    row.update({f"{group}.{k}": v for k, v in config["algorithm"].get(group, {}).items()})
                row.update({k: result.get(k) for k in ("n_diverged", "wall_time", "verdict", "error", "probe_error")})
                row["label"] = result["label"]
                rows.append(row)
        return pd.DataFrame(rows)

    def _read(self, name: str, keys) -> pd.DataFrame:
        paths = [self.root / "cells" / k / name for k in keys]
        paths = [str(p) for p in paths if p.exists()]
        if not paths:
            return pd.DataFrame()
        return pa.concat_tables([pq.read_table(p) for p in paths], promote_options="default").to_pandas()

    def frame(self, keys=None) -> pd.DataFrame:
        """One row per (cell, recorded step, run), every series, joined with the cell's settings."""
        keys = self.keys() if keys is None else keys
        frame = self._read("frame.parquet", keys)
        if frame.empty:
            return frame
        cells = self.cells()
        cells = cells[cells.state == "done"].drop(columns=["state", "error", "probe_error"], errors="ignore")
        shared = [c for c in cells.columns if c in frame.columns and c != "cell"]  # e.g. the trace's `algorithm`
        return frame.merge(cells.drop(columns=shared), on="cell", how="left")

    def probes(self, keys=None) -> pd.DataFrame:
        """Every probe row of every finished cell (cells that applied probes)."""
        return self._read("probes.parquet", self.keys() if keys is None else keys)


def verdict(probes: pd.DataFrame) -> str:
    """'holds' when every compared bound holds, 'fails' when one does not, 'report' when none is compared."""
    compared = probes["holds"].dropna()
    if compared.empty:
        return "report"
    return "holds" if bool(compared.all()) else "fails"


def load(root) -> pd.DataFrame:
    """The frame of a store (shorthand for ``Store(root).frame()``)."""
    if not Path(root).is_dir():
        raise ValueError(f"store {root} does not exist")
    return Store(root).frame()

