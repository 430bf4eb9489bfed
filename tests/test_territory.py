"""Tests of gpec.territory: ancestors, aggregation, catchments, profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _helpers import territory_table
from hypothesis import given, settings
from hypothesis import strategies as st

from gpec.territory import (
    TerritoryHierarchy,
    aggregate,
    ancestors,
    catchment,
    haversine_km,
    profile,
)


@pytest.fixture
def tree() -> pd.DataFrame:
    """France > 2 regions > 3 departements > 5 EPCI, plus one EPCI attached to its region
    directly (skipped level) and one commune under E1."""
    rows = [
        ("FR", "France", "nation", None, 46.6, 2.4),
        ("28", "Normandie", "region", "FR", 49.2, 0.4),
        ("44", "Grand Est", "region", "FR", 48.7, 6.2),
        ("76", "Seine-Maritime", "departement", "28", 49.6, 1.0),
        ("14", "Calvados", "departement", "28", 49.1, -0.4),
        ("67", "Bas-Rhin", "departement", "44", 48.6, 7.6),
        ("E1", "Rouen", "epci", "76", 49.44, 1.10),
        ("E2", "Le Havre", "epci", "76", 49.49, 0.11),
        ("E3", "Caen", "epci", "14", 49.18, -0.37),
        ("E4", "Strasbourg", "epci", "67", 48.57, 7.75),
        ("E5", "Sélestat", "epci", "67", 48.26, 7.45),
        ("E6", "Metz (no dept)", "epci", "44", 49.12, 6.18),
        ("C1", "Rouen commune", "commune", "E1", 49.443, 1.099),
    ]
    return pd.DataFrame(rows, columns=["territory", "label", "level", "parent", "lat", "lon"])


# ----------------------------------------------------------------------------- ancestors
def test_ancestors_levels_and_skipped_level(tree):
    dep = ancestors(tree, "departement")
    assert dep["E1"] == "76" and dep["C1"] == "76" and dep["76"] == "76"
    assert pd.isna(dep["E6"])  # its chain skips the departement level
    assert pd.isna(dep["28"]) and pd.isna(dep["FR"])  # above the level
    reg = ancestors(tree, "region")
    assert reg["E6"] == "44" and reg["C1"] == "28" and reg["E5"] == "44"
    assert reg.index.name == "territory"
    assert ancestors(tree, "nation").dropna().eq("FR").all()


def test_ancestors_errors(tree):
    with pytest.raises(ValueError, match="level 'zone'"):
        ancestors(tree, "zone")
    bad = tree.copy()
    bad.loc[3, "parent"] = "99"
    with pytest.raises(ValueError, match="parent '99'.*row 3"):
        ancestors(bad, "region")


def test_codes_stay_strings():
    t = territory_table(("01", "region", None), ("2A", "departement", "01"), ("0051", "epci", "2A"))
    assert ancestors(t, "region").tolist() == ["01", "01", "01"]
    assert list(ancestors(t, "region").index) == ["01", "2A", "0051"]


def test_hierarchy_class(tree):
    h = TerritoryHierarchy(tree)
    assert h.levels_ == ["nation", "region", "departement", "epci", "commune"]
    assert h.ancestors("region")["E3"] == "28"
    assert set(h.bottom("epci")) == {"E1", "E2", "E3", "E4", "E5", "E6"}


# ----------------------------------------------------------------------------- aggregate
def test_aggregate_sums_and_keys(tree):
    emp = pd.DataFrame(
        {
            "territory": ["E1", "E2", "E3", "E4", "E6", "E1"],
            "occupation": ["X", "X", "X", "X", "X", "Y"],
            "period": 2020,
            "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "territory_label": "dropped",
        }
    )
    out = aggregate(emp, tree, "region", "value")
    assert list(out.columns) == ["territory", "occupation", "period", "value"]
    got = out.set_index(["territory", "occupation"])["value"].to_dict()
    assert got == {("28", "X"): 6.0, ("28", "Y"): 6.0, ("44", "X"): 9.0}
    with pytest.raises(ValueError, match="no ancestor at level 'departement'.*row 4"):
        aggregate(emp, tree, "departement", "value")
    bad = emp.copy()
    bad.loc[2, "territory"] = "ZZ"
    with pytest.raises(ValueError, match="'ZZ' is not in table 'territories' \\(row 2"):
        aggregate(bad, tree, "region", "value")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["E1", "E2", "E3", "E4", "E5", "E6"]),
            st.sampled_from(["A", "B", "C"]),
            st.integers(2019, 2021),
            st.floats(0, 1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_aggregate_preserves_totals(rows):
    t = pd.DataFrame(
        {
            "territory": ["FR", "R1", "R2", "E1", "E2", "E3", "E4", "E5", "E6"],
            "label": "x",
            "level": ["nation", "region", "region"] + ["epci"] * 6,
            "parent": [None, "FR", "FR", "R1", "R1", "R1", "R2", "R2", "R2"],
        }
    )
    df = pd.DataFrame(rows, columns=["territory", "occupation", "period", "value"])
    for lvl in ("region", "nation"):
        out = aggregate(df, t, lvl, ["value"])
        assert np.isclose(out["value"].sum(), df["value"].sum(), rtol=1e-12, atol=1e-6)
        per_period = out.groupby("period")["value"].sum()
        np.testing.assert_allclose(per_period, df.groupby("period")["value"].sum())


# ----------------------------------------------------------------------------- catchment
def test_haversine_one_degree():
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(111.195, abs=0.01)
    assert haversine_km(49.0, 1.0, 49.0, 1.0) == 0.0


def test_catchment_distance_symmetry_decay_and_max(tree):
    c = catchment(tree, method="distance", max_km=80.0, decay_km=25.0, bottom_level="epci")
    assert list(c.columns) == ["site", "territory", "distance_km", "weight"]
    d = c.set_index(["site", "territory"])["distance_km"]
    # symmetry: a -> b and b -> a have the same distance, and both exist
    for (a, b), v in d.items():
        assert d[(b, a)] == pytest.approx(v)
    # own territory at distance 0, weight 1
    own = c[c["site"] == c["territory"]]
    assert set(own["site"]) == {"E1", "E2", "E3", "E4", "E5", "E6"}
    assert (own["distance_km"] == 0).all() and (own["weight"] == 1).all()
    # decay and radius
    np.testing.assert_allclose(c["weight"], np.exp(-c["distance_km"] / 25.0))
    assert (c["distance_km"] <= 80.0).all()
    assert c["weight"].between(0, 1, inclusive="right").all()
    # Rouen - Le Havre ~ 72 km: inside 80 km, outside 50 km
    assert ("E1", "E2") in d.index
    c50 = catchment(tree, ["E1"], max_km=50.0, bottom_level="epci")
    assert c50["territory"].tolist() == ["E1"]
    # weights decrease with distance for one site
    s = c[c["site"] == "E4"]
    assert s["distance_km"].is_monotonic_increasing and s["weight"].is_monotonic_decreasing


def test_catchment_own_territory_always_served(tree):
    c = catchment(tree, ["E6", "76", "C1"], max_km=1.0, bottom_level="epci")
    pairs = set(map(tuple, c[["site", "territory"]].to_numpy()))
    assert ("E6", "E6") in pairs  # far from anything else
    assert {("76", "E1"), ("76", "E2")} <= pairs  # a departement serves its EPCI
    assert ("C1", "E1") in pairs  # a commune site maps to its EPCI
    assert set(c["territory"]) <= {"E1", "E2", "E3", "E4", "E5", "E6"}


def test_catchment_parent_method(tree):
    c = catchment(tree, ["E1", "E4"], method="parent", level="departement", bottom_level="epci")
    got = c.groupby("site")["territory"].apply(set).to_dict()
    assert got == {"E1": {"E1", "E2"}, "E4": {"E4", "E5"}}
    assert c["distance_km"].notna().all()
    far = c[(c["site"] == "E1") & (c["territory"] == "E2")]["distance_km"].iloc[0]
    assert far == pytest.approx(haversine_km(49.44, 1.10, 49.49, 0.11))
    reg = catchment(tree, ["E6"], method="parent", level="region", bottom_level="epci")
    assert set(reg["territory"]) == {"E4", "E5", "E6"}
    # distance + same region
    c2 = catchment(tree, ["E4"], max_km=500, within="region", bottom_level="epci")
    assert set(c2["territory"]) == {"E4", "E5", "E6"}
    # level is only used by method="parent": a distance catchment crosses departements
    c3 = catchment(tree, ["E4"], max_km=500, level="departement", bottom_level="epci")
    assert "E6" in set(c3["territory"]) and "E1" in set(c3["territory"])


def test_catchment_errors(tree):
    with pytest.raises(ValueError, match="needs a level"):
        catchment(tree, method="parent")
    with pytest.raises(ValueError, match="not in table"):
        catchment(tree, ["NOPE"])
    nocoord = tree.copy()
    nocoord.loc[7, "lat"] = np.nan
    with pytest.raises(ValueError, match="'E2' has no centroid"):
        catchment(nocoord, ["E1"], bottom_level="epci")
    with pytest.raises(ValueError, match="max_km"):
        catchment(tree, max_km=0)


def test_catchment_is_deterministic(tree):
    a = catchment(tree, ["E5", "E1", "E4"], max_km=200, bottom_level="epci")
    b = catchment(tree, ["E4", "E1", "E5"], max_km=200, bottom_level="epci")
    pd.testing.assert_frame_equal(a, b)


# ----------------------------------------------------------------------------- profile
def test_profile_hand_computed():
    # A: X 60, Y 40 ; B: X 100 ; reference: X 160/200 = 0.8, Y 0.2
    emp = pd.DataFrame(
        {
            "territory": ["A", "A", "B"],
            "occupation": ["X", "Y", "X"],
            "period": 2020,
            "value": [60.0, 40.0, 100.0],
        }
    )
    p = profile(emp, declining=["Y"]).set_index("territory")
    assert p.loc["A", "hhi"] == pytest.approx(0.36 + 0.16)
    assert p.loc["B", "hhi"] == pytest.approx(1.0)
    assert p.loc["A", "n_effective"] == pytest.approx(1 / 0.52)
    # Krugman: A |0.6-0.8|+|0.4-0.2| = 0.4 ; B |1-0.8| + |0-0.2| = 0.4 (absent Y counts)
    assert p.loc["A", "krugman"] == pytest.approx(0.4)
    assert p.loc["B", "krugman"] == pytest.approx(0.4)
    assert p.loc["A", "declining_share"] == pytest.approx(0.4)
    assert p.loc["B", "declining_share"] == pytest.approx(0.0)
    assert p.loc["A", "top_occupation"] == "X" and p.loc["A", "top_share"] == pytest.approx(0.6)
    assert p.loc["A", "n_occupations"] == 2


def test_profile_trend_and_labels(tree):
    emp = pd.DataFrame(
        {
            "territory": ["E1", "E1", "E1", "E1", "E2", "E2"],
            "occupation": ["X", "X", "Y", "Y", "X", "X"],
            "period": [2019, 2020, 2019, 2020, 2019, 2020],
            "value": [10.0, 8.0, 5.0, 9.0, 4.0, 4.0],
        }
    )
    p = profile(emp, tree).set_index("territory")
    # X total 14 -> 12 (declining), Y 5 -> 9
    assert p.loc["E1", "declining_share"] == pytest.approx(8 / 17)
    assert p.loc["E2", "declining_share"] == pytest.approx(1.0)
    assert p.loc["E1", "label"] == "Rouen" and p.loc["E1", "level"] == "epci"
    assert (p["period"] == 2020).all()
    one = profile(emp[emp["period"] == 2020])
    assert one["declining_share"].isna().all()  # no trend from a single period


def test_profile_rejects_negative():
    emp = pd.DataFrame({"territory": ["A"], "occupation": ["X"], "period": [2020], "value": [-1.0]})
    with pytest.raises(ValueError, match="row 0, column 'value'"):
        profile(emp)
