"""Forecast accuracy and reconciliation on the real URSSAF panel of the zone d'emploi de Rouen.

    python benchmarks/bench_rouen.py                     # everything (8 min on 2 loaded cores)
    python benchmarks/bench_rouen.py --no-statsforecast  # gpec and the simple baselines only
    python benchmarks/bench_rouen.py --origins 2016 2017 # fewer rolling origins

Private salaried employment (URSSAF open data, commune x APE, 2006-2022) of the Seine-Maritime
part of the zone d'emploi de Rouen, read with ``gpec.ingest.read_urssaf`` (published cells only:
an empty cell is unknown, never 0) and summed to NA38 sectors.

1. **Accuracy** by rolling origin (origins 2012-2017, h = 1..5, every step scored inside
   2022) on two panels: EPCI x NA38 and commune x NA38 restricted to the series with at least
   12 published years of 17 ("enough cells known"). ``gpec auto`` beside naive (no change),
   drift, constant share, and statsforecast's AutoETS / AutoTheta / AutoARIMA when installed
   (AutoARIMA on the EPCI panel only unless ``--arima-communes``: about 0.3 s a fit, 9,000 fits
   on the commune panel).
   MASE scales each error by the in-sample mean absolute yearly change of its series (before the
   origin); sMAPE in %; cov80 is the share of actuals inside the 80 % interval.
2. **The file's own totals**: the commune cells summed by the reader to EPCI and to the zone
   d'emploi, against the raw CSV summed with pandas alone (``Code EPCI``, ``Code zone
   d'emploi`` columns), every year.
3. **Reconciliation** commune -> EPCI -> zone d'emploi (every NA38 sector): base forecasts of
   the three levels against bottom-up, MinT-OLS and WLS-structural, scored at each level against
   the totals of the file (sums of the published cells), with the incoherence of the base
   forecasts (zone forecast minus the sum of its communes').

Nothing here was used to choose any gpec setting.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import bench_forecast as bf
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
FILE = "urssaf-rouen/etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last.csv"
H = 5
ORIGINS = (2012, 2013, 2014, 2015, 2016, 2017)
MIN_YEARS = 12  # commune x NA38 series kept: at least this many published years (of 17)
BASELINES = ("naive", "drift", "constant share")  # gpec's single models shown
SF_MODELS = ("AutoETS", "AutoTheta", "AutoARIMA")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def read(real: Path):
    """The commune x NA38 bundle (territories up to France) and the EPCI / zone panels."""
    from gpec.ingest import read_urssaf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        com = read_urssaf(real / FILE, sector_level="na38", territory_level="commune")
        epci = read_urssaf(real / FILE, sector_level="na38", territory_level="epci")
        zone = read_urssaf(real / FILE, sector_level="na38", territory_level="zone_emploi")
    return com, epci, zone


def _long(data) -> pd.DataFrame:
    e = data.employment[["territory", "occupation", "period", "value"]].dropna(subset=["value"])
    return e.assign(period=e["period"].astype(int)).reset_index(drop=True)


# ------------------------------------------------------------------ accuracy
# the rolling-origin scorer of bench_forecast: records (method, origin, series, horizon, ase,
# smape, covered), a stale series forecast over its missing years by every method
def _matrix(out: pd.DataFrame, index: pd.Index, years_ahead: list[int]) -> dict:
    full = {c: np.full((len(index), H), np.nan) for c in ("mean", "lower", "upper")}
    t = out.pivot_table(
        index=["territory", "occupation"], columns="period", values=list(full), aggfunc="first"
    )
    t = t.reindex(index)
    for c in full:
        cols = [(c, p) for p in years_ahead]
        full[c] = t.reindex(columns=pd.MultiIndex.from_tuples(cols)).to_numpy(float)
    return full


def gpec_records(panel: pd.DataFrame, origins) -> pd.DataFrame:
    """gpec auto and its simple baselines, every origin (forecast from the data before it)."""
    recs = bf.gpec_records(panel, origins, H, {}, baselines=True)
    return recs[recs["method"].isin(["gpec auto", *BASELINES])]


def sf_records(panel: pd.DataFrame, origins, models) -> pd.DataFrame:
    """statsforecast models per series (not cached: the panels here are small)."""
    return bf.sf_records(panel, origins, H, models, cache=None)


def summarise(recs: pd.DataFrame) -> pd.DataFrame:
    g = recs.groupby("method", sort=False)
    t = g.agg(
        mase=("ase", "mean"), smape=("smape", "mean"), cov80=("covered", "mean"), n=("ase", "size")
    )
    by_h = recs.pivot_table(index="method", columns="horizon", values="ase", aggfunc="mean")
    by_h.columns = [f"mase h={h}" for h in by_h.columns]
    t = t.join(by_h)
    t.insert(1, "vs naive", t["mase"] / t.loc["naive", "mase"])
    return t


# ------------------------------------------------------------------ the file's own totals
def file_totals(real: Path, com, epci, zone) -> pd.DataFrame:
    """Reader's EPCI / zone totals (sums of published commune cells) against the raw CSV."""
    raw = pd.read_csv(real / FILE, sep=";", dtype=str, encoding="utf-8-sig")
    years = [c for c in raw.columns if c.startswith("Effectifs salariés ")]
    num = raw[years].apply(lambda c: pd.to_numeric(c.str.replace(",", "."), errors="coerce"))
    num.columns = [int(c.rsplit(" ", 1)[1]) for c in years]
    rows = []
    for level, col, data in (
        ("epci", "Code EPCI", epci),
        ("zone_emploi", "Code zone d'emploi", zone),
    ):
        want = num.groupby(raw[col]).sum(min_count=1).stack().rename("raw")
        e = _long(data)
        got = e.groupby(["territory", "period"])["value"].sum().rename("reader")
        c = _long(com).merge(
            com.extra["memberships"]
            .query("level == @level")[["commune", "territory"]]
            .rename(columns={"commune": "territory", "territory": "up"}),
            on="territory",
        )
        up = c.groupby(["up", "period"])["value"].sum().rename("communes summed")
        up.index.names = ["territory", "period"]
        want.index.names = ["territory", "period"]
        t = pd.concat([want, got, up], axis=1)
        rows.append(
            {
                "level": level,
                "territories": t.index.get_level_values(0).nunique(),
                "territory-years": len(t),
                "raw total 2022": t.xs(2022, level="period")["raw"].sum(),
                "max |reader - raw|": (t["reader"] - t["raw"]).abs().max(),
                "max |communes - raw|": (t["communes summed"] - t["raw"]).abs().max(),
                "published, missing in reader": int((t["raw"].notna() & t["reader"].isna()).sum()),
                "all cells empty (null in both)": int((t["raw"].isna() & t["reader"].isna()).sum()),
            }
        )
    return pd.DataFrame(rows).set_index("level")


# ------------------------------------------------------------------ reconciliation
def reconciliation(com, epci, zone, origins) -> pd.DataFrame:
    """Base forecasts of the three levels against reconciled ones, scored at each level."""
    from gpec.forecast import Forecaster, reconcile

    terr = com.territories
    level_of = terr.set_index("territory")["level"]
    panel = pd.concat([_long(com), _long(epci), _long(zone)], ignore_index=True)
    wide = bf._wide(panel)
    years = list(wide.columns)
    Y = wide.to_numpy(float)
    lv = wide.index.get_level_values("territory").map(level_of)
    levels = ["commune", "epci", "zone_emploi"]
    recs: list = []
    incoherence = []
    for o in origins:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = Forecaster(horizon=H, level=(80,), verbose=0, random_state=0)
            base = f.fit(panel[panel["period"] < o]).predict()
        base = base[base["level"] == 80]
        z = base[base["territory"].map(level_of) == "zone_emploi"]
        c = base[base["territory"].map(level_of) == "commune"]
        zs = z.groupby(["occupation", "period"])["mean"].sum()
        cs = c.groupby(["occupation", "period"])["mean"].sum().reindex(zs.index).fillna(0.0)
        incoherence.append((zs - cs).abs().sum() / zs.sum())
        fcs = {"base": base}
        for method in ("bottom_up", "mint_ols", "wls_struct"):
            fcs[method] = reconcile(base, terr, method=method, levels=levels)
        for name, fc in fcs.items():
            m = _matrix(fc, wide.index, list(range(o, o + H)))
            for lev in levels:
                sel = np.asarray(lv == lev)
                bf._score((name, lev), o, years, Y[sel], m["mean"][sel], None, None, H, recs)
    df = pd.DataFrame(recs, columns=["method", "origin", "series", "h", "ase", "smape", "cov"])
    df[["forecast", "level"]] = pd.DataFrame(df["method"].tolist(), index=df.index)
    t = df.pivot_table(index="forecast", columns="level", values="ase", aggfunc="mean")
    t = t.reindex(index=["base", "bottom_up", "mint_ols", "wls_struct"], columns=levels)
    t.columns = [f"MASE {c}" for c in t.columns]
    t.attrs["incoherence"] = float(np.mean(incoherence))
    return t


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REAL))
    ap.add_argument("--origins", type=int, nargs="+", default=list(ORIGINS))
    ap.add_argument("--no-statsforecast", action="store_true")
    ap.add_argument(
        "--arima-communes", action="store_true", help="AutoARIMA on the commune panel too (slow)"
    )
    args = ap.parse_args(argv)
    real = Path(args.data)
    if not (real / FILE).is_file():
        print(f"URSSAF Rouen file not found under {real}: nothing to run")
        return
    try:
        import statsforecast  # noqa: F401

        sf = not args.no_statsforecast
    except ImportError:
        sf = False
        print("statsforecast not installed: its rows are skipped (pip install statsforecast)")
    t0 = time.time()
    com, epci, zone = read(real)
    commune = _long(com)
    n = commune.groupby(["territory", "occupation"])["period"].transform("size")
    commune_models = SF_MODELS if args.arima_communes else SF_MODELS[:2]
    panels = {
        "EPCI x NA38": (_long(epci), SF_MODELS),
        f"commune x NA38 (>= {MIN_YEARS} published years)": (
            commune[n >= MIN_YEARS],
            commune_models,
        ),
    }
    pd.set_option("display.width", 200)
    for name, (panel, sf_models) in panels.items():
        n_series = panel.groupby(["territory", "occupation"]).ngroups
        _say(f"[{time.time() - t0:5.0f} s] {name}: {n_series} series, gpec...")
        recs = gpec_records(panel, args.origins)
        if sf:
            _say(f"[{time.time() - t0:5.0f} s] {name}: statsforecast...")
            recs = pd.concat([recs, sf_records(panel, args.origins, sf_models)])
        print(
            f"\n{name}: {n_series} series, origins {args.origins[0]}-{args.origins[-1]}, "
            f"h = 1..{H} (scored inside 2022)"
        )
        print(summarise(recs).round(3).to_string())

    _say(f"[{time.time() - t0:5.0f} s] file totals...")
    print("\nThe file's own totals: reader (and communes summed) against the raw CSV summed")
    print(file_totals(real, com, epci, zone).to_string())

    _say(f"[{time.time() - t0:5.0f} s] reconciliation...")
    rec = reconciliation(com, epci, zone, args.origins)
    print(
        "\nReconciliation commune -> EPCI -> zone d'emploi (all NA38 sectors), MASE against the "
        f"file's totals; base forecasts incoherent by {rec.attrs['incoherence']:.1%} of the zone "
        "total (|zone - sum of communes|)"
    )
    print(rec.round(3).to_string())
    _say(f"[{time.time() - t0:5.0f} s] done")


if __name__ == "__main__":
    main()
