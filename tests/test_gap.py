"""Tests of gpec.gap: allocation of entrants to openings, skill gaps, reconversion paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _helpers import missing_real_data
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from gpec._schema import ValidationError
from gpec.gap import Allocation, allocate, skill_gaps, transitions, weighted_jaccard
from gpec.ingest import read_rome

TOL = 1e-7
HSET = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: keep the file fast
)


# ---------------------------------------------------------------------------------------------
# small hand-made problems


def _tables():
    """Two territories 30 km apart, two occupations, one period."""
    openings = pd.DataFrame(
        {
            "territory": ["01", "01", "02", "02"],
            "occupation": ["A1101", "B2201", "A1101", "B2201"],
            "period": [2030] * 4,
            "openings": [10.0, 4.0, 6.0, 0.0],
            "lower": [8.0, 3.0, 5.0, 0.0],
            "upper": [13.0, 6.0, 8.0, 1.0],
            "employment": [200.0, 40.0, 90.0, 5.0],
        }
    )
    entrants = pd.DataFrame(
        {
            "offer": ["F1", "F1", "F2", "F3"],
            "site": ["01", "01", "02", None],
            "occupation": ["A1101", "B2201", "A1101", None],
            "share": [0.5, 0.5, 1.0, 1.0],
            "entrants": [7.0, 7.0, 12.0, 3.0],
            "score": [1.0, 1.0, 1.0, np.nan],
            "reason": ["code", "code", "code", "unmapped"],
        }
    )
    catchment = pd.DataFrame(
        {
            "site": ["01", "01", "02", "02"],
            "territory": ["01", "02", "02", "01"],
            "distance_km": [0.0, 30.0, 0.0, 30.0],
            "weight": [1.0, 0.3, 1.0, 0.3],
        }
    )
    return openings, entrants, catchment


def test_allocate_hand_example():
    op, en, ca = _tables()
    res = allocate(op, en, ca, small_threshold=50)
    assert isinstance(res, Allocation)
    g = res.gaps.set_index(["territory", "occupation"])
    # A1101: 7 (site 01) + 12 (site 02) entrants for 10 + 6 openings: all filled, nearer first:
    # F1 fills 01 with 7, F2 fills 02 (6) and sends 3 to 01 (30 km), 3 left at F2
    assert g.loc[("01", "A1101"), "entrants_allocated"] == pytest.approx(10.0)
    assert g.loc[("02", "A1101"), "gap"] == 0.0
    # B2201: 7 entrants at 01 for 4 openings in 01
    assert g.loc[("01", "B2201"), "gap"] == 0.0
    assert g.loc[("02", "B2201"), "gap_share"] != g.loc[("02", "B2201"), "gap_share"]  # NaN
    assert list(res.gaps.columns[:10]) == [
        "territory", "occupation", "period", "openings", "entrants_allocated", "gap",
        "gap_share", "gap_lower", "gap_upper", "flag_small",
    ]  # fmt: skip
    assert g.loc[("02", "B2201"), "flag_small"] and not g.loc[("01", "A1101"), "flag_small"]
    # upper bound of a filled cell carries the extra openings
    assert g.loc[("01", "A1101"), "gap_upper"] == pytest.approx(3.0)
    assert g.loc[("02", "B2201"), "gap_upper"] == pytest.approx(1.0)
    # flows: nearer first, total distance minimal (only 3 entrants travel 30 km)
    km = (res.flows["entrants"] * res.flows["distance_km"]).sum()
    assert km == pytest.approx(3 * 30.0)
    # surplus: 3 of F2/A1101 + 3 of F1/B2201 + the unmapped F3 kept with occupation null
    s = res.surplus
    assert s["surplus"].sum() == pytest.approx(3.0 + 3.0 + 3.0)
    assert s.loc[s["offer"] == "F3", "occupation"].isna().all()
    assert res.surplus.dropna(subset=["site"])["surplus"].sum() == pytest.approx(
        6.0
    )  # the unmapped has no site
    assert res.params["n_arcs"] == 6
    summ = res.summary()
    assert summ.shape[0] == 1 and summ["entrants"].iloc[0] == pytest.approx(7 + 7 + 12 + 3)
    # every opening filled (10 + 4 + 6 + 0), the rest of the 29 entrants in surplus (9)
    assert summ["entrants_allocated"].iloc[0] == pytest.approx(10.0 + 4.0 + 6.0)
    assert summ["surplus"].iloc[0] == pytest.approx(9.0)
    assert summ["gap"].iloc[0] == pytest.approx(0.0)


def test_codes_stay_strings_and_output_sorted():
    op, en, ca = _tables()
    res = allocate(op, en, ca)
    assert res.gaps["territory"].tolist() == ["01", "01", "02", "02"]
    assert res.flows["territory"].map(type).eq(str).all()
    assert res.gaps.equals(res.gaps.sort_values(["period", "territory", "occupation"]))


def test_negative_openings_count_as_zero_and_no_bounds():
    op, en, ca = _tables()
    op = op.drop(columns=["lower", "upper"])
    op.loc[3, "openings"] = -5.0
    res = allocate(op, en, ca)
    g = res.gaps
    # the documented rule, checked by equivalence: a net job loss is a demand of 0, so the
    # allocation is the one of the same problem with that cell's openings written as 0
    as_zero = allocate(op.assign(openings=op["openings"].where(op.index != 3, 0.0)), en, ca)
    pd.testing.assert_frame_equal(g, as_zero.gaps)
    pd.testing.assert_frame_equal(res.flows, as_zero.flows)
    cell = op.loc[3, ["territory", "occupation"]]
    placed = res.flows[
        (res.flows["territory"] == cell["territory"])
        & (res.flows["occupation"] == cell["occupation"])
    ]
    assert placed["entrants"].sum() == 0
    assert np.allclose(g["gap_lower"], g["gap"]) and np.allclose(g["gap_upper"], g["gap"])


def test_entrants_with_period_and_employment_table():
    op, en, ca = _tables()
    op2 = pd.concat([op, op.assign(period=2031)], ignore_index=True)
    en2 = pd.concat([en.assign(period=2030), en.assign(period=2031, entrants=0.0)])
    emp = op2[["territory", "occupation", "period", "employment"]].rename(
        columns={"employment": "value"}
    )
    res = allocate(op2.drop(columns="employment"), en2, ca, small_threshold=50, employment=emp)
    g = res.gaps.set_index("period")
    assert np.allclose(g.loc[2031, "gap"], g.loc[2031, "openings"])
    assert g.loc[2030, "gap"].sum() < g.loc[2030, "openings"].sum()
    assert g["flag_small"].sum() == 4


@pytest.mark.parametrize(
    ("table", "change", "message"),
    [
        ("openings", lambda t: t.drop(columns="period"), "missing column"),
        ("openings", lambda t: pd.concat([t, t.iloc[[0]]]), "duplicate key"),
        ("openings", lambda t: t.assign(lower=t["openings"] + 1), "lower bound above"),
        ("entrants", lambda t: t.assign(entrants=[1.0, -1.0, 1.0, 1.0]), "negative value"),
        ("entrants", lambda t: t.assign(entrants=["1", "x", "2", "3"]), "not a number"),
        ("catchment", lambda t: t.assign(distance_km=[0.0, -3.0, 0.0, 1.0]), "negative"),
    ],
)
def test_bad_input_names_table_row_column(table, change, message):
    tables = dict(zip(["openings", "entrants", "catchment"], _tables(), strict=True))
    tables[table] = change(tables[table])
    with pytest.raises(ValidationError, match=message) as err:
        allocate(tables["openings"], tables["entrants"], tables["catchment"])
    assert table in str(err.value)


def test_small_flag_is_unknown_without_employment():
    op, en, ca = _tables()
    res = allocate(op.drop(columns="employment"), en, ca, small_threshold=10)
    assert res.gaps["flag_small"].isna().all()
    known = allocate(op, en, ca, small_threshold=10)
    expected = op.set_index(["territory", "occupation", "period"])["employment"] < 10
    got = known.gaps.set_index(["territory", "occupation", "period"])["flag_small"]
    assert (got.astype(bool) == expected.reindex(got.index)).all()


# ---------------------------------------------------------------------------------------------
# exactness against an independent two-stage solve


def _two_stage(op, en, ca):
    """Max flow, then min km at that flow: two LPs per period over everything (reference)."""
    out = [_two_stage_one(g.reset_index(drop=True), en, ca) for _, g in op.groupby("period")]
    return tuple(np.sum(out, axis=0)) if out else (0.0, 0.0)


def _two_stage_one(op, en, ca):
    en = en[en["occupation"].notna()].reset_index(drop=True)
    arcs = (
        en.reset_index()
        .merge(ca, on="site")
        .merge(op.reset_index(), on=["territory", "occupation"], suffixes=("_s", "_d"))
    )
    n = len(arcs)
    if n == 0:
        return 0.0, 0.0
    cols = np.arange(n)
    rows = np.r_[arcs["index_s"], len(en) + arcs["index_d"]]
    a = sp.csr_array((np.ones(2 * n), (rows, np.r_[cols, cols])), shape=(len(en) + len(op), n))
    b = np.r_[en["entrants"].to_numpy(float), np.maximum(op["openings"].to_numpy(float), 0)]
    r1 = linprog(-np.ones(n), A_ub=a, b_ub=b, bounds=(0, None), method="highs")
    fmax = -r1.fun
    a2 = sp.vstack([a, sp.csr_array(-np.ones((1, n)))])
    r2 = linprog(
        arcs["distance_km"].to_numpy(float),
        A_ub=a2,
        b_ub=np.r_[b, -fmax + 1e-9],
        bounds=(0, None),
        method="highs",
    )
    return fmax, r2.fun


# ---------------------------------------------------------------------------------------------
# hypothesis: random small problems


@st.composite
def problems(draw):
    n_t = draw(st.integers(1, 4))
    n_o = draw(st.integers(1, 2))
    terrs = [f"{i:02d}" for i in range(1, n_t + 1)]
    occs = [f"M{j}" for j in range(n_o)]
    amounts = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 7.5, 10.0])
    periods = [2030, 2031][: draw(st.integers(1, 2))]
    cells = [(t, o) for t in terrs for o in occs if draw(st.booleans()) or o == "M0"]
    op_rows = [(t, o, p, draw(amounts)) for p in periods for t, o in cells]
    op = pd.DataFrame(op_rows, columns=["territory", "occupation", "period", "openings"])
    op["lower"] = op["openings"] * 0.5
    op["upper"] = op["openings"] * 2.0
    n_f = draw(st.integers(0, 4))
    en_rows = []
    for f in range(n_f):
        site = draw(st.sampled_from(terrs))
        for o in draw(st.lists(st.sampled_from(occs), min_size=1, max_size=2, unique=True)):
            en_rows.append((f"F{f}", site, o, draw(amounts)))
    en = pd.DataFrame(en_rows, columns=["offer", "site", "occupation", "entrants"])
    dists = st.sampled_from([0.0, 10.0, 10.0, 25.0, 40.0])
    ca_rows = [(s, t, draw(dists)) for s in terrs for t in terrs if s == t or draw(st.booleans())]
    ca = pd.DataFrame(ca_rows, columns=["site", "territory", "distance_km"])
    return op, en, ca


KEY = ["territory", "occupation", "period"]


def _inflow(flows: pd.DataFrame, op: pd.DataFrame) -> np.ndarray:
    """Entrants flowing into each row of the openings table, summed from the flows alone."""
    into = flows.groupby(KEY)["entrants"].sum()
    return into.reindex(pd.MultiIndex.from_frame(op[KEY]), fill_value=0.0).to_numpy(float)


def _check_invariants(op, en, ca, res, bounds=True):
    """Recompute the gap table, its bounds and the surplus from the INPUT tables and the flows
    (never from the gap table itself), and check that the flows are feasible for the inputs."""
    g, f, s = res.gaps, res.flows, res.surplus
    assert len(g) == len(op)
    g = g.set_index(KEY).loc[pd.MultiIndex.from_frame(op[KEY])]  # rows in the input's order
    demand = np.maximum(op["openings"].to_numpy(float), 0.0)  # negative openings count as 0
    inflow = _inflow(f, op)
    # flows: positive, inside a catchment at its distance, within every capacity of the inputs
    assert (f["entrants"] > 0).all()
    arcs = f.merge(ca, on=["site", "territory"], how="left", suffixes=("", "_ca"))
    assert arcs["distance_km_ca"].notna().all()
    np.testing.assert_allclose(arcs["distance_km"], arcs["distance_km_ca"])
    assert (inflow <= demand + TOL).all()
    mapped_en = en[en["occupation"].notna()].astype({"entrants": float})
    offered = mapped_en.groupby(["offer", "site", "occupation"])["entrants"].sum()
    sent = f.groupby(["offer", "site", "occupation", "period"])["entrants"].sum()
    cap = offered.reindex(sent.index.droplevel("period")).to_numpy(dtype=float)
    assert not np.isnan(cap).any() and (sent.to_numpy() <= cap + TOL).all()
    # the gap is what the flows leave unfilled
    np.testing.assert_allclose(g["entrants_allocated"], inflow, rtol=0, atol=TOL)
    np.testing.assert_allclose(g["gap"], demand - inflow, rtol=0, atol=TOL)
    if bounds:  # the demand interval with the central allocation held fixed
        for col, bound in (("gap_lower", "lower"), ("gap_upper", "upper")):
            end = np.maximum(op[bound].to_numpy(float), 0.0)
            np.testing.assert_allclose(g[col], np.maximum(end - inflow, 0.0), rtol=0, atol=TOL)
    # surplus: each offer x occupation x period keeps what it did not send
    periods = sorted(op["period"].unique())
    per = offered.rename("offered").reset_index().merge(pd.DataFrame({"period": periods}), "cross")
    per = per.set_index(["offer", "site", "occupation", "period"])
    per["sent"] = sent.reindex(per.index, fill_value=0.0)
    mapped = s[s["occupation"].notna()].set_index(["offer", "site", "occupation", "period"])
    mapped = mapped.loc[per.index].astype({c: float for c in ("entrants", "allocated", "surplus")})
    per = per.astype(float)
    np.testing.assert_allclose(mapped["entrants"], per["offered"], rtol=0, atol=TOL)
    np.testing.assert_allclose(mapped["allocated"], per["sent"], rtol=0, atol=TOL)
    np.testing.assert_allclose(mapped["surplus"], per["offered"] - per["sent"], rtol=0, atol=TOL)


def _reference_cells(op, en, ca):
    """Entrants placed in each openings row by a separate three-stage LP (scipy HiGHS, one
    problem per period over everything): (1) the most entrants placed, (2) the least entrants
    x metres at that total, (3) among those, the least sum of rank / n x entrants, where rank is
    the territory's order among the territories that this occupation's offers can reach (the
    "territories in code order" rule). Returns an array aligned with ``op``'s rows."""
    out = np.zeros(len(op))
    for _, part in op.groupby("period"):
        o = part.reset_index()  # "index" = row of op
        e = en[en["occupation"].notna()].reset_index(drop=True)
        arcs = (
            e.reset_index()
            .merge(ca, on="site")
            .merge(o.rename(columns={"index": "row"}), on=["territory", "occupation"])
        )
        if arcs.empty:
            continue
        n = len(arcs)
        node = arcs.groupby(["occupation", "territory"]).ngroup()
        rank = arcs.assign(node=node).groupby("occupation")["node"].rank(method="dense") - 1
        tau = (rank / arcs.groupby("occupation")["territory"].transform("nunique")).to_numpy()
        dem = arcs["row"].map({r: i for i, r in enumerate(o["index"])}).to_numpy()
        rows = np.r_[arcs["index"].to_numpy(), len(e) + dem]
        a = sp.csr_array(
            (np.ones(2 * n), (rows, np.r_[np.arange(n), np.arange(n)])), shape=(len(e) + len(o), n)
        )
        b = np.r_[e["entrants"].to_numpy(float), np.maximum(o["openings"].to_numpy(float), 0)]
        metres = np.round(arcs["distance_km"].to_numpy(float) * 1000.0)
        r1 = linprog(-np.ones(n), A_ub=a, b_ub=b, bounds=(0, None), method="highs")
        total = -r1.fun
        a2 = sp.vstack([a, sp.csr_array(-np.ones((1, n)))])
        r2 = linprog(
            metres, A_ub=a2, b_ub=np.r_[b, -total + 1e-9], bounds=(0, None), method="highs"
        )
        a3 = sp.vstack([a2, sp.csr_array(metres[None, :])])
        b3 = np.r_[b, -total + 1e-9, r2.fun * (1 + 1e-9) + 1e-6]  # metres, solver tolerance
        r3 = linprog(tau, A_ub=a3, b_ub=b3, bounds=(0, None), method="highs")
        assert r3.status == 0, r3.message
        out[o["index"].to_numpy()] = np.bincount(dem, weights=r3.x, minlength=len(o))
    return out


@HSET
@given(problems())
def test_invariants_and_exact_lexicographic_optimum(prob):
    op, en, ca = prob
    res = allocate(op, en, ca)
    _check_invariants(op, en, ca, res)
    fmax, km = _two_stage(op, en, ca)
    assert res.gaps["entrants_allocated"].sum() == pytest.approx(fmax, abs=1e-6)
    got_km = float((res.flows["entrants"] * res.flows["distance_km"]).sum())
    assert got_km == pytest.approx(km, abs=1e-5)
    # cell by cell: the gaps of a separate solver, from the openings of the input table
    ref = _reference_cells(op, en, ca)
    gaps = res.gaps.set_index(KEY).loc[pd.MultiIndex.from_frame(op[KEY]), "gap"]
    np.testing.assert_allclose(gaps, np.maximum(op["openings"], 0) - ref, rtol=0, atol=1e-6)


@HSET
@given(problems(), st.sampled_from([1.0, 1.5, 2.0, 10.0]))
def test_more_seats_never_raise_a_gap(prob, factor):
    op, en, ca = prob
    base = allocate(op, en, ca).gaps
    more = allocate(op, en.assign(entrants=en["entrants"] * factor), ca).gaps
    assert (more["gap"].to_numpy() <= base["gap"].to_numpy() + 1e-9).all()
    assert more["gap"].sum() <= base["gap"].sum() + 1e-9


@HSET
@given(problems(), st.lists(st.sampled_from([0.0, 0.3, 0.5, 1.0]), min_size=12, max_size=12))
def test_fewer_seats_of_some_offers_never_lower_a_gap(prob, factors):
    # the supply interval relies on it: rows scaled down one by one, not all alike
    op, en, ca = prob
    base = allocate(op, en, ca).gaps
    f = np.resize(np.asarray(factors), len(en))
    fewer = allocate(op, en.assign(entrants=en["entrants"] * f), ca).gaps
    assert (fewer["gap"].to_numpy() >= base["gap"].to_numpy() - 1e-9).all()


@HSET
@given(problems(), st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=12, max_size=12))
def test_supply_interval_bounds(prob, factors):
    op, en, ca = prob
    f = np.resize(np.asarray(factors), len(en))
    inter = en.assign(entrants_low=en["entrants"] * f, entrants_high=en["entrants"] * (2 - f))
    res = allocate(op, inter, ca)
    _check_invariants(op, en, ca, res, bounds=False)
    g, base = res.gaps, allocate(op, en, ca).gaps
    # the central allocation is unchanged; the bounds only widen
    assert np.array_equal(g["gap"].to_numpy(), base["gap"].to_numpy())
    assert (g["gap_upper"].to_numpy() >= base["gap_upper"].to_numpy() - 1e-9).all()
    assert (g["gap_lower"].to_numpy() <= base["gap_lower"].to_numpy() + 1e-9).all()
    # the two ends solved on their own; entrants placed counted from their flows
    lo = _inflow(allocate(op, en.assign(entrants=inter["entrants_low"]), ca).flows, op)
    hi = _inflow(allocate(op, en.assign(entrants=inter["entrants_high"]), ca).flows, op)
    g = g.set_index(KEY).loc[pd.MultiIndex.from_frame(op[KEY])]
    np.testing.assert_allclose(g["entrants_allocated_low"], lo, rtol=0, atol=1e-9)
    np.testing.assert_allclose(g["entrants_allocated_high"], hi, rtol=0, atol=1e-9)
    np.testing.assert_allclose(g["gap_upper"], np.maximum(op["upper"] - lo, 0), atol=1e-9)
    np.testing.assert_allclose(g["gap_lower"], np.maximum(op["lower"] - hi, 0), atol=1e-9)


def test_supply_interval_equal_ends_change_nothing_and_bad_ends_fail():
    op, en, ca = _tables()
    base = allocate(op, en, ca)
    same = allocate(op, en.assign(entrants_low=en["entrants"], entrants_high=en["entrants"]), ca)
    cols = list(base.gaps.columns)
    pd.testing.assert_frame_equal(same.gaps[cols], base.gaps)
    assert same.params["supply_interval"] and not base.params["supply_interval"]
    none = allocate(op, en.assign(entrants_low=0.0, entrants_high=en["entrants"]), ca).gaps
    # no entrant at the low end: the upper gap bound is the upper openings bound
    assert np.allclose(none["gap_upper"], op.sort_values(["territory", "occupation"])["upper"])
    bad = en.assign(entrants_low=en["entrants"] + 1.0, entrants_high=en["entrants"])
    with pytest.raises(ValidationError, match="entrants_low"):
        allocate(op, bad, ca)


@settings(HSET, max_examples=20)
@given(problems())
def test_no_seats_gap_equals_openings(prob):
    op, en, ca = prob
    g = allocate(op, en.assign(entrants=0.0), ca).gaps
    assert np.array_equal(g["gap"].to_numpy(), g["openings"].to_numpy())
    assert (g["entrants_allocated"] == 0).all()


@settings(HSET, max_examples=15)
@given(problems(), st.randoms(use_true_random=False))
def test_deterministic_and_row_order_free(prob, rnd):
    op, en, ca = prob
    a = allocate(op, en, ca)
    b = allocate(op, en, ca)
    pd.testing.assert_frame_equal(a.gaps, b.gaps)
    pd.testing.assert_frame_equal(a.flows, b.flows)
    pd.testing.assert_frame_equal(a.surplus, b.surplus)

    def shuffle(df):
        idx = list(range(len(df)))
        rnd.shuffle(idx)
        return df.iloc[idx]

    c = allocate(shuffle(op), shuffle(en), shuffle(ca))
    pd.testing.assert_frame_equal(a.gaps, c.gaps)
    pd.testing.assert_frame_equal(a.flows, c.flows)


# ---------------------------------------------------------------------------------------------
# skill gaps

OCC_SKILLS = pd.DataFrame(
    {
        "occupation": ["A1101", "A1101", "A1101", "B2201", "B2201", "C3301", "C3301"],
        "skill": ["S01", "S02", "S03", "S01", "S04", "S02", "S03"],
        "weight": [1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 1.0],
    }
)
SKILLS = pd.DataFrame(
    {"skill": ["S01", "S02", "S03", "S04"], "label": ["Souder", "Lire un plan", "Usiner", "Vendre"]}
)


def test_skill_gaps_hand_example():
    op, en, ca = _tables()
    res = allocate(op, en, ca)
    sg = skill_gaps(res, OCC_SKILLS, skills=SKILLS)
    assert list(sg.columns[:10]) == [
        "territory", "skill", "skill_label", "period", "need", "supply_allocated", "gap",
        "gap_lower", "gap_upper", "n_occupations",
    ]  # fmt: skip
    by = sg.set_index(["territory", "skill"])
    row = by.loc[("01", "S01")]
    # S01: A1101 (weight 1, 10 openings) + B2201 (weight 0.5, 4 openings) in territory 01
    assert row["need"] == pytest.approx(10.0 + 2.0)
    assert row["skill_label"] == "Souder" and row["n_occupations"] == 2
    # by hand: every opening is filled (10 + 4 in 01, 6 in 02), so supply = need and gap = 0;
    # upper gaps 3 (01 A1101: 13 - 10), 2 (01 B2201: 6 - 4), 2 (02 A1101), 1 (02 B2201: 1 - 0)
    # through the weights (A1101: S01 1, S02 1, S03 0.5; B2201: S01 0.5, S04 1)
    hand = {  # (territory, skill): need, gap_upper
        ("01", "S01"): (12.0, 3.0 + 0.5 * 2.0),
        ("01", "S02"): (10.0, 3.0),
        ("01", "S03"): (5.0, 1.5),
        ("01", "S04"): (4.0, 2.0),
        ("02", "S01"): (6.0, 2.0 + 0.5 * 1.0),
        ("02", "S02"): (6.0, 2.0),
        ("02", "S03"): (3.0, 1.0),
        ("02", "S04"): (0.0, 1.0),
    }
    assert set(by.index) == set(hand)
    for key, (need, upper) in hand.items():
        assert by.loc[key, "need"] == pytest.approx(need), key
        assert by.loc[key, "supply_allocated"] == pytest.approx(need), key
        assert by.loc[key, "gap"] == pytest.approx(0.0, abs=1e-12), key
        assert by.loc[key, "gap_lower"] == pytest.approx(0.0, abs=1e-12), key
        assert by.loc[key, "gap_upper"] == pytest.approx(upper), key


def test_skill_gaps_reports_occupations_without_skills():
    op, en, ca = _tables()
    res = allocate(op, en, ca)
    with pytest.warns(UserWarning, match=r"without skills.*\['B2201'\]"):
        sg = skill_gaps(res, OCC_SKILLS[OCC_SKILLS["occupation"] != "B2201"])
    assert "B2201" not in set(sg.get("occupation", []))
    assert set(sg["skill"]) == {"S01", "S02", "S03"}


@settings(HSET, max_examples=20)
@given(problems(), st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=6, max_size=6))
def test_skill_need_equals_supply_plus_gap(prob, weights):
    op, en, ca = prob
    res = allocate(op, en, ca)
    osk = pd.DataFrame(
        {
            "occupation": ["M0", "M0", "M0", "M1", "M1", "M1"],
            "skill": list("abcabd"),
            "weight": weights,
        }
    )
    sg = skill_gaps(res, osk)
    # recomputed from the input openings and the flows, through the weights, in plain pandas
    cells = op[KEY].assign(
        need=np.maximum(op["openings"].to_numpy(float), 0.0), supply=_inflow(res.flows, op)
    )
    m = cells.merge(osk, on="occupation")
    m["need"] *= m["weight"]
    m["supply"] *= m["weight"]
    want = m.groupby(["territory", "skill", "period"])[["need", "supply"]].sum()
    got = sg.set_index(["territory", "skill", "period"])
    assert set(got.index) == set(want.index)
    want = want.loc[got.index]
    np.testing.assert_allclose(got["need"], want["need"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["supply_allocated"], want["supply"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(got["gap"], want["need"] - want["supply"], rtol=0, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# transitions


def test_weighted_jaccard_matches_definition():
    from gpec.gap import weighted_jaccard

    pairs = pd.DataFrame(
        {"t": ["A1101", "A1101", "C3301", "A1101"], "s": ["B2201", "C3301", "B2201", "X"]}
    )
    got = weighted_jaccard(OCC_SKILLS, pairs)
    wide = OCC_SKILLS.pivot(index="occupation", columns="skill", values="weight").fillna(0.0)
    wide.loc["X"] = 0.0
    for (t, s), v in zip(pairs.itertuples(index=False), got, strict=True):
        a, b = wide.loc[t].to_numpy(), wide.loc[s].to_numpy()
        den = np.maximum(a, b).sum()
        assert v == pytest.approx(np.minimum(a, b).sum() / den if den else 0.0)


def test_transitions_ranking_and_skills_to_acquire():
    gaps = pd.DataFrame(
        {
            "territory": ["01", "01", "02"],
            "occupation": ["A1101", "B2201", "A1101"],
            "period": [2030, 2030, 2030],
            "gap": [5.0, 0.0, 2.0],
        }
    )
    change = pd.DataFrame(
        {
            "territory": ["01", "01", "01", "02"],
            "occupation": ["B2201", "C3301", "A1101", "C3301"],
            "change": [-10.0, -3.0, 4.0, 2.0],
        }
    )
    tr = transitions(gaps, change, OCC_SKILLS, min_overlap=0.1)
    assert list(tr.columns) == [
        "territory", "occupation", "from_occupation", "overlap", "mobility_link", "score", "rank",
        "jobs_lost", "gap", "skills_to_acquire", "n_skills_to_acquire",
    ]  # fmt: skip
    # only territory 01 has occupations losing jobs; C3301 shares 1.5 of 2.5 with A1101
    assert tr["territory"].tolist() == ["01", "01"]
    assert tr["from_occupation"].tolist() == ["C3301", "B2201"]
    assert tr["overlap"].iloc[0] == pytest.approx(1.5 / 3.0)
    assert tr["skills_to_acquire"].iloc[0] == "S01"
    # B2201 has S01 at 0.5 only (weaker), lacks S02 and S03; most important first
    assert tr["skills_to_acquire"].iloc[1] == "S01; S02; S03"
    assert tr["n_skills_to_acquire"].tolist() == [1, 3]
    assert tr["overlap"].iloc[1] == pytest.approx(0.5 / 3.5)
    assert tr["jobs_lost"].tolist() == [3.0, 10.0]
    # a mobility link lifts B2201 above C3301
    mob = pd.DataFrame({"source": ["B2201"], "target": ["A1101"]})
    tr2 = transitions(gaps, change, OCC_SKILLS, mobility=mob, mobility_bonus=1.0, min_overlap=0.1)
    assert tr2["from_occupation"].tolist() == ["B2201", "C3301"]
    assert tr2["mobility_link"].tolist() == [True, False]
    # top_n and min_overlap filter
    assert len(transitions(gaps, change, OCC_SKILLS, top_n=1, min_overlap=0.1)) == 1
    assert transitions(gaps, change, OCC_SKILLS, min_overlap=0.9).empty


def test_transitions_min_jobs_lost_leaves_small_losses_out():
    gaps = pd.DataFrame(
        {"territory": ["01"], "occupation": ["A1101"], "period": [2030], "gap": [5.0]}
    )
    change = pd.DataFrame(
        {"territory": "01", "occupation": ["B2201", "C3301"], "change": [-10.0, -3.0]}
    )
    every = transitions(gaps, change, OCC_SKILLS, min_overlap=0.1)
    assert sorted(every["from_occupation"]) == ["B2201", "C3301"]
    # at least 3 jobs lost: both; more than 3: B2201 only (10 jobs lost)
    at3 = transitions(gaps, change, OCC_SKILLS, min_overlap=0.1, min_jobs_lost=3)
    assert sorted(at3["from_occupation"]) == ["B2201", "C3301"]
    at4 = transitions(gaps, change, OCC_SKILLS, min_overlap=0.1, min_jobs_lost=4)
    assert at4["from_occupation"].tolist() == ["B2201"]
    with pytest.raises(ValueError, match="min_jobs_lost"):
        transitions(gaps, change, OCC_SKILLS, min_jobs_lost=-1)


def test_transitions_from_openings_expansion():
    gaps = pd.DataFrame(
        {"territory": ["01"], "occupation": ["A1101"], "period": [2030], "gap": [5.0]}
    )
    openings = pd.DataFrame(
        {
            "territory": ["01", "01", "01"],
            "occupation": ["C3301", "C3301", "A1101"],
            "period": [2030, 2031, 2030],
            "expansion": [-2.0, -1.0, 3.0],
        }
    )
    tr = transitions(gaps, openings, OCC_SKILLS)
    assert tr["from_occupation"].tolist() == ["C3301"]
    assert tr["jobs_lost"].tolist() == [3.0]


def test_maximum_flow_before_distance():
    """Nearest-first would place 1 entrant; the allocation places 2 (longer trips)."""
    op = pd.DataFrame(
        {"territory": ["T1", "T2"], "occupation": ["X", "X"], "period": 2030, "openings": 1.0}
    )
    en = pd.DataFrame(
        {"offer": ["F1", "F2"], "site": ["T1", "T3"], "occupation": "X", "entrants": 1.0}
    )
    ca = pd.DataFrame(
        {
            "site": ["T1", "T1", "T3"],
            "territory": ["T1", "T2", "T1"],
            "distance_km": [0.0, 50.0, 50.0],
        }
    )
    res = allocate(op, en, ca)
    assert res.gaps["gap"].tolist() == [0.0, 0.0]
    assert (res.flows["entrants"] * res.flows["distance_km"]).sum() == pytest.approx(100.0)
    # without distances any maximum allocation is fine
    assert allocate(op, en, ca, distance_cost=0.0).gaps["gap"].sum() == 0.0


@HSET
@given(st.integers(0, 2**32 - 1))
def test_batched_and_per_block_solves_agree(seed):
    """Block-diagonal batches give the same optimum as one solve per block."""
    from gpec.gap._allocation import solve_transport

    rng = np.random.default_rng(seed)
    s_parts, d_parts, c_parts, b_parts = [], [], [], []
    n_s = n_d = 0
    for b in range(4):  # 4 independent blocks with their own nodes
        ns, nd, na = rng.integers(1, 5), rng.integers(1, 5), rng.integers(1, 10)
        pairs = np.unique(np.c_[rng.integers(0, ns, na), rng.integers(0, nd, na)], axis=0)
        s_parts.append(pairs[:, 0] + n_s)
        d_parts.append(pairs[:, 1] + n_d)
        c_parts.append(rng.choice([0.0, 10.0, 20.0, 45.0], len(pairs)))
        b_parts.append(np.full(len(pairs), b))
        n_s, n_d = n_s + ns, n_d + nd
    s_cap = rng.choice([0.0, 1.0, 2.5, 4.0], n_s)
    d_cap = rng.choice([0.0, 1.0, 3.0], n_d)
    args = (s_cap, d_cap, *map(np.concatenate, (s_parts, d_parts, c_parts, b_parts)))
    cost = args[4]
    one = solve_transport(*args, max_batch_arcs=1)
    many = solve_transport(*args, max_batch_arcs=10**6)
    assert one.flow.sum() == pytest.approx(many.flow.sum(), abs=1e-9)
    assert one.flow @ cost == pytest.approx(many.flow @ cost, abs=1e-7)
    assert many.n_lp + many.n_closed_form <= 1 and many.dual_gap < 1e-9
    for sol in (one, many):
        assert (sol.supply_used <= s_cap).all() and (sol.demand_filled <= d_cap).all()


def test_transitions_on_real_rome(real_data):
    """ROME 4.0 mobility links (expert-made) share more skills than other pairs of fiches."""
    rome = real_data / "rome4-v460"
    if not rome.is_dir():
        missing_real_data("ROME 4.0 export absent")
    data = read_rome(rome)
    osk, mob = data.occupation_skills, data.extra["mobility"]
    fiches = np.sort(osk["occupation"].unique())
    targets = fiches[:: len(fiches) // 40][:40]
    gaps = pd.DataFrame({"territory": "01", "occupation": targets, "gap": 10.0})
    change = pd.DataFrame({"territory": "01", "occupation": fiches, "change": -5.0})
    tr = transitions(gaps, change, osk, mobility=mob, top_n=3, min_overlap=0.0)
    assert set(tr["occupation"]) == set(targets) and (tr["rank"] <= 3).all()
    assert tr["overlap"].between(0, 1).all() and (tr["from_occupation"] != tr["occupation"]).all()
    # every pair of a target with every other fiche
    pairs = pd.DataFrame({"t": np.repeat(targets, len(fiches)), "s": np.tile(fiches, len(targets))})
    pairs = pairs[pairs["t"] != pairs["s"]]
    pairs["overlap"] = weighted_jaccard(osk, pairs)
    linked = pairs.merge(
        mob.rename(columns={"occupation": "s", "target": "t"})[["s", "t"]].drop_duplicates()
    )
    assert len(linked) > 20
    assert linked["overlap"].mean() > 2 * pairs["overlap"].mean()
    # the best candidate of each target is at least as close as its best mobility link
    best = pairs.groupby("t")["overlap"].max()
    assert (tr[tr["rank"] == 1].set_index("occupation")["overlap"] >= best.loc[targets] - 0.1).all()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_larger_random_problems_optimal_and_monotone(seed):
    """Bigger problems with many distance ties: exact optimum and per-cell monotonicity."""
    rng = np.random.default_rng(seed)
    nt, no, nf = rng.integers(2, 10), rng.integers(1, 4), rng.integers(2, 12)
    terrs = [f"{i:02d}" for i in range(nt)]
    occs = [f"M{j}" for j in range(no)]
    op = pd.DataFrame(
        [
            (t, o, p, float(rng.choice([0, 1, 2, 3.5, 10])))
            for p in (2030, 2031)
            for t in terrs
            for o in occs
        ],
        columns=["territory", "occupation", "period", "openings"],
    )
    en = pd.DataFrame(
        [
            (f"F{f}", rng.choice(terrs), o, float(rng.choice([0, 0.5, 1, 2, 5])))
            for f in range(nf)
            for o in occs
            if rng.random() < 0.7
        ],
        columns=["offer", "site", "occupation", "entrants"],
    )
    ca = pd.DataFrame(
        [
            (s, t, 0.0 if s == t else float(rng.choice([5, 10, 10, 20])))
            for s in terrs
            for t in terrs
            if s == t or rng.random() < 0.5
        ],
        columns=["site", "territory", "distance_km"],
    )
    base = allocate(op, en, ca)
    _check_invariants(op, en, ca, base, bounds=False)
    ref = _reference_cells(op, en, ca)
    placed = base.gaps.set_index(KEY).loc[pd.MultiIndex.from_frame(op[KEY]), "entrants_allocated"]
    np.testing.assert_allclose(placed, ref, rtol=0, atol=1e-6)
    fmax, km = _two_stage(op, en, ca)
    assert base.gaps["entrants_allocated"].sum() == pytest.approx(fmax, abs=1e-6)
    assert (base.flows["entrants"] * base.flows["distance_km"]).sum() == pytest.approx(km, abs=1e-5)
    for factor in (1.2, 2.0, 5.0):
        more = allocate(op, en.assign(entrants=en["entrants"] * factor), ca).gaps
        assert (more["gap"].to_numpy() <= base.gaps["gap"].to_numpy() + 1e-9).all()
