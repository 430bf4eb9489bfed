"""Run configuration: a TOML file naming the input tables and the options of each stage.

Every key has a default (:data:`DEFAULTS`); unknown keys are errors with a "did you mean"
suggestion, so that a typo never silently falls back to a default. See ``docs/configuration.md``.
"""

from __future__ import annotations

import copy
import difflib
import os
import tomllib
from pathlib import Path
from typing import Any

from gpec._schema import TABLES

__all__ = ["DEFAULTS", "ConfigError", "load_config", "resolve_config", "dump_config"]


class ConfigError(ValueError):
    """Raised for an invalid configuration (unknown key, wrong type, missing file)."""


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
    },
    "demand": {
        "net": True,
        "interval_level": 80,
        "turnover_rate": 0.0,
        "retirement_shift": 0,
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

#: Accepted values of ``[forecast] reconcile`` ("none" or a method of gpec.forecast.reconcile).
RECONCILE_METHODS = (
    "none",
    "bottom_up",
    "top_down",
    "mint_ols",
    "wls_struct",
    "wls_var",
    "mint_shrink",
)

_DATA_KEYS = {"path", "format", "sheet", "tables", "options"}
DATA_FORMATS = (
    "table",
    "rome",
    "esco",
    "onet",
    "bmo",
    "lheo",
    "crosswalk",
    "dares",
    "insee_geography",
)


def _suggest(key: str, choices) -> str:
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def resolve_config(raw: dict[str, Any], *, where: str = "config") -> dict[str, Any]:
    """Check a raw configuration against :data:`DEFAULTS` and fill in the defaults.

    Parameters
    ----------
    raw : dict
        Parsed TOML.
    where : str
        Name of the file, for error messages.

    Returns
    -------
    dict
        A complete configuration.

    Raises
    ------
    ConfigError
        On an unknown section or key (with a suggestion) or a value of the wrong type.

    Examples
    --------
    >>> cfg = resolve_config({"forecast": {"horizon": 8}})
    >>> cfg["forecast"]["horizon"], cfg["forecast"]["models"]
    (8, 'auto')
    >>> resolve_config({"forecast": {"horizn": 8}})
    Traceback (most recent call last):
    ...
    gpec.config.ConfigError: config: unknown key 'horizn' in [forecast] (did you mean 'horizon'?)
    """
    cfg = copy.deepcopy(DEFAULTS)
    for section, values in raw.items():
        if section not in DEFAULTS:
            raise ConfigError(f"{where}: unknown section [{section}]{_suggest(section, DEFAULTS)}")
        if section == "scenarios":
            if not isinstance(values, list):
                raise ConfigError(f"{where}: 'scenarios' must be an array of tables [[scenarios]]")
            from gpec._scenarios import SCENARIO_KEYS, _normalise_scenarios

            for i, sc in enumerate(values):
                for key in sc:
                    if key not in SCENARIO_KEYS:
                        raise ConfigError(
                            f"{where}: unknown key {key!r} in scenario {i + 1}"
                            f"{_suggest(key, SCENARIO_KEYS)}"
                        )
                if "name" not in sc:
                    raise ConfigError(f"{where}: scenario {i + 1} has no 'name'")
            try:
                _normalise_scenarios(values)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{where}: [[scenarios]] {exc}") from None
            cfg["scenarios"] = list(values)
            continue
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: [{section}] must be a table")
        if section == "data":
            for name, spec in values.items():
                if name not in TABLES and not (isinstance(spec, dict) and "format" in spec):
                    raise ConfigError(
                        f"{where}: unknown table {name!r} in [data]{_suggest(name, TABLES)}"
                    )
                if isinstance(spec, dict):
                    for key in spec:
                        if key not in _DATA_KEYS:
                            raise ConfigError(
                                f"{where}: unknown key {key!r} in [data.{name}]"
                                f"{_suggest(key, _DATA_KEYS)}"
                            )
                    fmt = spec.get("format", "table")
                    if fmt not in DATA_FORMATS:
                        raise ConfigError(
                            f"{where}: unknown format {fmt!r} in [data.{name}]"
                            f"{_suggest(fmt, DATA_FORMATS)}"
                        )
                    if "path" not in spec:
                        raise ConfigError(f"{where}: [data.{name}] needs a 'path'")
                    tables = spec.get("tables", [])
                    if not isinstance(tables, list) or any(t not in TABLES for t in tables):
                        bad = (
                            [t for t in tables if t not in TABLES]
                            if isinstance(tables, list)
                            else tables
                        )
                        raise ConfigError(
                            f"{where}: [data.{name}] tables must list canonical "
                            f"table names, got {bad!r}"
                        )
                    if not isinstance(spec.get("options", {}), dict):
                        raise ConfigError(f"{where}: [data.{name}] options must be a table")
                elif not isinstance(spec, str):
                    raise ConfigError(f"{where}: [data] {name} must be a file path")
            cfg["data"] = dict(values)
            continue
        defaults = DEFAULTS[section]
        for key, value in values.items():
            if key not in defaults:
                raise ConfigError(
                    f"{where}: unknown key {key!r} in [{section}]{_suggest(key, defaults)}"
                )
            default = defaults[key]
            ok = (
                isinstance(value, type(default))
                or (
                    isinstance(default, float)
                    and isinstance(value, int)
                    and not isinstance(value, bool)
                )
                or (isinstance(default, list) and isinstance(value, int))
            )
            if isinstance(default, bool) != isinstance(value, bool):
                ok = False
            if not ok:
                raise ConfigError(
                    f"{where}: [{section}] {key} must be of type "
                    f"{type(default).__name__}, got {value!r}"
                )
            cfg[section][key] = value
    level = cfg["forecast"]["level"]
    cfg["forecast"]["level"] = [level] if isinstance(level, int) else list(level)
    for name in ("completion", "placement"):
        rng, default = cfg["supply"][f"{name}_range"], cfg["supply"][f"{name}_default"]
        if rng and not (
            len(rng) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng)
            and 0 <= rng[0] <= default <= rng[1] <= 1
        ):
            raise ConfigError(
                f"{where}: [supply] {name}_range must be [low, high] with 0 <= low <= "
                f"{name}_default ({default:g}) <= high <= 1, got {rng!r}"
            )
    rec = cfg["forecast"]["reconcile"]
    if rec not in RECONCILE_METHODS:
        raise ConfigError(
            f"{where}: [forecast] reconcile must be one of "
            f"{', '.join(RECONCILE_METHODS)}; got {rec!r}"
            f"{_suggest(rec, RECONCILE_METHODS)}"
        )
    return cfg


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a TOML configuration; data paths become absolute (relative to the file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "gpec.toml"
    >>> _ = p.write_text('[data]\\nemployment = "employment.csv"\\n')
    >>> cfg = load_config(p)
    >>> pathlib.Path(cfg["data"]["employment"]["path"]).name
    'employment.csv'
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a valid TOML file ({exc})") from exc
    cfg = resolve_config(raw, where=str(path))
    data = {}
    for name, spec in cfg["data"].items():
        spec = {"path": spec} if isinstance(spec, str) else dict(spec)
        spec.setdefault("format", "table")
        p = Path(spec["path"])
        spec["path"] = str(p if p.is_absolute() else (path.parent / p).resolve())
        data[name] = spec
    cfg["data"] = data
    cfg["_path"] = str(path.resolve())
    return cfg


def dump_config(cfg: dict[str, Any], *, relative_to: str | os.PathLike | None = None) -> str:
    """Write a configuration as TOML text (paths made relative to ``relative_to``)."""
    import tomli_w

    out: dict[str, Any] = {}
    for section in DEFAULTS:
        if section == "data":
            data = {}
            for name, spec in cfg.get("data", {}).items():
                spec = {"path": spec} if isinstance(spec, str) else dict(spec)
                if relative_to is not None:
                    spec["path"] = os.path.relpath(spec["path"], relative_to).replace(os.sep, "/")
                data[name] = spec["path"] if spec.get("format", "table") == "table" else spec
            out["data"] = data
        elif section == "scenarios":
            if cfg.get("scenarios"):
                out["scenarios"] = cfg["scenarios"]
        else:
            out[section] = {k: v for k, v in cfg.get(section, DEFAULTS[section]).items()}
    return tomli_w.dumps(out)
