"""The held-out check of the plan totals in words, for the reports.

``plan_totals_heldout.csv`` holds, per past origin, the plan totals made from the years before
it against what happened; a planner reads one sentence per quantity ("On this study's own past
(origins 2012-2018), the 5-year openings to fill: central figure off by −48 to −11 %, ...").
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from gpec.demand import HELDOUT_COLUMNS
from gpec.report._labels import fmt_number, tr

__all__ = ["HELDOUT_TITLE", "READING", "heldout_lines", "heldout_view"]

#: Title of the block (HTML summary) and of the sheet (workbook).
HELDOUT_TITLE = "Plan totals on the study's own past"

#: What each quantity is called in a sentence.
_WHAT = {"openings_to_fill": "openings to fill", "net_openings": "net openings"}

_SENTENCE = (
    "On this study's own past (origins {origins}, {cells} cells), the {years}-year {what}: "
    "central figure off by {central}, median of the simulated futures by {median}; inside the "
    "{level}% interval {inside} of {n}; the median was the closer figure at {closer} of {n} "
    "origins."
)
_CENTRAL_ONLY = (
    "On this study's own past (origins {origins}, {cells} cells), the {years}-year {what}: "
    "central figure off by {central} (no sample paths: no median, no interval)."
)


_SKIPPED = (
    "{n} series, more than the {limit} up to which [forecast] heldout_check = 'auto' runs it "
    "(it refits the forecaster at up to 4 past origins); heldout_check = 'on' runs it"
)

#: How to read the check, under its sentences.
READING = (
    "Each origin replays the run on the years before it: the forecaster refitted, the openings "
    "computed along its sample paths; what happened is the openings of the employment then "
    "observed (its yearly changes, the same departures rule), summed over the cells observed "
    "throughout. The figure that held on the study's own past is the one to read first for "
    "the plan period; an interval that missed says the uncertainty is larger than shown."
)


def _table(results) -> pd.DataFrame | None:
    table = getattr(results, "plan_totals_heldout", None)
    if table is None or not len(table) or "quantity" not in table.columns:
        return None
    return table


def _info(results) -> dict:
    prov = getattr(results, "provenance", None) or {}
    info = prov.get("plan_totals_heldout")
    return info if isinstance(info, dict) else {}


def _true(value) -> bool:
    """A cell of ``inside``, also as read back from a CSV file."""
    return str(value).strip().lower() in ("true", "1", "1.0", "vrai")


#: Why the check could not run (the messages of gpec.demand.heldout_plan_totals), in French.
_REASONS_FR = (
    (
        re.compile(
            r"held-out check of the plan totals: the employment panel covers (?P<span>\S+) "
            r"\((?P<n>\d+) years\), too short for a check: it needs at least (?P<min>\d+) "
            r"training years \(min_train\) before one held-out year"
        ),
        "l'emploi couvre {span} ({n} ans), trop peu pour ce contrôle : il faut au moins {min} "
        "années pour réestimer les projections avant une année mise de côté",
    ),
    (
        re.compile(
            r"held-out check of the plan totals: no cell is observed throughout the held-out "
            r"years of any origin \((?P<origins>[^)]*)\)"
        ),
        "aucune cellule n'est observée sur toutes les années mises de côté, à aucune origine "
        "({origins})",
    ),
)


def _reason(reason: str, lang: str | None) -> str:
    """Why the check did not run, in the report's language (as recorded when not known)."""
    if lang != "fr":
        return reason
    for pattern, french in _REASONS_FR:
        found = pattern.fullmatch(reason.strip())
        if found:
            return french.format(**found.groupdict())
    return reason


def _missing(value) -> bool:
    """An empty cell of ``inside`` (no interval: the check drew no sample paths)."""
    return value is None or value is pd.NA or str(value).strip().lower() in ("", "nan", "<na>")


def _pct(value: float, lang: str | None) -> str:
    return fmt_number(f"{value:+.0f}%", lang).replace("-", "−")


def _span(values, lang: str | None) -> str:
    """``−48 to −11 %`` (one value: ``−11 %``)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return "—"
    lo, hi = float(values.min()), float(values.max())
    if round(lo) == round(hi):
        return _pct(lo, lang)
    return tr("{low} to {high}", lang).format(low=_pct(lo, lang), high=_pct(hi, lang))


def _range(values) -> str:
    lo, hi = int(np.min(values)), int(np.max(values))
    return str(lo) if lo == hi else f"{lo}-{hi}"


def heldout_lines(results, lang: str | None = None) -> list[str]:
    """Sentences on the held-out check of the plan totals (none when it was switched off).

    One sentence per quantity (openings to fill first) when the check ran, else one saying
    why it did not run (``provenance.toml``, ``plan_totals_heldout``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> t = pd.DataFrame({"origin": [2012, 2014], "years": 5, "cells": [164, 162],
    ...     "quantity": "openings_to_fill", "level": 80.0, "inside": [True, False],
    ...     "central_error_pct": [-10.6, -33.3], "median_error_pct": [3.5, -3.7],
    ...     "observed": 1.0, "central": 1.0, "median": 1.0, "lower": 0.0, "upper": 2.0})
    >>> print(heldout_lines(SimpleNamespace(plan_totals_heldout=t, provenance={}))[0])
    On this study's own past (origins 2012-2014, 162-164 cells), the 5-year openings to fill: central figure off by −33% to −11%, median of the simulated futures by −4% to +4%; inside the 80% interval 1 of 2; the median was the closer figure at 2 of 2 origins.
    """
    table = _table(results)
    info = _info(results)
    if table is None:
        status = info.get("status")
        if status == "skipped" and "series" in info:
            reason = tr(_SKIPPED, lang).format(
                n=fmt_number(f"{int(info['series']):,}", lang),
                limit=fmt_number(f"{int(info.get('limit', 0)):,}", lang),
            )
        elif status in ("skipped", "not possible"):
            reason = _reason(str(info.get("reason", status)), lang)
        else:
            return []
        return [tr("Not run: {reason}", lang).format(reason=reason)]
    lines = []
    order = [q for q in ("openings_to_fill", "net_openings") if q in set(table["quantity"])]
    for quantity in order:
        t = table[table["quantity"] == quantity]
        fields = {
            "origins": _range(t["origin"]),
            "cells": _range(t["cells"]),
            "years": int(t["years"].iloc[0]),
            "what": tr(_WHAT[quantity], lang),
            "central": _span(t["central_error_pct"], lang),
        }
        med = t["median_error_pct"].to_numpy(dtype=float)
        if not np.isfinite(med).any():
            lines.append(tr(_CENTRAL_ONLY, lang).format(**fields))
            continue
        central = np.abs(t["central_error_pct"].to_numpy(dtype=float))
        fields.update(
            median=_span(med, lang),
            level=fmt_number(f"{float(t['level'].iloc[0]):g}", lang),
            inside=int(t["inside"].map(_true).sum()),
            n=len(t),
            closer=int((np.abs(med) < central).sum()),
        )
        lines.append(tr(_SENTENCE, lang).format(**fields))
    return lines


def heldout_view(results) -> pd.DataFrame | None:
    """The check's table as a planner reads it: whole jobs, errors in whole %."""
    table = _table(results)
    if table is None:
        return None
    hidden = {"origin", "years", "level", "n_paths"}  # said in the sentence above the table
    cols = [c for c in HELDOUT_COLUMNS if c not in hidden and c in table.columns]
    view = table[cols].copy()
    if "inside" in view.columns:
        # no sample paths: no interval, so neither inside nor outside (NA; NaN read back)
        view["inside"] = [
            "" if _missing(v) else "yes" if _true(v) else "no" for v in view["inside"]
        ]
    for c in ("observed", "central", "median", "lower", "upper"):
        if c in view.columns:
            view[c] = pd.to_numeric(view[c], errors="coerce").round(0)
    for c in ("central_error_pct", "median_error_pct"):
        if c in view.columns:
            view[c] = pd.to_numeric(view[c], errors="coerce").round(1)
    return view.reset_index(drop=True)
