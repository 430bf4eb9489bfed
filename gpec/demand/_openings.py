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

from gpec._checks import int_periods, require_columns
from gpec.demand._ageing import (
    _NB,
    AGE_BANDS,
    DEFAULT_ENTRY_AGES,
    _exit_matrix,
    _pyramid_shares,
    _shift_rates,
    _turnover_vector,
)

__all__ = ["openings", "skill_needs"]

_OPENINGS_COLUMNS = [
    "territory", "occupation", "period", "employment", "expansion", "replacement",
    "turnover", "openings", "lower", "upper", "employment_lower", "employment_upper",
    "replacement_source",
]  # fmt: skip


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
    up = 1.0 / 5.0
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
        leave = p * q
        dep[act, y] = leave.sum(axis=1)
        surv = p - leave
        flow = surv[:, :-1] * up
        surv[:, :-1] -= flow
        surv[:, 1:] += flow
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
    interval: str = "path",
) -> pd.DataFrame:
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

    Interval rule (``interval="path"``, default): the lower (upper) bound is computed, with the
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
    interval : {"path", "annual"}, default "path"
        How the forecast interval becomes an openings interval (see above).

    Returns
    -------
    DataFrame
        territory, occupation, period, employment, expansion, replacement, turnover, openings,
        lower, upper, employment_lower, employment_upper, replacement_source (+ scenario).

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
    """
    if interval not in ("path", "annual"):
        raise ValueError(f"interval must be 'path' or 'annual', got {interval!r}")
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

    # ---- base employment
    cells_all = f[["territory", "occupation"]].drop_duplicates()
    if employment is not None:
        require_columns(employment, "employment", ["territory", "occupation", "period", "value"])
        e = employment[["territory", "occupation", "period", "value"]].copy()
        e["territory"] = e["territory"].astype("str")
        e["occupation"] = e["occupation"].astype("str")
        e["period"] = int_periods(e["period"], "employment")
        e["value"] = pd.to_numeric(e["value"], errors="coerce")
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
                stacklevel=2,
            )
            f = f[~early].reset_index(drop=True)
    else:
        warnings.warn(
            "openings: no employment given; the first forecast period of each series is used "
            "as base and not reported",
            stacklevel=2,
        )
        g = f.groupby(keys, sort=False)
        f["base_period"] = g["period"].transform("min")
        f["base_value"] = g["mean"].transform("first")
        f = f[f["period"] > f["base_period"]].reset_index(drop=True)
    if f.empty:
        raise ValueError("openings: no forecast period after the base period")

    # ---- interval paths: monotone deviations, non-negative
    dev_lo = (
        (f["mean"] - f["lower"]).clip(lower=0).groupby([f[k] for k in keys], sort=False).cummax()
    )
    dev_up = (
        (f["upper"] - f["mean"]).clip(lower=0).groupby([f[k] for k in keys], sort=False).cummax()
    )
    f["path_lower"] = (f["mean"] - dev_lo).clip(lower=0)
    f["path_upper"] = f["mean"] + dev_up
    # increment of the deviation over each row (independent yearly shocks), for interval="annual"
    skeys = [f[k] for k in keys]
    step = {}
    for name, dev in (("l", f["mean"] - f["path_lower"]), ("u", dev_up)):
        prev = dev.groupby(skeys, sort=False).shift(1).fillna(0.0)
        step[name] = np.sqrt(np.clip(dev.to_numpy() ** 2 - prev.to_numpy() ** 2, 0.0, None))

    # ---- series on an annual grid
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
    # each row covers the years (prev_y, rows_y]: linear interpolation inside
    span = rows_y - prev_y
    rep_row = np.repeat(np.arange(len(f)), span)
    offset = np.arange(len(rep_row)) - np.repeat(np.cumsum(span) - span, span) + 1
    cell_r, cell_y = sidx[rep_row], prev_y[rep_row] + offset
    frac = offset / span[rep_row]
    paths = []
    for col in ("mean", "path_lower", "path_upper"):
        now = f[col].to_numpy(dtype=float)
        before = pd.Series(now).groupby(sidx, sort=False).shift(1).to_numpy()
        before = np.where(np.isnan(before), f["base_value"].to_numpy(dtype=float), before)
        grid = np.full((n, n_years), np.nan)
        grid[np.arange(n), start] = series["base_value"].to_numpy()
        grid[cell_r, cell_y] = before[rep_row] + (now - before)[rep_row] * frac
        paths.append(grid)
    shift_grid = np.zeros((n, n_years))
    shift_grid[cell_r, cell_y] = f["retirement_shift"].to_numpy(dtype=float)[rep_row]

    # ---- pyramids, exit rates, turnover per series
    shares, source = _pyramid_shares(series, workforce_age, territories)
    q0 = _exit_matrix(series, exit_rates)
    tr = _turnover_vector(series, turnover_rates)
    entry = (
        (DEFAULT_ENTRY_AGES if entry_ages is None else pd.Series(entry_ages))
        .reindex(list(AGE_BANDS), fill_value=0.0)
        .to_numpy(dtype=float)
    )
    if entry.sum() <= 0 or (entry < 0).any():
        raise ValueError("entry_ages: shares must be >= 0 and not all zero")
    entry = entry / entry.sum()

    levels = np.vstack(paths)
    dep = _age_pyramids(
        levels,
        np.tile(start, 3),
        np.tile(shares, (3, 1)),
        np.tile(q0, (3, 1)),
        np.tile(shift_grid, (3, 1)),
        entry,
    )
    prev_level = np.concatenate([np.full((3 * n, 1), np.nan), levels[:, :-1]], axis=1)
    active = np.arange(n_years)[None, :] > np.tile(start, 3)[:, None]
    turn = np.where(active, np.tile(tr, 3)[:, None] * np.nan_to_num(prev_level), 0.0)
    cdep = np.cumsum(np.nan_to_num(dep), axis=1)
    cturn = np.cumsum(turn, axis=1)

    # ---- back to rows
    out = f[keys + ["period"]].copy()
    out["employment"] = f["mean"].to_numpy()
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
    out["expansion"], out["replacement"], out["turnover"], out["openings"] = res["c"]
    out["lower"] = np.minimum(res["l"][3], res["c"][3])
    out["upper"] = np.maximum(res["u"][3], res["c"][3])
    out["employment_lower"] = f["lower"].to_numpy()
    out["employment_upper"] = f["upper"].to_numpy()
    out["replacement_source"] = source[sidx]
    cols = (["scenario"] if has_scen else []) + _OPENINGS_COLUMNS
    return out[cols].reset_index(drop=True)


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
    nothing; they are listed in a warning and in ``result.attrs["unmapped_occupations"]``.

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
    osk["weight"] = pd.to_numeric(osk["weight"], errors="coerce")
    bad = osk["weight"].isna() | (osk["weight"] < 0)
    if bad.any():
        row = osk.index[bad.to_numpy()][0]
        raise ValueError(
            f"table 'occupation_skills': missing or negative weight (row {row}, column 'weight')"
        )
    unmapped = sorted(set(op["occupation"]) - set(osk["occupation"]))
    if unmapped:
        warnings.warn(
            f"skill_needs: {len(unmapped)} occupation(s) without skills contribute no need "
            f"(e.g. {unmapped[:5]})",
            stacklevel=2,
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
    out["occupations"] = ranked.groupby(gkeys, sort=True)["occupation"].agg("; ".join)
    out = out.reset_index()
    out = out[keys + ["skill", "period", "need", "need_lower", "need_upper", "occupations"]]
    out.attrs["unmapped_occupations"] = unmapped
    return out
