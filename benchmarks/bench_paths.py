"""Time and memory of the openings and gap bounds from sample paths on a large synthetic panel.

Prints one table: the envelope rule (``interval="path"``, the former default) beside the sample
paths (``interval="paths"``), for the openings and for the gap bounds (allocation held fixed).
Peak memory is the process's maximum resident set size after each step (Linux ``ru_maxrss``).

    python benchmarks/bench_paths.py [n_territories] [n_occupations] [n_paths]
"""

from __future__ import annotations

import resource
import sys
import time

import pandas as pd

from gpec.datasets import make_panel
from gpec.demand import openings
from gpec.forecast import Forecaster
from gpec.gap import allocate


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main(n_terr: int = 300, n_occ: int = 100, n_paths: int = 500) -> None:
    panel = make_panel(n_terr, n_occ, 15, random_state=0)
    hist = panel[panel["period"] < panel["period"].max() - 5]
    n_series = hist.groupby(["territory", "occupation"]).ngroups
    rows = []
    t0 = time.perf_counter()
    fc = Forecaster(horizon=6, level=(80,), verbose=0).fit(hist)
    pred = fc.predict()
    rows.append(("forecast (fit + predict)", time.perf_counter() - t0, peak_gb()))
    # openings: a site per territory with a few entrants, catchment = itself
    ent = pd.DataFrame(
        {
            "offer": [f"o{t}" for t in hist["territory"].unique()],
            "site": hist["territory"].unique(),
            "occupation": hist["occupation"].iloc[0],
            "entrants": 5.0,
        }
    )
    catch = pd.DataFrame({"site": ent["site"], "territory": ent["site"], "distance_km": 0.0})
    for label, kw in (
        ("envelope (interval='path')", {}),
        (f"sample paths ({n_paths} paths)", dict(paths=fc, n_paths=n_paths, return_paths=True)),
    ):
        t0 = time.perf_counter()
        out = openings(pred, employment=hist, **kw)
        op, kept = out if isinstance(out, tuple) else (out, None)
        rows.append((f"openings, {label}", time.perf_counter() - t0, peak_gb()))
        t0 = time.perf_counter()
        allocate(op, ent, catch, openings_paths=kept)
        rows.append((f"gaps, {label}", time.perf_counter() - t0, peak_gb()))
        del op, kept, out
    mem = n_series * n_paths * 6 * 4 / 1e9
    print(f"{n_series:,} series x 6 years; openings paths kept: {mem:.2f} GB (float32)")
    print(f"{'step':<45} {'seconds':>8} {'peak RSS GB':>12}")
    for name, sec, gb in rows:
        print(f"{name:<45} {sec:>8.1f} {gb:>12.2f}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
