"""A planner's usual mistakes through the Python API, with hand-built pandas tables.

Each mistake either works (and the result is checked against a hand-computed answer) or fails
with one message naming the table, the row, the column and the value: never a pandas traceback
from deep inside, never a silently wrong number.
"""

from __future__ import annotations

import pandas as pd
import pytest

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
