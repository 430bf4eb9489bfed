"""Tests of gpec.demand: openings (expansion, replacement by ageing), skill needs, scenarios."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _helpers import OPENINGS_COLUMNS, missing_real_data, territory_table
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


def test_default_exit_rates_keep_their_calibration():
    """CALIBRATION, not validation. DEFAULT_EXIT_RATES were chosen so that, with
    DEFAULT_PYRAMID and constant employment, departures over 11 years fall in the 26-31 % of
    employment that Métiers 2030 projects for 2019-2030. Passing this says only that the
    calibration was not changed by accident; it is no evidence that the rates are right. The
    ageing mechanism itself is tested by hand-computed cases below (departures rise with age,
    an older pyramid gives more, a later retirement lowers them by the computed amount)."""
    out = openings(_fc([1000.0] * 11, start=2020), employment=_emp(1000.0, period=2019))
    share = out["replacement"].sum() / 1000.0
    assert 0.26 <= share <= 0.31
    assert (out["replacement_source"] == "default").all()


def test_departures_rise_with_age_of_the_workforce():
    """Mechanism: 100 workers all in one band, constant employment for 11 years; the older
    the band, the more of them leave (entrants are young and add no departures here)."""
    totals = []
    for band in ("40-44", "45-49", "50-54", "55-59", "60-64", "65+"):
        out = openings(_fc([100.0] * 11), _pyr({band: 100}), employment=_emp(100.0))
        totals.append(out["replacement"].sum())
    assert totals[0] < 0.1 * totals[-1]  # most of them are still under 55 in 2034
    assert all(a < b for a, b in zip(totals, totals[1:], strict=False)), totals
    # 60-64 and 65+: nearly all 100 leave within 11 years (0.25 and 0.45 a year)
    assert totals[-2] > 95.0 and totals[-1] > 99.0


def test_older_pyramid_gives_more_departures():
    """Mechanism: the default structure moved one band older (resp. younger), same level."""
    shares = DEFAULT_PYRAMID.to_numpy()
    older = np.r_[0.0, shares[:-1]]
    older[-1] += shares[-1]
    younger = np.r_[shares[1:], 0.0]
    younger[0] += shares[0]

    def departures(s):
        wa = _pyr(dict(zip(AGE_BANDS, s, strict=True)))
        return openings(_fc([100.0] * 11), wa, employment=_emp(100.0))["replacement"].sum()

    base = departures(shares)
    assert departures(younger) < base < departures(older)
    assert departures(older) > 1.2 * base and departures(younger) < 0.8 * base


def test_retirement_shift_lowers_departures_by_the_hand_computed_amount():
    """100 workers aged 60-64, constant employment, default rates (55-59: 0.03, 60-64: 0.25,
    65+: 0.45; 0 below 50).

    No shift: year 1 100 x 0.25 = 25; year 2 (75 survivors, 1/5 move up: 60 in 60-64, 15 in
    65+) 60 x 0.25 + 15 x 0.45 = 21.75.
    Shift 5 years: every band takes the rate of the band 5 years younger (60-64: 0.03, 65+:
    0.25, 45-49 and below: 0). Year 1: 100 x 0.03 = 3. Year 2: 97 survivors, 19.4 move up ->
    77.6 x 0.03 + 19.4 x 0.25 = 2.328 + 4.85 = 7.178 (the 3 young entrants leave at rate 0).
    Shift 2 years, year 1: of the five single ages 60..64, two take the 55-59 rate:
    (2 x 0.03 + 3 x 0.25) / 5 = 0.162 -> 16.2 departures.
    """
    wa = _pyr({"60-64": 100})
    base = openings(_fc([100.0, 100.0]), wa, employment=_emp(100.0))["replacement"].to_numpy()
    five = openings(_fc([100.0, 100.0]), wa, employment=_emp(100.0), retirement_shift=5)
    two = openings(_fc([100.0]), wa, employment=_emp(100.0), retirement_shift=2)
    assert base.tolist() == pytest.approx([25.0, 21.75])
    assert five["replacement"].tolist() == pytest.approx([3.0, 7.178])
    assert (base - five["replacement"].to_numpy()).tolist() == pytest.approx([22.0, 14.572])
    assert two["replacement"].iloc[0] == pytest.approx(16.2)


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
    # the contract of openings.csv, with turnover before openings and the bounds after
    expected = [*OPENINGS_COLUMNS[:6], "turnover", "openings", "lower", "upper"]
    assert list(out.columns[:10]) == expected
    assert out["expansion"].tolist() == pytest.approx([5.0, -2.0, 7.0])
    assert out["employment"].tolist() == [105.0, 103.0, 110.0]
    assert out["period"].tolist() == [2024, 2025, 2026]
    assert out["territory"].dtype == "str"
    # no departures, turnover 10 % of the employment at the start of each year, by hand:
    # 2024: 5 + 0.1 x 100 = 15; 2025: -2 + 0.1 x 105 = 8.5; 2026: 7 + 0.1 x 103 = 17.3
    out = openings(
        _fc([105.0, 103.0, 110.0]),
        employment=_emp(100.0),
        exit_rates={"15+": 0.0},
        turnover_rates={"X": 0.1},
    )
    assert out["replacement"].tolist() == [0.0, 0.0, 0.0]
    assert out["turnover"].tolist() == pytest.approx([10.0, 10.5, 10.3])
    assert out["openings"].tolist() == pytest.approx([15.0, 8.5, 17.3])


def test_openings_of_a_hand_computed_cohort():
    """A tiny pyramid aged by hand: 40 workers aged 55-59 and 60-64 60 in 2023 (employment
    100), exit rates 0 below 55, 0.1 at 55-59, 0.5 at 60-64, 1.0 at 65+, turnover 5 %,
    forecast 110, 80, 80 (80 % interval 104-118, 70-86, 72-95).

    Central path 100 -> 110 -> 80 -> 80. Each year: departures = band x rate, then 1/5 of each
    band's survivors move up one band, then young entrants (who never leave here) fill up to
    the year's employment, or, when employment falls below the survivors, every band shrinks
    in proportion.

    * 2024: departures 40 x 0.1 + 60 x 0.5 = 4 + 30 = 34. Survivors 36 (55-59) and 30 (60-64);
      moving up: 55-59 28.8, 60-64 24 + 7.2 = 31.2, 65+ 6; 44 entrants (110 - 66).
    * 2025: departures 28.8 x 0.1 + 31.2 x 0.5 + 6 x 1.0 = 2.88 + 15.6 + 6 = 24.48; survivors
      110 - 24.48 = 85.52 > 80: all bands x 80 / 85.52. Before that scaling, moving up:
      55-59 25.92 - 5.184 = 20.736, 60-64 15.6 - 3.12 + 5.184 = 17.664, 65+ 3.12.
    * 2026: departures (20.736 x 0.1 + 17.664 x 0.5 + 3.12 x 1.0) x 80 / 85.52
      = 14.0256 x 80 / 85.52.

    Expansion: +10, -30, 0; turnover 0.05 x E(t-1): 5, 5.5, 4.

    Bounds follow the same steps along the lower (upper) path: the distance to the mean
    never narrows (running maximum of 6, 10, 8 -> 6, 10, 10 below; of 8, 6, 15 -> 8, 8, 15
    above), so the lower path is 104, 70, 70 and the upper path 118, 88, 95. Departures in
    2024 and 2025 do not depend on the level (entrants never leave), 2026 departures scale
    with 70 / (104 - 24.48) and 88 / (118 - 24.48).
    """
    fc = _fc([110.0, 80.0, 80.0], lower=[104.0, 70.0, 72.0], upper=[118.0, 86.0, 95.0])
    wa = _pyr({"55-59": 40, "60-64": 60})
    rates = {"15-54": 0.0, "55-59": 0.1, "60-64": 0.5, "65+": 1.0}
    out = openings(fc, wa, employment=_emp(100.0), exit_rates=rates, turnover_rates={"X": 0.05})

    old = 20.736 * 0.1 + 17.664 * 0.5 + 3.12 * 1.0  # the old bands' 2026 departures, unscaled
    assert old == pytest.approx(14.0256)
    expansion = [10.0, -30.0, 0.0]
    replacement = [34.0, 24.48, old * 80 / 85.52]
    turnover = [5.0, 5.5, 4.0]
    assert out["expansion"].tolist() == pytest.approx(expansion)
    assert out["replacement"].tolist() == pytest.approx(replacement)
    assert out["turnover"].tolist() == pytest.approx(turnover)
    hand = [e + r + t for e, r, t in zip(expansion, replacement, turnover, strict=True)]
    assert out["openings"].tolist() == pytest.approx(hand)  # 49, -0.02, 17.12
    # lower path 100 -> 104 -> 70 -> 70; upper path 100 -> 118 -> 88 -> 95
    lower = [4 + 34 + 0.05 * 100, -34 + 24.48 + 0.05 * 104, 0 + old * 70 / 79.52 + 0.05 * 70]
    upper = [18 + 34 + 0.05 * 100, -30 + 24.48 + 0.05 * 118, 7 + old * 88 / 93.52 + 0.05 * 88]
    assert out["lower"].tolist() == pytest.approx(lower)  # 43, -4.32, 15.85
    assert out["upper"].tolist() == pytest.approx(upper)  # 57, 0.38, 24.60
    assert out["employment_lower"].tolist() == [104.0, 70.0, 72.0]


def test_non_negative_variant():
    fc = _fc([105.0, 103.0, 110.0])
    a = openings(fc, employment=_emp(100.0), net=True)
    b = openings(fc, employment=_emp(100.0), net=False)
    assert b["expansion"].tolist() == pytest.approx([5.0, 0.0, 7.0])
    np.testing.assert_allclose(a["replacement"], b["replacement"])
    # only the decline of 2025 (-2) is not netted against the departures
    np.testing.assert_allclose(b["openings"] - a["openings"], [0.0, 2.0, 0.0], atol=1e-9)


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
    terr = territory_table(("D", "departement", None), ("A", "epci", "D"), ("B", "epci", "D"))
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
    """Dares 2017-19 age pyramids of the FAP87, constant employment 2019-2030.

    The 26-31 % band (Métiers 2030's departures over 2019-2030) is the CALIBRATION target of
    the default exit rates, and these FAP pyramids add up to the national one the defaults were
    calibrated with: that check guards the calibration, it does not validate it. What this test
    does check is the mechanism across occupations: departures follow each FAP's own share of
    workers aged 55 or more, computed here from the raw file."""
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
    old = raw[raw["tr_age"].isin(["55-59 ans", "60 ans ou plus"])]
    assert old["tr_age"].nunique() == 2
    share_55 = old.groupby("fap")["annee_2017_2019"].sum() / tot
    rho = by_occ.corr(share_55.reindex(by_occ.index), method="spearman")
    assert rho > 0.9, rho


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
def test_interval_matches_a_reference_of_the_documented_rule(rows, base, net, interval):
    """Without departures or turnover, openings are the expansion: the bounds recomputed in
    plain numpy from the rule the docstring states (monotone distances to the mean, lower path
    kept >= 0; "annual": the increment sqrt(d(t)^2 - d(t-1)^2) around the central change;
    ``net=False``: max(0, .); finally the central value when it lies outside)."""
    mean = np.array([r[0] for r in rows])
    lower = np.maximum(0.0, mean - [r[1] for r in rows])
    upper = mean + [r[2] for r in rows]
    out = openings(
        _fc(list(mean), lower=list(lower), upper=list(upper)),
        employment=_emp(base),
        net=net,
        interval=interval,
        exit_rates={"15+": 0.0},
    )
    d_lo = np.maximum.accumulate(np.maximum(mean - lower, 0.0))
    d_up = np.maximum.accumulate(np.maximum(upper - mean, 0.0))
    path_lo, path_up = np.maximum(mean - d_lo, 0.0), mean + d_up
    central = np.diff(np.r_[base, mean])
    if interval == "path":
        lo, up = np.diff(np.r_[base, path_lo]), np.diff(np.r_[base, path_up])
    else:
        d_lo = mean - path_lo

        def step(d):
            return np.sqrt(np.maximum(d**2 - np.r_[0.0, d[:-1]] ** 2, 0.0))

        lo, up = central - step(d_lo), central + step(d_up)
    if not net:
        central, lo, up = (np.maximum(v, 0.0) for v in (central, lo, up))
    tol = 1e-9 * max(1.0, base, float(upper.max()))
    np.testing.assert_allclose(out["openings"], central, rtol=0, atol=tol)
    np.testing.assert_allclose(out["lower"], np.minimum(lo, central), rtol=0, atol=tol)
    np.testing.assert_allclose(out["upper"], np.maximum(up, central), rtol=0, atol=tol)


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
            _fc([110.0, 120.0], occupation="X", lower=[105.0, 110.0], upper=[115.0, 130.0]),
            _fc([50.0, 40.0], occupation="Y", lower=[45.0, 30.0], upper=[55.0, 45.0]),
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
    with pytest.warns(UserWarning, match=r"without skills.*\['Z'\]"):
        sn = skill_needs(op, os_)
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
    # bounds: the openings bounds through the same weights (k2 takes X at 0.5, k3 Y at 0.25)
    bounds = op.set_index(["occupation", "period"])[["lower", "upper"]]
    k = sn.set_index(["skill", "period"])
    for col, src in (("need_lower", "lower"), ("need_upper", "upper")):
        assert k.loc[("k1", 2025), col] == pytest.approx(
            bounds.loc[("X", 2025), src] + bounds.loc[("Y", 2025), src]
        )
        assert k.loc[("k2", 2024), col] == pytest.approx(0.5 * bounds.loc[("X", 2024), src])
        assert k.loc[("k3", 2024), col] == pytest.approx(0.25 * bounds.loc[("Y", 2024), src])
    # replacement has its own bounds (replacement_lower / _upper): carried the same way
    rep = skill_needs(op[op.occupation != "Z"], os_, value="replacement")
    rb = op.set_index(["occupation", "period"])["replacement_lower"]
    r = rep.set_index(["skill", "period"])
    assert r.loc[("k2", 2024), "need_lower"] == pytest.approx(0.5 * rb.loc[("X", 2024)])
    # a column without bounds gets none
    assert skill_needs(op[op.occupation != "Z"], os_, value="turnover")["need_lower"].isna().all()


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
    terr = territory_table(("B", "bassin", None), ("E1", "epci", "B"), ("E2", "epci", "B"))
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


def test_pyramid_period_ages_the_pyramid_to_the_base_year():
    """A pyramid observed in 2019 and used for a base in 2020 is first aged one year at
    constant employment. Hand-computed with the default exit rates (55-59: 0.03, 60-64: 0.25):
    100 workers aged 55-59 lose 3; of the 97 left a fifth (19.4) moves to 60-64; 3 young
    entrants replace the leavers. 2021 departures: 77.6 x 0.03 + 19.4 x 0.25 = 7.178, against
    3 from the pyramid read as the base year's."""
    from gpec.demand import openings

    fc = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2021], "mean": [100.0]})
    emp = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2020], "value": [100.0]})
    wa = pd.DataFrame({"territory": "A", "occupation": "X", "age_band": ["55-59"], "value": [40.0]})
    plain = openings(fc, wa, employment=emp, level=None)
    aged = openings(fc, wa, employment=emp, level=None, pyramid_period=2019)
    assert plain["replacement"].iloc[0] == pytest.approx(3.0)
    assert aged["replacement"].iloc[0] == pytest.approx(7.178)
    same = openings(fc, wa, employment=emp, level=None, pyramid_period=2020)
    assert same["replacement"].iloc[0] == pytest.approx(3.0)
    # the default pyramid describes no year: it is not aged
    none = openings(fc, None, employment=emp, level=None)
    none_aged = openings(fc, None, employment=emp, level=None, pyramid_period=2010)
    assert none_aged["replacement"].iloc[0] == pytest.approx(none["replacement"].iloc[0])


def test_openings_refuse_duplicated_rows_given_directly():
    """Called without GpecData.validate: a pyramid row or an employment row given twice
    would be summed or picked silently (replacement 5.74 became 9.28); both fail naming the
    row, and a weight above 1 in skill_needs too."""
    from gpec.demand import openings, skill_needs
    from gpec.exceptions import ValidationError

    fc = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2021], "mean": [100.0]})
    emp = pd.DataFrame({"territory": "A", "occupation": "X", "period": [2020], "value": [100.0]})
    wa = pd.DataFrame(
        {"territory": "A", "occupation": "X", "age_band": ["60-64", "30-49"], "value": [10.0, 90.0]}
    )
    twice = pd.concat([wa, wa.iloc[:1]], ignore_index=True)
    with pytest.raises(ValidationError, match=r"workforce_age: row 2, .*duplicate key"):
        openings(fc, twice, employment=emp, level=None)
    emp2 = pd.concat([emp, emp.assign(value=1100.0)], ignore_index=True)
    with pytest.raises(ValidationError, match=r"employment: row 1, .*duplicate key"):
        openings(fc, wa, employment=emp2, level=None)
    text = wa.astype({"value": object})
    text.loc[1, "value"] = "90 salariés"
    with pytest.raises(ValidationError, match=r"not a number \(value '90 salariés'"):
        openings(fc, text, employment=emp, level=None)
    op = openings(fc, wa, employment=emp, level=None)
    osk = pd.DataFrame({"occupation": "X", "skill": ["K1", "K2"], "weight": [1.0, 50.0]})
    with pytest.raises(ValidationError, match=r"row 1, column 'weight': weight above 1"):
        skill_needs(op, osk)


def test_openings_of_an_empty_forecast_say_so():
    from gpec.demand import openings

    empty = pd.DataFrame(columns=["territory", "occupation", "period", "mean", "lower", "upper"])
    with pytest.raises(ValueError, match="the forecast has no row"):
        openings(empty)
