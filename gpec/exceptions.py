"""The exceptions gpec raises on bad input, in one place.

Every one is a :class:`ValueError` (so ``except ValueError`` keeps working) and a
:class:`GpecError`, whose message is one line naming the file, table, row, column and value at
fault where they are known.

Examples
--------
>>> from gpec.exceptions import ConfigError, GpecError
>>> issubclass(ConfigError, GpecError) and issubclass(ConfigError, ValueError)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "REJECTION_COLUMNS",
    "ConfigError",
    "DataQualityWarning",
    "FormatError",
    "GpecError",
    "InputFileError",
    "ValidationError",
]

#: Columns of a problem report (``ValidationError.report``, ``rejected.csv``).
REJECTION_COLUMNS = ["table", "file", "row", "column", "value", "reason"]


class GpecError(ValueError):
    """Base class of the errors gpec raises on bad input or configuration.

    Examples
    --------
    >>> try:
    ...     raise GpecError("employment.csv: row 3, column 'value': not a number ('abc')")
    ... except ValueError as err:
    ...     print(err)
    employment.csv: row 3, column 'value': not a number ('abc')
    """


class ValidationError(GpecError):
    """An input table breaks a rule of the canonical data model.

    Parameters
    ----------
    message : str
        One line naming the table, the file, the row (as numbered in the file: header = row 1)
        and the column of the first problem.
    report : DataFrame, optional
        Every problem found, one row each, with the columns :data:`REJECTION_COLUMNS`.
    hints : sequence of str, optional
        How to fix some of them (e.g. a code that lost its leading zero), each on a line of its
        own after the message.

    Examples
    --------
    >>> err = ValidationError("table 'employment': row 2, column 'value': negative value")
    >>> list(err.report.columns)
    ['table', 'file', 'row', 'column', 'value', 'reason']
    """

    def __init__(self, message: str, report: pd.DataFrame | None = None, hints: Sequence[str] = ()):
        self.hints = list(hints)
        super().__init__("".join([message, *(f"\nhint: {h}" for h in self.hints)]))
        if report is None:
            import pandas as pd

            report = pd.DataFrame(columns=REJECTION_COLUMNS)
        self.report = report


class ConfigError(GpecError):
    """An invalid configuration: unknown key, wrong type or range, missing file.

    Examples
    --------
    >>> str(ConfigError("gpec.toml: [forecast] horizon: expected an integer >= 1, got 0"))
    'gpec.toml: [forecast] horizon: expected an integer >= 1, got 0'
    """


class InputFileError(GpecError):
    """A file cannot be read as a table (missing, wrong kind, unreadable).

    Examples
    --------
    >>> issubclass(InputFileError, ValueError)
    True
    """


class FormatError(GpecError):
    """A file is not of the kind a reader expects (a ROME folder given to ``read_bmo``...).

    The message is one line naming the file and what was expected.

    Examples
    --------
    >>> issubclass(FormatError, GpecError)
    True
    """


class DataQualityWarning(UserWarning):
    """Rows left out by a lenient validation, or plausibility findings, summed up once.

    :func:`gpec.pipeline.run_pipeline` emits one per kind, with counts per table or check, so
    that a Python user hears of them; the rows themselves are in ``Results.rejected`` and
    ``Results.data.warnings`` (``rejected.csv``). The ``gpec`` command prints them row by
    row instead, and filters this category out.

    Examples
    --------
    >>> issubclass(DataQualityWarning, UserWarning)
    True
    """
