"""Bit-for-bit comparison of two stores (the same spec run twice, on two backends, or killed and resumed).

Two stores agree when they hold the same finished and failed cells, every trace is bitwise equal
(``Trace.equals``: every tensor, NaN in the same places, metadata except wall time) and every
Parquet file holds the same columns with the same bytes.
"""

from __future__ import annotations

import pyarrow.parquet as pq

from ubo.sweeps.store import Store


def _same_column(a, b) -> bool:
    a, b = a.to_numpy(zero_copy_only=False), b.to_numpy(zero_copy_only=False)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind in "fiub":
        return a.tobytes() == b.tobytes()
    return list(a) == list(b)


def _same_parquet(path_a, path_b) -> bool:
    if path_a.exists() != path_b.exists():
        return False
    if not path_a.exists():
        return True
    a, b = pq.read_table(path_a), pq.read_table(path_b)
    return a.column_names == b.column_names and all(_same_column(a[n], b[n]) for n in a.column_names)


def differences(a: Store, b: Store) -> list[str]:
    """What differs between two stores; empty when they agree bit for bit."""
    out = []
    for where in ("cells", "failed"):
        ka, kb = set(a.keys(where)), set(b.keys(where))
        out += [f"{where}/{k} only in {a.root}" for k in sorted(ka - kb)]
        out += [f"{where}/{k} only in {b.root}" for k in sorted(kb - ka)]
    for key in sorted(set(a.keys()) & set(b.keys())):
        if not a.trace(key).equals(b.trace(key)):
            out.append(f"cells/{key}/trace.pt differs")
        for name in ("frame.parquet", "probes.parquet"):
            if not _same_parquet(a.root / "cells" / key / name, b.root / "cells" / key / name):
                out.append(f"cells/{key}/{name} differs")
    return out

