"""A scikit-learn *global* forecasting model trained across all series at once.

One regression model serves every series of a panel, whatever its size: the
features describe each series relative to its own recent level (scale-free lags,
growth rates, volatility), plus its log level, the length of its history, the
recent growth of the groups it belongs to (territory, occupation, sector...) and
optional exogenous drivers (e.g. BMO hiring intentions). Multi-step forecasts use
the *direct* strategy: one model per horizon step ``k``, trained to predict the
scaled change ``(y[t+k] - y[t]) / s[t]`` from the features at origin ``t``, where
``s[t]`` is the mean of the last ``lags`` observations. The direct strategy avoids
feeding predictions back as inputs (errors do not compound, exogenous drivers are
only needed up to the forecast origin).

Training rows are every (series, origin) pair of the panel with an observed
target, so a panel of 10,000 series x 20 years gives ~150,000 rows per step
(subsampled to ``max_samples`` for speed).
"""

from __future__ import annotations

import contextlib
import numbers
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from threadpoolctl import ThreadpoolController

__all__ = ["GlobalRegressor"]

_EPS = 1e-9
_CONTROLLER: ThreadpoolController | None = None


def _ffill_interior(y: np.ndarray) -> np.ndarray:
    """Forward-fill NaN after the first observation of each row (leading NaN kept)."""
    n, t = y.shape
    idx = np.where(np.isnan(y), 0, np.arange(t)[None, :])
    np.maximum.accumulate(idx, axis=1, out=idx)
    filled = y[np.arange(n)[:, None], idx]
    # Leading NaN: the index stays at 0 and y[:, 0] is NaN, so they remain NaN.
    return filled


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """Shift columns right by ``k`` (value at t is a[t-k]), NaN-padded."""
    out = np.full_like(a, np.nan)
    if k < a.shape[1]:
        out[:, k:] = a[:, : a.shape[1] - k]
    return out


def _safe_log_ratio(num: np.ndarray, den: np.ndarray, offset: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log((num + offset) / (den + offset))


def _as_named_matrices(
    x: np.ndarray | Mapping[str, np.ndarray] | None, shape: tuple[int, int], what: str
) -> dict[str, np.ndarray]:
    """Normalise ``exog`` to {name: (n, T) float array}, validating shapes."""
    if x is None:
        return {}
    items = x.items() if isinstance(x, Mapping) else [("exog", x)]
    out = {}
    for name, arr in items:
        arr = np.asarray(arr, dtype=float)
        if arr.ndim == 3:  # (n, T, k) -> k matrices
            for j in range(arr.shape[2]):
                out.update(_as_named_matrices({f"{name}{j}": arr[:, :, j]}, shape, what))
            continue
        if arr.shape != shape:
            raise ValueError(
                f"{what} {name!r} has shape {arr.shape}; expected {shape} (n_series, n_periods)"
            )
        out[str(name)] = arr
    return out


def _as_group_codes(groups: Any, n: int) -> dict[str, np.ndarray]:
    """Normalise ``groups`` to {name: int codes (n,)}; labels of any type are accepted."""
    if groups is None:
        return {}
    if isinstance(groups, Mapping):
        items = list(groups.items())
    else:
        arr = np.asarray(groups)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ValueError(f"groups must be 1-d or 2-d, got {arr.ndim}-d")
        items = [(f"group{j}", arr[:, j]) for j in range(arr.shape[1])]
    out = {}
    for name, codes in items:
        codes = np.asarray(codes)
        if codes.shape != (n,):
            raise ValueError(f"groups {name!r} has shape {codes.shape}; expected ({n},)")
        _, inverse = np.unique(codes.astype(str), return_inverse=True)
        out[str(name)] = inverse.astype(np.intp)
    return out


class GlobalRegressor(BaseEstimator):
    """Global direct multi-step forecaster for a panel of non-negative series.

    Parameters
    ----------
    estimator : scikit-learn regressor, optional
        Cloned once per horizon step. Default:
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor` (handles the NaN
        features of short series natively; deterministic). Estimators that do not
        accept NaN (e.g. :class:`~sklearn.linear_model.Ridge`) get NaN features
        replaced by 0.
    lags : int, default=3
        Number of past values used as features (scaled by the series level).
    horizon : int, default=5
        Steps fitted by :meth:`fit`; :meth:`predict` fits further steps on demand.
    max_samples : int or None, default=150_000
        Training rows per step are subsampled (seeded) to at most this number.
    loss : {"squared_error", "absolute_error"}, default="squared_error"
        Loss of the default estimator (ignored when ``estimator`` is given).
    random_state : int, default=0
        Seed for row subsampling and the default estimator.
    n_threads : int or None, default=1
        OpenMP/BLAS threads used while fitting and predicting (``None``: library
        default). One thread is the safe default: gradient boosting on small
        panels is up to 20x *slower* with several threads when other processes
        share the cores (OpenMP busy-waiting), and the Forecaster parallelises
        elsewhere.

    Attributes
    ----------
    estimators_ : dict of int to estimator
        Fitted model per horizon step (``None`` where too few rows: no change).
    feature_names_ : list of str
        Names of the features, in column order.
    n_features_in_ : int
        Number of features.
    n_series_, n_periods_ : int
        Shape of the training panel.

    Notes
    -----
    Features at origin ``t`` for a series with recent level
    ``s = mean(y[t-lags+1..t])``: ``y[t-j]/s - 1`` for ``j < lags``; log growth
    over 1, 3 and up to 10 periods (annualised); volatility of the one-period log
    growth; ``log1p(s)``; the number of observations so far; per group variable,
    the log growth of the group total over 1 and 3 periods (series observed in
    both periods only); per exogenous variable, ``x[t]/s`` and its log change.
    Target for step ``k``: ``(y[t+k] - y[t]) / s``; forecast
    ``max(0, y[T] + s * prediction)``. Rows with nothing observed at the last
    period forecast 0. Interior NaN are forward-filled.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.outer([10.0, 200.0, 3000.0], 1.02 ** np.arange(12))
    >>> model = GlobalRegressor(horizon=2).fit(y)
    >>> model.predict(2).shape
    (3, 2)
    """

    def __init__(
        self,
        estimator: Any = None,
        lags: int = 3,
        horizon: int = 5,
        max_samples: int | None = 100_000,
        loss: str = "absolute_error",
        max_iter: int = 50,
        learning_rate: float = 0.1,
        random_state: int = 0,
        n_threads: int | None = 1,
    ) -> None:
        self.estimator = estimator
        self.lags = lags
        self.horizon = horizon
        self.max_samples = max_samples
        self.loss = loss
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.n_threads = n_threads

    # ------------------------------------------------------------------ features
    def _features(self) -> tuple[np.ndarray, list[str]]:
        """Feature tensor (n, T, p) for every origin, and the feature names."""
        y = self._y
        n, t = y.shape
        lags = self.lags
        obs = ~np.isnan(y)
        n_obs = np.cumsum(obs, axis=1).astype(float)
        # Recent level: mean of the last `lags` observed values.
        stack = np.stack([_shift(y, j) for j in range(lags)], axis=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            level = np.nanmean(stack, axis=2)
        scale = np.where(level > _EPS, level, 1.0)
        self._scale = scale
        self._level = level
        offset = 0.01 * scale  # log ratios stay finite through zeros
        feats: list[np.ndarray] = []
        names: list[str] = []

        def add(name: str, values: np.ndarray) -> None:
            values = values.astype(np.float32)  # halves memory on big panels
            values[~np.isfinite(values)] = np.nan
            feats.append(values)
            names.append(name)

        for j in range(lags):
            add(f"lag{j}", stack[:, :, j] / scale - 1.0)
        for k in (1, 3):
            add(f"growth{k}", _safe_log_ratio(y, _shift(y, k), offset) / k)
        # Long-run growth over up to 10 periods of available history.
        span = np.minimum(n_obs - 1, 10)
        first = np.full_like(y, np.nan)
        for k in range(1, 11):
            sel = span == k
            first[sel] = _shift(y, k)[sel]
        with np.errstate(invalid="ignore", divide="ignore"):
            add("growth_long", _safe_log_ratio(y, first, offset) / np.where(span > 0, span, np.nan))
        g1 = _safe_log_ratio(y, _shift(y, 1), offset)
        vol = np.stack([_shift(g1, j) for j in range(5)], axis=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            add("volatility", np.nanstd(vol, axis=2))
        add("log_level", np.log1p(np.where(level > 0, level, 0.0)))
        add("n_obs", np.minimum(n_obs, 30.0))
        for gname, codes in self._groups.items():
            n_groups = int(codes.max()) + 1 if codes.size else 0
            both = obs & _shift(obs.astype(float), 1).astype(bool)
            cur = np.zeros((n_groups, t))
            prev = np.zeros((n_groups, t))
            np.add.at(cur, codes, np.where(both, y, 0.0))
            np.add.at(prev, codes, np.where(both, _shift(y, 1), 0.0))
            with np.errstate(divide="ignore", invalid="ignore"):
                grow = np.where(prev > 0, np.log((cur + _EPS) / (prev + _EPS)), np.nan)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                grow3 = np.nanmean(np.stack([_shift(grow, j) for j in range(3)], axis=2), axis=2)
            add(f"{gname}_growth1", grow[codes])
            add(f"{gname}_growth3", grow3[codes])
        for xname, x in self._exog.items():
            x = _ffill_interior(x)
            add(f"{xname}_ratio", x / scale)
            xoff = 0.01 * np.where(np.abs(x) > _EPS, np.abs(x), 1.0)
            add(f"{xname}_growth1", _safe_log_ratio(x, _shift(x, 1), xoff))
        return np.stack(feats, axis=2), names

    # ----------------------------------------------------------------------- fit
    def fit(
        self,
        Y: np.ndarray,
        exog: np.ndarray | Mapping[str, np.ndarray] | None = None,
        groups: Any = None,
    ) -> GlobalRegressor:
        """Fit one model per horizon step on every (series, origin) of the panel.

        Parameters
        ----------
        Y : ndarray of shape (n_series, n_periods)
            Non-negative values, oldest period first, NaN-padded at the start of
            series that begin later.
        exog : ndarray of shape (n_series, n_periods) or dict of them, optional
            Exogenous drivers aligned with ``Y`` (values known at each period).
        groups : ndarray of shape (n_series,) or (n_series, k), or dict of 1-d arrays, optional
            Group labels (territory, occupation...); any dtype.

        Returns
        -------
        self : GlobalRegressor
        """
        y = np.asarray(Y, dtype=float)
        if y.ndim != 2:
            raise ValueError(f"Y must be 2-d (n_series, n_periods), got {y.ndim}-d")
        if y.shape[0] < 1 or y.shape[1] < 1:
            raise ValueError(f"Y must have at least one series and one period, got shape {y.shape}")
        if np.any(np.isinf(y)):
            rows = np.unique(np.nonzero(np.isinf(y))[0])[:5].tolist()
            raise ValueError(f"Y has infinite values (rows {rows})")
        if np.any(y < 0):
            rows = np.unique(np.nonzero(y < 0)[0])[:5].tolist()
            raise ValueError(f"Y has negative values (rows {rows}); employment must be >= 0")
        for name in ("lags", "horizon"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.loss not in ("squared_error", "absolute_error"):
            raise ValueError(f"loss must be 'squared_error' or 'absolute_error', got {self.loss!r}")
        self._y = _ffill_interior(y)
        self._exog = _as_named_matrices(exog, y.shape, "exog")
        self._groups = _as_group_codes(groups, y.shape[0])
        self.n_series_, self.n_periods_ = y.shape
        self._X, self.feature_names_ = self._features()
        self.n_features_in_ = len(self.feature_names_)
        self._nan_ok = self.estimator is None or self._supports_nan(self.estimator)
        self.estimators_: dict[int, Any] = {}
        with self._thread_limit():
            for k in range(1, self.horizon + 1):
                self._fit_step(k)
        return self

    def _thread_limit(self):
        if self.n_threads is None:
            return contextlib.nullcontext()
        global _CONTROLLER
        if _CONTROLLER is None:
            # Built once, after scikit-learn has loaded its OpenMP runtime.
            from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: F401

            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER.limit(limits=int(self.n_threads))

    @staticmethod
    def _supports_nan(est: Any) -> bool:
        try:
            return bool(est.__sklearn_tags__().input_tags.allow_nan)
        except AttributeError:
            return False

    def _make_estimator(self) -> Any:
        if self.estimator is not None:
            est = clone(self.estimator)
            if est.get_params().get("random_state", 0) is None:
                est.set_params(random_state=self.random_state)
            return est
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            loss=self.loss,
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=self.random_state,
        )

    def _fit_step(self, k: int) -> None:
        y, scale = self._y, self._scale
        n, t = y.shape
        if k >= t:
            self.estimators_[k] = None
            return
        target = (y[:, k:] - y[:, :-k]) / scale[:, :-k]
        rows, cols = np.nonzero(np.isfinite(target))
        if rows.size < 20:
            self.estimators_[k] = None
            return
        if self.max_samples is not None and rows.size > self.max_samples:
            rng = np.random.default_rng([self.random_state, k])
            keep = np.sort(rng.choice(rows.size, size=self.max_samples, replace=False))
            rows, cols = rows[keep], cols[keep]
        X = self._X[rows, cols]
        if not self._nan_ok:
            X = np.nan_to_num(X, nan=0.0)
        est = self._make_estimator()
        est.fit(X, target[rows, cols])
        self.estimators_[k] = est

    # ------------------------------------------------------------------- predict
    def predict(self, h: int) -> np.ndarray:
        """Forecast the next ``h`` periods of every series from the last period.

        Parameters
        ----------
        h : int
            Number of steps; steps beyond ``horizon`` are fitted on demand.

        Returns
        -------
        ndarray of shape (n_series, h)
            Non-negative forecasts (0 for series unobserved at the last period).
        """
        if not hasattr(self, "estimators_"):
            raise NotFittedError("GlobalRegressor is not fitted yet; call fit first")
        if isinstance(h, bool) or not isinstance(h, numbers.Integral) or h < 1:
            raise ValueError(f"h must be a positive integer, got {h!r}")
        last = self._y[:, -1]
        scale = self._scale[:, -1]
        X = self._X[:, -1, :]
        if not self._nan_ok:
            X = np.nan_to_num(X, nan=0.0)
        out = np.zeros((self.n_series_, h))
        seen = np.isfinite(last)
        with self._thread_limit():
            for k in range(1, h + 1):
                if k not in self.estimators_:
                    self._fit_step(k)
                est = self.estimators_[k]
                change = np.zeros(self.n_series_) if est is None else est.predict(X)
                out[:, k - 1] = np.where(seen, last + scale * change, 0.0)
        zero = seen & ~(self._level[:, -1] > _EPS)
        out[zero] = 0.0  # series at zero over the whole lag window stay at zero
        return np.maximum(out, 0.0)
