"""Training-supply scenarios: more or fewer seats, a new offer, beside the baseline."""

import warnings

import numpy as np
import pandas as pd
import pytest

from gpec.config import ConfigError, resolve_config
from gpec.datasets import load_demo
from gpec.pipeline import run_pipeline
from gpec.scenarios import apply_supply_scenarios

KEYS = ["territory", "occupation", "period"]


@pytest.fixture
def ent():
    return pd.DataFrame(
        {
            "offer": ["o1", "o1", "o2"],
            "site": ["A", "A", "B"],
            "occupation": ["X", "Y", "X"],
            "share": [0.5, 0.5, 1.0],
            "entrants": [4.0, 4.0, 10.0],
        }
    )


def test_seats_change_selects_offers_sites_occupations_and_years(ent):
    out = apply_supply_scenarios(
        ent,
        [
            {"name": "s", "sites": ["A"], "occupations": ["X"], "from_year": 2027,
             "seats_change": 1.0},
            {"name": "s", "offers": ["o2"], "seats_change": -1.0},
        ],
        [2026, 2027],
    )  # fmt: skip
    got = out.set_index(["offer", "occupation", "period"])["entrants"].to_dict()
    assert got == {
        ("o1", "X", 2026): 4.0, ("o1", "X", 2027): 8.0,
        ("o1", "Y", 2026): 4.0, ("o1", "Y", 2027): 4.0,
        ("o2", "X", 2026): 0.0, ("o2", "X", 2027): 0.0,
    }  # fmt: skip
    assert (out["scenario"] == "s").all()


def test_new_seats_make_a_new_offer(ent):
    sc = {"name": "new", "site": "C", "occupations": ["X", "Y"], "from_year": 2027,
          "new_seats": 20, "completion_rate": 1.0, "placement_rate": 0.5}  # fmt: skip
    out = apply_supply_scenarios(ent, sc, [2026, 2027, 2028])
    new = out[out["offer"] == "scenario:new:1"]
    assert set(new["site"]) == {"C"} and set(new["reason"]) == {"scenario"}
    assert sorted(new["period"].unique()) == [2027, 2028]
    assert new.groupby("period")["entrants"].sum().tolist() == [10.0, 10.0]
    assert new["share"].tolist() == [0.5] * 4
    # the existing offers are untouched
    old = out[out["offer"] != "scenario:new:1"]
    assert old.groupby("offer")["entrants"].sum().to_dict() == {"o1": 24.0, "o2": 30.0}


def test_new_seats_with_shares(ent):
    sc = {"name": "new", "site": "C", "occupations": ["X", "Y"], "shares": [0.75, 0.25],
          "new_seats": 10, "completion_rate": 1.0, "placement_rate": 1.0}  # fmt: skip
    out = apply_supply_scenarios(ent, sc, [2026])
    new = out[out["offer"] == "scenario:new:1"].set_index("occupation")
    assert new["entrants"].to_dict() == {"X": 7.5, "Y": 2.5}
    assert new["share"].to_dict() == {"X": 0.75, "Y": 0.25}


@pytest.mark.parametrize(
    "sc, match",
    [
        ({"name": "x", "new_seats": 5, "site": "A", "occupations": ["X", "Y"], "shares": [0.5]},
         "one share >= 0 per occupation"),
        ({"name": "x", "new_seats": 5, "site": "A", "occupations": ["X", "Y"],
          "shares": [0.5, 0.6]}, "summing to 1"),
        ({"name": "x", "offers": ["nope"], "seats_change": 0.5}, "offers .* not found"),
        ({"name": "x", "new_seats": 10, "occupations": ["X"]}, "needs the 'site'"),
        ({"name": "x", "new_seats": 10, "site": "A"}, "needs the 'occupations'"),
        ({"name": "x", "seats_change": -2}, "below -1"),
        ({"name": "x", "new_seats": -5, "site": "A", "occupations": ["X"]}, ">= 0"),
        ({"name": "x", "new_seats": 5, "site": "A", "occupations": ["X"], "placement_rate": 2},
         r"\[0, 1\]"),
    ],
)  # fmt: skip
def test_supply_scenario_errors(ent, sc, match):
    with pytest.raises(ValueError, match=match):
        apply_supply_scenarios(ent, sc, [2026])


def test_config_checks_supply_scenarios_early():
    with pytest.raises(ConfigError, match="needs the 'site'"):
        resolve_config({"scenarios": [{"name": "x", "new_seats": 10, "occupations": ["X"]}]})
    with pytest.raises(ConfigError, match="did you mean 'seats_change'"):
        resolve_config({"scenarios": [{"name": "x", "seat_change": 1.0}]})


def _run(data, scenarios=(), scale=1.0):
    offers = data.training_offers.assign(seats=data.training_offers["seats"] * scale)
    cfg = {"forecast": {"horizon": 2}, "scenarios": list(scenarios)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_pipeline(data.replace(training_offers=offers), cfg)


@pytest.fixture(scope="module")
def demo_runs():
    data = load_demo()
    gap_occ = None
    base = _run(data)
    g = base.gaps.groupby(["territory", "occupation"])["gap"].sum()
    territory, gap_occ = g.idxmax()
    scenarios = [
        {"name": "double", "seats_change": 1.0},
        {"name": "none", "seats_change": -1.0},
        {"name": "new_offer", "site": territory, "occupations": [gap_occ], "new_seats": 50},
        {"name": "both", "territories": [territory], "occupations": [gap_occ], "change": -0.2},
        {"name": "both", "seats_change": 1.0},
    ]
    return {
        "data": data,
        "scenarios": _run(data, scenarios).scenarios,
        "doubled": _run(data, scale=2.0).gaps,
        "zero": _run(data, scale=0.0).gaps,
        "cell": (territory, gap_occ),
    }


def _scenario(res, name):
    return res["scenarios"][res["scenarios"]["scenario"] == name].set_index(KEYS).sort_index()


def test_seats_scenarios_equal_runs_with_scaled_seats(demo_runs):
    for name, ref in (("double", demo_runs["doubled"]), ("none", demo_runs["zero"])):
        sc = _scenario(demo_runs, name)
        ref = ref.groupby(KEYS)[["openings", "entrants_allocated", "gap"]].sum().sort_index()
        np.testing.assert_allclose(sc["gap"], ref["gap"], atol=1e-6)
        np.testing.assert_allclose(sc["entrants_allocated"], ref["entrants_allocated"], atol=1e-6)
    none = _scenario(demo_runs, "none")
    np.testing.assert_allclose(none["gap"], none["openings"].clip(lower=0), atol=1e-6)


def test_new_offer_lowers_gaps_and_raises_none(demo_runs):
    base, new = _scenario(demo_runs, "baseline"), _scenario(demo_runs, "new_offer")
    assert (new["gap"] <= base["gap"] + 1e-6).all()
    territory, occ = demo_runs["cell"]
    yearly = 50 * 0.8 * 0.7  # new seats x default completion x default placement
    drop = (base["gap"] - new["gap"]).groupby(level="period").sum()
    assert (drop > 0).all() and (drop <= yearly + 1e-6).all()
    changed = (base["gap"] - new["gap"]).abs() > 1e-6
    assert set(new.index[changed].get_level_values("occupation")) == {occ}


def test_entries_sharing_a_name_form_one_scenario(demo_runs):
    names = list(pd.unique(demo_runs["scenarios"]["scenario"]))
    assert names == ["baseline", "double", "none", "new_offer", "both"]
    both = _scenario(demo_runs, "both")
    base = _scenario(demo_runs, "baseline")
    territory, occ = demo_runs["cell"]
    # the demand entry lowers that cell's openings, the supply entry doubles every offer
    cell = both.xs((territory, occ), level=["territory", "occupation"])
    ref = base.xs((territory, occ), level=["territory", "occupation"])
    assert (cell["openings"] < ref["openings"]).all()
    assert (both["gap"] <= base["gap"] + 1e-6).all()


def test_pipeline_supply_interval_widens_the_gap_bounds_only():
    data = load_demo()
    short = {"forecast": {"horizon": 2}}
    base = run_pipeline(data, resolve_config(short))
    cfg = resolve_config(
        {**short, "supply": {"completion_range": [0.6, 0.9], "placement_range": [0.5, 0.8]}}
    )
    wide = run_pipeline(data, cfg)
    a, b = base.gaps, wide.gaps
    assert np.array_equal(a["gap"].to_numpy(), b["gap"].to_numpy())
    assert (b["gap_lower"] <= a["gap_lower"] + 1e-9).all()
    assert (b["gap_upper"] >= a["gap_upper"] - 1e-9).all()
    assert b["gap_upper"].sum() > a["gap_upper"].sum()
    # a real interval: some cells get fewer entrants at the low end, some more at the high end
    # (that each end is its own allocation is checked against separate solves in test_gap)
    assert (b["entrants_allocated_low"] < b["entrants_allocated"] - 1e-6).any()
    assert (b["entrants_allocated_high"] > b["entrants_allocated"] + 1e-6).any()
    assert "entrants_allocated_low" not in a.columns
    assert wide.provenance["config"]["supply"]["placement_range"] == [0.5, 0.8]


@pytest.mark.parametrize(
    "supply, message",
    [
        ({"completion_range": [0.85, 0.95]}, "completion_range must be"),
        ({"placement_range": [0.5]}, "placement_range must be"),
        ({"placement_range": [0.8, 0.5]}, "placement_range must be"),
        ({"placement_range": "0.5-0.8"}, "must be of type list"),
    ],
)
def test_config_checks_rate_ranges(supply, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config({"supply": supply})


def test_scenario_values_must_be_finite_numbers():
    """TOML allows nan and inf: a scenario with change = nan would give NaN forecasts."""
    from gpec.scenarios import normalize_scenarios

    for key, value in (("change", float("nan")), ("absolute", float("inf")), ("change", "10%")):
        with pytest.raises(ValueError, match=rf"scenario 's': {key} must be a"):
            normalize_scenarios({"name": "s", key: value})
    assert normalize_scenarios({"name": "s", "change": 0.1})
