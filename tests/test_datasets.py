"""Tests of the bundled demo (gpec.datasets.load_demo) and the synthetic generators."""

from __future__ import annotations

import filecmp
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _helpers import missing_real_data

from gpec import GpecData
from gpec.datasets import DEMO_TABLES, demo_files, load_demo, make_hierarchy, make_panel
from gpec.demand import AGE_BANDS
from gpec.ingest import detect_separator, read_table

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo() -> GpecData:
    return load_demo()


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_demo", REPO / "datasets" / "make_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------- demo files
def test_demo_files_exist_and_are_small():
    files = demo_files()
    assert list(files) == list(DEMO_TABLES)
    assert all(p.is_file() and p.suffix == ".csv" for p in files.values())
    assert sum(p.stat().st_size for p in files.values()) < 5 * 1024**2
    # the same files are visible under datasets/demo (relative symlink in the repository)
    link = REPO / "datasets" / "demo"
    if link.exists():
        assert (link / "employment.csv").resolve() == files["employment"].resolve()


@pytest.mark.parametrize("name", DEMO_TABLES)
def test_demo_files_are_utf8_comma_with_canonical_columns(name):
    from gpec import TABLES

    path = demo_files()[name]
    text = path.read_bytes().decode("utf-8")  # raises if not UTF-8
    assert not text.startswith("\ufeff")
    assert detect_separator(text[:20000]) == ","  # auto-detection works, as `gpec run` needs
    header = read_table(path).columns.tolist()
    assert header == [c for c in TABLES[name].columns if c in header]
    assert set(TABLES[name].required) <= set(header)


def test_load_demo_validates_and_records_sources(demo):
    assert isinstance(demo, GpecData)
    assert sorted(demo.tables) == sorted(DEMO_TABLES)
    assert len(demo.rejected) == 0
    assert len(demo.check()) == 0
    files = demo_files()
    assert demo.sources == {n: str(files[n]) for n in DEMO_TABLES}
    assert demo.meta["synthetic"] is True


def test_load_demo_subset():
    data = load_demo(["territories", "training_offers"])
    assert sorted(data.tables) == ["territories", "training_offers"]
    with pytest.raises(ValueError, match="unknown demo table"):
        load_demo(["employement"])


# ------------------------------------------------------------------------------ demo content
def test_territory_hierarchy(demo):
    terr = demo.territories.set_index("territory")
    levels = terr["level"].value_counts()
    assert set(levels.index) == {"nation", "region", "departement", "epci"}
    assert levels["nation"] == 1 and levels["region"] >= 2
    assert levels["departement"] >= 6 and levels["epci"] >= 30
    assert {"R28", "R44"} <= set(terr.index[terr["level"] == "region"])
    assert {"14", "27", "50", "61", "76", "08", "54", "57", "67", "68"} <= set(
        terr.index[terr["level"] == "departement"]
    )
    # every territory reaches the nation through parents of the level just above
    above = {"region": "nation", "departement": "region", "epci": "departement"}
    for code, row in terr[terr["level"] != "nation"].iterrows():
        assert terr.loc[row["parent"], "level"] == above[row["level"]], code
    epci = terr[terr["level"] == "epci"]
    assert epci.index.str.fullmatch(r"\d{9}").all()
    # centroids inside Normandie / Grand Est
    assert epci["lat"].between(47.5, 50.2).all() and epci["lon"].between(-1.9, 8.3).all()


def test_named_territories_present(demo):
    labels = set(demo.territories["label"])
    for name in [
        "Métropole Rouen Normandie",
        "Agglomération Seine-Eure",
        "Le Havre Seine Métropole",
        "Communauté urbaine Caen la Mer",
        "CA Ardenne Métropole",
        "Métropole du Grand Nancy",
        "CC Sarrebourg Moselle Sud",
    ]:
        assert name in labels


def test_codes_stay_strings_with_leading_zeros(demo):
    terr = demo.territories
    assert "08" in set(terr["territory"])  # Ardennes keeps its leading zero
    assert terr.loc[terr["territory"] == "08", "label"].item() == "Ardennes"
    for table, col in [
        ("territories", "territory"),
        ("employment", "territory"),
        ("occupations", "occupation"),
        ("skills", "skill"),
        ("training_offers", "site"),
        ("training_offers", "formacode"),
    ]:
        values = demo[table][col].dropna()
        assert values.map(type).eq(str).all(), (table, col)
    ardennes_epci = terr.loc[terr["parent"] == "08", "territory"]
    assert len(ardennes_epci) >= 2


def test_occupations_and_skills(demo):
    occ = demo.occupations
    assert len(occ) >= 40
    assert occ["occupation"].str.fullmatch(r"[A-N]\d{4}").all()
    assert (occ["system"] == "ROME4").all()
    labels = occ.set_index("occupation")["label"]
    assert labels["H2913"] == "Soudeur / Soudeuse"
    assert labels["M1805"] == "Développeur / Développeuse informatique"
    assert labels["J1501"] == "Aide-soignant / Aide-soignante"
    parents = occ["parent"].dropna()
    assert len(parents) and parents.isin(occ["occupation"]).all()

    skills = demo.skills
    assert len(skills) >= 150
    assert set(skills["kind"]) == {"savoir_faire", "savoir"}
    os_ = demo.occupation_skills
    assert set(os_["weight"]) == {1.0, 0.5}
    assert set(os_["occupation"]) == set(occ["occupation"])  # every occupation has skills
    assert set(os_["skill"]) == set(skills["skill"])
    # occupations of one family share skills: reconversion paths exist
    sets = os_.groupby("occupation")["skill"].agg(set)
    assert sets["H2913"] & sets["H2902"]  # welder / boilermaker
    assert sets["M1805"] & sets["M1855"]  # developer / web developer
    assert sets["N1103"] & sets["N1101"]  # order picker / forklift driver


def test_occupation_skills_match_rome_v460(demo, real_data):
    """The demo's skills are real ROME 4.0 items, linked to the right occupations."""
    rome = real_data / "rome4-v460"
    if not rome.is_dir():
        missing_real_data("ROME 4.0 v460 files absent")
    links = pd.read_csv(rome / "unix_liens_rome_referentiels_v460_utf8.csv", dtype=str)
    real = set(zip(links["code_rome"], links["code_ogr"], strict=True))
    demo_links = set(
        zip(demo.occupation_skills["occupation"], demo.occupation_skills["skill"], strict=True)
    )
    assert demo_links <= real
    codes = pd.read_csv(rome / "unix_referentiel_code_rome_v460_utf8.csv", dtype=str)
    official = dict(zip(codes["code_rome"], codes["libelle_rome"], strict=True))
    assert all(
        official[o] == lab
        for o, lab in zip(demo.occupations["occupation"], demo.occupations["label"], strict=True)
    )


def test_employment_panel(demo):
    emp = demo.employment
    assert emp["period"].min() == 2005 and emp["period"].max() == 2024
    assert pd.api.types.is_integer_dtype(emp["period"])
    assert (emp["value"] >= 0).all() and (emp["value"] == emp["value"].round()).all()
    levels = demo.territories.set_index("territory")["level"]
    assert (emp["territory"].map(levels) == "epci").all()
    n_pairs = emp.groupby(["territory", "occupation"]).ngroups
    n_epci = (levels == "epci").sum()
    assert n_pairs < n_epci * len(demo.occupations)  # not every occupation everywhere
    assert n_pairs > 0.5 * n_epci * len(demo.occupations)
    lengths = emp.groupby(["territory", "occupation"]).size()
    assert (lengths == 20).mean() > 0.9 and (lengths < 20).any()  # a few short series
    assert len(demo.meta["warnings"]) == 0  # no holes inside a series


def _series(emp, territory, occupations):
    sel = emp[(emp["territory"] == territory) & emp["occupation"].isin(occupations)]
    return sel.groupby("period")["value"].sum()


def test_demo_events(demo):
    emp = demo.employment
    leather = ["H2401", "H2407", "H2414", "H2411", "H1231", "H2402", "H2409"]
    shoes = _series(emp, "200068146", leather)  # Sarrebourg Moselle Sud: factory closes 2016
    assert shoes.loc[2016:2018].mean() < 0.5 * shoes.loc[2012:2014].mean()
    hotel = ["G1602", "G1609", "G1601", "G1803", "G1501", "G1703", "G1205", "G1101", "G1204"]
    resort = _series(emp, "200068146", hotel)  # holiday resort opens in 2010
    assert resort.loc[2011:2013].mean() > 1.3 * resort.loc[2006:2008].mean()
    it = ["M1805", "M1855", "M1801", "M1802", "M1810", "M1811", "M1806"]
    for epci in ["200023414", "245400676", "200065597"]:  # Rouen, Nancy, Caen: IT boom
        s = _series(emp, epci, it)
        assert s.loc[2024] > 1.8 * s.loc[2010]
    metal = ["H2913", "H2902", "H2903", "H2906", "H2909"]
    fensch = _series(emp, "245701206", metal)  # slow industrial decline
    assert fensch.loc[2024] < 0.8 * fensch.loc[2005]


def test_workforce_age(demo):
    age = demo.workforce_age
    assert set(age["age_band"]) == set(AGE_BANDS)
    emp = demo.employment
    last = emp[emp["period"] == 2024].set_index(["territory", "occupation"])["value"]
    sums = age.groupby(["territory", "occupation"])["value"].sum()
    last = last[last > 0]
    assert sums.to_dict() == last.to_dict()

    def share_55_plus(occupations):
        sel = age[age["occupation"].isin(occupations)]
        return (
            sel[sel["age_band"].isin(["55-59", "60-64", "65+"])]["value"].sum() / sel["value"].sum()
        )

    # declining industrial occupations are older than IT and hospitality
    assert share_55_plus(["H2401", "H2907", "H2801"]) > share_55_plus(["M1805", "M1855"]) + 0.05
    assert share_55_plus(["H2913", "H2902"]) > share_55_plus(["G1609", "G1803"])


def test_hiring_intentions(demo):
    bmo = demo.hiring_intentions
    assert set(bmo["period"]) == {2022, 2023, 2024}
    for col in ("projects", "difficult", "seasonal"):
        assert (bmo[col].dropna() > 0).all(), col  # masked cells are empty, never 0
        assert bmo[col].isna().any(), col
    both = bmo.dropna(subset=["projects", "difficult"])
    assert (both["difficult"] <= both["projects"]).all()
    raw = read_table(demo_files()["hiring_intentions"])
    assert raw["projects"].isna().any() and not (raw["projects"] == "0").any()


def test_training_offers(demo):
    offers = demo.training_offers
    assert len(offers) >= 60
    assert offers["offer"].is_unique
    levels = demo.territories.set_index("territory")["level"]
    assert (offers["site"].map(levels) == "epci").all()
    assert (offers["seats"] > 0).all() and (offers["hours"] > 0).all()
    assert offers["completion_rate"].isna().any() and offers["placement_rate"].isna().any()
    rates = offers[["completion_rate", "placement_rate"]].stack().dropna()
    assert rates.between(0, 1).all()
    no_rome = offers["rome"].isna()
    assert no_rome.sum() >= 5  # text matching must work for these
    assert offers.loc[no_rome, "description"].notna().all()
    codes = offers["rome"].dropna().str.split(";").explode()
    assert codes.isin(demo.occupations["occupation"]).all()
    assert offers["formacode"].str.fullmatch(r"\d{5}").all()
    rncp = offers["rncp"].dropna()
    assert rncp.str.fullmatch(r"RNCP\d{4,5}").all()
    assert offers["provider"].str.contains("Cnam").any()
    assert set(offers["modality"]) <= {"présentiel", "mixte", "à distance", "alternance"}


# ------------------------------------------------------------------------------ generator
def test_generator_is_deterministic(tmp_path):
    make_demo = _load_generator()
    paths = make_demo.main(tmp_path)
    files = demo_files()
    assert [p.name for p in paths] == [f"{n}.csv" for n in DEMO_TABLES]
    for name, bundled in files.items():
        assert filecmp.cmp(tmp_path / f"{name}.csv", bundled, shallow=False), name


def test_generator_cli_out_option(tmp_path):
    make_demo = _load_generator()
    make_demo._cli(["--out", str(tmp_path / "x"), "--seed", "1"])
    other = read_table(tmp_path / "x" / "employment.csv")
    bundled = read_table(demo_files()["employment"])
    assert list(other.columns) == list(bundled.columns)
    assert not other.equals(bundled)  # another seed gives other numbers


# ------------------------------------------------------------------------------ make_panel
def test_make_panel_shape_and_determinism():
    a = make_panel(7, 5, 12, random_state=3)
    b = make_panel(7, 5, 12, random_state=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(make_panel(7, 5, 12, random_state=4))
    assert list(a.columns) == ["territory", "occupation", "period", "value"]
    assert a.groupby(["territory", "occupation"]).ngroups == 35
    assert a["period"].min() == 2005 and a["period"].max() == 2016
    assert len(a) <= 35 * 12
    assert (a["value"] >= 0).all() and pd.api.types.is_integer_dtype(a["value"])
    assert a["territory"].map(type).eq(str).all() and a["territory"].iloc[0] == "00000"
    assert not a.duplicated(["territory", "occupation", "period"]).any()


def test_make_panel_has_short_zero_and_intermittent_series():
    panel = make_panel(40, 50, 20, random_state=0)
    g = panel.groupby(["territory", "occupation"])["value"]
    assert (g.size() < 20).mean() > 0.02  # short series
    assert (g.sum() == 0).any()  # all-zero series
    zeros = g.apply(lambda s: (s == 0).mean())
    assert ((zeros > 0.2) & (zeros < 1)).mean() > 0.02  # intermittent series


def test_make_panel_quarterly():
    q = make_panel(2, 3, 4, random_state=0, start_year=2010, freq="Q")
    assert isinstance(q["period"].dtype, pd.PeriodDtype)
    assert q["period"].min() >= pd.Period("2010Q1") and q["period"].max() == pd.Period("2013Q4")


@pytest.mark.parametrize(
    "kwargs", [dict(n_territories=0), dict(n_years=2.5), dict(freq="M"), dict(random_state="x")]
)
def test_make_panel_bad_arguments(kwargs):
    args = dict(n_territories=2, n_occupations=2, n_years=3) | kwargs
    with pytest.raises(ValueError):
        make_panel(**args)


def test_make_panel_large_is_fast():
    import time

    start = time.perf_counter()
    panel = make_panel(500, 200, 20, random_state=0)  # 100,000 series x 20 years
    elapsed = time.perf_counter() - start
    assert panel.groupby(["territory", "occupation"], sort=False).ngroups == 100_000
    assert elapsed < 10.0, elapsed  # about 1 s on one core


# --------------------------------------------------------------------------- make_hierarchy
def test_make_hierarchy_tree():
    data = make_hierarchy(25, 4, 6, random_state=2, n_departements=5, n_regions=2)
    terr = data.territories.set_index("territory")
    assert terr["level"].value_counts().to_dict() == {
        "epci": 25,
        "departement": 5,
        "region": 2,
        "nation": 1,
    }
    deps = terr[terr["level"] == "departement"]
    assert deps.index.str.fullmatch(r"\d{2}").all() and "01" in deps.index
    assert set(terr.loc[terr["level"] == "epci", "parent"]) == set(deps.index)  # none empty
    assert set(deps["parent"]) == set(terr.index[terr["level"] == "region"])
    emp = data.employment
    assert len(emp) == 25 * 4 * 6 and (emp["value"] >= 0).all()
    assert set(emp["territory"]) == set(terr.index[terr["level"] == "epci"])
    again = make_hierarchy(25, 4, 6, random_state=2, n_departements=5, n_regions=2)
    pd.testing.assert_frame_equal(emp, again.employment)
    with pytest.raises(ValueError):
        make_hierarchy(3, 2, 2, n_departements=5)


def test_make_panel_values_have_trends_and_noise():
    panel = make_panel(30, 30, 20, random_state=5)
    wide = panel.pivot_table(index=["territory", "occupation"], columns="period", values="value")
    wide = wide.dropna()
    wide = wide[wide.mean(axis=1) > 20]
    growth = np.log(wide[2024] + 1) - np.log(wide[2005] + 1)
    assert growth.std() > 0.2  # series differ in trend
    assert (wide.diff(axis=1).abs().sum(axis=1) > 0).all()  # no flat series among large ones
