"""Joint future sample paths from the backtest errors (conformal paths).

Each path of a series is its point forecast plus one whole vector of scaled
backtest errors, drawn at random from the pool of every series' error vectors
(one per backtest window x series, by effective horizon step), times the
series' own scale::

    path_i[p, k] = max(0, mean_i[k] + e_{r(p)}[L_i + k] * s_i)

with ``r(p)`` a row of the pool drawn with replacement, ``L_i`` the series'
staleness and ``s_i`` its MASE scale. A whole vector is drawn at once, so the
dependence between the years of a forecast error (a bad first year is
followed by bad later years) is kept, and a yearly difference or a sum over the
horizon gets the spread the backtest saw for that very quantity. The pool's
columns are first mapped monotonically onto the interval quantiles (which are
kept straddling 0 and never narrowing along the horizon), so that the
quantiles of the employment paths are the prediction intervals.

Draws are independent across series: sums over many series from these paths
understate the spread of a common shock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SamplePaths", "map_pool", "sample_paths"]


def map_pool(pool: np.ndarray, raw: dict, env: dict) -> np.ndarray:
    """Monotone map of each pool column taking its raw quantiles onto the enveloped ones.

    Piecewise linear between the quantile knots of every level, shifted by the
    end knots' displacement beyond them: ranks (and so the joint dependence
    across steps) are preserved, and the mapped column has the enveloped
    quantiles at every level.

    Examples
    --------
    >>> import numpy as np
    >>> pool = np.array([[-1.0], [0.0], [1.0]])
    >>> raw = {80: np.array([[-1.0], [1.0]])}
    >>> env = {80: np.array([[-2.0], [2.0]])}
    >>> map_pool(pool, raw, env).ravel().tolist()
    [-2.0, 0.0, 2.0]
    """
    out = pool.copy()
    levels = sorted(raw)
    for j in range(pool.shape[1]):
        xs = [raw[lev][0, j] for lev in levels] + [raw[lev][1, j] for lev in levels]
        ys = [env[lev][0, j] for lev in levels] + [env[lev][1, j] for lev in levels]
        xk, yk = np.asarray(xs), np.asarray(ys)
        ok = np.isfinite(xk) & np.isfinite(yk)
        if not ok.any():
            continue
        xk, yk = xk[ok], yk[ok]
        order = np.argsort(xk, kind="stable")
        xk, yk = xk[order], np.maximum.accumulate(yk[order])
        xk, first = np.unique(xk, return_index=True)
        yk = yk[first]
        col = pool[:, j]
        mapped = np.interp(col, xk, yk)
        mapped = np.where(col < xk[0], col + (yk[0] - xk[0]), mapped)
        mapped = np.where(col > xk[-1], col + (yk[-1] - xk[-1]), mapped)
        out[:, j] = mapped
    return out


def sample_paths(
    mean: np.ndarray,
    scale: np.ndarray,
    pool: np.ndarray,
    steps: np.ndarray,
    n_paths: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sample paths ``max(0, mean + e[steps] * scale)`` with error vectors drawn from ``pool``.

    Parameters
    ----------
    mean : ndarray of shape (n_series, h)
    scale : ndarray of shape (n_series,)
    pool : ndarray of shape (n_rows, n_steps)
        Error vectors (already mapped onto the interval quantiles). An empty
        pool draws Gaussian vectors ``z sqrt(step)`` instead.
    steps : ndarray of int, shape (n_series, h)
        Effective step (pool column) of each forecast.
    n_paths : int
    rng : numpy Generator

    Returns
    -------
    ndarray of shape (n_series, n_paths, h)
    """
    n, h = mean.shape
    if len(pool) == 0:
        z = rng.standard_normal((n, n_paths, 1))
        err = z * np.sqrt(steps[:, None, :] + 1.0)
    else:
        rows = rng.integers(0, len(pool), size=(n, n_paths))
        err = pool[rows[:, :, None], steps[:, None, :]]
    return np.maximum(mean[:, None, :] + err * scale[:, None, None], 0.0)


@dataclass
class SamplePaths:
    """Joint future sample paths of every series of a fitted :class:`Forecaster`.

    Attributes
    ----------
    ids : DataFrame
        One row per series (id columns); row ``i`` is ``values[i]``.
    periods : list
        The ``h`` forecast periods.
    values : ndarray of shape (n_series, n_paths, h)
        Employment along each path (>= 0).
    mean : ndarray of shape (n_series, h)
        Point forecast.
    base : ndarray of shape (n_series,)
        Each series' last observed value (the start of every path).
    last_observed : array
        Each series' last observed period.

    Examples
    --------
    >>> from gpec.datasets import make_panel
    >>> from gpec.forecast import Forecaster
    >>> fc = Forecaster(horizon=3, level=(80,), verbose=0).fit(make_panel(3, 8, 15))
    >>> paths = fc.predict_paths(n_paths=200, random_state=0)
    >>> paths.values.shape
    (24, 200, 3)
    >>> list(paths.summary("cumulative").columns)[-4:]
    ['median', 'lower', 'upper', 'level']
    """

    ids: pd.DataFrame
    periods: list
    values: np.ndarray
    mean: np.ndarray
    base: np.ndarray
    last_observed: np.ndarray
    period_col: str = "period"

    def differences(self) -> np.ndarray:
        """Yearly change along each path; the first is the change from the last observed value.

        Returns
        -------
        ndarray of shape (n_series, n_paths, h)
        """
        prev = np.concatenate(
            [np.broadcast_to(self.base[:, None, None], self.values[:, :, :1].shape), self.values],
            axis=2,
        )
        return np.diff(prev, axis=2)

    def cumulative(self) -> np.ndarray:
        """Employment summed over the first ``k`` forecast periods, ``k = 1..h``."""
        return np.cumsum(self.values, axis=2)

    def interval(self, level: float = 80, values: np.ndarray | None = None):
        """Equal-tailed quantile interval of ``values`` (default: employment) over the paths.

        Parameters
        ----------
        level : float, default=80
            Coverage in percent.
        values : ndarray of shape (n_series, n_paths, k), optional
            Any quantity computed path by path (e.g. :meth:`differences`, or
            openings computed from each path).

        Returns
        -------
        lower, upper : ndarray of shape (n_series, k)
        """
        v = self.values if values is None else values
        a = (1 - float(level) / 100.0) / 2
        lo, up = np.quantile(v, [a, 1 - a], axis=1)
        return lo, up

    def summary(self, quantity: str = "employment", level: float = 80) -> pd.DataFrame:
        """Tidy table of a quantity's median and interval over the paths.

        Parameters
        ----------
        quantity : {"employment", "difference", "cumulative"}, default="employment"
            Employment per period, its yearly change, or employment summed
            from the first forecast period to this one.
        level : float, default=80

        Returns
        -------
        DataFrame
            id columns, period (``period_col``), quantity, median, lower,
            upper, level.
        """
        funcs = {
            "employment": lambda: self.values,
            "difference": self.differences,
            "cumulative": self.cumulative,
        }
        if quantity not in funcs:
            raise ValueError(f"quantity must be one of {sorted(funcs)}, got {quantity!r}")
        v = funcs[quantity]()
        lo, up = self.interval(level, v)
        med = np.median(v, axis=1)
        n, h = med.shape
        out = self.ids.iloc[np.repeat(np.arange(n), h)].reset_index(drop=True)
        out[self.period_col] = pd.Index(self.periods)[np.tile(np.arange(h), n)]
        out["quantity"] = quantity
        out["median"] = med.ravel()
        out["lower"] = lo.ravel()
        out["upper"] = up.ravel()
        out["level"] = level
        return out
