"""Gap bounds, per year and summed over the horizon, from the openings sample paths.

The allocation is solved once, on the central openings (and at the two ends of the supply
interval); it is *not* solved again path by path. Along each path ``p`` the entrants allocated
to a cell are held at the central allocation ``A`` (``A_high`` for the lower bound, ``A_low``
for the upper bound), so that the gap of the cell in year ``t`` is::

    gap_p[t] = max(0, max(0, openings_p[t]) - A[t])

and the cumulative bounds are quantiles over the paths of ``sum_{s <= t} gap_p[s]``, not sums
of yearly bounds. The yearly bounds keep the rule ``max(0, lower - A_high)``,
``max(0, upper - A_low)``, whose ``lower`` / ``upper`` are already the quantiles of the openings
paths (``max(0, x - A)`` is monotone in ``x``).

What the approximation misses: along a path where a cell needs more than its central openings,
the programme could send it entrants left in surplus (or freed where another cell needs fewer);
where it needs fewer, the entrants freed could fill other cells. Trimming the central flows to
each path's openings is a feasible allocation, so the total gap of every occupation x year along
every path is never below the re-solved one (the bounds of totals err on the side of a larger
gap); cell by cell the two can differ either way, by at most the entrants that can move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["path_gap_bounds", "cumulative_gap_columns"]

#: Columns of the plan-period totals (:func:`path_gap_bounds`'s ``totals``).
TOTAL_COLUMNS = [
    "period",
    "plan_period",
    "net_openings_median",
    "net_openings_lower",
    "net_openings_upper",
    "openings_to_fill_median",
    "openings_to_fill_lower",
    "openings_to_fill_upper",
    "gap_median",
    "gap_lower",
    "gap_upper",
    "level",
]

#: Columns of the plan-period totals of an allocation (``AllocationResult.totals``,
#: ``plan_totals.csv``): the central figures (sums of the cells' ``openings_cum`` and
#: ``gap_cum``) beside the paths' medians and bounds.
PLAN_TOTAL_COLUMNS = [
    "period",
    "plan_period",
    "net_openings",
    "net_openings_median",
    "net_openings_lower",
    "net_openings_upper",
    "openings_to_fill",
    "openings_to_fill_median",
    "openings_to_fill_lower",
    "openings_to_fill_upper",
    "gap",
    "gap_median",
    "gap_lower",
    "gap_upper",
    "level",
]


def path_gap_bounds(
    gaps: pd.DataFrame,
    alloc_low: np.ndarray,
    alloc_high: np.ndarray,
    paths,
    chunk_rows: int = 2_000_000,
    alloc: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Cumulative gap bounds of each row of ``gaps`` from openings paths, the allocation held
    fixed.

    Parameters
    ----------
    gaps : DataFrame
        territory, occupation, period: one row per cell and year.
    alloc_low, alloc_high : ndarray
        Entrants allocated to each row at the low and high end of the supply interval (the
        central allocation twice when there is no supply interval).
    paths : OpeningsPaths
        Openings per series, path and period (``ids``, ``periods``, ``values``, ``level``), as
        returned by ``gpec.demand.openings(..., return_paths=True)``.
    chunk_rows : int, default 2_000_000
        Series x paths handled at once.
    alloc : ndarray, optional
        The central allocation of each row, for the totals' medians (default: halfway between
        ``alloc_low`` and ``alloc_high``).

    Returns
    -------
    dict
        ``gap_cum_lower``, ``gap_cum_upper``: one value per row (NaN where a row has no path);
        ``totals``: a DataFrame with, per period, the median and the bounds of the net
        openings, of the openings to fill (negative openings as 0, cell by cell and year by
        year) and of the gap summed over every cell with a path and over the years up to that period
        (the plan period from the first year): quantiles over the paths of those very sums, so
        that the series' dependence along the paths (``Forecaster.dependence_``) decides their
        width. The gap's median holds the allocation at ``alloc``, its lower bound at
        ``alloc_high``, its upper bound at ``alloc_low``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from gpec.demand import OpeningsPaths
    >>> g = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2025, 2026]})
    >>> op = OpeningsPaths(g[["territory", "occupation"]].iloc[:1], np.array([2025, 2026]),
    ...                    np.tile(np.arange(11.0), (2, 1)).T[None], 80)
    >>> b = path_gap_bounds(g, np.array([4.0, 4.0]), np.array([4.0, 4.0]), op)
    >>> [round(float(v), 6) for v in b["gap_cum_upper"]]
    [5.0, 10.0]
    >>> b["totals"]["gap_upper"].round(6).tolist()
    [5.0, 10.0]
    >>> b["totals"]["gap_median"].round(6).tolist()  # paths 0..10 less 4: median 1, then 2
    [1.0, 2.0]
    """
    n_rows = len(gaps)
    out = {k: np.full(n_rows, np.nan) for k in ("gap_cum_lower", "gap_cum_upper")}
    ids = paths.ids
    sid = pd.MultiIndex.from_arrays(
        [ids["territory"].astype("str").to_numpy(), ids["occupation"].astype("str").to_numpy()]
    )
    key = pd.MultiIndex.from_arrays(
        [gaps["territory"].astype("str").to_numpy(), gaps["occupation"].astype("str").to_numpy()]
    )
    s = sid.get_indexer(key)
    t = pd.Index(np.asarray(paths.periods)).get_indexer(gaps["period"].to_numpy())
    ok = (s >= 0) & (t >= 0)
    n_series, n_paths, h = paths.values.shape
    a_lo = np.zeros((n_series, h))
    a_hi = np.zeros((n_series, h))
    a_mid = np.zeros((n_series, h))
    a_lo[s[ok], t[ok]] = np.asarray(alloc_low, dtype=float)[ok]
    a_hi[s[ok], t[ok]] = np.asarray(alloc_high, dtype=float)[ok]
    if alloc is None:
        a_mid[s[ok], t[ok]] = (a_lo[s[ok], t[ok]] + a_hi[s[ok], t[ok]]) / 2.0
    else:
        a_mid[s[ok], t[ok]] = np.asarray(alloc, dtype=float)[ok]
    res = {k: np.full((n_series, h), np.nan) for k in out}
    q = (1.0 - float(paths.level) / 100.0) / 2.0  # equal tails: the lower one, resp. 1 - q
    step = max(1, int(chunk_rows) // max(n_paths, 1))
    in_table = np.zeros(n_series, dtype=bool)
    in_table[s[ok]] = True
    sums = {k: np.zeros((n_paths, h)) for k in ("openings", "fill", "median", "lower", "upper")}
    for a in range(0, n_series, step):
        b = min(a + step, n_series)
        values = paths.values[a:b].astype(float)
        demand = np.maximum(values, 0.0)
        keep = in_table[a:b]
        keep = slice(None) if keep.all() else keep  # the usual case: views, not copies
        sums["openings"] += values[keep].sum(axis=0)
        sums["fill"] += demand[keep].sum(axis=0)
        for name, held, prob in (("lower", a_hi, q), ("upper", a_lo, 1.0 - q)):
            gap_p = np.maximum(demand - held[a:b, None, :], 0.0)
            res[f"gap_cum_{name}"][a:b] = np.quantile(np.cumsum(gap_p, axis=2), prob, axis=1)
            sums[name] += gap_p[keep].sum(axis=0)
        sums["median"] += np.maximum(demand[keep] - a_mid[a:b][keep][:, None, :], 0.0).sum(axis=0)
    for k in out:
        out[k][ok] = res[k][s[ok], t[ok]]
    periods = np.asarray(paths.periods)
    cum = {k: np.cumsum(v, axis=1) for k, v in sums.items()}
    out["totals"] = pd.DataFrame(
        {
            "period": periods,
            "plan_period": [f"{periods[0]}-{p}" for p in periods],
            "net_openings_median": np.quantile(cum["openings"], 0.5, axis=0),
            "net_openings_lower": np.quantile(cum["openings"], q, axis=0),
            "net_openings_upper": np.quantile(cum["openings"], 1.0 - q, axis=0),
            "openings_to_fill_median": np.quantile(cum["fill"], 0.5, axis=0),
            "openings_to_fill_lower": np.quantile(cum["fill"], q, axis=0),
            "openings_to_fill_upper": np.quantile(cum["fill"], 1.0 - q, axis=0),
            "gap_median": np.quantile(cum["median"], 0.5, axis=0),
            "gap_lower": np.quantile(cum["lower"], q, axis=0),
            "gap_upper": np.quantile(cum["upper"], 1.0 - q, axis=0),
            "level": paths.level,
        },
        columns=TOTAL_COLUMNS,
    )
    return out


def cumulative_by_cell(gaps: pd.DataFrame, *values) -> list[np.ndarray]:
    """Each of ``values`` (one number per row of ``gaps``) summed over the years of its cell
    (territory x occupation), in period order, up to the row's year.

    Examples
    --------
    >>> g = pd.DataFrame({"territory": "A", "occupation": ["X", "X", "Y"],
    ...                   "period": [2026, 2025, 2025]})
    >>> cumulative_by_cell(g, [2.0, 1.0, 5.0])[0].tolist()
    [3.0, 1.0, 5.0]
    """
    order = np.lexsort((gaps["period"].to_numpy(),))
    keys = [gaps["territory"].to_numpy()[order], gaps["occupation"].to_numpy()[order]]
    out = []
    for v in values:
        s = pd.Series(np.asarray(v, dtype=float)[order])
        cum = np.empty(len(gaps))
        cum[order] = s.groupby(keys, sort=False).cumsum(skipna=False).to_numpy()
        out.append(cum)
    return out


def cumulative_gap_columns(gaps: pd.DataFrame) -> dict[str, np.ndarray]:
    """Gaps summed over the years of each cell, in period order: ``gap_cum`` and, as sums of
    the yearly bounds (cells' years moving together), ``gap_cum_lower`` / ``gap_cum_upper``.

    Examples
    --------
    >>> g = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2025, 2026],
    ...                   "gap": [1.0, 2.0], "gap_lower": [0.0, 1.0], "gap_upper": [3.0, 4.0]})
    >>> cumulative_gap_columns(g)["gap_cum_upper"].tolist()
    [3.0, 7.0]
    """
    cols = ("gap", "gap_lower", "gap_upper")
    sums = cumulative_by_cell(gaps, *(gaps[c] for c in cols))
    return {c.replace("gap", "gap_cum", 1): v for c, v in zip(cols, sums, strict=True)}
