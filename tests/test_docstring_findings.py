"""Bugs found while writing the docstring examples of public functions, each on a hand-built case."""

import warnings

import pandas as pd
import pytest

from gpec.demand.sector_to_occupation import sector_age_pyramids
from gpec.territory import check_territories


def test_check_territories_integer_codes_with_a_missing_parent():
    # the null parent of the root makes pandas store the parents as floats (11 -> 11.0): the
    # parent of 75 must still be found as territory "11", not reported unknown as "11.0"
    t = pd.DataFrame(
        {"territory": [11, 75], "level": ["region", "departement"], "parent": [None, 11]}
    )
    out = check_territories(t)
    assert out["territory"].tolist() == ["11", "75"]
    assert out.loc["75", "parent"] == "11"
    assert pd.isna(out.loc["11", "parent"])


def test_check_territories_still_rejects_a_fractional_parent():
    t = pd.DataFrame({"territory": ["11", "75"], "level": ["r", "d"], "parent": [None, 11.5]})
    with pytest.raises(ValueError, match=r"parent '11.5'"):
        check_territories(t)


def _structure():
    # sector 62: 75 jobs in occupation A, 25 in occupation B
    return pd.DataFrame(
        {"sector": ["62", "62"], "occupation": ["A", "B"], "share": [0.75, 0.25],
         "jobs": [75.0, 25.0]}
    )  # fmt: skip


def test_sector_age_pyramids_warns_about_occupations_without_a_pyramid():
    # B has no pyramid: its 25 jobs cannot be given ages; they must not vanish unannounced
    age = pd.DataFrame(
        {"occupation": ["A", "A"], "age_band": ["15-29", "30+"], "value": [1.0, 3.0]}
    )
    with pytest.warns(UserWarning, match=r"'B'.*25 of 100 jobs"):
        out = sector_age_pyramids(_structure(), age)
    assert out["value"].tolist() == [18.75, 56.25]


def test_sector_age_pyramids_warns_about_an_all_zero_pyramid():
    age = pd.DataFrame(
        {"occupation": ["A", "A", "B"], "age_band": ["15-29", "30+", "15-29"],
         "value": [1.0, 3.0, 0.0]}
    )  # fmt: skip
    with pytest.warns(UserWarning, match=r"'B'"):
        out = sector_age_pyramids(_structure(), age)
    assert out["value"].notna().all()
    assert out["value"].sum() == pytest.approx(75.0)


def test_sector_age_pyramids_silent_when_every_occupation_has_a_pyramid():
    age = pd.DataFrame(
        {"occupation": ["A", "A", "B"], "age_band": ["15-29", "30+", "15-29"],
         "value": [1.0, 3.0, 2.0]}
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sector_age_pyramids(_structure(), age)
    # 15-29: 75 x 1/4 + 25 x 1 = 43.75 ; 30+: 75 x 3/4 = 56.25
    assert out.set_index("age_band")["value"].to_dict() == {"15-29": 43.75, "30+": 56.25}
