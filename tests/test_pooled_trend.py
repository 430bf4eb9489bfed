"""The pooled trend member: how much of past growth persists, learnt across a panel; checked on
panels whose future is known, and its fitting core against a linear-programming solver."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from gpec.forecast._fast import (
    POOLED_EPS,
    POOLED_MAX_ROWS,
    _smoothed_lad,
    drift,
    naive,
    pooled_trend,
)


def _lad_by_lp(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least absolute deviations as a linear programme: min sum(u + v), A b + u - v = y."""
    n, p = A.shape
    c = np.concatenate([np.zeros(p), np.ones(2 * n)])
    eq = np.hstack([A, np.eye(n), -np.eye(n)])
    bounds = [(None, None)] * p + [(0, None)] * (2 * n)
    res = linprog(c, A_eq=eq, b_eq=y, bounds=bounds, method="highs")
    assert res.success
    return res.x[:p]


def test_smoothed_lad_agrees_with_a_linear_programme():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(300, 2))
    y = A @ np.array([0.7, -0.4]) + rng.standard_t(2, 300)  # heavy tails: LAD != least squares
    y[:5] += 500.0  # gross errors, which least squares would follow
    ref = _lad_by_lp(A, y)
    got = _smoothed_lad(A, y, POOLED_EPS)  # within eps of 0 the loss is quadratic
    np.testing.assert_allclose(got, ref, atol=0.01)
    ols = np.linalg.lstsq(A, y, rcond=None)[0]
    assert np.abs(ols - ref).max() > 1.0


def _trends(rng, n: int, T: int, h: int):
    """Lines with noise: the future is the line itself."""
    a = rng.uniform(50, 150, n)
    b = rng.normal(0, 2, n)
    t = np.arange(T + h)
    truth = a[:, None] + b[:, None] * t
    X = truth[:, :T] + rng.normal(0, 1, (n, T))
    return X, truth[:, T:]


def test_persistent_growth_is_carried_on():
    rng = np.random.default_rng(0)
    X, future = _trends(rng, 400, 15, 4)
    err = {
        name: np.abs(f(X, 4) - future).mean()
        for name, f in (("pooled", pooled_trend), ("naive", naive), ("drift", drift))
    }
    assert err["pooled"] < err["naive"] / 3
    assert err["pooled"] < 1.2 * err["drift"]


def test_changes_that_do_not_persist_are_not_extrapolated():
    """Random walks without drift: the best forecast is the last value; drift extrapolates the
    walk's past wanderings, the pooled fit learns that they do not persist."""
    rng = np.random.default_rng(1)
    X = 100 + np.cumsum(rng.normal(0, 1, (600, 15)), axis=1)
    far = np.abs(drift(X, 4) - naive(X, 4)).mean()
    near = np.abs(pooled_trend(X, 4) - naive(X, 4)).mean()
    assert near < 0.25 * far


def test_one_absurd_series_barely_moves_the_others():
    rng = np.random.default_rng(2)
    X, _ = _trends(rng, 300, 15, 4)
    before = pooled_trend(X, 4)
    Y = X.copy()
    Y[0, 7] *= 1e6
    after = pooled_trend(Y, 4)
    scale = np.abs(np.diff(X, axis=1)).mean(axis=1)
    move = np.abs(after[1:] - before[1:]) / scale[1:, None]
    assert move.max() < 0.02  # a fiftieth of a typical yearly change


def test_rows_kept_above_the_cap_do_not_depend_on_other_series():
    """Above POOLED_MAX_ROWS the rows are thinned by a fixed draw per (series, period): doubling
    one series keeps the same rows of every other series, so their forecasts move only by that
    series' weight in the fit."""
    rng = np.random.default_rng(4)
    n, T = 3000, 12
    assert n * (T - 4) > POOLED_MAX_ROWS
    X, _ = _trends(rng, n, T, 3)
    first = pooled_trend(X, 3)
    np.testing.assert_array_equal(first, pooled_trend(X, 3))  # deterministic
    Y = X.copy()
    Y[5] *= 2.0
    scale = np.abs(np.diff(X, axis=1)).mean(axis=1)
    others = np.arange(n) != 5
    move = np.abs(pooled_trend(Y, 3)[others] - first[others]) / scale[others, None]
    assert move.max() < 0.01


@pytest.mark.parametrize("n", [1, 5])
def test_too_few_rows_give_the_last_value(n):
    X = np.arange(n * 6, dtype=float).reshape(n, 6) ** 1.5
    np.testing.assert_array_equal(pooled_trend(X, 3), naive(X, 3))
