"""Number formats of the report columns, shared by the Excel workbook and the HTML report.

Each column falls in one kind, from its name:

* ``"int"``: years, counts and ranks (``2025``, ``12``);
* ``"pct"``: rates and shares in [0, 1] (``gap_share``, ``coverage_80``, ``direction``,
  ``win_vs_naive``, ``wape``...), shown as percentages;
* ``"ratio"``: ratios around 1 and indices (``mase``, ``mase_vs_cshare``, ``bias``,
  ``share_ratio``, ``hhi``...), shown with three decimals, never as percentages;
* ``"score"``: scores and weights in [0, 1] shown with two decimals;
* ``"num"``: everything else (jobs, seats, entrants), with thousands separators.
"""

from __future__ import annotations

__all__ = ["column_kind", "excel_format", "html_format"]

_INT = frozenset(
    {
        "period",
        "level",
        "horizon",
        "rank",
        "n",
        "n_series",
        "row",
        "offers",
        "survey_period",
        "n_occupations",
        "n_skills_to_acquire",
    }
)
_PCT = frozenset(
    {
        "share",
        "coverage",
        "growth",
        "overlap",
        "direction",
        "win_vs_naive",
        "wape",
        "completion_rate",
        "placement_rate",
    }
)
_RATIO = frozenset({"mase", "bias", "share_ratio", "hhi", "krugman"})
_SCORE = frozenset({"score", "weight"})


def column_kind(name: str) -> str:
    """Kind of a numeric column from its name: "int", "pct", "ratio", "score" or "num".

    Examples
    --------
    >>> [column_kind(c) for c in ("period", "gap_share", "mase_vs_cshare", "coverage_80")]
    ['int', 'pct', 'ratio', 'pct']
    """
    name = str(name)
    if name in _INT:
        return "int"
    if name in _RATIO or name.startswith("mase_vs_") or name.endswith("_ratio"):
        return "ratio"
    if name in _PCT or name.endswith("_share") or name.startswith("coverage_"):
        return "pct"
    if name in _SCORE:
        return "score"
    return "num"


_EXCEL = {"int": "0", "pct": "0.0%", "ratio": "0.000", "score": "0.00"}


def excel_format(name: str, integer: bool = False) -> str:
    """Excel number format of a column (``integer``: the column holds whole numbers)."""
    kind = column_kind(name)
    if kind == "num":
        return "#,##0" if integer else "#,##0.0"
    return _EXCEL[kind]


def html_format(name: str, values=None, integer: bool = False) -> str:
    """Python format string of a numeric column in the HTML report.

    Plain numbers get no decimals when the column holds whole numbers or reaches 100, two
    decimals otherwise (the same decimals down a column).
    """
    kind = column_kind(name)
    if kind == "int":
        return "{:.0f}"
    if kind == "pct":
        return "{:.0%}"
    if kind == "ratio":
        return "{:.3f}"
    if kind == "score":
        return "{:.2f}"
    if integer:
        return "{:,.0f}"
    big = None
    if values is not None and len(values):
        big = float(abs(values).max())
    return "{:,.0f}" if big is not None and big == big and big >= 100 else "{:,.2f}"
