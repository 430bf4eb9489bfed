"""The planners' summaries add up, speak French when asked, format numbers by kind, show labels.

One demo run (default configuration) shared by the module; the reports are written once per
language.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from gpec.config import resolve_config
from gpec.datasets import load_demo
from gpec.pipeline import run_pipeline
from gpec.report import _summary, write_excel, write_html
from gpec.report._format import column_kind, excel_format, html_format
from gpec.report._html import _table
from gpec.report._summary import (
    period_totals,
    scenario_totals,
    summary_blocks,
    totals_by_period,
    transitions_labelled,
)


@pytest.fixture(scope="module")
def results():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_pipeline(load_demo(), resolve_config({}))


@pytest.fixture(scope="module")
def reports(results, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    # the workbook of a lighter copy (the first rows of the long tables): reading the whole
    # demo workbook back with openpyxl takes longer than writing it
    small = dataclasses.replace(
        results,
        **{
            name: getattr(results, name).head(300)
            for name in ("gaps", "openings", "forecast", "skill_gaps", "entrants", "scenarios")
        },
    )
    return {
        "html_en": write_html(results, out / "report.html", lang="en").read_text("utf-8"),
        "html_fr": write_html(results, out / "rapport.html", lang="fr").read_text("utf-8"),
        "xlsx_fr": load_workbook(write_excel(small, out / "rapport.xlsx", lang="fr")),
    }


# ----------------------------------------------------------------------------- 1. identities
def test_totals_per_year_add_up(results):
    raw = results.gaps.groupby("period")[["openings", "entrants_allocated", "gap"]].sum()
    t = totals_by_period(results).set_index("period")
    assert list(t.index) == sorted(raw.index)
    # openings to fill = allocated + gap, exactly, on the whole jobs shown
    assert (t["openings_to_fill"] == t["entrants_allocated"] + t["gap"]).all()
    # ... and each figure within one job of the unrounded sums of the gaps table
    assert np.abs(t["openings_to_fill"] - raw["openings"]).max() < 1
    assert np.abs(t["entrants_allocated"] - raw["entrants_allocated"]).max() < 1
    assert np.abs(t["gap"] - raw["gap"]).max() < 2
    # the net figure is a separate column with its own identity, never above the openings to fill
    parts = [c for c in ("expansion", "replacement", "turnover") if c in t.columns]
    assert (t["net_openings"] == t[parts].sum(axis=1)).all()
    net = results.openings.groupby("period")["openings"].sum()
    assert np.abs(t["net_openings"] - net).max() < 1
    assert (t["openings_to_fill"] >= t["net_openings"]).all()
    # the columns sum to the rounded grand totals (the headline and the scenario baseline)
    assert t["openings_to_fill"].sum() == round(raw["openings"].sum())
    # 2025 of the audit: net 9,182 was shown beside a gap of 9,157 (9,182 - 1,421 != 9,157)
    first = t.iloc[0]
    assert first["openings_to_fill"] > first["net_openings"]
    assert first["openings_to_fill"] - first["entrants_allocated"] == first["gap"]


def test_period_totals_for_the_cli(results):
    exact = period_totals(results)
    assert list(exact.columns) == [
        "period",
        "openings_to_fill",
        "entrants_allocated",
        "gap",
        "gap_share",
    ]
    np.testing.assert_allclose(
        exact["openings_to_fill"], exact["entrants_allocated"] + exact["gap"], rtol=1e-12
    )
    whole = period_totals(results, decimals=0)
    assert whole["openings_to_fill"].dtype == "int64"
    last = whole.iloc[-1]
    assert last["openings_to_fill"] == last["entrants_allocated"] + last["gap"]
    assert abs(last["openings_to_fill"] - exact["openings_to_fill"].iloc[-1]) < 1


def test_summary_blocks_rows_add_up(results):
    blocks = dict(summary_blocks(results))
    for title in (
        "Largest gaps per territory (whole horizon)",
        "Largest gaps per territory and occupation (whole horizon)",
    ):
        b = blocks[title]
        assert len(b) and (b["openings_to_fill"] == b["entrants_allocated"] + b["gap"]).all()
    occ = blocks["Occupations with the most openings to fill (whole horizon)"]
    parts = [c for c in ("expansion", "replacement", "turnover") if c in occ.columns]
    assert (occ["net_openings"] == occ[parts].sum(axis=1)).all()
    assert occ["openings_to_fill"].is_monotonic_decreasing
    assert occ["reason"].str.match(r"^(growth|retirements): ").all()


def test_headline_is_the_table_total(results, reports):
    totals = totals_by_period(results)
    html = reports["html_en"]
    m = re.search(
        r"<div><b>([\d,]+)</b>openings to fill (\d{4})-(\d{4})(?:<br><small>([^<]*)</small>)?</div>",
        html,
    )
    assert m, "headline missing"
    assert int(m.group(1).replace(",", "")) == totals["openings_to_fill"].sum()
    assert (int(m.group(2)), int(m.group(3))) == (totals["period"].min(), totals["period"].max())
    for caption, col in (
        ("covered by local training", "entrants_allocated"),
        ("gap (not covered)", "gap"),
        ("end-of-career departures", "replacement"),
    ):
        hit = re.search(
            rf"<div><b>([\d,]+)</b>{re.escape(caption)}(?:<br><small>[^<]*</small>)?</div>", html
        )
        assert hit and int(hit.group(1).replace(",", "")) == totals[col].sum(), caption
    # the plan-period gap comes with the interval of the total itself (quantiles over the
    # sample paths of the gap summed over cells and years), written to plan_totals.csv
    g = results.gaps
    end = g[g["period"] == g["period"].max()]
    b = re.search(
        r"gap \(not covered\)<br><small>interval of the total ([\d,]+) – ([\d,]+); "
        r"median of the simulated futures ([\d,]+)</small>",
        html,
    )
    assert b, "plan-period bounds missing"
    got = [int(v.replace(",", "")) for v in b.groups()]
    pt = results.plan_totals
    last = pt[pt["period"] == pt["period"].max()].iloc[0]
    assert got == pytest.approx([last["gap_lower"], last["gap_upper"], last["gap_median"]], abs=1)
    median = got.pop()
    assert got[0] <= median <= got[1]
    assert got[0] <= totals["gap"].sum() <= got[1]
    # the openings to fill: the plan period's interval and median of the paths, and the
    # central total of plan_totals.csv is the headline's (the gaps table summed)
    fill = [int(v.replace(",", "")) for v in re.findall(r"[\d,]{2,}", m.group(4) or "")]
    assert fill == pytest.approx(
        [
            last["openings_to_fill_lower"],
            last["openings_to_fill_upper"],
            last["openings_to_fill_median"],
        ],
        abs=1,
    ), m.group(4)
    assert last["openings_to_fill"] == pytest.approx(totals["openings_to_fill"].sum(), abs=1)
    # cells move together only partly: the total's interval is inside the sum of the cells'
    # bounds (every cell at its own upper bound at once), and much narrower than it
    lockstep = [end["gap_cum_lower"].sum(), end["gap_cum_upper"].sum()]
    assert lockstep[0] - 1 <= got[0] and got[1] <= lockstep[1] + 1
    assert got[1] - got[0] < 0.8 * (lockstep[1] - lockstep[0])
    # the net figure is named apart and explained under the table
    assert "net_openings" in html and "creations − losses + departures" in html


def test_round_parts_keeps_sums():
    df = pd.DataFrame(
        {
            "total": [10.6, 3.0, np.nan, 2.5, -1.2],
            "a": [5.3, 1.5, 1.0, 0.4, 2.0],
            "b": [5.3, 1.5, 2.0, 2.1, -3.2],
        }
    )
    _summary._round_parts(df, "total", ["a", "b"])
    ok = df["total"].notna()
    assert (df.loc[ok, "total"] == df.loc[ok, "a"] + df.loc[ok, "b"]).all()
    assert df["total"].tolist()[:2] == [11, 3] and df.loc[2, "a"] == 1
    per_year = pd.DataFrame({"t": [1.4, 1.4, 1.4], "a": [0.7, 0.7, 0.7], "b": [0.7, 0.7, 0.7]})
    _summary._round_columns(per_year, "t", ["a", "b"])
    assert (per_year["t"] == per_year["a"] + per_year["b"]).all()
    assert per_year["t"].sum() == 4 and per_year["a"].sum() + per_year["b"].sum() == 4


def test_scenario_baseline_matches_the_totals():
    class R:  # the few attributes scenario_totals and totals_by_period read
        config: dict = {}
        openings = None

    rng = np.random.default_rng(1)
    n = 40
    gaps = pd.DataFrame(
        {
            "territory": [f"{i % 4:02d}" for i in range(n)],
            "occupation": [f"A{i % 5}" for i in range(n)],
            "period": 2025 + np.arange(n) % 3,
            "openings": rng.gamma(2.0, 7.3, n),
        }
    )
    gaps["entrants_allocated"] = gaps["openings"] * rng.uniform(0, 1, n)
    gaps["gap"] = gaps["openings"] - gaps["entrants_allocated"]
    r = R()
    r.gaps = gaps
    r.scenarios = pd.concat([gaps.assign(scenario="baseline"), gaps.assign(scenario="x")])
    s = scenario_totals(r).set_index("scenario")
    t = totals_by_period(r)
    for col in ("openings_to_fill", "entrants_allocated", "gap"):
        assert s.loc["baseline", col] == t[col].sum(), col
    assert s.loc["x", "gap_change"] == 0


# ----------------------------------------------------------------------------- 2. French
ENGLISH = [
    "Summary",
    "Totals per year",
    "Largest gaps per territory",
    "Occupations with the most openings",
    "Fastest growing occupations",
    "openings to fill",
    "end-of-career departures",
    "covered by local training",
    "gap (not covered)",
    "too few trainees",
    "growth:",
    "retirements:",
    "Employment forecast",
    "Employment history and forecast",
    "Net openings",
    "Gaps per territory",
    "Gap share",
    "Skill needs against training supply",
    "Reconversion paths",
    "Forecast accuracy",
    "Every model is backtested",
    "Assumptions and methodology",
    "Projections extend past trends",
    "Contents",
    "bmo_",
    "entrants_allocated",
    "openings_to_fill",
    "net_openings",
    "mase_vs_naive",
    "win_vs_naive",
    "coverage_80",
    "replacement (end-of-career departures)",
    "expansion (growth)",
    "jobs per year",
    "supplied by training",
    "80% interval",
    "(no rows)",
]


def test_french_html_has_no_english_headings(reports):
    html = reports["html_fr"]
    # matplotlib writes each chart text as an SVG comment: the chart labels are checked too
    found = [s for s in ENGLISH if s in html]
    assert not found, found
    for fr in ("Totaux par année", "postes à pourvoir", "Synthèse", "écart (non couvert)"):
        assert fr in html
    # French number typography: 12 345 (narrow no-break space), 87 %
    assert re.search(r"<b>\d{1,3}\u202f\d{3}</b>postes à pourvoir", html)


def test_french_workbook_has_no_english_labels(reports):
    wb = reports["xlsx_fr"]
    assert wb.sheetnames[:3] == ["Synthèse", "Écarts", "Écarts compétences"]
    texts = {
        c.value
        for ws in wb.worksheets
        for row in ws.iter_rows(max_row=60)
        for c in row
        if isinstance(c.value, str)
    }
    gaps_header = [c.value for c in wb["Écarts"][1]]
    assert "BMO : projets de recrutement" in gaps_header
    assert not [h for h in gaps_header if h and "_" in h], gaps_header
    for sheet in ("Projections", "Précision (backtest)", "Reconversions"):
        head = [c.value for c in wb[sheet][1 if sheet == "Reconversions" else 2]]
        assert not [h for h in head if h and "_" in h], (sheet, head)
    found = [s for s in ENGLISH if any(s in t for t in texts)]
    assert not found, found
    flag = gaps_header.index("BMO : comparaison avec la projection") + 1
    assert "non comparable" in {
        row[0] for row in wb["Écarts"].iter_rows(min_col=flag, max_col=flag, values_only=True)
    }
    # the net openings sheet names its column apart from the openings to fill of the gaps
    net_header = [c.value for c in wb["Besoins nets"][2]]
    assert "besoin net (créations − pertes + départs)" in net_header
    assert "postes à pourvoir" not in net_header


# ----------------------------------------------------------------------------- 3. formats
def test_format_kinds():
    assert column_kind("mase_vs_cshare") == "ratio"  # ends in "share" but is a ratio of MASEs
    assert column_kind("share_ratio") == "ratio"
    for col in ("gap_share", "direction", "win_vs_naive", "coverage_80", "wape", "share"):
        assert column_kind(col) == "pct", col
        assert excel_format(col) == "0.0%", col
    assert excel_format("mase") == excel_format("mase_vs_naive") == "0.000"
    assert excel_format("period") == "0"
    assert excel_format("openings") == "#,##0.0" and excel_format("gap", integer=True) == "#,##0"
    assert html_format("mase_vs_cshare").format(1.011155) == "1.011"
    assert html_format("direction").format(0.0404) == "4%"


def test_html_table_formats_and_excel_backtest(results, reports):
    bs = pd.DataFrame(
        {"model": ["naive"], "mase_vs_cshare": [1.011155], "coverage_80": [0.81], "n": [12]}
    )
    out = _table(bs, "en")
    assert '<td class="n">1.011</td>' in out and "101%" not in out and ">81%<" in out
    ws = reports["xlsx_fr"]["Précision (backtest)"]
    header = [c.value for c in ws[2]]
    row = {h: c for h, c in zip(header, ws[3], strict=True)}
    assert row["sens de variation juste"].number_format == "0.0%"
    assert row["part des séries où le modèle bat le naïf"].number_format == "0.0%"
    assert row["MASE rapporté à la part constante"].number_format == "0.000"


# ----------------------------------------------------------------------------- 4. labels
def test_excel_forecast_and_transitions_have_labels(results, reports):
    wb = reports["xlsx_fr"]
    occ = results.data.occupations.set_index("occupation")["label"]
    terr = results.data.territories.set_index("territory")["label"]
    fc = wb["Projections"]
    header = [c.value for c in fc[2]]
    assert header[:4] == ["territoire", "libellé territoire", "métier", "libellé métier"]
    first = [c.value for c in fc[3]]
    assert first[1] == terr[first[0]] and first[3] == occ[first[2]]

    t = transitions_labelled(results)
    assert (t["from_occupation_label"] == t["from_occupation"].map(occ)).all()
    skills = results.data.skills.set_index("skill")["label"]
    row = t.iloc[0]
    codes = [c.strip() for c in row["skills_to_acquire"].split(";")]
    assert row["skills_to_acquire_labels"] == "; ".join(skills[c] for c in codes)
    ws = wb["Reconversions"]
    header = [c.value for c in ws[1]]
    assert "libellé métier d'origine" in header and "compétences à acquérir (libellés)" in header
    j = header.index("libellé métier d'origine")
    assert ws.cell(row=2, column=j + 1).value in set(occ)
