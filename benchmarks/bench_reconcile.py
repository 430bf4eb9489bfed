"""Speed, memory and exactness of gpec.forecast reconciliation at national scale.

Builds a synthetic (seeded) French-like hierarchy: 1 nation, 13 régions, 100 départements and
1,250 EPCI (1,364 territories), x 100 occupations = 136,400 series, with incoherent base forecasts
(noisy at every level, many small cells). For each method it times ``reconcile`` on the long table
(table in, table out), then checks:

* the maximum relative difference with the dense closed form
  ``y = S (S' W^-1 S)^-1 S' W^-1 yhat`` computed with numpy (a dense 1,250 x 1,250 solve per
  covariance; for mint_shrink the shrunk covariance of each occupation is inverted densely), and,
  for mint_ols and wls_struct, with that dense solution after iterative refinement in extended
  precision (the dense closed form itself loses a few digits on cells near zero);
* for the non-negative MinT-OLS: the difference with scipy.optimize.nnls (Lawson-Hanson, exact)
  on the first occupations, relative to the largest value;
* the coherence error (max |aggregate - sum of its EPCI|, relative to the largest value);
* peak memory of the call (tracemalloc, numpy allocations included).

The closed-form checks use ``nonnegative=False`` (the closed form has no bound); the rows marked
``nonneg`` run the default non-negative solution and report how many bottom series it holds at 0.

Run: ``python benchmarks/bench_reconcile.py [--occupations 100] [--periods 1] [--shrink-occupations 100]``
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd
import scipy.linalg
from scipy.optimize import nnls

try:
    from gpec.forecast import reconcile, shrunk_covariance, summing_matrix
except ImportError:  # before gpec.forecast re-exports them
    from gpec.forecast._reconcile import reconcile, shrunk_covariance, summing_matrix


def make_hierarchy(n_regions=13, n_departements=100, n_epci=1250, seed=0) -> pd.DataFrame:
    """Synthetic territories table: nation -> régions -> départements -> EPCI."""
    rng = np.random.default_rng(seed)
    rows = [("FR", "France", "nation", None)]
    reg = [f"R{11 + 3 * i:02d}" for i in range(n_regions)]
    rows += [(r, f"Région {r}", "region", "FR") for r in reg]
    # Every région gets at least one département, every département at least one EPCI.
    dep_reg = np.concatenate(
        [np.arange(n_regions), rng.integers(0, n_regions, n_departements - n_regions)]
    )
    dep = [f"{i + 1:02d}" if i < 95 else f"9{i - 95 + 71}" for i in range(n_departements)]
    rows += [
        (d, f"Département {d}", "departement", reg[r]) for d, r in zip(dep, dep_reg, strict=True)
    ]
    epci_dep = np.concatenate(
        [np.arange(n_departements), rng.integers(0, n_departements, n_epci - n_departements)]
    )
    rows += [(f"2{i:08d}", f"EPCI {i}", "epci", dep[d]) for i, d in enumerate(np.sort(epci_dep))]
    return pd.DataFrame(rows, columns=["territory", "label", "level", "parent"])


def make_forecasts(hierarchy, n_occupations=100, n_periods=1, seed=0):
    """Incoherent base forecasts for every territory x occupation x period, and residuals."""
    rng = np.random.default_rng(seed)
    S, nodes, bottom = summing_matrix(hierarchy)
    n, m = S.shape
    occ = [f"OC{j:03d}" for j in range(n_occupations)]
    # Bottom employment: lognormal with many small cells (median ~ 20 jobs, some < 1).
    size = rng.lognormal(3.0, 1.5, size=(m, 1)) * rng.lognormal(0.0, 1.0, size=(1, n_occupations))
    frames = []
    for p in range(n_periods):
        true = S @ (size * (1.0 + 0.02 * p))
        # Relative noise, larger on small cells; every level gets its own error.
        noise = rng.normal(size=true.shape) * (0.03 + 0.5 / np.sqrt(1.0 + true))
        base = np.maximum(true * (1.0 + noise), 0.0)
        frames.append(
            pd.DataFrame(
                {
                    "territory": np.repeat(np.asarray(nodes, dtype=object), n_occupations),
                    "occupation": np.tile(occ, n),
                    "period": 2025 + p,
                    "mean": base.ravel(),
                }
            )
        )
    fc = pd.concat(frames, ignore_index=True)
    fc["territory"] = fc["territory"].astype("str")
    fc["occupation"] = fc["occupation"].astype("str")
    fc["lower"] = fc["mean"] * 0.8
    fc["upper"] = fc["mean"] * 1.25
    return fc, S, nodes, bottom, occ


def make_residuals(nodes, occ, n_samples=10, seed=1):
    rng = np.random.default_rng(seed)
    n = len(nodes)
    # A common shock per sample gives correlated residuals across territories.
    common = rng.normal(size=(n_samples, 1, len(occ)))
    E = 0.5 * common + rng.normal(size=(n_samples, n, len(occ)))
    t, i, j = np.meshgrid(np.arange(n_samples), np.arange(n), np.arange(len(occ)), indexing="ij")
    return pd.DataFrame(
        {
            "territory": pd.array(np.asarray(nodes, dtype=object)[i.ravel()], dtype="str"),
            "occupation": pd.array(np.asarray(occ, dtype=object)[j.ravel()], dtype="str"),
            "period": 2010 + t.ravel(),
            "residual": E.ravel(),
        }
    ), E


def to_matrix(df, nodes, occ, col="mean"):
    """(n_nodes, n_occ * n_periods) matrix, columns ordered (period, occupation)."""
    piv = df.pivot_table(
        index="territory", columns=["period", "occupation"], values=col, aggfunc="first"
    )
    return piv.reindex(index=nodes).to_numpy()


def dense_reference(S, Wdiag_or_full, yhat):
    """Closed form y = S (S' W^-1 S)^-1 S' W^-1 yhat (dense).

    With a full W the problem is whitened with the Cholesky factor of W and solved by least
    squares (QR): forming W^-1 explicitly loses up to ~3e-6 relative on small cells here.
    """
    S = S.toarray()
    if Wdiag_or_full.ndim == 1:
        SWi = S.T / Wdiag_or_full
        G = SWi @ S
        beta = scipy.linalg.solve(G, SWi @ yhat, assume_a="pos")
        return S @ beta
    L = np.linalg.cholesky(Wdiag_or_full)
    A = scipy.linalg.solve_triangular(L, S, lower=True)
    B = scipy.linalg.solve_triangular(L, yhat, lower=True)
    beta = scipy.linalg.lstsq(A, B)[0]
    return S @ beta


def refined_reference(S, wdiag, yhat, ref, leaf_rows, steps=2):
    """The dense solution improved by iterative refinement with residuals in extended precision.

    The dense closed form loses a few digits on the normal equations ``S' W^-1 S`` (cells near zero
    next to national totals); refinement recovers them, giving a reference accurate to ~1e-12.
    """
    Sd = S.toarray()
    G = (Sd.T / wdiag) @ Sd
    cho = scipy.linalg.cho_factor(G)
    Sl = Sd.astype(np.longdouble)
    SWl = (Sd.T / wdiag).astype(np.longdouble)
    beta = ref[leaf_rows].astype(np.longdouble)
    yl = yhat.astype(np.longdouble)
    for _ in range(steps):
        r = SWl @ (yl - Sl @ beta)
        beta = beta + scipy.linalg.cho_solve(cho, r.astype(float))
    return np.asarray(Sl @ beta)


def coherence_error(S, y, leaf_rows):
    """Max |node - sum of its bottom series| relative to the largest value."""
    return np.abs(S @ y[leaf_rows] - y).max() / np.abs(y).max()


def timed(fn, repeat=3):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def peak_mb(fn):
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--occupations", type=int, default=100)
    ap.add_argument("--periods", type=int, default=1)
    ap.add_argument(
        "--shrink-occupations", type=int, default=100, help="occupations for mint_shrink"
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--shrink-check", type=int, default=10, help="occupations checked densely for mint_shrink"
    )
    ap.add_argument(
        "--nnls-occupations",
        type=int,
        default=3,
        help="occupations checked against scipy.optimize.nnls for mint_ols nonneg",
    )
    args = ap.parse_args(argv)

    terr = make_hierarchy()
    fc, S, nodes, bottom, occ = make_forecasts(terr, args.occupations, args.periods)
    n, m = S.shape
    print(
        f"hierarchy: {n} territories ({m} EPCI), {args.occupations} occupations, "
        f"{args.periods} period(s): {n * args.occupations * args.periods:,} series, {len(fc):,} rows"
    )
    leaf_rows = nodes.get_indexer(bottom)
    ones = np.ones(n)
    n_under = np.asarray(S.sum(axis=1)).ravel()
    rows = []

    def run(method, data, ref_w, nonneg, label, wdiag=None, **kw):
        def call():
            return reconcile(data, terr, method=method, nonnegative=nonneg, **kw)

        out, secs = timed(call, args.repeat)
        mem = peak_mb(call)
        sub_occ = sorted(data["occupation"].unique())
        y = to_matrix(out, nodes, sub_occ)
        coh = coherence_error(S, y, leaf_rows)
        if ref_w is not None:
            yh = to_matrix(data, nodes, sub_occ)
            ref = ref_w(yh)
            if nonneg:
                # Cells held at zero make a per-cell ratio meaningless: scale by the largest value.
                ok = ~np.isnan(ref[0])
                rel = np.abs(y[:, ok] - ref[:, ok]) / np.abs(ref[:, ok]).max(axis=0)
                diff = f"{rel.max():.1e} (nnls, {ok.sum()} occ., / max)"
            else:
                ok = ~np.isnan(ref[0])
                rel = np.abs(y[:, ok] - ref[:, ok]) / np.maximum(np.abs(ref[:, ok]), 1e-300)
                diff = f"{rel.max():.1e}"
                if not ok.all():
                    diff += f" ({ok.sum()} occ.)"
            diff_ref = "-"
            if wdiag is not None:
                hp = refined_reference(S, wdiag, yh, ref, leaf_rows)
                diff_ref = f"{float((np.abs(y - hp) / np.abs(hp)).max()):.1e}"
                diff_dense = float((np.abs(ref - hp) / np.abs(hp)).max())
                diff_ref += f" (dense: {diff_dense:.1e})"
        else:
            diff = diff_ref = "-"
        info = out.attrs.get("reconciliation", {})
        rows.append(
            {
                "method": label,
                "series": f"{n * len(sub_occ) * args.periods:,}",
                "seconds": f"{secs:.3f}",
                "max rel. diff vs dense": diff,
                "vs refined dense": diff_ref,
                "coherence error": f"{coh:.1e}",
                "held at 0": info.get("pinned", 0),
                "peak MB": f"{mem:.0f}",
            }
        )
        print(rows[-1], flush=True)
        return out

    run("mint_ols", fc, lambda yh: dense_reference(S, ones, yh), False, "mint_ols", wdiag=ones)
    run(
        "wls_struct",
        fc,
        lambda yh: dense_reference(S, n_under, yh),
        False,
        "wls_struct",
        wdiag=n_under,
    )

    def nnls_ref(wdiag):
        def ref(yh):
            # Exact non-negative least squares (Lawson-Hanson) on the first occupations only.
            A = S.toarray() / np.sqrt(wdiag)[:, None]
            out = np.full_like(yh, np.nan)
            for j in range(min(args.nnls_occupations, args.occupations)):
                beta, _ = nnls(A, yh[:, j] / np.sqrt(wdiag), maxiter=100_000)
                out[:, j] = S @ beta
            return out

        return ref

    run("mint_ols", fc, nnls_ref(ones), True, "mint_ols nonneg")
    run("wls_struct", fc, nnls_ref(n_under), True, "wls_struct nonneg")
    run("bottom_up", fc, None, True, "bottom_up")
    run("top_down", fc, None, True, "top_down (forecast props)")
    out = run("mint_ols", fc, None, True, "mint_ols nonneg, régions fixed", fixed={"region": True})
    is_reg = out["territory"].isin(terr.loc[terr["level"] == "region", "territory"])
    fixed_err = np.abs(out.loc[is_reg, "mean"] - fc.loc[is_reg, "mean"]).max()
    notes = [f"régions fixed: max |reconciled - given| = {fixed_err:.1e} jobs"]

    # MinT-shrink on a subset of occupations (full 1,364 x 1,364 covariance per occupation).
    k = min(args.shrink_occupations, args.occupations)
    sub = occ[:k]
    fc_s = fc[fc["occupation"].isin(sub)]
    res, E = make_residuals(nodes, sub)

    def shrink_ref(yh):
        # Dense check on the first occupations only (a 1,364 x 1,250 QR each).
        out = np.full_like(yh, np.nan)
        P = args.periods
        for j in range(min(k, args.shrink_check)):
            W, _ = shrunk_covariance(E[:, :, j])
            cols = [p * k + j for p in range(P)]
            out[:, cols] = dense_reference(S, W, yh[:, cols])
        return out

    run("mint_shrink", fc_s, shrink_ref, False, "mint_shrink", residuals=res)

    def var_ref(yh):
        out = np.empty_like(yh)
        var = (E**2).mean(axis=0)
        for j in range(k):
            cols = [p * k + j for p in range(args.periods)]
            out[:, cols] = dense_reference(S, var[:, j], yh[:, cols])
        return out

    run("wls_var", fc_s, var_ref, False, "wls_var", residuals=res)
    run("mint_shrink", fc_s, None, True, "mint_shrink nonneg", residuals=res)

    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False))
    print(
        "\nseconds: best of the runs, reconcile() on the long table (table in, table out); "
        "rel. diff: max over all series of |x - ref| / |ref|; coherence error: max |node - sum of "
        "its EPCI| / max |node|; peak MB: tracemalloc peak during the call."
    )
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
