"""The configuration checked against the loaded data (gpec.config.check_against_data): levels,
scenario codes and years are caught before any forecast, with messages naming the key, the
scenario and what the data do have."""

import pytest

from gpec.config import ConfigError, check_against_data, resolve_config
from gpec.datasets import load_demo


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def _check(data, raw, where="study.toml"):
    return check_against_data(resolve_config(raw, where=where), data)


def test_demo_config_is_clean(demo):
    from gpec.cli import DEMO_SCENARIOS

    assert _check(demo, {"scenarios": DEMO_SCENARIOS}) == []


@pytest.mark.parametrize("level", ["EPCI", "zone_emploi"])
def test_unknown_run_level_lists_the_levels(demo, level):
    with pytest.raises(ConfigError) as err:
        _check(demo, {"run": {"level": level}})
    msg = str(err.value)
    assert msg.startswith("study.toml: [run] level = ")
    assert "territories table (territories.csv)" in msg
    assert "its levels are: departement, epci, nation, region" in msg
    assert ("did you mean 'epci'" in msg) == (level == "EPCI")


def test_level_without_employment(demo):
    emp = demo.employment
    data = demo.replace(employment=emp[emp["territory"].str.len() == 9])  # EPCI rows only
    with pytest.raises(ConfigError, match=r"\[run\] level = 'departement': no row of the "):
        _check(data, {"run": {"level": "departement"}})


def test_catchment_and_site_levels(demo):
    with pytest.raises(ConfigError, match=r"\[catchment\] level = 'canton' is not a level"):
        _check(demo, {"catchment": {"method": "parent", "level": "canton"}})
    # with method = "distance" the catchment level is not used
    assert _check(demo, {"catchment": {"level": "canton"}}) == []
    with pytest.raises(ConfigError, match=r"\[supply\] site_level = 'departemnt'.*departement"):
        _check(demo, {"supply": {"site_level": "departemnt"}})


def test_scenario_codes_name_the_scenario(demo):
    raw = {
        "scenarios": [
            {
                "name": "fermeture",
                "territories": ["200043172"],
                "occupations": ["H2909", "X9999"],
                "change": -0.5,
            },
            {"name": "new CAP", "site": "200065598", "occupations": ["H2913"], "new_seats": 12},
            {"name": "more seats", "offers": ["nope"], "seats_change": 0.5},
        ]
    }
    with pytest.raises(ConfigError) as err:
        _check(demo, raw)
    lines = str(err.value).splitlines()
    assert lines == [
        "study.toml: [[scenarios]] 'fermeture': territories 200043172 not in the territories "
        "table (territories.csv)",
        "study.toml: [[scenarios]] 'fermeture': occupations X9999 not in the occupations "
        "table (occupations.csv)",
        "study.toml: [[scenarios]] 'new CAP': site 200065598 not in the territories table "
        "(territories.csv)",
        "study.toml: [[scenarios]] 'more seats': offers nope not in the training_offers table "
        "(training_offers.csv)",
    ]


def test_scenario_territory_at_another_level(demo):
    raw = {"scenarios": [{"name": "dep", "territories": ["08"], "change": -0.1}]}
    with pytest.raises(ConfigError, match=r"'dep': territories 08 are not at the level of the "):
        _check(demo, raw)


def test_from_year_after_the_horizon_is_a_note(demo):
    last = int(demo.employment["period"].max())
    raw = {
        "forecast": {"horizon": 3},
        "scenarios": [
            {"name": "late", "territories": ["200041630"], "from_year": last + 4, "change": -0.1},
            {"name": "in time", "territories": ["200041630"], "from_year": last + 3, "change": 1},
        ],
    }
    notes = _check(demo, raw)
    assert notes == [
        f"[[scenarios]] 'late': from_year {last + 4} is after the last forecast year "
        f"{last + 3} (last observed year {last} + [forecast] horizon 3): this entry changes "
        "nothing"
    ]


def test_report_series_and_occupation_level(demo):
    with pytest.raises(ConfigError, match=r"\[report\] territory = 'ZZ' is not in the territ"):
        _check(demo, {"report": {"territory": "ZZ"}})
    occ = demo.occupations.assign(level=["fiche"] * len(demo.occupations))
    data = demo.replace(occupations=occ)
    with pytest.raises(ConfigError, match=r"occupation_level = 'fap225'.*levels are: fiche"):
        _check(data, {"run": {"occupation_level": "fap225"}})
    notes = _check(data, {"run": {"exclude_occupations": ["T2Z60"]}})
    assert len(notes) == 1 and "T2Z60" in notes[0]


def test_without_tables_nothing_to_check():
    from gpec import GpecData

    assert _check(GpecData(), {"run": {"level": "anything"}}) == []
