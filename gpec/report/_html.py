"""The self-contained HTML report (``report.html``): no network resource, charts embedded."""

from __future__ import annotations

import html
import os
from pathlib import Path

import pandas as pd

from gpec.report import _plots
from gpec.report._format import html_format
from gpec.report._heldout import HELDOUT_TITLE, READING, heldout_lines, heldout_view
from gpec.report._labels import fmt_number, header, tr, translate_values
from gpec.report._summary import (
    assumptions_table,
    block_note,
    plan_period_totals,
    scenario_totals,
    summary_blocks,
    supply_given,
    transitions_labelled,
)

__all__ = ["write_html"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;color:#222;
background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:1.5rem 2rem;background:#fff}
h1{color:#1f3b5c;margin-bottom:.2rem} h2{color:#1f3b5c;border-bottom:2px solid #dde6f0;
padding-bottom:.2rem;margin-top:2.2rem} .sub{color:#666;margin-top:0}
table{border-collapse:collapse;font-size:.82rem;margin:.6rem 0 1rem}
th,td{border:1px solid #dde6f0;padding:.25rem .5rem;text-align:left}
th{background:#dde6f0} td.n{text-align:right;font-variant-numeric:tabular-nums}
nav ol{columns:2} figure{margin:.5rem 0} figure svg,figure img{max-width:100%;height:auto}
.scroll{overflow-x:auto}
.note{background:#fff8e1;border-left:4px solid #f1c40f;padding:.5rem .8rem;font-size:.9rem}
.kpi{display:flex;gap:1rem;flex-wrap:wrap}.kpi div{background:#eef3f9;padding:.6rem 1rem;
border-radius:6px}.kpi b{display:block;font-size:1.4rem;color:#1f3b5c}
"""


def _table(df: pd.DataFrame, lang: str | None, max_rows: int = 30) -> str:
    """An HTML table; numbers formatted per column (same decimals down a column).

    Rates and shares are percentages, ratios such as MASE three decimals (see
    :mod:`gpec.report._format`); headers and coded values are translated with ``lang``.
    """
    if df is None or not len(df):
        return f"<p>{html.escape(tr('(no rows)', lang))}</p>"
    df = translate_values(df.head(max_rows), lang)
    head = "".join(f"<th>{html.escape(header(c, lang))}</th>" for c in df.columns)
    formats = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            continue
        integer = pd.api.types.is_integer_dtype(s.dtype)
        formats[c] = html_format(str(c), s, integer=integer)
    rows = []
    for rec in df.to_dict("records"):
        cells = []
        for c in df.columns:
            v = rec[c]
            if c in formats:
                txt = "" if v is None or pd.isna(v) else fmt_number(formats[c].format(v), lang)
                cells.append(f'<td class="n">{txt}</td>')
            else:
                cells.append(f"<td>{html.escape('' if v is None else str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _label(df: pd.DataFrame, code: str) -> str:
    return f"{code}_label" if f"{code}_label" in df.columns else code


def _pick_series(results):
    """Territory x occupation shown in the fan chart: configured, else the largest gap."""
    rep = results.config.get("report", {})
    g = results.gaps
    t, o = rep.get("territory") or None, rep.get("occupation") or None
    if (t is None or o is None) and g is not None and len(g):
        cell = g.groupby(["territory", "occupation"])["gap"].sum().sort_values(ascending=False)
        if len(cell):
            t0, o0 = cell.index[0]
            t, o = t or t0, o or o0
    return t, o


def write_html(results, path: str | os.PathLike, *, lang: str | None = None) -> Path:
    """Write the HTML report: summary, charts, tables, backtest accuracy and assumptions.

    Parameters
    ----------
    results : gpec.pipeline.Results
        The run's results (or what :func:`gpec.report.load_results` read back).
    path : path-like
        Output ``.html`` file (self-contained: no external resource).
    lang : {"en", "fr"}, optional
        Language of the report (default: the config's ``[run] lang``).

    Returns
    -------
    Path

    Examples
    --------
    >>> from gpec.datasets import load_demo  # doctest: +SKIP
    >>> from gpec.pipeline import run_pipeline  # doctest: +SKIP
    >>> write_html(run_pipeline(load_demo()), "rapport.html", lang="fr")  # doctest: +SKIP
    PosixPath('rapport.html')
    """
    lang = lang or results.config.get("run", {}).get("lang", "en")
    name = results.config.get("run", {}).get("name", "gpec")
    builders = (
        _summary_section,
        _forecast_section,
        _openings_section,
        _gaps_section,
        _supply_section,
        _skills_section,
        _transitions_section,
        _accuracy_section,
        _scenarios_section,
        _assumptions_section,
    )
    # (anchor, title, body) of each section with something to show, in report order
    sections = [s for s in (build(results, lang) for build in builders) if s is not None]
    doc = _document(name, lang, sections, results.provenance or {})
    path = Path(path)
    path.write_text(doc, encoding="utf-8")
    return path


def _num(v, lang: str | None) -> str:
    """A whole number with thousands separators in the report's language."""
    return fmt_number(f"{v:,.0f}", lang)


def _kpi_html(results, totals: pd.DataFrame, lang: str | None) -> str:
    """The headline figures: sums of the "Totals per year" table; under the openings to fill
    and the gap, the plan period's interval and, with sample paths, their median."""
    if not len(totals) or "openings_to_fill" not in totals.columns:
        return ""
    t = totals.sum(numeric_only=True)
    first, last = int(totals["period"].min()), int(totals["period"].max())
    plan = plan_period_totals(results, decimals=None)
    what = "interval of the total" if plan.attrs.get("bounds") == "total" else None
    what = html.escape(tr(what or "sum of the cells’ bounds", lang))
    median_of = html.escape(tr("median of the simulated futures", lang))
    semicolon = " ;" if lang == "fr" else ";"
    supplied = supply_given(results)
    no_supply = "training offers not provided"

    def under(col: str, value: float) -> str:
        """The plan period's interval of a total, then the paths' median when drawn. The
        headline ``value`` sums the rounded yearly rows: the shown interval contains it."""
        if not len(plan) or f"{col}_lower" not in plan.columns:
            return ""
        end = plan.iloc[-1]
        if pd.isna(end[f"{col}_lower"]) or pd.isna(end[f"{col}_upper"]):
            return ""
        low, high = min(end[f"{col}_lower"], value), max(end[f"{col}_upper"], value)
        text = f"{what} {_num(low, lang)} – {_num(high, lang)}"
        if pd.notna(end.get(f"{col}_median", float("nan"))):
            text += f"{semicolon} {median_of} {_num(end[f'{col}_median'], lang)}"
        return f"<br><small>{text}</small>"

    kpis = [  # (label, value or None when not known, what is written under it)
        (
            tr("openings to fill {first}-{last}", lang).format(first=first, last=last),
            t["openings_to_fill"],
            under("openings_to_fill", t["openings_to_fill"]),
        ),
        (
            tr("covered by local training", lang),
            t["entrants_allocated"] if supplied else None,
            "" if supplied else f"<br><small>{html.escape(tr(no_supply, lang))}</small>",
        ),
        (
            tr("gap (not covered)", lang),
            t["gap"] if supplied else None,  # not a shortage: nothing was set against it
            under("gap", t["gap"])
            if supplied
            else f"<br><small>{html.escape(tr(no_supply, lang))}</small>",
        ),
    ]
    if "replacement" in totals.columns:
        kpis.insert(1, (tr("end-of-career departures", lang), t["replacement"], ""))
    return (
        '<div class="kpi">'
        + "".join(
            f"<div><b>{'—' if v is None else _num(v, lang)}</b>{html.escape(k)}{u}</div>"
            for k, v, u in kpis
        )
        + "</div><p>"
        + html.escape(
            tr(
                "Sums of the Totals per year table below: openings to fill = covered by "
                "local training + gap.",
                lang,
            )
        )
        + "</p>"
    )


def _summary_section(results, lang: str | None):
    """The headline figures, then the summary tables with their notes."""
    blocks = summary_blocks(results, lang=lang)
    body = _kpi_html(results, blocks[0][1], lang)
    heldout = _heldout_html(results, lang)
    for title, df in blocks:
        if df is None or not len(df):
            continue
        note = block_note(title, lang)
        body += f"<h3>{html.escape(tr(title, lang))}</h3>{_table(df, lang)}"
        if note:
            body += f'<p class="sub">{html.escape(note)}</p>'
        if title == "Plan period totals, with bounds":  # the check beside what it checks
            body, heldout = body + heldout, ""
    return ("summary", "Summary", body + heldout)


def _heldout_html(results, lang: str | None) -> str:
    """The held-out check of the plan totals: one sentence per quantity and its table ("" when
    the check was switched off)."""
    lines = heldout_lines(results, lang)
    if not lines:
        return ""
    body = f"<h3>{html.escape(tr(HELDOUT_TITLE, lang))}</h3>"
    body += "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    view = heldout_view(results)
    if view is not None:
        body += _table(view, lang) + f'<p class="sub">{html.escape(tr(READING, lang))}</p>'
    return body


def _forecast_section(results, lang: str | None):
    """The fan chart of one territory x occupation (configured, else the largest gap)."""
    t, o = _pick_series(results)
    hist = results.data.employment if results.data is not None else None
    fc = results.forecast
    if t is None or hist is None or fc is None or not len(fc):
        return None
    h = hist[(hist["territory"] == t) & (hist["occupation"] == o)]
    f = fc[(fc["territory"] == t) & (fc["occupation"] == o)]
    tl = _lookup(results, "territories", "territory", t)
    ol = _lookup(results, "occupations", "occupation", o)
    model = f["model"].iloc[0] if len(f) else ""
    fig = _plots.fan_chart(h, f, f"{ol} — {tl}", lang=lang)
    body = tr(
        "<p>Employment history and forecast for <b>{occupation}</b> in <b>{territory}</b> "
        "(model: {model}), with its prediction intervals. Choose another series with "
        "<code>[report] territory</code> and <code>occupation</code> in the configuration.</p>",
        lang,
    ).format(
        occupation=html.escape(str(ol)),
        territory=html.escape(str(tl)),
        model=html.escape(str(model)),
    ) + _plots.figure_html(fig, alt=tr("forecast fan chart", lang))
    return ("forecast", "Employment forecast", body)


def _openings_section(results, lang: str | None):
    """Net openings per year, split into expansion and replacement."""
    op = results.openings
    if op is None or not len(op):
        return None
    fig = _plots.openings_chart(op, tr("Net openings per year, all territories", lang), lang)
    body = tr(
        "<p>Net openings = expansion (net change in employment) + replacement (end-of-career "
        "departures computed by ageing each age pyramid). They are negative where job losses "
        "exceed departures; the openings to fill of the gaps count such cells as 0, so their "
        "total is higher. The first year's expansion is the step from the last observed year "
        "to the first forecast: it carries each series' return to the level the models read "
        "in its history, larger cell by cell than a year's trend, so the first year's openings "
        "to fill and gap can stand above the next year's: read the plan period totals of the "
        "summary.</p>",
        lang,
    ) + _plots.figure_html(fig, alt=tr("openings decomposition", lang))
    return ("openings", "Net openings: expansion and replacement", body)


def _gaps_section(results, lang: str | None):
    """The largest gaps per territory, and the gap share heatmap territory x occupation."""
    g = results.gaps
    if g is None or not len(g):
        return None
    lab = _label(g, "territory")
    keys = ["territory"] + ([lab] if lab != "territory" else [])
    by_t = g.groupby(keys, as_index=False)[["openings", "entrants_allocated", "gap"]].sum()
    by_t = by_t.sort_values(["gap", "territory"], ascending=[False, True]).head(20)
    fig = _plots.gap_ranking_chart(
        by_t, tr("Largest gaps per territory (whole horizon)", lang), lab, lang
    )
    body = _plots.figure_html(fig, alt=tr("gap ranking", lang))
    olab = _label(g, "occupation")
    cell = g.groupby([lab, olab])[["gap", "openings"]].sum()
    share = (cell["gap"] / cell["openings"].where(cell["openings"] > 0)).unstack()
    top_occ = g.groupby(olab)["gap"].sum().sort_values(ascending=False).head(30).index
    top_terr = by_t[lab].head(25)
    matrix = share.reindex(index=top_terr, columns=top_occ)
    fig = _plots.gap_heatmap(
        matrix, tr("Gap share (gap / openings), territory x occupation", lang), lang
    )
    body += tr(
        "<p>Share of openings not covered by the local training offer (the "
        "<i>déséquilibre potentiel</i> of Métiers 2030): a signal, not a shortage "
        "forecast — openings may also be filled by mobility and job seekers. The lower end "
        "of an interval is often the central figure itself, for two reasons: a cell's gap "
        "is never below 0, so openings above the forecast add more to it than openings below "
        "take away; and where the backtest forecasts came out below the outcomes more often "
        "than above, the simulated futures lean above the central forecast. Most simulated "
        "gaps then lie above the central gap, and the interval is widened to contain it.</p>",
        lang,
    ) + _plots.figure_html(fig, fmt="png", alt=tr("gap heatmap", lang))
    return ("gaps", "Gaps per territory", body)


def _supply_section(results, lang: str | None):
    """How the training offers reached occupations (the mapping quality table)."""
    mq = results.mapping_quality
    if mq is None or not len(mq) or "offers" not in mq.columns or not mq["offers"].sum() > 0:
        return None
    body = tr(
        "<p>How the seats of the training offers reached occupations: by their "
        "codes (ROME, RNCP, Formacode), by text matching of their titles, or not "
        "at all (unmapped seats train no one for an opening here; they stay in "
        "surplus.csv). Offers matched by text with a low certainty are counted in "
        "<code>to_review</code>; mapping_review.csv lists them.</p>",
        lang,
    ) + _table(mq, lang)
    return ("supply", "Training offers mapped to occupations", body)


def _skills_section(results, lang: str | None):
    """The skills with the largest gaps: need against allocated supply."""
    sg = results.skill_gaps
    if sg is None or not len(sg):
        return None
    slab = _label(sg, "skill")
    top = (
        sg.groupby(slab, as_index=False)[["need", "supply_allocated", "gap"]]
        .sum()
        .sort_values("gap", ascending=False)
        .head(20)
    )
    fig = _plots.skill_chart(
        top, tr("Skills: need against supply (whole horizon)", lang), slab, lang
    )
    body = _plots.figure_html(fig, alt=tr("skills chart", lang)) + _table(top, lang)
    return ("skills", "Skill needs against training supply", body)


def _transitions_section(results, lang: str | None):
    """Reconversion paths towards the largest gaps."""
    tr_ = results.transitions
    if tr_ is None or not len(tr_):
        return None
    body = tr(
        "<p>For the largest gaps: occupations losing jobs in the same territory "
        "whose skills are closest (weighted Jaccard overlap), with the skills "
        "to acquire. Full list in transitions.csv.</p>",
        lang,
    ) + _table(_transitions_view(results, lang), lang, max_rows=20)
    return ("transitions", "Reconversion paths", body)


def _accuracy_section(results, lang: str | None):
    """The backtest summary (else the full backtest), always shown."""
    bs = results.backtest_summary
    if bs is None or not len(bs):
        bs = results.backtest
    body = tr(
        "<p>Every model is backtested on the history (rolling origin): each past year is "
        "forecast with the data before it only, and the error is measured. The chosen "
        "method (<code>auto</code>) is shown beside the naive (no change) and constant-share "
        "baselines. <code>mase_vs_naive</code> below 1 means more accurate than the naive "
        "forecast; <code>coverage_80</code> is the share of backtest values that fell inside "
        "the 80% interval.</p>",
        lang,
    ) + _table(bs, lang, max_rows=40)
    return ("accuracy", "Forecast accuracy (backtest)", body)


def _scenarios_section(results, lang: str | None):
    """Each scenario's totals over the horizon against the baseline."""
    sc = results.scenarios
    if sc is None or not len(sc):
        return None
    body = tr(
        "<p>Totals over the horizon, all territories and occupations; "
        "<code>gap_change</code> is the scenario's gap minus the baseline's "
        "(negative: a smaller gap).</p>",
        lang,
    ) + _table(scenario_totals(results), lang)
    return ("scenarios", "Scenarios", body)


def _assumptions_section(results, lang: str | None):
    """The method in short, the caveat, and the run's assumptions table."""
    body = (
        tr(
            "<p>Method: employment forecasts per territory x occupation (model chosen per series "
            "from a rolling-origin backtest, intervals calibrated on backtest errors); openings = "
            "expansion + replacement (BLS; France Stratégie/DARES <i>Les métiers en 2030</i>); "
            "qualified entrants = seats x completion rate x placement rate; entrants allocated to "
            "openings inside each site's catchment by a min-cost flow (HiGHS), nearer first; "
            "gap = openings to fill - allocated entrants (negative openings count as 0); skill "
            "gaps through the occupation-skill matrix. See docs/methodology.md.</p>",
            lang,
        )
        + tr(
            '<p class="note">Projections extend past trends: they are a decision aid, not a '
            "prediction. Small cells are flagged (<code>flag_small</code>).</p>",
            lang,
        )
        + _table(assumptions_table(results), lang, max_rows=200)
    )
    return ("assumptions", "Assumptions and methodology", body)


def _document(name: str, lang: str | None, sections: list, prov: dict) -> str:
    """The whole page: title, run line, table of contents and the sections."""
    toc = (
        f"<nav><h2>{html.escape(tr('Contents', lang))}</h2><ol>"
        + "".join(
            f'<li><a href="#{a}">{html.escape(tr(title, lang))}</a></li>'
            for a, title, _ in sections
        )
        + "</ol></nav>"
    )
    content = "".join(
        f'<section id="{a}"><h2>{html.escape(tr(title, lang))}</h2>{b}</section>'
        for a, title, b in sections
    )
    run_date = prov.get("run_date", "")
    version = prov.get("versions", {}).get("gpec", "")
    return (
        f'<!DOCTYPE html><html lang="{lang or "en"}"><head><meta charset="utf-8">'
        f"<title>{html.escape(name)}</title><style>{_CSS}</style></head><body><main>"
        f'<h1>{html.escape(name)}</h1><p class="sub">gpec {html.escape(str(version))} — '
        f"{html.escape(tr('run', lang))} {html.escape(str(run_date))}</p>{toc}{content}"
        "</main></body></html>"
    )


def _lookup(results, table: str, code: str, value) -> str:
    data = results.data
    ref = getattr(data, table, None) if data is not None else None
    if ref is None:
        return str(value)
    hit = ref.loc[ref[code] == value, "label"]
    return str(hit.iloc[0]) if len(hit) else str(value)


def _transitions_view(results, lang: str | None = None) -> pd.DataFrame:
    """Reconversion paths of the largest gaps, with labels instead of codes."""
    t = transitions_labelled(results, max_skills=4, lang=lang)
    t = t.sort_values(["gap", "overlap"], ascending=[False, False]).head(20)
    return pd.DataFrame(
        {
            "territory_label": t.get("territory_label", t["territory"]),
            "occupation_label": t.get("occupation_label", t["occupation"]),
            "gap": t["gap"],
            "from_occupation": t["from_occupation_label"],
            "jobs_lost": t.get("jobs_lost"),
            "overlap": t["overlap"],
            "skills_to_acquire": t["skills_to_acquire_labels"],
        }
    )
