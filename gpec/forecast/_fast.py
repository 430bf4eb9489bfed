"""Vectorised forecasting models over a whole panel at once (numpy).

Every function takes a matrix ``Y`` of shape ``(n_series, T)`` prepared by
:func:`prepare_matrix` (internal gaps interpolated, trailing gaps carried
forward, leading gaps back-filled with the first observation) and returns a
forecast matrix of shape ``(n_series, h)``. Parameter searches run on
parameter grids as array operations, so that the cost is a few passes over
the panel whatever the number of series.

Backfilling the leading gap with the first observed value makes the
exponential smoothing recursions start exactly at each series' first
observation: on a constant prefix the one-step errors are zero, so neither
the state nor the sum of squared errors moves before the series starts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "FAST_MODELS",
    "prepare_matrix",
    "naive",
    "seasonal_naive",
    "mean",
    "drift",
    "ses",
    "holt",
    "theta",
    "drift_ses",
    "optimised_theta",
    "pooled_trend",
    "constant_share",
]

# Parameter grids (error-correction form, beta given as a fraction of alpha).
SES_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0])
HOLT_ALPHAS = np.array([0.2, 0.5, 0.8, 1.0])
HOLT_BETA_FRACTIONS = np.array([0.05, 0.2, 0.5, 1.0])
HOLT_PHIS = np.array([0.8, 0.9, 0.98])
THETA_ALPHAS = np.array([0.1, 0.3, 0.5, 0.7, 0.9, 1.0])
DRIFT_WEIGHTS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
OTM_ALPHAS = np.array([0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99])
_OTM_C_MAX = 1.0 - 1e-9  # c = 1 - 1/theta < 1

# Pooled trend: width of the smoothed absolute loss (in MASE units), winsorising quantile,
# least number of observed changes of a row, least rows of a step's fit, most rows kept
POOLED_EPS = 0.05
POOLED_WINSOR = 0.01
POOLED_MIN_CHANGES = 3
POOLED_MIN_ROWS = 50
POOLED_MAX_ROWS = 20_000

_CHUNK = 20_000
_HOLT_CHUNK = 1_000  # keeps the (series x grid) state arrays in cache


def prepare_matrix(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill gaps so that the vectorised recursions can run.

    Parameters
    ----------
    Y : ndarray of shape (n_series, T)
        Observations, NaN where missing.

    Returns
    -------
    X : ndarray of shape (n_series, T)
        Leading gaps back-filled with the first observation, internal gaps
        linearly interpolated, trailing gaps carried forward. All-NaN rows
        become zeros.
    start : ndarray of int, shape (n_series,)
        Index of the first observation (``T`` for all-NaN rows).
    n_obs : ndarray of int, shape (n_series,)
        Number of observed (non-NaN) values.

    Examples
    --------
    >>> import numpy as np
    >>> X, start, n_obs = prepare_matrix(np.array([[np.nan, 1.0, np.nan, 3.0, np.nan]]))
    >>> X.tolist(), start.tolist(), n_obs.tolist()
    ([[1.0, 1.0, 2.0, 3.0, 3.0]], [1], [2])
    """
    Y = np.asarray(Y, dtype=float)
    n, T = Y.shape
    obs = np.isfinite(Y)
    n_obs = obs.sum(axis=1)
    start = np.where(n_obs > 0, obs.argmax(axis=1), T)
    X = Y.copy()
    if obs.all():
        return X, start, n_obs
    cols = np.arange(T)
    # index of the previous and next observation for every cell
    prev_idx = np.where(obs, cols, -1)
    np.maximum.accumulate(prev_idx, axis=1, out=prev_idx)
    next_idx = np.where(obs, cols, T)
    next_idx = np.minimum.accumulate(next_idx[:, ::-1], axis=1)[:, ::-1]
    rows = np.arange(n)[:, None]
    Yz = np.where(obs, Y, 0.0)
    prev_val = Yz[rows, np.clip(prev_idx, 0, T - 1)]
    next_val = Yz[rows, np.clip(next_idx, 0, T - 1)]
    has_prev = prev_idx >= 0
    has_next = next_idx < T
    span = np.where(has_prev & has_next, np.maximum(next_idx - prev_idx, 1), 1)
    frac = np.where(has_prev & has_next, (cols - prev_idx) / span, 0.0)
    interp = prev_val + frac * (next_val - prev_val)
    fill = np.where(has_prev & has_next, interp, np.where(has_prev, prev_val, next_val))
    fill = np.where(has_prev | has_next, fill, 0.0)
    X = np.where(obs, Y, fill)
    return X, start, n_obs


def _steps(h: int) -> np.ndarray:
    return np.arange(1, h + 1, dtype=float)


def naive(X: np.ndarray, h: int, start: np.ndarray | None = None, **_) -> np.ndarray:
    """Naive forecast: the last value, repeated.

    Examples
    --------
    >>> import numpy as np
    >>> naive(np.array([[1.0, 2.0, 3.0]]), 2).tolist()
    [[3.0, 3.0]]
    """
    return np.repeat(X[:, -1:], h, axis=1)


def seasonal_naive(
    X: np.ndarray, h: int, start: np.ndarray | None = None, *, season_length: int = 1, **_
) -> np.ndarray:
    """Seasonal naive forecast: the value one season before."""
    m = max(int(season_length), 1)
    if m == 1 or X.shape[1] < m:
        return naive(X, h)
    last = X[:, -m:]
    reps = int(np.ceil(h / m))
    return np.tile(last, reps)[:, :h]


def mean(X: np.ndarray, h: int, start: np.ndarray | None = None, **_) -> np.ndarray:
    """Mean of the observed history, repeated."""
    T = X.shape[1]
    start = np.zeros(X.shape[0], dtype=int) if start is None else np.minimum(start, T - 1)
    csum = np.cumsum(X[:, ::-1], axis=1)[:, ::-1]  # sum from t to the end
    total = csum[np.arange(X.shape[0]), start]
    m = total / (T - start)
    return np.repeat(m[:, None], h, axis=1)


def drift(X: np.ndarray, h: int, start: np.ndarray | None = None, **_) -> np.ndarray:
    """Random walk with drift: last value plus the average change.

    Examples
    --------
    >>> import numpy as np
    >>> drift(np.array([[1.0, 2.0, 3.0]]), 2).tolist()
    [[4.0, 5.0]]
    """
    T = X.shape[1]
    start = np.zeros(X.shape[0], dtype=int) if start is None else np.minimum(start, T - 1)
    first = X[np.arange(X.shape[0]), start]
    span = (T - 1 - start).astype(float)
    slope = np.divide(X[:, -1] - first, span, out=np.zeros(X.shape[0]), where=span > 0)
    return X[:, -1:] + slope[:, None] * _steps(h)[None, :]


def _ses_grid(X: np.ndarray, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run simple exponential smoothing for every alpha; return levels and SSE."""
    n, T = X.shape
    a = alphas[None, :]
    level = np.repeat(X[:, :1], len(alphas), axis=1)
    sse = np.zeros((n, len(alphas)))
    for t in range(1, T):
        err = X[:, t : t + 1] - level
        sse += err * err
        level += a * err
    return level, sse


def ses(X: np.ndarray, h: int, start: np.ndarray | None = None, **_) -> np.ndarray:
    """Simple exponential smoothing, alpha chosen on a grid by in-sample SSE."""
    out = np.empty((X.shape[0], h))
    for sl in _chunks(X.shape[0]):
        level, sse = _ses_grid(X[sl], SES_ALPHAS)
        best = sse.argmin(axis=1)
        out[sl] = level[np.arange(level.shape[0]), best][:, None]
    return out


def _holt_grid():
    a, bf, p = np.meshgrid(HOLT_ALPHAS, HOLT_BETA_FRACTIONS, HOLT_PHIS, indexing="ij")
    return a.ravel(), (a * bf).ravel(), p.ravel()


_HOLT_A, _HOLT_B, _HOLT_P = _holt_grid()


def holt(X: np.ndarray, h: int, start: np.ndarray | None = None, **_) -> np.ndarray:
    """Additive damped-trend exponential smoothing (Gardner & McKenzie).

    Recursions, for every (alpha, beta, phi) of the grid at once::

        e_t = y_t - (l_{t-1} + phi b_{t-1})
        l_t = l_{t-1} + phi b_{t-1} + alpha e_t
        b_t = phi b_{t-1} + alpha beta e_t

    with ``l_0 = y_0``, ``b_0 = 0``; the parameters minimising the in-sample
    sum of squared one-step errors are kept. Forecast
    ``l_T + (phi + ... + phi^k) b_T``.
    """
    n, T = X.shape
    out = np.empty((n, h))
    A, B, P = _HOLT_A[None, :], _HOLT_B[None, :], _HOLT_P[None, :]
    k = _steps(h)
    for sl in _chunks(n, _HOLT_CHUNK):
        x = X[sl]
        m = x.shape[0]
        G = A.shape[1]
        level = np.repeat(x[:, :1], G, axis=1)
        trend = np.zeros_like(level)
        sse = np.zeros_like(level)
        fc = np.empty_like(level)
        err = np.empty_like(level)
        tmp = np.empty_like(level)
        for t in range(1, T):
            trend *= P
            np.add(level, trend, out=fc)
            np.subtract(x[:, t : t + 1], fc, out=err)
            np.multiply(err, err, out=tmp)
            sse += tmp
            np.multiply(A, err, out=tmp)
            np.add(fc, tmp, out=level)
            np.multiply(B, err, out=tmp)
            trend += tmp
        best = sse.argmin(axis=1)
        rows = np.arange(m)
        phi = _HOLT_P[best]
        damp = np.cumsum(phi[:, None] ** k[None, :], axis=1)
        out[sl] = level[rows, best][:, None] + damp * trend[rows, best][:, None]
    return out


def theta(X: np.ndarray, h: int, start: np.ndarray | None = None, **_) -> np.ndarray:
    """Standard Theta method (Assimakopoulos & Nikolopoulos, 2000).

    Equivalent to simple exponential smoothing with a drift equal to half the
    slope of the least-squares line (Hyndman & Billah, 2003)::

        yhat_{T+k} = l_T + b/2 * (k - 1 + 1/alpha - (1 - alpha)^n / alpha)

    where ``b`` is the OLS slope over the observed span and ``n`` the number of
    observations; alpha is chosen on a grid by in-sample SSE.
    """
    n, T = X.shape
    start = np.zeros(n, dtype=int) if start is None else np.minimum(start, T - 1)
    out = np.empty((n, h))
    k = _steps(h)
    for sl in _chunks(n):
        x = X[sl]
        s = start[sl]
        cnt = (T - s).astype(float)
        slope = _line(x, s)[1]
        level, sse = _ses_grid(x, THETA_ALPHAS)
        best = sse.argmin(axis=1)
        alpha = THETA_ALPHAS[best]
        lev = level[np.arange(x.shape[0]), best]
        adj = (k[None, :] - 1) + 1 / alpha[:, None] - ((1 - alpha) ** cnt / alpha)[:, None]
        out[sl] = lev[:, None] + 0.5 * slope[:, None] * adj
    return out


def drift_ses(X: np.ndarray, h: int, start: np.ndarray | None = None, **_) -> np.ndarray:
    """Simple exponential smoothing with a drift, drift weight and alpha fitted per series.

    An optimised-Theta-like model: the drift is a fraction ``w`` of the
    least-squares slope ``b_t`` of the series up to ``t`` (recomputed at every
    period, as in the dynamic Theta models), and the level follows::

        yhat_{t+1|t} = l_t + w b_t
        l_{t+1} = yhat_{t+1|t} + alpha (y_{t+1} - yhat_{t+1|t})

    ``w = 0`` is simple exponential smoothing, ``w = 0.5`` is close to the
    standard Theta method, ``w = 1`` with ``alpha = 1`` a random walk with the
    least-squares drift. ``(alpha, w)`` minimise the in-sample sum of squared
    one-step errors (from the third observation on) over the grid
    ``THETA_ALPHAS x DRIFT_WEIGHTS``. Forecast ``l_T + k w b_T``.

    Examples
    --------
    >>> import numpy as np
    >>> drift_ses(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), 2).round(6).tolist()
    [[6.0, 7.0]]
    """
    n, T = X.shape
    start = np.zeros(n, dtype=int) if start is None else np.minimum(start, T - 1)
    A = np.repeat(THETA_ALPHAS, len(DRIFT_WEIGHTS))[None, :]
    Wd = np.tile(DRIFT_WEIGHTS, len(THETA_ALPHAS))[None, :]
    out = np.empty((n, h))
    k = _steps(h)
    t_idx = np.arange(T, dtype=float)
    for sl in _chunks(n, _HOLT_CHUNK):
        x, s = X[sl], start[sl]
        m = x.shape[0]
        slopes = _running_slopes(x, s, t_idx)
        level = np.repeat(x[:, :1], A.shape[1], axis=1)
        sse = np.zeros_like(level)
        fc = np.empty_like(level)
        err = np.empty_like(level)
        tmp = np.empty_like(level)
        # before a series starts its values are back-filled and its slope is 0: the error is
        # 0 there and the level stays at the first observation
        for t in range(1, T):
            np.multiply(Wd, slopes[:, t - 1 : t], out=fc)
            fc += level
            np.subtract(x[:, t : t + 1], fc, out=err)
            np.multiply(err, err, out=tmp)
            tmp *= (t >= s + 2)[:, None]  # scored from each series' third observation
            sse += tmp
            np.multiply(A, err, out=level)
            level += fc
        slope = slopes[:, -1]
        best = sse.argmin(axis=1)
        rows = np.arange(m)
        out[sl] = level[rows, best][:, None] + (Wd[0, best] * slope)[:, None] * k[None, :]
    return out


def _line(x: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares line ``A + B i`` of each row over its local times ``i = 1 .. n``."""
    T = x.shape[1]
    t = np.arange(T, dtype=float)[None, :] - start[:, None] + 1.0
    on = t >= 1
    cnt = on.sum(axis=1)
    tm = (t * on).sum(axis=1) / cnt
    ym = (x * on).sum(axis=1) / cnt
    dt = (t - tm[:, None]) * on
    sxx = (dt * dt).sum(axis=1)
    b = np.divide((dt * (x - ym[:, None])).sum(axis=1), sxx, out=np.zeros(len(x)), where=sxx > 0)
    return ym - b * tm, b


def optimised_theta(X: np.ndarray, h: int, start: np.ndarray | None = None, **_) -> np.ndarray:
    """Optimised Theta method (Fiorucci et al., 2016), theta and the initial level exact.

    With ``A + B i`` the least-squares line of the series over its local times
    ``i = 1 .. n``, the one-step forecast of observation ``i`` (``i = 0 .. n-1``)
    and the level are::

        yhat_i = l_{i-1} + c (A (1 - alpha)^i + B (1 - (1 - alpha)^(i+1)) / alpha)
        l_i = alpha y_i + (1 - alpha) l_{i-1},        l_{-1} = l0

    with ``c = 1 - 1/theta`` (``theta = 2``, ``c = 1/2``: the standard Theta
    method; ``c = 0``: simple exponential smoothing). The errors are linear in
    ``c`` and ``l0``, so for each ``alpha`` of ``OTM_ALPHAS`` the pair that
    minimises the sum of squared one-step errors from the fourth observation on
    is solved exactly (``c`` kept in ``[0, 1)``, i.e. ``theta >= 1``, then ``l0``
    given ``c``); the ``alpha`` with the smallest sum is kept. The forecast
    continues the recursion, each forecast taken as the next observation.

    Examples
    --------
    >>> import numpy as np
    >>> optimised_theta(np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]), 2).round(3).tolist()
    [[7.0, 8.0]]
    """
    n, T = X.shape
    start = np.zeros(n, dtype=int) if start is None else np.minimum(start, T - 1)
    a = OTM_ALPHAS[None, :]
    # (1 - alpha)^j for j = 0 .. T, looked up instead of raised to a power at every step
    powers = (1 - a) ** np.arange(T + 1, dtype=float)[:, None]
    out = np.empty((n, h))
    for sl in _chunks(n, 5_000):
        x, s = X[sl], start[sl]
        m = x.shape[0]
        A, B = (v[:, None] for v in _line(x, s))
        lev = np.zeros((m, a.shape[1]))  # level without l0's share (1 - alpha)^(i+1) l0
        uu, uD, DD, uq, Dq, qq = (np.zeros_like(lev) for _ in range(6))
        for t in range(T):
            i = t - s  # local time; before the series starts (i < 0) nothing is scored
            y = x[:, t : t + 1]
            q = powers[np.maximum(i, 0)]  # weight of l0 in l_{i-1}
            D = A * q + B * (1 - powers[np.clip(i + 1, 0, T)]) / a
            u = y - lev
            scored = i >= 3  # scored from each series' fourth observation
            if scored.any():
                w = scored[:, None].astype(float)
                wu, wD = w * u, w * D
                uu += wu * u
                uD += wu * D
                DD += wD * D
                uq += wu * q
                Dq += wD * q
                qq += w * q * q
            lev = np.where(
                (i == 0)[:, None], a * y, np.where((i >= 1)[:, None], a * y + (1 - a) * lev, lev)
            )
        det = DD * qq - Dq * Dq
        ok = det > 1e-12 * np.maximum(DD * qq, 1e-300)
        c = np.divide(uD * qq - uq * Dq, det, out=np.zeros_like(det), where=ok)
        c = np.where(ok, c, np.divide(uD, DD, out=np.zeros_like(DD), where=DD > 0))
        c = np.clip(c, 0.0, _OTM_C_MAX)
        l0 = np.divide(uq - c * Dq, qq, out=np.zeros_like(qq), where=qq > 0)
        l0 = np.where(qq > 0, l0, x[np.arange(m), s][:, None])
        sse = uu + c * c * DD + l0 * l0 * qq - 2 * c * uD - 2 * l0 * uq + 2 * c * l0 * Dq
        best = sse.argmin(axis=1)
        rows = np.arange(m)
        al = OTM_ALPHAS[best]
        nobs = (T - s).astype(float)
        cc = c[rows, best]
        level = lev[rows, best] + (1 - al) ** nobs * l0[rows, best]
        A1, B1 = A[:, 0], B[:, 0]
        for k in range(h):
            i = nobs + k
            mu = level + cc * (A1 * (1 - al) ** i + B1 * (1 - (1 - al) ** (i + 1)) / al)
            out[sl.start + rows, k] = mu
            level = al * mu + (1 - al) * level
    return out


def _running_slopes(x: np.ndarray, start: np.ndarray, t_idx: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row over its columns ``start .. t``, for every ``t``.

    Examples
    --------
    >>> import numpy as np
    >>> _running_slopes(np.array([[5.0, 1.0, 3.0, 5.0]]), np.array([1]), np.arange(4.0)).tolist()
    [[0.0, 0.0, 2.0, 2.0]]
    """
    on = t_idx[None, :] >= start[:, None]
    c = np.cumsum(on, axis=1)
    st = np.cumsum(on * t_idx, axis=1)
    sy = np.cumsum(on * x, axis=1)
    stt = np.cumsum(on * t_idx * t_idx, axis=1)
    sty = np.cumsum(on * t_idx * x, axis=1)
    den = c * stt - st * st
    return np.divide(c * sty - st * sy, den, out=np.zeros_like(den), where=den > 0)


def _smoothed_lad(
    A: np.ndarray, y: np.ndarray, eps: float, iters: int = 30, tol: float = 1e-5
) -> np.ndarray:
    """Least absolute deviations, smoothed: iteratively reweighted least squares with weights
    ``1 / max(|residual|, eps)`` (a loss quadratic within ``eps`` of 0, absolute beyond), and a
    ridge of 1e-3 per unit of weight, so that the solution is unique and moves continuously with
    the data.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.ones((5, 1)); y = np.array([0.0, 1.0, 2.0, 3.0, 100.0])
    >>> float(_smoothed_lad(A, y, 1e-3)[0].round(2))  # the median, not the mean (21.2)
    2.0
    """
    ridge = 1e-3 * np.eye(A.shape[1])
    beta = np.linalg.solve(A.T @ A + ridge * len(y), A.T @ y)
    for _ in range(iters):
        w = 1.0 / np.maximum(np.abs(y - A @ beta), eps)
        new = np.linalg.solve(A.T @ (A * w[:, None]) + ridge * w.sum(), A.T @ (w * y))
        done = np.max(np.abs(new - beta)) < tol
        beta = new
        if done:
            break
    return beta


def pooled_trend(X: np.ndarray, h: int, start: np.ndarray | None = None, **_) -> np.ndarray:
    """Pooled trend: how much of a series' past growth persists, learnt across the panel.

    For every series ``i`` and past origin ``t`` with at least ``POOLED_MIN_CHANGES`` observed
    changes, with ``s_{i,t}`` the mean absolute change from one period to the next up to ``t``
    (on yearly panels the MASE scale at that origin; the :class:`Forecaster` passes seasonal
    panels deseasonalised), two scaled trend estimates, the drift ``(y_t - y_first) / (t - first)`` and
    the least-squares slope of ``y_first .. y_t``, explain the average change per step that
    followed, ``(y_{t+k} - y_t) / (k s_{i,t})``. One linear model per step ``k``, without
    intercept, is fitted on every such row of the panel at once by smoothed least absolute
    deviations (:func:`_smoothed_lad`; the MASE is an absolute error), with features and targets
    winsorised at the panel's 1 % and 99 % quantiles, so that one absurd series moves the fit by
    its share of the rows at most. The forecast is ``y_T + k s_T (beta_k . x_T)``.

    The panel's own history decides: on collections whose growth persisted, the coefficients
    sum to about 1 or more (the trend is carried on); on employment series whose changes
    partly reverted, to less (the trend is damped towards the last value). A step with fewer
    than ``POOLED_MIN_ROWS`` rows reuses the previous step's coefficients; without any, and
    for a series without an observed change, the forecast is the last value. Above
    ``POOLED_MAX_ROWS`` rows, a fixed uniform draw per (series, period) cell keeps that many
    on average, so that changing one series' values never changes which rows of the others
    are kept (a series gaining or losing usable rows moves the kept share, by its share of the
    rows).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(12.0)
    >>> X = np.array([10 + b * t for b in (1.0, 2.0, 3.0)] * 20)  # growth that persisted
    >>> (pooled_trend(X, 2)[:3] - X[:3, -1:]).round(2).tolist()  # the slopes carried on
    [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]
    """
    X = np.asarray(X, dtype=float)
    n, T = X.shape
    start = np.zeros(n, dtype=int) if start is None else np.minimum(start, T - 1)
    out = np.repeat(X[:, -1:], h, axis=1)
    if T < 2:
        return out
    t_idx = np.arange(T, dtype=float)
    on = t_idx[None, :] > start[:, None]
    changes = np.cumsum(on, axis=1).astype(float)  # observed changes up to t
    D = np.zeros_like(X)
    D[:, 1:] = np.abs(np.diff(X, axis=1))
    scale = np.divide(
        np.cumsum(np.where(on, D, 0.0), axis=1),
        changes,
        out=np.zeros_like(X),
        where=changes > 0,
    )
    inv = np.divide(1.0, scale, out=np.zeros_like(X), where=scale > 0)
    first = X[np.arange(n), start][:, None]
    driftv = np.divide(X - first, changes, out=np.zeros_like(X), where=changes > 0)
    feats = np.stack([driftv * inv, _running_slopes(X, start, t_idx) * inv], axis=2)
    feats = np.where(np.isfinite(feats), feats, 0.0)
    usable = (changes >= POOLED_MIN_CHANGES) & (scale > 0)
    past = usable[:, : T - 1]
    if not past.any():
        return out
    lo, hi = np.quantile(feats[:, : T - 1][past], [POOLED_WINSOR, 1 - POOLED_WINSOR], axis=0)
    draw = None
    if int(past.sum()) > POOLED_MAX_ROWS:
        draw = np.random.default_rng(0).random((n, T))
    betas: list[np.ndarray | None] = []
    beta = None
    for k in range(1, h + 1):
        ok = usable[:, : max(T - k, 0)]
        rows = int(ok.sum())
        if rows >= POOLED_MIN_ROWS:
            if draw is not None and rows > POOLED_MAX_ROWS:
                ok = ok & (draw[:, : T - k] < POOLED_MAX_ROWS / rows)
            ii, tt = np.nonzero(ok)
            A = np.clip(feats[ii, tt], lo, hi)
            y = (X[ii, tt + k] - X[ii, tt]) / (k * scale[ii, tt])
            y = np.clip(y, *np.quantile(y, [POOLED_WINSOR, 1 - POOLED_WINSOR]))
            beta = _smoothed_lad(A, y, POOLED_EPS)
        betas.append(beta)
    x_now = np.clip(feats[:, T - 1], lo, hi)
    s_now = scale[:, T - 1]
    for k, b in enumerate(betas):
        if b is not None:
            out[:, k] = X[:, -1] + (k + 1) * s_now * (x_now @ b)
    return out


def constant_share(
    X: np.ndarray,
    h: int,
    start: np.ndarray | None = None,
    *,
    groups: np.ndarray | None = None,
    total_model: Callable | None = None,
    last: np.ndarray | None = None,
    **_,
) -> np.ndarray:
    """Constant share: each series keeps its last share of its group's total.

    The group total (e.g. all occupations of a territory) is forecast with
    ``total_model`` (default: the mean of damped Holt and Theta, a robust
    combination) and each series gets ``share * total_forecast``, its share
    taken at its last observation (column ``last``, default the last column:
    a series that stopped earlier keeps the share it had then). Series
    without a group (``groups is None``) are their own total, which reduces to
    the total model itself.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]])
    >>> constant_share(X, 1, groups=np.array([0, 0]), last=np.array([0, 2])).tolist()
    [[1.0], [3.0]]
    """
    n = X.shape[0]
    if total_model is None:

        def total_model(Z, hh):
            return 0.5 * (holt(Z, hh) + theta(Z, hh))

    if groups is None:
        return total_model(X, h)
    groups = np.asarray(groups)
    uniq, inv = np.unique(groups, return_inverse=True)
    totals = np.zeros((len(uniq), X.shape[1]))
    np.add.at(totals, inv, X)
    tot_fc = np.maximum(total_model(totals, h), 0.0)
    T = X.shape[1]
    last = np.full(n, T - 1) if last is None else np.clip(np.asarray(last), 0, T - 1)
    last_tot = totals[inv, last]
    share = np.divide(X[np.arange(n), last], last_tot, out=np.zeros(n), where=last_tot > 0)
    return share[:, None] * tot_fc[inv]


def _chunks(n: int, size: int = 0):
    size = size or _CHUNK
    for i in range(0, max(n, 1), size):
        yield slice(i, min(i + size, n))


FAST_MODELS: dict[str, Callable[..., np.ndarray]] = {
    "naive": naive,
    "snaive": seasonal_naive,
    "mean": mean,
    "drift": drift,
    "ses": ses,
    "holt": holt,
    "theta": theta,
    "drift_ses": drift_ses,
    "otheta": optimised_theta,
    "pooled": pooled_trend,
    "cshare": constant_share,
}
"""Vectorised models by name; all share the signature ``f(X, h, start, **kw)``."""


def seasonal_indices(X: np.ndarray, start: np.ndarray, m: int) -> np.ndarray:
    """Additive seasonal indices by classical decomposition.

    The trend is a centred moving average (2 x m for even ``m``); the index of
    season ``j`` is the mean of ``X - trend`` over the columns ``t`` with
    ``t % m == j`` (column 0 being the first period of the panel), centred to
    sum to zero. Series with fewer than ``2 m`` observations get zeros.

    Returns
    -------
    ndarray of shape (n_series, m)
    """
    n, T = X.shape
    out = np.zeros((n, m))
    if m <= 1 or T < 2 * m + 1:
        return out
    if m % 2 == 0:
        wts = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        wts = np.ones(m) / m
    k = len(wts)
    half = k // 2
    trend = np.full((n, T), np.nan)
    acc = np.zeros((n, T - k + 1))
    for j, wj in enumerate(wts):
        acc += wj * X[:, j : T - k + 1 + j]
    trend[:, half : T - half] = acc
    cols = np.arange(T)
    valid = (cols[None, :] - half >= start[:, None]) & np.isfinite(trend)
    detr = np.where(valid, X - np.nan_to_num(trend), 0.0)
    for j in range(m):
        sel = cols % m == j
        cnt = valid[:, sel].sum(axis=1)
        out[:, j] = np.divide(detr[:, sel].sum(axis=1), cnt, out=np.zeros(n), where=cnt > 0)
    out -= out.mean(axis=1, keepdims=True)
    enough = (T - start) >= 2 * m
    out[~enough] = 0.0
    return out
