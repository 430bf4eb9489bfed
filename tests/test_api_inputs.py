"""A planner's usual mistakes through the Python API, with hand-built pandas tables.

Each mistake either works (and the result is checked against a hand-computed answer) or fails
with one message naming the table, the row, the column and the value: never a pandas traceback
from deep inside, never a silently wrong number.
"""

from __future__ import annotations

import pandas as pd
import pytest

import gpec
from gpec import GpecData, ValidationError
from gpec._checks import int_periods


def _tables() -> dict[str, pd.DataFrame]:
    terr = pd.DataFrame(
        {
            "territory": ["01", "02"],
            "label": ["Ain EPCI", "Aisne EPCI"],
            "level": ["epci", "epci"],
            "lat": [46.2, 49.5],
            "lon": [5.2, 3.6],
        }
    )
    occ = pd.DataFrame({"occupation": ["H2913", "J1501"], "label": ["Soudeur", "Aide-soignant"]})
    rows = [
        (t, o, y, base + step * i)
        for t, base in (("01", 100.0), ("02", 200.0))
        for o, step in (("H2913", 2.0), ("J1501", 5.0))
        for i, y in enumerate(range(2013, 2025))
    ]
    emp = pd.DataFrame(rows, columns=["territory", "occupation", "period", "value"])
    return {"territories": terr, "occupations": occ, "employment": emp}


# ------------------------------------------------------------------------ GpecData tables
@pytest.mark.parametrize("bad", ["series", "dict", "list"])
def test_a_table_that_is_not_a_dataframe_is_named(bad):
    t = _tables()
    emp = t["employment"]
    table = {
        "series": emp.set_index(["territory", "occupation", "period"])["value"],
        "dict": emp.to_dict("list"),
        "list": emp.values.tolist(),
    }[bad]
    with pytest.raises(TypeError, match=r"employment: expected a pandas DataFrame, got"):
        GpecData(**{**t, "employment": table})


def test_a_table_set_later_to_a_series_is_named_by_validate():
    data = GpecData(**_tables())
    data.employment = data.employment["value"]
    with pytest.raises(TypeError, match=r"employment: expected a pandas DataFrame, got Series"):
        data.validate()


def test_annual_periods_are_years_after_validate():
    t = _tables()
    emp = t["employment"].assign(
        period=pd.PeriodIndex(t["employment"]["period"].astype(str), freq="Y")
    )
    clean = GpecData(**{**t, "employment": emp}).validate()
    assert clean.employment["period"].dtype == "int64"
    assert clean.employment["period"].tolist() == t["employment"]["period"].tolist()


# ----------------------------------------------------------------------------- int_periods
def test_int_periods_reads_first_of_january_dates_as_years():
    s = pd.Series(pd.to_datetime(["2025-01-01", "2026-01-01"]))
    with pytest.warns(UserWarning, match="forecast: column 'period' holds dates on 1 January"):
        out = int_periods(s, "forecast")
    assert out.tolist() == [2025, 2026]


def test_int_periods_rejects_other_dates_with_row_and_value():
    s = pd.Series(pd.to_datetime(["2025-01-01", "2026-06-30"]), index=[4, 5])
    with pytest.raises(
        ValidationError, match=r"'forecast'.*2026-06-30.*not a year.*row 5, column 'period'"
    ):
        int_periods(s, "forecast")


# ------------------------------------------------------------------------------ Forecaster
def _fc():
    return gpec.Forecaster(models=["naive"], horizon=2, level=(80,), verbose=0)


def test_forecaster_reads_french_numbers_and_says_so():
    emp = _tables()["employment"]
    emp["value"] *= 10  # 1,000 to 2,550 jobs: every value has a thousands group
    text = emp.assign(
        value=emp["value"].map(lambda v: f"{v:,.1f}".replace(",", " ").replace(".", ","))
    )
    assert text["value"].iloc[0] == "1 000,0"
    with pytest.warns(UserWarning, match=r"employment: column 'value' holds numbers written as"):
        got = _fc().fit(text).predict()
    pd.testing.assert_frame_equal(got, _fc().fit(emp).predict())
    # naive: the last value, 2024 -> 10 * (100 + 2 * 11) = 1220 for 01 x H2913
    first = got[(got["territory"] == "01") & (got["occupation"] == "H2913")]
    assert first["mean"].tolist() == [1220.0, 1220.0]


def test_forecaster_names_the_value_that_is_not_a_number():
    emp = _tables()["employment"]
    emp["value"] = emp["value"].astype(object)
    emp.loc[7, "value"] = "n.d."
    with pytest.raises(ValueError, match=r"employment: column 'value', row\(s\) 7: .*'n.d.'"):
        _fc().fit(emp)


def test_forecaster_names_a_duplicated_row():
    emp = _tables()["employment"]
    emp = pd.concat([emp, emp.iloc[[3]]], ignore_index=True)
    with pytest.raises(
        ValueError, match=r"row\(s\) 3, 48: duplicated series x period .*01\|H2913\|2016"
    ):
        _fc().fit(emp)


def test_forecaster_reads_dates_on_first_of_january_as_years():
    emp = _tables()["employment"]
    dated = emp.assign(period=pd.to_datetime(emp["period"].astype(str) + "-01-01"))
    with pytest.warns(UserWarning, match="dates on 1 January"):
        got = _fc().fit(dated).predict()
    pd.testing.assert_frame_equal(got, _fc().fit(emp).predict())
    assert sorted(got["period"].unique()) == [2025, 2026]


def test_forecaster_rejects_other_dates_naming_row_and_value():
    emp = _tables()["employment"]
    dated = emp.assign(period=pd.to_datetime(emp["period"].astype(str) + "-12-31"))
    with pytest.raises(ValueError, match=r"2013-12-31.*not a year.*row 0"):
        _fc().fit(dated)


# -------------------------------------------------------------------------------- allocate
# Hand-computed: 10 openings in A and 5 in B (2030), one offer of 12 entrants at site A whose
# catchment is A (0 km) and B (30 km): A gets 10, B the 2 left, the gap is 0 in A and 3 in B.
def _alloc_inputs():
    op = pd.DataFrame(
        {
            "territory": ["01", "02"],
            "occupation": ["X", "X"],
            "period": [2030, 2030],
            "openings": [10.0, 5.0],
        }
    )
    en = pd.DataFrame(
        {"offer": ["o1"], "site": ["01"], "occupation": ["X"], "share": [1.0], "entrants": [12.0]}
    )
    ca = pd.DataFrame({"site": ["01", "01"], "territory": ["01", "02"], "distance_km": [0.0, 30.0]})
    return op, en, ca


def test_allocate_hand_computed():
    gaps = gpec.allocate(*_alloc_inputs()).gaps
    assert gaps["entrants_allocated"].tolist() == [10.0, 2.0]
    assert gaps["gap"].tolist() == [0.0, 3.0]


def test_allocate_fails_on_an_entrants_row_given_twice():
    op, en, ca = _alloc_inputs()
    twice = pd.concat([en, en], ignore_index=True)  # 24 entrants would fill every opening
    with pytest.raises(ValidationError, match=r"entrants: row 1, column 'share'.*offer 'o1'"):
        gpec.allocate(op, twice, ca)


def test_allocate_warns_when_codes_lost_their_leading_zero():
    op, en, ca = _alloc_inputs()
    lost = op.assign(territory=op["territory"].astype(int))  # 1 and 2, not '01' and '02'
    with pytest.warns(UserWarning, match=r"openings: territory '1'.* is '01' of the catchment"):
        gaps = gpec.allocate(lost, en, ca).gaps
    assert gaps["entrants_allocated"].tolist() == [0.0, 0.0]  # what the codes say, but said


def test_allocate_warns_on_sites_missing_from_the_catchment():
    op, en, ca = _alloc_inputs()
    with pytest.warns(UserWarning, match=r"entrants: site\(s\) '1' .*not in the catchment"):
        gpec.allocate(op, en.assign(site=1), ca)


def test_allocate_fails_on_a_distance_that_is_not_a_number():
    op, en, ca = _alloc_inputs()
    ca["distance_km"] = ca["distance_km"].astype(object)
    ca.loc[1, "distance_km"] = "30 km"
    with pytest.raises(ValidationError, match=r"catchment: row 1, column 'distance_km'.*'30 km'"):
        gpec.allocate(op, en, ca)


def test_allocate_reads_a_french_distance():
    op, en, ca = _alloc_inputs()
    near = ca.assign(distance_km=["0", "12,5"])
    flows = gpec.allocate(op, en, near).flows
    assert sorted(flows["distance_km"].tolist()) == [0.0, 12.5]


def test_allocate_reads_french_openings_and_entrants():
    op, en, ca = _alloc_inputs()
    op["openings"] = ["10,0", "5"]
    en["entrants"] = ["12,0"]
    gaps = gpec.allocate(op, en, ca).gaps
    # the same gap as with the numbers 10, 5 and 12 (test_allocate_hand_computed)
    assert gaps["entrants_allocated"].tolist() == [10.0, 2.0]
    assert gaps["gap"].tolist() == [0.0, 3.0]
    # a supply interval of 6 to 1 000 entrants: 6 fill A only, 1 000 fill A and B
    wide = en.assign(entrants_low=["6"], entrants_high=["1 000"])
    gaps = gpec.allocate(op, wide, ca).gaps
    assert gaps["entrants_allocated_low"].tolist() == [6.0, 0.0]
    assert gaps["entrants_allocated_high"].tolist() == [10.0, 5.0]
    assert gaps["gap_upper"].tolist() == [4.0, 5.0]


def test_allocate_still_fails_on_missing_and_negative_french_counts():
    op, en, ca = _alloc_inputs()
    with pytest.raises(ValidationError, match=r"openings: row 1, column 'openings': missing"):
        gpec.allocate(op.assign(openings=["10,0", None]), en, ca)
    with pytest.raises(ValidationError, match=r"entrants: row 0, column 'entrants': negative"):
        gpec.allocate(op, en.assign(entrants=["-1,5"]), ca)
    with pytest.raises(ValidationError, match=r"column 'openings': not a number .*'dix'"):
        gpec.allocate(op.assign(openings=["dix", "5"]), en, ca)


def test_allocate_fails_on_employment_that_is_not_a_number():
    op, en, ca = _alloc_inputs()
    emp = pd.DataFrame(
        {"territory": ["01", "02"], "occupation": "X", "period": 2030, "value": ["12", "n.d."]}
    )
    with pytest.raises(ValidationError, match=r"employment: row 1, column 'value'.*'n.d.'"):
        gpec.allocate(op, en, ca, employment=emp)


def test_allocate_reads_french_employment_for_the_small_flag():
    op, en, ca = _alloc_inputs()
    emp = pd.DataFrame(
        {"territory": ["01", "02"], "occupation": "X", "period": 2030, "value": ["12,5", "1 200"]}
    )
    gaps = gpec.allocate(op, en, ca, employment=emp).gaps
    assert gaps["flag_small"].tolist() == [True, False]
    assert gaps["employment"].tolist() == [12.5, 1200.0]


# -------------------------------------------------------------------------------- entrants
def _offers() -> pd.DataFrame:
    # rows as a file numbers them (header = row 1), as gpec.read_table sets the index
    return pd.DataFrame(
        {
            "offer": ["F1", "F2"],
            "title": ["CAP soudure", "DEAS aide-soignant"],
            "site": ["01", "02"],
            "seats": [12.0, 20.0],
            "rome": ["H2913", "J1501"],
            "completion_rate": [0.8, 0.9],
            "placement_rate": [0.5, 0.6],
        },
        index=[2, 3],
    )


def test_entrants_read_french_rates_like_french_seats():
    occ = _tables()["occupations"]
    french = _offers().assign(completion_rate=["0,8", "0,9"], seats=["12", "1 200"])
    got = gpec.entrants(french, occ).set_index("offer")["entrants"]
    # seats x completion x placement, by hand
    assert got.to_dict() == pytest.approx({"F1": 12 * 0.8 * 0.5, "F2": 1200 * 0.9 * 0.6})


def test_entrants_name_the_file_row_and_the_value_of_a_bad_rate():
    occ = _tables()["occupations"]
    pct = _offers().assign(placement_rate=[50, 60])
    with pytest.raises(ValueError, match=r"row 2, column 'placement_rate': 50 is not a rate") as e:
        gpec.entrants(pct, occ)
    assert "0.5 for 50 %" in str(e.value)
    assert "np.int64" not in str(e.value)


def test_entrants_name_a_series_given_for_the_offers():
    with pytest.raises(TypeError, match="training_offers: expected a pandas DataFrame, got Series"):
        gpec.entrants(_offers()["seats"], _tables()["occupations"])


# ------------------------------------------------------------------------------ skill_gaps
def test_skill_gaps_reject_a_weight_above_one():
    op, en, ca = _alloc_inputs()
    alloc = gpec.allocate(op, en, ca)
    osk = pd.DataFrame({"occupation": ["X", "X"], "skill": ["s1", "s2"], "weight": [1.0, 0.5]})
    got = gpec.skill_gaps(alloc, osk).set_index(["territory", "skill"])["gap"]
    # gaps 0 (01) and 3 (02) carried by weights 1 and 0.5
    assert got.to_dict() == {
        ("01", "s1"): 0.0,
        ("01", "s2"): 0.0,
        ("02", "s1"): 3.0,
        ("02", "s2"): 1.5,
    }
    pct = osk.assign(weight=[100, 50])  # percentages: the needs would be 100 times too large
    with pytest.raises(
        ValidationError, match=r"occupation_skills: row 0, column 'weight'.*above 1"
    ):
        gpec.skill_gaps(alloc, pct)


def test_forecaster_says_that_a_missing_value_is_a_missing_year():
    emp = _tables()["employment"]
    holed = emp.assign(value=emp["value"].where(emp.index != 5))  # 01 x H2913, 2018
    with pytest.warns(UserWarning, match=r"employment: 1 row\(s\) without a value .*row\(s\) 5\)"):
        got = _fc().fit(holed).predict()
    # the same forecasts as without the row: naive, last value 122 for 01 x H2913
    pd.testing.assert_frame_equal(got, _fc().fit(emp.drop(index=5)).predict())


def test_a_bundle_is_indexed_by_table_name():
    data = GpecData(**_tables())
    assert data["employment"] is data.employment
    with pytest.raises(TypeError, match=r"takes a table name such as 'employment', got slice"):
        data[:3]


# ----------------------------------------------------------------------------- transitions
def _transition_inputs():
    gaps = pd.DataFrame(
        {"territory": "01", "occupation": ["A", "A"], "period": [2029, 2030], "gap": [5.0, 2.0]}
    )
    change = pd.DataFrame(
        {"territory": ["01", "01"], "occupation": ["A", "B"], "change": [3.0, -8.0]}
    )
    osk = pd.DataFrame({"occupation": ["A", "A", "B"], "skill": ["x", "y", "x"]})
    return gaps, change, osk


def test_transitions_hand_computed():
    got = gpec.transitions(*_transition_inputs(), period=2030)
    # B shares x with A (skills {x, y}): weighted Jaccard 1 / 2; A's gap in 2030 is 2
    assert got[["from_occupation", "overlap", "gap", "jobs_lost"]].values.tolist() == [
        ["B", 0.5, 2.0, 8.0]
    ]


def test_transitions_name_a_period_the_gaps_do_not_have():
    with pytest.raises(
        ValidationError, match=r"gaps: no row of period 2031 \(periods: 2029, 2030\)"
    ):
        gpec.transitions(*_transition_inputs(), period=2031)


def test_transitions_name_a_gap_that_is_not_a_number():
    gaps, change, osk = _transition_inputs()
    gaps["gap"] = ["5", "n.d."]
    with pytest.raises(ValidationError, match=r"gaps: row 1, column 'gap': not a number .*'n.d.'"):
        gpec.transitions(gaps, change, osk)


@pytest.mark.parametrize("period", ["2030", 2030.0, "2030.0"])
def test_allocate_matches_years_written_another_way(period):
    op, en, ca = _alloc_inputs()
    gaps = gpec.allocate(op, en.assign(period=period), ca).gaps
    assert gaps["period"].tolist() == [2030, 2030]
    assert gaps["entrants_allocated"].tolist() == [10.0, 2.0]  # as without a period column


def test_allocate_names_periods_of_another_kind():
    op, en, ca = _alloc_inputs()
    quarterly = en.assign(period=pd.PeriodIndex(["2030Q1"], freq="Q"))
    with pytest.raises(ValidationError, match=r"entrants: periods such as 2030Q1 .* openings"):
        gpec.allocate(op, quarterly, ca)


def test_allocate_warns_when_entrants_and_openings_share_no_period():
    op, en, ca = _alloc_inputs()
    with pytest.warns(UserWarning, match=r"entrants: no period in common with the openings"):
        gaps = gpec.allocate(op, en.assign(period=2031), ca).gaps
    assert gaps["entrants_allocated"].tolist() == [0.0, 0.0]


def test_key_columns_left_in_the_index_are_named():
    t = _tables()
    keyed = t["employment"].set_index(["territory", "occupation", "period"])
    with pytest.raises(
        ValidationError, match=r"column territory: required column is missing \(it is in the index"
    ):
        GpecData(**{**t, "employment": keyed}).validate()
    with pytest.raises(
        ValueError, match=r"missing column\(s\) .* in the index: call \.reset_index\(\)"
    ):
        _fc().fit(keyed)


def test_allocate_names_a_bound_that_is_not_a_number():
    op, en, ca = _alloc_inputs()
    op["lower"] = ["8", "4"]
    op["upper"] = ["12", "six"]
    with pytest.raises(
        ValidationError, match=r"openings: row 1, column 'upper': not a number .*'six'"
    ):
        gpec.allocate(op, en, ca)
    op["upper"] = ["12,5", "6"]  # the French way: read
    gaps = gpec.allocate(op, en, ca).gaps
    # gap bounds: openings bounds minus the 10 and 2 entrants allocated, floored at 0
    assert gaps["gap_lower"].tolist() == [0.0, 2.0]
    assert gaps["gap_upper"].tolist() == [2.5, 4.0]


@pytest.mark.parametrize("func", ["entrants_interval", "mapping_quality"])
def test_supply_tables_name_a_series_given_for_the_entrants(func):
    en = gpec.entrants(_offers(), _tables()["occupations"])
    with pytest.raises(TypeError, match="entrants: expected a pandas DataFrame, got Series"):
        getattr(gpec, func)(en["entrants"])


def test_allocate_names_the_row_that_takes_an_offers_shares_above_one():
    """Offer o1 goes half to X, half to Y (rows 10, 11); row 12 repeats its X half: the
    shares reach 1.5 there, and row 12 is the one given twice, not row 11."""
    op, _, ca = _alloc_inputs()
    en = pd.DataFrame(
        {
            "offer": "o1",
            "site": "01",
            "occupation": ["X", "Y", "X"],
            "share": [0.5, 0.5, 0.5],
            "entrants": [6.0, 6.0, 6.0],
        },
        index=[10, 11, 12],
    )
    with pytest.raises(ValidationError, match=r"entrants: row 12, column 'share'.*1 row\(s\)"):
        gpec.allocate(op, en, ca)
    gaps = gpec.allocate(op, en.loc[[10, 11]], ca).gaps  # the two halves alone are fine
    assert gaps["entrants_allocated"].tolist() == [6.0, 0.0]


def test_forecaster_names_the_bad_value_when_row_labels_repeat():
    """Row labels given twice (tables concatenated without ignore_index): the message shows
    the value at fault, -4, not every row of its label."""
    emp = _tables()["employment"].iloc[:6].copy()
    emp["value"] = [1.0, 2.0, 3.0, -4.0, 5.0, 6.0]
    emp.index = [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match=r"row\(s\) 1: negative value \(value -4\.0\)$"):
        _fc().fit(emp)


def test_openings_read_french_employment_as_the_forecaster_does():
    """The employment table Forecaster.fit reads the French way ('1 000,0') gives openings the
    same base as the numbers themselves (it failed as 'not a number')."""
    emp = _tables()["employment"]
    emp["value"] *= 10
    text = emp.assign(
        value=emp["value"].map(lambda v: f"{v:,.1f}".replace(",", " ").replace(".", ","))
    )
    fc = _fc().fit(emp).predict()
    want = gpec.openings(fc, employment=emp, level=80)
    pd.testing.assert_frame_equal(gpec.openings(fc, employment=text, level=80), want)


def test_int_periods_names_the_bad_period_when_row_labels_repeat():
    dates = pd.Series(pd.to_datetime(["2013-01-01", "2014-12-31"]), index=[0, 0])
    with pytest.raises(ValidationError, match=r"period '2014-12-31 00:00:00' is a date.*row 0"):
        int_periods(dates, "employment")
    years = pd.Series([2013, 2014.5], index=[0, 0])
    with pytest.raises(ValidationError, match=r"period 2014\.5 is not a year \(row 0"):
        int_periods(years, "employment")


def test_date_periods_are_warned_at_the_users_line():
    """Reached through Forecaster.fit and the panel reader, the warning names this file."""
    import warnings

    from gpec.forecast import Forecaster

    years = pd.to_datetime([f"{y}-01-01" for y in range(2010, 2022)])
    panel = pd.DataFrame({"territory": "A", "occupation": "X", "period": years,
                          "value": [100.0 + i for i in range(12)]})  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Forecaster(models="naive", horizon=2, verbose=0).fit(panel)
    dated = [w for w in caught if "holds dates on 1 January" in str(w.message)]
    assert dated and dated[0].filename == __file__, [(w.filename, str(w.message)) for w in dated]


def test_pipeline_notes_point_at_the_users_line():
    """Every warning of a run points at the caller's line, not inside gpec."""
    import warnings

    from gpec.datasets import load_demo
    from gpec.pipeline import run_pipeline

    demo = load_demo()
    demo.training_offers = None  # a note of the supply stage, three layers down
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_pipeline(demo, {"forecast": {"models": "naive", "horizon": 2}}, verbose=0)
    assert caught
    inside = [(w.filename, str(w.message)[:60]) for w in caught if w.filename != __file__]
    assert not inside, inside
