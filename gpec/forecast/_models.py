"""Per-series statsmodels forecasters (ETS, ARIMA, Theta) with safe fallbacks.

Every model here is a plain function ``f(y, h) -> ndarray of shape (h,)``:

* ``y`` is a 1-d float array without NaN (the observed history, oldest first);
* ``h`` is the number of steps to forecast.

The functions never raise on a degenerate series and never return NaN: a series
that is too short, constant, or on which the statsmodels fit fails or
diverges falls back to a simpler model (simple exponential smoothing, then drift,
then naive). Which path was taken is not reported; the functions are meant to be
mapped over many series with :func:`gpec.forecast._parallel.map_series`.

Series are standardised (centred and scaled) before fitting and the forecasts
transformed back: the additive models used here are location/scale equivariant,
and the optimisers converge faster and more reliably on unit-scale data.

Forecasts are *not* clipped at zero here; the :class:`~gpec.forecast.Forecaster`
does that, so these functions can also be used on transformed data.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = [
    "PER_SERIES_MODELS",
    "arima_forecast",
    "drift_forecast",
    "ets_forecast",
    "naive_forecast",
    "theta_forecast",
]

# Minimum number of observations for each model before falling back.
_MIN_OBS_ETS_DAMPED = 8  # alpha, beta, phi, l0, b0 + sigma: needs a few points more
_MIN_OBS_SES = 4
_MIN_OBS_ARIMA = 8
_MIN_OBS_THETA = 4
# A forecast farther than this many "ranges" from the last value is treated as a
# diverged fit and replaced by the fallback.
_MAX_EXCURSION = 10.0


def naive_forecast(y: np.ndarray, h: int) -> np.ndarray:
    """Forecast the last observed value (random walk without drift).

    Parameters
    ----------
    y : ndarray of shape (n,)
        Observed history, oldest first, without NaN. An empty array gives zeros.
    h : int
        Forecast horizon.

    Returns
    -------
    ndarray of shape (h,)

    Examples
    --------
    >>> naive_forecast(np.array([1.0, 2.0, 5.0]), 2)
    array([5., 5.])
    """
    y = np.asarray(y, dtype=float)
    last = y[-1] if y.size else 0.0
    return np.full(h, last, dtype=float)


def drift_forecast(y: np.ndarray, h: int) -> np.ndarray:
    """Random walk with drift: extend the average change of the history.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Observed history, oldest first, without NaN. With fewer than two
        points this is the naive forecast.
    h : int
        Forecast horizon.

    Returns
    -------
    ndarray of shape (h,)

    Examples
    --------
    >>> drift_forecast(np.array([1.0, 2.0, 3.0]), 2)
    array([4., 5.])
    """
    y = np.asarray(y, dtype=float)
    if y.size < 2:
        return naive_forecast(y, h)
    slope = (y[-1] - y[0]) / (y.size - 1)
    return y[-1] + slope * np.arange(1, h + 1, dtype=float)


def _fallback(y: np.ndarray, h: int) -> np.ndarray:
    """Naive below three points (a two-point slope is mostly noise), drift above."""
    return naive_forecast(y, h) if y.size < 3 else drift_forecast(y, h)


def _prepare(y: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """Validate ``y`` and standardise it; ``None`` when the series is constant."""
    y = np.asarray(y, dtype=float).ravel()
    loc = float(np.mean(y))
    scale = float(np.std(y))
    if not np.isfinite(scale) or scale <= 1e-12 * max(1.0, abs(loc)):
        return None
    return (y - loc) / scale, loc, scale


def _accept(f: np.ndarray, y: np.ndarray, h: int) -> bool:
    """Whether a model forecast is usable: right shape, finite, not exploded."""
    f = np.asarray(f, dtype=float).ravel()
    if f.shape != (h,) or not np.all(np.isfinite(f)):
        return False
    span = float(np.ptp(y)) + abs(float(y[-1])) + 1e-12
    return bool(np.max(np.abs(f - y[-1])) <= _MAX_EXCURSION * span)


_CONTROLLER: ThreadpoolController | None = None
_SM: dict[str, Any] = {}


def _statsmodels() -> dict[str, Any]:
    """Import the statsmodels classes once, lazily (keeps ``import gpec`` light).

    Called *outside* the warning-silencing block: statsmodels installs
    ``"always"`` warning filters at import time, which would otherwise take
    precedence over our ``"ignore"`` for the first fit.
    """
    if not _SM:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel
        from statsmodels.tsa.forecasting.theta import ThetaModel
        from statsmodels.tsa.statespace.sarimax import SARIMAX
        from statsmodels.tsa.stattools import kpss

        _SM.update(ETSModel=ETSModel, ThetaModel=ThetaModel, SARIMAX=SARIMAX, kpss=kpss)
    return _SM


def _one_blas_thread():
    """Context limiting BLAS to one thread (cheap: the controller is built once).

    Small statsmodels fits are many times slower with multi-threaded BLAS,
    dramatically so when other processes share the cores.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def _guarded(model: Callable[[np.ndarray, int], np.ndarray], min_obs: int):
    """Wrap a standardised-scale model with validation, silencing and fallbacks."""

    def run(y: np.ndarray, h: int) -> np.ndarray:
        y = np.asarray(y, dtype=float).ravel()
        h = int(h)
        if h < 1:
            return np.empty(0, dtype=float)
        if y.size == 0:
            return np.zeros(h, dtype=float)
        if not np.all(np.isfinite(y)):
            # Contract says no NaN; be lenient and keep the finite values.
            y = y[np.isfinite(y)]
            if y.size == 0:
                return np.zeros(h, dtype=float)
        prepared = _prepare(y)
        if prepared is None:  # constant series
            return naive_forecast(y, h)
        if y.size < min_obs:
            return _fallback(y, h)
        z, loc, scale = prepared
        _statsmodels()
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"), _one_blas_thread():
                warnings.simplefilter("ignore")
                fz = model(z, h)
            f = loc + scale * np.asarray(fz, dtype=float).ravel()
        except Exception:  # noqa: BLE001 - any statsmodels failure means fallback
            return _fallback(y, h)
        return f if _accept(f, y, h) else _fallback(y, h)

    return run


# --------------------------------------------------------------------------- ETS
def _ets_std(z: np.ndarray, h: int) -> np.ndarray:
    ETSModel = _SM["ETSModel"]
    if z.size >= _MIN_OBS_ETS_DAMPED:
        try:
            res = ETSModel(z, error="add", trend="add", damped_trend=True).fit(
                disp=False, maxiter=200
            )
            f = np.asarray(res.forecast(h), dtype=float)
            if np.all(np.isfinite(f)):
                return f
        except Exception:  # noqa: BLE001 - fall through to simple smoothing
            pass
    res = ETSModel(z, error="add", trend=None).fit(disp=False, maxiter=200)
    return np.asarray(res.forecast(h), dtype=float)


_ets = _guarded(_ets_std, _MIN_OBS_SES)


def ets_forecast(y: np.ndarray, h: int) -> np.ndarray:
    """Exponential smoothing ETS(A,Ad,N): additive error, additive damped trend.

    Fitted by maximum likelihood with statsmodels
    :class:`~statsmodels.tsa.exponential_smoothing.ets.ETSModel`, without
    seasonality (annual data). Fallbacks: ETS(A,N,N) (simple exponential
    smoothing) below 8 points or if the damped fit fails, drift below 4 points
    (naive below 3), the last value for a constant series.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Observed history, oldest first, without NaN.
    h : int
        Forecast horizon.

    Returns
    -------
    ndarray of shape (h,)
        Point forecasts, always finite.

    Examples
    --------
    >>> f = ets_forecast(np.arange(1.0, 13.0), 3)  # damped: the slope shrinks
    >>> f.shape, bool(np.all(np.diff(f) > 0)), bool(f[-1] < 15.0)
    ((3,), True, True)
    """
    return _ets(y, h)


# ------------------------------------------------------------------------- ARIMA
def _choose_d(z: np.ndarray) -> int:
    """Differencing order by a KPSS level-stationarity test at 5% (as auto.arima)."""
    try:
        _, pvalue, *_ = _SM["kpss"](z, regression="c", nlags="auto")
    except Exception:  # noqa: BLE001
        return 1
    return 1 if pvalue < 0.05 else 0


def _arima_std(z: np.ndarray, h: int) -> np.ndarray:
    SARIMAX = _SM["SARIMAX"]
    d = _choose_d(z)
    n_eff = z.size - d
    best_aic, best = np.inf, None
    for p in (0, 1, 2):
        for q in (0, 1):
            n_params = p + q + 2  # + constant/drift + variance
            if n_params > max(1, n_eff - 3):
                continue
            try:
                # With d = 1 a constant in SARIMAX's differenced form is a drift.
                res = SARIMAX(
                    z,
                    order=(p, d, q),
                    trend="c",
                    enforce_stationarity=True,
                    enforce_invertibility=True,
                    concentrate_scale=True,  # same AIC, one parameter less to optimise
                ).fit(disp=False, maxiter=100)
            except Exception:  # noqa: BLE001
                continue
            aic = float(res.aic)
            if np.isfinite(aic) and aic < best_aic:
                best_aic, best = aic, res
    if best is None:
        raise RuntimeError("no ARIMA order could be fitted")
    return np.asarray(best.forecast(h), dtype=float)


_arima = _guarded(_arima_std, _MIN_OBS_ARIMA)


def arima_forecast(y: np.ndarray, h: int) -> np.ndarray:
    """ARIMA(p, d, q) with constant (drift when d = 1), orders chosen by AIC.

    The differencing order ``d`` in {0, 1} is chosen by a KPSS test of level
    stationarity at the 5% level; ``p`` in {0, 1, 2} and ``q`` in {0, 1} by
    AIC among the fits that converge (orders with too many parameters for the
    series length are skipped). Fitted with statsmodels
    :class:`~statsmodels.tsa.statespace.sarimax.SARIMAX`, warnings silenced.
    Fallbacks: drift below 8 points (naive below 3) or when no order fits, the
    last value for a constant series.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Observed history, oldest first, without NaN.
    h : int
        Forecast horizon.

    Returns
    -------
    ndarray of shape (h,)
        Point forecasts, always finite.

    Examples
    --------
    >>> arima_forecast(np.arange(1.0, 21.0), 2).round(1)
    array([21., 22.])
    """
    return _arima(y, h)


# ------------------------------------------------------------------------- Theta
def _theta_std(z: np.ndarray, h: int) -> np.ndarray:
    res = _SM["ThetaModel"](z, period=1, deseasonalize=False).fit()
    return np.asarray(res.forecast(h), dtype=float)


_theta = _guarded(_theta_std, _MIN_OBS_THETA)


def theta_forecast(y: np.ndarray, h: int) -> np.ndarray:
    """Theta method (Assimakopoulos & Nikolopoulos, 2000) via statsmodels.

    Standard theta = 2 model of :class:`~statsmodels.tsa.forecasting.theta.ThetaModel`:
    simple exponential smoothing plus half the slope of a linear trend, without
    deseasonalisation (annual data). Fallbacks: drift below 4 points (naive below
    3), the last value for a constant series.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Observed history, oldest first, without NaN.
    h : int
        Forecast horizon.

    Returns
    -------
    ndarray of shape (h,)
        Point forecasts, always finite.

    Examples
    --------
    >>> theta_forecast(np.arange(1.0, 21.0), 2).shape
    (2,)
    """
    return _theta(y, h)


PER_SERIES_MODELS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "ets": ets_forecast,
    "arima": arima_forecast,
    "theta_sm": theta_forecast,
}
"""Per-series statsmodels forecasters by name: ``f(y, h) -> ndarray (h,)``."""
