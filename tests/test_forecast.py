"""Tests of gpec.forecast: vectorised models, backtest, selection, intervals, Forecaster."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from _helpers import FORECAST_COLUMNS, missing_real_data

from gpec.forecast import Forecaster, coverage, mase_scale
from gpec.forecast import _fast as fast
from gpec.forecast._fast import prepare_matrix
from gpec.forecast._intervals import apply_intervals, conformal_quantiles, fallback_scale
from gpec.forecast._select import combination_weights, fallback_reasons


def FC(*args, **kwargs) -> Forecaster:
    """A quiet Forecaster without the (slow) per-series statsmodels candidates."""
    kwargs.setdefault("verbose", 0)
    kwargs.setdefault("max_series_slow", 0)
    return Forecaster(*args, **kwargs)


COLUMNS = [*FORECAST_COLUMNS, "last_observed"]


def _panel(series: dict[tuple[str, str], list[float]], start: int = 2000) -> pd.DataFrame:
    rows = []
    for (terr, occ), values in series.items():
        for k, v in enumerate(values):
            rows.append((terr, occ, start + k, v))
    return pd.DataFrame(rows, columns=["territory", "occupation", "period", "value"])


@pytest.fixture
def trend_panel(rng) -> pd.DataFrame:
    series = {}
    for i in range(30):
        level = 50 + 20 * i
        slope = rng.normal(0, 2)
        noise = rng.normal(0, 3, 15).cumsum() * 0.5
        series[(f"{i % 3:02d}", f"A{i:03d}")] = list(
            np.maximum(level + slope * np.arange(15) + noise, 0)
        )
    return _panel(series)


# ----------------------------------------------------------------- fast models
def test_naive_and_drift_exact():
    X = np.array([[1.0, 2.0, 3.0, 5.0], [4.0, 4.0, 4.0, 4.0]])
    assert fast.naive(X, 3).tolist() == [[5.0] * 3, [4.0] * 3]
    np.testing.assert_allclose(fast.drift(X, 2), [[5 + 4 / 3, 5 + 8 / 3], [4.0, 4.0]])
    np.testing.assert_allclose(fast.mean(X, 1), [[2.75], [4.0]])


def test_drift_and_mean_respect_series_start():
    X, start, n_obs = prepare_matrix(np.array([[np.nan, np.nan, 10.0, 12.0, 14.0]]))
    assert start.tolist() == [2] and n_obs.tolist() == [3]
    np.testing.assert_allclose(fast.drift(X, 2, start), [[16.0, 18.0]])
    np.testing.assert_allclose(fast.mean(X, 1, start), [[12.0]])


def test_prepare_matrix_fills_gaps():
    X, start, n_obs = prepare_matrix(np.array([[np.nan, 2.0, np.nan, np.nan, 8.0, np.nan]]))
    np.testing.assert_allclose(X, [[2.0, 2.0, 4.0, 6.0, 8.0, 8.0]])
    X, start, n_obs = prepare_matrix(np.full((1, 3), np.nan))
    assert start.tolist() == [3] and n_obs.tolist() == [0] and np.isfinite(X).all()


def test_holt_and_ses_on_known_series():
    line = np.arange(20.0)[None, :] * 3 + 10
    fc = fast.holt(line, 3)
    # exact linear data: one-step errors are 0 once the trend is learnt; damping only
    np.testing.assert_allclose(fc[0, 0], 70.0, rtol=0.02)
    assert np.all(np.diff(fc[0]) > 0)
    const = np.full((1, 10), 7.0)
    np.testing.assert_allclose(fast.holt(const, 4), 7.0)
    np.testing.assert_allclose(fast.ses(const, 4), 7.0)


def test_theta_is_ses_with_half_slope_drift():
    line = np.arange(10.0)[None, :] * 2 + 5  # slope 2
    fc = fast.theta(line, 3)
    # alpha = 1 fits perfectly: l_T + b/2 * k
    np.testing.assert_allclose(fc, [[23 + 1.0, 23 + 2.0, 23 + 3.0]], rtol=1e-9)


def _drift_ses_reference(y: list[float], h: int) -> list[float]:
    """Plain-Python loop over the documented grid: the oracle for ``fast.drift_ses``."""
    best = None
    for alpha in fast.THETA_ALPHAS:
        for w in fast.DRIFT_WEIGHTS:
            level, sse = y[0], 0.0
            for t in range(1, len(y)):
                xs = list(range(t))  # least-squares slope of y[0..t-1] against time
                mx, my = sum(xs) / t, sum(y[:t]) / t
                sxx = sum((x - mx) ** 2 for x in xs)
                b = (
                    sum((x - mx) * (v - my) for x, v in zip(xs, y[:t], strict=True)) / sxx
                    if sxx
                    else 0.0
                )
                pred = level + w * b
                if t >= 2:
                    sse += (y[t] - pred) ** 2
                level = pred + alpha * (y[t] - pred)
            n = len(y)
            mx, my = (n - 1) / 2, sum(y) / n
            b = sum((x - mx) * (v - my) for x, v in enumerate(y)) / sum(
                (x - mx) ** 2 for x in range(n)
            )
            if best is None or sse < best[0] - 1e-12:
                best = (sse, [level + w * b * k for k in range(1, h + 1)])
    return best[1]


def test_drift_ses_matches_a_plain_loop_reference(rng):
    rows = [list(50 + rng.normal(0, 3, 12).cumsum() + s * np.arange(12)) for s in (-2, 0, 1, 4)]
    got = fast.drift_ses(np.array(rows), 4)
    want = [_drift_ses_reference(r, 4) for r in rows]
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_drift_ses_starts_at_each_series_first_observation(rng):
    y = 30 + rng.normal(0, 2, 10).cumsum() + 1.5 * np.arange(10)
    alone = fast.drift_ses(y[None, :], 3)
    # the same series behind a back-filled gap of four periods (as prepare_matrix leaves it)
    X, start, _ = prepare_matrix(np.r_[[np.nan] * 4, y][None, :])
    np.testing.assert_allclose(fast.drift_ses(X, 3, start), alone, rtol=1e-9)


def test_drift_ses_line_and_flat_series():
    line = 5 + 2 * np.arange(10.0)
    np.testing.assert_allclose(fast.drift_ses(line[None, :], 3), [[25.0, 27.0, 29.0]])
    flat = np.full((1, 8), 7.0)
    np.testing.assert_allclose(fast.drift_ses(flat, 2), [[7.0, 7.0]])


def _otm_errors(y, alpha, c, l0):
    """One-step errors of the optimised Theta recursion, written out plainly."""
    n = len(y)
    t = np.arange(1, n + 1.0)
    b, a = np.polyfit(t, y, 1)  # least-squares line a + b i over i = 1..n
    level, errs = l0, []
    for i in range(n):
        trend = a * (1 - alpha) ** i + b * (1 - (1 - alpha) ** (i + 1)) / alpha
        errs.append(y[i] - (level + c * trend))
        level = alpha * y[i] + (1 - alpha) * level
    return np.array(errs), level, a, b


def _otm_reference(y, h):
    """Optimised Theta fitted by a bounded scalar search over c (the initial level given c by
    least squares on the plain loop's errors), not by the closed form."""
    from scipy.optimize import minimize_scalar

    best = None
    for alpha in fast.OTM_ALPHAS:

        def profile(c, alpha=alpha):
            e0 = _otm_errors(y, alpha, c, 0.0)[0][3:]
            q = e0 - _otm_errors(y, alpha, c, 1.0)[0][3:]  # the errors are linear in l0
            l0 = float(q @ e0 / (q @ q))
            return float(np.sum((e0 - l0 * q) ** 2)), l0

        fit = minimize_scalar(
            lambda c: profile(c)[0],
            bounds=(0, 1 - 1e-9),
            method="bounded",
            options={"xatol": 1e-12},
        )
        sse, l0 = profile(fit.x)
        if best is None or sse < best[0]:
            best = (sse, alpha, fit.x, l0)
    _, alpha, c, l0 = best
    _, level, a, b = _otm_errors(y, alpha, c, l0)
    out = []
    for k in range(h):
        i = len(y) + k
        mu = level + c * (a * (1 - alpha) ** i + b * (1 - (1 - alpha) ** (i + 1)) / alpha)
        out.append(mu)
        level = alpha * mu + (1 - alpha) * level
    return out


def test_optimised_theta_matches_a_general_optimiser(rng):
    """theta (via c = 1 - 1/theta) and the initial level solved in closed form give the same
    forecasts as a bounded numerical search of the same sum of squares."""
    n = 16
    rows = [50 + rng.normal(0, 3, n).cumsum() + s * np.arange(n) for s in (-2, 0, 1, 4)] + [
        100 - 3 * np.arange(n) + rng.normal(0, 1, n)
    ]  # a falling trend: c at its bound 0?
    got = fast.optimised_theta(np.array(rows), 4)
    want = [_otm_reference(r, 4) for r in rows]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # behind a back-filled gap (as prepare_matrix leaves it) the series is fitted from its start
    X, start, _ = prepare_matrix(np.r_[[np.nan] * 5, rows[3]][None, :])
    np.testing.assert_allclose(fast.optimised_theta(X, 4, start)[0], want[3], rtol=1e-5)


def test_constant_share_keeps_last_share():
    t = np.arange(12.0)
    X = np.vstack([10 + 2 * t, 20 + 4 * t, 100 + 0 * t])
    groups = np.array([0, 0, 1])
    fc = fast.constant_share(X, 3, groups=groups)
    np.testing.assert_allclose(fc[0] / fc[1], X[0, -1] / X[1, -1])
    np.testing.assert_allclose(fc[2], 100.0)
    assert np.all(fc[0] > X[0, -1])  # the total's trend is extrapolated


def test_seasonal_indices_recover_pattern():
    pattern = np.array([5.0, -2.0, -4.0, 1.0])
    X = (100 + np.arange(24) * 0.5 + np.tile(pattern, 6))[None, :]
    s = fast.seasonal_indices(X, np.array([0]), 4)
    np.testing.assert_allclose(s[0], pattern, atol=0.2)


# -------------------------------------------------------------------- metrics
def test_mase_scale_and_coverage():
    assert mase_scale(np.array([[1.0, 3.0, 2.0]]), np.array([0])).tolist() == [1.5]
    assert coverage(np.array([1.0, 2.0, 3.0, 4.0]), np.zeros(4), np.array([5, 5, 2.5, 5.0])) == 0.75
    assert np.isnan(coverage(np.array([np.nan]), np.zeros(1), np.ones(1)))


def test_conformal_quantiles_and_intervals():
    e = np.random.default_rng(1).normal(size=(3, 2000, 2))
    q = conformal_quantiles(e, [80, 95])
    assert q[80][0, 0] == pytest.approx(-1.2816, abs=0.1)
    assert np.all(q[95][0] < q[80][0]) and np.all(q[95][1] > q[80][1])
    # hand case: bounds max(0, mean + q[step] * scale), per series' effective step
    mean = np.array([[1.0, 2.0], [100.0, 100.0]])
    qh = np.array([[-1.0, -2.0], [1.0, 2.0]])
    lo, up = apply_intervals(mean, np.array([5.0, 1.0]), qh)
    assert lo.tolist() == [[0.0, 0.0], [99.0, 98.0]] and up.tolist() == [
        [6.0, 12.0],
        [101.0, 102.0],
    ]
    lo, up = apply_intervals(mean, np.array([5.0, 1.0]), qh, np.array([[1, 1], [0, 1]]))
    assert lo.tolist() == [[0.0, 0.0], [99.0, 98.0]] and up.tolist() == [
        [11.0, 12.0],
        [101.0, 102.0],
    ]
    # errors all positive (a biased forecast): the lower quantile is capped at 0, the upper kept
    pos = np.arange(1.0, 11.0).reshape(1, 10, 1)
    qp = conformal_quantiles(pos, [80])[80]
    assert qp[0, 0] == 0.0 and qp[1, 0] == 10.0
    assert fallback_scale(np.array([0.0, 2.0]), np.array([10.0, 20.0])).tolist() == [1.0, 2.0]


def test_combination_weights():
    scores = np.array([[[1.0, np.nan]], [[2.0, np.nan]], [[4.0, np.nan]]]).reshape(3, 1, 2)
    w = combination_weights(scores, top_k=2, combine="inverse")
    # hand-computed: 1/s less 1/s of the first left out (1/4): 3/4 and 1/4, normalised
    np.testing.assert_allclose(w[:, 0], [3 / 4, 1 / 4, 0])
    # no score: the panel's relative scores (here series 0's), so the same weights
    np.testing.assert_allclose(w[:, 1], [3 / 4, 1 / 4, 0])
    # every model kept: plain inverse weights 1 : 1/2 : 1/4
    w_all = combination_weights(scores, top_k=3, combine="inverse")
    np.testing.assert_allclose(w_all[:, 0], np.array([4, 2, 1]) / 7)
    nothing = np.full((3, 1, 2), np.nan)
    np.testing.assert_allclose(combination_weights(nothing)[:, 1], [1, 0, 0])
    np.testing.assert_allclose(combination_weights(scores, combine="best")[:, 0], [1, 0, 0])


def test_inverse_weights_move_continuously_when_models_swap_places():
    """Two models trading the last place of the top k (scores 2 - e and 2 + e) change the
    weights by O(e), not by a jump: the model leaving the top k does so with weight 0."""
    for e in (1e-3, 1e-6):
        below = np.array([1.0, 2.0 - e, 2.0 + e, 3.0]).reshape(4, 1, 1)
        above = np.array([1.0, 2.0 + e, 2.0 - e, 3.0]).reshape(4, 1, 1)
        wb = combination_weights(below, top_k=2, combine="inverse")[:, 0]
        wa = combination_weights(above, top_k=2, combine="inverse")[:, 0]
        assert np.abs(wb - wa).max() < 10 * e
    # the hard cut this replaces: equal weights over the two best jump by 1/2
    wb = combination_weights(below, top_k=2, combine="equal")[:, 0]
    wa = combination_weights(above, top_k=2, combine="equal")[:, 0]
    assert np.abs(wb - wa).max() == 0.5


def test_fallback_reasons():
    Y = np.array(
        [
            [np.nan] * 8,
            [0.0] * 8,
            [5.0] * 8,
            [1.0, 2.0] + [np.nan] * 6,
            [0, 3, 0, 0, 4, 0, 0, 2.0],
            list(np.arange(8.0)),
        ]
    )
    assert fallback_reasons(Y).tolist() == [
        "empty",
        "zero",
        "constant",
        "short",
        "intermittent",
        "",
    ]


# ----------------------------------------------------------------- Forecaster
def test_forecaster_output_contract(trend_panel):
    fc = FC(horizon=4).fit(trend_panel)
    out = fc.predict()
    assert list(out.columns) == COLUMNS
    assert len(out) == 30 * 4 * 2
    assert sorted(out["level"].unique().tolist()) == [80, 95]
    assert out["period"].min() == 2015 and out["period"].max() == 2018
    assert (out["lower"] >= 0).all()
    assert (out["last_observed"] == 2014).all()
    wide = out.pivot_table(
        index=["occupation", "period"], columns="level", values=["lower", "upper"]
    )
    assert (wide[("lower", 95)] <= wide[("lower", 80)] + 1e-12).all()
    assert (wide[("upper", 95)] >= wide[("upper", 80)] - 1e-12).all()
    assert out["territory"].dtype == trend_panel["territory"].dtype  # codes stay strings
    assert set(fc.selected_.columns) >= {"territory", "occupation", "model", "reason", "weights"}


def test_naive_and_drift_via_forecaster():
    panel = _panel({("01", "A"): [1.0, 2, 3, 4, 5, 6, 7], ("01", "B"): [9.0, 9, 8, 9, 10, 9, 11]})
    out = FC(models="naive", horizon=2).fit(panel).predict()
    assert out.drop_duplicates(["occupation", "period"])["mean"].tolist() == [7.0, 7.0, 11.0, 11.0]
    out = FC(models="drift", horizon=2).fit(panel).predict()
    got = out.drop_duplicates(["occupation", "period"])["mean"].to_numpy()
    np.testing.assert_allclose(got, [8, 9, 11 + 2 / 6, 11 + 4 / 6])
    assert set(out["model"]) == {"drift"}


def test_degenerate_series_never_crash():
    nan = np.nan
    panel = _panel(
        {
            ("01", "one"): [nan] * 9 + [4.0],
            ("01", "two"): [nan] * 8 + [4.0, 6.0],
            ("01", "const"): [3.0] * 10,
            ("01", "zeros"): [0.0] * 10,
            ("01", "gaps"): [1.0, nan, 3.0, nan, nan, 6.0, 7.0, nan, 9.0, 10.0],
            ("01", "intermittent"): [0, 0, 2, 0, 0, 0, 1, 0, 3, 0.0],
            ("01", "normal"): list(np.linspace(10, 20, 10)),
            ("02", "empty"): [nan] * 10,
            ("02", "tail_gap"): [5.0, 6, 7, 8, 9, 10, 11, nan, nan, nan],
        }
    )
    fc = FC(horizon=3).fit(panel)
    out = fc.predict()
    assert np.isfinite(out[["mean", "lower", "upper"]].to_numpy()).all()
    assert (out[["mean", "lower", "upper"]].to_numpy() >= 0).all()
    reasons = fc.selected_.set_index("occupation")["reason"]
    assert reasons["one"] == "short" and reasons["two"] == "short"
    assert reasons["const"] == "constant" and reasons["zeros"] == "zero"
    assert reasons["intermittent"] == "intermittent" and reasons["normal"] == ""
    means = out.groupby("occupation")["mean"].first()
    assert means["zeros"] == 0 and means["const"] == 3.0 and means["one"] == 4.0
    assert fc.rejected_["occupation"].tolist() == ["empty"]
    assert "empty" not in set(out["occupation"])
    zeros = out[out["occupation"] == "zeros"]
    assert (zeros["upper"] == 0).all()


def test_tiny_panels():
    one = _panel({("01", "A"): [5.0]})
    out = FC(horizon=2).fit(one).predict()
    assert out["mean"].tolist() == [5.0] * 4 and (out["lower"] <= 5).all()
    two = _panel({("01", "A"): [5.0, 7.0], ("01", "B"): [0.0, 0.0]})
    out = FC(horizon=1).fit(two).predict()
    assert np.isfinite(out["upper"]).all()


def test_backtest_tables(trend_panel):
    fc = FC(horizon=3).fit(trend_panel)
    bt = fc.backtest_
    assert {"mase", "smape", "wape", "bias", "direction", "n", "horizon", "model"} <= set(
        bt.columns
    )
    assert {"naive", "drift", "mean", "cshare", "holt", "otheta", "auto"} <= set(bt["model"])
    assert len(bt) == 30 * 3 * bt["model"].nunique()
    naive = bt[(bt["model"] == "naive") & (bt["n"] > 0)]
    assert (naive["direction"].between(0, 1)).all() and (naive["mase"] >= 0).all()
    summ = fc.backtest_summary().set_index("model")
    assert summ.loc["naive", "mase_vs_naive"] == pytest.approx(1.0)
    assert summ.loc["cshare", "mase_vs_cshare"] == pytest.approx(1.0)
    assert 0 <= summ.loc["auto", "coverage_80"] <= 1
    assert set(fc.coverage_.columns) == {"level", "horizon", "coverage", "n"}


def test_all_models_output(trend_panel):
    fc = FC(horizon=2, level=(80,)).fit(trend_panel)
    out = fc.predict(all_models=True)
    assert {"naive", "drift", "mean", "cshare", "holt", "otheta"} <= set(out["model"])
    assert out["selected"].sum() == 30 * 2
    assert (out["lower"] >= 0).all() and (out["lower"] <= out["upper"]).all()


def test_quarterly_periods():
    periods = pd.period_range("2015Q1", periods=24, freq="Q")
    pattern = np.tile([10.0, -5.0, -8.0, 3.0], 6)
    panel = pd.DataFrame(
        {
            "territory": "01",
            "occupation": ["A"] * 24 + ["B"] * 24,
            "period": list(periods) * 2,
            "value": np.r_[100 + np.arange(24) + pattern, 50 + pattern],
        }
    )
    fc = FC(horizon=4, level=(80,)).fit(panel)
    out = fc.predict()
    assert isinstance(out["period"].dtype, pd.PeriodDtype)
    assert str(out["period"].iloc[0]) == "2021Q1"
    b = out[out["occupation"] == "B"]["mean"].to_numpy()
    np.testing.assert_allclose(b, 50 + np.array([10.0, -5.0, -8.0, 3.0]), atol=1.5)


def test_determinism(trend_panel):
    a = FC(horizon=3).fit(trend_panel).predict()
    b = FC(horizon=3).fit(trend_panel.sample(frac=1, random_state=1)).predict()
    pd.testing.assert_frame_equal(a, b)


def test_save_load_roundtrip_and_version_refusal(trend_panel, tmp_path):
    fc = FC(horizon=2).fit(trend_panel)
    path = fc.save(tmp_path / "fc.joblib")
    back = Forecaster.load(path)
    pd.testing.assert_frame_equal(back.predict(), fc.predict())
    payload = joblib.load(path)
    payload["gpec_version"] = "99.0.0"
    joblib.dump(payload, tmp_path / "old.joblib")
    with pytest.raises(ValueError, match="incompatible"):
        Forecaster.load(tmp_path / "old.joblib")
    joblib.dump({"something": 1}, tmp_path / "other.joblib")
    with pytest.raises(ValueError, match="not a gpec Forecaster"):
        Forecaster.load(tmp_path / "other.joblib")


def test_bad_input_errors():
    good = _panel({("01", "A"): [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="missing column"):
        FC().fit(good.drop(columns="value"))
    bad = good.copy()
    bad.loc[1, "value"] = -1
    with pytest.raises(ValueError, match=r"'value', row\(s\) 1: negative"):
        FC().fit(bad)
    dup = pd.concat([good, good.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="duplicated"):
        FC().fit(dup)
    with pytest.raises(ValueError, match="horizon"):
        FC(horizon=0).fit(good)
    with pytest.raises(ValueError, match="unknown model"):
        FC(models=["nope"]).fit(good)
    with pytest.raises(ValueError, match="recent_windows"):
        FC(recent_windows=-1).fit(good)
    with pytest.raises(RuntimeError, match="not fitted"):
        Forecaster().predict()


def test_custom_columns():
    panel = _panel({("01", "A"): [1.0, 2, 3, 4, 5, 6, 7, 8]}).rename(
        columns={"occupation": "skill", "value": "jobs", "period": "year"}
    )
    out = (
        FC(horizon=1, id_cols=("territory", "skill"), value_col="jobs", period_col="year")
        .fit(panel)
        .predict()
    )
    assert list(out.columns[:3]) == ["territory", "skill", "year"]


def test_statsmodels_and_global_candidates(trend_panel):
    import gpec.forecast._models  # noqa: F401  (a broken import fails, never skips)

    small = trend_panel[trend_panel["occupation"].isin(["A000", "A001", "A002"])]
    auto = Forecaster(horizon=2, verbose=0, max_series_slow=5).fit(small)
    assert {"ets", "arima", "theta_sm"} <= set(auto.candidates_)
    assert np.isfinite(auto.predict()["mean"]).all()
    fc = FC(models=["ets", "theta_sm", "naive"], horizon=2).fit(small)
    out = fc.predict(all_models=True)
    assert {"ets", "theta_sm"} <= set(out["model"])
    assert np.isfinite(out["mean"]).all() and (out["mean"] >= 0).all()
    import gpec.forecast._regression  # noqa: F401

    fc = FC(models=["global", "drift"], horizon=2).fit(trend_panel)
    assert "global" in set(fc.predict(all_models=True)["model"])


def test_real_dares_series(real_data):
    path = real_data / "dares-portrait-stat-metiers" / "effectifs_3niv.csv"
    if not path.is_file():
        missing_real_data("DARES effectifs_3niv.csv absent")
    raw = pd.read_csv(path)
    cols = [c for c in raw.columns if len(c) == 3 and c != "Annee"]
    long = raw.melt(id_vars="Annee", value_vars=cols, var_name="occupation").dropna()
    long = long.rename(columns={"Annee": "period"}).assign(territory="FR")
    fc = FC(horizon=5).fit(long)
    summ = fc.backtest_summary().set_index("model")
    assert summ.loc["auto", "mase"] < summ.loc["naive", "mase"]
    assert summ.loc["auto", "mase"] < summ.loc["cshare", "mase"]
    assert len(fc.predict()) == len(cols) * 5 * 2


def test_fit_accepts_gpecdata(trend_panel):
    from gpec import GpecData

    data = GpecData(employment=trend_panel)
    out = FC(horizon=1, level=(80,)).fit(data).predict()
    assert len(out) == 30


@pytest.mark.parametrize("combine", ["auto", "best", "equal"])
def test_combine_options(trend_panel, combine):
    fc = FC(horizon=2, combine=combine, top_k=2, shrink=0.0).fit(trend_panel)
    w = fc.weights_
    np.testing.assert_allclose(w.sum(axis=0), 1.0)
    if combine == "best":
        assert ((w > 0).sum(axis=0) == 1).all()
        assert not fc.selected_["model"].str.startswith("combo").any()
    if combine == "auto":
        assert fc.strategy_["chosen"].sum() == 1 and len(fc.strategy_) == 4


@pytest.mark.slow
def test_dask_backend_gives_same_forecasts():
    pytest.importorskip("distributed")
    from gpec.datasets import make_panel

    panel = make_panel(6, 2, 15, random_state=3)
    kw = dict(models=["naive", "ets"], horizon=3, level=(80,), verbose=0)
    local = Forecaster(**kw).fit(panel).predict()
    dask = Forecaster(**kw, n_jobs=2, backend="dask").fit(panel).predict()
    cols = ["territory", "occupation", "period", "model", "level"]
    pd.testing.assert_frame_equal(
        local.sort_values(cols).reset_index(drop=True),
        dask.sort_values(cols).reset_index(drop=True),
    )
