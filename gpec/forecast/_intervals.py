"""Conformal prediction intervals from scaled backtest errors.

Errors ``(actual - forecast) / scale`` of every series are pooled per
horizon step; the scale (mean absolute one-step change of the training data,
as in MASE) makes them comparable across series of very different levels.
Interval bounds are ``mean + q * scale`` with ``q`` the conformal quantiles of
the pooled errors, clipped at zero.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conformal_quantiles", "apply_intervals", "fallback_scale", "loo_coverage"]


def _conformal_q(e: np.ndarray, p: float) -> float:
    """Finite-sample conformal quantile of ``e`` at probability ``p``."""
    e = e[np.isfinite(e)]
    n = len(e)
    if n == 0:
        return np.nan
    if p >= 0.5:
        k = min(int(np.ceil((n + 1) * p)) - 1, n - 1)
    else:
        k = max(int(np.floor((n + 1) * p)) - 1, 0)
    return float(np.partition(e, k)[k])


def conformal_quantiles(scaled_errors: np.ndarray, levels) -> dict[int, np.ndarray]:
    """Lower and upper quantiles of scaled errors per horizon step.

    Parameters
    ----------
    scaled_errors : ndarray of shape (n_windows, n_series, h)
        ``(actual - forecast) / scale``, NaN where unavailable.
    levels : iterable of int
        Nominal coverage levels in percent, e.g. ``(80, 95)``.

    Returns
    -------
    dict of int to ndarray of shape (2, h)
        Row 0: lower quantile, row 1: upper quantile. Steps without errors
        borrow the previous step's quantiles widened by sqrt(k / (k-1)); the
        lower row never rises and the upper row never falls from one step to
        the next (a step narrower than the one before is widened to it).

    Examples
    --------
    >>> import numpy as np
    >>> e = np.linspace(-1, 1, 201).reshape(1, 201, 1)
    >>> q = conformal_quantiles(e, [80])[80]
    >>> bool(-0.82 < q[0, 0] < -0.78 and 0.78 < q[1, 0] < 0.82)
    True
    """
    h = scaled_errors.shape[2]
    out = {}
    for lev in levels:
        a = 1 - lev / 100.0
        q = np.full((2, h), np.nan)
        for k in range(h):
            e = scaled_errors[:, :, k].ravel()
            q[0, k] = _conformal_q(e, a / 2)
            q[1, k] = _conformal_q(e, 1 - a / 2)
        for k in range(h):
            if not np.isfinite(q[:, k]).all():
                if k == 0:
                    z = {80: 1.28, 90: 1.64, 95: 1.96, 99: 2.58}.get(int(lev), 1.96)
                    q[:, k] = (-z, z)
                else:
                    q[:, k] = q[:, k - 1] * np.sqrt((k + 1) / k)
        # uncertainty never shrinks further ahead: a step's quantiles are estimated from fewer
        # errors than the one before and can come out narrower by chance; the envelope keeps
        # every step at least as wide as the previous one
        q[0] = np.minimum.accumulate(q[0])
        q[1] = np.maximum.accumulate(q[1])
        out[int(lev)] = q
    return out


def fallback_scale(scale: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Replace zero or undefined scales by the panel's median relative scale x level.

    A constant or one-point series has no observed change; it gets the typical
    relative change of the other series applied to its own level (so a
    constant 0 stays at width 0).

    Examples
    --------
    >>> import numpy as np
    >>> fallback_scale(np.array([1.0, 0.0]), np.array([10.0, 50.0])).tolist()
    [1.0, 5.0]
    """
    scale = np.asarray(scale, dtype=float)
    level = np.abs(np.asarray(level, dtype=float))
    good = np.isfinite(scale) & (scale > 0) & (level > 0)
    rel = np.median(scale[good] / level[good]) if good.any() else 0.05
    bad = ~(np.isfinite(scale) & (scale > 0))
    return np.where(bad, rel * np.nan_to_num(level), scale)


def apply_intervals(
    mean: np.ndarray, scale: np.ndarray, q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative bounds ``mean + q * scale`` that always contain the mean.

    Parameters
    ----------
    mean : ndarray of shape (n_series, h)
    scale : ndarray of shape (n_series,)
    q : ndarray of shape (2, h)

    Returns
    -------
    lower, upper : ndarray of shape (n_series, h)
    """
    lower = mean + q[0][None, :] * scale[:, None]
    upper = mean + q[1][None, :] * scale[:, None]
    lower = np.maximum(np.minimum(lower, mean), 0.0)
    upper = np.maximum(upper, mean)
    return lower, upper


def loo_coverage(scaled_errors: np.ndarray, levels) -> dict[int, np.ndarray]:
    """Leave-one-window-out empirical coverage per horizon step.

    The quantiles computed without window ``w`` are checked on window ``w``,
    and the hits pooled: an honest estimate of the coverage of intervals built
    the same way on future data.

    Returns
    -------
    dict of int to ndarray of shape (2, h)
        Row 0: coverage, row 1: number of errors checked.
    """
    W, _, h = scaled_errors.shape
    out = {int(lev): np.zeros((2, h)) for lev in levels}
    if W < 2:
        for lev in out:
            out[lev][0] = np.nan
        return out
    hits = {lev: np.zeros(h) for lev in out}
    counts = np.zeros(h)
    for w in range(W):
        rest = np.delete(scaled_errors, w, axis=0)
        qs = conformal_quantiles(rest, out.keys())
        e = scaled_errors[w]
        ok = np.isfinite(e)
        counts += ok.sum(axis=0)
        for lev, q in qs.items():
            inside = ok & (e >= q[0][None, :]) & (e <= q[1][None, :])
            hits[lev] += inside.sum(axis=0)
    for lev in out:
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lev][0] = hits[lev] / counts
        out[lev][1] = counts
    return out
