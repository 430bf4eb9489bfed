"""Tests for the per-series statsmodels forecasters and the global regressor."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import missing_real_data
from hypothesis import given, settings
from hypothesis import strategies as st

from gpec.forecast._models import (
    PER_SERIES_MODELS,
    arima_forecast,
    drift_forecast,
    ets_forecast,
    naive_forecast,
    theta_forecast,
)
from gpec.forecast._regression import GlobalRegressor

MODEL_NAMES = sorted(PER_SERIES_MODELS)


def _random_walk(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 500.0 + np.cumsum(rng.normal(2.0, 10.0, n))


def test_registry_names():
    assert set(PER_SERIES_MODELS) == {"ets", "arima", "theta_sm"}
    assert PER_SERIES_MODELS["ets"] is ets_forecast
    assert PER_SERIES_MODELS["arima"] is arima_forecast
    assert PER_SERIES_MODELS["theta_sm"] is theta_forecast


def test_baselines():
    y = np.array([1.0, 2.0, 4.0])
    np.testing.assert_array_equal(naive_forecast(y, 2), [4.0, 4.0])
    np.testing.assert_allclose(drift_forecast(y, 2), [5.5, 7.0])
    np.testing.assert_array_equal(drift_forecast(np.array([3.0]), 2), [3.0, 3.0])
    np.testing.assert_array_equal(naive_forecast(np.array([]), 2), [0.0, 0.0])


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_linear_trend_is_extrapolated(name):
    y = 100.0 + 5.0 * np.arange(20)
    f = PER_SERIES_MODELS[name](y, 4)
    assert f.shape == (4,)
    assert np.all(np.isfinite(f))
    # Every model keeps going up from the last value (theta halves the slope).
    assert np.all(np.diff(np.r_[y[-1], f]) > 0)
    assert abs(f[0] - 200.0) < 5.0


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_noisy_trend_close_to_truth(name):
    rng = np.random.default_rng(3)
    y = 1000.0 + 20.0 * np.arange(25) + rng.normal(0, 5, 25)
    f = PER_SERIES_MODELS[name](y, 3)
    truth = 1000.0 + 20.0 * np.arange(25, 28)
    # Within 5% of the level whatever the model.
    assert np.max(np.abs(f - truth)) < 0.05 * truth[0]


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("value", [0.0, 7.5, 2.5e6])
def test_constant_series_forecasts_the_constant(name, value):
    f = PER_SERIES_MODELS[name](np.full(12, value), 5)
    np.testing.assert_allclose(f, value)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_short_series(name):
    f1 = PER_SERIES_MODELS[name](np.array([42.0]), 3)
    np.testing.assert_array_equal(f1, [42.0, 42.0, 42.0])
    f2 = PER_SERIES_MODELS[name](np.array([40.0, 44.0]), 3)
    np.testing.assert_array_equal(f2, [44.0, 44.0, 44.0])  # naive below 3 points
    f3 = PER_SERIES_MODELS[name](np.array([40.0, 44.0, 46.0]), 3)
    np.testing.assert_allclose(f3, [49.0, 52.0, 55.0])  # drift
    for n in range(4, 10):
        f = PER_SERIES_MODELS[name](_random_walk(n, seed=n), 5)
        assert f.shape == (5,)
        assert np.all(np.isfinite(f))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_degenerate_series_never_nan(name):
    cases = [
        np.zeros(15),
        np.r_[np.zeros(12), 3.0, 0.0, 0.0],  # intermittent
        np.r_[np.zeros(10), 1e6],  # jump at the end
        np.array([1.0, 1e9, 1.0, 1e9, 1.0, 1e9, 1.0, 1e9]),
        np.array([5.0, np.nan, 6.0, 7.0]),  # NaN tolerated (dropped)
        np.array([]),
    ]
    for y in cases:
        f = PER_SERIES_MODELS[name](y, 3)
        assert f.shape == (3,)
        assert np.all(np.isfinite(f)), (name, y)
    assert PER_SERIES_MODELS[name](np.zeros(15), 2).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_deterministic_and_scale_equivariant(name):
    y = _random_walk(20, seed=5)
    f = PER_SERIES_MODELS[name](y, 5)
    np.testing.assert_array_equal(f, PER_SERIES_MODELS[name](y.copy(), 5))
    np.testing.assert_allclose(PER_SERIES_MODELS[name](y * 1000.0, 5), f * 1000.0, rtol=1e-6)


# ----------------------------------------------------------------- GlobalRegressor
def _panel(n: int = 60, t: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    level = np.exp(rng.uniform(2, 9, n))[:, None]
    growth = rng.normal(0.01, 0.03, n)[:, None]
    noise = rng.normal(0, 0.02, (n, t))
    y = level * np.exp(np.cumsum(growth + noise, axis=1))
    starts = rng.integers(0, t - 3, n)
    starts[: n // 2] = 0
    for i, s in enumerate(starts):
        y[i, :s] = np.nan
    return y


def test_global_regressor_shape_nonnegative_deterministic():
    y = _panel()
    f1 = GlobalRegressor(lags=3).fit(y).predict(5)
    f2 = GlobalRegressor(lags=3).fit(y).predict(5)
    assert f1.shape == (60, 5)
    assert np.all(np.isfinite(f1)) and np.all(f1 >= 0)
    np.testing.assert_array_equal(f1, f2)


def test_global_regressor_tracks_growth():
    t = 20
    base = np.array([10.0, 1e3, 1e5])
    growth = np.array([0.05, 0.0, -0.05])
    y = np.repeat(base, 40)[:, None] * np.exp(np.outer(np.repeat(growth, 40), np.arange(t)))
    f = GlobalRegressor().fit(y).predict(3)
    truth = np.repeat(base, 40)[:, None] * np.exp(
        np.outer(np.repeat(growth, 40), np.arange(t, t + 3))
    )
    np.testing.assert_allclose(f, truth, rtol=0.03)


def test_global_regressor_degenerate_rows():
    y = _panel(30, 12)
    y[0] = 0.0  # zeros
    y[1] = 5.0  # constant
    y[2, :-1] = np.nan  # one observation
    y[3] = np.nan  # nothing observed
    f = GlobalRegressor().fit(y).predict(4)
    assert f.shape == (30, 4)
    assert np.all(np.isfinite(f)) and np.all(f >= 0)
    np.testing.assert_allclose(f[0], 0.0, atol=1e-9)
    np.testing.assert_allclose(f[1], 5.0, rtol=0.05)
    np.testing.assert_allclose(f[2], y[2, -1], rtol=0.2)
    np.testing.assert_array_equal(f[3], 0.0)


def test_global_regressor_groups_exog_and_longer_horizon():
    y = _panel(40, 15, seed=2)
    rng = np.random.default_rng(0)
    groups = {"territory": rng.integers(0, 4, 40), "occupation": rng.integers(0, 7, 40)}
    exog = {"bmo": np.abs(rng.normal(10, 3, (40, 15)))}
    model = GlobalRegressor(horizon=2, random_state=1).fit(y, exog=exog, groups=groups)
    f = model.predict(4)  # beyond the fitted horizon
    assert f.shape == (40, 4)
    assert np.all(np.isfinite(f)) and np.all(f >= 0)
    assert model.n_features_in_ == len(model.feature_names_)
    assert any(name.startswith("territory") for name in model.feature_names_)
    assert "bmo" in " ".join(model.feature_names_)


def test_global_regressor_uses_exogenous_driver():
    # Growth from t to t+1 is announced at t by the driver (like hiring intentions).
    rng = np.random.default_rng(0)
    n, t = 300, 16
    x = rng.normal(0.0, 0.05, (n, t + 1))
    y = np.exp(rng.uniform(3, 8, n))[:, None] * np.exp(
        np.concatenate([np.zeros((n, 1)), np.cumsum(x[:, :t], axis=1)], axis=1)
    )
    train, truth = y[:, :t], y[:, t]
    without = GlobalRegressor(horizon=1).fit(train).predict(1)[:, 0]
    with_x = GlobalRegressor(horizon=1).fit(train, exog={"bmo": x[:, :t]}).predict(1)[:, 0]
    err_without = np.mean(np.abs(without - truth) / truth)
    err_with = np.mean(np.abs(with_x - truth) / truth)
    assert err_with < 0.5 * err_without  # measured: 1.0% vs 4.1%


def test_global_regressor_ridge_estimator():
    from sklearn.linear_model import Ridge

    y = _panel(25, 10, seed=4)
    f = GlobalRegressor(estimator=Ridge(alpha=1.0)).fit(y).predict(3)
    assert f.shape == (25, 3) and np.all(np.isfinite(f)) and np.all(f >= 0)


def test_global_regressor_bad_input():
    with pytest.raises(ValueError, match="2-d"):
        GlobalRegressor().fit(np.arange(5.0))
    with pytest.raises(ValueError, match="negative"):
        GlobalRegressor().fit(-np.ones((3, 5)))
    with pytest.raises(ValueError, match="exog"):
        GlobalRegressor().fit(np.ones((3, 5)), exog=np.ones((2, 5)))
    with pytest.raises(ValueError, match="groups"):
        GlobalRegressor().fit(np.ones((3, 5)), groups=np.ones(4))
    with pytest.raises(ValueError, match="h"):
        GlobalRegressor().fit(np.ones((3, 5))).predict(0)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GlobalRegressor().predict(2)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    y=st.lists(
        st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False),
        min_size=0,
        max_size=14,
    ),
    h=st.integers(min_value=1, max_value=6),
)
def test_models_never_fail_property(y, h):
    arr = np.asarray(y, dtype=float)
    for name in MODEL_NAMES:
        f = PER_SERIES_MODELS[name](arr, h)
        assert f.shape == (h,)
        assert np.all(np.isfinite(f)), (name, y)


def test_real_dares_series(real_data):
    """On the DARES FAP87 series (1983-2018) the global model is sane and not worse than naive."""
    import pandas as pd

    path = real_data / "dares-portrait-stat-metiers" / "effectifs_3niv.csv"
    if not path.exists():
        missing_real_data(f"missing {path}")
    df = pd.read_csv(path)
    codes = [c for c in df.columns if len(c) == 3 and c != "ENS"]
    y = df[codes].to_numpy(float).T
    train, test = y[:, :31], y[:, 31:36]  # origin 2013, forecast 2014-2018
    domain = np.array([c[0] for c in codes])
    pred = GlobalRegressor().fit(train, groups={"domain": domain}).predict(5)
    assert pred.shape == test.shape and np.all(np.isfinite(pred)) and np.all(pred >= 0)
    scale = np.nanmean(np.abs(np.diff(train, axis=1)), axis=1)
    mase_global = np.mean(np.mean(np.abs(pred - test), axis=1) / scale)
    mase_naive = np.mean(np.mean(np.abs(train[:, -1:] - test), axis=1) / scale)
    assert mase_global < 1.05 * mase_naive  # measured: 2.26 vs 2.41
    # The per-series models run on real series of every length without NaN.
    for i in (0, 5, 40):
        series = train[i][~np.isnan(train[i])]
        for name in MODEL_NAMES:
            f = PER_SERIES_MODELS[name](series, 5)
            assert np.all(np.isfinite(f)) and np.all(np.abs(f - series[-1]) < series[-1])
