"""Employment forecasting per territory x occupation.

:class:`Forecaster` backtests vectorised and statsmodels models on every
series, selects or combines the best per series, and gives conformal
prediction intervals, and joint sample paths (:class:`SamplePaths`) whose
quantiles are those intervals; :func:`reconcile` makes forecasts add up
across territory levels.
"""

from ._backtest import coverage, mase_scale, rolling_origin
from ._fast import FAST_MODELS
from ._forecaster import AUTO_CANDIDATES, BASELINES, Forecaster
from ._paths import SamplePaths
from ._reconcile import reconcile

__all__ = [
    "AUTO_CANDIDATES",
    "BASELINES",
    "FAST_MODELS",
    "Forecaster",
    "SamplePaths",
    "coverage",
    "mase_scale",
    "rolling_origin",
    "reconcile",
]
