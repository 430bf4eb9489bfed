"""Held-out check of the plan-period totals on a study's own past.

A run's plan-period totals (the net openings and the openings to fill summed over every cell
and year of the plan period) come as three figures: the central one (every cell on its central
forecast), the sample paths' median, and an interval over the paths. Which one to plan on
depends on the study's data: on noisy cells (a territory's sectors) the central figure of the
openings to fill falls well below what happens, on smooth series it does better. This module
replays the run on the study's own past: the forecaster is fitted on the years before an
origin, the openings are computed along its sample paths as the pipeline does, and the totals
are set against the openings of the employment that was then observed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gpec._checks import outside_stacklevel, require_columns
from gpec.demand._openings import openings
from gpec.exceptions import GpecError

__all__ = ["HELDOUT_COLUMNS", "heldout_plan_totals"]

#: Columns of :func:`heldout_plan_totals` (``plan_totals_heldout.csv``).
HELDOUT_COLUMNS = [
    "origin",
    "plan_period",
    "years",
    "quantity",
    "cells",
    "observed",
    "central",
    "median",
    "lower",
    "upper",
    "level",
    "inside",
    "central_error_pct",
    "median_error_pct",
    "n_paths",
]

#: The totals checked, in the order of the rows.
QUANTITIES = ("net_openings", "openings_to_fill")

#: Longest held-out period (years): a plan period of five years, as the planners' usual one.
MAX_HELDOUT_YEARS = 5

_IDS = ["territory", "occupation"]


def _years(panel: pd.DataFrame) -> np.ndarray:
    """The panel's observed years (non-missing values), sorted; a clear error otherwise."""
    period = panel["period"]
    if not pd.api.types.is_integer_dtype(period):
        raise GpecError(
            "held-out check of the plan totals: employment periods must be years (integers), "
            f"got {period.dtype} (e.g. {period.iloc[0]!r})"
        )
    years = np.sort(period[panel["value"].notna()].unique())
    if not len(years):
        raise GpecError("held-out check of the plan totals: the employment panel has no value")
    return years.astype(int)


def _plan(
    years: np.ndarray, horizon: int, origins: Sequence[int] | None, n_origins: int, step: int,
    min_train: int,
) -> tuple[int, list[int]]:  # fmt: skip
    """Held-out years ``h`` and origins (first held-out years), or a clear error."""
    for name, value, low in (
        ("horizon", horizon, 1), ("n_origins", n_origins, 1), ("step", step, 1),
        ("min_train", min_train, 2),
    ):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise GpecError(
                f"held-out check of the plan totals: {name} must be an integer >= {low}, "
                f"got {value!r}"
            )
    first, last = int(years[0]), int(years[-1])
    span = f"{first}-{last} ({last - first + 1} years)"
    h = min(int(horizon), MAX_HELDOUT_YEARS, last - first + 1 - int(min_train))
    if h < 1:
        raise GpecError(
            f"held-out check of the plan totals: the employment panel covers {span}, too short "
            f"for a check: it needs at least {min_train} training years (min_train) before one "
            "held-out year"
        )
    if origins is None:
        latest = last - h + 1
        origins = [o for o in range(latest, first - 1, -int(step)) if o - first >= min_train]
        origins = sorted(origins[: int(n_origins)])
    else:
        origins = sorted(int(o) for o in origins)
        for o in origins:
            if o - first < min_train or o + h - 1 > last:
                raise GpecError(
                    f"held-out check of the plan totals: origin {o} needs {min_train} training "
                    f"years before it and {h} observed years from it; the panel covers {span}"
                )
    if not origins:  # pragma: no cover - h was chosen so that the latest origin fits
        raise GpecError(f"held-out check of the plan totals: no origin fits in {span}")
    return h, origins


def _compared_cells(panel: pd.DataFrame, origin: int, h: int) -> pd.DataFrame:
    """Cells observed in the origin's last training year and in each held-out year."""
    obs = panel[panel["value"].notna()]
    base = obs.loc[obs["period"] == origin - 1, _IDS]
    held = obs[(obs["period"] >= origin) & (obs["period"] < origin + h)]
    n = held.groupby(_IDS, sort=False)["period"].nunique()
    full = n[n == h].reset_index()[_IDS]
    return base.merge(full, on=_IDS).drop_duplicates().reset_index(drop=True)


def _default_fit(forecaster, level: float, random_state) -> Callable:
    """A fit function: a fresh forecaster with the given one's parameters."""
    from sklearn.base import clone

    from gpec.forecast import Forecaster

    base = Forecaster(verbose=0) if forecaster is None else forecaster
    if isinstance(base, Mapping):
        base = Forecaster(**{"verbose": 0, **base})
    levels = tuple(base.get_params()["level"])
    if not any(float(v) == float(level) for v in levels):
        levels = (*levels, level)

    def fit(history: pd.DataFrame, horizon: int):
        model = clone(base).set_params(horizon=horizon, level=levels, verbose=0)
        if random_state is not None:
            model.set_params(random_state=random_state)
        model.fit(history)
        return model, model.predict()

    return fit


def _error_pct(value: float, observed: float) -> float:
    """(value − observed) / |observed| in %, NaN when nothing was observed."""
    return float("nan") if observed == 0 else (value - observed) / abs(observed) * 100.0


def _one_origin(panel, workforce_age, origin, h, fit, kw, n_paths, random_state, level):
    """The rows of one origin, or None when no cell can be compared."""
    keep = _compared_cells(panel, origin, h)
    if not len(keep):
        return None
    history = panel[panel["period"] < origin]
    model, forecast = fit(history, h)
    fc = forecast.copy()
    fc[_IDS] = fc[_IDS].astype(str)
    fc = fc.merge(keep.astype(str), on=_IDS)
    fc = fc[(fc["period"] >= origin) & (fc["period"] < origin + h)]
    open_kw = {**kw, "employment": history, "level": level}
    draw = n_paths > 0 and hasattr(model, "iter_paths")
    if draw:
        op, paths = openings(
            fc, workforce_age, **open_kw, paths=model, n_paths=n_paths,
            random_state=random_state, return_paths=True,
        )  # fmt: skip
    else:
        op, paths = openings(fc, workforce_age, **open_kw), None
    held = panel[(panel["period"] >= origin) & (panel["period"] < origin + h)]
    held = held.merge(keep, on=_IDS)[[*_IDS, "period", "value"]]
    obs_kw = {k: v for k, v in open_kw.items() if k != "level"}
    seen = openings(held.rename(columns={"value": "mean"}), workforce_age, **obs_kw)
    cells = len(op.drop_duplicates(_IDS))
    if cells != len(keep) or len(seen.drop_duplicates(_IDS)) != len(keep):
        raise GpecError(  # pragma: no cover - a forecaster that drops series
            f"held-out check of the plan totals, origin {origin}: {len(keep)} cells to compare, "
            f"{cells} forecast"
        )
    central = {
        "net_openings": float(op["openings"].sum()),
        "openings_to_fill": float(np.maximum(op["openings"].to_numpy(float), 0.0).sum()),
    }
    observed = {
        "net_openings": float(seen["openings"].sum()),
        "openings_to_fill": float(np.maximum(seen["openings"].to_numpy(float), 0.0).sum()),
    }
    totals = {}
    if paths is not None:
        values = paths.values.astype(float)  # series x paths x years
        totals = {
            "net_openings": values.sum(axis=(0, 2)),
            "openings_to_fill": np.maximum(values, 0.0).sum(axis=(0, 2)),
        }
    q = (1.0 - float(level) / 100.0) / 2.0
    rows = []
    for name in QUANTITIES:
        c, o = central[name], observed[name]
        if name in totals:
            med, lo, up = np.quantile(totals[name], [0.5, q, 1.0 - q])
            lo, up = min(lo, c), max(up, c)  # widened to hold the central figure, as the run's
            inside = bool(lo <= o <= up)
        else:
            med = lo = up = float("nan")
            inside = pd.NA
        rows.append(
            {
                "origin": int(origin),
                "plan_period": f"{origin}-{origin + h - 1}",
                "years": int(h),
                "quantity": name,
                "cells": int(cells),
                "observed": o,
                "central": c,
                "median": float(med),
                "lower": float(lo),
                "upper": float(up),
                "level": float(level),
                "inside": inside,
                "central_error_pct": _error_pct(c, o),
                "median_error_pct": _error_pct(float(med), o),
                "n_paths": int(paths.n_paths) if paths is not None else 0,
            }
        )
    return rows


def heldout_plan_totals(
    employment: pd.DataFrame,
    workforce_age: pd.DataFrame | None = None,
    *,
    forecaster=None,
    fit: Callable[[pd.DataFrame, int], tuple[Any, pd.DataFrame]] | None = None,
    horizon: int = MAX_HELDOUT_YEARS,
    origins: Sequence[int] | None = None,
    n_origins: int = 4,
    step: int = 2,
    min_train: int = 6,
    n_paths: int = 500,
    level: float = 80,
    random_state: int | None = 0,
    openings_kwargs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Plan-period totals of openings made on the study's own past, against what happened.

    For each origin (the first held-out year), the forecaster is fitted on the years before it
    and the openings of the next ``h`` years are computed along its sample paths, as the
    pipeline does (:func:`gpec.demand.openings` with ``paths=``); the net openings and the
    openings to fill (negative openings as 0, cell by cell and year by year) are summed over
    the compared cells and the ``h`` years: the central figure (every cell on its central
    forecast), the paths' median and their equal-tailed ``level`` % interval, widened to hold
    the central figure as ``plan_totals.csv`` is. What happened is the openings of the
    employment observed in those years, with the same pyramids and demand parameters (its
    yearly changes, departures by ageing the pyramids along it). Compared cells: observed in
    the origin's last training year and in every held-out year; the forecaster is fitted on
    every series of the training years. The refits' warnings (isolated values, series that
    stop early...) are not repeated: the run's own fit gives them on the whole panel.

    Parameters
    ----------
    employment : DataFrame
        The study's panel at the run's territory level: territory, occupation, period (years),
        value (null: unknown).
    workforce_age : DataFrame, optional
        The age pyramids the run uses (see :func:`gpec.demand.openings`).
    forecaster : Forecaster or dict, optional
        The run's forecaster (its parameters are copied; its horizon becomes ``h``) or its
        parameters; default ``Forecaster()``.
    fit : callable, optional
        ``fit(history, h) -> (model, forecast)`` instead of ``forecaster``: fits on the training
        years and returns a model with ``iter_paths`` and its forecast of the next ``h`` years
        (the pipeline passes its forecast stage, reconciliation included).
    horizon : int, default 5
        Held-out years; capped at 5 and at what the panel allows after ``min_train`` years.
    origins : sequence of int, optional
        First held-out years; default: the latest origin leaving ``h`` observed years, then
        every ``step`` years back while ``min_train`` training years remain, at most
        ``n_origins``.
    n_origins, step, min_train : int, default 4, 2, 6
        See ``origins`` (6 training years: the forecaster's ``min_obs``, below which a series
        is forecast by its last value).
    n_paths : int, default 500
        Sample paths per series (0: the central figure only).
    level : float, default 80
        Interval level (%), the run's ``[demand] interval_level``.
    random_state : int, optional
        Seed of the forecaster and of the paths (the same at every origin).
    openings_kwargs : mapping, optional
        Other arguments of :func:`gpec.demand.openings` (``exit_rates``, ``net``,
        ``retirement_shift``, ``pyramid_period``, ``turnover_rates``...), the same for the
        forecast and for what happened.

    Returns
    -------
    DataFrame
        One row per origin x quantity (``net_openings``, ``openings_to_fill``): origin,
        plan_period (``"2018-2022"``), years, quantity, cells (compared), observed, central,
        median, lower, upper, level, inside (observed within [lower, upper]),
        central_error_pct and median_error_pct ((figure − observed) / |observed| in %),
        n_paths.

    Raises
    ------
    GpecError
        When the panel is too short for one origin (fewer than ``min_train`` + 1 years), an
        origin given does not fit, or no origin has a cell observed throughout.

    Warns
    -----
    UserWarning
        For an origin left out because no cell was observed throughout its held-out years.

    Examples
    --------
    >>> from gpec.datasets import make_panel
    >>> panel = make_panel(2, 3, 12, random_state=0)
    >>> check = heldout_plan_totals(panel, forecaster={"models": "naive"}, horizon=3,
    ...                             n_origins=2, n_paths=100)
    >>> print(check[["origin", "plan_period", "quantity", "cells"]].to_string(index=False))
     origin plan_period         quantity  cells
       2012   2012-2014     net_openings      6
       2012   2012-2014 openings_to_fill      6
       2014   2014-2016     net_openings      6
       2014   2014-2016 openings_to_fill      6
    """
    require_columns(employment, "employment", [*_IDS, "period", "value"])
    panel = employment[[*_IDS, "period", "value"]].copy()
    panel[_IDS] = panel[_IDS].astype(str)
    years = _years(panel)
    h, origins = _plan(years, horizon, origins, n_origins, step, min_train)
    fit = fit or _default_fit(forecaster, level, random_state)
    kw = {k: v for k, v in dict(openings_kwargs or {}).items() if k != "employment"}
    rows = []
    skipped = []
    for origin in origins:
        with warnings.catch_warnings():  # the run's own fit already said what the data hold
            warnings.simplefilter("ignore")
            part = _one_origin(
                panel, workforce_age, origin, h, fit, kw, int(n_paths), random_state, level
            )
        if part is None:
            skipped.append(origin)
        else:
            rows.extend(part)
    if skipped:
        warnings.warn(
            f"held-out check of the plan totals: origin(s) {', '.join(map(str, skipped))} left "
            f"out: no cell observed in the year before and in each of the {h} held-out years",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )
    if not rows:
        raise GpecError(
            "held-out check of the plan totals: no cell is observed throughout the held-out "
            f"years of any origin ({', '.join(map(str, origins))})"
        )
    out = pd.DataFrame(rows, columns=HELDOUT_COLUMNS)
    out["inside"] = out["inside"].astype("boolean")
    return out
