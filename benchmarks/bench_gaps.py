"""Benchmark of :func:`gpec.gap.allocate` at national scale (synthetic, seeded).

1,250 territories with random centroids over France's bounding box, 500 occupations, 5,000 training
offers each feeding several occupations, catchments within 50 km (about 450,000 arcs). Target: end to
end under 15 s and 4 GB peak memory. Prints a table, then an independent check of the objective on a
sample of blocks (two-stage solve: maximum flow, then minimum distance at that flow).

Run: ``python benchmarks/bench_gaps.py [--periods 1] [--seed 0]``
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from gpec.gap import allocate

N_TERR, N_OCC, N_OFFERS, MAX_KM = 1250, 500, 5000, 50.0
BBOX = (-4.8, 8.2, 42.3, 51.1)  # lon min, lon max, lat min, lat max (metropolitan France)


def haversine_catchment(terr: pd.DataFrame, max_km: float) -> pd.DataFrame:
    """site, territory, distance_km, weight for every pair of centroids within max_km."""
    lat = np.radians(terr["lat"].to_numpy())
    lon = np.radians(terr["lon"].to_numpy())
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    dist = 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    i, j = np.nonzero(dist <= max_km)
    codes = terr["territory"].to_numpy()
    return pd.DataFrame(
        {
            "site": codes[i],
            "territory": codes[j],
            "distance_km": dist[i, j],
            "weight": np.exp(-dist[i, j] / 25.0),
        }
    )


def make_problem(seed: int, n_periods: int):
    rng = np.random.default_rng(seed)
    terr = pd.DataFrame(
        {
            "territory": [f"T{i:04d}" for i in range(N_TERR)],
            "lon": rng.uniform(BBOX[0], BBOX[1], N_TERR),
            "lat": rng.uniform(BBOX[2], BBOX[3], N_TERR),
        }
    )
    occ = np.array([f"O{j:03d}" for j in range(N_OCC)])
    t_cat = time.perf_counter()
    try:  # the library's catchment when present, else the local haversine helper
        from gpec.territory import catchment as gpec_catchment

        terr_full = terr.assign(label=terr["territory"], level="zone", parent=None)
        catch = gpec_catchment(terr_full, method="distance", max_km=MAX_KM)
        how = "gpec.territory.catchment"
    except ImportError:
        catch = haversine_catchment(terr, MAX_KM)
        how = "local haversine"
    t_cat = time.perf_counter() - t_cat

    periods = np.arange(2030, 2030 + n_periods)
    n_cells = N_TERR * N_OCC
    mean = rng.gamma(1.5, 4.0, n_cells)
    rows = []
    for p in periods:
        val = rng.poisson(mean).astype(float)
        rows.append(
            pd.DataFrame(
                {
                    "territory": np.repeat(terr["territory"].to_numpy(), N_OCC),
                    "occupation": np.tile(occ, N_TERR),
                    "period": p,
                    "openings": val,
                    "lower": val * 0.8,
                    "upper": val * 1.25,
                    "employment": val * 20.0,
                }
            )
        )
    openings = pd.concat(rows, ignore_index=True)

    k = rng.integers(5, 13, N_OFFERS)  # occupations per offer (flexibility matrix)
    offer = np.repeat([f"F{i:05d}" for i in range(N_OFFERS)], k)
    site = np.repeat(rng.choice(terr["territory"].to_numpy(), N_OFFERS), k)
    occ_rows = np.concatenate([rng.choice(N_OCC, size=m, replace=False) for m in k])
    share = rng.dirichlet(np.ones(k.max()), N_OFFERS)
    share = np.concatenate([s[:m] / s[:m].sum() for s, m in zip(share, k, strict=True)])
    seats = np.repeat(rng.integers(8, 120, N_OFFERS), k) * 0.8 * 0.7
    entrants = pd.DataFrame(
        {
            "offer": offer,
            "site": site,
            "occupation": occ[occ_rows],
            "share": share,
            "entrants": seats * share * 10,
        }
    )
    return openings, entrants, catch, how, t_cat


def two_stage_check(res, openings, entrants, catch, n_blocks: int, seed: int):
    """Re-solve sampled occupation blocks as two LPs; return max |flow diff|, max |km diff|."""
    rng = np.random.default_rng(seed)
    occs = rng.choice(np.sort(entrants["occupation"].unique()), n_blocks, replace=False)
    period = res.gaps["period"].min()
    worst_flow = worst_cost = 0.0
    for o in occs:
        s = entrants[entrants["occupation"] == o].reset_index(drop=True)
        d = openings[(openings["occupation"] == o) & (openings["period"] == period)]
        d = d.reset_index(drop=True)
        arcs = (
            s.reset_index()
            .merge(catch, on="site")
            .merge(
                d.reset_index(), left_on="territory", right_on="territory", suffixes=("_s", "_d")
            )
        )
        n = len(arcs)
        cols = np.arange(n)
        a = sp.csr_array(
            (
                np.ones(2 * n),
                (np.concatenate([arcs["index_s"], len(s) + arcs["index_d"]]), np.r_[cols, cols]),
            ),
            shape=(len(s) + len(d), n),
        )
        b = np.r_[s["entrants"].to_numpy(), d["openings"].to_numpy()]
        r1 = linprog(-np.ones(n), A_ub=a, b_ub=b, bounds=(0, None), method="highs")
        fmax = -r1.fun
        a2 = sp.vstack([a, sp.csr_array(-np.ones((1, n)))]).tocsr()
        r2 = linprog(
            arcs["distance_km"].to_numpy(),
            A_ub=a2,
            b_ub=np.r_[b, -fmax * (1 - 1e-9)],
            bounds=(0, None),
            method="highs",
        )
        fl = res.flows[(res.flows["occupation"] == o) & (res.flows["period"] == period)]
        worst_flow = max(worst_flow, abs(fl["entrants"].sum() - fmax))
        km = float((fl["entrants"] * fl["distance_km"]).sum())
        worst_cost = max(worst_cost, abs(km - r2.fun) / max(1.0, abs(r2.fun)))
    return worst_flow, worst_cost


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--periods", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-blocks", type=int, default=20)
    args = ap.parse_args()

    t0 = time.perf_counter()
    openings, entrants, catch, how, t_cat = make_problem(args.seed, args.periods)
    t_data = time.perf_counter() - t0

    load = os.getloadavg()[0]
    t1, c1 = time.perf_counter(), time.process_time()
    res = allocate(openings, entrants, catch, small_threshold=50.0)
    total, cpu = time.perf_counter() - t1, time.process_time() - c1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p = res.params

    g = res.gaps
    assert (g["gap"] >= 0).all() and np.allclose(g["gap"] + g["entrants_allocated"], g["openings"])
    assert (res.surplus["surplus"] >= -1e-9).all()
    doubled = allocate(openings, entrants.assign(entrants=entrants["entrants"] * 2), catch).gaps
    rise = float((doubled["gap"].to_numpy() - g["gap"].to_numpy()).max())
    worst_flow, worst_cost = two_stage_check(
        res, openings, entrants, catch, args.check_blocks, args.seed
    )
    # supply interval: each offer's entrants between 60 % and 120 % (seeded), both ends solved
    f = np.random.default_rng(args.seed + 1).uniform(0.6, 1.0, len(entrants))
    inter = entrants.assign(
        entrants_low=entrants["entrants"] * f, entrants_high=entrants["entrants"] * (2.0 - f)
    )
    t2 = time.perf_counter()
    wide = allocate(openings, inter, catch, small_threshold=50.0).gaps
    t_inter = time.perf_counter() - t2
    low_alone = allocate(openings, entrants.assign(entrants=inter["entrants_low"]), catch).gaps
    drop = float((g["gap"].to_numpy() - low_alone["gap"].to_numpy()).max())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    rows = [
        ("catchment", how),
        ("catchment pairs", f"{len(catch):,}"),
        ("seconds catchment", f"{t_cat:.2f}"),
        ("periods", args.periods),
        ("openings rows", f"{len(openings):,}"),
        ("entrants rows", f"{len(entrants):,}"),
        ("arcs", f"{p['n_arcs']:,}"),
        ("blocks (LP / closed form)", f"{p['n_blocks']} ({p['n_lp']} / {p['n_closed_form']})"),
        ("seconds data generation", f"{t_data:.2f}"),
        ("seconds build", f"{p['seconds_build']:.2f}"),
        ("seconds solve", f"{p['seconds_solve']:.2f}"),
        ("seconds total (allocate)", f"{total:.2f}"),
        ("CPU seconds (allocate)", f"{cpu:.2f}"),
        ("machine load average (1 min, 2 cores)", f"{load:.1f}"),
        ("peak RSS MB (whole process)", f"{peak_mb:,.0f}"),
        ("total openings", f"{g['openings'].sum():,.1f}"),
        ("total entrants", f"{res.surplus['entrants'].sum():,.1f}"),
        ("total allocated", f"{g['entrants_allocated'].sum():,.1f}"),
        ("total gap", f"{g['gap'].sum():,.1f}"),
        ("mean km per allocated entrant",
         f"{(res.flows['entrants'] * res.flows['distance_km']).sum() / max(res.flows['entrants'].sum(), 1e-12):.2f}"),
        ("seats doubled: total gap", f"{doubled['gap'].sum():,.1f}"),
        ("seats doubled: largest rise of a cell's gap (<= 0 wanted)", f"{rise:.2e}"),
        ("LP duality gap (max relative)", f"{p['dual_gap']:.1e}"),
        (f"objective check vs two-stage, {args.check_blocks} blocks: max |flow diff|",
         f"{worst_flow:.2e}"),
        ("objective check: max relative km diff", f"{worst_cost:.2e}"),
        ("supply interval (entrants x 0.6-1 / 1-1.4): seconds allocate", f"{t_inter:.2f}"),
        ("supply interval: total gap_lower / gap / gap_upper",
         f"{wide['gap_lower'].sum():,.1f} / {wide['gap'].sum():,.1f} / {wide['gap_upper'].sum():,.1f}"),
        ("demand interval only: total gap_lower / gap_upper",
         f"{g['gap_lower'].sum():,.1f} / {g['gap_upper'].sum():,.1f}"),
        ("low entrants alone: largest fall of a cell's gap (<= 0 wanted)", f"{-drop:.2e}"),
        ("target: total < 15 s and peak < 4096 MB",
         ("PASS" if total < 15 and peak_mb < 4096 else "FAIL")
         if args.periods == 1 else "n/a (the target is for one period)"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  value")
    print("-" * (width + 20))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
