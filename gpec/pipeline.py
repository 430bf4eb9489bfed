"""One call from a configuration to every result: forecast -> openings -> supply -> gaps.

Each stage is a public function of its own module; this module only chains them, records the
parameters and versions, and writes the output files (docs/architecture.md, docs/outputs.md).
"""

from __future__ import annotations

import dataclasses
import os
import platform
import re
import time
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from gpec._checks import outside_stacklevel
from gpec._data import GpecData, meta_to_toml
from gpec._hints import code_hints
from gpec._schema import TABLES, format_problem
from gpec.config import Config, ForecastConfig, SupplyConfig, dump_config
from gpec.exceptions import ConfigError, DataQualityWarning, GpecError, ValidationError
from gpec.report import OUTPUT_FILES, Results

__all__ = ["Results", "load_data", "run_pipeline", "write_inputs", "forecast_stage", "OUTPUT_FILES"]


def load_data(cfg: Config | Mapping[str, Any]) -> GpecData:
    """Read every input named in the configuration's ``[data]`` into one bundle, harmonized
    (one occupation system and level) but not yet validated.

    Parameters
    ----------
    cfg : Config
        From :func:`gpec.config.load_config` (a dict is checked first).

    Returns
    -------
    GpecData

    Examples
    --------
    >>> data = load_data(load_config("gpec.toml"))  # doctest: +SKIP
    """
    cfg = Config.from_dict(cfg)
    from gpec import ingest

    tables: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    bundle = GpecData()
    readers = {
        "rome": "read_rome",
        "esco": "read_esco",
        "onet": "read_onet",
        "bmo": "read_bmo",
        "lheo": "read_lheo",
        "crosswalk": "read_crosswalk",
        "dares": "read_dares_series",
        "insee_geography": "read_insee_geography",
        "insee_cog": "read_insee_geography",
        "urssaf": "read_urssaf",
        "training_capacity": "read_training_capacity",
        "affelnet": "read_training_capacity",
        "parcoursup": "read_training_capacity",
        "certifinfo": "read_certifinfo",
        "inserjeunes": "read_inserjeunes",
    }
    for name, spec in cfg.data.items():
        spec = {"path": spec, "format": "table"} if isinstance(spec, str) else spec
        fmt = spec.get("format", "table")
        if fmt == "table":
            if name not in TABLES:
                raise ConfigError(f"[data] {name}: a plain table must be a canonical table name")
            tables[name] = ingest.read_table(spec["path"], sheet=spec.get("sheet"))
            sources[name] = spec["path"]
        else:
            reader = getattr(ingest, readers[fmt])
            try:
                fixed = {"format": fmt} if fmt in ("affelnet", "parcoursup") else {}
                part = reader(spec["path"], **fixed, **spec.get("options", {}))
            except TypeError as exc:  # an option the reader does not take
                raise ConfigError(f"[data.{name}] options: {exc}") from exc
            want = spec.get("tables") or ([name] if name in TABLES else [])
            if want:
                missing = [t for t in want if getattr(part, t, None) is None]
                if missing:
                    raise ConfigError(
                        f"[data.{name}] the {fmt} reader gives no table "
                        f"{missing[0]!r} from {spec['path']} (it gives "
                        f"{sorted(part.tables)})"
                    )
                part = GpecData(
                    **{t: getattr(part, t) for t in want},
                    # the file of each table kept (a reader's other tables, left out, must
                    # not name another entry's file)
                    sources={t: part.sources.get(t, spec["path"]) for t in want},
                    rejected=part.rejected,
                    meta=dict(part.meta),
                    extra=part.extra,
                )
            if part.workforce_age is not None and part.meta.get("period"):
                part.meta["workforce_age_period"] = str(part.meta["period"])  # the pyramids' year
            bundle = bundle.merge(part)
    data = bundle.merge(GpecData(**tables, sources=sources))
    from gpec.referentials.harmonize import harmonize

    return harmonize(
        data,
        occupation_system=cfg.run.occupation_system,
        occupation_level=cfg.run.occupation_level,
        exclude_occupations=cfg.run.exclude_occupations,
        site_level=cfg.supply.site_level,
        seats_default=cfg.supply.seats_default,
    )


# ----------------------------------------------------------------------------- stages
def _labels(table: pd.DataFrame, data: GpecData) -> pd.DataFrame:
    """Insert territory_label / occupation_label / skill_label after their code columns."""
    out = table.copy()
    for code, ref, key in (
        ("territory", "territories", "territory"),
        ("occupation", "occupations", "occupation"),
        ("from_occupation", "occupations", "occupation"),  # reconversion paths
        ("skill", "skills", "skill"),
    ):
        ref_table = getattr(data, ref)
        if code not in out.columns or ref_table is None or f"{code}_label" in out.columns:
            continue
        labels = ref_table.set_index(key)["label"]
        out.insert(out.columns.get_loc(code) + 1, f"{code}_label", out[code].map(labels))
    return out


def _offer_labels(table: pd.DataFrame, offers: pd.DataFrame | None) -> pd.DataFrame:
    """Insert the offer's title and provider after the ``offer`` column."""
    if offers is None or not len(table) or "offer" not in table.columns:
        return table
    cols = [c for c in ("title", "provider") if c in offers.columns and c not in table.columns]
    if not cols:
        return table
    info = offers.drop_duplicates("offer").set_index("offer")[cols]
    out = table.copy()
    pos = out.columns.get_loc("offer") + 1
    for i, c in enumerate(cols):
        out.insert(pos + i, c, out["offer"].map(info[c]))
    return out


def _checksums(sources: dict) -> dict[str, str]:
    """SHA-256 of each input file (of a folder: of its files' names and contents, sorted)."""
    import hashlib

    out = {}
    for name, src in sorted(sources.items()):
        path = Path(str(src))
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        if not files or not all(f.is_file() for f in files):
            continue
        digest = hashlib.sha256()
        for f in files:
            if path.is_dir():
                digest.update(f.relative_to(path).as_posix().encode())
            with open(f, "rb") as fh:
                for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    digest.update(block)
        out[name] = digest.hexdigest()
    return out


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    import gpec

    versions = {"gpec": gpec.__version__, "python": platform.python_version()}
    for pkg in (
        "numpy",
        "pandas",
        "scipy",
        "scikit-learn",
        "statsmodels",
        "joblib",
        "openpyxl",
        "matplotlib",
    ):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover
            versions[pkg] = "absent"
    return versions


#: Reconciliation methods that estimate their weights from forecast residuals.
_RESIDUAL_METHODS = ("wls_var", "mint_shrink")

#: Fewest residual samples (backtest windows) per occupation for a residual-based method.
_MIN_RESIDUAL_SAMPLES = 2


def _residual_samples(residuals: pd.DataFrame) -> tuple[pd.DataFrame, list[str], int]:
    """Complete residual samples per occupation, for ``reconcile(residuals=...)``.

    ``reconcile`` estimates one (co)variance per occupation from samples (periods) where every
    territory of the occupation has a residual. Periods where a series of the occupation has no
    honest residual (NaN, see ``Forecaster.residuals``) are left out for that occupation;
    occupations left with fewer than ``_MIN_RESIDUAL_SAMPLES`` periods are returned apart.

    Returns
    -------
    usable : DataFrame
        Residual rows of the complete samples of the other occupations.
    lacking : list of str
        Occupations without enough complete samples.
    dropped : int
        Finite residuals not used: their period is incomplete for their occupation, or their
        occupation is lacking.
    """
    ok = residuals["residual"].notna().to_numpy()
    n_series = residuals.groupby("occupation")["territory"].nunique()
    per = residuals[ok].groupby(["occupation", "period"]).size()
    need = n_series.reindex(per.index.get_level_values("occupation")).to_numpy()
    complete = per.index[per.to_numpy() == need]
    n_complete = (
        pd.Series(1, index=complete)
        .groupby(level="occupation")
        .sum()
        .reindex(n_series.index, fill_value=0)
    )
    lacking = sorted(n_complete.index[n_complete < _MIN_RESIDUAL_SAMPLES].astype(str))
    keys = pd.MultiIndex.from_frame(residuals[["occupation", "period"]])
    keep = ok & keys.isin(complete) & ~residuals["occupation"].isin(lacking).to_numpy()
    dropped = int((ok & ~keep).sum())
    return residuals[keep].reset_index(drop=True), lacking, dropped


def _reconcile_with_residuals(model, terr: pd.DataFrame, method: str) -> pd.DataFrame:
    """Reconcile with ``wls_var`` / ``mint_shrink`` weights from the one-step backtest errors.

    The residuals are ``model.residuals(horizon=1)``: out-of-sample one-step-ahead errors of the
    selected forecast at each backtest window. Occupations without at least
    ``_MIN_RESIDUAL_SAMPLES`` complete samples are reconciled with ``wls_struct`` weights instead
    (their rows say so in the ``reconciliation`` column) and a warning names them.
    """
    import warnings

    from gpec.forecast import reconcile

    base = model.predict()
    usable, lacking, dropped = _residual_samples(model.residuals(horizon=1))
    fallback = base["occupation"].astype(str).isin(lacking).to_numpy()
    parts = []
    details: dict[str, Any] = {}
    if (~fallback).any():
        main = reconcile(base[~fallback], terr, method=method, residuals=usable)
        details = dict(main.attrs.get("reconciliation", {}))
        parts.append(main)
    if fallback.any():
        warnings.warn(
            f"[forecast] reconcile = {method!r}: {len(lacking)} occupation(s) have fewer than "
            f"{_MIN_RESIDUAL_SAMPLES} complete one-step backtest residual samples and are "
            f"reconciled with 'wls_struct' weights instead: {', '.join(lacking[:10])}"
            + (" ..." if len(lacking) > 10 else ""),
            UserWarning,
            stacklevel=outside_stacklevel(),
        )
        fb = reconcile(base[fallback], terr, method="wls_struct")
        details = details or dict(fb.attrs.get("reconciliation", {}))
        parts.append(fb)
    out = pd.concat(parts).sort_index() if len(parts) > 1 else parts[0]
    details.update(
        method=method,
        residual_horizon=1,
        residual_samples=int(len(usable)),
        residual_samples_dropped=dropped,
        fallback_wls_struct=lacking,
    )
    out.attrs = {"reconciliation": details}
    return out


def _matchable(data: GpecData) -> pd.DataFrame:
    """Occupations an offer may be matched to by text: with a ``level`` column (the ROME tree:
    grand domaines, domaines, fiches), only the levels that carry employment."""
    occ = data.occupations
    if "level" not in occ.columns or data.employment is None:
        return occ
    levels = set(occ.loc[occ["occupation"].isin(set(data.employment["occupation"])), "level"])
    return occ[occ["level"].isin(levels)] if levels else occ


def _known_titles(data: GpecData, sp: SupplyConfig) -> pd.DataFrame | None:
    """Job titles of the occupations for text matching ([supply] match_titles): the ROME
    appellations read with the occupations, when their codes are the run's occupations."""
    app = data.extra.get("appellations")
    if not sp.match_titles or app is None or not {"occupation", "label"} <= set(app.columns):
        return None
    known = app[app["occupation"].isin(set(data.occupations["occupation"]))]
    return known[["occupation", "label"]] if len(known) else None


def _stale_series(forecast: pd.DataFrame) -> dict[str, Any]:
    """The series that stopped before the panel's last year (forecast from their own last
    observation, with wider intervals), for the Assumptions section of the reports."""
    if "last_observed" not in forecast.columns or not len(forecast):
        return {}
    last = forecast.drop_duplicates(["territory", "occupation"])
    observed = pd.to_numeric(last["last_observed"], errors="coerce")
    panel_end = observed.max()
    stale = last[observed < panel_end]
    if not len(stale):
        return {"count": 0}
    shown = stale.head(10)
    return {
        "count": int(len(stale)),
        "panel_last_year": int(panel_end),
        "examples": [
            f"{t} x {o}: last observed {int(y)}"
            for t, o, y in zip(
                shown["territory"], shown["occupation"], shown["last_observed"], strict=True
            )
        ],
        "note": "forecast from their own last observation through the missing years; their "
        "intervals widen with the years not observed",
    }


def _levels_above(terr: pd.DataFrame, bottom: set) -> list[str]:
    """Territory levels above the run's level, following the ``parent`` links of the bottom
    territories up the tree (commune -> EPCI -> zone d'emploi -> département...): the levels a
    reconciliation must make add up. Nation, région and département come first, in that order."""
    parent = dict(zip(terr["territory"].astype(str), terr["parent"], strict=True))
    level = dict(zip(terr["territory"].astype(str), terr["level"].astype(str), strict=True))
    found: list[str] = []
    frontier = {str(c) for c in bottom}
    while frontier:
        frontier = {str(parent[c]) for c in frontier if pd.notna(parent.get(c))} & set(level)
        for lv in sorted({level[c] for c in frontier}):
            if lv not in found:
                found.append(lv)
    first = [lv for lv in ("nation", "region", "departement") if lv in found]
    return first + [lv for lv in found if lv not in first]


def forecast_stage(
    data: GpecData, fc: ForecastConfig, *, level: str, seed: int = 0, verbose: int = 0
):
    """Fit the forecaster on the employment at territory ``level`` (and the levels above it
    when ``fc.reconcile`` asks for a reconciliation) and predict.

    Parameters
    ----------
    data : GpecData
        Validated inputs (territories and employment are used).
    fc : ForecastConfig
        The ``[forecast]`` section of a configuration.
    level : str
        Territory level of the series forecast (``[run] level``).
    seed : int, default 0
        Seed of the forecaster's local generator.
    verbose : int, default 0
        0: silent; 1: progress.

    Returns
    -------
    (Forecaster, DataFrame)
        The fitted model (backtest inside) and its reconciled forecast.

    Raises
    ------
    ConfigError
        When no employment row is at ``level``.

    Examples
    --------
    >>> from gpec.config import ForecastConfig
    >>> from gpec.datasets import load_demo
    >>> fc = ForecastConfig(models="naive", horizon=2)
    >>> model, forecast = forecast_stage(load_demo().validate(), fc, level="epci")
    >>> sorted(forecast["period"].unique().tolist())
    [2025, 2026]
    """
    from gpec.forecast import Forecaster

    emp = data.employment
    terr = data.territories
    bottom = set(terr.loc[terr["level"] == level, "territory"])
    panel = emp[emp["territory"].isin(bottom)][["territory", "occupation", "period", "value"]]
    if not len(panel):
        raise ConfigError(f"no employment at the territory level {level!r} ([run] level)")
    model = Forecaster(
        models=fc.models,
        horizon=fc.horizon,
        level=tuple(fc.level),
        n_jobs=fc.n_jobs,
        backend=fc.backend or None,
        random_state=seed,
        verbose=verbose,
        n_windows=fc.n_windows,
        recent_windows=fc.recent_windows,
    )
    if fc.reconcile != "none":
        from gpec.forecast import reconcile
        from gpec.territory import aggregate

        levels = _levels_above(terr, bottom)
        parts = [panel] + [aggregate(panel, terr, lv, ["value"]) for lv in levels]
        full = pd.concat(parts, ignore_index=True)
        model.fit(full)
        if fc.reconcile in _RESIDUAL_METHODS:
            forecast = _reconcile_with_residuals(model, terr, fc.reconcile)
        else:
            forecast = reconcile(model.predict(), terr, method=fc.reconcile)
    else:
        model.fit(panel)
        forecast = model.predict()
    return model, forecast


def run_pipeline(
    data: GpecData,
    cfg: Config | Mapping[str, Any] | None = None,
    *,
    verbose: int = 0,
    strict: bool = True,
    plausibility: Any = None,
    warnings_as_errors: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> Results:
    """Run the whole chain on validated data.

    Parameters
    ----------
    data : GpecData
        Input tables; validated here.
    cfg : dict, optional
        Configuration (see :func:`gpec.config.load_config`); defaults when omitted.
    verbose : int, default 0
        Progress bars and messages when > 0.
    strict : bool, default True
        Raise :class:`gpec.ValidationError` on the first bad row; with False the bad rows are
        dropped and listed in ``Results.rejected``.
    plausibility : PlausibilityRules, dict or bool, optional
        Thresholds of the plausibility checks (see :meth:`gpec.GpecData.validate`); False
        switches them off. Their warnings are in ``Results.data.warnings`` and ``rejected.csv``.
    warnings_as_errors : bool, default False
        Plausibility warnings count as rejected rows (the CLI's ``--strict``).
    on_stage : callable, optional
        Called with the name of each stage as it starts (``"validation"``, ``"forecast"``,
        ``"demand"``, ``"supply"``, ``"allocation"``, ``"held-out check"``, ``"scenarios"``,
        ``"tables"``): progress and stage times for a caller.

    Returns
    -------
    Results

    Examples
    --------
    >>> from gpec.datasets import load_demo
    >>> res = run_pipeline(load_demo(), {"forecast": {"horizon": 3}})  # doctest: +SKIP
    >>> res.gaps.columns[:4].tolist()  # doctest: +SKIP
    ['territory', 'territory_label', 'occupation', 'occupation_label']
    """
    from gpec import demand, gap, scenarios, territory

    if not isinstance(data, GpecData):
        raise TypeError(
            f"run_pipeline: data must be a GpecData (gpec.pipeline.load_data, gpec.GpecData(...) "
            f"or gpec.datasets.load_demo()), got {type(data).__name__}"
        )
    cfg = Config.from_dict(cfg)
    stage = on_stage or (lambda name: None)
    data = _validated(data, cfg, stage, strict, plausibility, warnings_as_errors)
    rejected = data.rejected
    seed = cfg.run.seed
    level = cfg.run.level
    stage("forecast")
    model, forecast = forecast_stage(data, cfg.forecast, level=level, seed=seed, verbose=verbose)
    bottom = set(data.territories.loc[data.territories["level"] == level, "territory"])
    fc_bottom = forecast[forecast["territory"].isin(bottom)]
    n_series = fc_bottom.groupby(["territory", "occupation"]).ngroups

    stage("demand")
    openings, op_paths, open_kw, interval_method = _demand_stage(
        fc_bottom, model, data, cfg, n_series
    )
    note = _default_pyramid_note(openings)
    if note:
        warnings.warn(note, UserWarning, stacklevel=outside_stacklevel())
    needs = (
        demand.skill_needs(openings, data.occupation_skills)
        if data.occupation_skills is not None
        else pd.DataFrame()
    )

    stage("supply")
    sp = cfg.supply
    offers = data.training_offers
    ent, quality, review, titles = _supply_stage(data, sp)
    catch = _catchments(ent, data, cfg)
    ent = _supply_interval(ent, sp)
    mapped = ent[ent["occupation"].notna()] if len(ent) else ent
    stage("allocation")
    alloc = gap.allocate(
        openings,
        mapped,
        catch,
        small_threshold=cfg.gap.small_threshold,
        openings_paths=op_paths,
    )
    del op_paths  # the paths' memory is not needed past the gap bounds
    heldout, heldout_info = None, {"setting": cfg.forecast.heldout_check, "status": "off"}
    if cfg.forecast.heldout_check != "off":
        heldout, heldout_info = _heldout_stage(data, cfg, bottom, open_kw, n_series, stage)
    sgaps, trans = _skill_tables(alloc, openings, data, cfg)
    gaps, hiring = _hiring_check(alloc.gaps, openings, data)
    hist_last = data.employment[data.employment["territory"].isin(bottom)]
    profile = territory.profile(hist_last, data.territories)

    scen = pd.DataFrame()
    if cfg.scenarios:
        stage("scenarios")
        scen = _labels(
            scenarios.run(
                fc_bottom,
                cfg.scenarios,
                workforce_age=data.workforce_age,
                openings_kwargs=open_kw,
                entrants=mapped,
                catchment=catch,
                baseline=(openings, alloc),
                completion_default=sp.completion_default,
                placement_default=sp.placement_default,
                supply_interval=lambda e: _supply_interval(e, sp),
                small_threshold=cfg.gap.small_threshold,
            ),
            data,
        )

    stage("tables")
    backtest = getattr(model, "backtest_", pd.DataFrame())
    summary = model.backtest_summary() if hasattr(model, "backtest_summary") else pd.DataFrame()
    provenance = _provenance(data, cfg, forecast, titles, interval_method)
    provenance["plan_totals_heldout"] = heldout_info
    return Results(
        forecast=_labels(forecast, data),
        backtest=backtest,
        openings=_labels(openings, data),
        skill_needs=_labels(needs, data),
        entrants=_labels(_offer_labels(ent, offers), data),
        gaps=_labels(gaps, data),
        skill_gaps=_labels(sgaps, data),
        transitions=_labels(trans, data),
        surplus=_labels(_offer_labels(alloc.surplus, offers), data),
        mapping_quality=quality,
        mapping_review=review,
        plan_totals=alloc.totals,
        plan_totals_heldout=heldout,
        profile=_labels(profile, data),
        hiring_check=_labels(hiring, data),
        scenarios=scen,
        rejected=rejected,
        backtest_summary=summary,
        config=cfg,
        provenance=provenance,
        data=data,
    )


def _say_data_quality(data: GpecData) -> None:
    """One warning for the rows a lenient validation left out, one for the plausibility
    findings, with counts per table or check (the gpec command prints them row by row)."""
    for frame, col, what in (
        (data.rejected, "table", "rows left out (not valid) by table"),
        (data.warnings, "check", "plausibility warnings by check"),
    ):
        if frame is None or not len(frame) or col not in frame.columns:
            continue
        counts = frame.groupby(col, sort=True).size()
        listed = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        warnings.warn(
            f"{len(frame):,} {what}: {listed} (every row in Results.rejected, "
            "Results.data.warnings and rejected.csv)",
            DataQualityWarning,
            stacklevel=outside_stacklevel(),
        )


def _validated(
    data: GpecData,
    cfg: Config,
    stage: Callable[[str], None],
    strict: bool,
    plausibility: Any,
    warnings_as_errors: bool,
) -> GpecData:
    """The data checked against the configuration and validated; stops when a table is empty."""
    for name in ("territories", "occupations", "employment"):
        if getattr(data, name) is None:
            raise ConfigError(f'the table {name!r} is required ([data] {name} = "...")')
    # codes and levels the data do not have stop here, before any forecast
    from gpec.config import check_against_data

    for note in check_against_data(cfg, data):
        warnings.warn(note, UserWarning, stacklevel=outside_stacklevel())
    stage("validation")
    if plausibility is None:
        plausibility = cfg.validate.rules()  # [validate]
    data = data.validate(
        strict=strict, plausibility=plausibility, warnings_as_errors=warnings_as_errors
    )
    rejected = data.rejected
    _say_data_quality(data)
    for name in ("territories", "occupations", "employment"):
        if not len(getattr(data, name)):  # --lenient dropped every row: say why, in one line
            why = rejected[rejected["table"] == name]
            reason = f": {format_problem(why.iloc[0])}" if len(why) else ""
            raise ValidationError(
                f"table {name} ({data.sources.get(name, '')}) has no usable row left, and the "
                f"run needs it{reason}",
                rejected,
                code_hints(rejected, data),
            )
    if not pd.api.types.is_integer_dtype(data.employment["period"]):
        raise ConfigError(
            f"table employment ({data.sources.get('employment', '')}): periods such as "
            f"{data.employment['period'].iloc[0]} are not years; openings, supply and gaps need "
            "annual employment (a year such as 2005); `gpec forecast` also takes quarterly or "
            "monthly series"
        )
    return data


def _demand_stage(fc_bottom: pd.DataFrame, model, data: GpecData, cfg: Config, n_series: int):
    """Openings of the bottom-level forecast, their paths, the openings options, the interval rule.

    Bounds come from joint sample paths when the forecaster draws them (the scenarios keep the
    envelope rule: their forecasts are shifted copies of these).
    """
    from gpec import demand

    dm = cfg.demand
    _pyramid_year_note(data, dm.pyramid_period)
    exit_rates = dict(dm.exit_rates) or None
    open_kw = dict(
        employment=data.employment,
        exit_rates=exit_rates,
        net=dm.net,
        level=dm.interval_level,
        retirement_shift=dm.retirement_shift,
        pyramid_period=int(dm.pyramid_period) or None,
    )
    if dm.turnover_rate:
        open_kw["turnover_rates"] = float(dm.turnover_rate)
    op_paths = None
    n_paths = _n_paths(n_series, cfg.forecast.horizon) if hasattr(model, "iter_paths") else 0
    if n_paths:
        openings, op_paths = demand.openings(
            fc_bottom,
            data.workforce_age,
            **open_kw,
            paths=model,
            n_paths=n_paths,
            random_state=cfg.run.seed,
            return_paths=True,
        )
        interval_method = f"quantiles of {n_paths} joint sample paths per series"
        dep = getattr(model, "dependence_", None)
        if dep is not None:
            interval_method += (
                f"; the series move together along the paths (correlation of their yearly "
                f"changes: {dep[0]:.2f} over all pairs, {dep[1]:.2f} within a territory)"
            )
    else:
        openings = demand.openings(fc_bottom, data.workforce_age, **open_kw)
        interval_method = (
            f"envelope of the forecast's bounds ({n_series:,} series: too many to age "
            f"{_MIN_PATHS} sample paths each within {_PATHS_ROWS:,.0f} series x paths)"
        )
    return openings, op_paths, open_kw, interval_method


#: Series of the run's level up to which ``[forecast] heldout_check = "auto"`` runs the check
#: (about 5 ms per series for its 4 origins on one core: some 10 s at this size; the demo's
#: 2,141 series: 11.7 s against 6.3 s for the whole run).
HELDOUT_AUTO_SERIES = 2_000


def _heldout_stage(
    data: GpecData,
    cfg: Config,
    bottom: set,
    open_kw: dict,
    n_series: int,
    stage: Callable[[str], None],
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """The plan totals checked on the study's own past (``[forecast] heldout_check``), and
    what became of the check for ``provenance.toml`` and the reports.

    The forecast stage itself is refitted on the years before each origin (reconciliation
    included), with the run's seed, demand parameters and number of sample paths.
    """
    from gpec import demand

    setting = cfg.forecast.heldout_check
    info: dict[str, Any] = {"setting": setting}
    if setting == "auto" and n_series > HELDOUT_AUTO_SERIES:
        info.update(status="skipped", series=n_series, limit=HELDOUT_AUTO_SERIES)
        info["reason"] = (
            f"{n_series:,} series, more than the {HELDOUT_AUTO_SERIES:,} of heldout_check = "
            "'auto' (the check refits the forecaster at up to 4 past origins); "
            "[forecast] heldout_check = 'on' runs it"
        )
        return None, info
    stage("held-out check")
    level = cfg.run.level
    panel = data.employment[data.employment["territory"].isin(bottom)]
    n_paths = _n_paths(n_series, cfg.forecast.horizon)

    def fit(history: pd.DataFrame, horizon: int):
        past = GpecData(territories=data.territories, employment=history)
        fc = dataclasses.replace(cfg.forecast, horizon=int(horizon))
        return forecast_stage(past, fc, level=level, seed=cfg.run.seed)

    start = time.perf_counter()
    try:
        table = demand.heldout_plan_totals(
            panel,
            data.workforce_age,
            fit=fit,
            horizon=cfg.forecast.horizon,  # the plan period's years (the library caps them at 5)
            n_paths=n_paths,
            level=cfg.demand.interval_level,
            random_state=cfg.run.seed,
            openings_kwargs={k: v for k, v in open_kw.items() if k not in ("employment", "level")},
        )
    except GpecError as exc:  # e.g. a panel too short: said in the reports and provenance
        info.update(status="not possible", reason=str(exc))
        if setting == "on":  # asked for: said on the terminal too
            warnings.warn(str(exc), UserWarning, stacklevel=outside_stacklevel())
        return None, info
    info.update(
        status="ran",
        origins=sorted({int(o) for o in table["origin"]}),
        years=int(table["years"].iloc[0]),
        n_paths=int(n_paths),
        seconds=round(time.perf_counter() - start, 1),
    )
    return table, info


def _default_pyramid_note(openings: pd.DataFrame) -> str | None:
    """A note when some series' replacement comes from gpec's default age pyramid (no row of
    workforce_age for the series, its territory, occupation or their ancestors)."""
    if not len(openings) or "replacement_source" not in openings.columns:
        return None
    cells = openings.drop_duplicates(["territory", "occupation"])
    n = int(cells["replacement_source"].eq("default").sum())
    if not n:
        return None
    return (
        f"openings: {n} of {len(cells)} territory x occupation series have no age pyramid in "
        "workforce_age: their replacement uses gpec's default pyramid (replacement_source = "
        "default in openings.csv)"
    )


def _pyramid_year_note(data: GpecData, pyramid_period: int) -> None:
    """Warn when the reader of workforce_age dates its pyramids (e.g. DARES "2017-2019") two or
    more years before the last employment year, and ``[demand] pyramid_period`` is not set:
    the pyramids are then read as the base year's, their baby-boomers not yet aged."""
    said = str(data.meta.get("workforce_age_period", ""))
    years = [int(y) for y in re.findall(r"(?:19|20)\d\d", said)]
    if pyramid_period or not years or data.workforce_age is None or not len(data.workforce_age):
        return
    centre = round(sum(years) / len(years))
    base = int(pd.to_numeric(data.employment["period"], errors="coerce").max())
    if base - centre >= 2:
        warnings.warn(
            f"workforce_age ({data.sources.get('workforce_age', '')}) describes {said}, "
            f"{base - centre} years before the last employment year {base}, and is read as "
            f"{base}'s; set [demand] pyramid_period = {centre} to age its pyramids to {base} "
            "(the workers near retirement then leave sooner)",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )


def _supply_stage(data: GpecData, sp):
    """Entrants of the training offers, mapping quality and review, the titles taught."""
    from gpec import supply

    offers = data.training_offers
    titles = None
    review = None
    if offers is None:
        warnings.warn(
            "training_offers: no table in the inputs ([data] training_offers): no trained "
            "entrants, so every opening to fill counts as a gap (the report says the training "
            "offer was not provided)",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )
    if offers is not None and len(offers):
        from gpec.supply.review import mapping_review, override_titles, read_overrides

        matcher_kw: dict[str, Any] = {}
        overrides = read_overrides(sp.mapping_overrides) if sp.mapping_overrides else None
        if sp.text_matching:
            from gpec.supply.matching import OfferMatcher, build_profiles

            texts = data.extra.get("occupation_texts")
            profiles = build_profiles(
                _matchable(data), data.occupation_skills, data.skills, texts=texts
            )
            titles = _known_titles(data, sp)
            corrected = override_titles(overrides, offers)  # a planner's corrections teach
            if len(corrected):
                known = [] if titles is None else [titles.rename(columns={"label": "title"})]
                titles = pd.concat([*known, corrected], ignore_index=True)
            matcher = OfferMatcher(
                min_score=sp.min_score, method=sp.match_method, encoder=sp.encoder or None
            )
            matcher_kw = dict(matcher=matcher, profiles=profiles, titles=titles)
        ent = supply.entrants(
            offers,
            data.occupations,
            crosswalks=data.crosswalks,
            overrides=overrides,
            completion_default=sp.completion_default,
            placement_default=sp.placement_default,
            top_k=sp.top_k,
            **matcher_kw,
        )
        quality = supply.mapping_quality(ent)
        review = mapping_review(ent, data.occupations)
    else:
        ent = pd.DataFrame(
            columns=["offer", "site", "occupation", "share", "entrants", "score", "reason"]
        )
        quality = pd.DataFrame()
    return ent, quality, review, titles


def _catchments(ent: pd.DataFrame, data: GpecData, cfg: Config) -> pd.DataFrame:
    """Catchments of the offers' sites and of the new offers of supply scenarios."""
    from gpec import territory

    ct = cfg.catchment
    new_sites = {str(sc["site"]) for sc in cfg.scenarios if sc.get("new_seats") is not None}
    sites = sorted((set(ent["site"].dropna()) if len(ent) else set()) | new_sites)
    if not sites:
        return pd.DataFrame(columns=["site", "territory", "distance_km", "weight"])
    return territory.catchment(
        data.territories,
        sites=sites,
        method=ct.method,
        max_km=ct.max_km,
        decay_km=ct.decay_km,
        level=ct.level,
        bottom_level=cfg.run.level,
    )


def _skill_tables(alloc, openings: pd.DataFrame, data: GpecData, cfg: Config):
    """Skill gaps and reconversion paths (empty tables without occupation skills)."""
    from gpec import gap

    if data.occupation_skills is None:
        return pd.DataFrame(), pd.DataFrame()
    sgaps = gap.skill_gaps(alloc, data.occupation_skills, skills=data.skills)
    change = openings[["territory", "occupation", "period", "expansion"]]
    trans = gap.transitions(
        alloc.gaps,
        change,
        data.occupation_skills,
        mobility=data.extra.get("mobility"),
        top_n=cfg.gap.transitions_top_n,
        min_overlap=cfg.gap.transitions_min_overlap,
        min_jobs_lost=cfg.gap.transitions_min_jobs_lost,
    )
    return sgaps, trans


def _provenance(data: GpecData, cfg: Config, forecast, titles, interval_method: str) -> dict:
    """What the run used: date, seed, versions, sources and their checksums, config, counts."""
    return {
        "run_date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": cfg.run.seed,
        "versions": _versions(),
        "data_meta": meta_to_toml({k: v for k, v in data.meta.items() if k != "warnings"}),
        "sources": {k: str(v) for k, v in data.sources.items()},
        "sources_sha256": _checksums(data.sources),
        "config": cfg.to_dict(),
        "rows": {name: len(t) for name, t in data.tables.items()},
        "rejected_rows": len(data.rejected),
        "plausibility_warnings": {
            str(k): int(v) for k, v in data.warnings.groupby("check").size().items()
        },
        "text_matching_titles": 0 if titles is None else len(titles),
        "stale_series": _stale_series(forecast),
        "openings_interval": interval_method,
    }


def _hiring_check(gaps: pd.DataFrame, openings: pd.DataFrame, data: GpecData):
    """Cross-check projected openings with BMO hiring intentions, when given.

    Adds to the gap table the share of planned recruitments judged difficult and a flag where
    the survey and the projection disagree (``survey_higher`` / ``projection_higher``).
    """
    from gpec import demand

    hi = data.hiring_intentions
    if hi is None or not len(hi):
        return gaps, pd.DataFrame()
    check = demand.compare_hiring_intentions(openings, hi, territories=data.territories)
    cols = {
        "projects": "bmo_projects",
        "difficult_share": "bmo_difficult_share",
        "flag": "bmo_check",
    }
    per_cell = (
        check[["territory", "occupation", *cols]]
        .rename(columns=cols)
        .drop_duplicates(["territory", "occupation"])
    )
    out = gaps.merge(per_cell, on=["territory", "occupation"], how="left")
    return out, check


#: Memory allowed to the openings kept along the sample paths (float32), in bytes.
_PATHS_MEMORY = 1.5e9

#: Series x paths aged per run (time: the ageing model runs once per path, about 1 s per
#: 100,000 series x paths on one core).
_PATHS_ROWS = 1e7

#: Fewest paths per series whose 10 % and 90 % quantiles are worth reporting.
_MIN_PATHS = 100


def _n_paths(n_series: int, horizon: int) -> int:
    """Sample paths per series: 500, fewer on large panels to keep the openings paths within
    :data:`_PATHS_MEMORY` and the ageing within :data:`_PATHS_ROWS`; 0 (the envelope rule of
    the forecast's bounds instead) when that leaves fewer than :data:`_MIN_PATHS` (beyond
    100,000 series).

    Examples
    --------
    >>> _n_paths(2_000, 6), _n_paths(50_000, 6), _n_paths(300_000, 6)
    (500, 200, 0)
    """
    n_series = max(n_series, 1)
    fit = min(_PATHS_MEMORY // (4 * n_series * max(int(horizon), 1)), _PATHS_ROWS // n_series)
    return int(min(500, fit)) if fit >= _MIN_PATHS else 0


def _supply_interval(ent: pd.DataFrame, sp: SupplyConfig) -> pd.DataFrame:
    """The entrants with their interval when ``[supply]`` gives rate ranges (else unchanged)."""
    ranges = {k: sp.get(k) or None for k in ("completion_range", "placement_range")}
    if not any(ranges.values()) or not len(ent) or "defaulted" not in ent.columns:
        return ent
    from gpec.supply import entrants_interval

    return entrants_interval(ent, **ranges)


# ----------------------------------------------------------------------------- demo inputs
def write_inputs(
    data: GpecData, out_dir: str | os.PathLike, cfg: Config | Mapping[str, Any] | None = None
) -> Path:
    """Write every input table as CSV plus a ``gpec.toml`` that reproduces the run.

    Parameters
    ----------
    data : GpecData
        The inputs (every table present is written as ``<table>.csv``).
    out_dir : path-like
        The folder to write into (created when missing).
    cfg : Config or dict, optional
        The run's options; the written ``gpec.toml`` has them all, with the ``[data]`` paths
        relative to ``out_dir``.

    Returns
    -------
    Path
        The written configuration file.

    Examples
    --------
    >>> import tempfile
    >>> from gpec.datasets import load_demo
    >>> path = write_inputs(load_demo(), tempfile.mkdtemp())
    >>> path.name
    'gpec.toml'
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = Config.from_dict(cfg).to_dict()
    files = {}
    for name, table in data.tables.items():
        path = out / f"{name}.csv"
        table.to_csv(path, index=False, lineterminator="\n")
        files[name] = str(path)
    cfg["data"] = files
    config_path = out / "gpec.toml"
    config_path.write_text(dump_config(cfg, relative_to=out), encoding="utf-8")
    return config_path
