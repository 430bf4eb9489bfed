"""Conformal prediction intervals from scaled backtest errors.

Errors ``(actual - forecast) / scale`` of every series are pooled per
horizon step; the scale (mean absolute one-step change of the training data,
as in MASE) makes them comparable across series of very different levels.
Interval bounds are ``mean + q * scale`` with ``q`` the conformal quantiles of
the pooled errors, clipped at zero.

The pool is a matrix of error *vectors*: one row per backtest window x
series, one column per effective horizon step (the step counted from the
series' own last observation, so that a series that stopped two years before
the panel's end is scored, and later forecast, at steps 3, 4, ...). Steps a
row does not reach are extrapolated from its nearest observed step by the
square-root rule of a random walk, ``e_j = e_f sqrt(j / f)``. The interval
quantiles and the sample paths of :mod:`gpec.forecast._paths` are computed from
this same matrix, so that the quantiles of the paths are the intervals.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "error_pool",
    "conformal_quantiles",
    "pool_quantiles",
    "apply_intervals",
    "fallback_scale",
    "loo_coverage",
]

_Z = {80: 1.2816, 90: 1.6449, 95: 1.96, 99: 2.5758}


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


def error_pool(
    scaled_errors: np.ndarray,
    lags: np.ndarray | None = None,
    n_steps: int | None = None,
    fill: bool = True,
) -> np.ndarray:
    """Matrix of scaled error vectors by effective horizon step, gaps extrapolated.

    Parameters
    ----------
    scaled_errors : ndarray of shape (n_windows, n_series, h)
        ``(actual - forecast) / scale``, NaN where unavailable.
    lags : ndarray of int, shape (n_windows, n_series), optional
        Periods between each series' last training observation and the
        window's origin (0: observed up to the origin). Error ``k`` of a row
        with lag ``L`` sits at effective step ``L + k``.
    n_steps : int, optional
        Number of effective steps (columns); default ``h + max(lags)``.
    fill : bool, default=True
        Fill the steps a row does not reach, as below; ``False`` leaves them
        NaN (each step's quantiles then rest on the errors observed there).

    Returns
    -------
    ndarray of shape (n_rows, n_steps)
        One row per window x series with at least one finite error; with
        ``fill``, every cell finite (missing steps within the first ``h`` follow a complete
        row's changes, when there is one; the others are extrapolated from the
        nearest finite step ``f`` as ``e_f sqrt(j / f)``, steps counted from 1).

    Examples
    --------
    >>> import numpy as np
    >>> e = np.array([[[1.0, np.nan]]])
    >>> error_pool(e, n_steps=3).round(3).tolist()
    [[1.0, 1.414, 1.732]]
    >>> error_pool(e, n_steps=3, fill=False).tolist()
    [[1.0, nan, nan]]
    """
    W, n, h = scaled_errors.shape
    lags = np.zeros((W, n), dtype=int) if lags is None else np.asarray(lags, dtype=int)
    lags = np.maximum(lags, 0)
    if n_steps is None:
        n_steps = h + (int(lags.max()) if lags.size else 0)
    E = scaled_errors.reshape(W * n, h)
    L = lags.reshape(W * n)
    keep = np.isfinite(E).any(axis=1)
    E, L = E[keep], L[keep]
    m = len(E)
    out = np.full((m, n_steps), np.nan)
    cols = L[:, None] + np.arange(h)[None, :]
    inside = cols < n_steps
    rows = np.broadcast_to(np.arange(m)[:, None], cols.shape)
    out[rows[inside], cols[inside]] = E[inside]
    if m == 0 or not fill:
        return out
    out = _fill_from_donors(out, min(h, n_steps))
    # nearest finite step of every cell (ties: the earlier one)
    obs = np.isfinite(out)
    idx = np.arange(n_steps)
    prev = np.where(obs, idx, -1)
    np.maximum.accumulate(prev, axis=1, out=prev)
    nxt = np.where(obs, idx, n_steps)
    nxt = np.minimum.accumulate(nxt[:, ::-1], axis=1)[:, ::-1]
    d_prev = np.where(prev >= 0, idx - prev, np.iinfo(np.int64).max)
    d_next = np.where(nxt < n_steps, nxt - idx, np.iinfo(np.int64).max)
    src = np.where(d_prev <= d_next, prev, nxt)
    src = np.clip(src, 0, n_steps - 1)
    r = np.arange(m)[:, None]
    val = out[r, src]
    factor = np.sqrt((idx[None, :] + 1.0) / (src + 1.0))
    return np.where(obs, out, val * factor)


def _fill_from_donors(E: np.ndarray, h: int) -> np.ndarray:
    """Fill a row's missing steps among the first ``h`` with a complete row's changes.

    A row observed at steps ``a..b`` only (a window near the panel's end, or a
    series stale at the origin) gets, at a missing step ``j > b``,
    ``e_b + (d_j - d_b)`` and at ``j < a``, ``e_a - (d_a - d_j)``, with ``d``
    a complete row (rows of complete vectors taken in turn): the missing years
    move as a real error path moved, so that yearly changes of the sample paths
    keep their spread. Rows stay as they are when no row is complete.
    """
    if h <= 1:
        return E
    head = E[:, :h]
    obs = np.isfinite(head)
    complete = np.flatnonzero(obs.all(axis=1))
    todo = np.flatnonzero(obs.any(axis=1) & ~obs.all(axis=1))
    if len(complete) == 0 or len(todo) == 0:
        return E
    E = E.copy()
    donors = head[complete[np.arange(len(todo)) % len(complete)]]
    rows = head[todo]
    o = obs[todo]
    idx = np.arange(h)
    first = o.argmax(axis=1)
    last = h - 1 - o[:, ::-1].argmax(axis=1)
    r = np.arange(len(todo))
    e_first, e_last = rows[r, first], rows[r, last]
    d_first, d_last = donors[r, first], donors[r, last]
    after = idx[None, :] > last[:, None]
    before = idx[None, :] < first[:, None]
    filled = np.where(after, e_last[:, None] + donors - d_last[:, None], rows)
    filled = np.where(before, e_first[:, None] - (d_first[:, None] - donors), filled)
    E[todo, :h] = filled
    return E


def pool_quantiles(pool: np.ndarray, levels) -> dict[int, np.ndarray]:
    """Conformal quantiles of each column of an error pool, before any envelope.

    Returns
    -------
    dict of int to ndarray of shape (2, n_steps)
        Row 0: lower quantile at ``(1 - level) / 2``, row 1: upper at
        ``(1 + level) / 2``; NaN for an empty pool.
    """
    n_steps = pool.shape[1]
    out = {}
    for lev in levels:
        a = 1 - float(lev) / 100.0
        q = np.full((2, n_steps), np.nan)
        for k in range(n_steps):
            q[0, k] = _conformal_q(pool[:, k], a / 2)
            q[1, k] = _conformal_q(pool[:, k], 1 - a / 2)
        out[int(lev)] = q
    return out


def envelope(q: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Quantiles that straddle 0 and never narrow along the horizon.

    Empty steps get Gaussian quantiles widened by the square-root rule; the
    lower row is capped at 0 and never rises, the upper row is floored at 0
    and never falls from one step to the next (a step's quantiles rest on fewer
    errors than the step before and can come out narrower by chance).
    """
    out = {}
    for lev, raw in q.items():
        q2 = raw.copy()
        n_steps = q2.shape[1]
        for k in range(n_steps):
            if not np.isfinite(q2[:, k]).all():
                if k == 0:
                    z = _Z.get(int(lev), 1.96)
                    q2[:, k] = (-z, z)
                else:
                    q2[:, k] = q2[:, k - 1] * np.sqrt((k + 1) / k)
        q2[0] = np.minimum.accumulate(np.minimum(q2[0], 0.0))
        q2[1] = np.maximum.accumulate(np.maximum(q2[1], 0.0))
        out[lev] = q2
    return out


def conformal_quantiles(
    scaled_errors: np.ndarray, levels, lags: np.ndarray | None = None, n_steps: int | None = None
) -> dict[int, np.ndarray]:
    """Lower and upper quantiles of scaled errors per effective horizon step.

    Parameters
    ----------
    scaled_errors : ndarray of shape (n_windows, n_series, h)
        ``(actual - forecast) / scale``, NaN where unavailable.
    levels : iterable of int
        Nominal coverage levels in percent, e.g. ``(80, 95)``.
    lags, n_steps
        See :func:`error_pool`.

    Returns
    -------
    dict of int to ndarray of shape (2, n_steps)
        Row 0: lower quantile, row 1: upper quantile, after :func:`envelope`.

    Examples
    --------
    >>> import numpy as np
    >>> e = np.linspace(-1, 1, 201).reshape(1, 201, 1)
    >>> q = conformal_quantiles(e, [80])[80]
    >>> bool(-0.82 < q[0, 0] < -0.78 and 0.78 < q[1, 0] < 0.82)
    True
    """
    pool = error_pool(scaled_errors, lags, n_steps)
    return envelope(pool_quantiles(pool, levels))


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
    mean: np.ndarray, scale: np.ndarray, q: np.ndarray, steps: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds ``max(0, mean + q * scale)`` per series and step.

    Parameters
    ----------
    mean : ndarray of shape (n_series, h)
    scale : ndarray of shape (n_series,)
    q : ndarray of shape (2, n_steps)
        Quantiles by effective step (``n_steps >= h``).
    steps : ndarray of int, shape (n_series, h), optional
        Effective step (0-based column of ``q``) of each forecast; default
        ``0..h-1`` for every series.

    Returns
    -------
    lower, upper : ndarray of shape (n_series, h)
    """
    n, h = mean.shape
    if steps is None:
        steps = np.broadcast_to(np.arange(h), (n, h))
    lower = mean + q[0][steps] * scale[:, None]
    upper = mean + q[1][steps] * scale[:, None]
    return np.maximum(lower, 0.0), np.maximum(upper, 0.0)


def loo_coverage(scaled_errors: np.ndarray, levels) -> dict[int, np.ndarray]:
    """Leave-one-window-out empirical coverage per horizon step.

    The quantiles computed without window ``w`` are checked on window ``w``,
    and the hits pooled: an estimate of the coverage of intervals built
    the same way on future data (it shares the backtest's windows, so it is
    no substitute for a check on held-out years).

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
        qs = conformal_quantiles(rest, out.keys(), n_steps=h)
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
