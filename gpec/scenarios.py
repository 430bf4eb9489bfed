"""Scenarios: what-if shocks on demand (employment, end-of-career exits) and on training supply
(seats, new offers), and :func:`run`, which gives the openings and gaps of each scenario beside the
baseline.

A scenario is a list of entries sharing a ``name`` (the ``[[scenarios]]`` tables of
``gpec.toml``); :func:`normalize_scenarios` checks and groups them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from gpec._checks import int_periods, outside_stacklevel, require_columns
from gpec._defaults import DEFAULTS
from gpec.demand import openings

__all__ = [
    "DEMAND_KEYS",
    "SCENARIO_KEYS",
    "SUPPLY_KEYS",
    "apply_scenarios",
    "apply_supply_scenarios",
    "has_keys",
    "normalize_scenarios",
    "run",
    "run_scenarios",
]

#: keys of a demand shock (employment level, end-of-career exits)
DEMAND_KEYS = ("change", "absolute", "retirement_shift")
#: keys of a supply shock (training seats)
SUPPLY_KEYS = ("seats_change", "new_seats")

SCENARIO_KEYS = {
    "name", "territories", "occupations", "from_year", "description",
    *DEMAND_KEYS, "offers", "sites", "site", *SUPPLY_KEYS, "shares", "completion_rate",
    "placement_rate",
}  # fmt: skip


def has_keys(sc: Mapping, keys) -> bool:
    """Whether the scenario entry ``sc`` sets (to a non-zero value) any of ``keys``.

    Parameters
    ----------
    sc : mapping
        One scenario entry (a ``[[scenarios]]`` table of ``gpec.toml``).
    keys : iterable of str
        The keys looked at, e.g. :data:`DEMAND_KEYS` or :data:`SUPPLY_KEYS`.

    Returns
    -------
    bool
        True when one of ``keys`` is present with a value other than None, 0 or False.

    Examples
    --------
    A change of 0 shocks nothing; an absolute level does:

    >>> has_keys({"name": "a", "change": 0.0, "absolute": 5}, DEMAND_KEYS)
    True
    >>> has_keys({"name": "a", "change": 0.0}, DEMAND_KEYS)
    False
    >>> has_keys({"name": "a", "change": 0.1}, SUPPLY_KEYS)
    False
    """
    return any(sc.get(k) not in (None, 0, 0.0, False) for k in keys)


def normalize_scenarios(scenarios) -> dict[str, list[dict]]:
    """Group scenario entries by name (entries sharing a name form one scenario), checking
    their keys and values.

    Parameters
    ----------
    scenarios : mapping or iterable of mappings
        Scenario entries (one entry alone is accepted), with the keys of
        :data:`SCENARIO_KEYS`: a ``name`` and at least one change (``change``, ``absolute``,
        ``retirement_shift``, ``seats_change`` or ``new_seats``).

    Returns
    -------
    dict
        Scenario name -> list of its entries (copies, in the order given); names in the order
        of their first entry.

    Raises
    ------
    TypeError
        When an entry is not a mapping.
    ValueError
        Naming the entry or scenario: an unknown key; a missing name or the reserved name
        ``"baseline"``; both ``change`` and ``absolute``; nothing to change; a ``change``,
        ``absolute``, ``retirement_shift``, ``seats_change`` or ``new_seats`` that is not a
        finite number; ``change`` or ``seats_change`` below -1; ``new_seats`` below 0 or
        without its ``site`` and ``occupations``; ``shares`` that are not one share >= 0 per
        occupation summing to 1; a ``completion_rate`` or ``placement_rate`` outside [0, 1].

    Examples
    --------
    >>> groups = normalize_scenarios([{"name": "a", "change": 0.1},
    ...     {"name": "a", "new_seats": 10, "site": "S", "occupations": ["X"]}])
    >>> list(groups), len(groups["a"])
    (['a'], 2)
    >>> normalize_scenarios({"name": "b", "change": -2})
    Traceback (most recent call last):
    ...
    ValueError: scenario 'b': change below -1 (-100 %)
    """
    if isinstance(scenarios, Mapping):
        scenarios = [scenarios]
    out: dict[str, list[dict]] = {}
    for i, sc in enumerate(scenarios):
        if not isinstance(sc, Mapping):
            raise TypeError(f"scenario entry {i}: expected a dict, got {type(sc).__name__}")
        unknown = set(sc) - SCENARIO_KEYS
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
            and sc.get("seats_change") is None
            and sc.get("new_seats") is None
        ):
            raise ValueError(
                f"scenario {name!r}: nothing to change (change, absolute, retirement_shift, "
                "seats_change or new_seats)"
            )
        for key in ("change", "absolute", "retirement_shift", "seats_change", "new_seats"):
            value = sc.get(key)
            if value is None:
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"scenario {name!r}: {key} must be a number, got {value!r}"
                ) from None
            if not math.isfinite(number):  # TOML allows nan and inf
                raise ValueError(f"scenario {name!r}: {key} must be a finite number, got {value!r}")
        for key in ("change", "seats_change"):
            if sc.get(key) is not None and float(sc[key]) < -1:
                raise ValueError(f"scenario {name!r}: {key} below -1 (-100 %)")
        if sc.get("new_seats") is not None:
            if float(sc["new_seats"]) < 0:
                raise ValueError(f"scenario {name!r}: new_seats must be >= 0")
            if not isinstance(sc.get("site"), str) or not sc["site"]:
                raise ValueError(f"scenario {name!r}: new_seats needs the 'site' (a territory)")
            occ = sc.get("occupations")
            if occ is None or occ == "*" or (not isinstance(occ, str) and not list(occ)):
                raise ValueError(
                    f"scenario {name!r}: new_seats needs the 'occupations' the trainees go to"
                )
            if sc.get("shares") is not None:
                n_occ = 1 if isinstance(occ, str) else len(list(occ))
                shares = [float(x) for x in sc["shares"]]
                if len(shares) != n_occ or min(shares) < 0 or abs(sum(shares) - 1) > 1e-6:
                    raise ValueError(
                        f"scenario {name!r}: 'shares' needs one share >= 0 per occupation, "
                        f"summing to 1 (got {shares} for {n_occ} occupation(s))"
                    )
        for key in ("completion_rate", "placement_rate"):
            if sc.get(key) is not None and not 0 <= float(sc[key]) <= 1:
                raise ValueError(f"scenario {name!r}: {key} must be in [0, 1]")
        out.setdefault(name, []).append(dict(sc))
    return out


#: (scenario key, table column) pairs that select the rows a scenario entry shocks
_DEMAND_SELECT = (("territories", "territory"), ("occupations", "occupation"))
_SUPPLY_SELECT = (("offers", "offer"), ("sites", "site"), ("occupations", "occupation"))
#: entrant columns scaled by ``seats_change`` (the interval of gpec.supply.entrants_interval too)
_ENTRANT_VALUES = frozenset({"entrants", "entrants_low", "entrants_high"})


def _target_mask(
    df: pd.DataFrame, sc: Mapping, name: str, select=_DEMAND_SELECT, table: str = "the table"
) -> np.ndarray:
    """Rows of ``df`` selected by a scenario entry (codes or "*" per key, then ``from_year``);
    codes absent from ``df`` are an error."""
    mask = np.ones(len(df), dtype=bool)
    for key, col in select:
        sel = sc.get(key, "*")
        if sel is None or sel == "*":
            continue
        codes = [str(c) for c in ([sel] if isinstance(sel, str) else list(sel))]
        values = df[col].astype("str")
        missing = sorted(set(codes) - set(values.dropna()))
        if missing:
            raise ValueError(f"scenario {name!r}: {key} {missing} not found in {table}")
        mask &= values.isin(codes).fillna(False).to_numpy(dtype=bool)
    if sc.get("from_year") is not None:
        mask &= df["period"].to_numpy() >= int(sc["from_year"])
    return mask


def _stacked(groups: dict, shock) -> pd.DataFrame:
    """``shock(name, entries)`` for every scenario, stacked with a ``scenario`` column first."""
    out = []
    for name, entries in groups.items():
        table = shock(name, entries)
        table.insert(0, "scenario", name)
        out.append(table)
    return pd.concat(out, ignore_index=True)


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
    require_columns(df, "forecast_or_employment", ["territory", "occupation", "period", *cols])
    if "scenario" in df.columns:
        raise ValueError("forecast_or_employment already has a 'scenario' column")
    groups = normalize_scenarios(scenarios)
    base = df.copy()
    base["period"] = int_periods(base["period"], "forecast_or_employment")

    def shock(name: str, entries: list) -> pd.DataFrame:
        s = base.copy()
        for c in cols:
            s[c] = pd.to_numeric(s[c], errors="coerce").astype(float)
        for sc in entries:
            if not has_keys(sc, DEMAND_KEYS):
                continue  # a training-supply entry (see apply_supply_scenarios)
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
        return s

    return _stacked(groups, shock)


def apply_supply_scenarios(
    entrants: pd.DataFrame,
    scenarios,
    periods,
    *,
    completion_default: float = DEFAULTS["supply"]["completion_default"],
    placement_default: float = DEFAULTS["supply"]["placement_default"],
) -> pd.DataFrame:
    """Apply training-supply shocks to an entrants table, period by period.

    Supply entries of a scenario (the same ``[[scenarios]]`` tables as :func:`apply_scenarios`;
    their demand keys are ignored here)::

        {"name": "more_welders", "sites": ["200065597"], "occupations": ["H2913"],
         "from_year": 2027, "seats_change": 0.5}   # +50 % seats of these offers
        {"name": "close_site", "sites": ["61001"], "seats_change": -1.0}
        {"name": "new_cap", "site": "200065597", "occupations": ["H2913"], "from_year": 2026,
         "new_seats": 24}                          # a new offer: 24 seats a year

    ``offers`` / ``sites`` / ``occupations`` select rows of the entrants (lists of codes or
    ``"*"``); ``seats_change`` scales their entrants by ``1 + seats_change`` (the rates are
    unchanged, so entrants move with seats). ``new_seats`` adds an offer at ``site`` (a territory
    code) whose trainees go to ``occupations`` (in equal shares, or in the ``shares`` given: where
    the trainees end up, summing to 1), with ``new_seats x
    completion_rate x placement_rate`` entrants a year (the entry's rates, else the defaults).
    ``from_year``: first period affected (default all). An interval of the entrants
    (``entrants_low``, ``entrants_high`` from :func:`gpec.supply.entrants_interval`) is scaled
    with them; the rows of a new offer carry their rates and ``defaulted`` flags like the offers'
    own rows, and no interval until ``entrants_interval`` is applied to the result.

    Parameters
    ----------
    entrants : DataFrame
        ``offer``, ``site``, ``occupation``, ``entrants`` (as from :func:`gpec.supply.entrants`),
        the same every period.
    scenarios : dict or list of dict
        Scenario entries (see :func:`apply_scenarios`).
    periods : iterable of int
        Periods of the openings the entrants will be allocated to.
    completion_default, placement_default : float
        Rates of new offers whose entry gives none.

    Returns
    -------
    DataFrame
        The entrants of every scenario, one row per offer x occupation x period, with
        ``scenario`` first and ``period``; new offers are named ``scenario:<name>:<n>`` with
        reason ``"scenario"``.

    Examples
    --------
    >>> ent = pd.DataFrame({"offer": ["o1"], "site": ["A"], "occupation": ["X"],
    ...                     "entrants": [10.0]})
    >>> out = apply_supply_scenarios(ent, [
    ...     {"name": "more", "sites": ["A"], "from_year": 2027, "seats_change": 0.5},
    ...     {"name": "new", "site": "B", "occupations": ["X"], "new_seats": 20}], [2026, 2027])
    >>> print(out[["scenario", "offer", "period", "entrants"]].to_string(index=False))
    scenario          offer  period  entrants
        more             o1    2026      10.0
        more             o1    2027      15.0
         new             o1    2026      10.0
         new             o1    2027      10.0
         new scenario:new:1    2026      11.2
         new scenario:new:1    2027      11.2
    """
    require_columns(entrants, "entrants", ["offer", "site", "occupation", "entrants"])
    if "period" in entrants.columns:
        raise ValueError("entrants already has a 'period' column: give yearly entrants")
    periods = sorted({int(p) for p in periods})
    groups = normalize_scenarios(scenarios)
    base = entrants.reset_index(drop=True)
    base = base.loc[base.index.repeat(len(periods))].reset_index(drop=True)
    base["period"] = np.tile(periods, len(entrants)).astype(np.int64)
    base["entrants"] = pd.to_numeric(base["entrants"], errors="coerce").astype(float)

    def shock(name: str, entries: list) -> pd.DataFrame:
        e = base.copy()
        new_rows = []
        for sc in entries:
            if sc.get("seats_change") is not None:
                mask = _target_mask(e, sc, name, _SUPPLY_SELECT, "the entrants")
                for col in _ENTRANT_VALUES.intersection(e.columns):
                    e.loc[mask, col] = e.loc[mask, col] * (1.0 + float(sc["seats_change"]))
            if sc.get("new_seats") is not None:
                occ = sc["occupations"]
                occ = [str(occ)] if isinstance(occ, str) else [str(o) for o in occ]
                c_rate = float(sc.get("completion_rate", completion_default))
                p_rate = float(sc.get("placement_rate", placement_default))
                rate = c_rate * p_rate
                first = int(sc.get("from_year") or periods[0])
                years = [p for p in periods if p >= first]
                offer = f"scenario:{name}:{len(new_rows) + 1}"
                share = np.asarray(
                    sc["shares"] if sc.get("shares") is not None else [1.0 / len(occ)] * len(occ),
                    dtype=float,
                )
                new_rows.append(
                    pd.DataFrame(
                        {
                            "offer": offer,
                            "site": str(sc["site"]),
                            "occupation": np.repeat(occ, len(years)),
                            "share": np.repeat(share, len(years)),
                            "entrants": float(sc["new_seats"])
                            * rate
                            * np.repeat(share, len(years)),
                            "reason": "scenario",
                            "period": np.tile(years, len(occ)).astype(np.int64),
                        }
                    )
                )
                row = new_rows[-1]
                if "completion_rate" in e.columns:  # described like the offers' own rows
                    row["seats"] = float(sc["new_seats"])
                    row["completion_rate"] = c_rate
                    row["placement_rate"] = p_rate
                    row["defaulted"] = ";".join(
                        n for n in ("completion", "placement") if sc.get(f"{n}_rate") is None
                    )
                for col in ("entrants_low", "entrants_high"):
                    if col in e.columns:  # no interval until gpec.supply.entrants_interval
                        row[col] = row["entrants"]
        if new_rows:
            e = pd.concat([e, *new_rows], ignore_index=True)
        return e

    return _stacked(groups, shock)


def run(
    forecast: pd.DataFrame,
    scenarios,
    *,
    workforce_age: pd.DataFrame | None = None,
    openings_kwargs: Mapping | None = None,
    entrants: pd.DataFrame | None = None,
    catchment: pd.DataFrame | None = None,
    baseline: tuple | None = None,
    completion_default: float = DEFAULTS["supply"]["completion_default"],
    placement_default: float = DEFAULTS["supply"]["placement_default"],
    supply_interval: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    small_threshold: float | None = None,
) -> pd.DataFrame:
    """Openings (and, with a supply side, gaps) of the baseline and of every scenario.

    Entries sharing a name form one scenario: their demand entries shock the forecast (openings
    recomputed with :func:`gpec.demand.openings`), their supply entries shock the entrants
    (:func:`apply_supply_scenarios`); with ``entrants`` and ``catchment``, the allocation
    (:func:`gpec.gap.allocate`) is solved again whenever either side changed.

    Parameters
    ----------
    forecast : DataFrame
        Forecaster output (the baseline), one interval level.
    scenarios : dict or list of dict
        Scenario entries (see :func:`apply_scenarios` and :func:`apply_supply_scenarios`).
    workforce_age : DataFrame, optional
        Age pyramids, passed to :func:`gpec.demand.openings`.
    openings_kwargs : mapping, optional
        Other arguments of :func:`gpec.demand.openings` (employment, exit_rates, level...).
    entrants, catchment : DataFrame, optional
        Entrants mapped to occupations and the sites' catchments: give both to get gaps.
    baseline : tuple (openings, Allocation), optional
        The baseline already computed (saves solving it again).
    completion_default, placement_default : float
        Rates of the new offers of supply scenarios when an entry gives none.
    supply_interval : callable, optional
        Applied to shocked entrants to give their ``entrants_low`` / ``entrants_high``.
    small_threshold : float, optional
        Passed to :func:`gpec.gap.allocate`.

    Returns
    -------
    DataFrame
        Without a supply side: the :func:`gpec.demand.openings` table of every scenario with
        ``scenario`` first ("baseline", then the scenarios in the order given). With one: per
        scenario x territory x occupation x period, ``openings``, ``entrants_allocated``,
        ``gap`` and ``employment``.

    Examples
    --------
    >>> fc = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2025, 2026],
    ...     "mean": [100.0, 100.0]})
    >>> emp = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2024], "value": [100.0]})
    >>> out = run(fc, {"name": "closure", "from_year": 2026, "change": -0.5},
    ...     openings_kwargs={"employment": emp, "level": None})
    >>> out.groupby("scenario", sort=False)["expansion"].sum().to_dict()
    {'baseline': 0.0, 'closure': -50.0}
    """
    from gpec.gap import allocate

    open_kw = dict(openings_kwargs or {})
    if "level" in forecast.columns and open_kw.get("level", 80) is not None:
        forecast = forecast[forecast["level"] == open_kw.get("level", 80)]
    groups = normalize_scenarios(scenarios)
    with_supply = entrants is not None and catchment is not None
    if baseline is None:
        base_op = openings(forecast, workforce_age, **open_kw)
        base_al = (
            allocate(base_op, entrants, catchment, small_threshold=small_threshold)
            if with_supply
            else None
        )
    else:
        base_op, base_al = baseline
    keys = ["territory", "occupation", "period"]
    rows = []
    for name, entries in [("baseline", []), *groups.items()]:
        op, al = base_op, base_al
        if any(has_keys(sc, DEMAND_KEYS) for sc in entries):
            # apply_scenarios writes the scenario's retirement_shift into the table it returns,
            # where openings() reads it: it must not be passed again (it would count twice)
            fc = apply_scenarios(forecast, entries).drop(columns=["scenario"], errors="ignore")
            op = openings(fc, workforce_age, **open_kw)
        if not with_supply:
            rows.append(op.assign(scenario=name))
            continue
        ent = entrants
        if any(has_keys(sc, SUPPLY_KEYS) for sc in entries):
            ent = apply_supply_scenarios(
                entrants,
                entries,
                sorted(op["period"].unique()),
                completion_default=completion_default,
                placement_default=placement_default,
            ).drop(columns=["scenario"])
            if supply_interval is not None:
                ent = supply_interval(ent)  # the new offers' interval too
        if op is not base_op or ent is not entrants:
            al = allocate(op, ent, catchment, small_threshold=small_threshold)
        g = al.gaps.groupby(keys, as_index=False)[["openings", "entrants_allocated", "gap"]].sum()
        g = g.merge(op[[*keys, "employment"]], on=keys, how="left")
        rows.append(g.assign(scenario=name))
    out = pd.concat(rows, ignore_index=True)
    return out[["scenario", *[c for c in out.columns if c != "scenario"]]]


def run_scenarios(
    forecast: pd.DataFrame,
    scenarios,
    workforce_age: pd.DataFrame | None = None,
    **openings_kwargs,
) -> pd.DataFrame:
    """Openings of the baseline and of every demand scenario (deprecated: use :func:`run`).

    ``run_scenarios(forecast, scenarios, workforce_age, **kw)`` is
    ``run(forecast, scenarios, workforce_age=workforce_age, openings_kwargs=kw)``, without a
    supply side.

    Parameters
    ----------
    forecast : DataFrame
        Forecaster output (the baseline).
    scenarios : dict or list of dict
        Scenario entries (see :func:`normalize_scenarios`).
    workforce_age : DataFrame, optional
        Age pyramids, passed to :func:`gpec.demand.openings`.
    **openings_kwargs
        Other arguments of :func:`gpec.demand.openings` (employment, exit_rates, level...).

    Returns
    -------
    DataFrame
        The :func:`gpec.demand.openings` table of every scenario, ``scenario`` first
        ("baseline", then the scenarios in the order given).

    Raises
    ------
    ValueError
        As :func:`normalize_scenarios` for bad scenario entries.

    Warns
    -----
    DeprecationWarning
        Always.

    Examples
    --------
    Employment of 1 job, raised by 50 % in scenario ``s``: the expansion demand is 0 in the
    baseline and 0.5 in ``s``.

    >>> import warnings
    >>> fc = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2025], "mean": [1.0]})
    >>> emp = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2024], "value": [1.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     out = run_scenarios(fc, {"name": "s", "change": 0.5}, employment=emp, level=None)
    >>> out[["scenario", "expansion"]].values.tolist()
    [['baseline', 0.0], ['s', 0.5]]
    """
    warnings.warn(
        "gpec.scenarios.run_scenarios is deprecated; use gpec.scenarios.run(forecast, scenarios, "
        "workforce_age=..., openings_kwargs={...})",
        DeprecationWarning,
        stacklevel=outside_stacklevel(),
    )
    return run(forecast, scenarios, workforce_age=workforce_age, openings_kwargs=openings_kwargs)
