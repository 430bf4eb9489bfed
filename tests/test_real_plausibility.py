"""Plausibility of the real-territory study (examples/rouen_real.py) against independent figures.

The oracles are published figures read here with plain pandas, not gpec's own estimates: the
DARES 2019 salaried employment of Seine-Maritime by FAP87 (tension indicators) and the INSEE
comparateur's jobs at place of work (2018) of the communes of the URSSAF extract.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
from _helpers import rouen_example, rouen_sectors_and_seed

from gpec.demand.sector_to_occupation import sector_to_occupation

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "rouen_real.py"


def _example():
    return rouen_example()


def _departement_76_fap87(real: Path) -> pd.Series:
    """DARES 2019 'Emploi moyen' of Seine-Maritime by FAP87 (salaried jobs), read by hand."""
    t = pd.read_csv(real / "dares-portrait-stat-metiers" / "tensions" / "tensions.csv", dtype=str)
    t.columns = [c.strip() for c in t.columns]
    d = t[(t["dep"] == "76") & (t["niveau_fap"] == "fap 87")]
    return d.set_index("fap")["Emploi moyen"].astype(float)


def test_zone_estimate_by_fap87_never_exceeds_the_whole_departement(real_data):
    """The zone (76 part) holds about half of Seine-Maritime's jobs: its estimated private
    salaried jobs of a FAP87 cannot exceed the salaried jobs DARES publishes for the whole
    département. A margin counting all jobs (self-employed restaurant owners, shopkeepers,
    hairdressers...) pushed S3Z to 1,437 and T6Z to 1,107 jobs in the zone against
    600 each in the département."""
    mod = _example()
    sec, seed = rouen_sectors_and_seed(real_data, mod)
    margin = mod.occupation_margin(real_data)
    est, _, _ = sector_to_occupation(sec.employment, seed, margin, period=2019)
    zone = est[est["period"] == 2019].groupby("occupation")["value"].sum()
    dep = _departement_76_fap87(real_data)
    both = pd.concat({"zone": zone, "departement": dep}, axis=1).dropna()
    assert len(both) > 60
    over = both[both["zone"] > both["departement"]]
    assert over.empty, f"zone above the whole département:\n{over.round(0)}"


def _zone_job_share_by_hand(real: Path, communes: set[str]) -> float:
    with zipfile.ZipFile(real / "insee-cog" / "base_cc_comparateur_csv.zip") as z:
        with z.open("base_cc_comparateur.CSV") as fh:
            cc = pd.read_csv(fh, sep=";", dtype=str, usecols=["CODGEO", "P18_EMPLT"])
    cc["jobs"] = pd.to_numeric(cc["P18_EMPLT"].str.replace(",", "."), errors="coerce")
    dep = cc[cc["CODGEO"].str.startswith("76")]
    return float(dep.loc[dep["CODGEO"].isin(communes), "jobs"].sum() / dep["jobs"].sum())


def test_zone_training_supply_is_its_share_of_the_departement_seats(real_data):
    """The run's openings cover the zone (76 part) only, about half of Seine-Maritime's jobs:
    matching them with the seats of every school of the département doubled the zone's
    supply. The seats used for the zone are the département's seats times the zone's share of
    the département's jobs (INSEE comparateur 2018)."""
    mod = _example()
    urssaf = pd.read_csv(real_data / mod.URSSAF, sep=";", dtype=str, encoding="utf-8-sig",
                         usecols=["Code commune"])  # fmt: skip
    share = _zone_job_share_by_hand(real_data, set(urssaf["Code commune"]))
    assert 0.4 < share < 0.6  # Rouen's part of Seine-Maritime's 495,000 jobs
    from gpec.ingest import read_training_capacity

    tc = real_data / "training-capacity"
    dep = read_training_capacity(
        [tc / "attractivite_capacite_2022.csv", tc / "BTS_attractivite_capacite_2024.csv"]
    ).training_offers
    dep_seats = float(dep.loc[dep["departement"] == "76", "seats"].sum())
    offers = mod.training_offers(real_data)
    assert offers is not None
    used = float(offers.training_offers["seats"].sum())
    assert used == pytest.approx(share * dep_seats, rel=1e-6)


def test_childminders_employed_by_parents_get_no_urssaf_jobs(real_data):
    """Assistantes maternelles (T2B) are employed by the parents (particuliers employeurs,
    APE 9700Z), which the URSSAF establishment file does not hold: none of the zone's URSSAF
    jobs can be theirs. With T2B in the margin the estimate gave them 3,822 jobs (a fifth of
    sector QB, 29 % of sector SZ) and 4.8 % of the openings of 2023, against 0.3 % of the
    BMO 2023 hiring projects of the Rouen bassins (an establishment survey)."""
    mod = _example()
    raw = pd.read_csv(real_data / mod.URSSAF, sep=";", dtype=str, encoding="utf-8-sig",
                      usecols=["Code APE", "Secteur NA38"])  # fmt: skip
    assert not (raw["Code APE"] == "9700Z").any()  # no household employer in the file
    assert not raw["Secteur NA38"].str.startswith("TZ").any()
    # the published regional structure does count childminders: the margin must drop them
    region = mod.region_margin(real_data)
    assert region.loc[region["occupation"] == "T2B", "value"].sum() > 10_000
    margin = mod.occupation_margin(real_data)
    assert "T2B" not in set(margin["occupation"])


def test_national_departures_in_the_range_metiers_2030_publishes(real_data):
    """DARES national series by FAP225 (examples/real_files/gpec.toml): Métiers 2030 (France
    Stratégie & Dares, 2022) projects end-of-career departures of 26-31 % of regional
    employment over 2019-2030 (2.4-2.8 % a year) and 89-90 % of the openings from them. A
    unit slip (thousands), a FAP counted at several levels or an exit rate off by a band
    would leave these ranges."""
    import warnings

    from gpec.config import load_config
    from gpec.pipeline import load_data, run_pipeline

    cfg = load_config(Path(__file__).resolve().parents[1] / "examples/real_files/gpec.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_pipeline(load_data(cfg), cfg, strict=False)
    op = res.openings.groupby("period")[["employment", "replacement", "openings"]].sum()
    assert len(op) == 6 and op.index.min() == 2019
    rate = float((op["replacement"] / op["employment"]).mean())
    assert 0.020 <= rate <= 0.030, rate  # 2.4-2.8 %, with a margin for 2019-2024 only
    share = float(op["replacement"].sum() / op["openings"].sum())
    assert 0.85 <= share <= 0.95, share  # 89-90 %
    assert 20e6 < float(op["employment"].iloc[0]) < 30e6  # jobs, not thousands


def test_margin_larger_than_the_sectors_that_can_hold_it_is_reported():
    """Hand-computed: occupation y is linked to sector B only (10 jobs) but the margin asks for
    half of the 100 jobs (50): the fit can only give y every job of B, a share of 1. The
    diagnostics name y with both figures instead of leaving a 100 % share unexplained."""
    emp = pd.DataFrame({"territory": "t", "occupation": ["A", "B"], "period": 2019,
                        "value": [90.0, 10.0]})  # fmt: skip
    seed = pd.DataFrame({"sector": ["A", "B", "B"], "occupation": ["x", "x", "y"],
                         "weight": 1.0})  # fmt: skip
    margin = pd.DataFrame({"occupation": ["x", "y"], "value": [5.0, 5.0]})
    _, structure, info = sector_to_occupation(emp, seed, margin)
    share = structure.set_index(["sector", "occupation"])["share"]
    assert share[("B", "y")] == pytest.approx(1.0, abs=1e-3)
    assert info["margin_above_reachable"] == {"y": {"margin": 50.0, "reachable": 10.0}}
