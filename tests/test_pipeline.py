"""Supply identities on the whole chain: more seats never raise a gap; no seats, gap = openings."""

import warnings

import numpy as np
import pytest
from _helpers import check_gaps_against_openings, expected_expansion

from gpec.datasets import load_demo
from gpec.pipeline import run_pipeline

CFG = {"forecast": {"horizon": 2}}
KEYS = ["territory", "occupation", "period"]


def _run(scale: float):
    data = load_demo()
    offers = data.training_offers.assign(seats=data.training_offers["seats"] * scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_pipeline(data.replace(training_offers=offers), CFG)


@pytest.fixture(scope="module")
def runs():
    return {s: _run(s) for s in (1.0, 2.0, 0.0)}


def test_stages_agree_with_their_inputs(runs):
    """Each stage's table recomputed from the table before it (or the input data) in plain
    pandas, not from its own columns."""
    res, data = runs[1.0], load_demo()
    g, op = res.gaps, res.openings
    # gaps carry the openings of the demand stage, and their interval
    check_gaps_against_openings(g, op, atol=1e-6)
    # the two sides of the allocation: openings filled = entrants sent, every year
    sent = res.surplus.groupby("period")["allocated"].sum()
    np.testing.assert_allclose(g.groupby("period")["entrants_allocated"].sum(), sent, atol=1e-6)
    # expansion from the forecast and the observed employment; no turnover configured;
    # departures within a year never exceed 45 % (the highest exit rate) of the jobs at its start
    want = expected_expansion(res.forecast, data.employment).merge(op, on=KEYS)
    assert len(want) == len(op)
    np.testing.assert_allclose(want["expansion_y"], want["expansion_x"], atol=1e-6)
    assert (op["turnover"] == 0).all()
    start = op["employment"] - op["expansion"]
    assert (op["replacement"] >= 0).all() and (op["replacement"] <= 0.45 * start + 1e-9).all()
    # skill gaps: the cell gaps through the occupation -> skill weights
    m = g.merge(data.occupation_skills, on="occupation")
    for col in ("openings", "entrants_allocated", "gap"):
        m[col] = m[col] * m["weight"]
    by = m.groupby(["territory", "skill", "period"])[["openings", "entrants_allocated", "gap"]]
    want = by.sum().loc[res.skill_gaps.set_index(["territory", "skill", "period"]).index]
    sg = res.skill_gaps
    np.testing.assert_allclose(sg["need"], want["openings"], atol=1e-6)
    np.testing.assert_allclose(sg["supply_allocated"], want["entrants_allocated"], atol=1e-6)
    np.testing.assert_allclose(sg["gap"], want["gap"], atol=1e-6)
    assert len(res.transitions)


def test_doubling_seats_lowers_total_gap_and_raises_none(runs):
    base = runs[1.0].gaps.set_index(KEYS)["gap"]
    doubled = runs[2.0].gaps.set_index(KEYS)["gap"].reindex(base.index)
    assert doubled.sum() < base.sum()
    assert (doubled <= base + 1e-6).all()


def test_no_seats_gives_gap_equal_openings(runs):
    g = runs[0.0].gaps
    assert (g["entrants_allocated"].abs() < 1e-12).all()
    np.testing.assert_allclose(g["gap"], g["openings"], atol=1e-12)


def test_same_input_same_output(runs):
    again = _run(1.0)
    for name in ("forecast", "openings", "gaps", "skill_gaps", "transitions"):
        a, b = getattr(runs[1.0], name), getattr(again, name)
        assert a.equals(b), name


def test_outputs_without_their_inputs_still_have_headers(tmp_path):
    import pandas as pd

    from gpec.config import resolve_config

    # no skills: no skill needs, skill gaps or transitions; no BMO: no hiring check
    data = load_demo().replace(occupation_skills=None, hiring_intentions=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline(data, resolve_config({}))
    res.write(tmp_path, reports=False)
    for name in ("skill_needs", "skill_gaps", "transitions", "hiring_check", "scenarios"):
        table = pd.read_csv(tmp_path / f"{name}.csv")
        assert len(table) == 0 and "territory" in table.columns, name


def test_provenance_has_input_checksums_and_versions(runs):
    import hashlib
    from pathlib import Path

    prov = runs[1.0].provenance
    data = load_demo()
    path = Path(data.sources["employment"])
    assert prov["sources_sha256"]["employment"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert {"openpyxl", "matplotlib", "pandas"} <= set(prov["versions"])


def test_stale_series_named_in_the_reports_assumptions(tmp_path):
    """A series that stops in 2016 in a panel ending in 2024 is flagged in forecast.csv
    (last_observed) and named in the Assumptions section of the HTML report."""
    from gpec.datasets import load_demo
    from gpec.pipeline import run_pipeline

    data = load_demo()
    emp = data.employment
    cell = emp[["territory", "occupation"]].drop_duplicates().iloc[0]
    gone = (
        (emp["territory"] == cell["territory"])
        & (emp["occupation"] == cell["occupation"])
        & (emp["period"] > 2016)
    )
    res = run_pipeline(data.replace(employment=emp[~gone]), {"forecast": {"horizon": 3}})
    fc = res.forecast
    mine = fc[(fc["territory"] == cell["territory"]) & (fc["occupation"] == cell["occupation"])]
    assert set(mine["last_observed"]) == {2016}
    assert res.provenance["stale_series"]["count"] == 1
    res.write(tmp_path, lang="en")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "last observed 2016" in html and str(cell["occupation"]) in html
