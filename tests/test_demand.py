"""Tests of gpec.demand: openings (expansion, replacement by ageing), skill needs, scenarios."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _helpers import missing_real_data
from hypothesis import given, settings
from hypothesis import strategies as st

from gpec.demand import (
    AGE_BANDS,
    DEFAULT_ENTRY_AGES,
    DEFAULT_EXIT_RATES,
    DEFAULT_PYRAMID,
    compare_hiring_intentions,
    exit_rate_curve,
    openings,
    parse_age_band,
    skill_needs,
)
from gpec.scenarios import apply_scenarios, run
from gpec.territory import aggregate


def _fc(means, territory="A", occupation="X", start=2024, lower=None, upper=None, periods=None):
    periods = periods or list(range(start, start + len(means)))
    df = pd.DataFrame(
        {
            "territory": territory,
            "occupation": occupation,
            "period": periods,
            "model": "drift",
            "mean": means,
            "level": 80,
        }
    )
    df["lower"] = means if lower is None else lower
    df["upper"] = means if upper is None else upper
    return df


def _emp(value, territory="A", occupation="X", period=2023):
    return pd.DataFrame(
        {"territory": [territory], "occupation": [occupation], "period": [period], "value": [value]}
    )


def _pyr(bands: dict, territory="A", occupation="X"):
    return pd.DataFrame(
        {
            "territory": territory,
            "occupation": occupation,
            "age_band": list(bands),
            "value": list(bands.values()),
        }
    )


# ----------------------------------------------------------------------------- defaults
def test_defaults_are_documented_and_consistent():
    assert DEFAULT_PYRAMID.sum() == pytest.approx(1.0)
    assert DEFAULT_ENTRY_AGES.sum() == pytest.approx(1.0)
    assert list(DEFAULT_EXIT_RATES.index) == list(AGE_BANDS)
    assert (DEFAULT_EXIT_RATES.loc[:"45-49"] == 0).all()
    assert DEFAULT_EXIT_RATES["60-64"] > DEFAULT_EXIT_RATES["55-59"] > 0
    # constant employment, default pyramid: departures over 11 years within Métiers 2030's
    # 26-31 % of employment
    out = openings(_fc([1000.0] * 11, start=2020), employment=_emp(1000.0, period=2019))
    share = out["replacement"].sum() / 1000.0
    assert 0.26 <= share <= 0.31
    assert (out["replacement_source"] == "default").all()


@pytest.mark.parametrize(
    "label, expected",
    [
        ("20-24", (20, 24)),
        ("15-24 ans", (15, 24)),
        ("65+", (65, np.inf)),
        ("60 ans ou plus", (60, np.inf)),
        ("50 and over", (50, np.inf)),
        ("<25", (15, 24)),
        ("moins de 25 ans", (15, 24)),
        ("17", (17, 17)),
        ("14-19", (15, 19)),
    ],
)
def test_parse_age_band(label, expected):
    assert parse_age_band(label) == expected


def test_parse_age_band_errors():
    for bad in ("abc", "10-12", "30-20"):
        with pytest.raises(ValueError):
            parse_age_band(bad)


def test_exit_rate_curve_shift():
    base = exit_rate_curve()
    pd.testing.assert_series_equal(base, DEFAULT_EXIT_RATES.astype(float), check_names=False)
    s5 = exit_rate_curve(shift=5)
    assert s5["60-64"] == pytest.approx(DEFAULT_EXIT_RATES["55-59"])
    s2 = exit_rate_curve(shift=2)
    # two of the five single years of 60-64 take the 55-59 rate
    assert s2["60-64"] == pytest.approx((2 * 0.03 + 3 * 0.25) / 5)
    assert (exit_rate_curve(shift=2) <= exit_rate_curve() + 1e-12).all()
    half = exit_rate_curve(shift=0.5)
    assert half["60-64"] == pytest.approx((base["60-64"] + exit_rate_curve(shift=1)["60-64"]) / 2)


# ----------------------------------------------------------------------------- expansion
def test_expansion_identities_and_columns():
    out = openings(_fc([105.0, 103.0, 110.0]), employment=_emp(100.0))
    assert list(out.columns[:10]) == [
        "territory",
        "occupation",
        "period",
        "employment",
        "expansion",
        "replacement",
        "turnover",
        "openings",
        "lower",
        "upper",
    ]
    assert out["expansion"].tolist() == pytest.approx([5.0, -2.0, 7.0])
    assert out["employment"].tolist() == [105.0, 103.0, 110.0]
    np.testing.assert_allclose(
        out["openings"], out["expansion"] + out["replacement"] + out["turnover"]
    )
    assert out["period"].tolist() == [2024, 2025, 2026]
    assert out["territory"].dtype == "str"


def test_non_negative_variant():
    fc = _fc([105.0, 103.0, 110.0])
    a = openings(fc, employment=_emp(100.0), net=True)
    b = openings(fc, employment=_emp(100.0), net=False)
    assert b["expansion"].tolist() == pytest.approx([5.0, 0.0, 7.0])
    np.testing.assert_allclose(a["replacement"], b["replacement"])
    assert (b["openings"] >= a["openings"]).all()
    assert (b["openings"] >= b["replacement"] - 1e-12).all()


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0, 1e5, allow_nan=False), min_size=2, max_size=8), st.booleans())
def test_expansion_telescopes(values, net):
    base, path = values[0], values[1:]
    out = openings(_fc(path), employment=_emp(base), net=net)
    if net:
        assert out["expansion"].sum() == pytest.approx(path[-1] - base, abs=1e-6)
    else:
        assert (out["expansion"] >= 0).all()
        np.testing.assert_allclose(
            out["expansion"], np.maximum(np.diff([base, *path]), 0), atol=1e-6
        )


def test_multi_year_steps_match_annual():
    annual = openings(
        _fc([102.0, 104.0, 106.0, 108.0, 110.0, 112.0], start=2024), employment=_emp(100.0)
    )
    coarse = openings(_fc([104.0, 112.0], periods=[2025, 2029]), employment=_emp(100.0))
    assert coarse["expansion"].tolist() == pytest.approx([4.0, 8.0])
    rep = annual["replacement"].to_numpy()
    assert coarse["replacement"].tolist() == pytest.approx([rep[:2].sum(), rep[2:].sum()])


# ----------------------------------------------------------------------------- replacement
def test_replacement_all_60_64_hand_computed():
    # 100 workers aged 60-64, constant employment.
    # year 1: 100 x 0.25 = 25 leave.
    # year 2: 75 survivors, 1/5 move to 65+ -> 60 in 60-64, 15 in 65+ (entrants are young)
    #         departures 60 x 0.25 + 15 x 0.45 = 21.75
    out = openings(_fc([100.0, 100.0]), _pyr({"60-64": 100}), employment=_emp(100.0))
    assert out["replacement"].tolist() == pytest.approx([25.0, 21.75])
    assert (out["replacement_source"] == "pyramid").all()
    assert out["openings"].tolist() == pytest.approx([25.0, 21.75])


def test_replacement_all_20_24_is_zero():
    out = openings(_fc([100.0] * 5), _pyr({"20-24": 100}), employment=_emp(100.0))
    assert out["replacement"].tolist() == pytest.approx([0.0] * 5)


def test_pyramid_is_a_structure_scaled_to_employment():
    # pyramid in thousands, employment in jobs: same result as a pyramid in jobs
    a = openings(_fc([500.0, 500.0]), _pyr({"55-59": 0.2, "60-64": 0.3}), employment=_emp(500.0))
    b = openings(_fc([500.0, 500.0]), _pyr({"55-59": 200, "60-64": 300}), employment=_emp(500.0))
    np.testing.assert_allclose(a["replacement"], b["replacement"])
    # year 1: 200 x 0.03 + 300 x 0.25
    assert a["replacement"].iloc[0] == pytest.approx(6.0 + 75.0)


def test_shrinking_employment_scales_pyramid():
    # employment halves: no entrants, pyramid shrinks in proportion, departures follow
    out = openings(_fc([50.0, 50.0]), _pyr({"60-64": 100}), employment=_emp(100.0))
    # year 1: 25 leave; survivors 75 -> scaled to 50 (60-64: 40, 65+: 10); year 2: 40*.25 + 10*.45
    assert out["replacement"].tolist() == pytest.approx([25.0, 14.5])
    assert out["expansion"].tolist() == pytest.approx([-50.0, 0.0])
    assert out["openings"].iloc[0] == pytest.approx(-25.0)  # net losses beyond departures


def test_replacement_fallbacks_flagged():
    fc = pd.concat(
        [
            _fc([10.0, 10.0], territory="A", occupation="X"),
            _fc([10.0, 10.0], territory="B", occupation="X"),
            _fc([10.0, 10.0], territory="A", occupation="Y"),
            _fc([10.0, 10.0], territory="C", occupation="Z"),
        ]
    )
    emp = pd.concat([_emp(10.0, t, o) for t, o in [("A", "X"), ("B", "X"), ("A", "Y"), ("C", "Z")]])
    wa = _pyr({"60-64": 5, "20-24": 5}, territory="A", occupation="X")
    out = openings(fc, wa, employment=emp)
    src = out.groupby(["territory", "occupation"])["replacement_source"].first().to_dict()
    assert src == {
        ("A", "X"): "pyramid",
        ("B", "X"): "occupation",
        ("A", "Y"): "territory",
        ("C", "Z"): "default",
    }
    # the occupation fallback uses the occupation's structure: same departures per job
    ax = out[(out.territory == "A") & (out.occupation == "X")]["replacement"].to_numpy()
    bx = out[(out.territory == "B") & (out.occupation == "X")]["replacement"].to_numpy()
    np.testing.assert_allclose(ax, bx)
    no_pyr = openings(fc, None, employment=emp)
    assert (no_pyr["replacement_source"] == "default").all()


def test_ancestor_pyramid_with_territories():
    terr = pd.DataFrame(
        {
            "territory": ["D", "A", "B"],
            "label": ["D", "A", "B"],
            "level": ["departement", "epci", "epci"],
            "parent": [None, "D", "D"],
        }
    )
    fc = pd.concat(
        [_fc([10.0, 10.0], territory="A"), _fc([10.0, 10.0], territory="B", occupation="Y")]
    )
    emp = pd.concat([_emp(10.0, "A"), _emp(10.0, "B", "Y")])
    wa = pd.concat([_pyr({"60-64": 1}, territory="D"), _pyr({"30-34": 1}, territory="Z")])
    out = openings(fc, wa, employment=emp, territories=terr)
    a = out[out.territory == "A"]
    assert (a["replacement_source"] == "ancestor").all()
    assert a["replacement"].iloc[0] == pytest.approx(2.5)


def test_real_dares_pyramids_match_metiers_2030():
    """Dares 2017-19 age pyramids of the FAP87, constant employment 2019-2030: end-of-career
    departures over 11 years fall in the 26-31 % of employment that Métiers 2030 projects."""
    real = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
    path = real / "dares-portrait-stat-metiers" / "age_2017_2019_3niv.csv"
    if not path.exists():
        missing_real_data("real DARES data absent")
    raw = pd.read_csv(path, encoding="latin-1", dtype={"fap": "str"})
    raw = raw[raw["fap"].str.len() == 3].dropna(subset=["annee_2017_2019"])
    wa = pd.DataFrame(
        {
            "territory": "FR",
            "occupation": raw["fap"],
            "age_band": raw["tr_age"],  # "15-24 ans" ... "60 ans ou plus"
            "value": raw["annee_2017_2019"],
        }
    )
    tot = wa.groupby("occupation")["value"].sum()
    emp = pd.DataFrame(
        {"territory": "FR", "occupation": tot.index, "period": 2019, "value": tot.values}
    )
    fc = pd.concat(
        [emp.assign(period=y).rename(columns={"value": "mean"}) for y in range(2020, 2031)]
    )
    out = openings(fc, wa, employment=emp, level=None)
    assert (out["replacement_source"] == "pyramid").all()
    share = out["replacement"].sum() / tot.sum()
    assert 0.26 <= share <= 0.31
    by_occ = out.groupby("occupation")["replacement"].sum() / tot
    # farmers (A0Z) are much older than IT professionals (M1Z)
    assert by_occ["A0Z"] > 1.5 * by_occ["M1Z"] > 0


def test_turnover_and_retirement_shift():
    fc = _fc([100.0, 120.0])
    out = openings(fc, employment=_emp(100.0), turnover_rates={"X": 0.1})
    assert out["turnover"].tolist() == pytest.approx([10.0, 10.0])  # rate x E(t-1)
    later = openings(fc, employment=_emp(100.0), retirement_shift=2)
    now = openings(fc, employment=_emp(100.0))
    assert (later["replacement"] < now["replacement"]).all()
    custom = openings(
        fc, _pyr({"60-64": 100}), employment=_emp(100.0), exit_rates={"15-59": 0.0, "60+": 0.5}
    )
    assert custom["replacement"].iloc[0] == pytest.approx(50.0)


# ----------------------------------------------------------------------------- intervals
@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1e4), st.floats(0, 5e3), st.floats(0, 5e3)),
        min_size=1,
        max_size=6,
    ),
    st.floats(0, 1e4),
    st.booleans(),
    st.sampled_from(["path", "annual"]),
)
def test_interval_ordering(rows, base, net, interval):
    mean = [r[0] for r in rows]
    lower = [max(0.0, r[0] - r[1]) for r in rows]
    upper = [r[0] + r[2] for r in rows]
    out = openings(
        _fc(mean, lower=lower, upper=upper), employment=_emp(base), net=net, interval=interval
    )
    assert (out["lower"] <= out["openings"] + 1e-9).all()
    assert (out["openings"] <= out["upper"] + 1e-9).all()


def test_interval_path_rule_widening():
    # widening interval: cumulative lower expansion ends at the lower bound of the last year
    mean, lower, upper = [110.0, 120.0, 130.0], [105.0, 108.0, 110.0], [115.0, 132.0, 150.0]
    out = openings(
        _fc(mean, lower=lower, upper=upper),
        employment=_emp(100.0),
        net=True,
        exit_rates={"15+": 0.0},
    )
    assert out["lower"].sum() == pytest.approx(110.0 - 100.0)
    assert out["upper"].sum() == pytest.approx(150.0 - 100.0)
    assert out["employment_lower"].tolist() == lower


def test_interval_annual_random_walk():
    # random-walk interval: half-width 10 * sqrt(h) -> each year's change is +-10
    h = np.arange(1, 6)
    mean = [100.0] * 5
    out = openings(
        _fc(mean, lower=list(100 - 10 * np.sqrt(h)), upper=list(100 + 10 * np.sqrt(h))),
        employment=_emp(100.0),
        exit_rates={"15+": 0.0},
        interval="annual",
    )
    np.testing.assert_allclose(out["upper"], 10.0)
    np.testing.assert_allclose(out["lower"], -10.0)
    with pytest.raises(ValueError, match="interval must be"):
        openings(_fc(mean), employment=_emp(100.0), interval="bad")


def test_no_interval_gives_equal_bounds():
    fc = _fc([101.0, 102.0]).drop(columns=["lower", "upper", "level"])
    out = openings(fc, employment=_emp(100.0))
    np.testing.assert_allclose(out["lower"], out["openings"])
    np.testing.assert_allclose(out["upper"], out["openings"])


# ----------------------------------------------------------------------------- aggregation
@settings(max_examples=12, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(1, 1e4), st.lists(st.floats(0, 300), min_size=3, max_size=3)),
        min_size=1,
        max_size=4,
    )
)
def test_aggregation_consistency(cells):
    """Openings of EPCI summed = openings of the summed inputs: exactly for expansion, and for
    replacement when pyramids share one structure and no cell sheds more than its departures."""
    terr = pd.DataFrame(
        {
            "territory": ["R"] + [f"E{i}" for i in range(len(cells))],
            "label": "x",
            "level": ["region"] + ["epci"] * len(cells),
            "parent": [None] + ["R"] * len(cells),
        }
    )
    fcs, emps = [], []
    for i, (base, growth) in enumerate(cells):
        path = list(base + np.cumsum(growth))
        fcs.append(_fc(path, territory=f"E{i}"))
        emps.append(_emp(base, territory=f"E{i}"))
    fc, emp = pd.concat(fcs, ignore_index=True), pd.concat(emps, ignore_index=True)
    bottom = openings(fc, employment=emp)
    summed = aggregate(bottom, terr, "region", ["expansion", "replacement", "openings"])
    fc_r = aggregate(fc, terr, "region", ["mean", "lower", "upper"])
    emp_r = aggregate(emp, terr, "region", "value")
    top = openings(fc_r, employment=emp_r)
    np.testing.assert_allclose(summed["expansion"], top["expansion"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(summed["replacement"], top["replacement"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(summed["openings"], top["openings"], rtol=1e-9, atol=1e-6)


# ----------------------------------------------------------------------------- errors
def test_input_errors():
    with pytest.raises(ValueError, match="no observed value before the forecast"):
        openings(_fc([1.0]), employment=_emp(1.0, occupation="Q"))
    two = pd.concat([_fc([1.0]), _fc([2.0]).assign(model="ets")])
    with pytest.raises(ValueError, match="several models"):
        openings(two, employment=_emp(1.0))
    assert len(openings(two, employment=_emp(1.0), model="ets")) == 1
    with pytest.raises(ValueError, match="no interval at level 95"):
        openings(_fc([1.0]), employment=_emp(1.0), level=95)
    with pytest.raises(ValueError, match="row 0, column 'age_band'"):
        openings(_fc([1.0]), _pyr({"old": 1}), employment=_emp(1.0))
    per = _fc([2.0, 3.0]).assign(period=pd.PeriodIndex(["2024", "2025"], freq="Y"))
    assert openings(per, employment=_emp(1.0))["period"].tolist() == [2024, 2025]
    with pytest.raises(ValueError, match="annual periods"):
        openings(per.assign(period=pd.PeriodIndex(["2024Q1", "2024Q2"], freq="Q")))
    with pytest.warns(UserWarning, match="no employment given"):
        out = openings(_fc([100.0, 110.0]))
    assert out["period"].tolist() == [2025] and out["expansion"].iloc[0] == 10.0


# ----------------------------------------------------------------------------- skill needs
def test_skill_needs_totals_equal_openings_times_weights():
    fc = pd.concat(
        [
            _fc([110.0, 120.0], occupation="X"),
            _fc([50.0, 40.0], occupation="Y"),
            _fc([5.0, 5.0], occupation="Z"),
        ]
    )
    emp = pd.concat(
        [_emp(100.0, occupation="X"), _emp(50.0, occupation="Y"), _emp(5.0, occupation="Z")]
    )
    op = openings(fc, employment=emp)
    os_ = pd.DataFrame(
        {
            "occupation": ["X", "X", "Y", "Y"],
            "skill": ["k1", "k2", "k1", "k3"],
            "weight": [1.0, 0.5, 1.0, 0.25],
        }
    )
    with pytest.warns(UserWarning, match="without skills"):
        sn = skill_needs(op, os_)
    assert sn.attrs["unmapped_occupations"] == ["Z"]
    assert list(sn.columns) == [
        "territory",
        "skill",
        "period",
        "need",
        "need_lower",
        "need_upper",
        "occupations",
    ]
    w = os_.groupby("occupation")["weight"].sum()
    expected = (
        op.set_index("occupation")["openings"] * w.reindex(op["occupation"]).to_numpy()
    ).sum()
    assert sn["need"].sum() == pytest.approx(expected)
    k1 = sn[(sn.skill == "k1") & (sn.period == 2024)].iloc[0]
    x24 = op[(op.occupation == "X") & (op.period == 2024)]["openings"].iloc[0]
    y24 = op[(op.occupation == "Y") & (op.period == 2024)]["openings"].iloc[0]
    assert k1["need"] == pytest.approx(x24 + y24)
    assert k1["occupations"] == ("X; Y" if x24 >= y24 else "Y; X")
    assert (sn["need_lower"] <= sn["need"] + 1e-9).all() and (
        sn["need"] <= sn["need_upper"] + 1e-9
    ).all()
    rep = skill_needs(op[op.occupation != "Z"], os_, value="replacement")
    assert rep["need_lower"].isna().all()


# ----------------------------------------------------------------------------- scenarios
def _two_cells():
    fc = pd.concat(
        [
            _fc([100.0, 100.0, 100.0], territory="A", occupation="X"),
            _fc([100.0, 100.0, 100.0], territory="A", occupation="Y"),
            _fc([300.0, 300.0, 300.0], territory="B", occupation="X"),
        ],
        ignore_index=True,
    )
    emp = pd.concat([_emp(100.0, "A", "X"), _emp(100.0, "A", "Y"), _emp(300.0, "B", "X")])
    return fc, emp


def test_closure_reduces_only_targeted_cells():
    fc, _ = _two_cells()
    s = apply_scenarios(
        fc,
        {
            "name": "closure",
            "territories": ["A"],
            "occupations": ["X"],
            "from_year": 2025,
            "change": -0.4,
        },
    )
    assert (s["scenario"] == "closure").all()
    merged = s.merge(fc, on=["territory", "occupation", "period"], suffixes=("", "_base"))
    hit = (merged.territory == "A") & (merged.occupation == "X") & (merged.period >= 2025)
    np.testing.assert_allclose(merged.loc[hit, "mean"], 60.0)
    np.testing.assert_allclose(merged.loc[hit, "lower"], 60.0)
    np.testing.assert_allclose(merged.loc[~hit, "mean"], merged.loc[~hit, "mean_base"])


def test_new_site_absolute_spread_and_combined_entries():
    fc, _ = _two_cells()
    sc = [
        {
            "name": "mix",
            "territories": ["A", "B"],
            "occupations": ["X"],
            "from_year": 2025,
            "absolute": 200,
        },
        {
            "name": "mix",
            "territories": "*",
            "occupations": ["Y"],
            "from_year": 2026,
            "change": -1.0,
        },
    ]
    s = apply_scenarios(fc, sc).set_index(["territory", "occupation", "period"])["mean"]
    # 200 jobs spread 100:300 between A and B
    assert s[("A", "X", 2025)] == pytest.approx(150.0)
    assert s[("B", "X", 2026)] == pytest.approx(450.0)
    assert s[("A", "X", 2024)] == 100.0
    assert s[("A", "Y", 2026)] == 0.0 and s[("A", "Y", 2025)] == 100.0
    big = apply_scenarios(fc, {"name": "c", "territories": ["A"], "absolute": -1000})
    assert (big["mean"] >= 0).all()


def test_scenario_validation():
    fc, _ = _two_cells()
    with pytest.raises(ValueError, match="not found"):
        apply_scenarios(fc, {"name": "x", "territories": ["ZZ"], "change": 0.1})
    with pytest.raises(ValueError, match="not both"):
        apply_scenarios(fc, {"name": "x", "change": 0.1, "absolute": 3})
    with pytest.raises(ValueError, match="unknown key"):
        apply_scenarios(fc, {"name": "x", "chnage": 0.1})
    with pytest.raises(ValueError, match="reserved"):
        apply_scenarios(fc, {"name": "baseline", "change": 0.1})


def test_scenarios_run_side_by_side():
    fc, emp = _two_cells()
    sc = [
        {
            "name": "closure",
            "territories": ["A"],
            "occupations": ["X"],
            "from_year": 2025,
            "change": -0.5,
        },
        {"name": "retire_later", "from_year": 2024, "retirement_shift": 2},
    ]
    out = run(fc, sc, openings_kwargs={"employment": emp})
    assert list(pd.unique(out["scenario"])) == ["baseline", "closure", "retire_later"]
    base = openings(fc, employment=emp)
    got = out[out.scenario == "baseline"].drop(columns="scenario").reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got, base.sort_values(["territory", "occupation", "period"]).reset_index(drop=True)
    )
    tot = out.groupby(["scenario", "territory", "occupation"])["expansion"].sum()
    assert tot[("closure", "A", "X")] == pytest.approx(-50.0)
    assert tot[("closure", "B", "X")] == pytest.approx(0.0)
    rep = out.groupby("scenario")["replacement"].sum()
    assert rep["retire_later"] < rep["baseline"]


def test_deterministic():
    fc, emp = _two_cells()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = openings(fc, employment=emp)
        b = openings(fc.sample(frac=1.0, random_state=0), employment=emp)
    pd.testing.assert_frame_equal(a, b)


# ----------------------------------------------------------------------------- BMO cross-check
def test_compare_hiring_intentions_flags_and_shares():
    op = pd.DataFrame(
        {
            "territory": "A",
            "occupation": ["X", "Y", "Z", "W"],
            "period": 2025,
            "openings": [60.0, 30.0, 10.0, -5.0],
        }
    )
    bmo = pd.DataFrame(
        {
            "territory": "A",
            "occupation": ["X", "Y", "Z", "W"],
            "period": 2024,
            "projects": [100.0, 200.0, 10.0, np.nan],
            "difficult": [50.0, np.nan, 5.0, np.nan],
            "seasonal": [0.0, 100.0, np.nan, np.nan],
        }
    )
    c = compare_hiring_intentions(op, bmo).set_index("occupation")
    # non-seasonal projects: X 100, Y 100, Z 10 (seasonal masked: all projects) -> shares /210
    assert (
        c.loc["Y", "projects_nonseasonal"] == 100.0 and c.loc["Z", "projects_nonseasonal"] == 10.0
    )
    assert c.loc["X", "openings_share"] == pytest.approx(0.6)  # negative openings count as 0
    assert c.loc["X", "projects_share"] == pytest.approx(100 / 210)
    assert c.loc["X", "flag"] == "agree"  # ratio 0.79
    assert c.loc["Y", "flag"] == "agree"  # ratio 1.59
    assert c.loc["Z", "flag"] == "not_comparable"  # 10 projects < 30
    assert c.loc["W", "flag"] == "not_comparable"  # masked
    assert c.loc["X", "difficult_share"] == pytest.approx(0.5)
    assert np.isnan(c.loc["Y", "difficult_share"])  # masked stays missing, never 0
    assert c.loc["Y", "seasonal_share"] == pytest.approx(0.5)
    strict = compare_hiring_intentions(op, bmo, factor=1.5).set_index("occupation")
    assert strict.loc["Y", "flag"] == "survey_higher"
    assert (c["survey_period"] == 2024).all() and (c["period"] == 2025).all()


def test_compare_hiring_intentions_higher_level():
    terr = pd.DataFrame(
        {
            "territory": ["B", "E1", "E2"],
            "label": ["bassin", "e1", "e2"],
            "level": ["bassin", "epci", "epci"],
            "parent": [None, "B", "B"],
        }
    )
    op = pd.DataFrame(
        {
            "territory": ["E1", "E2", "E1", "E2"],
            "occupation": ["X", "X", "Y", "Y"],
            "period": 2024,
            "openings": [10.0, 30.0, 0.0, 0.0],
        }
    )
    bmo = pd.DataFrame(
        {"territory": "B", "occupation": ["X", "Y"], "period": 2024, "projects": [50.0, 60.0]}
    )
    with pytest.raises(ValueError, match="pass territories="):
        compare_hiring_intentions(op, bmo)
    c = compare_hiring_intentions(op, bmo, territories=terr).set_index("occupation")
    assert c.loc["X", "openings"] == 40.0
    assert c.loc["Y", "flag"] == "survey_higher"  # hires in the survey, none projected


@settings(max_examples=30, deadline=None)
@given(
    st.sets(st.sampled_from(["A", "B", "C"]), min_size=1),
    st.sets(st.sampled_from(["X", "Y"]), min_size=1),
    st.integers(2023, 2027),
    st.floats(-1.0, 0.0),
)
def test_closure_only_touches_targets(terrs, occs, year, change):
    fc = pd.concat(
        [_fc([100.0, 90.0, 80.0], territory=t, occupation=o) for t in "ABC" for o in "XY"],
        ignore_index=True,
    )
    sc = {
        "name": "c",
        "territories": sorted(terrs),
        "occupations": sorted(occs),
        "from_year": year,
        "change": change,
    }
    s = apply_scenarios(fc, sc)
    hit = fc["territory"].isin(terrs) & fc["occupation"].isin(occs) & (fc["period"] >= year)
    np.testing.assert_allclose(s.loc[~hit, "mean"], fc.loc[~hit, "mean"])
    np.testing.assert_allclose(s.loc[hit, "mean"], fc.loc[hit, "mean"] * (1 + change))
    assert (s["mean"] <= fc["mean"] + 1e-12).all()


def test_exit_and_turnover_tables_per_occupation():
    fc = pd.concat([_fc([100.0], occupation="X"), _fc([100.0], occupation="Y")])
    emp = pd.concat([_emp(100.0, occupation="X"), _emp(100.0, occupation="Y")])
    wa = pd.concat([_pyr({"60-64": 1}, occupation="X"), _pyr({"60-64": 1}, occupation="Y")])
    rates = pd.DataFrame(
        {
            "occupation": ["X", "X", None, None],
            "age_band": ["15-59", "60+", "15-59", "60+"],
            "rate": [0.0, 0.5, 0.0, 0.1],
        }
    )
    out = openings(fc, wa, employment=emp, exit_rates=rates).set_index("occupation")
    assert out.loc["X", "replacement"] == pytest.approx(50.0)
    assert out.loc["Y", "replacement"] == pytest.approx(10.0)  # the generic curve
    tr = pd.DataFrame({"territory": ["A"], "occupation": ["Y"], "rate": [0.2]})
    out = openings(fc, employment=emp, turnover_rates=tr).set_index("occupation")
    assert out.loc["Y", "turnover"] == pytest.approx(20.0) and out.loc["X", "turnover"] == 0.0
    with pytest.raises(ValueError, match="no rate given for age band"):
        openings(fc, employment=emp, exit_rates={"60+": 0.3})


def test_compare_hiring_intentions_says_which_surveys_are_left_out():
    op = pd.DataFrame({"territory": "A", "occupation": ["X"], "period": 2025, "openings": [5.0]})
    bmo = pd.DataFrame(
        {"territory": "A", "occupation": "X", "period": [2023, 2024, 2025], "projects": 10.0}
    )
    with pytest.warns(
        UserWarning, match=r"2025 survey .* 2 rows of earlier surveys \(2023, 2024\)"
    ):
        c = compare_hiring_intentions(op, bmo)
    assert c["survey_period"].unique().tolist() == [2025]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a chosen survey: nothing to say
        compare_hiring_intentions(op, bmo, survey_period=2024)
