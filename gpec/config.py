"""Run configuration: a TOML file naming the input tables and the options of each stage.

Every key has a default (:data:`DEFAULTS`); unknown keys are errors with a "did you mean"
suggestion, so that a typo never silently falls back to a default. See ``docs/configuration.md``.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gpec._defaults import DEFAULTS
from gpec._plausibility import PlausibilityRules
from gpec._schema import TABLES
from gpec.exceptions import ConfigError

__all__ = [
    "DEFAULTS",
    "CatchmentConfig",
    "Config",
    "ConfigError",
    "DemandConfig",
    "ForecastConfig",
    "GapConfig",
    "OutputConfig",
    "ReportConfig",
    "RunConfig",
    "SupplyConfig",
    "TableSpec",
    "ValidateConfig",
    "check_against_data",
    "dump_config",
    "load_config",
    "resolve_config",
]


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

#: Accepted values of ``[run] lang`` (labels of the reports).
LANGUAGES = ("en", "fr")

#: Accepted values of ``[catchment] method`` (see gpec.territory.catchment).
CATCHMENT_METHODS = ("distance", "parent")

#: Accepted values of ``[supply] match_method`` (see gpec.supply.matching.OfferMatcher).
MATCH_METHODS = ("cosine", "fusion", "learned")

#: Accepted values of ``[forecast] heldout_check``.
HELDOUT_CHECK = ("auto", "on", "off")

#: Accepted values of ``[output] backtest`` (and of ``--backtest``).
BACKTEST_FORMS = ("auto", "csv", "parquet", "none")

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
    "insee_cog",
    "urssaf",
    "training_capacity",
    "affelnet",
    "parcoursup",
    "certifinfo",
    "inserjeunes",
)


def _suggest(key: str, choices) -> str:
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _resolve_dict(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The checked configuration as nested dicts, defaults filled in."""
    cfg = copy.deepcopy(DEFAULTS)
    for section, values in raw.items():
        if section not in DEFAULTS:
            raise ConfigError(f"{where}: unknown section [{section}]{_suggest(section, DEFAULTS)}")
        if section == "scenarios":
            _check_scenario_entries(values, where)
            cfg["scenarios"] = list(values)
            continue
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: [{section}] must be a table")
        if section == "data":
            for name, spec in values.items():
                _check_data_entry(name, spec, where)
            cfg["data"] = dict(values)
            continue
        for key, value in values.items():
            _check_type(section, key, value, where)
            cfg[section][key] = value
    level = cfg["forecast"]["level"]
    cfg["forecast"]["level"] = [level] if isinstance(level, int) else list(level)
    _check_rate_ranges(cfg["supply"], where)
    _check_values(cfg, where)
    return cfg


def _check_scenario_entries(values: Any, where: str) -> None:
    """``[[scenarios]]``: an array of tables, each with a name and known keys."""
    if not isinstance(values, list):
        raise ConfigError(f"{where}: 'scenarios' must be an array of tables [[scenarios]]")
    from gpec.scenarios import SCENARIO_KEYS, normalize_scenarios

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
        normalize_scenarios(values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: [[scenarios]] {exc}") from None


def _check_data_entry(name: str, spec: Any, where: str) -> None:
    """One entry of ``[data]``: a file path, or a table with a path, a known format, canonical
    table names and an options table."""
    if name not in TABLES and not (isinstance(spec, dict) and "format" in spec):
        raise ConfigError(f"{where}: unknown table {name!r} in [data]{_suggest(name, TABLES)}")
    if not isinstance(spec, dict):
        if not isinstance(spec, str):
            raise ConfigError(f"{where}: [data] {name} must be a file path")
        return
    for key in spec:
        if key not in _DATA_KEYS:
            raise ConfigError(
                f"{where}: unknown key {key!r} in [data.{name}]{_suggest(key, _DATA_KEYS)}"
            )
    fmt = spec.get("format", "table")
    if fmt not in DATA_FORMATS:
        raise ConfigError(
            f"{where}: unknown format {fmt!r} in [data.{name}]{_suggest(fmt, DATA_FORMATS)}"
        )
    if "path" not in spec:
        raise ConfigError(f"{where}: [data.{name}] needs a 'path'")
    tables = spec.get("tables", [])
    if not isinstance(tables, list) or any(t not in TABLES for t in tables):
        bad = [t for t in tables if t not in TABLES] if isinstance(tables, list) else tables
        raise ConfigError(
            f"{where}: [data.{name}] tables must list canonical table names, got {bad!r}"
        )
    if not isinstance(spec.get("options", {}), dict):
        raise ConfigError(f"{where}: [data.{name}] options must be a table")


def _check_type(section: str, key: str, value: Any, where: str) -> None:
    """A key of a section is known and of its default's type (an int for a float or a list)."""
    defaults = DEFAULTS[section]
    if key not in defaults:
        raise ConfigError(f"{where}: unknown key {key!r} in [{section}]{_suggest(key, defaults)}")
    default = defaults[key]
    ok = (
        isinstance(value, type(default))
        or (isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(default, list) and isinstance(value, int))
    )
    if isinstance(default, bool) != isinstance(value, bool):
        ok = False
    if not ok:
        raise ConfigError(
            f"{where}: [{section}] {key} must be of type {type(default).__name__}, got {value!r}"
        )


def _check_rate_ranges(supply: Mapping[str, Any], where: str) -> None:
    """``[supply] completion_range`` / ``placement_range``: empty, or [low, high] around the
    default rate, within [0, 1]."""
    for name in ("completion", "placement"):
        rng, default = supply[f"{name}_range"], supply[f"{name}_default"]
        if rng and not (
            len(rng) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng)
            and 0 <= rng[0] <= default <= rng[1] <= 1
        ):
            raise ConfigError(
                f"{where}: [supply] {name}_range must be [low, high] with 0 <= low <= "
                f"{name}_default ({default:g}) <= high <= 1, got {rng!r}"
            )


def _one_of(where: str, section: str, key: str, value: Any, allowed) -> None:
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise ConfigError(
            f"{where}: [{section}] {key} must be one of {shown}; got {value!r}"
            f"{_suggest(str(value), [str(a) for a in allowed])}"
        )


def _in_range(where: str, section: str, key: str, value: Any, low, high, text: str) -> None:
    if not (low is None or value >= low) or not (high is None or value <= high):
        raise ConfigError(f"{where}: [{section}] {key} must be {text}, got {value!r}")


def _model_names() -> tuple[str, ...]:
    from gpec.forecast._fast import FAST_MODELS
    from gpec.forecast._forecaster import GLOBAL_MODELS, SLOW_MODELS

    return ("auto", *FAST_MODELS, *SLOW_MODELS, *GLOBAL_MODELS)


def _check_values(cfg: dict[str, Any], where: str) -> None:
    """Check the values of a filled configuration: enumerations, ranges, coherent keys."""
    _one_of(where, "run", "lang", cfg["run"]["lang"], LANGUAGES)
    _one_of(where, "forecast", "reconcile", cfg["forecast"]["reconcile"], RECONCILE_METHODS)
    _one_of(where, "forecast", "models", cfg["forecast"]["models"], _model_names())
    _one_of(where, "catchment", "method", cfg["catchment"]["method"], CATCHMENT_METHODS)
    _one_of(where, "supply", "match_method", cfg["supply"]["match_method"], MATCH_METHODS)
    _one_of(where, "output", "csv_dialect", cfg["output"]["csv_dialect"], ("", "en", "fr"))
    _one_of(where, "output", "backtest", cfg["output"]["backtest"], BACKTEST_FORMS)
    _one_of(where, "forecast", "heldout_check", cfg["forecast"]["heldout_check"], HELDOUT_CHECK)
    for key, value in cfg["validate"].items():
        if not isinstance(value, bool):
            _in_range(where, "validate", key, value, 0, None, ">= 0 (0 switches the rule off)")
    fc, dm = cfg["forecast"], cfg["demand"]
    _in_range(where, "forecast", "horizon", fc["horizon"], 1, None, "a positive number of years")
    _in_range(
        where, "forecast", "n_windows", fc["n_windows"], 1, None, "a positive number of origins"
    )
    _in_range(where, "forecast", "recent_windows", fc["recent_windows"], 0, None, ">= 0 (0: none)")
    levels = fc["level"]
    if not levels or any(
        isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 100 for v in levels
    ):
        raise ConfigError(
            f"{where}: [forecast] level must be interval levels in % between 0 and 100 "
            f"(e.g. [80, 95]), got {levels!r}"
        )
    if not any(float(dm["interval_level"]) == float(v) for v in levels):
        shown = ", ".join(f"{v:g}" for v in levels)
        raise ConfigError(
            f"{where}: [demand] interval_level = {dm['interval_level']!r} is not one of the "
            f"forecast interval levels ([forecast] level = [{shown}]); choose one of {shown} "
            "or add it to [forecast] level"
        )
    _in_range(where, "demand", "turnover_rate", dm["turnover_rate"], 0, 1, "between 0 and 1")
    pp = dm["pyramid_period"]
    if isinstance(pp, bool) or not isinstance(pp, int) or not (pp == 0 or 1900 <= pp <= 2100):
        raise ConfigError(
            f"{where}: [demand] pyramid_period must be the year the workforce_age pyramids "
            f"describe (e.g. 2018), or 0 for the base year, got {pp!r}"
        )
    for band, rate in dm["exit_rates"].items():
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ConfigError(
                f"{where}: [demand] exit_rates {band!r} must be a probability between 0 and 1, "
                f"got {rate!r}"
            )
    sp = cfg["supply"]
    for key in ("completion_default", "placement_default", "min_score"):
        _in_range(where, "supply", key, sp[key], 0, 1, "between 0 and 1")
    _in_range(where, "supply", "top_k", sp["top_k"], 1, None, "a positive integer")
    _in_range(where, "supply", "seats_default", sp["seats_default"], 0, None, ">= 0")
    ct = cfg["catchment"]
    _in_range(where, "catchment", "max_km", ct["max_km"], 1e-12, None, "a positive distance")
    _in_range(where, "catchment", "decay_km", ct["decay_km"], 1e-12, None, "a positive distance")
    gp = cfg["gap"]
    _in_range(where, "gap", "small_threshold", gp["small_threshold"], 0, None, ">= 0")
    _in_range(where, "gap", "transitions_top_n", gp["transitions_top_n"], 0, None, ">= 0")
    _in_range(
        where, "gap", "transitions_min_overlap", gp["transitions_min_overlap"], 0, 1,
        "between 0 and 1",
    )  # fmt: skip
    _in_range(
        where, "gap", "transitions_min_jobs_lost", gp["transitions_min_jobs_lost"], 0, None, ">= 0"
    )
    _in_range(where, "report", "top_n", cfg["report"]["top_n"], 1, None, "a positive integer")


# ----------------------------------------------------------------------------- typed sections
class _Section:
    """Read access by key as well as by attribute (``cfg.forecast["horizon"]``), for code
    written when the configuration was a dict."""

    def __getitem__(self, key: str) -> Any:
        if key in self.__dataclass_fields__:
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self.__dataclass_fields__ else default

    def keys(self):
        return self.__dataclass_fields__.keys()

    def to_dict(self) -> dict[str, Any]:
        """The section as plain TOML-ready values (lists, dicts)."""
        return {name: _plain(getattr(self, name)) for name in self.__dataclass_fields__}


def _plain(value: Any) -> Any:
    """TOML-ready: sections and mappings as dicts, tuples as lists."""
    if isinstance(value, _Section):
        return value.to_dict()
    return _convert(value, dict, list)


def _frozen(value: Any) -> Any:
    """Read-only: mappings as mapping proxies, lists as tuples."""
    return _convert(value, lambda d: MappingProxyType(dict(d)), tuple)


def _convert(value: Any, mapping, sequence) -> Any:
    if isinstance(value, Mapping):
        return mapping({k: _convert(v, mapping, sequence) for k, v in value.items()})
    if isinstance(value, tuple | list):
        return sequence(_convert(v, mapping, sequence) for v in value)
    return value


_D = DEFAULTS


@dataclasses.dataclass(frozen=True)
class RunConfig(_Section):
    """``[run]``: the study's name, seed, territory level of the gaps, language, occupations.

    Examples
    --------
    >>> cfg = resolve_config({"run": {"level": "departement"}})
    >>> cfg.run.level, cfg.run["seed"]
    ('departement', 0)
    """

    name: str = _D["run"]["name"]
    seed: int = _D["run"]["seed"]
    level: str = _D["run"]["level"]
    lang: str = _D["run"]["lang"]
    occupation_system: str = _D["run"]["occupation_system"]
    occupation_level: str = _D["run"]["occupation_level"]
    exclude_occupations: tuple[str, ...] = tuple(_D["run"]["exclude_occupations"])


@dataclasses.dataclass(frozen=True)
class TableSpec(_Section):
    """One entry of ``[data]``: a file, its format (``table`` or an official format), the
    sheet of a workbook, the canonical tables to keep, and the reader's options.

    Examples
    --------
    >>> spec = resolve_config({"data": {"employment": "emp.csv"}}).data["employment"]
    >>> spec.path, spec.format
    ('emp.csv', 'table')
    """

    path: str
    format: str = "table"
    sheet: str | int | None = None
    tables: tuple[str, ...] = ()
    options: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))


@dataclasses.dataclass(frozen=True)
class ForecastConfig(_Section):
    """``[forecast]``: models, horizon, interval probabilities (``level``, in %), parallelism,
    reconciliation across territory levels, backtest windows.

    Examples
    --------
    >>> ForecastConfig(horizon=8).horizon, ForecastConfig().models
    (8, 'auto')
    """

    models: str = _D["forecast"]["models"]
    horizon: int = _D["forecast"]["horizon"]
    level: tuple[float, ...] = tuple(_D["forecast"]["level"])
    n_jobs: int = _D["forecast"]["n_jobs"]
    backend: str = _D["forecast"]["backend"]
    reconcile: str = _D["forecast"]["reconcile"]
    n_windows: int = _D["forecast"]["n_windows"]
    recent_windows: int = _D["forecast"]["recent_windows"]
    heldout_check: str = _D["forecast"]["heldout_check"]


@dataclasses.dataclass(frozen=True)
class DemandConfig(_Section):
    """``[demand]``: net or non-negative expansion, the interval carried to the openings,
    turnover, retirement shift, the year the age pyramids describe and exit-rate overrides.

    Examples
    --------
    >>> resolve_config({"demand": {"pyramid_period": 2018}}).demand.pyramid_period
    2018
    """

    net: bool = _D["demand"]["net"]
    interval_level: float = _D["demand"]["interval_level"]
    turnover_rate: float = _D["demand"]["turnover_rate"]
    retirement_shift: float = _D["demand"]["retirement_shift"]
    pyramid_period: int = _D["demand"]["pyramid_period"]
    exit_rates: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: MappingProxyType(dict(_D["demand"]["exit_rates"]))
    )


@dataclasses.dataclass(frozen=True)
class SupplyConfig(_Section):
    """``[supply]``: default rates and their ranges, text matching, seats, site level.

    Examples
    --------
    >>> SupplyConfig().completion_default
    0.8
    """

    completion_default: float = _D["supply"]["completion_default"]
    placement_default: float = _D["supply"]["placement_default"]
    text_matching: bool = _D["supply"]["text_matching"]
    match_titles: bool = _D["supply"]["match_titles"]
    min_score: float = _D["supply"]["min_score"]
    top_k: int = _D["supply"]["top_k"]
    seats_default: float = _D["supply"]["seats_default"]
    completion_range: tuple[float, ...] = tuple(_D["supply"]["completion_range"])
    placement_range: tuple[float, ...] = tuple(_D["supply"]["placement_range"])
    site_level: str = _D["supply"]["site_level"]
    match_method: str = _D["supply"]["match_method"]
    encoder: str = _D["supply"]["encoder"]
    mapping_overrides: str = _D["supply"]["mapping_overrides"]


@dataclasses.dataclass(frozen=True)
class CatchmentConfig(_Section):
    """``[catchment]``: how far a training site recruits (distance with decay, or same parent).

    Examples
    --------
    >>> CatchmentConfig().method
    'distance'
    """

    method: str = _D["catchment"]["method"]
    max_km: float = _D["catchment"]["max_km"]
    decay_km: float = _D["catchment"]["decay_km"]
    level: str = _D["catchment"]["level"]


@dataclasses.dataclass(frozen=True)
class GapConfig(_Section):
    """``[gap]``: the small-cell flag and the reconversion paths.

    Examples
    --------
    >>> GapConfig().small_threshold
    30.0
    """

    small_threshold: float = _D["gap"]["small_threshold"]
    transitions_top_n: int = _D["gap"]["transitions_top_n"]
    transitions_min_overlap: float = _D["gap"]["transitions_min_overlap"]
    transitions_min_jobs_lost: float = _D["gap"]["transitions_min_jobs_lost"]


@dataclasses.dataclass(frozen=True)
class ValidateConfig(_Section):
    """``[validate]``: the plausibility checks of the inputs (years, stale series, implausible
    values, jumping totals, pyramids and seats against employment); a threshold of 0 switches
    its rule off, ``plausibility = false`` all of them.

    Examples
    --------
    >>> ValidateConfig().stale, ValidateConfig(total_jump=0).total_jump
    (True, 0)
    """

    plausibility: bool = _D["validate"]["plausibility"]
    period_min: int = _D["validate"]["period_min"]
    period_max: int = _D["validate"]["period_max"]
    max_period_gap: int = _D["validate"]["max_period_gap"]
    stale: bool = _D["validate"]["stale"]
    holes: bool = _D["validate"]["holes"]
    outlier_ratio: float = _D["validate"]["outlier_ratio"]
    outlier_mad: float = _D["validate"]["outlier_mad"]
    outlier_min_jobs: float = _D["validate"]["outlier_min_jobs"]
    outlier_error_ratio: float = _D["validate"]["outlier_error_ratio"]
    min_points: int = _D["validate"]["min_points"]
    total_jump: float = _D["validate"]["total_jump"]
    total_mad: float = _D["validate"]["total_mad"]
    pyramid_ratio: float = _D["validate"]["pyramid_ratio"]
    seats_ratio: float = _D["validate"]["seats_ratio"]

    def rules(self) -> PlausibilityRules:
        """The :class:`gpec._plausibility.PlausibilityRules` of these settings.

        Examples
        --------
        >>> ValidateConfig(outlier_ratio=0).rules().outlier_ratio is None
        True
        """
        optional = {
            "period_min", "period_max", "max_period_gap", "outlier_ratio",
            "outlier_error_ratio", "total_jump", "pyramid_ratio", "seats_ratio",
        }  # fmt: skip
        values = {
            k: (None if k in optional and v == 0 else v)
            for k, v in self.to_dict().items()
            if k != "plausibility"
        }
        return PlausibilityRules(enabled=self.plausibility, **values)


@dataclasses.dataclass(frozen=True)
class OutputConfig(_Section):
    """``[output]``: the CSV dialect ("" follows ``[run] lang``) and how the detailed backtest
    rows are written.

    Examples
    --------
    >>> resolve_config({"output": {"csv_dialect": "fr"}}).output.csv_dialect
    'fr'
    """

    csv_dialect: str = _D["output"]["csv_dialect"]
    backtest: str = _D["output"]["backtest"]


@dataclasses.dataclass(frozen=True)
class ReportConfig(_Section):
    """``[report]``: the series shown in the fan chart and the length of the top lists.

    Examples
    --------
    >>> ReportConfig().top_n
    15
    """

    territory: str = _D["report"]["territory"]
    occupation: str = _D["report"]["occupation"]
    top_n: int = _D["report"]["top_n"]


#: The class of each section of a configuration.
SECTIONS: dict[str, type[_Section]] = {
    "run": RunConfig,
    "forecast": ForecastConfig,
    "demand": DemandConfig,
    "supply": SupplyConfig,
    "catchment": CatchmentConfig,
    "gap": GapConfig,
    "validate": ValidateConfig,
    "output": OutputConfig,
    "report": ReportConfig,
}


def _option_paths(options: Mapping[str, Any], base_dir) -> dict[str, Any]:
    """Reader options that name a file or folder relative to the configuration file (such as
    ``certifinfo = "certif_info.csv"``) made absolute, as the ``path`` of the entry is; a value
    that names nothing there is kept as written."""
    out = dict(options)
    if base_dir is None:
        return out
    for key, value in options.items():
        values = value if isinstance(value, list | tuple) else [value]
        if not values or not all(isinstance(v, str) and v for v in values):
            continue
        resolved = [Path(v) if Path(v).is_absolute() else Path(base_dir) / v for v in values]
        if all(r.exists() for r in resolved):
            abs_paths = [str(r.resolve()) for r in resolved]
            out[key] = abs_paths if isinstance(value, list | tuple) else abs_paths[0]
    return out


def _section(cls: type[_Section], values: Mapping[str, Any]) -> _Section:
    names = set(cls.__dataclass_fields__)
    extra = sorted(set(values) - names)
    if extra:  # a key added to DEFAULTS without its field: a programming error, said plainly
        raise TypeError(f"{cls.__name__} has no field for the default key(s) {extra}")
    return cls(**{k: _frozen(v) for k, v in values.items()})


@dataclasses.dataclass(frozen=True)
class Config(_Section):
    """A checked run configuration: one frozen section per ``[table]`` of ``gpec.toml``.

    Build it with :func:`load_config` (a file) or :func:`resolve_config` (a dict); each stage
    receives only its section (``cfg.forecast``, ``cfg.supply``...). Sections also answer
    ``cfg["forecast"]["horizon"]``.

    Attributes
    ----------
    run, forecast, demand, supply, catchment, gap, report
        The sections (:class:`RunConfig`, :class:`ForecastConfig`...).
    data : mapping of str to TableSpec
        Input files by canonical table name (paths absolute when read from a file).
    scenarios : tuple of mapping
        The ``[[scenarios]]`` entries, in order.
    path : str or None
        The configuration file, when read from one.
    where : str
        How messages name the configuration (the file as the user wrote it).

    Examples
    --------
    >>> cfg = resolve_config({"forecast": {"horizon": 8}})
    >>> cfg.forecast.horizon, cfg["forecast"]["models"], cfg.gap.small_threshold
    (8, 'auto', 30.0)
    """

    run: RunConfig = dataclasses.field(default_factory=RunConfig)
    data: Mapping[str, TableSpec] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    forecast: ForecastConfig = dataclasses.field(default_factory=ForecastConfig)
    demand: DemandConfig = dataclasses.field(default_factory=DemandConfig)
    supply: SupplyConfig = dataclasses.field(default_factory=SupplyConfig)
    catchment: CatchmentConfig = dataclasses.field(default_factory=CatchmentConfig)
    gap: GapConfig = dataclasses.field(default_factory=GapConfig)
    validate: ValidateConfig = dataclasses.field(default_factory=ValidateConfig)
    output: OutputConfig = dataclasses.field(default_factory=OutputConfig)
    report: ReportConfig = dataclasses.field(default_factory=ReportConfig)
    scenarios: tuple[Mapping[str, Any], ...] = ()
    path: str | None = None
    where: str = "config"

    @classmethod
    def from_dict(
        cls,
        raw: Mapping[str, Any] | None = None,
        *,
        where: str = "config",
        base_dir: str | os.PathLike | None = None,
        path: str | os.PathLike | None = None,
    ) -> Config:
        """Check ``raw`` (parsed TOML) and build the configuration; relative data paths are
        resolved against ``base_dir`` when given."""
        if isinstance(raw, Config):
            return raw
        checked = _resolve_dict(
            {k: v for k, v in (raw or {}).items() if not str(k).startswith("_")}, where
        )
        data = {}
        for name, spec in checked["data"].items():
            spec = {"path": spec} if isinstance(spec, str | os.PathLike) else dict(spec)
            p = Path(spec["path"])
            if base_dir is not None and not p.is_absolute():
                p = (Path(base_dir) / p).resolve()
            spec["path"] = str(p)
            spec["tables"] = tuple(spec.get("tables", ()))
            spec["options"] = _frozen(_option_paths(spec.get("options", {}), base_dir))
            data[name] = TableSpec(**spec)
        overrides = checked["supply"].get("mapping_overrides")
        if overrides and base_dir is not None and not Path(overrides).is_absolute():
            checked["supply"]["mapping_overrides"] = str((Path(base_dir) / overrides).resolve())
        return cls(
            data=MappingProxyType(data),
            scenarios=tuple(_frozen(sc) for sc in checked["scenarios"]),
            path=None if path is None else str(path),
            where=where,
            **{name: _section(kind, checked[name]) for name, kind in SECTIONS.items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """The configuration as TOML-ready nested dicts (the form :func:`dump_config` writes)."""
        out: dict[str, Any] = {"run": self.run.to_dict(), "data": {}}
        for name, spec in self.data.items():
            d = {k: v for k, v in spec.to_dict().items() if v not in (None, [], {})}
            out["data"][name] = d
        for name in SECTIONS:
            if name != "run":
                out[name] = getattr(self, name).to_dict()
        out["scenarios"] = [_plain(sc) for sc in self.scenarios]
        return out

    def replace(self, **sections: Mapping[str, Any] | _Section) -> Config:
        """A copy with some sections changed and checked again, e.g.
        ``cfg.replace(forecast={"horizon": 3})``."""
        raw = self.to_dict()
        for name, values in sections.items():
            values = values.to_dict() if isinstance(values, _Section) else values
            if name in ("data", "scenarios"):
                raw[name] = values
            else:
                raw[name] = {**raw.get(name, {}), **dict(values)}
        return Config.from_dict(raw, where=self.where, path=self.path)


def resolve_config(raw: Mapping[str, Any] | None = None, *, where: str = "config") -> Config:
    """Check a raw configuration (parsed TOML) against :data:`DEFAULTS`, fill in the defaults.

    Parameters
    ----------
    raw : dict
        Parsed TOML (sections as dicts). A :class:`Config` is returned as it is.
    where : str
        Name of the file, for error messages.

    Returns
    -------
    Config
        A complete, checked configuration.

    Raises
    ------
    ConfigError
        On an unknown section or key (with a suggestion) or a value of the wrong type or range.

    Examples
    --------
    >>> cfg = resolve_config({"forecast": {"horizon": 8}})
    >>> cfg.forecast.horizon, cfg.forecast.models
    (8, 'auto')
    >>> resolve_config({"forecast": {"horizn": 8}})
    Traceback (most recent call last):
    ...
    gpec.exceptions.ConfigError: config: unknown key 'horizn' in [forecast] (did you mean 'horizon'?)
    """
    return Config.from_dict(raw, where=where)


def load_config(path: str | os.PathLike) -> Config:
    """Read and check a TOML configuration; data paths become absolute (relative to the file).

    Parameters
    ----------
    path : path-like
        The ``gpec.toml`` file.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        When the file is missing, is not TOML, or breaks a rule (unknown key, wrong type or
        range), with the file's name in the message.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "gpec.toml"
    >>> _ = p.write_text('[data]\\nemployment = "employment.csv"\\n')
    >>> cfg = load_config(p)
    >>> pathlib.Path(cfg.data["employment"].path).name, cfg.forecast.horizon
    ('employment.csv', 6)
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        hint = ""
        if "Cannot overwrite a value" in str(exc) or "Cannot declare" in str(exc):
            hint = ": a key or a [section] is written twice; keep one of them"
        raise ConfigError(f"{path}: not a valid TOML file ({exc}){hint}") from exc
    return Config.from_dict(raw, where=str(path), base_dir=path.parent, path=path.resolve())


def dump_config(
    cfg: Config | Mapping[str, Any], *, relative_to: str | os.PathLike | None = None
) -> str:
    """Write a configuration as TOML text (paths made relative to ``relative_to``).

    Parameters
    ----------
    cfg : Config or mapping
        A configuration (every section is written, defaults included).
    relative_to : path-like, optional
        Folder the ``[data]`` paths are written relative to (e.g. the output folder, so that
        the copy in ``provenance.toml`` runs from there).

    Returns
    -------
    str

    Examples
    --------
    >>> print(dump_config(resolve_config({"forecast": {"horizon": 3}})).split("[forecast]")[1]
    ...       .splitlines()[2])
    horizon = 3
    """
    import tomli_w

    if isinstance(cfg, Config):
        cfg = cfg.to_dict()

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


# ----------------------------------------------------------------------------- against the data
def _codes(sel) -> list[str]:
    """Codes selected by a scenario key (a code, a list of codes, or "*" for all)."""
    if sel is None or sel == "*":
        return []
    return [str(c) for c in ([sel] if isinstance(sel, str) else list(sel))]


def _listing(values, n: int = 12) -> str:
    values = sorted(str(v) for v in values)
    more = f" ... ({len(values)} in all)" if len(values) > n else ""
    return ", ".join(values[:n]) + more


def _suggest_level(value: str, levels) -> str:
    same_case = [lv for lv in levels if str(lv).lower() == str(value).lower()]
    if same_case:
        return f" (did you mean {same_case[0]!r}?)"
    return _suggest(str(value), [str(lv) for lv in levels])


def check_against_data(cfg: Config | Mapping[str, Any], data) -> list[str]:
    """Check a configuration against the loaded input tables, before any computation.

    Run by ``gpec validate`` and at the start of ``gpec run`` / ``gpec forecast``, so that a
    code or level the data do not have stops the run at once, with a message naming the
    configuration key, instead of failing after the forecasts.

    Parameters
    ----------
    cfg : Config
        A configuration from :func:`load_config` or :func:`resolve_config` (a plain dict is
        checked with :func:`resolve_config` first).
    data : GpecData
        The inputs, as read by :func:`gpec.pipeline.load_data` (validated or not).

    Returns
    -------
    list of str
        Notes: settings that are legal but have no effect (e.g. a scenario starting after the
        last forecast year), and tables that were read but have no data rows (a header-only
        export), with what the run does without them.

    Raises
    ------
    ConfigError
        Listing every problem, one per line: a territory level absent from the territories
        table (with the levels it has), scenario territories, sites, offers or occupations
        absent from the data (naming the scenario), report series that do not exist.

    Examples
    --------
    >>> import pandas as pd
    >>> from gpec import GpecData
    >>> terr = pd.DataFrame({"territory": ["FR", "R28"], "label": ["France", "Normandie"],
    ...                      "level": ["nation", "region"], "parent": [None, "FR"]})
    >>> check_against_data(resolve_config({"run": {"level": "region"}}),
    ...                    GpecData(territories=terr))
    []
    >>> check_against_data(resolve_config({"run": {"level": "Region"}}),
    ...                    GpecData(territories=terr))
    Traceback (most recent call last):
    ...
    gpec.exceptions.ConfigError: config: [run] level = 'Region' is not a level of the territories table; its levels are: nation, region (did you mean 'region'?)
    """
    if not isinstance(cfg, Config):
        cfg = resolve_config(cfg)
    facts = _DataFacts(data)
    problems: list[str] = []
    notes: list[str] = _empty_table_notes(data)
    _check_levels(cfg, facts, problems)
    _check_occupation_keys(cfg, facts, problems, notes)
    if cfg["demand"]["pyramid_period"] and getattr(data, "workforce_age", None) is None:
        notes.append(
            f"[demand] pyramid_period = {cfg['demand']['pyramid_period']}: no workforce_age "
            "table in the inputs, so no pyramid to age (replacement uses gpec's default pyramid)"
        )
    _check_report_series(cfg, facts, problems)
    last_obs = _last_observed_year(facts, cfg["run"]["level"])
    for i, sc in enumerate(cfg["scenarios"]):
        _check_scenario(cfg, facts, i, sc, last_obs, problems, notes)
    if problems:
        raise ConfigError("\n".join(dict.fromkeys(problems)))
    return notes


#: What a run does without the rows of an optional table named in the configuration.
_EMPTY_TABLE_EFFECT = {
    "training_offers": "no trained entrants, so every opening counts as a gap",
    "workforce_age": "replacement uses gpec's default age pyramid "
    "(replacement_source = default in openings.csv)",
    "hiring_intentions": "no comparison with hiring intentions",
    "skills": "no skill labels",
    "occupation_skills": "no skill needs, skill gaps or reconversion paths",
}


def _empty_table_notes(data) -> list[str]:
    """One note per table that was read but has no data rows (a header-only export).

    The run goes on as if the table were absent; the note says so and what it changes.
    Tables a run cannot do without (territories, occupations, employment) fail validation
    instead.
    """
    notes = []
    sources = getattr(data, "sources", {}) or {}
    for name, table in getattr(data, "tables", {}).items():
        if len(table) or name in ("territories", "occupations", "employment"):
            continue
        src = sources.get(name)
        where = f" ({src})" if src else ""
        effect = _EMPTY_TABLE_EFFECT.get(name, "the run goes on as without it")
        notes.append(f"{name}{where}: the table has no data rows: {effect}")
    return notes


class _DataFacts:
    """What the checks of a configuration need to know of the loaded tables: codes and levels
    of territories, occupation and offer codes, and the file each table comes from."""

    def __init__(self, data):
        self.terr, self.occ, self.emp = data.territories, data.occupations, data.employment
        self.sources = getattr(data, "sources", {}) or {}
        self.known_terr: set[str] = set()
        self.level_of: dict[str, str] = {}
        self.levels: list[str] | None = None  # None: no territory levels to check against
        terr = self.terr
        if terr is not None and {"territory", "level"} <= set(terr.columns):
            self.known_terr = set(terr["territory"].dropna().astype(str))
            self.level_of = dict(
                zip(terr["territory"].astype(str), terr["level"].astype(str), strict=True)
            )
            self.levels = sorted(set(terr["level"].dropna().astype(str)))
        occ = self.occ
        self.known_occ = set(occ["occupation"].dropna().astype(str)) if occ is not None else set()
        offers = data.training_offers
        self.known_offers = (
            set(offers["offer"].dropna().astype(str))
            if offers is not None and "offer" in offers.columns
            else None
        )

    def table(self, name: str) -> str:
        """How messages name a table: with its file when known."""
        path = self.sources.get(name)
        return f"the {name} table ({Path(path).name})" if path else f"the {name} table"


def _check_levels(cfg: Config, facts: _DataFacts, problems: list[str]) -> None:
    """Territory levels named by the configuration exist, and employment has rows at the
    level of the gaps."""
    if facts.levels is None:
        return
    where, levels, level = cfg.where, facts.levels, cfg["run"]["level"]
    for section, key, value, needed in (
        ("run", "level", level, True),
        ("catchment", "level", cfg["catchment"]["level"],
         cfg["catchment"]["method"] == "parent"),
        ("supply", "site_level", cfg["supply"]["site_level"], bool(cfg["supply"]["site_level"])),
    ):  # fmt: skip
        if needed and value not in levels:
            problems.append(
                f"{where}: [{section}] {key} = {value!r} is not a level of "
                f"{facts.table('territories')}; its levels are: {', '.join(levels)}"
                f"{_suggest_level(value, levels)}"
            )
    emp = facts.emp
    if level in levels and emp is not None and "territory" in emp.columns:
        emp_levels = set(emp["territory"].astype(str).map(facts.level_of).dropna())
        # no known territory at all: validation names the unknown codes (and their hints)
        if emp_levels and level not in emp_levels:
            problems.append(
                f"{where}: [run] level = {level!r}: no row of {facts.table('employment')} "
                f"is at that level; its territories are at the level(s): "
                f"{_listing(emp_levels)}"
            )


def _check_occupation_keys(
    cfg: Config, facts: _DataFacts, problems: list[str], notes: list[str]
) -> None:
    """``[run] occupation_level`` is a level of the occupations; ``exclude_occupations`` not
    in the table are noted."""
    occ, run = facts.occ, cfg["run"]
    if occ is None:
        return
    if run["occupation_level"] and "level" in occ.columns:
        occ_levels = sorted(set(occ["level"].dropna().astype(str)))
        if run["occupation_level"] not in occ_levels:
            problems.append(
                f"{cfg.where}: [run] occupation_level = {run['occupation_level']!r} is not a "
                f"level of {facts.table('occupations')}; its levels are: {', '.join(occ_levels)}"
                f"{_suggest_level(run['occupation_level'], occ_levels)}"
            )
    unknown = sorted(set(map(str, run["exclude_occupations"])) - facts.known_occ)
    if unknown:
        notes.append(
            f"[run] exclude_occupations: {_listing(unknown)} not in "
            f"{facts.table('occupations')}: nothing to leave out for them"
        )


def _check_report_series(cfg: Config, facts: _DataFacts, problems: list[str]) -> None:
    """The series of the report's fan chart exist."""
    rep = cfg["report"]
    if rep["territory"] and facts.terr is not None and rep["territory"] not in facts.known_terr:
        problems.append(
            f"{cfg.where}: [report] territory = {rep['territory']!r} is not in "
            f"{facts.table('territories')}"
        )
    if rep["occupation"] and facts.occ is not None and rep["occupation"] not in facts.known_occ:
        problems.append(
            f"{cfg.where}: [report] occupation = {rep['occupation']!r} is not in "
            f"{facts.table('occupations')}"
        )


def _last_observed_year(facts: _DataFacts, level: str) -> int | None:
    """The last year of employment (at the level of the gaps when it has rows there)."""
    import pandas as pd

    emp = facts.emp
    if emp is None or "period" not in emp.columns or not len(emp):
        return None
    from gpec._schema import parse_periods

    vals, _ = parse_periods(emp["period"])  # "2005.0" and 01/01/2005 are years too
    periods = pd.to_numeric(vals.map(lambda v: v if isinstance(v, int) else None), errors="coerce")
    if facts.level_of:
        at_level = emp["territory"].astype(str).map(facts.level_of).eq(level).to_numpy()
        if at_level.any():
            periods = periods[at_level]
    return int(periods.max()) if periods.notna().any() else None


def _check_scenario(
    cfg: Config,
    facts: _DataFacts,
    i: int,
    sc: Mapping[str, Any],
    last_obs: int | None,
    problems: list[str],
    notes: list[str],
) -> None:
    """The codes of one scenario exist (territories at the level of the gaps); a scenario
    starting after the last forecast year is noted."""
    name = sc.get("name", f"#{i + 1}")
    head = f"{cfg.where}: [[scenarios]] {name!r}"
    level = cfg["run"]["level"]
    if facts.terr is not None and facts.known_terr:
        for key in ("territories", "sites", "site"):
            codes = _codes(sc.get(key))
            missing = [c for c in codes if c not in facts.known_terr]
            if missing:
                problems.append(
                    f"{head}: {key} {_listing(missing)} not in {facts.table('territories')}"
                )
            elif key == "territories" and level in set(facts.level_of.values()):
                other = [c for c in codes if facts.level_of.get(c) != level]
                if other:
                    problems.append(
                        f"{head}: territories {_listing(other)} are not at the level of the "
                        f"gaps ([run] level = {level!r}): "
                        + ", ".join(f"{c} is at level {facts.level_of[c]!r}" for c in other[:5])
                    )
    if facts.occ is not None:
        missing = [c for c in _codes(sc.get("occupations")) if c not in facts.known_occ]
        if missing:
            problems.append(
                f"{head}: occupations {_listing(missing)} not in {facts.table('occupations')}"
            )
    offer_codes = _codes(sc.get("offers"))
    if offer_codes:
        if facts.known_offers is None:
            problems.append(f"{head}: offers are selected but no training_offers table is given")
        else:
            missing = [c for c in offer_codes if c not in facts.known_offers]
            if missing:
                problems.append(
                    f"{head}: offers {_listing(missing)} not in {facts.table('training_offers')}"
                )
    year = sc.get("from_year")
    horizon = cfg["forecast"]["horizon"]
    if year is not None and last_obs is not None and int(year) > last_obs + horizon:
        notes.append(
            f"[[scenarios]] {name!r}: from_year {int(year)} is after the last forecast year "
            f"{last_obs + horizon} (last observed year {last_obs} + [forecast] horizon "
            f"{horizon}): this entry changes nothing"
        )
