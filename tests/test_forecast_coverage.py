"""Interval coverage checked on held-out years (never against the model's own backtest estimate),
and the sample paths behind the intervals."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from gpec.datasets import make_panel
from gpec.forecast import Forecaster

IDS = ["territory", "occupation"]


def _fit(panel, **kw) -> Forecaster:
    kw.setdefault("verbose", 0)
    kw.setdefault("max_series_slow", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return Forecaster(**kw).fit(panel)


def held_out(panel: pd.DataFrame, origin: int, h: int = 5, level: int = 80) -> dict:
    """Fit on the years before ``origin``; hits of employment, yearly change and cumulative
    employment intervals on the ``h`` years from ``origin`` (series observed throughout)."""
    fc = _fit(panel[panel["period"] < origin], horizon=h, level=(level,))
    out = fc.predict().merge(panel, on=[*IDS, "period"])
    emp = ((out["value"] >= out["lower"]) & (out["value"] <= out["upper"])).to_numpy()
    paths = fc.predict_paths(n_paths=1000, random_state=0)
    wide = panel.pivot_table(index=IDS, columns="period", values="value")
    actual = wide.reindex(pd.MultiIndex.from_frame(paths.ids)).reindex(columns=paths.periods)
    actual = actual.to_numpy(dtype=float)
    ok = np.isfinite(actual).all(axis=1) & np.isfinite(paths.base)
    change = np.diff(np.c_[paths.base, actual], axis=1)
    lo, up = paths.interval(level, paths.differences())
    diff = ((change >= lo) & (change <= up))[ok]
    cum = np.cumsum(actual, axis=1)
    lo, up = paths.interval(level, paths.cumulative())
    cumul = ((cum >= lo) & (cum <= up))[ok]
    return {"employment": emp, "change": diff.ravel(), "cumulative": cumul.ravel()}


def pooled(panel, origins, h=5, level=80) -> dict[str, float]:
    runs = [held_out(panel, o, h, level) for o in origins]
    return {k: float(np.concatenate([r[k] for r in runs]).mean()) for k in runs[0]}


# ------------------------------------------------------------------ synthetic
@pytest.mark.parametrize("seed", [3, 4])
def test_coverage_on_held_out_years_of_make_panel(seed):
    panel = make_panel(10, 100, 20, random_state=seed)  # AR(1) noise, level shifts, trends
    cov = pooled(panel, [2020])
    for quantity, value in cov.items():
        assert 0.72 <= value <= 0.88, (quantity, value)
    cov95 = pooled(panel, [2020], level=95)["employment"]
    assert 0.91 <= cov95 <= 0.985


# ------------------------------------------------------------------ real panels
def _dares(real_data) -> pd.DataFrame:
    path = real_data / "dares-portrait-stat-metiers" / "effectifs_3niv.csv"
    raw = pd.read_csv(path)
    cols = [c for c in raw.columns if len(c) == 3 and c != "Annee"]
    long = raw.melt(id_vars="Annee", value_vars=cols, var_name="occupation").dropna()
    return long.rename(columns={"Annee": "period"}).assign(territory="FR")


def _eurostat_age(real_data) -> pd.DataFrame:
    raw = pd.read_csv(
        real_data / "eurostat-lfs-regional" / "lfst_r_lfe2emp.tsv", sep="\t", dtype=str
    )
    key = raw[raw.columns[0]].str.split(",", expand=True)
    key.columns = ["unit", "sex", "age", "geo"]
    bands = ["Y15-24", "Y25-34", "Y35-44", "Y45-54", "Y55-64", "Y_GE65"]
    sel = key["unit"].eq("THS") & key["sex"].eq("T") & key["age"].isin(bands)
    sel &= key["geo"].str.len().eq(4)
    vals = raw.loc[sel, raw.columns[1:]].apply(
        lambda c: pd.to_numeric(c.str.extract(r"^\s*([0-9.]+)")[0], errors="coerce")
    )
    vals.columns = [int(c.strip()) for c in vals.columns]
    vals.index = pd.MultiIndex.from_frame(key.loc[sel, ["geo", "age"]])
    long = vals.dropna().stack().rename("value").reset_index()
    long.columns = ["territory", "occupation", "period", "value"]
    return long


def _urssaf(real_data) -> pd.DataFrame:
    from gpec.ingest import read_urssaf

    path = real_data / "urssaf-rouen"
    path = next(path.glob("*.csv"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = read_urssaf(path, sector_level="na38", territory_level="epci")
    emp = data.employment[["territory", "occupation", "period", "value"]].dropna()
    return emp.astype({"period": int})


@pytest.mark.parametrize(
    ("name", "load", "origins"),
    [
        ("DARES FAP87 1983-2018", _dares, [2004, 2009, 2014]),
        ("Eurostat NUTS-2 x age 1999-2015", _eurostat_age, [2009, 2011]),
        ("URSSAF Rouen EPCI x NA38 2006-2022", _urssaf, [2014, 2018]),
    ],
)
def test_coverage_on_held_out_years_of_real_panels(real_data, name, load, origins):
    """80% intervals of employment, yearly change and cumulative employment over the next
    five years cover 70-90% of what happened (pooled over origins; common shocks make one
    origin's coverage swing, e.g. DARES from 2009: 67%)."""
    cov = pooled(load(real_data), origins)
    for quantity, value in cov.items():
        assert 0.70 <= value <= 0.90, (name, quantity, value)


# ---------------------------------------------------------------------- paths
@pytest.fixture(scope="module")
def fitted():
    panel = make_panel(5, 60, 18, random_state=7)
    keys = panel[IDS].drop_duplicates().iloc[::10]
    gone = panel.merge(keys.assign(g=True), how="left")["g"].eq(True).to_numpy()
    panel = panel[~(gone & (panel["period"] > 2018)).to_numpy()]  # 10% stop 4 years early
    return _fit(panel, horizon=4, level=(80, 95))


def test_path_quantiles_are_the_intervals(fitted):
    paths = fitted.predict_paths(n_paths=4000, random_state=1)
    out = fitted.predict()
    for level in (80, 95):
        part = out[out["level"] == level]
        lower = part["lower"].to_numpy().reshape(-1, 4)
        upper = part["upper"].to_numpy().reshape(-1, 4)
        lo, up = paths.interval(level)
        width = np.maximum(upper - lower, 1e-9)
        assert np.median(np.abs(lo - lower) / width) < 0.03
        assert np.median(np.abs(up - upper) / width) < 0.03
        assert np.quantile(np.abs(up - upper) / width, 0.95) < 0.15
    stale = fitted.predict()["last_observed"].to_numpy()[::8] < 2022
    assert stale.sum() > 0
    # stale series: the paths spread as their (wider) intervals do
    lo, up = paths.interval(80)
    part = out[out["level"] == 80]
    upper = part["upper"].to_numpy().reshape(-1, 4)
    lower = part["lower"].to_numpy().reshape(-1, 4)
    ratio = (up - lo)[stale] / np.maximum(upper - lower, 1e-9)[stale]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.05)


def test_paths_are_seeded_and_summarised(fitted):
    a = fitted.predict_paths(n_paths=50, random_state=3)
    b = fitted.predict_paths(n_paths=50, random_state=np.random.default_rng(3))
    c = fitted.predict_paths(n_paths=50, random_state=4)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    assert (a.values >= 0).all()
    summ = a.summary("cumulative", level=80)
    assert list(summ.columns) == [*IDS, "period", "quantity", "median", "lower", "upper", "level"]
    cum = summ.pivot_table(index=IDS, columns="period", values="upper")
    assert (cum.diff(axis=1).iloc[:, 1:] >= -1e-9).to_numpy().all()
    with pytest.raises(ValueError, match="n_paths"):
        fitted.predict_paths(n_paths=0)
    with pytest.raises(ValueError, match="quantity"):
        a.summary("openings")
