"""Labour demand: openings = expansion + replacement (+ turnover), skill needs, scenarios.

Per territory x occupation x forecast year:

* **expansion** = E(t) − E(t−1), the net change of employment (BLS *occupational growth*,
  Métiers 2030 *créations nettes*); ``net=False`` gives the non-negative variant max(0, ΔE)
  used by Lightcast, where declines do not cancel other openings;
* **replacement** = end-of-career departures, computed by *ageing the age pyramid* of the cell
  year by year with annual exit probabilities per 5-year age band (Métiers 2030 *départs en fin
  de carrière*, Cedefop replacement demand). The pyramid gives the age structure, the forecast
  gives the level: each year the survivors move up the bands, new entrants fill the young bands
  so that the total matches the forecast employment, and if employment falls faster than
  departures the whole pyramid shrinks in proportion;
* **turnover** (optional) = rate x employment at the start of each year (BLS occupational
  transfers);
* **openings** = expansion + replacement + turnover (may be negative with ``net=True`` when
  net job losses exceed departures);
* **lower / upper** from the forecast interval, computed along the lower and upper employment
  paths (see :func:`openings`).

See ``docs/methodology.md`` for the formulas, defaults and sources.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from gpec._checks import (
    check_unique,
    fail_rows,
    int_periods,
    numeric_column,
    outside_stacklevel,
    require_columns,
)
from gpec._schema import to_number
from gpec.demand._ageing import (
    _NB,
    AGE_BANDS,
    DEFAULT_ENTRY_AGES,
    _exit_matrix,
    _pyramid_shares,
    _shift_rates,
    _turnover_vector,
    age_structure,
    survive_and_age,
)
from gpec.demand._paths import (
    BLOCK_ROWS,
    OpeningsPaths,
    iter_forecast_paths,
    match_paths,
    quantile_bounds,
)

__all__ = ["openings", "skill_needs"]

_OPENINGS_COLUMNS = [
    "territory", "occupation", "period", "employment", "expansion", "replacement",
    "turnover", "openings", "lower", "upper", "employment_lower", "employment_upper",
    "expansion_lower", "expansion_upper", "replacement_lower", "replacement_upper",
    "openings_cum", "openings_cum_lower", "openings_cum_upper", "replacement_source",
]  # fmt: skip

_INTERVALS = ("paths", "path", "annual")


def _select_forecast(forecast: pd.DataFrame, level, model) -> pd.DataFrame:
    require_columns(forecast, "forecast", ["territory", "occupation", "period", "mean"])
    f = forecast.copy()
    if "level" in f.columns:
        levels = [  # plain numbers in messages, not np.int64(80)
            int(v) if float(v).is_integer() else float(v)
            for v in sorted(pd.unique(f["level"].dropna()))
        ]
        if level is None and len(levels) == 1:
            level = levels[0]
        if level not in levels:
            raise ValueError(f"forecast: no interval at level {level!r} (levels: {levels})")
        f = f[f["level"] == level]
    if "model" in f.columns:
        if model is not None:
            f = f[f["model"] == model]
            if f.empty:
                raise ValueError(f"forecast: no rows for model {model!r}")
        else:
            keys = ["territory", "occupation"] + (["scenario"] if "scenario" in f.columns else [])
            n_models = f.groupby(keys)["model"].nunique()
            if (n_models > 1).any():
                raise ValueError(
                    "forecast: several models per series "
                    f"({sorted(pd.unique(f['model']))}); choose one with model="
                )
    for c in ("lower", "upper"):
        if c not in f.columns:
            f[c] = f["mean"]
    f["territory"] = f["territory"].astype("str")
    f["occupation"] = f["occupation"].astype("str")
    f["period"] = int_periods(f["period"], "forecast")
    for c in ("mean", "lower", "upper"):
        f[c] = pd.to_numeric(f[c], errors="coerce")
    bad = f["mean"].isna() | (f["mean"] < 0)
    if bad.any():
        row = f.index[bad.to_numpy()][0]
        raise ValueError(f"forecast: missing or negative mean (row {row}, column 'mean')")
    f["lower"] = f["lower"].fillna(f["mean"])
    f["upper"] = f["upper"].fillna(f["mean"])
    return f


# --------------------------------------------------------------------------------------
# ageing model
# --------------------------------------------------------------------------------------
def _age_pyramids(
    levels: np.ndarray,
    start: np.ndarray,
    shares: np.ndarray,
    q0: np.ndarray,
    shift: np.ndarray,
    entry: np.ndarray,
) -> np.ndarray:
    """Departures per cell and year by ageing pyramids along employment paths.

    Parameters
    ----------
    levels : (n, Y) employment path per cell on an annual grid (NaN outside the cell's years).
    start : (n,) index of the base year of each cell in the grid.
    shares : (n, 11) age structure at the base year.
    q0 : (n, 11) annual exit probabilities per band.
    shift : (n, Y) retirement shift (years) applied during the year ending at column y.
    entry : (11,) age distribution of net entrants.

    Returns
    -------
    (n, Y) departures during the year ending at each column (0 at and before the base year).
    """
    n, n_years = levels.shape
    pyr = np.zeros((n, _NB))
    dep = np.zeros((n, n_years))
    for y in range(n_years):
        init = start == y
        if init.any():
            pyr[init] = shares[init] * levels[init, y, None]
        act = (start < y) & np.isfinite(levels[:, y])
        if not act.any():
            continue
        whole = bool(act.all())
        p = pyr if whole else pyr[act]
        q = q0 if whole else q0[act]
        sh = shift[:, y] if whole else shift[act, y]
        if (sh != 0).any():
            q = q.copy()
            for val in np.unique(sh[sh != 0]):
                m = sh == val
                q[m] = _shift_rates(q[m], float(val))
        dep[act, y], surv = survive_and_age(p, q)
        target = levels[:, y] if whole else levels[act, y]
        net = target - surv.sum(axis=1)
        grow = net >= 0
        if grow.all():
            surv += net[:, None] * entry[None, :]
        else:
            surv[grow] += net[grow, None] * entry[None, :]
            shrink = ~grow
            tot = surv[shrink].sum(axis=1)
            ratio = np.divide(target[shrink], tot, out=np.zeros_like(tot), where=tot > 0)
            surv[shrink] *= ratio[:, None]
        if whole:
            pyr = surv
        else:
            pyr[act] = surv
    return dep


# --------------------------------------------------------------------------------------
# sample paths
# --------------------------------------------------------------------------------------
def _path_openings(
    vals: np.ndarray,
    base: np.ndarray,
    start: np.ndarray,
    rows_y: np.ndarray,
    shares: np.ndarray,
    q0: np.ndarray,
    shift: np.ndarray,
    turnover: np.ndarray,
    entry: np.ndarray,
    net: bool,
):
    """Expansion, replacement, turnover and openings along employment paths.

    Parameters
    ----------
    vals : (m, H) employment of each path at the ``H`` rows' periods.
    base : (m,) last observed employment; start : (m,) its column in the grid.
    rows_y : (m, H) grid column of each row's period (increasing, > start).
    shares, q0 : (m, 11); shift : (m, n_years); turnover : (m,) rates.

    Returns
    -------
    expansion, replacement, turnover, openings : ndarrays of shape (m, H)
    """
    m, h = vals.shape
    n_years = shift.shape[1]
    grid = np.full((m, n_years), np.nan)
    idx = np.arange(m)
    grid[idx, start] = base
    prev_v, prev_y = base, start
    for k in range(h):
        span = rows_y[:, k] - prev_y
        for off in range(1, int(span.max()) + 1):
            sel = np.flatnonzero(off <= span)
            grid[sel, prev_y[sel] + off] = (
                prev_v[sel] + (vals[sel, k] - prev_v[sel]) * off / span[sel]
            )
        prev_v, prev_y = vals[:, k], rows_y[:, k]
    cdep, cturn = _cumulated_departures(grid, start, shares, q0, turnover, shift, entry)
    prev_cols = np.concatenate([start[:, None], rows_y[:, :-1]], axis=1)
    r = idx[:, None]
    expansion = grid[r, rows_y] - grid[r, prev_cols]
    if not net:
        expansion = np.maximum(expansion, 0.0)
    replacement = cdep[r, rows_y] - cdep[r, prev_cols]
    turn = cturn[r, rows_y] - cturn[r, prev_cols]
    return expansion, replacement, turn, expansion + replacement + turn


def _path_bounds(
    f: pd.DataFrame,
    keys: list[str],
    series: pd.DataFrame,
    start: np.ndarray,
    y0: int,
    shares: np.ndarray,
    q0: np.ndarray,
    turnover: np.ndarray,
    shift_grid: np.ndarray,
    entry: np.ndarray,
    net: bool,
    source,
    n_paths: int,
    random_state,
    level: float,
    keep: bool,
    departures: bool,
):
    """Per-row quantile bounds of expansion, replacement, openings and cumulative openings.

    The sample paths are processed in blocks of series (at most :data:`BLOCK_ROWS` series x
    paths at once). Each path is first moved by the difference between the forecast's mean and
    the paths' mean (zero unless the forecast was reconciled or otherwise adjusted), then kept
    >= 0. With ``departures``, the bounds of ``departures`` (replacement + turnover) and of
    their running sum come too, for the replacement floor of :func:`openings`.
    """
    if "scenario" in keys:
        raise ValueError("interval='paths' takes one forecast per series (no scenario column)")
    n = len(series)
    counts = np.bincount(f["sid"].to_numpy(), minlength=n)
    h = int(counts[0]) if n else 0
    per = f["period"].to_numpy().reshape(n, h) if (counts == h).all() else None
    if per is None or not (per == per[:1]).all():
        raise ValueError(
            "interval='paths': every series must have the same forecast periods after its base"
        )
    periods = per[0]
    rows_y = (per - y0).astype(int)
    fmean = f["mean"].to_numpy(dtype=float).reshape(n, h)
    base = series["base_value"].to_numpy(dtype=float)
    sid = pd.MultiIndex.from_frame(series[["territory", "occupation"]])
    names = ("expansion", "replacement", "openings", "openings_cum")
    names += ("departures", "departures_cum") if departures else ()
    out = {nm: np.full((n, 2, h), np.nan) for nm in names}
    seen = np.zeros(n, dtype=bool)
    stored = None
    n_p = None
    chunk = max(1, BLOCK_ROWS // max(int(n_paths), 1))
    for sp in iter_forecast_paths(source, n_paths, random_state, chunk):
        rows, target, cols = match_paths(sp, sid, periods)
        if n_p is None:
            n_p = int(sp.values.shape[1])
            if keep:
                stored = np.zeros((n, n_p, h), dtype=np.float32)
        step = max(1, BLOCK_ROWS // n_p)
        for a in range(0, len(rows), step):
            rr, tt = rows[a : a + step], target[a : a + step]
            c = len(rr)
            vals = sp.values[rr][:, :, cols].astype(float)
            delta = fmean[tt] - np.asarray(sp.mean, dtype=float)[rr][:, cols]
            vals = np.maximum(vals + delta[:, None, :], 0.0).reshape(c * n_p, h)
            st = start[tt]
            lo_y = int(st.min())
            ny = int(rows_y[tt].max()) - lo_y + 1
            rep = np.repeat(np.arange(c), n_p)
            exp_, rep_, turn_, op_ = _path_openings(
                vals,
                base[tt][rep],
                (st - lo_y)[rep],
                (rows_y[tt] - lo_y)[rep],
                shares[tt][rep],
                q0[tt][rep],
                shift_grid[tt][:, lo_y : lo_y + ny][rep],
                turnover[tt][rep],
                entry,
                net,
            )
            cube = {
                "expansion": exp_,
                "replacement": rep_,
                "openings": op_,
                "openings_cum": np.cumsum(op_, axis=1),
            }
            if departures:
                cube["departures"] = rep_ + turn_
                cube["departures_cum"] = np.cumsum(rep_ + turn_, axis=1)
            for nm, v in cube.items():
                lo, up = quantile_bounds(v.reshape(c, n_p, h), level)
                out[nm][tt, 0], out[nm][tt, 1] = lo, up
            if keep:
                stored[tt] = op_.reshape(c, n_p, h)
            seen[tt] = True
    if not seen.all():
        t, o = series.loc[~seen, ["territory", "occupation"]].iloc[0]
        raise ValueError(
            f"paths: no sample path for territory {t!r}, occupation {o!r} "
            f"({int((~seen).sum())} series without paths)"
        )
    flat = {nm: (b[:, 0].ravel(), b[:, 1].ravel()) for nm, b in out.items()}
    kept = (
        OpeningsPaths(
            ids=series[["territory", "occupation"]].reset_index(drop=True),
            periods=np.asarray(periods),
            values=stored,
            level=float(level),
        )
        if keep
        else None
    )
    return flat, kept


# --------------------------------------------------------------------------------------
# openings
# --------------------------------------------------------------------------------------
def openings(
    forecast: pd.DataFrame,
    workforce_age: pd.DataFrame | None = None,
    *,
    employment: pd.DataFrame | None = None,
    exit_rates=None,
    turnover_rates=None,
    net: bool = True,
    level: int | None = 80,
    base_period: int | None = None,
    retirement_shift: float = 0,
    model: str | None = None,
    territories: pd.DataFrame | None = None,
    entry_ages: Mapping | pd.Series | None = None,
    pyramid_period: int | None = None,
    interval: str | None = None,
    paths=None,
    n_paths: int = 500,
    random_state=0,
    return_paths: bool = False,
    floor_replacement: bool = False,
):
    """Job openings per territory x occupation x forecast year.

    Each output row covers the years from the previous row's period (excluded) to its own
    period (included): the first row starts at the base period, the last observed employment
    before the forecast (from ``employment``). Gaps between periods (e.g. 2025, 2030) are
    filled by linear interpolation of employment and the ageing runs year by year.

    Replacement (end-of-career departures) comes from ageing each cell's age pyramid year by
    year: departures during a year = Σ_bands pyramid x exit probability; survivors move up one
    band with probability 1/5 a year; net entrants fill the young bands (``entry_ages``) so that
    the total equals the employment path; when employment falls faster than departures, the
    pyramid shrinks in proportion (no entrants). The pyramid sets the age *structure*, scaled
    to the base employment; the forecast sets the level.

    Interval rule with sample paths (``interval="paths"``, the default when ``paths`` is given):
    each joint employment path of a series (``Forecaster.predict_paths``, moved by the
    difference between this forecast's mean and the paths' mean, e.g. after a reconciliation)
    goes through the same arithmetic as the central forecast — expansion as the difference of
    the path's years (the first against the last observed value), replacement by ageing the
    pyramid along the path, openings their sum — and every bound is the equal-tailed quantile
    over the paths of that very quantity: per year (``lower``/``upper``, ``expansion_*``,
    ``replacement_*``) and summed from the first forecast year (``openings_cum_*``), so that a
    plan-period total (e.g. 2025-2030) is the last row's ``openings_cum`` with its bounds. The
    lower bound of openings falls below the departures (replacement + turnover) only as often
    as the paths, i.e. the backtest errors at the series' own scale, fall by more than the
    departures; ``floor_replacement=True`` keeps it at least at the departures' lower bound
    wherever the central forecast does not decline (at a cost in coverage where the data do
    swing). Paths are drawn independently across series: do not read a sum of
    bounds over cells as the interval of the sum.

    Envelope rule (``interval="path"``, the default without paths): the lower (upper) bound is computed, with the
    same formulas, along the *lower (upper) employment path* starting from the observed base:
    the path deviation from the mean is made non-decreasing over the horizon (running maximum
    of mean − lower, resp. upper − mean) and the path is kept >= 0. The bounds summed from the
    first row to year *t* are thus the openings implied by ending at the forecast bound in *t*
    (cumulative reading; the yearly bounds are widest in the first year). With
    ``interval="annual"`` the expansion bound of each row is the central change ± the increment
    of the deviation assuming independent yearly shocks, sqrt(d(t)² − d(t−1)²), a reading for
    one year at a time (do not sum those bounds over years). Replacement and turnover bounds
    follow the lower/upper path in both cases. Bounds are finally clamped so that
    ``lower <= openings <= upper``.

    Parameters
    ----------
    forecast : DataFrame
        Forecaster output: territory, occupation, period, mean, and optionally lower, upper,
        level, model, scenario (each scenario is a separate series), retirement_shift
        (years, per row; added to ``retirement_shift``).
    workforce_age : DataFrame, optional
        Canonical workforce_age table (territory, occupation, age_band, value). Any readable
        bands ("15-24 ans", "60 ans ou plus"...) are converted to the canonical 5-year bands.
        Cells without a pyramid use, in order: the nearest ancestor's pyramid of the occupation
        (if ``territories`` is given), the occupation's pyramid summed over all territories,
        the territory's pyramid over all occupations, :data:`DEFAULT_PYRAMID`; the column
        ``replacement_source`` says which.
    employment : DataFrame, optional
        Observed employment (territory, occupation, period, value) giving the base level. If
        omitted, the first forecast period of each series is used as base and is not reported
        (a warning says so).
    exit_rates : mapping or DataFrame, optional
        Annual exit probability per age band, {band: rate}, or a DataFrame [age_band, rate] with
        an optional occupation column; default :data:`DEFAULT_EXIT_RATES`.
    turnover_rates : float, mapping or DataFrame, optional
        Annual rate of leavers to other occupations, per occupation ({occupation: rate} or a
        DataFrame [occupation, rate] or [territory, occupation, rate]); missing cells get 0.
    net : bool, default True
        Net expansion (declines reduce openings, BLS / Métiers 2030) or max(0, ΔE) (Lightcast).
    level : int, default 80
        Interval level of the forecast to use.
    base_period : int, optional
        Base period (must exist in ``employment``); default the last observed period before
        each series' first forecast period. Forecast rows at or before it are ignored.
    retirement_shift : float, default 0
        Years by which the exit curve moves to older ages (later retirement scenario).
    model : str, optional
        Forecast model to use when the forecast holds several per series.
    territories : DataFrame, optional
        Territories table, to borrow a parent territory's pyramid.
    entry_ages : mapping, optional
        Age distribution of entrants; default :data:`DEFAULT_ENTRY_AGES`.
    pyramid_period : int, optional
        The year the ``workforce_age`` pyramids describe (e.g. 2018 for the DARES 2017-2019
        averages). Each series' pyramid is first aged from that year to its base period at
        constant employment (the same exit rates, departures replaced by entrants of
        ``entry_ages``), so that a pyramid observed years before the base is not read as the
        base year's. Default: the pyramids describe the base period. A pyramid dated after a
        series' base is used as it is.
    interval : {"paths", "path", "annual"}, optional
        How the forecast uncertainty becomes an openings interval (see above); default
        ``"paths"`` when ``paths`` is given, else ``"path"``.
    paths : Forecaster, SamplePaths or iterable of SamplePaths, optional
        Joint employment sample paths of the forecast's series: a fitted
        :class:`~gpec.forecast.Forecaster` (paths drawn block by block, see
        ``Forecaster.iter_paths``), its ``predict_paths()`` or blocks of it.
    n_paths : int, default 500
        Paths per series drawn from a Forecaster (memory of the kept paths:
        ``4 * n_series * n_paths * horizon`` bytes).
    random_state : int or numpy Generator, default 0
        Seed of the local generator of the paths (same seed, same bounds).
    floor_replacement : bool, default False
        With paths: where the central forecast does not decline (expansion >= 0 in the year,
        resp. since the base for ``openings_cum_lower``), the lower bound of openings is at
        least the lower bound of the departures alone (replacement + turnover over the paths);
        only a declining forecast lets it fall below (False: the plain quantiles). The paths
        themselves (``return_paths``) are not changed.
    return_paths : bool, default False
        Also return the openings along each path (an :class:`OpeningsPaths`, for the gap
        bounds of :func:`gpec.gap.allocate`); ``interval="paths"`` only.

    Returns
    -------
    DataFrame
        territory, occupation, period, employment, expansion, replacement, turnover, openings,
        lower, upper, employment_lower, employment_upper, expansion_lower, expansion_upper,
        replacement_lower, replacement_upper, openings_cum, openings_cum_lower,
        openings_cum_upper, replacement_source (+ scenario). Without paths the cumulative
        bounds are the sums of the yearly bounds of the ``"path"`` rule (its cumulative
        reading); with ``interval="annual"`` they are left empty.
    OpeningsPaths
        Only with ``return_paths=True``.

    Examples
    --------
    >>> fc = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2024, 2025],
    ...     "mean": [105.0, 110.0], "lower": [100.0, 100.0], "upper": [110.0, 120.0], "level": 80})
    >>> emp = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2023], "value": [100.0]})
    >>> out = openings(fc, employment=emp)
    >>> out["expansion"].tolist()
    [5.0, 5.0]
    >>> bool((out["lower"] <= out["openings"]).all() and (out["openings"] <= out["upper"]).all())
    True

    With sample paths (bounds are quantiles of the openings along the paths):

    >>> from gpec.forecast import SamplePaths
    >>> rng = np.random.default_rng(0)
    >>> sp = SamplePaths(ids=pd.DataFrame({"territory": ["A"], "occupation": ["X"]}),
    ...     periods=[2024, 2025], values=np.array([105.0, 110.0]) + np.cumsum(rng.normal(0, 3, (1, 400, 2)), axis=2),
    ...     mean=np.array([[105.0, 110.0]]), base=np.array([100.0]), last_observed=[2023])
    >>> out = openings(fc, employment=emp, paths=sp)
    >>> bool((out["openings_cum_upper"].diff().iloc[1:] > 0).all())
    True
    """
    interval = _check_interval(interval, paths, return_paths)
    require_columns(forecast, "forecast", ["territory", "occupation", "period", "mean"])
    if not len(forecast):
        raise ValueError("openings: the forecast has no row")
    q_level = _interval_level(forecast, level)
    f, keys, has_scen = _prepared_forecast(forecast, level, model, retirement_shift)
    f = _with_base(f, keys, employment, base_period)
    step = _envelope_paths(f, keys)
    series, grid = _annual_grid(f, keys)
    sidx, rows_y, prev_y = grid["sidx"], grid["rows_y"], grid["prev_y"]
    start, shift_grid = grid["start"], grid["shift_grid"]

    # ---- pyramids, exit rates, turnover per series
    shares, source = _pyramid_shares(series, workforce_age, territories)
    q0 = _exit_matrix(series, exit_rates)
    tr = _turnover_vector(series, turnover_rates)
    entry = _entry_shares(entry_ages)
    if pyramid_period is not None:
        years = series["base_period"].to_numpy(dtype=int) - int(pyramid_period)
        years[source == "default"] = 0  # the default pyramid describes no particular year
        shares = age_structure(shares, q0, entry, np.maximum(years, 0))
    levels = grid["levels"]
    cdep, cturn = _cumulated_departures(  # central, lower and upper paths stacked
        levels, np.tile(start, 3), np.tile(shares, (3, 1)), np.tile(q0, (3, 1)),
        np.tile(tr, 3), np.tile(shift_grid, (3, 1)), entry,
    )  # fmt: skip

    # ---- back to rows
    n = len(series)
    res = _row_components(levels, cdep, cturn, sidx, rows_y, prev_y, n, interval, step, net)
    out = f[keys + ["period"]].copy()
    out["employment"] = f["mean"].to_numpy()
    out["expansion"], out["replacement"], out["turnover"], out["openings"] = res["c"]
    out["employment_lower"] = f["lower"].to_numpy()
    out["employment_upper"] = f["upper"].to_numpy()
    central = {"expansion": res["c"][0], "replacement": res["c"][1], "openings": res["c"][3]}
    cum = pd.Series(res["c"][3]).groupby(sidx, sort=False).cumsum().to_numpy()
    central["openings_cum"] = cum
    kept = None
    if interval == "paths":
        bounds, kept = _path_bounds(
            f, keys, series, start, grid["y0"], shares, q0, tr, shift_grid, entry, net,
            paths, n_paths, random_state, q_level, return_paths, floor_replacement,
        )  # fmt: skip
        if floor_replacement:
            _floor_at_departures(bounds, res["c"][0], sidx)
    else:
        bounds = _envelope_bounds(res, sidx, interval)
    _write_bounds(out, bounds, central, cum, sidx, interval)
    out["replacement_source"] = source[sidx]
    cols = (["scenario"] if has_scen else []) + _OPENINGS_COLUMNS
    table = out[cols].reset_index(drop=True)
    return (table, kept) if return_paths else table


def _check_interval(interval: str | None, paths, return_paths: bool) -> str:
    """The interval rule of :func:`openings` (default from ``paths``), checked."""
    if interval is None:
        interval = "path" if paths is None else "paths"
    if interval not in _INTERVALS:
        raise ValueError(f"interval must be one of {list(_INTERVALS)}, got {interval!r}")
    if interval == "paths" and paths is None:
        raise ValueError("interval='paths' needs paths= (a fitted Forecaster or SamplePaths)")
    if return_paths and interval != "paths":
        raise ValueError("return_paths=True needs interval='paths'")
    return interval


def _prepared_forecast(
    forecast: pd.DataFrame, level, model, retirement_shift: float
) -> tuple[pd.DataFrame, list[str], bool]:
    """The forecast rows to use, one per series x period, sorted, with their retirement shift."""
    f = _select_forecast(forecast, level, model)
    has_scen = "scenario" in f.columns
    keys = (["scenario"] if has_scen else []) + ["territory", "occupation"]
    if has_scen:
        f["scenario"] = f["scenario"].astype("str")
    dup = f.duplicated(keys + ["period"])
    if dup.any():
        row = f.index[dup.to_numpy()][0]
        raise ValueError(f"forecast: duplicate series x period (row {row})")
    if "retirement_shift" not in f.columns:
        f["retirement_shift"] = 0.0
    f["retirement_shift"] = pd.to_numeric(f["retirement_shift"]).fillna(0.0) + float(
        retirement_shift
    )
    f = f.sort_values(keys + ["period"], kind="stable").reset_index(drop=True)
    return f, keys, has_scen


def _with_base(
    f: pd.DataFrame, keys: list[str], employment: pd.DataFrame | None, base_period
) -> pd.DataFrame:
    """Add each series' base period and value; drop the forecast rows at or before it."""
    cells_all = f[["territory", "occupation"]].drop_duplicates()
    if employment is not None:
        require_columns(employment, "employment", ["territory", "occupation", "period", "value"])
        e = employment[["territory", "occupation", "period", "value"]].copy()
        e["territory"] = e["territory"].astype("str")
        e["occupation"] = e["occupation"].astype("str")
        e["period"] = int_periods(e["period"], "employment")
        check_unique(e, "employment", ["territory", "occupation", "period"])
        e["value"] = to_number(e["value"])  # "1 234,5" too, as Forecaster.fit reads it
        fail_rows(
            "employment",
            employment,
            e["value"].isna().to_numpy() & employment["value"].notna().to_numpy(),
            "value",
            "not a number",
        )
        first = f.groupby(["territory", "occupation"])["period"].min().rename("first")
        e = e.join(first, on=["territory", "occupation"], how="inner")
        if base_period is not None:
            e = e[e["period"] == int(base_period)]
        else:
            e = e[e["period"] < e["first"]]
        e = e.dropna(subset=["value"]).sort_values("period", kind="stable")
        base = e.groupby(["territory", "occupation"]).tail(1).set_index(["territory", "occupation"])
        miss = ~pd.MultiIndex.from_frame(cells_all).isin(base.index)
        if miss.any():
            t, o = cells_all[miss].iloc[0]
            raise ValueError(
                f"employment: no observed value before the forecast for territory {t!r}, "
                f"occupation {o!r} ({int(miss.sum())} series without a base)"
            )
        bidx = pd.MultiIndex.from_frame(f[["territory", "occupation"]])
        f["base_period"] = base["period"].reindex(bidx).to_numpy()
        f["base_value"] = base["value"].reindex(bidx).to_numpy()
        early = f["period"] <= f["base_period"]
        if early.any():
            warnings.warn(
                f"openings: {int(early.sum())} forecast rows at or before the base period are ignored",
                stacklevel=outside_stacklevel(),
            )
            f = f[~early].reset_index(drop=True)
    else:
        warnings.warn(
            "openings: no employment given; the first forecast period of each series is used "
            "as base and not reported",
            stacklevel=outside_stacklevel(),
        )
        g = f.groupby(keys, sort=False)
        f["base_period"] = g["period"].transform("min")
        f["base_value"] = g["mean"].transform("first")
        f = f[f["period"] > f["base_period"]].reset_index(drop=True)
    if f.empty:
        raise ValueError("openings: no forecast period after the base period")
    return f


def _envelope_paths(f: pd.DataFrame, keys: list[str]) -> dict[str, np.ndarray]:
    """Add the lower/upper envelope paths to ``f``; return the yearly deviation increments.

    The deviations from the mean are made non-decreasing over the horizon and the lower path
    is kept >= 0. The increments (independent yearly shocks) serve ``interval="annual"``.
    """
    dev_lo = (
        (f["mean"] - f["lower"]).clip(lower=0).groupby([f[k] for k in keys], sort=False).cummax()
    )
    dev_up = (
        (f["upper"] - f["mean"]).clip(lower=0).groupby([f[k] for k in keys], sort=False).cummax()
    )
    f["path_lower"] = (f["mean"] - dev_lo).clip(lower=0)
    f["path_upper"] = f["mean"] + dev_up
    skeys = [f[k] for k in keys]
    step = {}
    for name, dev in (("l", f["mean"] - f["path_lower"]), ("u", dev_up)):
        prev = dev.groupby(skeys, sort=False).shift(1).fillna(0.0)
        step[name] = np.sqrt(np.clip(dev.to_numpy() ** 2 - prev.to_numpy() ** 2, 0.0, None))
    return step


def _annual_grid(f: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, dict]:
    """The series and their central / lower / upper employment on an annual grid.

    Adds the series index ``sid`` to ``f``. Each row covers the years (previous period, its
    period]; employment is interpolated linearly inside. Returns the series table and a dict
    of ``sidx``, ``rows_y``, ``prev_y`` (per row), ``start`` (per series), ``y0``, ``levels``
    (central, lower, upper grids stacked) and ``shift_grid`` (retirement shift per year).
    """
    series = f[keys + ["base_period", "base_value"]].drop_duplicates(keys).reset_index(drop=True)
    sid = pd.MultiIndex.from_frame(series[keys])
    f["sid"] = sid.get_indexer(pd.MultiIndex.from_frame(f[keys]))
    y0 = int(series["base_period"].min())
    n_years = int(f["period"].max()) - y0 + 1
    n = len(series)
    start = (series["base_period"].to_numpy() - y0).astype(int)
    rows_y = (f["period"].to_numpy() - y0).astype(int)
    sidx = f["sid"].to_numpy()
    prev_y = f.groupby(keys, sort=False)["period"].shift(1)
    prev_y = prev_y.fillna(f["base_period"]).to_numpy(dtype=int) - y0
    span = rows_y - prev_y
    rep_row = np.repeat(np.arange(len(f)), span)
    offset = np.arange(len(rep_row)) - np.repeat(np.cumsum(span) - span, span) + 1
    cell_r, cell_y = sidx[rep_row], prev_y[rep_row] + offset
    frac = offset / span[rep_row]
    grids = []
    for col in ("mean", "path_lower", "path_upper"):
        now = f[col].to_numpy(dtype=float)
        before = pd.Series(now).groupby(sidx, sort=False).shift(1).to_numpy()
        before = np.where(np.isnan(before), f["base_value"].to_numpy(dtype=float), before)
        grid = np.full((n, n_years), np.nan)
        grid[np.arange(n), start] = series["base_value"].to_numpy()
        grid[cell_r, cell_y] = before[rep_row] + (now - before)[rep_row] * frac
        grids.append(grid)
    shift_grid = np.zeros((n, n_years))
    shift_grid[cell_r, cell_y] = f["retirement_shift"].to_numpy(dtype=float)[rep_row]
    grid = {
        "sidx": sidx, "rows_y": rows_y, "prev_y": prev_y, "start": start, "y0": y0,
        "levels": np.vstack(grids), "shift_grid": shift_grid,
    }  # fmt: skip
    return series, grid


def _entry_shares(entry_ages) -> np.ndarray:
    """Age distribution of entrants over :data:`AGE_BANDS`, normalised to sum 1."""
    entry = (
        (DEFAULT_ENTRY_AGES if entry_ages is None else pd.Series(entry_ages))
        .reindex(list(AGE_BANDS), fill_value=0.0)
        .to_numpy(dtype=float)
    )
    if entry.sum() <= 0 or (entry < 0).any():
        raise ValueError("entry_ages: shares must be >= 0 and not all zero")
    return entry / entry.sum()


def _cumulated_departures(levels, start, shares, q0, tr, shift_grid, entry):
    """Replacement and turnover along employment paths, summed from the grid's first year.

    One row per path: ``levels`` and ``shift_grid`` (n, Y), ``start`` and ``tr`` (n,),
    ``shares`` and ``q0`` (n, 11) (see :func:`_age_pyramids`).
    """
    n_years = levels.shape[1]
    dep = _age_pyramids(levels, start, shares, q0, shift_grid, entry)
    prev_level = np.concatenate([np.full((levels.shape[0], 1), np.nan), levels[:, :-1]], axis=1)
    active = np.arange(n_years)[None, :] > start[:, None]
    turn = np.where(active, tr[:, None] * np.nan_to_num(prev_level), 0.0)
    return np.cumsum(np.nan_to_num(dep), axis=1), np.cumsum(turn, axis=1)


def _row_components(levels, cdep, cturn, sidx, rows_y, prev_y, n, interval, step, net):
    """Expansion, replacement, turnover and openings per row, central ("c"), lower, upper."""
    res = {}
    change = levels[sidx, rows_y] - levels[sidx, prev_y]
    for k, name in enumerate(("c", "l", "u")):
        r = sidx + k * n
        expansion = levels[r, rows_y] - levels[r, prev_y]
        if interval == "annual" and name != "c":
            expansion = change + (step[name] if name == "u" else -step[name])
        if not net:
            expansion = np.maximum(expansion, 0.0)
        replacement = cdep[r, rows_y] - cdep[r, prev_y]
        turnover = cturn[r, rows_y] - cturn[r, prev_y]
        res[name] = (expansion, replacement, turnover, expansion + replacement + turnover)
    return res


def _floor_at_departures(bounds: dict, expansion, sidx) -> None:
    """Floor the openings' lower bounds at the departures' ones where the forecast does not
    decline; drop the departures' bounds."""
    cum_exp = pd.Series(expansion).groupby(sidx, sort=False).cumsum().to_numpy()
    for name, growth in (("openings", expansion), ("openings_cum", cum_exp)):
        dep_lo = bounds.pop(name.replace("openings", "departures"))[0]
        # where the forecast does not decline, the paths' year-to-year swings are no
        # reason for fewer openings than the departures (replacement + turnover) alone
        lo, up = bounds[name]
        bounds[name] = (np.where(growth >= 0, np.fmax(lo, dep_lo), lo), up)


def _envelope_bounds(res: dict, sidx, interval: str) -> dict:
    """Bounds from the lower/upper envelope paths (``interval`` "path" or "annual")."""
    bounds = {
        "expansion": (res["l"][0], res["u"][0]),
        "replacement": (res["l"][1], res["u"][1]),
        "openings": (res["l"][3], res["u"][3]),
    }
    if interval == "path":  # the cumulative reading of the envelope paths
        lo, up = (np.minimum(res[k][3], res["c"][3]) for k in ("l", "u"))
        bounds["openings_cum"] = tuple(
            pd.Series(v).groupby(sidx, sort=False).cumsum().to_numpy()
            for v in (lo, np.maximum(res["u"][3], res["c"][3]))
        )
    return bounds


def _write_bounds(out: pd.DataFrame, bounds: dict, central: dict, cum, sidx, interval) -> None:
    """Write the bound columns, each straddling its central value, and ``openings_cum``."""
    # bounds straddle the central value (a sample quantile may miss it by a hair)
    for name, (lo, up) in bounds.items():
        lo_col, up_col = (
            ("lower", "upper") if name == "openings" else (f"{name}_lower", f"{name}_upper")
        )
        out[lo_col] = np.fmin(lo, central[name])
        out[up_col] = np.fmax(up, central[name])
    out["openings_cum"] = cum
    if interval == "paths":
        # a plan period's interval never narrows with its length: where a sample quantile or
        # employment nearing 0 would narrow it, the earlier deviation from the centre is kept
        g = [sidx]
        dev_lo = (cum - out["openings_cum_lower"]).groupby(g, sort=False).cummax()
        dev_up = (out["openings_cum_upper"] - cum).groupby(g, sort=False).cummax()
        out["openings_cum_lower"] = cum - dev_lo.to_numpy()
        out["openings_cum_upper"] = cum + dev_up.to_numpy()
    if interval == "annual":  # yearly readings: their sums are no interval
        out["openings_cum_lower"] = out["openings_cum_upper"] = np.nan


def _interval_level(forecast: pd.DataFrame, level) -> float:
    """The interval level (%) of the bounds: ``level``, else the forecast's only level, else 80."""
    if level is not None:
        return float(level)
    if "level" in forecast.columns:
        levels = pd.unique(forecast["level"].dropna())
        if len(levels) == 1:
            return float(levels[0])
    return 80.0


# --------------------------------------------------------------------------------------
# skill needs
# --------------------------------------------------------------------------------------
def skill_needs(
    openings: pd.DataFrame,
    occupation_skills: pd.DataFrame,
    *,
    value: str = "openings",
    top: int = 3,
) -> pd.DataFrame:
    """Skill needs per territory x skill x period through the occupation-skill matrix.

    ``need[r, k, t] = Σ_o openings[r, o, t] x weight[o, k]``, and the same for the bounds
    (``lower``/``upper`` when ``value="openings"``, ``{value}_lower``/``{value}_upper`` when
    present, else missing). Occupations without any skill in ``occupation_skills`` contribute
    nothing; a warning names them.

    Parameters
    ----------
    openings : DataFrame
        Output of :func:`openings` (territory, occupation, period and ``value``; a scenario
        column is kept).
    occupation_skills : DataFrame
        Canonical occupation_skills table (occupation, skill, weight).
    value : str, default "openings"
        Column to spread over skills (e.g. "replacement").
    top : int, default 3
        Number of largest contributing occupations listed in ``occupations``.

    Returns
    -------
    DataFrame
        territory, skill, period, need, need_lower, need_upper, occupations ('; '-joined codes of
        the top contributors, largest first) (+ scenario).

    Examples
    --------
    >>> op = pd.DataFrame({"territory": "A", "occupation": ["X", "Y"], "period": 2025,
    ...     "openings": [10.0, 4.0], "lower": [8.0, 3.0], "upper": [12.0, 5.0]})
    >>> os_ = pd.DataFrame({"occupation": ["X", "Y"], "skill": "K", "weight": [1.0, 0.5]})
    >>> skill_needs(op, os_)[["need", "occupations"]].values.tolist()
    [[12.0, 'X; Y']]
    """
    require_columns(openings, "openings", ["territory", "occupation", "period", value])
    require_columns(occupation_skills, "occupation_skills", ["occupation", "skill", "weight"])
    keys = (["scenario"] if "scenario" in openings.columns else []) + ["territory"]
    if value == "openings":
        lo_col, up_col = "lower", "upper"
    else:
        lo_col, up_col = f"{value}_lower", f"{value}_upper"
    op = openings[keys + ["occupation", "period", value]].copy()
    op["_lo"] = openings[lo_col].to_numpy() if lo_col in openings.columns else np.nan
    op["_up"] = openings[up_col].to_numpy() if up_col in openings.columns else np.nan
    op["occupation"] = op["occupation"].astype("str")
    osk = occupation_skills[["occupation", "skill", "weight"]].copy()
    osk["occupation"] = osk["occupation"].astype("str")
    osk["skill"] = osk["skill"].astype("str")
    osk["weight"] = numeric_column(occupation_skills, "occupation_skills", "weight", nonneg=True)
    fail_rows(
        "occupation_skills",
        occupation_skills,
        osk["weight"].to_numpy() > 1.0,
        "weight",
        "weight above 1 (a weight is in [0, 1], 1 for a core skill)",
    )
    unmapped = sorted(set(op["occupation"]) - set(osk["occupation"]))
    if unmapped:
        warnings.warn(
            f"skill_needs: {len(unmapped)} occupation(s) without skills contribute no need "
            f"(e.g. {unmapped[:5]})",
            stacklevel=outside_stacklevel(),
        )
    m = op.merge(osk, on="occupation", how="inner", sort=False)
    m["c"] = m[value] * m["weight"]
    m["cl"] = m["_lo"] * m["weight"]
    m["cu"] = m["_up"] * m["weight"]
    gkeys = keys + ["skill", "period"]
    g = m.groupby(gkeys, sort=True)
    out = (
        g[["c", "cl", "cu"]]
        .sum(min_count=1)
        .rename(columns={"c": "need", "cl": "need_lower", "cu": "need_upper"})
    )
    ranked = m.sort_values(
        gkeys + ["c", "occupation"], ascending=[True] * len(gkeys) + [False, True], kind="stable"
    )
    ranked = ranked.groupby(gkeys, sort=True).head(top)
    out["occupations"] = _joined_runs(
        ranked.groupby(gkeys, sort=True).ngroup().to_numpy(), ranked["occupation"], len(out)
    )
    out = out.reset_index()
    out = out[keys + ["skill", "period", "need", "need_lower", "need_upper", "occupations"]]
    return out


def _joined_runs(codes: np.ndarray, labels: pd.Series, n_groups: int) -> np.ndarray:
    """``"; "``-joined ``labels`` of each group, the rows of a group being contiguous.

    One string join per group instead of a pandas aggregation with a Python callable.
    """
    out = np.empty(n_groups, dtype=object)
    if len(codes) == 0:
        return out
    cut = np.flatnonzero(np.diff(codes)) + 1
    parts = np.split(labels.to_numpy(dtype=object), cut)
    for code, part in zip(codes[np.r_[0, cut]], parts, strict=True):
        out[code] = "; ".join(part)
    return out
