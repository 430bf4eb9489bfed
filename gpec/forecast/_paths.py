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

Series move together: the error vector of series ``i`` on path ``p`` is the pool
row at rank ``floor(u_ip * n_rows)`` of the rows sorted by their sum over the steps,
with ``u_ip = Phi(z_ip)`` and a two-factor Gaussian copula::

    z_ip = sqrt(r_all) F_p + sqrt(r_within - r_all) G_{g(i),p} + sqrt(1 - r_within) eps_ip

``F_p`` is shared by every series of path ``p``, ``G_{g,p}`` by the series of group
``g`` (territory), ``eps_ip`` is the series' own. Each series' draws keep exactly the
pool's distribution (``u_ip`` is uniform), while a sum over series gets the spread of
a common shock: ``r_all`` and ``r_within`` are the average correlations between the
series' yearly changes over all pairs and over the pairs of a territory
(:func:`common_correlation`, ``Forecaster.dependence_``). With 0 the series are drawn
independently; with 1 they move in lockstep and a sum's interval is the sum of the
intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

__all__ = ["SamplePaths", "common_correlation", "map_pool", "sample_paths", "shared_factor"]


def common_correlation(
    Y: np.ndarray, groups: np.ndarray | None = None, clip: float = 3.0, min_changes: int = 3
) -> tuple[float, float]:
    """Average correlation between the yearly changes of the series, weighted as in a sum.

    Each series' changes ``d_it = y_it - y_i,t-1`` are centred on their own mean
    (its drift) and divided by their standard deviation ``w_i``, then clipped at
    ``+-clip`` (a shock or an absurd value must not decide the dependence of the
    whole panel). With ``a_it = w_i z_it``, over the periods and the pairs of
    series observed in them::

        rho = sum_t sum_{i != j} a_it a_jt / sum_t sum_{i != j} w_i w_j

    the correlation that, given to every pair, gives their sum the variance the
    changes had. It is estimated on every observed year, not on the few backtest
    windows; once over all pairs, once over the pairs of the same group.

    Parameters
    ----------
    Y : ndarray of shape (n_series, n_periods)
        NaN where not observed.
    groups : ndarray of int, shape (n_series,), optional
        Group of each series (e.g. its territory).
    clip : float, default=3.0
    min_changes : int, default=3
        Series with fewer observed changes are left out.

    Returns
    -------
    (rho_all, rho_within) : floats in [0, 1]
        Over all pairs, and over the pairs of the same group (``rho_all`` when
        ``groups`` is None); 0 when fewer than two series qualify.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> common = rng.standard_normal(200)
    >>> Y = np.cumsum(common + rng.standard_normal((30, 200)), axis=1)  # rho = 0.5
    >>> [round(r, 1) for r in common_correlation(Y)]
    [0.5, 0.5]
    """
    Y = np.asarray(Y, dtype=float)
    n = Y.shape[0]
    g = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    if Y.ndim != 2 or Y.shape[1] < 2:
        return 0.0, 0.0
    D = np.diff(Y, axis=1)
    ok = np.isfinite(D)
    cnt = ok.sum(axis=1)
    keep = cnt >= max(int(min_changes), 2)
    D, ok, cnt, g = D[keep], ok[keep], cnt[keep], g[keep]
    mu = np.where(ok, D, 0.0).sum(axis=1) / np.maximum(cnt, 1)
    C = np.where(ok, D - mu[:, None], 0.0)
    sd = np.sqrt((C**2).sum(axis=1) / np.maximum(cnt - 1, 1))
    live = sd > 0
    if live.sum() < 2:
        return 0.0, 0.0
    C, ok, sd, g = C[live], ok[live], sd[live], g[live]
    A = np.where(ok, np.clip(C / sd[:, None], -clip, clip) * sd[:, None], 0.0)
    W = np.where(ok, sd[:, None], 0.0)

    def ratio(a_sums: np.ndarray, w_sums: np.ndarray) -> float:
        num = (a_sums**2).sum() - (A**2).sum()
        den = (w_sums**2).sum() - (W**2).sum()
        return float(np.clip(num / den, 0.0, 1.0)) if den > 0 else 0.0

    rho_all = ratio(A.sum(axis=0), W.sum(axis=0))
    if groups is None:
        return rho_all, rho_all
    codes, gi = np.unique(g, return_inverse=True)
    a_g = np.zeros((len(codes), A.shape[1]))
    w_g = np.zeros((len(codes), A.shape[1]))
    np.add.at(a_g, gi, A)
    np.add.at(w_g, gi, W)
    return rho_all, ratio(a_g, w_g)


def shared_factor(
    groups: np.ndarray, common: np.ndarray, group_factors: np.ndarray, rho: tuple[float, float]
) -> np.ndarray:
    """The part of each series' latent draw shared with other series, per path.

    ``sqrt(rho_all) F_p + sqrt(rho_within - rho_all) G_{g(i), p}``: a factor common
    to every series and one common to the series of a group.

    Returns
    -------
    ndarray of shape (n_series, n_paths)
    """
    r_all, r_within = float(rho[0]), max(float(rho[1]), float(rho[0]))
    out = np.sqrt(r_all) * np.broadcast_to(common[None, :], (len(groups), len(common)))
    if r_within > r_all:
        out = out + np.sqrt(r_within - r_all) * group_factors[groups]
    return out


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
    shared: np.ndarray | None = None,
    rho: float = 0.0,
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
    shared : ndarray of shape (n_series, n_paths), optional
        The part of each series' standard normal latent draw shared with other
        series (:func:`shared_factor`); None: independent draws. With it, the rows
        of ``pool`` must be sorted by their sum over the steps (ascending, NaN as
        0): a series' latent draw picks the row at its rank.
    rho : float in [0, 1], default=0
        Variance of ``shared`` (the series' own part has variance ``1 - rho``).

    Returns
    -------
    ndarray of shape (n_series, n_paths, h)
    """
    n, h = mean.shape
    if len(pool) == 0:
        z = rng.standard_normal((n, n_paths, 1))
        if shared is not None:
            z = shared[:, :, None] + np.sqrt(1.0 - rho) * z
        err = z * np.sqrt(steps[:, None, :] + 1.0)
    elif shared is not None:
        z = shared + np.sqrt(1.0 - rho) * rng.standard_normal((n, n_paths))
        rank = np.minimum((ndtr(z) * len(pool)).astype(np.int64), len(pool) - 1)
        err = pool[rank[:, :, None], steps[:, None, :]]
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
