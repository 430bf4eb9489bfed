"""Stale series, absurd values and shocks: each compared with a run on clean data or a hand case."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from gpec.datasets import load_demo, make_panel
from gpec.forecast import Forecaster
from gpec.forecast._robust import find_outliers

KEY = ["territory", "occupation", "period", "level"]


def FC(*args, **kwargs) -> Forecaster:
    kwargs.setdefault("verbose", 0)
    kwargs.setdefault("max_series_slow", 0)
    return Forecaster(*args, **kwargs)


def _fit(panel, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return FC(**kw).fit(panel)


@pytest.fixture(scope="module")
def demo_employment() -> pd.DataFrame:
    return load_demo(["employment"]).employment


def _series(df, terr, occ):
    return (df["territory"] == terr) & (df["occupation"] == occ)


# ------------------------------------------------------------------ stale series
def test_stale_series_continue_their_own_trend_by_hand():
    years = np.arange(2000, 2021)
    a = 10.0 + 2.0 * (years - 2000)  # observed up to 2015 only
    b = 50.0 + 0.5 * (years - 2000)
    panel = pd.DataFrame(
        {
            "territory": "01",
            "occupation": ["A"] * len(years) + ["B"] * len(years),
            "period": np.r_[years, years],
            "value": np.r_[a, b],
        }
    )
    panel = panel[~((panel["occupation"] == "A") & (panel["period"] > 2015))]
    with pytest.warns(UserWarning, match="1 series end before 2020"):
        fc = FC(models="drift", horizon=3, level=(80,)).fit(panel)
    out = fc.predict().set_index("occupation")
    # drift from 2015 (value 40, slope 2): 2021, 2022, 2023 are 6, 7, 8 steps ahead
    np.testing.assert_allclose(out.loc["A", "mean"], [52.0, 54.0, 56.0])
    np.testing.assert_allclose(out.loc["B", "mean"], [60.5, 61.0, 61.5])
    assert out.loc["A", "period"].tolist() == [2021, 2022, 2023]
    assert set(out.loc["A", "last_observed"]) == {2015}
    assert set(out.loc["B", "last_observed"]) == {2020}


def test_demo_series_stopping_in_2016(demo_employment):
    emp = demo_employment
    terr, occ = emp["territory"].iloc[0], emp["occupation"].iloc[0]
    stale = emp[~(_series(emp, terr, occ) & (emp["period"] > 2016))]
    full = _fit(emp, horizon=5, level=(80,)).predict()
    with pytest.warns(UserWarning, match="end before 2024"):
        fc = FC(horizon=5, level=(80,)).fit(stale)
    out = fc.predict()
    mine = out[_series(out, terr, occ)]
    assert mine["period"].tolist() == [2025, 2026, 2027, 2028, 2029]
    assert set(mine["last_observed"]) == {2016}
    assert set(out.loc[~_series(out, terr, occ), "last_observed"]) == {2024}
    # not carried flat from 2016 (the series declines from 455 in 2005 to 301 in 2016)
    assert mine["mean"].iloc[-1] < mine["mean"].iloc[0] < 301.0
    # nine unobserved years: wider than the same series observed up to 2024, and widening
    width = (mine["upper"] - mine["lower"]).to_numpy()
    ref = full[_series(full, terr, occ)]
    assert width[0] > 1.3 * (ref["upper"] - ref["lower"]).iloc[0]
    assert np.all(np.diff(width) >= -1e-9)
    # every other series is forecast as before, up to its territory's share of one series
    both = out.merge(full, on=KEY, suffixes=("", "_full"))
    other = both[~_series(both, terr, occ)]
    rel = (other["mean"] - other["mean_full"]).abs() / other["mean_full"].clip(lower=1)
    assert rel.max() < 0.01


def test_stale_series_intervals_cover_held_out_years():
    """30% of the series stop 3 years early; the held-out years check their intervals."""
    panel = make_panel(10, 100, 20, random_state=5)
    last = panel["period"].max()
    train = panel[panel["period"] <= last - 4]
    keys = train[["territory", "occupation"]].drop_duplicates()
    stop = keys.sample(frac=0.3, random_state=1)
    gone = train.merge(stop.assign(stop=True), how="left")["stop"].eq(True).to_numpy()
    train = train[~(gone & (train["period"] > last - 7).to_numpy())]
    fc = _fit(train, horizon=4, level=(80,))
    out = fc.predict().merge(panel, on=["territory", "occupation", "period"])
    inside = (out["value"] >= out["lower"]) & (out["value"] <= out["upper"])
    is_stale = out["last_observed"] < last - 4
    assert is_stale.mean() == pytest.approx(0.3, abs=0.02)
    # 87% measured; the same intervals not widened for the unobserved years cover 79%
    assert 0.80 <= inside[is_stale].mean() <= 0.93
    assert 0.72 <= inside[~is_stale].mean() <= 0.88


# ---------------------------------------------------------------------- outliers
def test_find_outliers_by_hand():
    Y = np.array(
        [
            [100.0, 102, 101, 1e12, 103, 104, 102, 105],  # absurd value inside
            [100.0, 102, 101, 103, 103, 104, 102, 1e9],  # absurd last value
            [100.0, 102, 101, 103, 160, 165, 170, 172],  # level shift: kept
            [100.0, 102, 101, 60, 98, 104, 102, 105],  # a dip of 40%: kept
            [8.0, 9, 7, 27, 9, 8, 10, 9],  # small counts: kept
            [0.0, 0, 4, 0, 0, 5, 0, 0],  # intermittent: not examined
        ]
    )
    flags, repl = find_outliers(Y)
    assert [tuple(x) for x in np.argwhere(flags)] == [(0, 3), (1, 7)]
    assert repl[0, 3] == pytest.approx(102.5)


@pytest.mark.parametrize("year", [2015, 2024])
def test_absurd_value_leaves_its_territory_alone(demo_employment, year):
    emp = demo_employment
    clean = _fit(emp, horizon=5).predict()
    terr, occ = emp["territory"].iloc[0], emp["occupation"].iloc[0]
    bad = emp.copy()
    bad.loc[_series(bad, terr, occ) & (bad["period"] == year), "value"] = 1e12
    with pytest.warns(UserWarning, match="look like isolated errors"):
        fc = FC(horizon=5).fit(bad)
    listed = fc.outliers_[_series(fc.outliers_, terr, occ)]
    assert listed["period"].tolist() == [year] and listed["value"].tolist() == [1e12]
    both = fc.predict().merge(clean, on=KEY, suffixes=("", "_clean"))
    same_terr = both["territory"] == terr
    others = both[same_terr & (both["occupation"] != occ)]
    for col in ("mean", "lower", "upper"):
        rel = (others[col] - others[col + "_clean"]).abs() / others[col + "_clean"].clip(lower=1)
        assert rel.max() < 0.01, col
    own = both[same_terr & (both["occupation"] == occ)]
    if year == 2015:  # inside the series: the forecast hardly notices
        rel = (own["mean"] - own["mean_clean"]).abs() / own["mean_clean"]
        assert rel.max() < 0.02
    else:  # the last value itself: the forecast stays inside the clean run's 95% band
        wide = own[own["level"] == 95]
        assert ((wide["mean"] >= wide["lower_clean"]) & (wide["mean"] <= wide["upper_clean"])).all()


def test_keeping_the_absurd_value_does_move_its_territory(demo_employment):
    """The same check fails without the outlier rule: the test above has teeth."""
    emp = demo_employment
    terr, occ = emp["territory"].iloc[0], emp["occupation"].iloc[0]
    bad = emp.copy()
    bad.loc[_series(bad, terr, occ) & (bad["period"] == 2015), "value"] = 1e12
    clean = _fit(emp, horizon=3, level=(80,)).predict()
    kept = _fit(bad, horizon=3, level=(80,), outliers="keep").predict()
    both = kept.merge(clean, on=KEY, suffixes=("", "_clean"))
    others = both[(both["territory"] == terr) & (both["occupation"] != occ)]
    rel = (others["upper"] - others["upper_clean"]).abs() / others["upper_clean"].clip(lower=1)
    assert rel.max() > 0.01


def test_absurd_value_on_make_panel():
    panel = make_panel(4, 40, 18, random_state=1)
    clean = _fit(panel, horizon=4, level=(80,)).predict()
    terr, occ = "00002", "Z0007"
    bad = panel.copy()
    bad.loc[_series(bad, terr, occ) & (bad["period"] == 2012), "value"] = 1e12
    fc = _fit(bad, horizon=4, level=(80,))
    both = fc.predict().merge(clean, on=KEY, suffixes=("", "_clean"))
    others = both[~_series(both, terr, occ)]
    for col in ("mean", "lower", "upper"):
        rel = (others[col] - others[col + "_clean"]).abs() / others[col + "_clean"].clip(lower=1)
        assert rel.max() < 0.01, col


# ------------------------------------------------------------------------ shocks
def _check_shock(panel, terr, occ, years):
    """A COVID-like dip (40% for two years) in one series moves others' 80% bands at most as
    one series' errors can move pooled quantiles: between the clean run's 79% and 81% bands in
    other territories; within 3% in its own (its total moves by the series' share too)."""
    shocked = panel.copy()
    dip = _series(shocked, terr, occ) & shocked["period"].isin(years)
    assert dip.sum() == len(years)
    shocked.loc[dip, "value"] = (shocked.loc[dip, "value"] * 0.6).round()
    clean = _fit(panel, horizon=5, level=(79, 80, 81)).predict()
    fc = _fit(shocked, horizon=5, level=(80,))
    assert len(fc.outliers_) == len(_fit(panel, horizon=5, level=(80,)).outliers_)  # no error
    out = fc.predict()
    width = out.assign(w=out["upper"] - out["lower"]).set_index(KEY[:3])["w"]
    ref = clean.assign(w=clean["upper"] - clean["lower"]).pivot_table(
        index=KEY[:3], columns="level", values="w"
    )
    ref = ref.loc[width.index]
    other = ~_series(ref.reset_index(), terr, occ).to_numpy()
    other_terr = (ref.reset_index()["territory"] != terr).to_numpy()
    tol = 1e-6 * ref[80]
    sel = other & other_terr
    assert (width[sel] <= ref.loc[sel, 81] + tol[sel]).all()
    assert (width[sel] >= ref.loc[sel, 79] - tol[sel]).all()
    sel = other & ~other_terr
    assert ((width[sel] / ref.loc[sel, 80]).between(0.97, 1.03)).all()
    # its own band widens: the part above the mean (the lower bound of a small series may be
    # clipped at 0, and the dip lowers its mean, so the full width can shrink)
    above = out.assign(a=out["upper"] - out["mean"]).set_index(KEY[:3])["a"]
    c80 = clean[clean["level"] == 80]
    above_ref = c80.assign(a=c80["upper"] - c80["mean"]).set_index(KEY[:3])["a"]
    own = ~other
    assert (above[own].to_numpy() > above_ref.loc[width.index[own]].to_numpy()).all()


def test_one_series_shock_on_make_panel():
    _check_shock(make_panel(4, 50, 20, random_state=2), "00001", "Z0010", [2020, 2021])


def test_one_series_shock_on_the_demo(demo_employment):
    emp = demo_employment
    _check_shock(emp, emp["territory"].iloc[0], emp["occupation"].iloc[0], [2020, 2021])
