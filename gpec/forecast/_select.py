"""Per-series model selection and combination from backtest scores, and the fallback chain."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import trim_mean

from ._backtest import BacktestArrays

__all__ = [
    "window_scores",
    "combination_weights",
    "fallback_reasons",
    "FALLBACK_MODEL",
]

# Model used for each fallback reason (the fallback chain, see docs/forecasting.md).
FALLBACK_MODEL = {
    "empty": "naive",
    "zero": "naive",
    "constant": "naive",
    "short": "naive",
    "intermittent": "ses",
}


def window_scores(bt: BacktestArrays, names: list[str]) -> np.ndarray:
    """Scaled absolute error of each model, averaged over the horizon, per window.

    Returns
    -------
    ndarray of shape (n_models, n_windows, n_series)
        NaN where a window has no actual or no usable scale.
    """
    y = bt.actual
    scale = np.where(bt.scale > 0, bt.scale, np.nan)[:, :, None]
    out = np.full((len(names), y.shape[0], y.shape[1]), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for i, name in enumerate(names):
            e = np.abs(bt.forecasts[name] - y) / scale
            ok = np.isfinite(e)
            cnt = ok.sum(axis=2)
            out[i] = np.where(cnt > 0, np.where(ok, e, 0).sum(axis=2) / np.maximum(cnt, 1), np.nan)
    return out


def combination_weights(
    scores: np.ndarray,
    *,
    top_k: int = 3,
    combine: str = "equal",
    exclude_window: int | None = None,
    shrink: float = 0.0,
) -> np.ndarray:
    """Weights of each candidate per series from its backtest scores.

    Parameters
    ----------
    scores : ndarray of shape (n_models, n_windows, n_series)
        Output of :func:`window_scores`.
    top_k : int, default=3
        Number of best candidates combined (``combine="best"`` uses 1).
    combine : {"equal", "inverse", "best"}, default="equal"
        Equal weights over the ``top_k`` best; ``"inverse"``: weights
        proportional to ``1 / s_m - 1 / s_(k+1)`` over the ``top_k`` best, with
        ``s_(k+1)`` the score of the first model left out (the plain ``1 / s_m``
        when every model is kept), so that a model enters or leaves the best
        with weight 0 and the combination moves continuously with the scores:
        a small change of one series' or of the panel's scores makes a small
        change in the forecasts; or the single best model.
    exclude_window : int, optional
        Ignore this window (leave-one-window-out weights, for honest errors).
    shrink : float in [0, 1], default=0
        Shrink each series' scores towards the panel: with ``s_im`` the score of
        model ``m`` on series ``i``, ``r_m`` the 25 %-trimmed mean over series of
        ``s_im / mean_m(s_im)``, the score used is
        ``(1 - shrink) s_im + shrink r_m mean_m(s_im)``. Few, short windows
        make per-series scores noisy; the panel tells which models tend to work.

    Returns
    -------
    ndarray of shape (n_models, n_series)
        Non-negative weights summing to 1 per series; series without any score
        are weighted by the panel's relative scores ``r_m`` (all weight on the
        first candidate if no series has a score).

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[[1.0]], [[2.0]], [[4.0]]])
    >>> combination_weights(s, top_k=2).ravel().tolist()
    [0.5, 0.5, 0.0]
    """
    if exclude_window is not None and scores.shape[1] > 1:
        scores = np.delete(scores, exclude_window, axis=1)
    M, _, n = scores.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(scores, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        avg = np.nanmean(mean, axis=0)
        rel = mean / np.where(avg > 0, avg, np.nan)
        # 25 %-trimmed mean: as robust as the median to a few absurd values, and continuous
        r = np.array([trim_mean(row[np.isfinite(row)], 0.25) if np.isfinite(row).any() else np.nan
                      for row in rel])  # fmt: skip
    r = np.where(np.isfinite(r), r, np.nan)
    if shrink > 0:
        pooled = np.where(np.isfinite(r), r, 1.0)[:, None] * avg[None, :]
        mean = np.where(np.isfinite(pooled), (1 - shrink) * mean + shrink * pooled, mean)
    # series without any score (e.g. stopped before every window) take the panel's
    # relative performance of each model
    unscored = ~np.isfinite(mean).any(axis=0)
    if unscored.any() and np.isfinite(r).any():
        mean[:, unscored] = r[:, None]
    mean = np.where(np.isfinite(mean), mean, np.inf)
    k = 1 if combine == "best" else max(1, min(int(top_k), M))
    ranked = np.argsort(mean, axis=0, kind="stable")
    order = ranked[:k]
    cols = np.arange(n)
    w = np.zeros((M, n))
    # inverse weights less the weight of the first model left out: a model enters or leaves
    # the k best with weight 0, so the weights move continuously with the scores
    cut = np.zeros(n)
    if combine == "inverse" and k < M:
        s_out = mean[ranked[k], cols]
        cut = np.where(np.isfinite(s_out), 1.0 / np.maximum(s_out, 1e-9), 0.0)
    for j in range(k):
        idx = order[j]
        s = mean[idx, cols]
        if combine == "inverse":
            val = np.maximum(1.0 / np.maximum(s, 1e-9) - cut, 0.0)
            val = np.where(val > 0, val, 1e-12)  # ties with the one left out: near equal
        else:
            val = np.ones(n)
        val = np.where(np.isfinite(s), val, 0.0)
        w[idx, cols] += val
    tot = w.sum(axis=0)
    none = tot == 0
    w[0, none] = 1.0
    tot[none] = 1.0
    return w / tot


def fallback_reasons(
    Y: np.ndarray, *, min_obs: int = 6, intermittent_share: float = 0.3
) -> np.ndarray:
    """Reason why a series bypasses model selection ('' when it does not).

    In order: ``"empty"`` (nothing observed), ``"zero"`` (all observed values
    are 0), ``"constant"``, ``"short"`` (fewer than ``min_obs`` observations),
    ``"intermittent"`` (at least ``intermittent_share`` of the observations
    are 0).

    Examples
    --------
    >>> import numpy as np
    >>> Y = np.array([[0.0] * 8, [3.0] * 8, [1.0, 2.0, 3.0] + [np.nan] * 5,
    ...               [0, 0, 4, 0, 0, 5, 0, 0.0], np.arange(8.0) + 1])
    >>> fallback_reasons(Y).tolist()
    ['zero', 'constant', 'short', 'intermittent', '']
    """
    obs = np.isfinite(Y)
    n_obs = obs.sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mx = np.nanmax(np.where(obs, Y, np.nan), axis=1)
        mn = np.nanmin(np.where(obs, Y, np.nan), axis=1)
    zeros = (obs & (Y == 0)).sum(axis=1)
    out = np.full(Y.shape[0], "", dtype=object)
    out[zeros / np.maximum(n_obs, 1) >= intermittent_share] = "intermittent"
    out[n_obs < min_obs] = "short"
    out[(n_obs > 1) & (mx == mn)] = "constant"
    out[(n_obs > 0) & (mx == 0) & (mn == 0)] = "zero"
    out[n_obs == 0] = "empty"
    return out
