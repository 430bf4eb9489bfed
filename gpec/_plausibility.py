"""Plausibility checks: inputs that are well-formed but unlikely to be what the planner meant.

The row rules of :mod:`gpec._schema` catch what is *impossible* (a negative count, a code that
is not one). The rules here catch what is *implausible* for the study: a year typed 2042 in a
2005-2024 panel, a series that stops years before the others, a value a thousand times its
series' usual level, a territory whose total jumps by half in one year, an age pyramid or a
training offer that disagrees with employment by orders of magnitude.

Each finding is a row of a rejection-like table (table, file, row, column, value, reason) with a
``severity``: ``"error"`` findings are rejected rows (dropped with ``strict=False``, a stop
otherwise); ``"warning"`` findings keep their rows and are shown to the planner (and kept in
``rejected.csv``). Every rule has a threshold in :class:`PlausibilityRules` and can be switched
off (threshold ``None``, or ``enabled=False`` for all of them).

The robust rule for values
--------------------------
Values are compared on ``x = log(1 + value)`` with the series' own median ``m`` and median
absolute deviation ``MAD`` (scaled by 1.4826, so that it estimates a standard deviation on
normal data). A value is *implausible* when

* ``|x - m| > max(outlier_mad * 1.4826 * MAD, log(outlier_ratio))``: it is more than
  ``outlier_mad`` robust deviations **and** more than a factor ``outlier_ratio`` away from the
  series' median; and
* it differs from the median value by at least ``outlier_min_jobs`` jobs (small counts of a
  few jobs swing by large factors);

it is a warning. It is an error (the row is rejected) when it is also more than a factor
``outlier_error_ratio`` away and *isolated*: its neighbours in the series are within a factor
``outlier_ratio`` of the median (a level shift, where the neighbours moved too, stays a warning).
The median and MAD ignore the values they judge only through their robustness: one absurd value
among five moves neither. Series with fewer than ``min_points`` values are not judged.

Totals of a territory (employment summed over its occupations) are judged on their year-to-year
changes ``d = log(total_t / total_{t-1})``: a change is a jump when
``|d| > max(total_mad * 1.4826 * MAD(d), log(1 + total_jump))``, the MAD taken over every
territory and year of the panel.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from gpec._defaults import DEFAULTS
from gpec.exceptions import REJECTION_COLUMNS

__all__ = ["FINDING_COLUMNS", "PlausibilityRules", "check_plausibility"]

_V = DEFAULTS["validate"]

#: Columns of a findings table: the rejection columns, the rule and the severity.
FINDING_COLUMNS = [*REJECTION_COLUMNS, "check", "severity"]

_MAD_SCALE = 1.4826


@dataclass(frozen=True)
class PlausibilityRules:
    """Thresholds of the plausibility checks (each off when set to None).

    Parameters
    ----------
    enabled : bool, default True
        False switches every plausibility check off.
    period_min, period_max : int or None, default 1900 and 2100
        Years outside ``[period_min, period_max]`` are errors (a typo such as 1850 or 2200).
    max_period_gap : int or None, default 5
        A year more than this many years away from the block of years that holds most rows of
        its table (2042 in a 2005-2024 panel) is an error.
    stale : bool, default True
        Warn about series that stop before most of the panel (they are forecast from their own
        last observation) or go on after it.
    holes : bool, default True
        Warn about series with missing years between their first and last.
    outlier_ratio : float or None, default 10
        Warn about a value more than this factor away from its series' median (see the module
        notes for the whole rule).
    outlier_mad : float, default 5
        ... and more than this many robust standard deviations (1.4826 MAD on log(1 + value)).
    outlier_min_jobs : float, default 50
        ... and at least this many jobs away from the median.
    outlier_error_ratio : float or None, default 1000
        An isolated value more than this factor away from its series' median is an error.
    min_points : int, default 5
        Series with fewer values are not judged by the value rule.
    total_jump : float or None, default 0.5
        Warn when a territory's total employment changes by more than this share in one year
        (+50 % or -33 %), by more than ``total_mad`` robust deviations of such changes and by
        at least ``outlier_min_jobs`` jobs.
    total_mad : float, default 5
        See ``total_jump``.
    pyramid_ratio : float or None, default 10
        Warn when the workers of an age pyramid (territory x occupation) and the jobs of the same
        cell in the last year differ by more than this factor (both sides of at least
        ``outlier_min_jobs``), or when the two tables' totals do.
    seats_ratio : float or None, default 1
        Warn when an offer has more seats a year than this times every job of its site.

    Examples
    --------
    >>> PlausibilityRules(outlier_ratio=None).outlier_ratio is None
    True
    """

    # the defaults are those of the configuration's [validate] table (gpec._defaults)
    enabled: bool = _V["plausibility"]
    period_min: int | None = _V["period_min"]
    period_max: int | None = _V["period_max"]
    max_period_gap: int | None = _V["max_period_gap"]
    stale: bool = _V["stale"]
    holes: bool = _V["holes"]
    outlier_ratio: float | None = _V["outlier_ratio"]
    outlier_mad: float = _V["outlier_mad"]
    outlier_min_jobs: float = _V["outlier_min_jobs"]
    outlier_error_ratio: float | None = _V["outlier_error_ratio"]
    min_points: int = _V["min_points"]
    total_jump: float | None = _V["total_jump"]
    total_mad: float = _V["total_mad"]
    pyramid_ratio: float | None = _V["pyramid_ratio"]
    seats_ratio: float | None = _V["seats_ratio"]

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> PlausibilityRules:
        """Rules from a mapping (a ``[validate]`` table): unknown keys are a ``ValueError``."""
        values = dict(values or {})
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(
                f"unknown plausibility setting(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(names))})"
            )
        return cls(**values)


# ----------------------------------------------------------------------------- findings
def _findings(
    table: str,
    file: str,
    rows,
    column: str,
    values,
    reason: str,
    check: str,
    severity: str,
) -> pd.DataFrame:
    rows = list(rows)
    return pd.DataFrame(
        {
            "table": table,
            "file": file,
            "row": rows,
            "column": column,
            "value": [str(v) for v in values],
            "reason": reason,
            "check": check,
            "severity": severity,
        },
        columns=FINDING_COLUMNS,
    )


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) < 1e15 else f"{v:.3g}"


def check_plausibility(
    tables: dict[str, pd.DataFrame],
    sources: dict[str, str] | None = None,
    rules: PlausibilityRules | None = None,
) -> pd.DataFrame:
    """Return the plausibility findings of validated tables.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Canonical tables after the row rules (numbers as floats, periods normalised); the index
        is the row number reported.
    sources : dict, optional
        Table name -> file, named in the findings.
    rules : PlausibilityRules, optional
        Thresholds; the defaults when omitted.

    Returns
    -------
    DataFrame
        Columns :data:`FINDING_COLUMNS`; ``severity`` is ``"error"`` (reject the row) or
        ``"warning"``.

    Examples
    --------
    >>> import pandas as pd
    >>> emp = pd.DataFrame({"territory": "T", "occupation": "O",
    ...                     "period": [2019, 2020, 2021, 2022, 2042], "value": 100.0})
    >>> f = check_plausibility({"employment": emp})
    >>> f[["row", "value", "severity"]].values.tolist()
    [[4, '2042', 'error']]
    """
    rules = rules or PlausibilityRules()
    sources = dict(sources or {})
    empty = pd.DataFrame(columns=FINDING_COLUMNS)
    if not rules.enabled:
        return empty
    out: list[pd.DataFrame] = []
    dropped: dict[str, pd.Index] = {}
    for name in ("employment", "hiring_intentions", "workforce_age", "training_offers"):
        t = tables.get(name)
        if t is None or not len(t) or "period" not in t.columns:
            continue
        found = _period_rules(t, name, sources.get(name, ""), rules)
        if len(found):
            out.append(found)
            dropped[name] = t.index[t.index.isin(set(found["row"]))]
    emp = tables.get("employment")
    if emp is not None and len(emp) and {"territory", "occupation", "value"} <= set(emp.columns):
        emp = emp.drop(index=dropped.get("employment", []))
        file = sources.get("employment", "")
        if pd.api.types.is_integer_dtype(emp["period"]) or isinstance(
            emp["period"].dtype, pd.PeriodDtype
        ):
            panel = _Panel(emp)
            if rules.outlier_ratio is not None:
                found = _value_rule(panel, file, rules)
                out.append(found)
                errors = found.loc[found["severity"] == "error", "row"]
                if len(errors):  # the other rules judge the panel without the rejected values
                    panel = _Panel(emp[~emp.index.isin(set(errors))])
            if rules.stale or rules.holes:
                out.append(_series_rules(panel, file, rules))
            if rules.total_jump is not None:
                out.append(_total_rule(panel, file, rules))
            if rules.pyramid_ratio is not None and tables.get("workforce_age") is not None:
                out.append(
                    _pyramid_rule(
                        panel, tables["workforce_age"], sources.get("workforce_age", ""), rules
                    )
                )
            if rules.seats_ratio is not None and tables.get("training_offers") is not None:
                out.append(
                    _seats_rule(
                        panel, tables["training_offers"], sources.get("training_offers", ""), rules
                    )
                )
    out = [f for f in out if len(f)]
    return pd.concat(out, ignore_index=True) if out else empty


# ----------------------------------------------------------------------------- periods
def _years(period: pd.Series) -> np.ndarray:
    if isinstance(period.dtype, pd.PeriodDtype):
        return period.dt.year.to_numpy(dtype=np.int64)
    return period.to_numpy(dtype=np.int64)


def _period_rules(t: pd.DataFrame, name: str, file: str, rules: PlausibilityRules) -> pd.DataFrame:
    period = t["period"]
    if not (pd.api.types.is_integer_dtype(period) or isinstance(period.dtype, pd.PeriodDtype)):
        return pd.DataFrame(columns=FINDING_COLUMNS)
    years = _years(period)
    parts = []
    bad = np.zeros(len(t), dtype=bool)
    lo = rules.period_min if rules.period_min is not None else -np.inf
    hi = rules.period_max if rules.period_max is not None else np.inf
    outside = (years < lo) | (years > hi)
    if outside.any():
        parts.append(
            _findings(
                name,
                file,
                t.index[outside],
                "period",
                period[outside].astype(str),
                f"year outside the plausible window {rules.period_min}..{rules.period_max} "
                "(a typo?)",
                "period_window",
                "error",
            )
        )
        bad |= outside
    if rules.max_period_gap is not None and (~bad).sum():
        counts = pd.Series(years[~bad]).value_counts().sort_index()
        ys = counts.index.to_numpy()
        block = np.concatenate([[0], np.cumsum(np.diff(ys) > rules.max_period_gap)])
        rows_per_block = pd.Series(counts.to_numpy()).groupby(block).sum()
        main = int(rows_per_block.idxmax())
        main_years = ys[block == main]
        far = ~bad & ~np.isin(years, main_years)
        if far.any():
            parts.append(
                _findings(
                    name,
                    file,
                    t.index[far],
                    "period",
                    period[far].astype(str),
                    f"year far from the table's other years ({main_years.min()}.."
                    f"{main_years.max()}, more than {rules.max_period_gap} years apart): a typo?",
                    "period_far",
                    "error",
                )
            )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=FINDING_COLUMNS)


# ----------------------------------------------------------------------------- series
class _Panel:
    """The employment panel sorted by series and period, with per-row series facts."""

    def __init__(self, emp: pd.DataFrame):
        keys = ["territory", "occupation"]
        order = emp.sort_values([*keys, "period"], kind="stable")
        self.rows = order.index.to_numpy()
        self.territory = order["territory"].to_numpy(dtype=object)
        self.occupation = order["occupation"].to_numpy(dtype=object)
        self.period = order["period"]
        self.years = (
            order["period"].dt.year.to_numpy()
            if isinstance(order["period"].dtype, pd.PeriodDtype)
            else order["period"].to_numpy(dtype=np.int64)
        )
        self.step = (
            order["period"].to_numpy(dtype=object)
            if isinstance(order["period"].dtype, pd.PeriodDtype)
            else None
        )
        self.ordinal = (
            order["period"].array.asi8 if self.step is not None else self.years.astype(np.int64)
        )
        self.value = order["value"].to_numpy(dtype=float)
        self.series = order.groupby(keys, sort=False).ngroup().to_numpy()
        # ngroup with sort=False numbers groups in order of appearance; rows are sorted by keys,
        # so a new series starts where the code changes
        self.start = np.r_[True, self.series[1:] != self.series[:-1]]
        self.end = np.r_[self.series[1:] != self.series[:-1], True]
        self.n_series = int(self.start.sum())

    def label(self, i: np.ndarray) -> list[str]:
        return [f"{t} x {o}" for t, o in zip(self.territory[i], self.occupation[i], strict=True)]

    def findings(self, file, i, column, values, reason, check, severity="warning") -> pd.DataFrame:
        """Findings on the employment rows at positions ``i`` of the sorted panel."""
        return _findings("employment", file, self.rows[i], column, values, reason, check, severity)


def _series_rules(p: _Panel, file: str, rules: PlausibilityRules) -> pd.DataFrame:
    parts = []
    if rules.stale and p.n_series >= 2:
        last = p.ordinal[p.end]
        # the panel's end: the latest period reached by at least half of the series
        ref = np.sort(last)[(len(last) - 1) // 2]
        ref_label = str(p.period.iloc[np.flatnonzero(p.end)[np.argmax(last == ref)]])
        idx = np.flatnonzero(p.end)
        for off, word, reason, check in (
            (
                last < ref,
                "stops",
                f"series stops before most of the panel, which goes on to {ref_label} "
                "(forecast from its own last year; a file or year missing?)",
                "stale_series",
            ),
            (
                last > ref,
                "ends",
                f"series goes on after most of the panel, which ends in {ref_label} "
                "(a typo in the year?)",
                "late_series",
            ),
        ):
            if off.any():
                i = idx[off]
                years = zip(p.label(i), p.period.iloc[i], strict=True)
                values = [f"{s} {word} in {y}" for s, y in years]
                parts.append(p.findings(file, i, "period", values, reason, check))
    if rules.holes:
        step = np.diff(p.ordinal, prepend=p.ordinal[0])
        hole = ~p.start & (step > 1)
        if hole.any():
            i = np.flatnonzero(hole)
            prev = p.ordinal[i - 1]
            if p.step is None:
                gaps = [
                    f"{s}: {a + 1}" if b - a == 2 else f"{s}: {a + 1}..{b - 1}"
                    for s, a, b in zip(p.label(i), prev, p.ordinal[i], strict=True)
                ]
            else:
                gaps = [
                    f"{s}: {b - a - 1} period(s) before {per}"
                    for s, a, b, per in zip(
                        p.label(i), prev, p.ordinal[i], p.period.iloc[i], strict=True
                    )
                ]
            parts.append(
                p.findings(
                    file,
                    i,
                    "period",
                    gaps,
                    "series has missing years (holes) before this row",
                    "series_holes",
                    "warning",
                )
            )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=FINDING_COLUMNS)


def _group_median(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per-row median of ``values`` within its group (NaN ignored)."""
    s = pd.Series(values)
    return s.groupby(groups).transform("median").to_numpy(dtype=float)


def _value_rule(p: _Panel, file: str, rules: PlausibilityRules) -> pd.DataFrame:
    v = p.value
    ok = np.isfinite(v)
    x = np.where(ok, np.log1p(np.clip(v, 0, None)), np.nan)
    n = pd.Series(ok).groupby(p.series).transform("sum").to_numpy()
    judged = ok & (n >= rules.min_points)
    if not judged.any():
        return pd.DataFrame(columns=FINDING_COLUMNS)
    med = _group_median(x, p.series)
    dev = np.abs(x - med)
    mad = _group_median(dev, p.series) * _MAD_SCALE
    floor = np.log(rules.outlier_ratio)
    thr = np.maximum(rules.outlier_mad * mad, floor)
    med_value = np.expm1(med)
    flag = judged & (dev > thr) & (np.abs(v - med_value) >= rules.outlier_min_jobs)
    if not flag.any():
        return pd.DataFrame(columns=FINDING_COLUMNS)
    severity = np.full(len(v), "warning", dtype=object)
    if rules.outlier_error_ratio is not None:
        # isolated: the neighbours in the series (when any) are near the median
        near = np.where(ok, dev <= floor, True)
        prev_near = np.r_[True, near[:-1]] | p.start
        next_near = np.r_[near[1:], True] | p.end
        error = flag & (dev > np.log(rules.outlier_error_ratio)) & prev_near & next_near
        severity[error] = "error"
    parts = []
    for sev in ("error", "warning"):
        i = np.flatnonzero(flag & (severity == sev))
        if not len(i):
            continue
        factor = (
            "more than "
            + (f"{rules.outlier_error_ratio:g}" if sev == "error" else f"{rules.outlier_ratio:g}")
            + " times"
        )
        parts.append(
            p.findings(
                file,
                i,
                "value",
                [
                    f"{_num(a)} ({s} {y}; series median {_num(m)})"
                    for a, s, y, m in zip(
                        v[i], p.label(i), p.period.iloc[i], med_value[i], strict=True
                    )
                ],
                f"value implausible for its series: {factor} or less than 1/"
                + (
                    f"{rules.outlier_error_ratio:g}"
                    if sev == "error"
                    else f"{rules.outlier_ratio:g}"
                )
                + " of its median (a typo or a unit error?)",
                "implausible_value",
                sev,
            )
        )
    return pd.concat(parts, ignore_index=True)


def _total_rule(p: _Panel, file: str, rules: PlausibilityRules) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "territory": p.territory,
            "ordinal": p.ordinal,
            "value": p.value,
            "pos": np.arange(len(p.value)),
        }
    )
    df["value"] = df["value"].fillna(0.0)
    tot = df.groupby(["territory", "ordinal"], sort=True)["value"].sum().reset_index()
    prev = tot.groupby("territory")["value"].shift()
    consecutive = tot["ordinal"].diff().eq(1) & tot["territory"].eq(tot["territory"].shift())
    use = consecutive & prev.gt(0) & tot["value"].gt(0)
    if use.sum() < 2:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    d = np.log(tot.loc[use, "value"] / prev[use])
    mad = float(np.median(np.abs(d - np.median(d)))) * _MAD_SCALE
    thr = max(rules.total_mad * mad, np.log1p(rules.total_jump))
    moved = (tot.loc[use, "value"] - prev[use]).abs() >= rules.outlier_min_jobs
    jump = d[(np.abs(d) > thr) & moved]
    if not len(jump):
        return pd.DataFrame(columns=FINDING_COLUMNS)
    hits = tot.loc[jump.index, ["territory", "ordinal", "value"]].assign(prev=prev[jump.index])
    # the row that moved most in that territory and year names the jump
    change = np.abs(np.diff(np.nan_to_num(p.value), prepend=0.0))
    change[p.start] = np.nan_to_num(p.value[p.start])
    df["change"] = change
    keyed = df.merge(hits[["territory", "ordinal"]], on=["territory", "ordinal"])
    top = keyed.loc[keyed.groupby(["territory", "ordinal"])["change"].idxmax()]
    hits = hits.merge(top[["territory", "ordinal", "pos"]], on=["territory", "ordinal"])
    i = hits["pos"].to_numpy()
    return p.findings(
        file,
        i,
        "value",
        [
            f"{t} total {_num(a)} -> {_num(b)} in {y} ({b / a - 1:+.0%}); largest change in this row"
            for t, a, b, y in zip(
                hits["territory"], hits["prev"], hits["value"], p.period.iloc[i], strict=True
            )
        ],
        f"a territory's total employment jumps in one year (more than {rules.total_jump:+.0%} "
        "or the reverse): a coverage change, a typo or a unit error?",
        "total_jump",
        "warning",
    )


def _last_jobs(p: _Panel) -> pd.DataFrame:
    """Jobs of each series in its last year."""
    return pd.DataFrame(
        {
            "territory": p.territory[p.end],
            "occupation": p.occupation[p.end],
            "jobs": p.value[p.end],
            "period": p.period.iloc[np.flatnonzero(p.end)].astype(str).to_numpy(),
        }
    )


def _pyramid_rule(
    p: _Panel, age: pd.DataFrame, file: str, rules: PlausibilityRules
) -> pd.DataFrame:
    if not len(age) or not {"territory", "occupation", "value"} <= set(age.columns):
        return pd.DataFrame(columns=FINDING_COLUMNS)
    a = age.reset_index(names="_row")
    cells = a.groupby(["territory", "occupation"], sort=True).agg(
        workers=("value", "sum"), row=("_row", "first")
    )
    both = cells.reset_index().merge(_last_jobs(p), on=["territory", "occupation"])
    both = both[both["jobs"].notna()]
    if not len(both):
        return pd.DataFrame(columns=FINDING_COLUMNS)
    r = rules.pyramid_ratio
    parts = []
    tw, tj = float(both["workers"].sum()), float(both["jobs"].sum())
    if tw > 0 and tj > 0 and not (1 / r <= tw / tj <= r):
        parts.append(
            _findings(
                "workforce_age",
                file,
                ["-"],
                "value",
                [f"{_num(tw)} workers against {_num(tj)} jobs"],
                f"the age pyramids and the employment table differ by more than {r:g} times in "
                "total: not the same unit (thousands?) or territory level?",
                "pyramid_total",
                "warning",
            )
        )
    if parts:  # the whole table is off: one finding, not one per cell
        return parts[0]
    w, j = both["workers"].to_numpy(float), both["jobs"].to_numpy(float)
    big = np.maximum(w, j) >= rules.outlier_min_jobs
    off = big & ((w > r * np.maximum(j, 1)) | (j > r * np.maximum(w, 1)))
    if off.any():
        b = both[off]
        parts.append(
            _findings(
                "workforce_age",
                file,
                b["row"],
                "value",
                [
                    f"{t} x {o}: {_num(x)} workers, {_num(y)} jobs in {per}"
                    for t, o, x, y, per in zip(
                        b["territory"],
                        b["occupation"],
                        b["workers"],
                        b["jobs"],
                        b["period"],
                        strict=True,
                    )
                ],
                f"the age pyramid of this cell and its employment differ by more than {r:g} times",
                "pyramid_cell",
                "warning",
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=FINDING_COLUMNS)


def _seats_rule(
    p: _Panel, offers: pd.DataFrame, file: str, rules: PlausibilityRules
) -> pd.DataFrame:
    if not len(offers) or not {"site", "seats"} <= set(offers.columns):
        return pd.DataFrame(columns=FINDING_COLUMNS)
    jobs = _last_jobs(p).groupby("territory")["jobs"].sum()
    site_jobs = offers["site"].map(jobs)
    seats = pd.to_numeric(offers["seats"], errors="coerce")
    off = (seats > rules.seats_ratio * site_jobs) & site_jobs.notna() & seats.ge(1)
    if not off.any():
        return pd.DataFrame(columns=FINDING_COLUMNS)
    o = offers[off.to_numpy()]
    return _findings(
        "training_offers",
        file,
        o.index,
        "seats",
        [
            f"{_num(s)} seats; {_num(j)} jobs in {site}"
            for s, j, site in zip(seats[off], site_jobs[off], o["site"], strict=True)
        ],
        "more training seats a year than "
        + ("" if rules.seats_ratio == 1 else f"{rules.seats_ratio:g} times ")
        + "the jobs of the offer's site (a unit error: hours or seats over several years?)",
        "seats",
        "warning",
    )
