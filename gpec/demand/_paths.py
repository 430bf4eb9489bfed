"""Openings along joint sample paths of employment (private; used by :func:`gpec.demand.openings`).

Each sample path of a series' employment (``Forecaster.predict_paths``) is carried through the
same arithmetic as the central forecast: the expansion is the difference of the path's years
(the first year against the last observed value), the replacement comes from ageing the cell's
age pyramid along that path, and the openings are their sum. The bounds are then quantiles over
the paths of those very quantities, per year and summed over the horizon (plan period).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gpec._checks import int_periods

__all__ = ["OpeningsPaths", "iter_forecast_paths"]

#: Rows (series x paths) aged at once: bounds the memory of one block (about 100 MB).
BLOCK_ROWS = 400_000


@dataclass(frozen=True)
class OpeningsPaths:
    """Openings of every series along each employment sample path.

    Attributes
    ----------
    ids : DataFrame
        territory, occupation: one row per series, row ``i`` is ``values[i]``.
    periods : ndarray of int
        The ``h`` periods of the openings rows (the same for every series).
    values : ndarray of float32, shape (n_series, n_paths, h)
        Openings per series, path and period (net openings: may be negative).
    level : float
        Interval level (%) of the bounds computed from the paths.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> p = OpeningsPaths(pd.DataFrame({"territory": ["A"], "occupation": ["X"]}),
    ...                   np.array([2025, 2026]), np.ones((1, 4, 2), dtype="float32"), 80)
    >>> p.cumulative()[0, 0].tolist()
    [1.0, 2.0]
    """

    ids: pd.DataFrame
    periods: np.ndarray
    values: np.ndarray
    level: float

    @property
    def n_paths(self) -> int:
        """Number of paths per series."""
        return int(self.values.shape[1])

    def cumulative(self) -> np.ndarray:
        """Openings summed from the first period to each period, path by path."""
        return np.cumsum(self.values, axis=2, dtype=float)


def quantile_bounds(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed ``level`` % interval of ``values`` over axis 1 (the paths).

    Examples
    --------
    >>> import numpy as np
    >>> lo, up = quantile_bounds(np.arange(11.0).reshape(1, 11, 1), 80)
    >>> round(float(lo[0, 0]), 6), round(float(up[0, 0]), 6)
    (1.0, 9.0)
    """
    a = (1.0 - float(level) / 100.0) / 2.0
    lo, up = np.quantile(values, [a, 1.0 - a], axis=1)
    return lo, up


def iter_forecast_paths(source, n_paths: int, random_state, chunk_size: int) -> Iterator:
    """Blocks of :class:`~gpec.forecast.SamplePaths` from a fitted forecaster or given paths."""
    if hasattr(source, "iter_paths"):  # a fitted Forecaster
        yield from source.iter_paths(
            n_paths=int(n_paths), random_state=random_state, chunk_size=chunk_size
        )
    elif hasattr(source, "values") and hasattr(source, "ids"):  # one SamplePaths
        yield source
    elif isinstance(source, Iterable):
        yield from source
    else:
        raise TypeError(
            "paths must be a fitted Forecaster, a SamplePaths or an iterable of SamplePaths, "
            f"got {type(source).__name__}"
        )


def match_paths(sp, series_index: pd.MultiIndex, periods: np.ndarray):
    """Positions of a block's series among the openings series, and of the periods among its own.

    Returns
    -------
    rows : ndarray of int
        For each matched path series, its position in the block.
    target : ndarray of int
        Its position among the openings series.
    cols : ndarray of int
        For each openings period, the column of the paths holding it.
    """
    ids = sp.ids
    for col in ("territory", "occupation"):
        if col not in ids.columns:
            raise ValueError(f"paths: the sample paths have no {col!r} column")
    key = pd.MultiIndex.from_arrays(
        [ids["territory"].astype("str").to_numpy(), ids["occupation"].astype("str").to_numpy()]
    )
    target = series_index.get_indexer(key)
    rows = np.flatnonzero(target >= 0)
    path_periods = int_periods(pd.Series(list(sp.periods)), "paths")
    cols = pd.Index(path_periods.to_numpy()).get_indexer(periods)
    if (cols < 0).any():
        missing = periods[cols < 0][0]
        raise ValueError(
            f"paths: no sample path for period {missing} (paths cover {list(path_periods)})"
        )
    return rows, target[rows], cols
