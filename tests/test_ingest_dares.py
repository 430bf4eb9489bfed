"""Tests of the DARES portraits reader (small tables written here + the real files)."""

import pytest
from _helpers import DARES_AGE_BANDS, csv_records, missing_real_data

from gpec.ingest._dares import normalize_age_band, read_dares_series

WIDE = (
    '"Annee","A","A0Z","A0Z40","ENS"\n"2003",100.5,80,NA,1000\n"2004",101,81,40.25,1001\n'
    '"20X5",1,1,1,1\n'
)
AGE = (
    '"fap","tr_age","annee_2017_2019","libelle"\n'
    '"A0Z40","15-24 ans",1.5,"Agriculteurs salariés"\n'
    '"A0Z40","60 ans ou plus",2,"Agriculteurs salariés"\n'
    '"A0Z40","âge inconnu",2,"Agriculteurs salariés"\n'
    '"ENSEMBLE","15-24 ans",300,"Ensemble"\n'
    '"A0Z40","25-29 ans",NA,"Agriculteurs salariés"\n'
)


def test_age_band_notation():
    assert normalize_age_band("15-24 ans") == "15-24"
    assert normalize_age_band("60 ans ou plus") == "60+"
    assert normalize_age_band("Moins de 30 ans") == "15-29"
    assert normalize_age_band("De 30 à 49 ans") == "30-49"
    with pytest.raises(ValueError):
        normalize_age_band("inconnu")


def test_wide_series_moving_average(tmp_path):
    p = tmp_path / "effectifs_3niv.csv"
    p.write_text(WIDE, encoding="utf-8")
    data = read_dares_series(p)
    assert data.meta["moving_average"] == 3 and data.meta["layout"] == "wide_series"
    emp = data.employment.set_index(["occupation", "period"])["value"]
    assert emp[("A0Z", 2003)] == 80_000  # thousands -> jobs
    assert emp[("A0Z40", 2004)] == 40_250
    assert ("A0Z40", 2003) not in emp.index  # NA: no observation, never 0
    assert data.meta["missing_cells"] == 1
    acc = data.meta["row_accounting"][p.name]
    assert acc == {"read": 3, "kept": 2, "rejected": 1}
    occ = data.occupations.set_index("occupation")
    assert occ.loc["A0Z40", "parent"] == "A0Z" and occ.loc["A0Z", "parent"] == "A"
    assert occ.loc["A", "parent"] == "ENS" and occ.loc["A0Z40", "level"] == "fap225"
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


def test_age_structure(tmp_path):
    p = tmp_path / "age_2017_2019_3niv.csv"
    p.write_text(AGE, encoding="utf-8")
    data = read_dares_series(p)
    wa = data.workforce_age.set_index(["occupation", "age_band"])["value"]
    assert wa[("A0Z40", "15-24")] == 1500 and wa[("A0Z40", "60+")] == 2000
    assert wa[("ENS", "15-24")] == 300_000
    assert data.meta["period"] == "2017-2019"
    assert data.occupations.set_index("occupation").loc["A0Z40", "label"] == "Agriculteurs salariés"
    acc = data.meta["row_accounting"][p.name]
    assert acc == {"read": 5, "kept": 3, "rejected": 2}
    assert set(data.rejected["reason"]) == {"unreadable age band", "missing or negative count"}
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


def test_real_dares(real_data):
    folder = real_data / "dares-portrait-stat-metiers"
    if not folder.is_dir():
        missing_real_data("DARES folder not present")
    data = read_dares_series(folder / "effectifs_3niv.csv")
    acc = data.meta["row_accounting"]["effectifs_3niv.csv"]
    assert acc == {"read": 36, "kept": 36, "rejected": 0}
    emp = data.employment
    assert emp["period"].min() == 1983 and emp["period"].max() == 2018
    assert len(emp) + data.meta["missing_cells"] == 36 * 340  # every cell accounted for
    assert data.occupations.set_index("occupation").loc["A0Z40", "label"] != "FAP A0Z40"
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)

    data = read_dares_series(folder / "age_2017_2019_3niv.csv")
    acc = data.meta["row_accounting"]["age_2017_2019_3niv.csv"]
    assert acc["read"] == csv_records(folder / "age_2017_2019_3niv.csv")
    assert acc["read"] == acc["kept"] + acc["rejected"]
    assert set(data.workforce_age["age_band"]) == DARES_AGE_BANDS
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)

    data = read_dares_series(
        folder / "age_agrege_1982_1984_2017_2019_restructure_fap225.csv", period="2015-2017"
    )
    acc = data.meta["row_accounting"]["age_agrege_1982_1984_2017_2019_restructure_fap225.csv"]
    assert acc["read"] == csv_records(
        folder / "age_agrege_1982_1984_2017_2019_restructure_fap225.csv"
    )
    assert acc["read"] == acc["kept"] + acc["rejected"]
    assert data.meta["period"] == "2015-2017"

    data = read_dares_series(folder / "tensions" / "tensions.csv")
    acc = data.meta["row_accounting"]["tensions.csv"]
    assert acc["read"] == csv_records(folder / "tensions" / "tensions.csv")
    assert acc["read"] == acc["kept"] + acc["rejected"]
    terr = data.territories.set_index("territory")
    assert terr.loc["R84", "level"] == "region" and terr.loc["2A", "level"] == "departement"
    assert "Tension" in " ".join(data.extra["tensions"].columns)
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


def test_aggregate_columns_are_flagged(real_data):
    from gpec.ingest._dares import read_dares_series

    data = read_dares_series(real_data / "dares-portrait-stat-metiers" / "effectifs_3niv.csv")
    occ = data.occupations.set_index("occupation")
    assert occ.loc["T2Z60", "level"] == "aggregate" and occ.loc["T2Z", "level"] == "aggregate"
    assert occ.loc["T2A60", "level"] == "fap225"
