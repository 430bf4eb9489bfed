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
