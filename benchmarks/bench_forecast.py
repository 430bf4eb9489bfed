"""Speed, memory and accuracy benchmark of ``gpec.Forecaster``.

Prints one table side by side:

* speed (series per second) and peak memory (peak RSS of a fresh process doing
  only that job) for fit + backtest + predict with intervals on a synthetic
  panel of yearly series of 20 points (``gpec.datasets.make_panel``), against
  statsforecast's AutoETS / AutoTheta / AutoARIMA (fit + forecast only, no
  backtest, no intervals) and a plain loop of statsmodels ``ETSModel``;
* accuracy (MASE, sMAPE, empirical coverage of the 80% intervals) on the real
  DARES employment series by FAP (1983-2018, national, 3-year moving
  averages), by rolling origin: each method is refitted on the years before
  each origin and scored on the next 1..5 years;
* a national-scale run (300,000 series by default) with its time and peak memory;
* accuracy on data sets never used to tune gpec: Eurostat LFS employment by NUTS-2 region x
  NACE section, 2008-2015 (very short series), and by NUTS-2 region x age band, 1999-2015.

statsforecast is optional (``pip install gpec[bench]``); without it those rows
are skipped. Run::

    python benchmarks/bench_forecast.py            # full run (about 7 min on 2 shared cores)
    python benchmarks/bench_forecast.py --quick    # small panels, no statsforecast on DARES

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


def dares_accuracy(
    first_origin: int = 1999, with_sf: bool = True, code_length: int = 3, **params
) -> pd.DataFrame:
    """Rolling-origin accuracy on the DARES FAP87 series; one row per method."""
    panel = dares_panel(code_length)
    if panel is None:
        return pd.DataFrame()
    return rolling_accuracy(panel, first_origin, H, with_sf, **params)


def rolling_accuracy(
    panel: pd.DataFrame,
    first_origin: int,
    h: int,
    with_sf: bool = True,
    sf_models: tuple[str, ...] = ("AutoETS", "AutoTheta", "AutoARIMA"),
    **params,
) -> pd.DataFrame:
    """Rolling-origin accuracy (h = 1..``h``) of each method on a long panel; one row per method."""
    from gpec.forecast import Forecaster

    H = h  # noqa: N806 (the horizon, as in the module)
    wide = panel.pivot_table(
        index=["territory", "occupation"], columns="period", values="value", aggfunc="sum"
    ).sort_index()
    years = list(wide.columns)
    Y = wide.to_numpy(dtype=float)
    origins = [y for y in years if y >= first_origin and y + H - 1 <= years[-1]]
    recs = []  # method, origin, series, horizon, abs_scaled, smape, covered

    def score(method, o, fc, lo=None, up=None):
        oi = years.index(o)
        actual = Y[:, oi : oi + H]
        for i in range(Y.shape[0]):
            s = _scale(Y[i, :oi])
            for k in range(H):
                a, f = actual[i, k], fc[i, k]
                if not (np.isfinite(a) and np.isfinite(f) and np.isfinite(s)):
                    continue
                cov = np.nan if lo is None else float(lo[i, k] <= a <= up[i, k])
                sm = 0.0 if a == f == 0 else 200 * abs(a - f) / (abs(a) + abs(f))
                recs.append((method, o, i, k + 1, abs(a - f) / s, sm, cov))

    t_gpec = 0.0
    for o in origins:
        train = panel[panel["period"] < o]
        t0 = time.perf_counter()
        fc = Forecaster(horizon=H, level=(80,), verbose=0, **params).fit(train)
        out = fc.predict(all_models=True)
        t_gpec += time.perf_counter() - t0
        out = out.set_index(["territory", "occupation"])
        for name, sel in (("gpec auto", out["selected"]),) + tuple(
            (name, (out["model"] == key) & ~out["selected"])
            for name, key in (
                ("naive", "naive"),
                ("drift", "drift"),
                ("constant share", "cshare"),
                ("damped Holt (gpec)", "holt"),
                ("Theta (gpec)", "theta"),
            )
        ):
            part = out[sel]
            mat = {c: part[c].to_numpy().reshape(-1, H) for c in ("mean", "lower", "upper")}
            pos = {key: j for j, key in enumerate(part.index.unique())}
            idx = [pos.get(key) for key in wide.index]
            full = {c: np.full((len(idx), H), np.nan) for c in mat}
            for r, j in enumerate(idx):
                if j is not None:
                    for c in mat:
                        full[c][r] = mat[c][j]
            score(name, o, full["mean"], full["lower"], full["upper"])
    if with_sf and _have_statsforecast():
        import statsforecast.models as sfm

        for mname in sf_models:
            cls = getattr(sfm, mname)
            for o in origins:
                oi = years.index(o)
                fc = np.full((Y.shape[0], H), np.nan)
                lo, up = fc.copy(), fc.copy()
                for i in range(Y.shape[0]):
                    y = Y[i, :oi]
                    y = y[np.isfinite(y)]
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        try:
                            r = cls(season_length=1).forecast(y=y, h=H, level=[80])
                            fc[i], lo[i], up[i] = r["mean"], r["lo-80"], r["hi-80"]
                        except Exception:
                            fc[i] = lo[i] = up[i] = y[-1]
                score(f"statsforecast {mname}", o, np.maximum(fc, 0), lo, up)
    df = pd.DataFrame(
        recs, columns=["method", "origin", "series", "horizon", "ase", "smape", "covered"]
    )
    res = df.groupby("method", sort=False).agg(
        mase=("ase", "mean"), smape=("smape", "mean"), cov80=("covered", "mean")
    )
    res.attrs.update(
        origins=(origins[0], origins[-1]),
        n_series=Y.shape[0],
        n_forecasts=int(df.groupby("method").size().iloc[0]),
        gpec_seconds=t_gpec,
    )
    return res


# ----------------------------------------------------------------------- main
def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small panels (smoke test)")
    ap.add_argument("--n-series", type=int, default=10_000)
    ap.add_argument("--big", type=int, default=300_000, help="series in the national run (0: skip)")
    args = ap.parse_args(argv)
    n = 1_000 if args.quick else args.n_series
    big = 20_000 if args.quick else args.big
    sf = _have_statsforecast()
    print(f"gpec forecast benchmark - {os.cpu_count()} CPU(s), n_jobs=1 everywhere")
    if not sf:
        print("statsforecast not installed: its rows are skipped (pip install statsforecast)")

    t_start = time.perf_counter()
    speed = {}
    jobs = [("gpec-auto", None), ("gpec-naive", None), ("gpec-drift", None), ("gpec-cshare", None)]
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
    print("  accuracy on the DARES series...", file=sys.stderr)
    acc = dares_accuracy(first_origin=2009 if args.quick else 1999, with_sf=sf and not args.quick)
    print("  accuracy on the short DARES FAP225 series...", file=sys.stderr)
    acc225 = dares_accuracy(first_origin=2010, with_sf=sf and not args.quick, code_length=5)
    print("  accuracy on the Eurostat NUTS-2 x NACE series (held out)...", file=sys.stderr)
    euro, euro_age = eurostat_panel(), eurostat_age_panel()
    sf_eu = ("AutoETS", "AutoTheta")
    acc_eu = (
        rolling_accuracy(euro, 2012, 3, with_sf=sf, sf_models=sf_eu)
        if euro is not None
        else pd.DataFrame()
    )
    acc_age = (
        rolling_accuracy(euro_age, 2008, H, with_sf=sf, sf_models=sf_eu)
        if euro_age is not None
        else pd.DataFrame()
    )

    names = {
        "gpec-auto": "gpec auto",
        "gpec-naive": "naive",
        "gpec-drift": "drift",
        "gpec-cshare": "constant share",
        "statsforecast-AutoETS": "statsforecast AutoETS",
        "statsforecast-AutoTheta": "statsforecast AutoTheta",
        "statsforecast-AutoARIMA": "statsforecast AutoARIMA",
        "statsmodels-ETSModel": "statsmodels ETSModel loop",
    }
    rows = []
    for key, label in names.items():
        sp = speed.get(key)
        row = {"method": label}
        if sp:
            row["series/s"] = sp["series_per_s"]
            row[f"s per {n:,}"] = n / sp["series_per_s"]
            row["peak RSS (GB)"] = sp["peak_gb"]
            row["note"] = (
                "" if sp["series"] >= sp["total"] else f"extrapolated from {sp['series']} series"
            )
        if label in acc.index:
            row.update(acc.loc[label, ["mase", "smape", "cov80"]].to_dict())
        rows.append(row)
    for label in acc.index:
        if label not in names.values():
            rows.append({"method": label, **acc.loc[label, ["mase", "smape", "cov80"]].to_dict()})
    table = pd.DataFrame(rows).set_index("method")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print()
        print(
            f"Speed: fit + backtest + predict with intervals (gpec) or fit + forecast "
            f"(others) on {n:,} yearly series of 20 points, n_jobs=1."
        )
        if acc.size:
            a = acc.attrs
            print(
                f"Accuracy: DARES FAP87 national employment, {a['n_series']} series, rolling "
                f"origins {a['origins'][0]}-{a['origins'][1]}, h=1..{H} "
                f"({a['n_forecasts']} forecasts per method); cov80 = share of actuals inside "
                "the 80% interval."
            )
        print(
            table.round(
                {"series/s": 0, f"s per {n:,}": 1, "peak RSS (GB)": 2, "mase": 3, "smape": 3}
            )
            .round({"cov80": 3})
            .astype(object)
            .where(table.notna(), "")
            .to_string()
        )
        print()
        g = speed["gpec-auto"]["series_per_s"]
        for key in ("statsforecast-AutoETS", "statsmodels-ETSModel"):
            if speed.get(key):
                print(f"gpec auto vs {names[key]}: {g / speed[key]['series_per_s']:.1f}x faster")
        if big_run:
            print(
                f"National run: {big_run['series']:,} series in {big_run['seconds']:.1f} s, "
                f"peak RSS {big_run['peak_gb']:.2f} GB"
            )
        if acc.size:
            auto = acc.loc["gpec auto"]
            others = acc.drop(index=[i for i in acc.index if "(gpec)" in i or i == "gpec auto"])
            beats = all(auto["mase"] < others["mase"]) and all(auto["smape"] < others["smape"])
            print(f"gpec auto beats {', '.join(others.index)} on MASE and sMAPE: {beats}")
    held_out = (
        "Held-out data set, never used to tune gpec: Eurostat LFS employment by NUTS-2 region"
    )
    for table, what, h in (
        (acc225, "Short series: DARES FAP225 ({n} series from 2004, 6-10 training years)", H),
        (
            acc_eu,
            held_out + " x NACE section ({n} complete series 2008-2015, 4-5 training years)",
            3,
        ),
        (acc_age, held_out + " x age band ({n} complete series 1999-2015, 9-12 training years)", H),
    ):
        if table.size:
            a = table.attrs
            print()
            print(
                what.format(n=a["n_series"])
                + f", origins {a['origins'][0]}-{a['origins'][1]}, h=1..{h}:"
            )
            print(table.round(3).to_string())
    print(
        f"(benchmark wall time {time.perf_counter() - t_start:.0f} s; timings are noisy on a "
        "shared machine)"
    )


if __name__ == "__main__":
    main()
