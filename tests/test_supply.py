import numpy as np
import pandas as pd
import pytest
from _helpers import four_profiles

from gpec.scenarios import apply_supply_scenarios
from gpec.supply import entrants, entrants_interval, mapping_quality
from gpec.supply.matching import OfferMatcher


@pytest.fixture
def occupations():
    return four_profiles()[["occupation", "label"]].assign(system="ROME4")


@pytest.fixture
def profiles():
    return four_profiles()


def test_entrants_arithmetic_and_defaults():
    offers = pd.DataFrame(
        {
            "offer": ["A", "B", "C"],
            "site": ["14118", "76540", "14118"],
            "seats": [10, 20, 0],
            "rome": ["H2913", "G1602", "F1703"],
            "completion_rate": [0.5, None, 1.0],
            "placement_rate": [0.5, 0.9, None],
        }
    )
    t = entrants(offers, completion_default=0.8, placement_default=0.7).set_index("offer")
    assert t.loc["A", "entrants"] == pytest.approx(10 * 0.5 * 0.5)
    assert t.loc["B", "entrants"] == pytest.approx(20 * 0.8 * 0.9)
    assert t.loc["C", "entrants"] == 0
    assert t.loc["A", "defaulted"] == "" and t.loc["B", "defaulted"] == "completion"
    assert t.loc["C", "defaulted"] == "placement"
    assert t.loc["B", "completion_rate"] == 0.8
    # no rate columns at all -> both defaulted
    t2 = entrants(offers.drop(columns=["completion_rate", "placement_rate"]))
    assert (t2["defaulted"] == "completion;placement").all()
    assert t2["entrants"].tolist() == pytest.approx([10 * 0.56, 20 * 0.56, 0])
    assert list(t2.columns[:7]) == [
        "offer",
        "site",
        "occupation",
        "share",
        "entrants",
        "score",
        "reason",
    ]


def test_code_beats_text_and_shares_sum_to_one(occupations, profiles):
    offers = pd.DataFrame(
        {
            "offer": ["A", "B", "C", "D"],
            "site": ["1", "2", "3", "4"],
            "seats": [10, 10, 10, 10],
            "title": ["Soudeur TIG", "Soudeur TIG", "CAP cuisine", "Philosophie antique"],
            "description": [None, None, "cuisinier en restaurant", None],
            "rome": ["J1506", "H2913;F1703:3", None, None],
        }
    )
    m = OfferMatcher(min_score=0.15)
    t = entrants(offers, occupations, matcher=m, profiles=profiles, top_k=3)
    # code wins over text: the title says welder but the code says nurse
    a = t[t["offer"] == "A"]
    assert a["occupation"].tolist() == ["J1506"] and a["reason"].tolist() == ["code"]
    b = t[t["offer"] == "B"].set_index("occupation")["share"]
    assert b.to_dict() == pytest.approx({"H2913": 0.25, "F1703": 0.75})
    c = t[t["offer"] == "C"]
    assert (c["reason"] == "text").all() and c.iloc[0]["occupation"] == "G1602"
    assert (c["score"] >= 0.15).all()
    d = t[t["offer"] == "D"]
    assert d["reason"].tolist() == ["unmapped"] and d["occupation"].isna().all()
    assert d["entrants"].iloc[0] == pytest.approx(10 * 0.56)
    # every offer kept, shares sum to 1, entrants preserved
    assert set(t["offer"]) == set(offers["offer"])
    assert t.groupby("offer")["share"].sum().to_numpy() == pytest.approx(np.ones(4))
    assert t["entrants"].sum() == pytest.approx(40 * 0.56)


def test_user_flexibility_wins(occupations):
    offers = pd.DataFrame({"offer": ["A"], "site": ["1"], "seats": [100], "rome": ["H2913"]})
    flex = pd.DataFrame({"offer": ["A", "A"], "occupation": ["H2913", "F1703"], "share": [3, 1]})
    t = entrants(offers, occupations, flexibility=flex)
    assert (t["reason"] == "user").all()
    assert t.set_index("occupation")["share"].to_dict() == pytest.approx(
        {"H2913": 0.75, "F1703": 0.25}
    )


def test_crosswalk_mapping_and_rejected_codes(occupations):
    cw = pd.DataFrame(
        {
            "source_system": ["RNCP", "RNCP", "FORMACODE", "ROME3"],
            "source": ["RNCP1234", "RNCP1234", "22454", "H2913"],
            "target_system": ["ROME4", "ROME4", "ROME4", "ROME4"],
            "target": ["H2913", "F1703", "G1602", "J1506"],
            "weight": [0.6, 0.4, 1.0, 1.0],
        }
    )
    offers = pd.DataFrame(
        {
            "offer": ["A", "B", "C", "D"],
            "site": ["1"] * 4,
            "seats": [10] * 4,
            "rome": [None, None, "Z9999;H2913", "Z9999"],
            "rncp": ["RNCP1234", None, None, None],
            "formacode": ["22454", "22454", None, None],
        }
    )
    with pytest.warns(UserWarning, match="not in the occupations table"):
        t = entrants(offers, occupations, crosswalks=cw)
    a = t[t["offer"] == "A"].set_index("occupation")
    assert a["share"].to_dict() == pytest.approx({"H2913": 0.6, "F1703": 0.4})  # RNCP first
    assert (a["source"] == "rncp").all() and (a["reason"] == "code").all()
    b = t[t["offer"] == "B"]
    assert b["occupation"].tolist() == ["G1602"] and b["source"].iloc[0] == "formacode"
    c = t[t["offer"] == "C"]
    assert c["occupation"].tolist() == ["H2913"] and "Z9999" in c["warning"].iloc[0]
    d = t[t["offer"] == "D"]
    assert d["reason"].tolist() == ["unmapped"] and "Z9999" in d["warning"].iloc[0]
    rej = t.attrs["rejected"]
    assert set(rej["offer"]) == {"C", "D"} and set(rej["value"]) == {"Z9999"}


def test_mapping_quality_sums_to_one(occupations, profiles):
    offers = pd.DataFrame(
        {
            "offer": ["A", "B", "C", "D"],
            "site": ["1"] * 4,
            "seats": [10, 30, 40, 20],
            "title": ["x", "y", "Soudeuse à l'arc", "zzz"],
            "rome": ["H2913", None, None, None],
        }
    )
    flex = pd.DataFrame({"offer": ["B"], "occupation": ["J1506"], "share": [1.0]})
    t = entrants(
        offers,
        occupations,
        flexibility=flex,
        profiles=profiles,
        matcher=OfferMatcher(min_score=0.1),
    )
    q = mapping_quality(t).set_index("reason")
    assert q.index.tolist() == ["override", "user", "code", "text", "unmapped"]
    assert q["seats_share"].sum() == pytest.approx(1.0)
    assert q["entrants_share"].sum() == pytest.approx(1.0)
    assert q["offers"].to_dict() == {"override": 0, "user": 1, "code": 1, "text": 1, "unmapped": 1}
    assert q.loc["text", "seats_share"] == pytest.approx(0.4)
    assert q.loc["unmapped", "seats"] == pytest.approx(20)


def test_bad_input_named():
    good = pd.DataFrame({"offer": ["A", "A"], "site": ["1", "2"], "seats": [1, 2]})
    with pytest.raises(ValueError, match="duplicate offer 'A'"):
        entrants(good)
    with pytest.raises(ValueError, match="seats"):
        entrants(pd.DataFrame({"offer": ["A"], "site": ["1"], "seats": [-1]}))
    with pytest.raises(ValueError, match="completion_rate"):
        entrants(
            pd.DataFrame({"offer": ["A"], "site": ["1"], "seats": [1], "completion_rate": [1.5]})
        )
    with pytest.raises(ValueError, match="site"):
        entrants(pd.DataFrame({"offer": ["A"], "seats": [1]}))


def test_unknown_seats_are_kept_and_flagged():
    import numpy as np
    import pandas as pd

    from gpec.supply import entrants

    offers = pd.DataFrame(
        {
            "offer": ["A", "B"],
            "title": ["Soudage", "Soudage"],
            "site": ["14", "14"],
            "seats": [None, 10.0],
            "rome": ["H2913", "H2913"],
        }
    )
    occ = pd.DataFrame({"occupation": ["H2913"], "label": ["Soudeur"]})
    with pytest.warns(UserWarning, match="1 offer\\(s\\) with unknown seats"):
        out = entrants(offers, occ)
    a = out[out["offer"] == "A"]
    assert len(a) == 1 and a["entrants"].iloc[0] == 0.0
    assert np.isnan(a["seats"].iloc[0])  # unknown stays empty, never 0
    assert "seats unknown" in a["warning"].iloc[0]
    assert np.isclose(out.loc[out["offer"] == "B", "entrants"].sum(), 10 * 0.8 * 0.7)
    bad = offers.assign(seats=["douze", 10.0])
    try:
        entrants(bad, occ)
    except ValueError as exc:
        assert "row" in str(exc) and "seats" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("text seats must be refused")


def test_text_matching_uses_known_titles(occupations, profiles):
    offers = pd.DataFrame(
        {"offer": ["A"], "site": ["01001"], "seats": [10.0], "title": ["Formation braseur"]}
    )
    titles = pd.DataFrame({"occupation": ["H2913"], "title": ["Braseur / Braseuse"]})
    kw = dict(profiles=profiles, completion_default=1.0, placement_default=1.0, top_k=1)
    without = entrants(offers, occupations, **kw)
    with_titles = entrants(offers, occupations, titles=titles, **kw)
    assert without["occupation"].tolist() != ["H2913"]
    assert with_titles["occupation"].tolist() == ["H2913"]
    assert with_titles["reason"].tolist() == ["text"] and with_titles["entrants"].sum() == 10


def test_pipeline_known_titles_are_the_runs_rome_appellations(occupations):
    from gpec._data import GpecData
    from gpec.config import SupplyConfig
    from gpec.pipeline import _known_titles

    app = pd.DataFrame(
        {
            "appellation": ["1", "2"],
            "label": ["Braseur / Braseuse", "Titre d'une autre nomenclature"],
            "occupation": ["H2913", "X9999"],
        }
    )
    data = GpecData(occupations=occupations, extra={"appellations": app})
    sp = SupplyConfig()
    assert _known_titles(data, sp)["label"].tolist() == ["Braseur / Braseuse"]
    assert _known_titles(data, SupplyConfig(match_titles=False)) is None
    assert _known_titles(GpecData(occupations=occupations), sp) is None


def test_pipeline_matches_offers_to_the_levels_with_employment():
    from gpec._data import GpecData
    from gpec.pipeline import _matchable

    occ = pd.DataFrame(
        {
            "occupation": ["H", "H29", "H2913"],
            "label": ["Industrie", "Mécanique", "Soudeur"],
            "level": ["grand_domaine", "domaine_professionnel", "fiche"],
        }
    )
    emp = pd.DataFrame({"territory": ["01"], "occupation": ["H2913"], "period": [2024],
                        "value": [10.0]})  # fmt: skip
    assert _matchable(GpecData(occupations=occ, employment=emp))["occupation"].tolist() == ["H2913"]
    assert len(_matchable(GpecData(occupations=occ))) == 3  # no employment: every occupation


def test_titles_follow_the_occupation_system_of_the_run():
    from gpec._data import GpecData
    from gpec.config import resolve_config
    from gpec.referentials.harmonize import harmonize

    occ = pd.DataFrame(
        {
            "occupation": ["H2913", "H2914", "D1Z41", "D1Z40"],
            "label": ["Soudeur", "Réalisateur de structures", "Soudeurs", "Chaudronniers"],
            "system": ["ROME4", "ROME4", "FAP2009", "FAP2009"],
        }
    )
    cw = pd.DataFrame(
        {
            "source_system": "ROME4",
            "source": ["H2913", "H2914", "H2914"],
            "target_system": "FAP2009",
            "target": ["D1Z41", "D1Z40", "D1Z41"],
            "weight": [1.0, 0.7, 0.3],
        }
    )
    app = pd.DataFrame(
        {
            "appellation": ["1", "2", "3"],
            "label": ["Soudeur TIG", "Chaudronnier", "Titre sans correspondance"],
            "occupation": ["H2913", "H2914", "X9999"],
        }
    )
    data = GpecData(occupations=occ, crosswalks=cw, extra={"appellations": app})
    out = harmonize(data, resolve_config({"run": {"occupation_system": "FAP2009"}}))
    titles = out.extra["appellations"].sort_values(["appellation", "occupation"])
    assert titles[["appellation", "occupation", "occupation_source"]].values.tolist() == [
        ["1", "D1Z41", "H2913"],
        ["2", "D1Z40", "H2914"],
        ["2", "D1Z41", "H2914"],
    ]
    assert set(out.occupations["occupation"]) == {"D1Z41", "D1Z40"}


def test_entrants_interval_varies_only_the_defaulted_rates():
    offers = pd.DataFrame(
        {
            "offer": ["F1", "F2", "F3", "F4"],
            "site": ["1", "1", "2", "2"],
            "seats": [10, 10, 10, 0],
            "rome": ["H2913", "H2913", "J1506;J1507", "H2913"],
            "completion_rate": [0.9, None, None, None],
            "placement_rate": [0.6, 0.6, None, None],
        }
    )
    ent = entrants(offers)
    same = entrants_interval(ent)
    assert np.array_equal(same["entrants_low"], ent["entrants"])
    assert np.array_equal(same["entrants_high"], ent["entrants"])
    t = entrants_interval(ent, completion_range=(0.6, 0.9), placement_range=(0.5, 0.8))
    by = t.set_index(["offer", "occupation"])
    # F1: both rates given, fixed
    assert by.loc[("F1", "H2913"), "entrants_low"] == pytest.approx(10 * 0.9 * 0.6)
    assert by.loc[("F1", "H2913"), "entrants_high"] == pytest.approx(10 * 0.9 * 0.6)
    # F2: completion defaulted (0.8), placement given
    assert by.loc[("F2", "H2913"), "entrants_low"] == pytest.approx(10 * 0.6 * 0.6)
    assert by.loc[("F2", "H2913"), "entrants_high"] == pytest.approx(10 * 0.9 * 0.6)
    # F3: both defaulted, half of the trainees to each occupation
    assert by.loc[("F3", "J1506"), "entrants_low"] == pytest.approx(10 * 0.6 * 0.5 / 2)
    assert by.loc[("F3", "J1507"), "entrants_high"] == pytest.approx(10 * 0.9 * 0.8 / 2)
    assert by.loc[("F4", "H2913"), "entrants_high"] == 0.0
    assert (t["entrants_low"] <= t["entrants"]).all()
    assert (t["entrants"] <= t["entrants_high"]).all()
    assert ent.columns.tolist() == t.columns.tolist()[:-2]  # the input is not modified


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"completion_range": (0.85, 0.95)}, "does not contain the default completion rate 0.8"),
        ({"placement_range": (0.8, 0.5)}, "low <= high"),
        ({"placement_range": (0.5, 1.2)}, "low <= high"),
        ({"completion_range": 0.5}, "two rates"),
    ],
)
def test_entrants_interval_bad_ranges(kw, message):
    ent = entrants(pd.DataFrame({"offer": ["F1"], "site": ["1"], "seats": [5], "rome": ["H2913"]}))
    with pytest.raises(ValueError, match=message):
        entrants_interval(ent, **kw)
    with pytest.raises(ValueError, match="no column 'defaulted'"):
        entrants_interval(ent.drop(columns="defaulted"), completion_range=(0.7, 0.9))


def test_supply_scenarios_scale_the_interval_and_describe_new_offers():
    offers = pd.DataFrame({"offer": ["F1"], "site": ["1"], "seats": [10], "rome": ["H2913"]})
    ent = entrants_interval(entrants(offers), placement_range=(0.5, 0.8))
    out = apply_supply_scenarios(
        ent,
        [
            {"name": "s", "offers": ["F1"], "seats_change": 1.0},
            {
                "name": "s",
                "site": "2",
                "occupations": ["J1506"],
                "new_seats": 20,
                "placement_rate": 0.6,
            },
        ],  # fmt: skip
        [2030],
    )
    f1 = out[out["offer"] == "F1"].iloc[0]
    assert f1["entrants_low"] == pytest.approx(2 * 10 * 0.8 * 0.5)
    assert f1["entrants_high"] == pytest.approx(2 * 10 * 0.8 * 0.8)
    new = out[out["reason"] == "scenario"].iloc[0]
    assert new["defaulted"] == "completion" and new["placement_rate"] == 0.6
    assert new["seats"] == 20.0 and new["entrants_low"] == new["entrants"]
    # applied again, the new offer gets its interval from its defaulted completion rate
    again = entrants_interval(out, completion_range=(0.7, 0.9))
    new = again[again["reason"] == "scenario"].iloc[0]
    assert new["entrants_low"] == pytest.approx(20 * 0.7 * 0.6)
