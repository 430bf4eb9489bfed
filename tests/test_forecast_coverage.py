"""Interval coverage checked on held-out years (never against the model's own backtest estimate),
and the sample paths behind the intervals."""

from __future__ import annotations

import math
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


# ------------------------------------------------------- sums over series
def _total_hits(panel: pd.DataFrame, origin: int, dependence=None, h: int = 5) -> np.ndarray:
    """Hits of the 80% intervals of each territory's total employment (per year, then summed
    over the years) on the ``h`` years from ``origin``, from the paths summed over series."""
    fc = _fit(panel[panel["period"] < origin], horizon=h, level=(80,))
    paths = fc.predict_paths(n_paths=1000, random_state=0, dependence=dependence)
    wide = panel.pivot_table(index=IDS, columns="period", values="value")
    actual = wide.reindex(pd.MultiIndex.from_frame(paths.ids)).reindex(columns=paths.periods)
    actual = actual.to_numpy(dtype=float)
    ok = np.isfinite(actual).all(axis=1)
    codes = pd.factorize(paths.ids["territory"])[0]
    hits = []
    for g in np.unique(codes[ok]):
        m = ok & (codes == g)
        total = paths.values[m].sum(axis=0)  # paths x years
        for sim, act in ((total, actual[m].sum(axis=0)), (np.cumsum(total, axis=1), None)):
            act = np.cumsum(actual[m].sum(axis=0)) if act is None else act
            lo, up = np.quantile(sim, [0.1, 0.9], axis=0)
            hits.append((act >= lo) & (act <= up))
    return np.concatenate(hits)


def test_territory_totals_cover_held_out_years_of_a_real_panel(real_data):
    """The paths of the series of a territory move together as their yearly changes did
    (dependence estimated on the training years): the 80% interval of each NUTS-2 region's
    total employment over six age bands covers 72-88% of what happened. Drawn independently
    the same intervals cover about 68% (the age bands share the region's business cycle);
    in lockstep (sum of the bands' bounds) about 90%."""
    panel = _eurostat_age(real_data)
    hits = np.concatenate([_total_hits(panel, o) for o in (2009, 2011)])
    assert hits.size > 1000
    assert 0.72 <= hits.mean() <= 0.88, hits.mean()


def test_dependence_is_estimated_and_moves_sums_between_independent_and_lockstep():
    rng = np.random.default_rng(5)
    years = np.arange(1995, 2021)
    common = rng.standard_normal(len(years))  # a shock shared by every series of territory A
    rows = []
    for terr, share in (("A", 0.8), ("B", 0.0)):
        for k in range(15):
            own = rng.standard_normal(len(years))
            steps = np.sqrt(share) * common + np.sqrt(1 - share) * own
            rows.append(
                pd.DataFrame(
                    {"territory": terr, "occupation": f"o{k}", "period": years,
                     "value": 500 + np.cumsum(10 * steps)}
                )
            )  # fmt: skip
    fc = _fit(pd.concat(rows, ignore_index=True), horizon=3, level=(80,))
    r_all, r_within = fc.dependence_
    # pairs within A: 0.8, within B: 0, across: 0 -> weighted averages of these
    assert 0.3 <= r_within <= 0.5, r_within
    assert 0.1 <= r_all <= 0.25, r_all
    widths = {}
    for dep in (0.0, None, 1.0):
        paths = fc.predict_paths(n_paths=2000, random_state=0, dependence=dep)
        total = paths.values.sum(axis=0)
        lo, up = np.quantile(total, [0.1, 0.9], axis=0)
        widths[dep] = up - lo
        if dep == 1.0:  # lockstep: the interval of the sum is the sum of the intervals
            lo_i, up_i = paths.interval(80)
            np.testing.assert_allclose(up - lo, (up_i - lo_i).sum(axis=0), rtol=0.02)
    assert (widths[0.0] < widths[None]).all() and (widths[None] < widths[1.0]).all()
    with pytest.raises(ValueError, match="dependence"):
        fc.predict_paths(n_paths=10, dependence=1.5)


# ------------------------------------------------------------- recent windows
def _conformal(values: list[float], p: float) -> float:
    """Finite-sample conformal quantile, written out: the ceil((n+1)p)-th smallest value
    (upper tail) or the floor((n+1)p)-th (lower tail)."""
    v = sorted(values)
    n = len(v)
    rank = math.ceil((n + 1) * p) if p >= 0.5 else math.floor((n + 1) * p)
    return v[min(max(rank, 1), n) - 1]


def _mean_abs_change(y) -> float:
    return sum(abs(b - a) for a, b in zip(y[:-1], y[1:], strict=True)) / (len(y) - 1)


def test_recent_window_errors_enter_the_pool_at_the_steps_they_observe():
    """Naive forecasts, h = 2, one full window (origin T-2) and one recent window (origin T-1,
    forecasting the last year only). Computed by hand: the step-1 quantiles pool both windows'
    one-step errors, the step-2 quantiles only the full window's two-step errors. The last
    year's changes are four times as spread as the others', so that leaving the recent
    window out, or filling its second step, gives other bounds."""
    rng = np.random.default_rng(12)
    n, T = 60, 12
    steps = rng.normal(0.0, 1.0, size=(n, T - 1))
    steps[:, -1] *= 4.0
    Y = 100.0 + np.c_[np.zeros(n), np.cumsum(steps, axis=1)]
    panel = pd.DataFrame(
        [(f"{i:02d}", "A", 2000 + t, Y[i, t]) for i in range(n) for t in range(T)],
        columns=["territory", "occupation", "period", "value"],
    )
    kw = {"horizon": 2, "n_windows": 1, "level": (80,), "outliers": "keep"}
    out = _fit(panel, models="naive", recent_windows=1, **kw).predict()
    step1, step2 = [], []
    for y in Y.tolist():
        s_full = _mean_abs_change(y[:10])  # origin T-2: trained on 10 years
        step1.append((y[10] - y[9]) / s_full)
        step2.append((y[11] - y[9]) / s_full)
        step1.append((y[11] - y[10]) / _mean_abs_change(y[:11]))  # origin T-1
    q = {
        1: (min(_conformal(step1, 0.1), 0.0), max(_conformal(step1, 0.9), 0.0)),
        2: (min(_conformal(step2, 0.1), 0.0), max(_conformal(step2, 0.9), 0.0)),
    }
    q[2] = (min(q[2][0], q[1][0]), max(q[2][1], q[1][1]))  # never narrower at step 2
    want_lo, want_up = [], []
    for y in Y.tolist():
        scale = _mean_abs_change(y)
        for k in (1, 2):
            want_lo.append(max(y[-1] + q[k][0] * scale, 0.0))
            want_up.append(max(y[-1] + q[k][1] * scale, 0.0))
    np.testing.assert_allclose(out["lower"], want_lo, rtol=1e-10)
    np.testing.assert_allclose(out["upper"], want_up, rtol=1e-10)
    # the data tell the three pools apart: without the recent window, step 1 is narrower
    old = _fit(panel, models="naive", recent_windows=0, **kw).predict()
    gap = (out["upper"] - old["upper"]).to_numpy().reshape(n, 2)
    assert (gap[:, 0] > 0).all() and np.allclose(gap[:, 1], 0.0)


def test_recent_windows_change_only_the_intervals():
    """The recent windows join the interval pool only: forecasts, weights, backtest tables and
    residuals are those of the n_windows windows."""
    panel = make_panel(4, 30, 16, random_state=5)
    a = _fit(panel, horizon=4, level=(80,), recent_windows=0)
    b = _fit(panel, horizon=4, level=(80,), recent_windows=2)
    pa, pb = a.predict(), b.predict()
    np.testing.assert_array_equal(pa["mean"], pb["mean"])
    np.testing.assert_array_equal(a.weights_, b.weights_)
    pd.testing.assert_frame_equal(a.backtest_, b.backtest_)
    pd.testing.assert_frame_equal(a.residuals(), b.residuals())
    assert not np.allclose(pa["upper"], pb["upper"])
    # the paths' quantiles are still the intervals
    lo, up = b.predict_paths(n_paths=2000, random_state=1).interval(80)
    width = (pb["upper"] - pb["lower"]).to_numpy().reshape(lo.shape)
    ok = width > 0
    rel = np.abs(up - pb["upper"].to_numpy().reshape(up.shape))[ok] / width[ok]
    assert np.median(rel) < 0.03


def _hand_weights(scores: np.ndarray, shrink: float) -> np.ndarray:
    """Inverse-score weights of two models kept both (plain 1 / s'), scores (models, windows,
    series) averaged over the windows given, shrunk towards the 25%-trimmed panel ratio r_m."""
    s = scores.mean(axis=1)  # (models, series)
    avg = s.mean(axis=0)
    n = s.shape[1]
    cut = int(0.25 * n)
    r = np.array([np.sort(row)[cut : n - cut].mean() for row in s / avg])
    s = (1 - shrink) * s + shrink * r[:, None] * avg[None, :]
    w = 1.0 / s
    return w / w.sum(axis=0)


def test_recent_window_weights_come_only_from_windows_scored_before_its_origin():
    """Naive and drift, h = 2, backtest windows at origins T-3 (scoring T-3, T-2) and T-2
    (scoring T-2, T-1), one recent window at T-1. Written out in numpy: only the window at T-3
    is scored before T-1, so the recent forecast's weights (and the shrinkage ratios r_m) come
    from it alone; the backtest's own errors are leave-one-window-out. The planted wrong
    version, weights from both windows (which score the year T-1 being forecast), gives other
    bounds, and the forecaster matches the honest one."""
    rng = np.random.default_rng(7)
    n, T, h, shrink = 12, 10, 2, 0.5
    slope = rng.uniform(-2.0, 2.0, size=(n, 1))
    steps = slope + rng.normal(0.0, 1.0, size=(n, T - 1))
    steps[:, -1] += rng.choice([-6.0, 6.0], size=n)  # the last year breaks the trend
    Y = 100.0 + np.c_[np.zeros(n), np.cumsum(steps, axis=1)]
    panel = pd.DataFrame(
        [(f"{i:02d}", "A", 2000 + t, Y[i, t]) for i in range(n) for t in range(T)],
        columns=["territory", "occupation", "period", "value"],
    )
    fc = _fit(
        panel,
        models=["naive", "drift"],
        horizon=h,
        n_windows=2,
        recent_windows=1,
        top_k=2,
        combine="inverse",
        shrink=shrink,
        level=(80,),
        outliers="keep",
    )
    out = fc.predict()

    def forecasts(o):  # (models, series, h) from the years before column o
        last, first = Y[:, o - 1], Y[:, 0]
        k = np.arange(1, h + 1)
        return np.stack(
            [np.repeat(last[:, None], h, 1), last[:, None] + np.outer((last - first) / (o - 1), k)]
        )

    def scale(o):
        return np.abs(np.diff(Y[:, :o], axis=1)).mean(axis=1)

    origins = [T - 3, T - 2]  # backtest windows; the recent origin is T - 1
    fcs = {o: forecasts(o) for o in [*origins, T - 1, T]}
    scores = np.stack(
        [
            (np.abs(fcs[o] - Y[None, :, o : o + h]) / scale(o)[None, :, None]).mean(axis=2)
            for o in origins
        ],
        axis=1,
    )  # (models, windows, series)
    # the two windows' honest errors: each window's weights from the other one
    err = {o: None for o in origins}
    for j, o in enumerate(origins):
        w = _hand_weights(scores[:, [1 - j]], shrink)
        err[o] = (Y[:, o : o + h] - np.einsum("mn,mnh->nh", w, fcs[o])) / scale(o)[:, None]

    def bounds(recent_windows_used):
        w = _hand_weights(scores[:, recent_windows_used], shrink)
        recent = (Y[:, T - 1] - (w * fcs[T - 1][:, :, 0]).sum(axis=0)) / scale(T - 1)
        step1 = [*err[origins[0]][:, 0], *err[origins[1]][:, 0], *recent]
        step2 = [*err[origins[0]][:, 1], *err[origins[1]][:, 1]]
        q1 = (min(_conformal(step1, 0.1), 0.0), max(_conformal(step1, 0.9), 0.0))
        q2 = (min(_conformal(step2, 0.1), 0.0), max(_conformal(step2, 0.9), 0.0))
        q2 = (min(q2[0], q1[0]), max(q2[1], q1[1]))
        mean = np.einsum("mn,mnh->nh", _hand_weights(scores, shrink), fcs[T])
        s = scale(T)
        lo = np.maximum(mean + np.array([q1[0], q2[0]]) * s[:, None], 0.0)
        up = np.maximum(mean + np.array([q1[1], q2[1]]) * s[:, None], 0.0)
        return lo.ravel(), up.ravel(), mean.ravel()

    lo, up, mean = bounds([0])  # only the window at T-3 ends before T-1
    np.testing.assert_allclose(out["mean"], mean, rtol=1e-10)
    np.testing.assert_allclose(out["lower"], lo, rtol=1e-10)
    np.testing.assert_allclose(out["upper"], up, rtol=1e-10)
    wrong_lo, wrong_up, _ = bounds([0, 1])
    assert np.abs(np.r_[wrong_lo - lo, wrong_up - up]).max() > 0.01 * np.abs(up - lo).mean()


def test_recent_origin_without_a_window_scored_before_it_is_left_out():
    """Ten years, h = 6: the backtest origins are T-7, T-6 and T-1 (short panel), each
    scoring the year T-2 or a later one; no window ends before the recent origin T-2, which has
    no honest weights and stays out of the pool: the intervals are those without recent windows
    (with weights from every window, as before, they were not)."""
    panel = make_panel(3, 10, 10, random_state=2)
    a = _fit(panel, horizon=6, level=(80,), recent_windows=0).predict()
    b = _fit(panel, horizon=6, level=(80,), recent_windows=2).predict()
    pd.testing.assert_frame_equal(a, b)
