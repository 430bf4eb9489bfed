"""Plausibility checks: implausible inputs are seen (errors reject rows, warnings are reported).

Hand-made panels check each rule and its threshold; copies of the demo inputs with one edit each
replay what a planner's file can hold (a year typed 2042, 1850, 2200, a value of 1e12, a series
stopping in 2016, an age table a thousand times too big, an offer with more seats than its site has jobs).
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from gpec._plausibility import PlausibilityRules, check_plausibility
from gpec.exceptions import ValidationError


def _panel(values: dict[tuple[str, str], list[float]], start: int = 2005) -> pd.DataFrame:
    rows = [(t, o, start + i, v) for (t, o), vals in values.items() for i, v in enumerate(vals)]
    return pd.DataFrame(rows, columns=["territory", "occupation", "period", "value"])


def _checks(found: pd.DataFrame) -> dict[str, int]:
    return found.groupby(["check", "severity"]).size().to_dict()


# ----------------------------------------------------------------------------- periods
def test_year_outside_the_window_is_an_error():
    emp = _panel({("T", "A"): [100.0] * 6})
    emp.loc[2, "period"] = 1850
    emp.loc[3, "period"] = 2200
    found = check_plausibility({"employment": emp}, {"employment": "emp.csv"})
    errors = found[found["severity"] == "error"]
    assert errors["row"].tolist() == [2, 3]
    assert errors["value"].tolist() == ["1850", "2200"]
    assert set(errors["check"]) == {"period_window"} and set(errors["file"]) == {"emp.csv"}
    # the window is configurable and can be switched off
    wide = PlausibilityRules(period_min=1800, period_max=None, max_period_gap=None)
    assert not len(check_plausibility({"employment": emp}, rules=wide).query("severity == 'error'"))


def test_year_far_from_the_others_is_an_error_but_a_near_one_is_not():
    emp = _panel({("T", "A"): [100.0] * 20, ("T", "B"): [50.0] * 20})  # 2005..2024
    far = emp.copy()
    far.loc[19, "period"] = 2042
    found = check_plausibility({"employment": far})
    err = found[found["severity"] == "error"]
    assert err["row"].tolist() == [19] and err["check"].tolist() == ["period_far"]
    assert "2005..2024" in err["reason"].iloc[0]
    # 2029 is five years after 2024: within max_period_gap=5, no error
    near = emp.copy()
    near.loc[19, "period"] = 2029
    assert "error" not in set(check_plausibility({"employment": near})["severity"])
    assert "error" in set(
        check_plausibility({"employment": near}, rules=PlausibilityRules(max_period_gap=4))[
            "severity"
        ]
    )


# ----------------------------------------------------------------------------- series
def test_stale_late_and_holey_series_are_warnings_naming_their_rows():
    emp = _panel({(t, "A"): [100.0] * 20 for t in "PQRS"})  # 2005..2024
    stale = emp[~((emp["territory"] == "P") & (emp["period"] > 2016))]
    holey = stale.drop(
        index=stale.index[(stale["territory"] == "Q") & stale["period"].isin([2010, 2011])]
    )
    found = check_plausibility({"employment": holey})
    assert _checks(found) == {("series_holes", "warning"): 1, ("stale_series", "warning"): 1}
    st = found[found["check"] == "stale_series"].iloc[0]
    # the row of the series' last year (2016) is named
    assert holey.loc[st["row"], "period"] == 2016 and st["value"] == "P x A stops in 2016"
    assert "2024" in st["reason"]
    hole = found[found["check"] == "series_holes"].iloc[0]
    assert holey.loc[hole["row"], "period"] == 2012 and hole["value"] == "Q x A: 2010..2011"
    off = PlausibilityRules(stale=False, holes=False)
    assert not len(check_plausibility({"employment": holey}, rules=off))


# ----------------------------------------------------------------------------- values
def test_isolated_absurd_value_is_an_error_a_tenfold_one_a_warning():
    rng = np.random.default_rng(0)
    base = {("T", o): list(200 + rng.normal(0, 10, 12)) for o in "ABCDEFGH"}
    emp = _panel(base)
    absurd = emp.copy()
    absurd.loc[5, "value"] = 1e12  # series T x A, 2010
    found = check_plausibility({"employment": absurd})
    # no echo in the territory's total; the rejected year leaves a hole in its series
    assert _checks(found) == {("implausible_value", "error"): 1, ("series_holes", "warning"): 1}
    err = found[found["severity"] == "error"]
    assert err["row"].tolist() == [5] and err["value"].iloc[0].startswith("1,000,000,000,000")
    tenfold = emp.copy()
    tenfold.loc[5, "value"] = 2500.0  # about 12 times the series' median
    found = check_plausibility({"employment": tenfold})
    assert found.loc[found["check"] == "implausible_value", "severity"].tolist() == ["warning"]
    # the same value is fine once the ratio is raised, and with the rule off
    assert not len(
        check_plausibility(
            {"employment": tenfold}, rules=PlausibilityRules(outlier_ratio=20, total_jump=None)
        )
    )
    assert not len(
        check_plausibility({"employment": tenfold}, rules=PlausibilityRules(enabled=False))
    )


def test_level_shift_and_small_counts_are_not_errors():
    # a plant opening: 0 jobs for 6 years, then 1,500 for 6 years: a warning at most, no error
    shift = _panel({("T", "A"): [0.0] * 6 + [1500.0] * 6})
    assert "error" not in set(check_plausibility({"employment": shift})["severity"])
    # a small series going from 1 to 30 jobs: too few jobs to judge
    small = _panel({("T", "A"): [1, 1, 2, 1, 30, 1, 1.0]})
    assert not len(check_plausibility({"employment": small}))


def test_trending_series_is_not_flagged():
    grow = _panel({("T", "A"): list(20 * 1.2 ** np.arange(20))})  # x 32 over 20 years
    assert not len(check_plausibility({"employment": grow}))


def test_total_jump_names_the_row_that_moved_most():
    vals = {("T", o): [100.0] * 10 for o in "ABCD"}
    emp = _panel(vals)
    emp.loc[(emp["occupation"] == "B") & (emp["period"] >= 2010), "value"] = 400.0  # +75 %
    found = check_plausibility({"employment": emp})
    jump = found[found["check"] == "total_jump"]
    assert len(jump) == 1
    row = jump["row"].iloc[0]
    assert emp.loc[row, "occupation"] == "B" and emp.loc[row, "period"] == 2010
    assert "400 -> 700" in jump["value"].iloc[0]


# ----------------------------------------------------------------------------- other tables
def test_age_pyramid_and_seats_disagreeing_with_employment():
    emp = _panel({(t, "A"): [1000.0] * 6 for t in "PQ"})
    age = pd.DataFrame(
        {
            "territory": ["P", "P", "Q", "Q"],
            "occupation": "A",
            "age_band": ["20-24", "25-29"] * 2,
            "value": [500.0, 480.0, 50.0, 30.0],
        }  # fmt: skip
    )
    found = check_plausibility({"employment": emp, "workforce_age": age})
    cell = found[found["check"] == "pyramid_cell"]
    assert cell["row"].tolist() == [2] and "Q x A: 80 workers, 1,000 jobs" in cell["value"].iloc[0]
    # the whole table in thousands: one finding, not one per cell
    found = check_plausibility(
        {"employment": emp, "workforce_age": age.assign(value=age["value"] / 1000)}
    )
    assert found["check"].tolist() == ["pyramid_total"]
    offers = pd.DataFrame({"offer": ["o1", "o2"], "site": ["P", "Q"], "seats": [12.0, 24000.0]})
    found = check_plausibility({"employment": emp, "training_offers": offers})
    assert found["check"].tolist() == ["seats"] and found["row"].tolist() == [1]


def test_rules_from_mapping_reject_unknown_keys():
    assert PlausibilityRules.from_mapping({"outlier_ratio": 5}).outlier_ratio == 5
    with pytest.raises(ValueError, match="outlier_ration"):
        PlausibilityRules.from_mapping({"outlier_ration": 5})


# ----------------------------------------------------------------------------- the demo's inputs
@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    from gpec.datasets import load_demo
    from gpec.pipeline import write_inputs

    out = tmp_path_factory.mktemp("demo") / "inputs"
    write_inputs(load_demo(), out)
    return out


@pytest.fixture
def demo_copy(demo_dir, tmp_path):
    dest = tmp_path / "inputs"
    shutil.copytree(demo_dir, dest)
    return dest


def _load(folder):
    from gpec.config import load_config
    from gpec.pipeline import load_data

    return load_data(load_config(folder / "gpec.toml"))


def _edit(folder, name: str, fn) -> None:
    path = folder / f"{name}.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = fn(table)
    (table if out is None else out).to_csv(path, index=False)


def _first_2024(t: pd.DataFrame) -> int:
    return int(t.index[t["period"] == "2024"][0])


def test_demo_inputs_are_clean(demo_copy):
    clean = _load(demo_copy).validate(strict=False)
    rejected = clean.rejected
    assert len(rejected) == 0 and len(clean.warnings) == 0


@pytest.mark.parametrize("year", ["2042", "1850", "2200"])
def test_demo_with_a_mistyped_year_stops_naming_file_row_and_value(demo_copy, year):
    def typo(t):
        t.loc[_first_2024(t), "period"] = year

    _edit(demo_copy, "employment", typo)
    with pytest.raises(ValidationError) as err:
        _load(demo_copy).validate()
    msg = str(err.value)
    first = err.value.report.iloc[0]
    assert first["file"].endswith("employment.csv") and first["row"] == 21  # header = row 1
    assert first["column"] == "period" and first["value"] == year
    assert "employment.csv" in msg and "row 21" in msg and year in msg
    # lenient: the row is dropped and the study keeps the panel's years
    clean = _load(demo_copy).validate(strict=False)
    rejected = clean.rejected
    assert clean.employment["period"].max() == 2024 and len(rejected) == 1


def test_demo_with_an_absurd_value_stops(demo_copy):
    def absurd(t):
        t.loc[_first_2024(t), "value"] = "1e12"

    _edit(demo_copy, "employment", absurd)
    with pytest.raises(ValidationError, match=r"row 21, column value"):
        _load(demo_copy).validate()
    clean = _load(demo_copy).validate(strict=False)
    rejected = clean.rejected
    assert clean.employment["value"].max() < 1e5 and rejected["row"].tolist() == [21]


def test_demo_with_a_series_stopping_in_2016_warns(demo_copy):
    def stop(t):
        first = t.iloc[0]
        same = (t["territory"] == first["territory"]) & (t["occupation"] == first["occupation"])
        return t.drop(index=t.index[same & (t["period"].astype(int) > 2016)])

    _edit(demo_copy, "employment", stop)
    clean = _load(demo_copy).validate()  # a warning does not stop a run
    w = clean.warnings
    assert w["check"].tolist() == ["stale_series"] and w["value"].iloc[0].endswith("stops in 2016")
    # ... unless warnings are errors (--strict)
    with pytest.raises(ValidationError, match="stops in 2016"):
        _load(demo_copy).validate(warnings_as_errors=True)


def test_demo_with_age_in_units_and_seats_beyond_the_sites_jobs_warns(demo_copy):
    _edit(
        demo_copy,
        "workforce_age",
        lambda t: t.__setitem__("value", pd.to_numeric(t["value"]) * 1000),
    )
    _edit(demo_copy, "training_offers", lambda t: t.loc.__setitem__((0, "seats"), "50000"))
    w = _load(demo_copy).validate().warnings
    assert sorted(w["check"]) == ["pyramid_total", "seats"]
    assert (w.loc[w["check"] == "seats", "row"] == 2).all()
