"""Validation rules of the canonical tables, each with a failing case."""

import pandas as pd
import pytest

from gpec import GpecData, ValidationError


def base():
    terr = pd.DataFrame(
        {
            "territory": ["FR", "28", "14", "2A"],
            "label": ["France", "Normandie", "Calvados", "Corse-du-Sud"],
            "level": ["nation", "region", "departement", "departement"],
            "parent": [None, "FR", "28", "FR"],
            "lat": [46.0, 49.0, 49.1, 41.9],
            "lon": [2.0, 0.0, -0.4, 8.9],
        }
    )
    occ = pd.DataFrame(
        {"occupation": ["H2913", "M1805"], "label": ["Soudage", "Études info"], "system": "ROME4"}
    )
    skills = pd.DataFrame({"skill": ["100001", "100002"], "label": ["Souder", "Coder"]})
    osk = pd.DataFrame(
        {"occupation": ["H2913", "M1805"], "skill": ["100001", "100002"], "weight": [1.0, 0.5]}
    )
    emp = pd.DataFrame(
        {
            "territory": ["14", "14", "2A"],
            "occupation": ["H2913"] * 3,
            "period": [2020, 2021, 2020],
            "value": [10.0, 12.0, 3.0],
        }
    )
    cw = pd.DataFrame(
        {
            "source_system": "FAP2009",
            "source": ["D1Z40", "D1Z40"],
            "target_system": "ROME4",
            "target": ["H2913", "M1805"],
            "weight": [0.5, 0.5],
        }
    )
    offers = pd.DataFrame(
        {
            "offer": ["o1"],
            "title": ["Soudage TIG"],
            "site": ["14"],
            "seats": [12.0],
            "completion_rate": [0.9],
        }
    )
    return dict(
        territories=terr,
        occupations=occ,
        skills=skills,
        occupation_skills=osk,
        employment=emp,
        crosswalks=cw,
        training_offers=offers,
    )


def test_clean_data_validates():
    data = GpecData(**base()).validate()
    assert data.employment["territory"].tolist() == ["14", "14", "2A"]
    assert data.employment["period"].dtype == "int64"
    assert len(data.rejected) == 0


CASES = [
    ("employment", "value", 1, -5, "negative value"),
    ("employment", "value", 1, "douze", "not a number"),
    ("employment", "value", 1, float("inf"), "not a finite number"),
    ("employment", "period", 0, "l'an 2000", "not a period"),
    ("employment", "territory", 0, "99", "unknown territory"),
    ("employment", "occupation", 0, "Z9999", "unknown occupation"),
    ("employment", "territory", 0, None, "missing value"),
    ("occupation_skills", "weight", 0, 1.5, "outside [0, 1]"),
    ("occupation_skills", "skill", 0, "999", "unknown skill"),
    ("training_offers", "site", 0, "76", "unknown territory"),
    ("training_offers", "completion_rate", 0, -0.1, "outside [0, 1]"),
    ("training_offers", "seats", 0, -1, "negative value"),
    ("territories", "lat", 1, 123.0, "latitude"),
    ("territories", "parent", 2, "XX", "unknown territory"),
    ("crosswalks", "weight", 0, 0.7, "do not sum to 1"),
]


@pytest.mark.parametrize("table,column,pos,value,reason", CASES)
def test_each_rule_fails(table, column, pos, value, reason):
    tables = base()
    t = tables[table].astype(object)
    t.iloc[pos, t.columns.get_loc(column)] = value
    tables[table] = t
    data = GpecData(**tables, sources={table: f"{table}.csv"})
    with pytest.raises(ValidationError) as err:
        data.validate()
    msg = str(err.value)
    assert f"table {table}" in msg and f"{table}.csv" in msg and "row" in msg
    clean = data.validate(strict=False)
    rejected = clean.rejected
    hit = rejected[rejected["reason"].str.contains(reason, regex=False)]
    assert len(hit) >= 1, rejected
    assert hit["table"].iloc[0] == table
    # nothing lost silently: kept + rejected rows = input rows
    kept = len(clean.tables[table])
    assert kept + rejected[rejected["table"] == table]["row"].nunique() == len(tables[table])


def test_duplicate_key():
    tables = base()
    tables["employment"] = pd.concat(
        [tables["employment"], tables["employment"].iloc[[0]]], ignore_index=True
    )
    with pytest.raises(ValidationError, match="duplicate key"):
        GpecData(**tables).validate()


def test_missing_required_column():
    tables = base()
    tables["employment"] = tables["employment"].drop(columns="value")
    clean = GpecData(**tables).validate(strict=False)
    rejected = clean.rejected
    assert rejected["reason"].str.contains("required column").any()
    assert len(clean.employment) == 0


def test_missing_periods_reported_as_warning():
    tables = base()
    tables["employment"] = pd.DataFrame(
        {"territory": "14", "occupation": "H2913", "period": [2018, 2019, 2022], "value": 1.0}
    )
    data = GpecData(**tables).validate()
    w = data.meta["warnings"]
    assert w["missing_periods"].tolist() == ["2020;2021"]


def test_codes_never_become_numbers():
    tables = base()
    tables["occupation_skills"] = tables["occupation_skills"].assign(skill=["100001", "100002"])
    tables["territories"]["territory"] = ["FR", "28", "14", "2A"]
    data = GpecData(**tables).validate()
    assert data.territories["territory"].tolist() == ["FR", "28", "14", "2A"]
    assert all(isinstance(v, str) for v in data.occupation_skills["skill"])
