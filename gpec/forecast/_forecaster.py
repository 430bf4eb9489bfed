"""The panel :class:`Forecaster`: backtest, select or combine, forecast with intervals."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from gpec._checks import outside_stacklevel
from gpec._defaults import DEFAULTS

from ._backtest import BacktestArrays, mase_scale, metric_arrays, rolling_origin
from ._fast import FAST_MODELS, prepare_matrix, seasonal_indices
from ._intervals import (
    apply_intervals,
    envelope,
    error_pool,
    fallback_scale,
    loo_coverage,
    pool_quantiles,
)
from ._panel import PanelMatrix, future_periods, to_matrix
from ._parallel import _show_progress
from ._paths import SamplePaths, common_correlation, map_pool, sample_paths, shared_factor
from ._ragged import last_index, right_align, staleness, take_steps
from ._robust import clean_outliers
from ._select import FALLBACK_MODEL, combination_weights, fallback_reasons, window_scores

__all__ = ["Forecaster", "AUTO_CANDIDATES", "BASELINES", "SLOW_MODELS"]

BASELINES = ("naive", "drift", "mean", "cshare")
"""Models always computed and backtested, whatever ``models`` says."""

AUTO_CANDIDATES = ("naive", "drift", "holt", "otheta", "drift_ses", "pooled", "cshare")
"""Vectorised candidates of ``models="auto"``."""

SLOW_MODELS = ("ets", "arima", "theta_sm")
"""Per-series statsmodels models (see :mod:`gpec.forecast._models`)."""

GLOBAL_MODELS = ("global",)
_SAVE_FORMAT = 3  # 2: stale series, outliers_, error pool for sample paths; 3: recent windows
_BT_ARRAYS = ("actual", "last", "scale", "n_train")


def _gpec_version() -> str:
    try:
        from gpec import __version__

        return str(__version__)
    except Exception:  # pragma: no cover - partial installs
        try:
            from importlib.metadata import version

            return version("gpec")
        except Exception:
            return "0.1.0"


def _windows_before(origins: np.ndarray, h: int, T: int, origin: int) -> np.ndarray:
    """Backtest windows whose scored periods all lie before ``origin`` (a boolean mask).

    A window at origin ``o`` scores the columns ``o .. min(o + h, T) - 1``.

    Examples
    --------
    >>> _windows_before(np.array([12, 13, 14]), 6, 20, 19).tolist()
    [True, True, False]
    """
    return np.minimum(np.asarray(origins) + int(h), int(T)) <= int(origin)


def _progress(total: int, verbose: int, desc: str):
    if not _show_progress(int(bool(verbose))):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


class Forecaster(BaseEstimator):
    """Forecast every series of an employment panel, with backtest and intervals.

    ``fit`` pivots the long table to a (series x period) matrix, runs a
    rolling-origin backtest of every candidate model (all series at once for
    the vectorised models), then per series combines the ``top_k`` best
    candidates (or keeps the best one), with a fallback chain for degenerate
    series. Prediction intervals are conformal: quantiles of the pooled,
    scale-free backtest errors of the selected forecasts, per horizon step.
    A series that stopped before the panel's last period is forecast from its
    own last observation, its interval taken at the steps counted from there
    (column ``last_observed``); isolated absurd values are set aside first
    (``outliers``). :meth:`predict_paths` draws joint sample paths whose
    quantiles are the intervals.

    Parameters
    ----------
    models : "auto", str or list of str, default="auto"
        ``"auto"``: select/combine among ``AUTO_CANDIDATES`` (naive, drift,
        damped Holt, optimised Theta, SES with a fitted drift, pooled trend, constant
        share), plus the
        statsmodels models when the panel has at most ``max_series_slow`` series. A list:
        select/combine among these names (vectorised: naive, snaive, mean, drift, ses, holt,
        theta, otheta, drift_ses, pooled, cshare; per series: ets, arima, theta_sm; global: global).
        A single name: use that model for every series.
    horizon : int, default=6
        Number of periods forecast.
    level : sequence of int, default=(80, 95)
        Nominal coverage of the prediction intervals, in percent.
    n_jobs : int, default=1
        Workers for the per-series (statsmodels) models.
    backend : str, optional
        joblib backend for the per-series models, or ``"dask"``.
    random_state : int, default=0
        Seed of the global model.
    verbose : int, default=1
        Progress bar on stderr when > 0 and stderr is a terminal.
    id_cols : tuple of str, default=("territory", "occupation")
        Columns identifying a series.
    value_col, period_col : str, default "value", "period"
        Value and period columns of the long table.
    group_col : str or None, default="territory"
        Column defining the total used by the constant-share model (each
        occupation keeps its share of its territory's total). ``None``: one
        total over the whole panel.
    n_windows : int, default=3
        Number of rolling forecast origins in the backtest (each scored on a
        full horizon when the panel is long enough); their scores choose the
        models and weights.
    recent_windows : int, default=2
        Number of later origins, the last periods ``T - 1, ..., T -
        recent_windows`` (forecast from all the periods before them and scored
        on the steps they reach), whose errors of the selected forecast join
        those of the ``n_windows`` windows in the conformal pool of the
        intervals and sample paths. They are the forecasts made with the most
        data about the most recent years, the nearest in kind to the forecast
        issued; their unobserved steps follow a complete error vector's
        changes, as for a series that stopped early. Each is forecast with
        weights chosen, as in the backtest, only from the ``n_windows`` windows
        whose scored periods all lie before its origin (with several candidates,
        an origin without such a window is left out), and they enter neither
        :attr:`backtest_` nor :meth:`residuals`. 0: the ``n_windows`` windows
        only.
    step : int, default=1
        Distance between origins.
    top_k : int, default=6
        Number of best candidates combined per series (with the default
        ``AUTO_CANDIDATES``, the six best of seven).
    combine : {"auto", "equal", "inverse", "best"}, default="inverse"
        How the ``top_k`` best are combined (equal weights; inverse-MASE
        weights less that of the first model left out, so that the weights
        move continuously with the scores, see
        :func:`~gpec.forecast._select.combination_weights`) or ``"best"``:
        keep only the best. ``"auto"`` picks, for the
        whole panel, the strategy among best-only, equal top-2, equal top-3
        and equal weights over all candidates with the lowest
        leave-one-window-out backtest MASE (``top_k`` is then ignored).
    min_obs : int, default=6
        Series with fewer observations go to the fallback chain.
    max_series_slow : int, default=20
        With ``models="auto"``, the statsmodels models join the candidates
        only on panels with at most this many series.
    shrink : float in [0, 1], default=0.9
        Shrinkage of each series' backtest scores towards the panel-wide
        relative performance of each model before weighting (see
        :func:`~gpec.forecast._select.combination_weights`). The defaults
        (candidates, ``top_k``, ``combine``, ``shrink``) are the rule set with
        the lowest mean relative MASE over seven real panels
        (``benchmarks/bench_forecast.py``).
    outliers : {"clean", "keep"}, default="clean"
        ``"clean"``: isolated absurd values (see
        :func:`~gpec.forecast._robust.find_outliers`) are replaced by their
        neighbouring years' median before anything else, listed in
        ``outliers_`` and reported by a warning. ``"keep"``: use every value.

    Attributes
    ----------
    selected_ : DataFrame
        Per series: model used, weights of the candidates, fallback reason,
        number of observations and backtest MASE of the selected forecast.
    backtest_ : DataFrame
        Per series x model x horizon step: mase, smape, wape, bias, direction,
        n (windows); model ``"auto"`` is the selected forecast, evaluated with
        weights chosen without the window being scored.
    coverage_ : DataFrame
        Leave-one-window-out empirical coverage of the intervals per level and
        horizon step.
    dependence_ : tuple of float
        Average correlation between the series' yearly changes (weighted as in a
        sum) over all pairs of series and over the pairs of the same
        ``group_col``; the sample paths share a panel factor and a group factor
        with these correlations, so that sums over series get the spread of a
        common shock.
    rejected_ : DataFrame
        Series that cannot be forecast (no observed value), with the reason.
    outliers_ : DataFrame
        Values set aside as isolated errors: id columns, period, value,
        replaced_by.
    candidates_ : list of str
        Models selected from.
    strategy_ : DataFrame
        Selection strategies tried (combine, top_k), their honest backtest
        MASE, and which one was chosen.
    weights_ : ndarray of shape (n_models, n_series)
        Weight of each computed model in each series' forecast.
    periods_ : list
        Periods of the training panel.
    gpec_version_ : str
        Version of gpec that fitted the model.

    Examples
    --------
    >>> import pandas as pd
    >>> panel = pd.DataFrame({"territory": "01", "occupation": ["A"] * 10 + ["B"] * 10,
    ...                       "period": list(range(2010, 2020)) * 2,
    ...                       "value": [float(v) for v in range(10, 20)] + [5.0] * 10})
    >>> fc = Forecaster(horizon=2, level=(80,), verbose=0).fit(panel)
    >>> out = fc.predict()
    >>> list(out.columns)
    ['territory', 'occupation', 'period', 'model', 'mean', 'lower', 'upper', 'level', 'last_observed']
    >>> out["period"].tolist()
    [2020, 2021, 2020, 2021]
    """

    def __init__(
        self,
        models="auto",
        horizon: int = DEFAULTS["forecast"]["horizon"],
        *,
        level: Sequence[int] = tuple(DEFAULTS["forecast"]["level"]),
        n_jobs: int = 1,
        backend: str | None = None,
        random_state: int = 0,
        verbose: int = 1,
        id_cols: Sequence[str] = ("territory", "occupation"),
        value_col: str = "value",
        period_col: str = "period",
        group_col: str | None = "territory",
        n_windows: int = 3,
        recent_windows: int = 2,
        step: int = 1,
        top_k: int = 6,
        combine: str = "inverse",
        min_obs: int = 6,
        max_series_slow: int = 20,
        shrink: float = 0.9,
        outliers: str = "clean",
    ) -> None:
        self.models = models
        self.horizon = horizon
        self.level = level
        self.n_jobs = n_jobs
        self.backend = backend
        self.random_state = random_state
        self.verbose = verbose
        self.id_cols = id_cols
        self.value_col = value_col
        self.period_col = period_col
        self.group_col = group_col
        self.n_windows = n_windows
        self.recent_windows = recent_windows
        self.step = step
        self.top_k = top_k
        self.combine = combine
        self.min_obs = min_obs
        self.max_series_slow = max_series_slow
        self.shrink = shrink
        self.outliers = outliers

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        h = self.horizon
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
            raise ValueError(f"horizon must be a positive integer, got {h!r}")
        levels = [self.level] if np.isscalar(self.level) else list(self.level)
        if not levels or any(not (0 < float(v) < 100) for v in levels):
            raise ValueError(f"level must be percentages in (0, 100), got {self.level!r}")
        if self.combine not in ("auto", "equal", "inverse", "best"):
            raise ValueError(
                f"combine must be 'auto', 'equal', 'inverse' or 'best', got {self.combine!r}"
            )
        for name in ("n_windows", "step", "top_k", "min_obs"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        v = self.recent_windows
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
            raise ValueError(f"recent_windows must be a non-negative integer, got {v!r}")
        if self.outliers not in ("clean", "keep"):
            raise ValueError(f"outliers must be 'clean' or 'keep', got {self.outliers!r}")
        if isinstance(self.id_cols, str):
            raise ValueError("id_cols must be a sequence of column names, e.g. ('territory',)")

    def _resolve_models(self, n_series: int) -> tuple[list[str], bool]:
        known = (*FAST_MODELS, *SLOW_MODELS, *GLOBAL_MODELS)
        if isinstance(self.models, str) and self.models == "auto":
            cands = list(AUTO_CANDIDATES)
            if n_series <= self.max_series_slow:
                try:
                    from ._models import PER_SERIES_MODELS  # noqa: F401

                    cands += list(SLOW_MODELS)
                except ImportError:  # pragma: no cover
                    pass
            return cands, True
        names = [self.models] if isinstance(self.models, str) else list(self.models)
        bad = [m for m in names if m not in known]
        if bad or not names:
            raise ValueError(f"unknown model(s) {bad}; choose among 'auto' or {sorted(known)}")
        return list(dict.fromkeys(names)), not isinstance(self.models, str)

    # -------------------------------------------------------------- model runs
    def _run_models(self, train: np.ndarray, h: int, prepared=None) -> dict[str, np.ndarray]:
        X, start, _ = prepare_matrix(train) if prepared is None else prepared
        m = self._season_length
        s_idx = seasonal_indices(X, start, m) if m > 1 else None
        T = X.shape[1]
        if s_idx is not None and np.any(s_idx):
            cols = np.arange(T) % m
            Xd = X - s_idx[:, cols]
            fut = s_idx[:, np.arange(T, T + h) % m]
        else:
            Xd, fut = X, 0.0
        # series that stopped early are forecast from their own last observation:
        # right-aligned, over their unobserved periods and the horizon
        lag = staleness(train)
        H = h + int(lag.max(initial=0))
        if H > h:
            Xa, start_a, _ = prepare_matrix(
                right_align(np.where(np.isfinite(train), Xd, np.nan), lag)
            )
        else:
            Xa, start_a = Xd, start
        out: dict[str, np.ndarray] = {}
        for name in self._computed:
            if name in FAST_MODELS:
                if name == "snaive":
                    fc = FAST_MODELS[name](X, h, start, season_length=m)
                elif name == "cshare":
                    fc = FAST_MODELS[name](Xd, h, start, groups=self._groups, last=T - 1 - lag)
                    fc = fc + fut
                else:
                    fc = take_steps(FAST_MODELS[name](Xa, H, start_a), lag, h) + fut
            elif name in SLOW_MODELS:
                fc = take_steps(self._run_slow(name, Xa, start_a, H), lag, h) + fut
            else:
                fc = self._run_global(train, h)
            out[name] = np.maximum(np.nan_to_num(fc, nan=0.0, posinf=0.0, neginf=0.0), 0.0)
        return out

    def _run_slow(self, name: str, X: np.ndarray, start: np.ndarray, h: int) -> np.ndarray:
        from ._models import PER_SERIES_MODELS
        from ._parallel import map_series

        series = [X[i, start[i] :] for i in range(X.shape[0])]
        try:
            return map_series(
                PER_SERIES_MODELS[name],
                series,
                h,
                n_jobs=self.n_jobs,
                backend=self.backend,
                verbose=0,
            )
        except Exception as exc:  # a failing helper must not stop the whole panel
            warnings.warn(
                f"model {name!r} failed ({exc}); using naive instead",
                stacklevel=outside_stacklevel(),
            )
            return FAST_MODELS["naive"](X, h)

    def _run_global(self, train: np.ndarray, h: int) -> np.ndarray:
        from ._regression import GlobalRegressor

        est = GlobalRegressor(horizon=h, random_state=self.random_state)
        try:
            est.fit(train, groups=self._group_codes)
            return est.predict(h)
        except Exception as exc:
            warnings.warn(
                f"global model failed ({exc}); using naive instead", stacklevel=outside_stacklevel()
            )
            X, _, _ = prepare_matrix(train)
            return FAST_MODELS["naive"](X, h)

    # --------------------------------------------------------------------- fit
    def fit(self, panel: pd.DataFrame, y=None) -> Forecaster:
        """Backtest the candidates, select per series and fit the final forecasts.

        Parameters
        ----------
        panel : DataFrame or GpecData
            Long table with ``id_cols``, ``period_col`` and ``value_col``
            (e.g. the canonical ``employment`` table), or a ``GpecData`` bundle
            whose ``employment`` table is used.
        y : None
            Ignored.

        Returns
        -------
        self : Forecaster
        """
        self._check_params()
        if self.backend == "dask":
            from ._parallel import parallel_config

            # one dask.distributed cluster for the whole fit, not one per map_series call
            with parallel_config(self.n_jobs, self.backend):
                return self._fit(panel)
        return self._fit(panel)

    def _fit(self, panel) -> Forecaster:
        tables = getattr(panel, "tables", None)
        if isinstance(tables, dict) and not isinstance(panel, pd.DataFrame):
            if tables.get("employment") is None:
                raise ValueError("GpecData has no employment table to forecast")
            panel = tables["employment"]
        id_cols = tuple(self.id_cols)
        pm = to_matrix(panel, id_cols, self.value_col, self.period_col)
        n_obs_all = np.isfinite(pm.Y).sum(axis=1)
        empty = n_obs_all == 0
        self.rejected_ = pm.ids[empty].assign(reason="no observed value").reset_index(drop=True)
        if empty.all():
            raise ValueError("employment: no series has an observed value")
        pm = PanelMatrix(
            pm.ids[~empty].reset_index(drop=True),
            pm.Y[~empty],
            pm.periods,
            pm.kind,
            pm.freq,
            pm.season_length,
        )
        self._pm = pm
        Y = self._set_aside_outliers(pm)
        self._Y = Y
        n, T = Y.shape
        self._lag = staleness(Y)
        self._warn_stale(pm)
        h = int(self.horizon)
        self._season_length = pm.season_length
        if self.group_col is not None and self.group_col in pm.ids.columns:
            self._groups = pd.factorize(pm.ids[self.group_col], sort=True)[0]
        else:
            self._groups = np.zeros(n, dtype=int)
        self._group_codes = {c: pd.factorize(pm.ids[c], sort=True)[0] for c in id_cols}
        self.dependence_ = common_correlation(Y, self._groups)

        cands, select = self._resolve_models(n)
        extra = ["ses"] + (["snaive"] if pm.season_length > 1 else [])
        self._computed = list(dict.fromkeys([*cands, *BASELINES, *extra]))
        self.candidates_ = cands
        self.levels_ = [int(v) for v in np.atleast_1d(self.level)]

        bar = _progress(
            self.n_windows + int(self.recent_windows) + 1, self.verbose, "gpec forecast"
        )

        def run(train, hh, prepared=None):
            out = self._run_models(train, hh, prepared)
            if bar is not None:
                bar.update(1)
            return out

        bt = rolling_origin(
            Y,
            h,
            run,
            n_windows=self.n_windows,
            step=self.step,
            season_length=pm.season_length,
        )
        rbt = self._recent_backtest(Y, h, bt.origins, run)
        final = run(Y, h)
        if bar is not None:
            bar.close()

        reasons = fallback_reasons(Y, min_obs=self.min_obs)
        if not select and len(cands) == 1:
            reasons[:] = ""  # one model asked for: use it everywhere
        names = list(final)
        cidx = [names.index(c) for c in cands]
        W = len(bt.origins)
        scores_c = window_scores(bt, cands) if W else np.full((len(cands), 0, n), np.nan)

        def weights(combine, k, exclude=None, keep=None):
            """Weights from the windows ``keep`` (default all) less the window ``exclude``."""
            wc = combination_weights(
                scores_c if keep is None else scores_c[:, keep],
                top_k=k,
                combine=combine,
                exclude_window=exclude,
                shrink=self.shrink,
            )
            w = np.zeros((len(names), n))
            w[cidx] = wc
            for reason, model in FALLBACK_MODEL.items():
                sel = reasons == reason
                if sel.any():
                    w[:, sel] = 0.0
                    w[names.index(model), sel] = 1.0
            return w

        def honest(combine, k):
            """Leave-one-window-out backtest forecasts of a selection strategy."""
            out = np.zeros((W, n, h))
            for w in range(W):
                ww = weights(combine, k, exclude=w)
                for i, name in enumerate(names):
                    if (ww[i] > 0).any():
                        out[w] += ww[i][:, None] * bt.forecasts[name][w]
            return out

        self._bt = bt
        self._bt_lags = (
            np.stack([staleness(Y[:, :o]) for o in bt.origins]) if W else np.zeros((0, n), int)
        )
        self._n_steps = h + int(self._lag.max(initial=0))
        if self.combine == "auto":
            strategies = [("best", 1), ("equal", 2), ("equal", 3), ("equal", len(cands))]
        else:
            strategies = [(self.combine, int(self.top_k))]
        strategies = list(dict.fromkeys((c, min(k, len(cands))) for c, k in strategies))
        results = []
        for combine, k in strategies:
            fc = honest(combine, k)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                score = np.nanmean(metric_arrays(fc, bt)["mase"]) if W else np.nan
            results.append((combine, k, score, fc))
        best = min(range(len(results)), key=lambda i: (np.nan_to_num(results[i][2], nan=np.inf), i))
        combine, k, _, auto_bt = results[best]
        w_final = weights(combine, k)
        # the interval pool: the honest forecasts of the n_windows windows and the recent
        # windows' forecasts, each with weights chosen only from the windows scored on years
        # before its origin (as honest as the leave-one-window-out forecasts of the backtest)
        auto_recent = np.zeros((len(rbt.origins), n, h))
        for r, o in enumerate(rbt.origins):
            # a single candidate's weight depends on no score: then every window will do
            keep = _windows_before(bt.origins, h, T, o) if len(cands) > 1 else None
            w_r = weights(combine, k, keep=keep)
            for i, name in enumerate(names):
                if (w_r[i] > 0).any():
                    auto_recent[r] += w_r[i][:, None] * rbt.forecasts[name][r]
        ibt = BacktestArrays(
            np.concatenate([bt.origins, rbt.origins]),
            {
                name: np.concatenate(
                    [bt.forecasts.get(name, np.zeros((0, n, h))), rbt.forecasts[name]]
                )
                for name in names
            },
            *(np.concatenate([getattr(bt, a), getattr(rbt, a)]) for a in _BT_ARRAYS),
        )
        self._ibt = ibt
        self._auto_ibt = np.concatenate([auto_bt, auto_recent])
        self._ibt_lags = (
            np.concatenate([self._bt_lags, np.stack([staleness(Y[:, :o]) for o in rbt.origins])])
            if len(rbt.origins)
            else self._bt_lags
        )
        self.strategy_ = pd.DataFrame(
            [{"combine": c, "top_k": kk, "mase": sc} for c, kk, sc, _ in results]
        ).assign(chosen=lambda d: d.index == best)
        self.weights_ = w_final
        self._names = names
        self._reasons = reasons
        self._final = final
        self._auto_bt = auto_bt
        scaled = self._scaled_errors(auto_bt, bt)
        self._quantiles = self._interval_quantiles(self._auto_ibt)
        cov = loo_coverage(scaled, self.levels_)
        self.coverage_ = pd.DataFrame(
            [
                {"level": lev, "horizon": k + 1, "coverage": c[0, k], "n": int(c[1, k])}
                for lev, c in cov.items()
                for k in range(h)
            ]
        )

        X, start, n_obs = prepare_matrix(right_align(Y, self._lag))
        self._scale = fallback_scale(mase_scale(X, start, pm.season_length), X[:, -1])
        self._mean = np.einsum("mn,mnh->nh", self.weights_, np.stack([final[k] for k in names]))
        self._labels = self._model_labels(self.weights_)
        auto_scores = metric_arrays(auto_bt, bt)["mase"] if W else np.full((n, h), np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            auto_mase = np.nanmean(auto_scores, axis=1)
        self.selected_ = pm.ids.assign(
            model=self._labels,
            weights=self._weight_strings(self.weights_),
            reason=reasons.astype(str),
            n_obs=n_obs,
            backtest_mase=auto_mase,
        )
        self.periods_ = list(pm.periods)
        self.gpec_version_ = _gpec_version()
        self._backtest_df = None
        self._model_quantiles = {}
        return self

    # ----------------------------------------------------------------- helpers
    def _set_aside_outliers(self, pm: PanelMatrix) -> np.ndarray:
        """The matrix to forecast from: ``pm.Y`` with isolated absurd values replaced."""
        cols = [*pm.ids.columns, self.period_col, "value", "replaced_by"]
        if self.outliers == "keep":
            self.outliers_ = pd.DataFrame(columns=cols)
            return pm.Y
        Yc, flags = clean_outliers(pm.Y)
        rows, tcol = np.nonzero(flags)
        out = pm.ids.iloc[rows].reset_index(drop=True)
        out[self.period_col] = [pm.periods[t] for t in tcol]
        out["value"] = pm.Y[rows, tcol]
        out["replaced_by"] = Yc[rows, tcol]
        self.outliers_ = out[cols]
        if len(out):
            first = out.iloc[0]
            where = ", ".join(f"{c}={first[c]}" for c in [*pm.ids.columns, self.period_col])
            warnings.warn(
                f"employment: {len(out)} value(s) look like isolated errors (more than 3 times, "
                f"or less than a third of, the neighbouring years and far outside the series' "
                f"usual moves), e.g. {where}, value={first['value']:g}; forecast with the "
                f"neighbouring years' median ({first['replaced_by']:g}) instead. "
                "See Forecaster.outliers_; outliers='keep' uses them as they are.",
                UserWarning,
                stacklevel=outside_stacklevel(),
            )
        return Yc

    def _warn_stale(self, pm: PanelMatrix) -> None:
        stale = self._lag > 0
        if not stale.any():
            return
        i = int(np.argmax(self._lag))
        where = ", ".join(f"{c}={pm.ids.iloc[i][c]}" for c in pm.ids.columns)
        warnings.warn(
            f"employment: {int(stale.sum())} series end before {pm.periods[-1]} (the earliest "
            f"in {pm.periods[-1 - int(self._lag[i])]}: {where}); each is forecast from its own "
            "last observation, with intervals widened for its unobserved years "
            "(column last_observed of the forecast)",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )

    def _recent_backtest(self, Y: np.ndarray, h: int, origins: np.ndarray, run) -> BacktestArrays:
        """Forecasts from the origins ``T - 1 .. T - recent_windows`` not already backtested.

        The panel is padded with unobserved periods so that each of these
        origins is the last window of a backtest on the padded panel: trained
        on the periods before it, scored on the observed periods after it. An
        origin without any backtest window scored wholly before it (short
        panels, long horizons) is left out, there being no honest weights for
        it, unless a single candidate leaves no weight to choose.
        """
        n, T = Y.shape
        want = [T - j for j in range(1, min(int(self.recent_windows), h - 1) + 1)]
        # an origin needs a backtest window scored before it, to choose its weights from,
        # unless there is nothing to choose (a single candidate)
        free = len(self.candidates_) == 1
        want = sorted(
            o
            for o in want
            if o >= 3
            and o not in set(origins.tolist())
            and (free or _windows_before(origins, h, T, o).any())
        )
        if not want:
            return BacktestArrays(
                np.zeros(0, dtype=int),
                {name: np.zeros((0, n, h)) for name in self._computed},
                np.zeros((0, n, h)),
                np.zeros((0, n)),
                np.zeros((0, n)),
                np.zeros((0, n), dtype=int),
            )
        frames = []
        for o in want:
            padded = np.hstack([Y, np.full((n, o + h - T), np.nan)])
            frames.append(
                rolling_origin(padded, h, run, n_windows=1, season_length=self._season_length)
            )
        return BacktestArrays(
            np.array(want, dtype=int),
            {
                name: np.concatenate([f.forecasts[name] for f in frames])
                for name in frames[0].forecasts
            },
            *(np.concatenate([getattr(f, a) for f in frames]) for a in _BT_ARRAYS),
        )

    def _interval_quantiles(self, fc_ibt: np.ndarray) -> dict[int, np.ndarray]:
        """Interval quantiles per effective step from the pool's errors.

        The ``n_windows`` windows' error vectors count at every step (filled where
        they stop, see ``error_pool``); the recent windows' only at the steps they
        observe.
        """
        k = len(self._bt.origins)
        sc = self._scaled_errors(fc_ibt)
        lags = self._ibt_lags
        full = error_pool(sc[:k], lags[:k], self._n_steps)
        recent = error_pool(sc[k:], lags[k:], self._n_steps, fill=False)
        return envelope(pool_quantiles(np.vstack([full, recent]), self.levels_))

    def _pool(self, fc_bt: np.ndarray) -> np.ndarray:
        """Scaled error vectors of the interval pool by effective step (``error_pool``)."""
        return error_pool(self._scaled_errors(fc_bt), self._ibt_lags, self._n_steps)

    def _steps(self) -> np.ndarray:
        h = int(self.horizon)
        return self._lag[:, None] + np.arange(h)[None, :]

    def _last_observed(self):
        pm = self._pm
        last = last_index(pm.Y)
        if pm.kind == "period":
            return pd.PeriodIndex(pm.periods)[last]
        return np.asarray(pm.periods, dtype=np.int64)[last]

    def _scaled_errors(self, fc: np.ndarray, bt: BacktestArrays | None = None) -> np.ndarray:
        """``(actual - fc) / scale`` over the windows of ``bt`` (default: the interval pool's)."""
        bt = self._ibt if bt is None else bt
        scale = np.where(bt.scale > 0, bt.scale, np.nan)[:, :, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            return (bt.actual - fc) / scale

    def _model_labels(self, w: np.ndarray) -> np.ndarray:
        names = self._names
        bits = (w > 0).astype(np.int64)
        key = (bits * (1 << np.arange(len(names)))[:, None]).sum(axis=0)
        uniq, inv = np.unique(key, return_inverse=True)
        labels = []
        for u in uniq:
            used = [names[i] for i in range(len(names)) if u >> i & 1]
            labels.append(used[0] if len(used) == 1 else "combo(" + "+".join(sorted(used)) + ")")
        return np.asarray(labels, dtype=object)[inv]

    def _weight_strings(self, w: np.ndarray) -> np.ndarray:
        names = self._names
        rounded = np.round(w, 3)
        keys, inv = np.unique(rounded.T, axis=0, return_inverse=True)
        order = [int(i) for i in np.argsort(names)]
        labels = [names[i] for i in order]
        strs = [
            ";".join(f"{lab}={v:g}" for lab, v in zip(labels, row, strict=True) if v > 0)
            for row in keys[:, order].tolist()
        ]
        return np.asarray(strs, dtype=object)[np.ravel(inv)]

    def _check_fitted(self) -> None:
        if not hasattr(self, "selected_"):
            raise RuntimeError("this Forecaster is not fitted yet; call fit(panel) first")

    def _long(self, mean: np.ndarray, scale: np.ndarray, q: dict, model) -> pd.DataFrame:
        pm = self._pm
        n, h = mean.shape
        periods = future_periods(pm, h)
        levels = self.levels_
        L = len(levels)
        lows, ups = [], []
        steps = self._steps()
        for lev in levels:
            lo, up = apply_intervals(mean, scale, q[lev], steps)
            lows.append(lo)
            ups.append(up)
        lower = np.stack(lows, axis=2)  # (n, h, L)
        upper = np.stack(ups, axis=2)
        rep = h * L
        out = pm.ids.iloc[np.repeat(np.arange(n), rep)].reset_index(drop=True)
        per_idx = np.tile(np.repeat(np.arange(h), L), n)
        if pm.kind == "period":
            out[self.period_col] = pd.PeriodIndex(periods)[per_idx]
        else:
            out[self.period_col] = np.asarray(periods, dtype=np.int64)[per_idx]
        out["model"] = np.repeat(np.asarray(model, dtype=object), rep) if np.ndim(model) else model
        out["model"] = out["model"].astype("str")
        out["mean"] = np.repeat(mean.ravel(), L)
        out["lower"] = lower.ravel()
        out["upper"] = upper.ravel()
        out["level"] = np.tile(np.asarray(levels, dtype=np.int64), n * h)
        out["last_observed"] = np.repeat(self._last_observed(), rep)
        return out

    # ----------------------------------------------------------------- predict
    def predict(self, all_models: bool = False) -> pd.DataFrame:
        """Forecasts with prediction intervals, one row per series x period x level.

        Parameters
        ----------
        all_models : bool, default=False
            If True, also return every computed model's forecast (baselines and
            candidates, each with intervals from its own backtest errors); a
            column ``selected`` flags the rows of the selected forecast.

        Returns
        -------
        DataFrame
            Columns: id columns, period, model, mean, lower, upper, level,
            last_observed (the series' last observed period: earlier than the
            panel's last period for a series that stopped, forecast from there).
        """
        self._check_fitted()
        out = self._long(self._mean, self._scale, self._quantiles, self._labels)
        if not all_models:
            return out
        frames = [out.assign(selected=True)]
        for name in self._names:
            if name not in self._model_quantiles:
                self._model_quantiles[name] = self._interval_quantiles(self._ibt.forecasts[name])
            frames.append(
                self._long(
                    self._final[name], self._scale, self._model_quantiles[name], name
                ).assign(selected=False)
            )
        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------------ paths
    def predict_paths(
        self, n_paths: int = 1000, random_state=0, dependence: float | None = None
    ) -> SamplePaths:
        """Joint future sample paths of every series (conformal paths).

        Each path is the selected forecast plus one whole vector of scaled
        backtest errors of the selected forecast (one window of one series,
        drawn with replacement from the pool of all series, at the series'
        effective horizon steps) times the series' scale, clipped at 0. The
        pool is mapped monotonically onto the interval quantiles, so that the
        quantiles of employment over the paths are the intervals of
        :meth:`predict` (up to sampling error), while yearly differences and
        sums over the horizon get intervals that are quantiles of those very
        quantities (see :class:`~gpec.forecast._paths.SamplePaths`).

        Parameters
        ----------
        n_paths : int, default=1000
            Paths per series. Memory: ``8 * n_series * n_paths * horizon``
            bytes.
        random_state : int or numpy Generator, default=0
            Seed of the local generator (same seed, same paths).
        dependence : float in [0, 1], optional
            Correlation of every pair of series through a common factor of each
            path (see :mod:`gpec.forecast._paths`); default ``dependence_``, the
            average correlations of the series' yearly changes over all pairs
            and within a group. 0 draws the series independently, 1 moves them
            in lockstep.

        Returns
        -------
        SamplePaths

        Examples
        --------
        >>> from gpec.datasets import make_panel
        >>> fc = Forecaster(horizon=3, level=(80,), verbose=0).fit(make_panel(3, 8, 15))
        >>> paths = fc.predict_paths(n_paths=500, random_state=0)
        >>> lower, upper = paths.interval(80)            # employment, per series x year
        >>> cum_lo, cum_up = paths.interval(80, paths.cumulative())
        >>> bool((cum_up[:, -1] >= upper.sum(axis=1) * 0.5).all())
        True
        """
        return next(self.iter_paths(n_paths, random_state, chunk_size=None, dependence=dependence))

    def iter_paths(
        self,
        n_paths: int = 1000,
        random_state=0,
        chunk_size: int | None = 10_000,
        dependence: float | None = None,
    ):
        """The sample paths of :meth:`predict_paths`, drawn for blocks of series at a time.

        For panels too large to hold every path at once: the blocks, in the
        panel's series order, are drawn one after the other from the same
        generator, so that put end to end they are exactly the paths of
        :meth:`predict_paths` with the same seed, whatever ``chunk_size``.

        Parameters
        ----------
        n_paths : int, default=1000
        random_state : int or numpy Generator, default=0
        chunk_size : int or None, default=10_000
            Series per block (None: all in one block). Memory per block:
            ``8 * chunk_size * n_paths * horizon`` bytes.
        dependence : float in [0, 1], optional
            As in :meth:`predict_paths`; every block shares the paths' common factor.

        Yields
        ------
        SamplePaths
            The paths of one block of series (``ids`` keeps the panel's index).

        Examples
        --------
        >>> from gpec.datasets import make_panel
        >>> fc = Forecaster(horizon=3, level=(80,), verbose=0).fit(make_panel(3, 8, 15))
        >>> [p.values.shape for p in fc.iter_paths(n_paths=100, chunk_size=15)]
        [(15, 100, 3), (9, 100, 3)]
        """
        self._check_fitted()
        if isinstance(n_paths, bool) or not isinstance(n_paths, int | np.integer) or n_paths < 1:
            raise ValueError(f"n_paths must be a positive integer, got {n_paths!r}")
        if dependence is None:
            rho = getattr(self, "dependence_", (0.0, 0.0))
        elif isinstance(dependence, int | float | np.floating) and 0.0 <= dependence <= 1.0:
            rho = (float(dependence), float(dependence))
        else:
            raise ValueError(f"dependence must be a number in [0, 1], got {dependence!r}")
        rng = (
            random_state
            if isinstance(random_state, np.random.Generator)
            else np.random.default_rng(random_state)
        )
        pool = self._pool(self._auto_ibt)
        raw = pool_quantiles(pool, self.levels_)
        # mapped onto the intervals' quantiles, so that the paths' quantiles are the intervals
        mapped = map_pool(pool, raw, self._quantiles) if len(pool) else pool
        pm = self._pm
        steps = self._steps()
        base = np.nan_to_num(right_align(self._Y, self._lag)[:, -1])
        last = np.asarray(self._last_observed())
        periods = future_periods(pm, int(self.horizon))
        n = len(self._mean)
        size = n if chunk_size is None else max(int(chunk_size), 1)
        r_own = max(rho)
        if r_own > 0:  # drawn once, shared by every block
            common = rng.standard_normal(int(n_paths))
            group_factors = rng.standard_normal((int(self._groups.max(initial=0)) + 1, n_paths))
            if len(mapped):  # rows in the order sample_paths ranks them, sorted once
                mapped = mapped[np.argsort(np.nansum(mapped, axis=1), kind="stable")]
        for a in range(0, max(n, 1), size):
            b = min(a + size, n)
            values = sample_paths(
                self._mean[a:b],
                self._scale[a:b],
                mapped,
                steps[a:b],
                int(n_paths),
                rng,
                shared=(
                    shared_factor(self._groups[a:b], common, group_factors, rho)
                    if r_own > 0
                    else None
                ),
                rho=r_own,
            )
            yield SamplePaths(
                ids=pm.ids.iloc[a:b].copy(),
                periods=periods,
                values=values,
                mean=self._mean[a:b].copy(),
                base=base[a:b],
                last_observed=last[a:b],
                period_col=self.period_col,
            )

    # --------------------------------------------------------------- residuals
    def residuals(self, horizon: int = 1) -> pd.DataFrame:
        """Out-of-sample errors of the selected forecast, per series and backtest window.

        The residuals are the rolling-origin backtest errors of the selected
        (combined) forecast at one horizon step: for each backtest window, the
        observed value minus the forecast made ``horizon`` periods earlier from
        the data available then, with combination weights chosen without that
        window (the same leave-one-window-out forecasts as the ``"auto"`` rows
        of :attr:`backtest_`). They are honest out-of-sample errors, not
        in-sample fitted residuals, and there are only as many per series as
        backtest windows (``n_windows``, default 3): enough for the residual
        variances of ``reconcile(method="wls_var")`` and, with shrinkage, the
        covariances of ``"mint_shrink"``, but rough.

        Parameters
        ----------
        horizon : int, default=1
            Horizon step of the errors, between 1 and the fitted ``horizon``
            (1: one-step-ahead errors).

        Returns
        -------
        DataFrame
            Columns: the id columns (``territory``, ``occupation``), the period
            forecast (``period_col``) and ``residual`` (actual - forecast), one
            row per series x backtest window (windows whose forecast period lies
            beyond the panel, on very short panels, have no row), sorted by
            series then period: the long form taken by
            ``gpec.forecast.reconcile(..., residuals=...)``. No series is left
            out: ``residual`` is NaN where there is no honest
            error, i.e. the actual is not observed, or the series had no
            observation before the window's origin (its forecast would be a
            placeholder 0). A series
            whose residuals are all NaN, or too few, cannot have an estimated
            variance: callers must decide what to do with it (the pipeline
            reconciles such occupations with ``wls_struct`` weights and warns).

        Raises
        ------
        ValueError
            If ``horizon`` is not an integer between 1 and the fitted horizon,
            or the backtest has no window (panel too short).

        Examples
        --------
        >>> import pandas as pd
        >>> panel = pd.DataFrame({"territory": "01", "occupation": ["A"] * 10 + ["B"] * 10,
        ...                       "period": list(range(2010, 2020)) * 2,
        ...                       "value": [float(v) for v in range(10, 20)] + [5.0] * 10})
        >>> fc = Forecaster("naive", horizon=2, level=(80,), verbose=0).fit(panel)
        >>> res = fc.residuals()
        >>> list(res.columns)
        ['territory', 'occupation', 'period', 'residual']
        >>> res[res["occupation"] == "A"]["residual"].tolist()
        [1.0, 1.0, 1.0]
        """
        self._check_fitted()
        h = int(self.horizon)
        if (
            isinstance(horizon, bool)
            or not isinstance(horizon, int | np.integer)
            or not (1 <= horizon <= h)
        ):
            raise ValueError(f"horizon must be an integer between 1 and {h}, got {horizon!r}")
        bt = self._bt
        W = len(bt.origins)
        if W == 0:
            raise ValueError("the backtest has no window (panel too short): no residuals")
        k = int(horizon) - 1
        pm = self._pm
        n = len(pm.ids)
        actual = bt.actual[:, :, k]  # (W, n)
        err = actual - self._auto_bt[:, :, k]
        honest = np.isfinite(err) & (bt.n_train > 0)
        err = np.where(honest, err, np.nan)
        col = bt.origins + k  # panel column of the forecast period of each window
        inside = col < len(pm.periods)
        col = np.where(inside, col, len(pm.periods) - 1)
        out = pm.ids.iloc[np.repeat(np.arange(n), W)].reset_index(drop=True)
        w_idx = np.tile(np.arange(W), n)
        if pm.kind == "period":
            out[self.period_col] = pd.PeriodIndex(pm.periods)[col[w_idx]]
        else:
            out[self.period_col] = np.asarray(pm.periods, dtype=np.int64)[col[w_idx]]
        out["residual"] = err.T.ravel()
        # Windows whose forecast period lies beyond the panel (short panels) have no actual.
        out = out[np.tile(inside, n)].reset_index(drop=True)
        return out

    # ---------------------------------------------------------------- backtest
    @property
    def backtest_(self) -> pd.DataFrame:
        """Per series x model x horizon metrics of the rolling-origin backtest."""
        self._check_fitted()
        if self._backtest_df is None:
            self._backtest_df = self._build_backtest()
        return self._backtest_df

    def _metrics(self) -> dict[str, dict[str, np.ndarray]]:
        mets = {name: metric_arrays(self._bt.forecasts[name], self._bt) for name in self._names}
        mets["auto"] = metric_arrays(self._auto_bt, self._bt)
        return mets

    def _build_backtest(self) -> pd.DataFrame:
        pm = self._pm
        n = len(pm.ids)
        h = int(self.horizon)
        frames = []
        for name, met in self._metrics().items():
            df = pm.ids.iloc[np.repeat(np.arange(n), h)].reset_index(drop=True)
            df["model"] = name
            df["horizon"] = np.tile(np.arange(1, h + 1), n)
            for k in ("mase", "smape", "wape", "bias", "direction"):
                df[k] = met[k].ravel()
            df["n"] = met["n"].ravel()
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    def backtest_summary(self) -> pd.DataFrame:
        """Backtest accuracy per model, compared with naive and constant share.

        Returns
        -------
        DataFrame
            One row per model (``auto`` is the selected forecast): mean MASE,
            sMAPE, WAPE (pooled), bias, direction accuracy over series and
            horizon steps; ``mase_vs_naive`` and ``mase_vs_cshare`` (ratio of
            mean MASE, < 1 is better); ``win_vs_naive`` (share of series where
            the model's MASE is lower than naive's); and ``coverage_<level>``
            for ``auto``.
        """
        self._check_fitted()
        mets = self._metrics()
        rows = []
        y = self._bt.actual
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            base = {k: np.nanmean(mets[k]["mase"], axis=1) for k in ("naive", "cshare")}
            for name, met in mets.items():
                fc = self._auto_bt if name == "auto" else self._bt.forecasts[name]
                ok = np.isfinite(y) & np.isfinite(fc)
                per_series = np.nanmean(met["mase"], axis=1)
                both = np.isfinite(per_series) & np.isfinite(base["naive"])
                row = {
                    "model": name,
                    "mase": np.nanmean(met["mase"]),
                    "smape": np.nanmean(met["smape"]),
                    "wape": np.abs(np.where(ok, fc - y, 0)).sum()
                    / np.abs(np.where(ok, y, 0)).sum(),
                    "bias": np.nanmean(met["bias"]),
                    "direction": np.nanmean(met["direction"]),
                    "win_vs_naive": np.mean(per_series[both] < base["naive"][both] - 1e-12)
                    if both.any()
                    else np.nan,
                }
                rows.append(row)
        out = pd.DataFrame(rows)
        ref = out.set_index("model")["mase"]
        out["mase_vs_naive"] = out["mase"] / ref["naive"]
        out["mase_vs_cshare"] = out["mase"] / ref["cshare"]
        for lev in self.levels_:
            cov = self.coverage_[self.coverage_["level"] == lev]
            val = np.average(cov["coverage"], weights=cov["n"]) if cov["n"].sum() else np.nan
            out[f"coverage_{lev}"] = np.where(out["model"] == "auto", val, np.nan)
        return out

    # --------------------------------------------------------------- save/load
    def save(self, path: str | Path) -> Path:
        """Save the fitted forecaster with joblib, recording the gpec version.

        Examples
        --------
        >>> import pandas as pd, tempfile, os
        >>> panel = pd.DataFrame({"territory": "01", "occupation": "A",
        ...                       "period": range(2000, 2010), "value": range(10, 20)})
        >>> fc = Forecaster(horizon=1, verbose=0).fit(panel)
        >>> path = fc.save(os.path.join(tempfile.mkdtemp(), "fc.joblib"))
        >>> Forecaster.load(path).predict().equals(fc.predict())
        True
        """
        self._check_fitted()
        path = Path(path)
        payload = {
            "kind": "gpec.Forecaster",
            "format": _SAVE_FORMAT,
            "gpec_version": _gpec_version(),
            "estimator": self,
        }
        joblib.dump(payload, path, compress=3)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Forecaster:
        """Load a forecaster saved by :meth:`save`.

        Raises
        ------
        ValueError
            If the file is not a saved gpec Forecaster, or was written by a gpec
            version with another major.minor version than the running one.
        """
        path = Path(path)
        payload = joblib.load(path)
        if not isinstance(payload, dict) or payload.get("kind") != "gpec.Forecaster":
            raise ValueError(f"{path}: not a gpec Forecaster file (saved by Forecaster.save)")
        saved = str(payload.get("gpec_version", "unknown"))
        current = _gpec_version()
        if payload.get("format") != _SAVE_FORMAT or saved.split(".")[:2] != current.split(".")[:2]:
            raise ValueError(
                f"{path}: saved with gpec {saved} (file format {payload.get('format')}), "
                f"incompatible with the installed gpec {current} (format {_SAVE_FORMAT}); "
                "refit the forecaster with this version"
            )
        return payload["estimator"]
