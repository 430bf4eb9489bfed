"""Ranked summaries shared by the Excel and HTML reports, each row with a one-line reason.

Two openings figures exist and the summaries keep them apart:

* ``openings_to_fill``: the ``openings`` of the gaps table, i.e. each territory x occupation x
  year's openings with negative values counted as 0 (job losses in one cell fill no opening in
  another). ``openings_to_fill = entrants_allocated + gap`` on every row.
* ``net_openings``: the sum of the signed openings of the openings table (creations − losses +
  end-of-career departures, ``= expansion + replacement + turnover``), smaller where jobs are lost.

The job counts of the summary tables are rounded to whole jobs so that the identities above
still hold on the rounded numbers (largest-remainder rounding of the parts of each total).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gpec.report._labels import fmt_number, tr

__all__ = [
    "summary_blocks",
    "assumptions_table",
    "totals_by_period",
    "period_totals",
    "plan_period_totals",
    "horizon_period",
    "block_note",
    "code_labels",
    "with_labels",
    "transitions_labelled",
    "scenario_totals",
]

_GAP_COLS = ["openings", "entrants_allocated", "gap"]

#: One-line explanations printed under the summary blocks (English; translated by tr()).
NOTES = {
    "Totals per year": (
        "openings_to_fill = entrants_allocated + gap. net_openings = net openings (creations − "
        "losses + departures) = expansion + replacement + turnover: it is smaller because job "
        "losses in one territory x occupation fill no opening in another (negative openings "
        "count as 0 in openings_to_fill). Whole jobs, rounded so that the sums hold."
    ),
    "Plan period totals, with bounds": (
        "Openings and gaps summed from the first forecast year to each year (the last row is the "
        "whole plan period). Bounds: when the run drew sample paths, quantiles over the paths of "
        "the total itself, the cells moving together as their yearly changes did (see "
        "provenance: openings_interval); otherwise sums over territories x occupations of each cell's "
        "interval, as if every cell moved together (too wide if they do not). With paths, the "
        "_median columns are the totals half of the simulated futures exceed. The central "
        "figures (every cell on its forecast trend) can sit well below them: along a future, "
        "openings above the trend in one cell or year add to the gap, those below it in "
        "another do not give it back, and the futures carry the backtest's lean."
    ),
    "Occupations with the most openings to fill (whole horizon)": (
        "openings_to_fill counts each territory's openings (negative ones as 0); net_openings = "
        "expansion + replacement nets job losses against creations and departures."
    ),
}


def block_note(title: str, lang: str | None = None) -> str:
    """The one-line note printed under a summary block ("" when none)."""
    note = NOTES.get(title, "")
    return tr(note, lang) if note else ""


def horizon_period(results):
    """Last forecast year (the horizon the summaries speak about)."""
    if results.gaps is not None and len(results.gaps):
        return results.gaps["period"].max()
    if results.openings is not None and len(results.openings):
        return results.openings["period"].max()
    return None


def _round_parts(df: pd.DataFrame, total: str, parts: list[str], decimals: int = 0) -> None:
    """Round ``total`` and ``parts`` in place so that the rounded parts sum to the rounded total.

    The total is rounded as usual; each part is rounded down and the units left over go to the
    parts with the largest remainders (each part moves by less than one unit).
    """
    if not len(df):
        return
    scale = 10.0**decimals
    tot = df[total].to_numpy(dtype=float) * scale
    raw = df[parts].to_numpy(dtype=float) * scale
    ok = np.isfinite(tot) & np.isfinite(raw).all(axis=1)
    tot = np.round(tot)
    out = np.round(raw)  # rows with a missing or infinite value: plain rounding
    floor = np.floor(raw[ok])
    frac = raw[ok] - floor
    n = len(parts)
    left = np.clip(np.round(tot[ok] - floor.sum(axis=1)), -n, n).astype(int)
    for i in range(len(floor)):
        k = left[i]
        if k > 0:
            floor[i, np.argsort(-frac[i], kind="stable")[:k]] += 1
        elif k < 0:  # float noise: the parts exceeded the total
            floor[i, np.argsort(frac[i], kind="stable")[:-k]] -= 1
    out[ok] = floor
    whole = decimals == 0 and bool(ok.all()) and bool((np.abs(tot) < 2.0**53).all())
    df[total] = (tot / scale).astype("int64") if whole else tot / scale
    for j, c in enumerate(parts):
        df[c] = (out[:, j] / scale).astype("int64") if whole else out[:, j] / scale


def _round_columns(df: pd.DataFrame, total: str, parts: list[str], decimals: int = 0) -> None:
    """Like :func:`_round_parts` for a table with a grand total (the totals per year).

    The rounded rows still satisfy ``total = sum(parts)``, and each rounded column also sums to
    the rounded grand total, split into parts as :func:`_round_parts` splits it (running sums
    are rounded, so each row moves by less than one unit, the last part by less than two).
    """
    values = df[[total, *parts]].to_numpy(dtype=float)
    if not len(df) or not np.isfinite(values).all() or np.abs(values).max() >= 2.0**52:
        _round_parts(df, total, parts, decimals)
        return
    scale = 10.0**decimals
    grand = pd.DataFrame([values.sum(axis=0)], columns=[total, *parts])
    _round_parts(grand, total, parts, decimals)
    target = grand.to_numpy(dtype=float)[0] * scale

    def running(col: np.ndarray) -> np.ndarray:
        return np.diff(np.round(np.cumsum(col * scale)), prepend=0.0)

    out = np.empty_like(values)
    out[:, 0] = running(values[:, 0])
    out[-1, 0] += target[0] - out[:, 0].sum()  # 0 but for float noise in the running sum
    for j in range(1, len(parts)):
        out[:, j] = running(values[:, j])
        out[-1, j] += target[j] - out[:, j].sum()
    out[:, len(parts)] = out[:, 0] - out[:, 1 : len(parts)].sum(axis=1)
    for j, c in enumerate([total, *parts]):
        col = out[:, j] / scale
        df[c] = col.astype("int64") if decimals == 0 else col


def _gap_sums(gaps: pd.DataFrame, keys: list[str], decimals: int | None) -> pd.DataFrame:
    """openings_to_fill, entrants_allocated, gap and gap_share summed per ``keys``."""
    t = gaps.groupby(keys, as_index=False, sort=True)[_GAP_COLS].sum()
    t = t.rename(columns={"openings": "openings_to_fill"})
    share = t["gap"] / t["openings_to_fill"].where(t["openings_to_fill"] > 0)
    if decimals is not None:
        _round_parts(t, "openings_to_fill", ["entrants_allocated", "gap"], decimals)
    t["gap_share"] = share
    return t


def period_totals(results, decimals: int | None = None) -> pd.DataFrame:
    """Openings to fill, trained entrants allocated and gap per year, all territories.

    Parameters
    ----------
    results : gpec.pipeline.Results
        A run's results (its ``gaps`` table).
    decimals : int, optional
        Round to this many decimals keeping ``openings_to_fill = entrants_allocated + gap``
        exact on the rounded numbers (``0``: whole jobs, as integers). Default: no rounding.

    Returns
    -------
    DataFrame
        Columns period, openings_to_fill, entrants_allocated, gap, gap_share; one row per year,
        sorted. ``openings_to_fill`` is the gaps table's ``openings`` (negative openings of a
        territory x occupation count as 0), so ``openings_to_fill = entrants_allocated + gap``.

    Examples
    --------
    >>> from gpec.report import period_totals  # doctest: +SKIP
    >>> last = period_totals(results, decimals=0).iloc[-1]  # doctest: +SKIP
    >>> bool(last["openings_to_fill"] == last["entrants_allocated"] + last["gap"])  # doctest: +SKIP
    True
    """
    g = results.gaps
    cols = ["period", "openings_to_fill", "entrants_allocated", "gap", "gap_share"]
    if g is None or not len(g) or not set(_GAP_COLS) <= set(g.columns):
        return pd.DataFrame(columns=cols)
    t = _gap_sums(g, ["period"], None)
    if decimals is not None:
        _round_columns(t, "openings_to_fill", ["entrants_allocated", "gap"], decimals)
    return t[cols].reset_index(drop=True)


def plan_period_totals(results, decimals: int | None = 0) -> pd.DataFrame:
    """Net openings and gap summed from the first forecast year to each year, with bounds.

    Returns
    -------
    DataFrame
        period (last year of the plan period), plan_period (``"2025-2030"``), net_openings,
        net_openings_lower, net_openings_upper (sums over cells of ``openings_cum`` and its
        bounds), gap, gap_lower, gap_upper (of ``gap_cum``); empty when the tables have no
        cumulative columns. When ``results.plan_totals`` holds the intervals of the totals
        drawn from the sample paths, the bounds are those, the paths' medians
        (``net_openings_median``, ``gap_median``) follow the central figures, the openings to
        fill (negative openings as 0; ``openings_to_fill``, its median and bounds) come before
        the gap, and
        ``attrs["bounds"]`` is ``"total"`` (``"sum of cells"`` otherwise).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> op = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2025, 2026],
    ...     "openings_cum": [5.0, 9.0], "openings_cum_lower": [3.0, 5.0],
    ...     "openings_cum_upper": [7.0, 14.0]})
    >>> plan_period_totals(SimpleNamespace(openings=op, gaps=None))["plan_period"].tolist()
    ['2025-2025', '2025-2026']
    """
    cols = ["openings_cum", "openings_cum_lower", "openings_cum_upper"]
    op, g = results.openings, results.gaps
    if op is None or not len(op) or not set(cols) <= set(op.columns):
        return pd.DataFrame()
    t = op.groupby("period", sort=True)[cols].sum(min_count=1)
    t.columns = ["net_openings", "net_openings_lower", "net_openings_upper"]
    gcols = ["gap_cum", "gap_cum_lower", "gap_cum_upper"]
    if g is not None and len(g) and set(gcols) <= set(g.columns):
        gt = g.groupby("period", sort=True)[gcols].sum(min_count=1)
        gt.columns = ["gap", "gap_lower", "gap_upper"]
        t = t.join(gt, how="outer")
    t = t.reset_index()
    first = int(t["period"].min())
    t.insert(1, "plan_period", [f"{first}-{int(p)}" for p in t["period"]])
    t.attrs["bounds"] = "sum of cells"
    pt = getattr(results, "plan_totals", None)
    bounds = ["net_openings_lower", "net_openings_upper", "gap_lower", "gap_upper"]
    if pt is not None and len(pt) and set(bounds) <= set(pt.columns):
        on_total = pt.set_index(pd.to_numeric(pt["period"]).astype(int))
        idx = t["period"].astype(int)
        for col in bounds:
            if col in t.columns:
                t[col] = on_total[col].reindex(idx).to_numpy(dtype=float)
        for col in ("net_openings", "gap"):  # the paths' medians, beside the central figures
            if f"{col}_median" in on_total.columns and col in t.columns:
                median = on_total[f"{col}_median"].reindex(idx).to_numpy(dtype=float)
                t.insert(t.columns.get_loc(col) + 1, f"{col}_median", median)
        fill = [
            "openings_to_fill",
            *(f"openings_to_fill_{k}" for k in ("median", "lower", "upper")),
        ]
        if set(fill) <= set(on_total.columns) and "gap" in t.columns:
            at = t.columns.get_loc("gap")
            for i, col in enumerate(fill):
                t.insert(at + i, col, on_total[col].reindex(idx).to_numpy(dtype=float))
        t.attrs["bounds"] = "total"
    if decimals is not None:
        num = t.columns[2:]
        t[num] = t[num].round(decimals)
    return t


def _net_sums(op: pd.DataFrame, keys: list[str], decimals: int | None) -> pd.DataFrame:
    """net_openings, expansion, replacement (turnover when any) summed per ``keys``."""
    comps = [c for c in ("expansion", "replacement", "turnover") if c in op.columns]
    t = op.groupby(keys, as_index=False, sort=True)[[*comps, "openings"]].sum()
    t = t.rename(columns={"openings": "net_openings"})
    if "turnover" in comps and not t["turnover"].abs().gt(0).any():
        comps.remove("turnover")
        t = t.drop(columns="turnover")
    if decimals is not None:
        additive = np.allclose(
            t[comps].sum(axis=1), t["net_openings"], rtol=1e-9, atol=1e-6 * max(1, len(op))
        )
        if additive and comps and keys == ["period"]:
            _round_columns(t, "net_openings", comps, decimals)
        elif additive and comps:
            _round_parts(t, "net_openings", comps, decimals)
        else:
            t[["net_openings", *comps]] = t[["net_openings", *comps]].round(decimals)
    return t[[*keys, "net_openings", *comps]]


def totals_by_period(results, decimals: int | None = 0) -> pd.DataFrame:
    """Totals per year: openings to fill = allocated entrants + gap, beside the net openings.

    Returns
    -------
    DataFrame
        period, openings_to_fill, entrants_allocated, gap, gap_share (from the gaps table),
        then net_openings, expansion, replacement (turnover when any) and employment (from the
        openings table). Whole jobs by default (``decimals=0``), rounded so that
        ``openings_to_fill = entrants_allocated + gap`` and ``net_openings = expansion +
        replacement + turnover`` hold exactly.

    Examples
    --------
    >>> from gpec.pipeline import run_pipeline
    >>> from gpec.datasets import load_demo
    >>> totals_by_period(run_pipeline(load_demo())).columns[:4].tolist()  # doctest: +SKIP
    ['period', 'openings_to_fill', 'entrants_allocated', 'gap']
    """
    t = period_totals(results, decimals)
    op = results.openings
    if op is not None and len(op) and "openings" in op.columns:
        net = _net_sums(op, ["period"], decimals)
        if "employment" in op.columns:
            emp = op.groupby("period", as_index=False, sort=True)["employment"].sum()
            if decimals is not None:
                emp["employment"] = emp["employment"].round(decimals)
            net = net.merge(emp, on="period", how="left")
        t = net if not len(t) else t.merge(net, on="period", how="outer")
    return t.sort_values("period").reset_index(drop=True) if len(t) else t


def _opening_reason(row, lang) -> str:
    exp = row.get("expansion", 0.0)
    rep = row.get("replacement", 0.0)
    net = row.get("net_openings", 0.0)
    if exp > 0 and net > 0 and exp > rep:
        return tr("growth: job creation is {share} of net openings", lang).format(
            share=fmt_number(f"{exp / net:.0%}", lang)
        )
    if exp > 0 and net > 0:
        return tr("retirements: end-of-career departures are {share} of net openings", lang).format(
            share=fmt_number(f"{rep / net:.0%}", lang)
        )
    return tr("retirements: end-of-career departures, while jobs are lost", lang)


def supply_given(results) -> bool:
    """Whether the run had training supply: entrants from training offers (mapped or not).

    Without it every opening to fill counts as a gap, and the report says the training offer
    was not provided rather than that no local training prepares for the occupation.
    """
    ent = getattr(results, "entrants", None)
    return ent is not None and len(ent) > 0


def _gap_reason(row, lang, supplied: bool = True) -> str:
    openings = row.get("openings_to_fill", 0.0)
    alloc = row.get("entrants_allocated", 0.0)
    if openings <= 0:
        return ""
    if not supplied:
        return tr("no training offer in the inputs: every opening counts as a gap", lang)
    if alloc <= 0:
        return tr("too few trainees: no training offer in the catchment supplies it", lang)
    return tr("too few trainees: local training covers {share} of openings", lang).format(
        share=fmt_number(f"{alloc / openings:.0%}", lang)
    )


def summary_blocks(
    results, top_n: int | None = None, lang: str | None = None
) -> list[tuple[str, pd.DataFrame]]:
    """Ranked lists for the Summary sheet and the report's first section.

    Parameters
    ----------
    results : gpec.pipeline.Results
    top_n : int, optional
        Rows per ranking (default: ``[report] top_n`` of the configuration, else 15).
    lang : {"en", "fr"}, optional
        Language of the ``reason`` sentences (titles stay English keys: translate with tr()).

    Returns
    -------
    list of (title, DataFrame)
        Totals per year; largest gaps per territory; per territory and occupation; occupations
        with the most openings to fill; fastest growing occupations — over the whole horizon,
        the rankings with a one-line ``reason``. Job counts are whole numbers, rounded so that
        ``openings_to_fill = entrants_allocated + gap`` holds on every row.
    """
    top_n = top_n or int(results.config.get("report", {}).get("top_n", 15))
    blocks: list[tuple[str, pd.DataFrame]] = [("Totals per year", totals_by_period(results))]
    plan = plan_period_totals(results)
    if len(plan):
        blocks.append(("Plan period totals, with bounds", plan))
    g, op = results.gaps, results.openings
    has_gaps = g is not None and len(g) and set(_GAP_COLS) <= set(g.columns)
    if has_gaps:
        keys = [c for c in ("territory", "territory_label") if c in g.columns]
        by_terr = _gap_sums(g, keys, None)
        by_terr = by_terr.sort_values(["gap", "territory"], ascending=[False, True])
        by_terr = by_terr.head(top_n).reset_index(drop=True)
        _round_parts(by_terr, "openings_to_fill", ["entrants_allocated", "gap"], 0)
        blocks.append(("Largest gaps per territory (whole horizon)", by_terr))
        okeys = keys + [c for c in ("occupation", "occupation_label") if c in g.columns]
        cell = _gap_sums(g, okeys, None)
        cell = cell.sort_values(["gap"] + okeys, ascending=[False] + [True] * len(okeys))
        cell = cell.head(top_n).reset_index(drop=True)
        supplied = supply_given(results)
        cell["reason"] = [_gap_reason(r, lang, supplied) for r in cell.to_dict("records")]
        _round_parts(cell, "openings_to_fill", ["entrants_allocated", "gap"], 0)
        blocks.append(("Largest gaps per territory and occupation (whole horizon)", cell))
    if op is not None and len(op):
        keys = [c for c in ("occupation", "occupation_label") if c in op.columns]
        occ = _net_sums(op, keys, None)
        if has_gaps:
            fill = g.groupby("occupation", as_index=False)["openings"].sum()
            fill = fill.rename(columns={"openings": "openings_to_fill"})
            occ = occ.merge(fill, on="occupation", how="left")
        else:  # no allocation: the openings to fill, counted as the gaps table would
            fill = op.assign(openings_to_fill=op["openings"].clip(lower=0))
            occ = occ.merge(
                fill.groupby("occupation", as_index=False)["openings_to_fill"].sum(),
                on="occupation",
                how="left",
            )
        occ = occ.sort_values(["openings_to_fill", "occupation"], ascending=[False, True])
        occ = occ.head(top_n).reset_index(drop=True)
        occ["reason"] = [_opening_reason(r, lang) for r in occ.to_dict("records")]
        comps = [c for c in ("expansion", "replacement", "turnover") if c in occ.columns]
        _round_parts(occ, "net_openings", comps, 0)
        occ["openings_to_fill"] = occ["openings_to_fill"].round().astype("int64")
        occ = occ[[*keys, "openings_to_fill", "net_openings", *comps, "reason"]]
        blocks.append(("Occupations with the most openings to fill (whole horizon)", occ))
        if "employment" in op.columns and "expansion" in op.columns:
            first, last = op["period"].min(), op["period"].max()
            e0 = op[op["period"] == first].groupby(keys)["employment"].sum()
            e1 = op[op["period"] == last].groupby(keys)["employment"].sum()
            exp0 = op[op["period"] == first].groupby(keys)["expansion"].sum()
            start = e0 - exp0  # employment in the last observed year
            growth = pd.DataFrame({"employment_start": start, "employment_end": e1})
            growth = growth[growth["employment_start"] > 0]
            growth["growth"] = growth["employment_end"] / growth["employment_start"] - 1
            growth = (
                growth.reset_index()
                .sort_values(["growth", "occupation"], ascending=[False, True])
                .head(top_n)
            )
            for c in ("employment_start", "employment_end"):
                growth[c] = growth[c].round().astype("int64")
            template = tr("growth: {change} employment by {year}", lang)
            growth["reason"] = [
                template.format(change=fmt_number(f"{v:+.1%}", lang), year=last)
                for v in growth["growth"]
            ]
            blocks.append(("Fastest growing occupations", growth))
    return blocks


def _flatten(prefix: str, obj, rows: list) -> None:
    """Rows ``(key, value)`` a planner reads: nested keys joined by dots, a list of tables
    (the ``[[scenarios]]``) one numbered entry each, a list of values joined by commas."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, rows)
    elif isinstance(obj, (list, tuple)) and obj and all(isinstance(v, dict) for v in obj):
        for i, v in enumerate(obj, start=1):
            _flatten(f"{prefix}[{i}]", v, rows)
    elif isinstance(obj, (list, tuple)) and obj:
        rows.append((prefix, ", ".join(str(v) for v in obj)))
    else:
        rows.append((prefix, obj if isinstance(obj, str) else repr(obj)))


def assumptions_table(results) -> pd.DataFrame:
    """Key/value table of the run's configuration, versions, sources, date and seed."""
    rows: list = []
    prov = dict(results.provenance or {})
    if isinstance(prov.get("config"), dict):  # the sources list the files already
        prov["config"] = {k: v for k, v in prov["config"].items() if k != "data"}
    _flatten("", prov, rows)
    return pd.DataFrame(rows, columns=["key", "value"])


def code_labels(results, code: str) -> pd.Series:
    """Label of each code (``code`` in "territory", "occupation", "skill"), as a Series.

    From the input tables of the run when present (``results.data``), completed by the
    ``<code>_label`` columns of the result tables (runs read back without their inputs).
    """
    ref = {"territory": "territories", "occupation": "occupations", "skill": "skills"}[code]
    parts = []
    table = getattr(results.data, ref, None) if results.data is not None else None
    if table is not None and len(table) and {code, "label"} <= set(table.columns):
        parts.append(table[[code, "label"]].rename(columns={"label": f"{code}_label"}))
    for name in ("gaps", "openings", "skill_gaps", "skill_needs", "transitions", "entrants"):
        df = getattr(results, name, None)
        if df is not None and len(df) and {code, f"{code}_label"} <= set(df.columns):
            parts.append(df[[code, f"{code}_label"]])
    if not parts:
        return pd.Series(dtype=object)
    pairs = pd.concat(parts, ignore_index=True).dropna()
    pairs = pairs[pairs[f"{code}_label"].astype(str).str.strip() != ""]
    pairs[code] = pairs[code].astype(str)
    return pairs.drop_duplicates(code).set_index(code)[f"{code}_label"]


def with_labels(df: pd.DataFrame | None, results) -> pd.DataFrame | None:
    """Insert ``territory_label`` / ``occupation_label`` after their codes when missing."""
    if df is None or not len(df):
        return df
    out = df
    for code in ("territory", "occupation"):
        if code not in out.columns or f"{code}_label" in out.columns:
            continue
        labels = code_labels(results, code)
        mapped = out[code].astype(str).map(labels) if len(labels) else None
        if mapped is None or not mapped.notna().any():
            continue
        if out is df:
            out = df.copy()
        out.insert(out.columns.get_loc(code) + 1, f"{code}_label", mapped.to_numpy())
    return out


def _skill_names(codes, skills: pd.Series, max_skills: int | None, lang) -> str:
    if not isinstance(codes, str) or not codes:
        return ""
    parts = [c.strip() for c in codes.split(";") if c.strip()]
    shown = parts if max_skills is None else parts[:max_skills]
    names = [str(skills.get(c, c)) for c in shown]
    more = len(parts) - len(shown)
    tail = " " + tr("(+{n} more)", lang).format(n=more) if more > 0 else ""
    return "; ".join(names) + tail


def transitions_labelled(
    results, *, max_skills: int | None = None, lang: str | None = None
) -> pd.DataFrame | None:
    """The transitions table with ``from_occupation_label`` and ``skills_to_acquire_labels``.

    The labels come from the run's occupations and skills (see :func:`code_labels`); codes
    without a label keep their code.
    """
    t = results.transitions
    if t is None or not len(t):
        return t
    t = with_labels(t, results).copy()
    if "from_occupation" in t.columns and "from_occupation_label" not in t.columns:
        occ = code_labels(results, "occupation")
        t.insert(
            t.columns.get_loc("from_occupation") + 1,
            "from_occupation_label",
            t["from_occupation"].map(lambda c: str(occ.get(str(c), c)) if pd.notna(c) else c),
        )
    if "skills_to_acquire" in t.columns and "skills_to_acquire_labels" not in t.columns:
        skills = code_labels(results, "skill")
        t.insert(
            t.columns.get_loc("skills_to_acquire") + 1,
            "skills_to_acquire_labels",
            t["skills_to_acquire"].map(lambda c: _skill_names(c, skills, max_skills, lang)),
        )
    return t


def scenario_totals(results, config: dict | None = None) -> pd.DataFrame:
    """Openings to fill, allocated entrants and gap of each scenario over the whole horizon.

    Whole jobs (``openings_to_fill = entrants_allocated + gap`` on every row, the baseline row
    equal to the sums of :func:`totals_by_period`); ``gap_change`` is the scenario's gap minus
    the baseline's; ``description`` joins the configured descriptions.
    """
    sc = results.scenarios
    if sc is None or not len(sc) or not set(_GAP_COLS) <= set(sc.columns):
        return pd.DataFrame()
    s = sc.groupby("scenario", as_index=False, sort=False)[_GAP_COLS].sum()
    s = s.rename(columns={"openings": "openings_to_fill"})
    _round_parts(s, "openings_to_fill", ["entrants_allocated", "gap"], 0)
    base = s.loc[s["scenario"] == "baseline", "gap"]
    if len(base):
        s["gap_change"] = s["gap"] - base.iloc[0]
    desc: dict[str, list[str]] = {}
    for entry in (config if config is not None else results.config or {}).get("scenarios", []):
        if entry.get("description"):
            desc.setdefault(entry["name"], []).append(str(entry["description"]))
    if desc:
        s["description"] = s["scenario"].map(lambda n: "; ".join(desc.get(n, [])))
    return s
