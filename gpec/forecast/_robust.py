"""Isolated absurd values (typing errors, unit slips) found and set aside before forecasting.

A value is an outlier when it is far from the median of its neighbouring years
both in the series' own robust units and as a ratio (Hampel identifier with a
ratio guard)::

    m_t = median(x_{t-2}, x_{t-1}, x_{t+1}, x_{t+2})        (mirrored at the ends)
    r_t = x_t - m_t,   s = 1.4826 median_t |r_t|
    outlier  <=>  |r_t| > c s  and  |r_t| > 10 sqrt(m_t + 1)
              and  (x_t + 1) / (m_t + 1) > f  (or < 1 / f, not at the last value)

with ``c = 6`` and ``f = 3`` by default. The tests together keep level shifts,
shocks (a dip of a third) and the noise of small counts out, while a value
a thousand times its neighbours is caught wherever it lies. A drop at the last
value is never called an outlier (it may be a closure). Series with fewer than
5 observations or at least 30% zeros are left alone.
"""

from __future__ import annotations

import numpy as np

from ._fast import prepare_matrix

__all__ = ["find_outliers", "clean_outliers"]


def _neighbour_median(X: np.ndarray) -> np.ndarray:
    """Median of the two values before and the two after each cell, mirrored at the ends."""
    n, T = X.shape
    if T < 3:
        return X.copy()
    P = np.pad(X, ((0, 0), (2, 2)), mode="reflect") if T >= 3 else X
    neigh = np.stack([P[:, 0:T], P[:, 1 : T + 1], P[:, 3 : T + 3], P[:, 4 : T + 4]], axis=2)
    neigh.sort(axis=2)
    return 0.5 * (neigh[:, :, 1] + neigh[:, :, 2])


def find_outliers(
    Y: np.ndarray, *, c: float = 6.0, ratio: float = 3.0, min_obs: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Flag isolated absurd values and the value each is replaced by.

    Parameters
    ----------
    Y : ndarray of shape (n_series, T)
        Observations, NaN where missing.
    c : float, default=6
        Threshold in robust standard deviations of the series' deviations
        from its neighbours' median.
    ratio : float, default=3
        Minimum ratio ``(x + 1) / (m + 1)`` (or its inverse) to the
        neighbours' median.
    min_obs : int, default=5
        Series with fewer observations are not examined.

    Returns
    -------
    flags : ndarray of bool, shape (n_series, T)
    replacement : ndarray of shape (n_series, T)
        The neighbours' median (meaningful where flagged).

    Examples
    --------
    >>> import numpy as np
    >>> Y = np.array([[100.0, 102, 101, 1e12, 103, 104, 102, 105]])
    >>> flags, repl = find_outliers(Y)
    >>> flags.nonzero()[1].tolist(), float(repl[flags][0])
    ([3], 102.5)
    """
    Y = np.asarray(Y, dtype=float)
    n, T = Y.shape
    flags = np.zeros((n, T), dtype=bool)
    if T < 3 or n == 0:
        return flags, Y.copy()
    obs = np.isfinite(Y)
    n_obs = obs.sum(axis=1)
    zeros = (obs & (Y == 0)).sum(axis=1)
    eligible = (n_obs >= min_obs) & (zeros < 0.3 * np.maximum(n_obs, 1))
    if not eligible.any():
        return flags, Y.copy()
    rows = np.flatnonzero(eligible)
    X, _, _ = prepare_matrix(Y[rows])
    med = _neighbour_median(X)
    r = X - med
    o = obs[rows]
    absr = np.where(o, np.abs(r), np.nan)
    with np.errstate(invalid="ignore"):
        s = 1.4826 * np.nanmedian(absr, axis=1)
    # a floor so that perfectly smooth series do not flag their first wiggle
    s = np.maximum(np.nan_to_num(s), 1e-3 * np.abs(np.nanmedian(np.where(o, X, np.nan), axis=1)))
    # small counts move by several times their square root: never an outlier by that alone
    big = (np.abs(r) > c * s[:, None]) & (np.abs(r) > 10.0 * np.sqrt(np.maximum(med, 0.0) + 1.0))
    rel = (X + 1.0) / (np.maximum(med, 0.0) + 1.0)
    last = np.zeros_like(o)
    last_col = T - 1 - o[:, ::-1].argmax(axis=1)
    last[np.arange(len(rows)), last_col] = True
    far = (rel > ratio) | ((rel < 1.0 / ratio) & ~last)
    flags[rows] = o & big & far
    repl = Y.copy()
    repl[rows] = np.where(flags[rows], med, Y[rows])
    return flags, repl


def clean_outliers(Y: np.ndarray, **kw) -> tuple[np.ndarray, np.ndarray]:
    """Replace the values flagged by :func:`find_outliers` by their neighbours' median.

    Returns
    -------
    Y_clean : ndarray of shape (n_series, T)
    flags : ndarray of bool, shape (n_series, T)
    """
    flags, repl = find_outliers(Y, **kw)
    return np.where(flags, repl, Y), flags
