"""Ragged panels: series that stop before the panel's last period.

A series whose last observation is ``L`` periods before the end of the panel
is forecast from that observation: the models see the series right-aligned
(its last value in the last column) and forecast ``L + h`` steps, of which the
last ``h`` are the panel's forecast periods. Its interval uses the errors of
effective steps ``L + 1 .. L + h``, so that it widens with the years it has
been unobserved.
"""

from __future__ import annotations

import numpy as np

__all__ = ["last_index", "staleness", "right_align", "take_steps"]


def last_index(Y: np.ndarray) -> np.ndarray:
    """Column of each row's last finite value (-1 for an all-NaN row).

    Examples
    --------
    >>> import numpy as np
    >>> last_index(np.array([[1.0, 2.0, np.nan], [np.nan] * 3])).tolist()
    [1, -1]
    """
    obs = np.isfinite(Y)
    T = Y.shape[1]
    rev = obs[:, ::-1].argmax(axis=1)
    return np.where(obs.any(axis=1), T - 1 - rev, -1)


def staleness(Y: np.ndarray) -> np.ndarray:
    """Periods between each row's last observation and the panel's last column.

    All-NaN rows get 0 (they are not forecast from any observation).

    Examples
    --------
    >>> import numpy as np
    >>> staleness(np.array([[1.0, 2.0, np.nan], [1.0, 2.0, 3.0]])).tolist()
    [1, 0]
    """
    last = last_index(Y)
    return np.where(last >= 0, Y.shape[1] - 1 - last, 0)


def right_align(Y: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """Shift each row ``lag`` columns to the right (NaN enters on the left).

    Examples
    --------
    >>> import numpy as np
    >>> right_align(np.array([[1.0, 2.0, np.nan]]), np.array([1])).tolist()
    [[nan, 1.0, 2.0]]
    """
    n, T = Y.shape
    src = np.arange(T)[None, :] - np.asarray(lag)[:, None]
    ok = src >= 0
    vals = Y[np.arange(n)[:, None], np.clip(src, 0, T - 1)]
    return np.where(ok, vals, np.nan)


def take_steps(fc: np.ndarray, lag: np.ndarray, h: int) -> np.ndarray:
    """Columns ``lag_i .. lag_i + h - 1`` of each row of a longer forecast.

    Examples
    --------
    >>> import numpy as np
    >>> take_steps(np.array([[1.0, 2.0, 3.0]]), np.array([1]), 2).tolist()
    [[2.0, 3.0]]
    """
    cols = np.asarray(lag)[:, None] + np.arange(h)[None, :]
    return fc[np.arange(fc.shape[0])[:, None], cols]
