"""Sector -> occupation estimate: IPF against hand-computed cases and a second solver, and the
Rouen estimate against the published figures of the département."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _helpers import rouen_example, rouen_sectors_and_seed

from gpec.demand.sector_to_occupation import (
    compare_structure,
    ipf,
    sector_age_pyramids,
    sector_to_occupation,
    staffing_seed,
)


def test_ipf_uniform_seed_is_the_product_of_the_margins():
    m, info = ipf(np.ones((2, 3)), np.array([30.0, 10.0]), np.array([1.0, 2.0, 1.0]))
    # r_i * c_j / N with the column margin rescaled to N = 40: c = (10, 20, 10)
    assert np.allclose(m, [[7.5, 15.0, 7.5], [2.5, 5.0, 2.5]])
    assert info["converged"]


def test_ipf_matches_a_second_solver():
    """The IPF fit is the matrix closest to the seed (Kullback-Leibler) with those margins:
    solve that problem with scipy's SLSQP and compare."""
    from scipy.optimize import minimize

    seed = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0]])
    r, c = np.array([10.0, 20.0]), np.array([12.0, 15.0, 3.0])
    m, info = ipf(seed, r, c, tol=1e-10)
    assert info["converged"] and m[0, 2] == 0.0  # a structural zero stays zero
    mask = seed > 0

    def kl(x):
        return float(np.sum(x * np.log(x / seed[mask]) - x + seed[mask]))

    def full(x):
        out = np.zeros_like(seed)
        out[mask] = x
        return out

    cons = [{"type": "eq", "fun": lambda x, i=i: full(x)[i].sum() - r[i]} for i in range(2)]
    cons += [{"type": "eq", "fun": lambda x, j=j: full(x)[:, j].sum() - c[j]} for j in range(2)]
    sol = minimize(kl, seed[mask] * 3, constraints=cons, bounds=[(1e-9, None)] * mask.sum(),
                   method="SLSQP", options={"ftol": 1e-12, "maxiter": 500})  # fmt: skip
    assert sol.success
    assert np.allclose(full(sol.x), m, atol=1e-4)


def test_estimate_keeps_sector_totals_and_reports_what_it_cannot_place():
    emp = pd.DataFrame(
        {
            "territory": ["a", "a", "b", "b", "a"],
            "occupation": ["FZ", "GZ", "FZ", "CD", "FZ"],
            "period": [2019, 2019, 2019, 2019, 2018],
            "value": [60.0, 40.0, 100.0, 7.0, 50.0],
        }
    )
    seed = pd.DataFrame(
        {"sector": ["FZ", "FZ", "GZ", "GZ"], "occupation": ["B2Z", "L0Z", "R1Z", "L0Z"],
         "weight": [3.0, 1.0, 1.0, 1.0]}
    )  # fmt: skip
    margin = pd.DataFrame({"occupation": ["B2Z", "L0Z", "R1Z", "W0Z"], "value": [5, 4, 1, 10]})
    est, structure, info = sector_to_occupation(emp, seed, margin)
    assert info["period"] == 2019
    assert info["unallocated"] == {"CD": 7.0}  # no seed for sector CD
    assert info["margin_share_unreachable"] == pytest.approx(0.5)  # W0Z: no sector holds it
    by_t = est[est["period"] == 2019].groupby("territory")["value"].sum()
    assert by_t.to_dict() == pytest.approx({"a": 100.0, "b": 100.0})  # CD left out, reported
    # every year gets the same within-sector structure: a's 50 FZ jobs in 2018
    fz = structure[structure["sector"] == "FZ"].set_index("occupation")["share"]
    a18 = est[(est["territory"] == "a") & (est["period"] == 2018)].set_index("occupation")
    assert a18["value"].to_dict() == pytest.approx((50 * fz).to_dict())
    assert structure.groupby("sector")["share"].sum().to_numpy() == pytest.approx(1.0)


def test_seed_and_pyramids_and_comparison_by_hand():
    links = pd.DataFrame({"division": ["43", "43", "47"], "rome": ["F1703", "M1607", "D1106"]})
    cw = pd.DataFrame({"source": ["F1703", "M1607", "M1607", "D1106"],
                       "target": ["B2Z", "L0Z", "L1Z", "R1Z"],
                       "weight": [1.0, 0.5, 0.5, 1.0]})  # fmt: skip
    div = pd.DataFrame({"source": ["43", "47"], "target": ["FZ", "GZ"]})
    seed = staffing_seed(links, cw, division_to_sector=div)
    assert seed.to_dict("list") == {
        "sector": ["FZ", "FZ", "FZ", "GZ"],
        "occupation": ["B2Z", "L0Z", "L1Z", "R1Z"],
        "weight": [1.0, 0.5, 0.5, 1.0],
    }
    structure = pd.DataFrame({"sector": ["FZ", "FZ"], "occupation": ["B2Z", "L0Z"],
                              "share": [0.75, 0.25], "jobs": [75.0, 25.0]})  # fmt: skip
    age = pd.DataFrame({"occupation": ["B2Z", "B2Z", "L0Z"], "age_band": ["15-29", "50-54",
                        "50-54"], "value": [1.0, 3.0, 9.0]})  # fmt: skip
    pyr = sector_age_pyramids(structure, age).set_index("age_band")["value"]
    assert pyr.to_dict() == pytest.approx({"15-29": 75 * 0.25, "50-54": 75 * 0.75 + 25.0})
    tab, dis = compare_structure(
        pd.DataFrame({"occupation": ["x", "y", "z"], "value": [50.0, 50.0, 100.0]}),
        pd.DataFrame({"occupation": ["x", "y"], "value": [30.0, 10.0]}),
    )
    # within x and y: estimate 50/50, published 75/25 -> dissimilarity 0.25
    assert dis == pytest.approx(0.25)
    assert tab.set_index("occupation")["difference"].to_dict() == pytest.approx(
        {"x": -25.0, "y": 25.0}
    )


def test_rouen_estimate_against_the_departement(real_data):
    """Fitted on the Normandie census structure, checked on the DARES 2019 figures of
    Seine-Maritime (not used in the fit). The sector information must bring the structure at
    least as close to the département's as the région's structure alone."""
    mod = rouen_example()
    sec, seed = rouen_sectors_and_seed(real_data, mod)
    margin_all = mod.region_margin(real_data)
    margin = margin_all[~margin_all["occupation"].isin(mod.OUT_OF_SCOPE)]
    est, structure, info = sector_to_occupation(sec.employment, seed, margin, period=2019)
    # the URSSAF total is kept, but for the sectors the seed cannot place (reported)
    total = sec.employment.loc[sec.employment["period"] == 2019, "value"].sum()
    placed = est.loc[est["period"] == 2019, "value"].sum()
    assert placed == pytest.approx(total - sum(info["unallocated"].values()))
    assert sum(info["unallocated"].values()) < 0.01 * total
    tab, dis, dis_region = mod.departement_check(real_data, est, margin_all)
    assert dis <= dis_region
    assert dis < 0.2
