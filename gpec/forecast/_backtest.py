"""Rolling-origin backtest and forecast accuracy metrics.

The backtest refits every candidate at several forecast origins (all series
at once for the vectorised models) and keeps the raw forecasts, so that
combinations, metrics and conformal intervals can be computed afterwards
without refitting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._fast import prepare_matrix

__all__ = [
    "BacktestArrays",
    "backtest_origins",
    "rolling_origin",
    "mase_scale",
    "metric_arrays",
    "coverage",
]

RunModels = Callable[[np.ndarray, int], dict[str, np.ndarray]]


@dataclass
class BacktestArrays:
    """Raw results of a rolling-origin backtest.

    Attributes
    ----------
    origins : ndarray of int, shape (n_windows,)
        Column index of the first forecast period of each window.
    forecasts : dict of str to ndarray of shape (n_windows, n_series, h)
        Forecasts of each model at each origin.
    actual : ndarray of shape (n_windows, n_series, h)
        Observed values (NaN where unobserved or beyond the panel).
    last : ndarray of shape (n_windows, n_series)
        Last training value at each origin (for direction accuracy).
    scale : ndarray of shape (n_windows, n_series)
        MASE scale (mean absolute one-step change of the training data).
    n_train : ndarray of int, shape (n_windows, n_series)
        Number of observed training values at each origin.
    """

    origins: np.ndarray
    forecasts: dict[str, np.ndarray]
    actual: np.ndarray
    last: np.ndarray
    scale: np.ndarray
    n_train: np.ndarray


def mase_scale(X: np.ndarray, start: np.ndarray, season_length: int = 1) -> np.ndarray:
    """Mean absolute (seasonal) difference of each prepared series.

    Parameters
    ----------
    X : ndarray of shape (n_series, T)
        Prepared matrix (see :func:`~gpec.forecast._fast.prepare_matrix`).
    start : ndarray of int
        First observed column of each series.
    season_length : int, default=1
        Lag of the differences (1 for yearly data).

    Returns
    -------
    ndarray of shape (n_series,)
        The scale; 0 for series shorter than ``season_length + 1``.

    Examples
    --------
    >>> import numpy as np
    >>> mase_scale(np.array([[1.0, 2.0, 4.0]]), np.array([0])).tolist()
    [1.5]
    """
    n, T = X.shape
    m = season_length if T > season_length else 1
    if T <= m:
        return np.zeros(n)
    d = np.abs(X[:, m:] - X[:, :-m])
    mask = np.arange(m, T)[None, :] - m >= start[:, None]
    cnt = mask.sum(axis=1)
    tot = (d * mask).sum(axis=1)
    return np.divide(tot, cnt, out=np.zeros(n), where=cnt > 0)


def backtest_origins(T: int, h: int, n_windows: int = 3, step: int = 1, min_train: int = 3):
    """Forecast origins (first forecast column) of the rolling-origin backtest.

    Origins are ``T - h - step * j`` for ``j < n_windows`` so that every window
    is scored on a full horizon. On short panels, origins that would leave
    fewer than ``min_train`` training periods are replaced by later origins
    (``T - 1``, ``T - 2``, ...), scored on the periods that remain.

    Examples
    --------
    >>> backtest_origins(20, 5, 3).tolist()
    [13, 14, 15]
    >>> backtest_origins(6, 5, 3).tolist()
    [3, 4, 5]
    >>> backtest_origins(2, 5, 3).tolist()
    [1]
    """
    full = [T - h - step * j for j in range(n_windows)]
    chosen = [o for o in full if o >= min_train]
    later = T - 1
    while len(chosen) < n_windows and later >= min_train:
        if later not in chosen:
            chosen.append(later)
        later -= 1
    if not chosen and T >= 2:
        chosen = [T - 1]
    return np.array(sorted(chosen), dtype=int)


def rolling_origin(
    Y: np.ndarray,
    h: int,
    run_models: RunModels,
    *,
    n_windows: int = 3,
    step: int = 1,
    season_length: int = 1,
) -> BacktestArrays:
    """Refit and forecast at ``n_windows`` origins ending ``h`` periods before the end.

    Origins come from :func:`backtest_origins`: the last window forecasts the
    last ``h`` observed periods; earlier windows
    move back ``step`` periods each time.

    Parameters
    ----------
    Y : ndarray of shape (n_series, T)
        Raw panel, NaN where missing.
    h : int
        Forecast horizon.
    run_models : callable
        ``run_models(Y_train, h, prepared=None) -> {name: (n_series, h) forecasts}``;
        ``prepared`` is the output of ``prepare_matrix(Y_train)``, passed to
        avoid recomputing it.
    n_windows : int, default=3
        Number of forecast origins.
    step : int, default=1
        Distance between consecutive origins.
    season_length : int, default=1
        Used for the MASE scale.

    Returns
    -------
    BacktestArrays

    Examples
    --------
    >>> import numpy as np
    >>> def last_value(train, h, prepared=None):
    ...     X, _, _ = prepared
    ...     return {"naive": np.repeat(X[:, -1:], h, axis=1)}
    >>> bt = rolling_origin(np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]), 2, last_value, n_windows=2)
    >>> bt.origins.tolist(), bt.forecasts["naive"][:, 0].tolist()
    ([3, 4], [[3.0, 3.0], [4.0, 4.0]])
    >>> bt.actual[:, 0].tolist()
    [[4.0, 5.0], [5.0, 6.0]]
    """
    n, T = Y.shape
    origins = backtest_origins(T, h, n_windows, step)
    W = len(origins)
    actual = np.full((W, n, h), np.nan)
    last = np.full((W, n), np.nan)
    scale = np.zeros((W, n))
    n_train = np.zeros((W, n), dtype=int)
    forecasts: dict[str, np.ndarray] = {}
    for w, o in enumerate(origins):
        train = Y[:, :o]
        X, start, nobs = prepare_matrix(train)
        span = Y[:, o : o + h]
        actual[w, :, : span.shape[1]] = span
        last[w] = np.where(nobs > 0, X[:, -1], np.nan)
        scale[w] = mase_scale(X, start, season_length)
        n_train[w] = nobs
        for name, fc in run_models(train, h, prepared=(X, start, nobs)).items():
            if name not in forecasts:
                forecasts[name] = np.full((W, n, h), np.nan)
            forecasts[name][w] = fc
    return BacktestArrays(origins, forecasts, actual, last, scale, n_train)


def metric_arrays(
    fc: np.ndarray, bt: BacktestArrays, scale: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Per series x horizon accuracy of one model's backtest forecasts.

    Parameters
    ----------
    fc : ndarray of shape (n_windows, n_series, h)
        Forecasts.
    bt : BacktestArrays
        Backtest holding the actuals.
    scale : ndarray of shape (n_windows, n_series), optional
        MASE scale; defaults to ``bt.scale`` (zeros replaced by a fallback).

    Returns
    -------
    dict of str to ndarray of shape (n_series, h)
        ``mase`` (mean absolute error / scale), ``smape`` (in %, 0 when forecast
        and actual are both 0), ``wape`` (sum |error| / sum |actual|),
        ``bias`` (mean (forecast - actual) / scale), ``direction`` (share of
        windows where the sign of the change from the last training value was
        right), and ``n`` (number of windows with an actual).

    Notes
    -----
    Ratios are NaN where no window has an actual.
    """
    y = bt.actual
    s = bt.scale if scale is None else scale
    ok = np.isfinite(y) & np.isfinite(fc)
    cnt = ok.sum(axis=0)
    err = np.where(ok, fc - y, 0.0)
    aerr = np.abs(err)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = s[:, :, None]
        mase = np.where(ok, aerr / sc, 0.0).sum(axis=0) / cnt
        bias = np.where(ok, err / sc, 0.0).sum(axis=0) / cnt
        denom = np.abs(np.where(ok, y, 0.0)) + np.abs(np.where(ok, fc, 0.0))
        sm = np.where(denom > 0, 200.0 * aerr / np.where(denom > 0, denom, 1.0), 0.0)
        smape = np.where(ok, sm, 0.0).sum(axis=0) / cnt
        wape = aerr.sum(axis=0) / np.abs(np.where(ok, y, 0.0)).sum(axis=0)
        d_true = np.sign(np.where(ok, y, 0.0) - bt.last[:, :, None])
        d_fc = np.sign(np.where(ok, fc, 0.0) - bt.last[:, :, None])
        direction = np.where(ok, d_true == d_fc, False).sum(axis=0) / cnt
    out = {
        "mase": mase,
        "smape": smape,
        "wape": wape,
        "bias": bias,
        "direction": direction,
        "n": cnt,
    }
    for k in ("mase", "smape", "wape", "bias", "direction"):
        out[k] = np.where(cnt > 0, out[k], np.nan)
    out["mase"] = np.where(np.isfinite(out["mase"]), out["mase"], np.nan)
    out["bias"] = np.where(np.isfinite(out["bias"]), out["bias"], np.nan)
    out["wape"] = np.where(np.isfinite(out["wape"]), out["wape"], np.nan)
    return out


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of observed actuals inside ``[lower, upper]``.

    Parameters
    ----------
    actual, lower, upper : ndarray
        Actual values and interval bounds, of one shape; NaN where unobserved.

    Returns
    -------
    float
        The share of the cells where all three are finite whose actual lies inside its
        interval (bounds included); NaN when there is none.

    Examples
    --------
    >>> import numpy as np
    >>> coverage(np.array([1.0, 5.0, np.nan]), np.array([0.0, 0.0, 0.0]), np.array([2.0, 2.0, 2.0]))
    0.5
    """
    ok = np.isfinite(actual) & np.isfinite(lower) & np.isfinite(upper)
    if not ok.any():
        return float("nan")
    inside = (actual[ok] >= lower[ok]) & (actual[ok] <= upper[ok])
    return float(inside.mean())
