"""Employment forecasting per territory x occupation.

:class:`Forecaster` backtests vectorised and statsmodels models on every
series, selects or combines the best per series, and gives conformal
prediction intervals, and joint sample paths (:class:`SamplePaths`) whose
quantiles are those intervals; :func:`reconcile` makes forecasts add up
across territory levels.
"""

from ._backtest import coverage, mase_scale, metric_arrays, rolling_origin
from ._fast import FAST_MODELS, prepare_matrix
from ._forecaster import AUTO_CANDIDATES, BASELINES, Forecaster
from ._panel import to_matrix
from ._paths import SamplePaths

__all__ = [
    "AUTO_CANDIDATES",
    "BASELINES",
    "FAST_MODELS",
    "Forecaster",
    "SamplePaths",
    "coverage",
    "mase_scale",
    "metric_arrays",
    "prepare_matrix",
    "rolling_origin",
    "to_matrix",
]

try:  # written separately; keep the package importable while it is in progress
    from ._reconcile import reconcile  # noqa: F401

    __all__.append("reconcile")
except ImportError:  # pragma: no cover
    pass
