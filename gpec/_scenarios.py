"""Scenarios: shocks on a forecast or employment table and openings per scenario.

Private module: :func:`apply_scenarios` and :func:`run_scenarios` are public as
:func:`gpec.demand.apply_scenarios` and :func:`gpec.demand.run_scenarios`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from gpec._ageing import _int_periods, _require

__all__ = ["apply_scenarios", "run_scenarios"]

_SCENARIO_KEYS = {
    "name", "territories", "occupations", "from_year", "change", "absolute",
    "retirement_shift", "description",
}  # fmt: skip


def _normalise_scenarios(scenarios) -> dict[str, list[dict]]:
    """Group scenario entries by name (entries sharing a name form one scenario)."""
    if isinstance(scenarios, Mapping):
        scenarios = [scenarios]
    out: dict[str, list[dict]] = {}
    for i, sc in enumerate(scenarios):
        if not isinstance(sc, Mapping):
            raise TypeError(f"scenario entry {i}: expected a dict, got {type(sc).__name__}")
        unknown = set(sc) - _SCENARIO_KEYS
        if unknown:
            raise ValueError(f"scenario entry {i}: unknown key(s) {sorted(unknown)}")
        name = sc.get("name")
        if not name or not isinstance(name, str):
            raise ValueError(f"scenario entry {i}: a non-empty 'name' is required")
        if name == "baseline":
            raise ValueError(f"scenario entry {i}: 'baseline' is reserved")
        if sc.get("change") is not None and sc.get("absolute") is not None:
            raise ValueError(f"scenario {name!r}: give 'change' (relative) or 'absolute', not both")
        if (
            sc.get("change") is None
            and sc.get("absolute") is None
            and not sc.get("retirement_shift")
        ):
            raise ValueError(
                f"scenario {name!r}: nothing to change (change, absolute or retirement_shift)"
            )
        if sc.get("change") is not None and float(sc["change"]) < -1:
            raise ValueError(f"scenario {name!r}: change below -1 (-100 %)")
        out.setdefault(name, []).append(dict(sc))
    return out


def _target_mask(df: pd.DataFrame, sc: Mapping, name: str) -> np.ndarray:
    mask = np.ones(len(df), dtype=bool)
    for key, col in (("territories", "territory"), ("occupations", "occupation")):
        sel = sc.get(key, "*")
        if sel is None or sel == "*":
            continue
        codes = [sel] if isinstance(sel, str) else list(sel)
        codes = [str(c) for c in codes]
        missing = sorted(set(codes) - set(df[col].astype("str")))
        if missing:
            raise ValueError(f"scenario {name!r}: {key} {missing} not found in the table")
        mask &= df[col].astype("str").isin(codes).to_numpy()
    if sc.get("from_year") is not None:
        mask &= df["period"].to_numpy() >= int(sc["from_year"])
    return mask


def apply_scenarios(forecast_or_employment: pd.DataFrame, scenarios) -> pd.DataFrame:
    """Apply scenario shocks to a forecast (mean, lower, upper) or an employment table (value).

    A scenario entry is a dict (a ``[[scenarios]]`` table of the config)::

        {"name": "closure_plant_x", "territories": ["200066793"], "occupations": ["H2913"],
         "from_year": 2027, "change": -1.0}        # relative: -1 = every job of the cells
        {"name": "new_gigafactory", "territories": ["200071025"], "occupations": ["H2913", "H1206"],
         "from_year": 2026, "absolute": 800}       # jobs, spread over the targeted cells
        {"name": "retire_64", "territories": "*", "occupations": "*", "from_year": 2025,
         "retirement_shift": 2}                    # exit curve 2 years later

    ``territories`` / ``occupations`` are lists of codes or ``"*"`` (all); ``from_year`` the first
    period shocked (default all). ``change`` multiplies the level by ``1 + change``;
    ``absolute`` adds a number of jobs, spread over the targeted cells in proportion to their
    level in the first shocked period (evenly if zero), the same in every later period (a lasting
    level shift). Levels are clipped at 0. ``retirement_shift`` is written in a column that
    :func:`openings` reads. Entries sharing a name are combined into one scenario, in order
    (e.g. a closure and a new site in the same scenario). Cells must exist in the table: add a
    new occupation to a territory with zero employment first.

    Parameters
    ----------
    forecast_or_employment : DataFrame
        Forecast (mean, lower, upper) or employment (value) table.
    scenarios : dict or list of dict
        Scenario entries.

    Returns
    -------
    DataFrame
        The shocked table of every scenario stacked, with a ``scenario`` column first.

    Examples
    --------
    >>> fc = pd.DataFrame({"territory": ["A", "A", "B"], "occupation": "X",
    ...     "period": [2025, 2026, 2026], "mean": [100.0, 100.0, 50.0]})
    >>> s = apply_scenarios(fc, {"name": "closure", "territories": ["A"], "from_year": 2026,
    ...     "change": -0.3})
    >>> s["mean"].tolist()
    [100.0, 70.0, 50.0]
    """

    df = forecast_or_employment
    cols = (
        [c for c in ("mean", "lower", "upper") if c in df.columns]
        if "mean" in df.columns
        else ["value"]
    )
    _require(df, ["territory", "occupation", "period", *cols], "forecast_or_employment")
    if "scenario" in df.columns:
        raise ValueError("forecast_or_employment already has a 'scenario' column")
    groups = _normalise_scenarios(scenarios)
    base = df.copy()
    base["period"] = _int_periods(base["period"], "forecast_or_employment")
    out = []
    for name, entries in groups.items():
        s = base.copy()
        for c in cols:
            s[c] = pd.to_numeric(s[c], errors="coerce").astype(float)
        for sc in entries:
            mask = _target_mask(s, sc, name)
            if sc.get("change") is not None:
                for c in cols:
                    s.loc[mask, c] = s.loc[mask, c] * (1.0 + float(sc["change"]))
            if sc.get("absolute") is not None:
                amount = float(sc["absolute"])
                first = int(s.loc[mask, "period"].min()) if mask.any() else None
                if first is not None:
                    ref_col = cols[0]
                    ref = s.loc[mask & (s["period"].to_numpy() == first)]
                    ref = ref.groupby(["territory", "occupation"])[ref_col].sum()
                    share = ref / ref.sum() if ref.sum() > 0 else ref * 0 + 1.0 / len(ref)
                    cell = pd.MultiIndex.from_frame(s.loc[mask, ["territory", "occupation"]])
                    add = amount * share.reindex(cell).fillna(0.0).to_numpy()
                    for c in cols:
                        s.loc[mask, c] = s.loc[mask, c].to_numpy() + add
            if sc.get("retirement_shift"):
                if "retirement_shift" not in s.columns:
                    s["retirement_shift"] = 0.0
                s.loc[mask, "retirement_shift"] = s.loc[mask, "retirement_shift"] + float(
                    sc["retirement_shift"]
                )
            for c in cols:
                s[c] = s[c].clip(lower=0.0)
        s.insert(0, "scenario", name)
        out.append(s)
    return pd.concat(out, ignore_index=True)


def run_scenarios(
    forecast: pd.DataFrame,
    scenarios,
    workforce_age: pd.DataFrame | None = None,
    **openings_kwargs,
) -> pd.DataFrame:
    """Openings of the baseline and of every scenario, stacked with a ``scenario`` column.

    Parameters
    ----------
    forecast : DataFrame
        Forecaster output (the baseline).
    scenarios : dict or list of dict
        Scenario entries (see :func:`apply_scenarios`).
    workforce_age : DataFrame, optional
        Passed to :func:`openings`.
    **openings_kwargs
        Other arguments of :func:`openings` (employment, exit_rates, level...).

    Returns
    -------
    DataFrame
        :func:`openings` output with ``scenario`` first ("baseline", then the scenarios in the
        order given).

    Examples
    --------
    >>> fc = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2025, 2026],
    ...     "mean": [100.0, 100.0]})
    >>> emp = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2024], "value": [100.0]})
    >>> out = run_scenarios(fc, {"name": "closure", "from_year": 2026, "change": -0.5},
    ...     employment=emp, level=None)
    >>> out.groupby("scenario", sort=False)["expansion"].sum().to_dict()
    {'baseline': 0.0, 'closure': -50.0}
    """
    from gpec.demand import openings  # deferred: gpec.demand re-exports this module

    if "level" in forecast.columns and openings_kwargs.get("level", 80) is not None:
        forecast = forecast[forecast["level"] == openings_kwargs.get("level", 80)]
    shocked = apply_scenarios(forecast, scenarios)
    baseline = forecast.copy()
    baseline.insert(0, "scenario", "baseline")
    both = pd.concat([baseline, shocked], ignore_index=True)
    order = ["baseline", *pd.unique(shocked["scenario"])]
    out = openings(both, workforce_age, **openings_kwargs)
    out["scenario"] = pd.Categorical(out["scenario"], categories=order, ordered=True)
    out = out.sort_values(["scenario", "territory", "occupation", "period"], kind="stable")
    out["scenario"] = out["scenario"].astype("str")
    return out.reset_index(drop=True)
