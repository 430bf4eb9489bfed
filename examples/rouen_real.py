"""Zone d'emploi de Rouen (Seine-Maritime part), from the official files to a planner's report.

    python examples/rouen_real.py [--data ../shared/data/real] [--out rouen-report]

Reads the real public files kept beside the repository (``../shared/data/real``, never copied into
it) and writes, under ``--out``:

* ``sectors/``: gpec run on private salaried employment by EPCI x NA38 sector (URSSAF 2006-2022):
  forecasts to 2030 with their backtest against naive and drift, openings by sector (replacement
  from the sectors' age pyramids, mixed from the FAP pyramids), territory profile;
  ``report.html``, ``report.xlsx`` and the CSV tables;
* ``occupations/``: the same employment estimated by EPCI x FAP87 (iterative proportional
  fitting of the sector totals to the salaried jobs of Normandie by FAP87), its forecasts,
  openings with replacement from the DARES FAP age pyramids, the real vocational and BTS seats
  of Seine-Maritime mapped to FAP (counted for the zone's share of the département's jobs),
  gaps; ``report.html``, ``report.xlsx`` and the CSV tables;
* ``checks/``: the estimate against the published structure of the département (DARES 2019),
  the URSSAF private salaried jobs against the INSEE comparateur's jobs at place of work (2018),
  openings against the BMO hiring intentions of the Rouen bassins, the reconciliation
  commune -> EPCI -> zone d'emploi, the sector -> FAP structure.

Every assumption is written in the ``Assumptions`` section of both reports.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

from gpec import GpecData
from gpec.demand.sector_to_occupation import (
    ASSUMPTIONS,
    compare_structure,
    sector_age_pyramids,
    sector_to_occupation,
    staffing_seed,
)
from gpec.ingest import read_crosswalk, read_dares_series, read_rome, read_table, read_urssaf
from gpec.pipeline import run_pipeline
from gpec.referentials import compose_crosswalks, convert_code_lists, convert_profiles

REPO = Path(__file__).resolve().parents[1]
URSSAF = "urssaf-rouen/etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last.csv"
DARES = "dares-portrait-stat-metiers"
BASE_YEAR = 2019  # the year of the DARES département figures: the estimator is fitted on it
ROUEN_BASSINS = ("ROUEN", "ELBEUF")  # BMO 2023 bassins of the zone (by name)

CONFIG = {
    "run": {"name": "Zone d'emploi de Rouen (76), fichiers URSSAF et INSEE", "level": "epci",
            "lang": "fr", "seed": 0},
    "forecast": {"models": "auto", "horizon": 8, "level": [80, 95]},
    "demand": {"net": True, "interval_level": 80, "pyramid_period": 2018},
    "catchment": {"method": "parent", "level": "departement"},
    "report": {"top_n": 15},
    # reconversion sources: a FAP87 losing at least 10 jobs in an EPCI over the horizon (a loss
    # of a fraction of a job is noise, not a pool of workers to retrain)
    "gap": {"transitions_min_jobs_lost": 10},
}  # fmt: skip


def _above_note(above: dict) -> str:
    """FAP87 whose margin exceeds every job of the sectors linked to them, in words."""
    return (
        "; ".join(
            f"{occ} {v['margin']:,.0f} jobs asked, {v['reachable']:,.0f} in its sectors (takes them all)"
            for occ, v in above.items()
        )
        or "none"
    )


def _readable(info: dict) -> dict:
    """The estimate's diagnostics for a report: numbers rounded, lists and dicts as text."""
    out = {}
    for k, v in info.items():
        if k in ("assumptions", "unreachable_rows", "unreachable_cols"):  # indices: see
            continue  # "unallocated" for the sectors without seed
        if isinstance(v, float):
            v = round(v, 4)
        elif k == "margin_above_reachable":
            v = _above_note(v)
        elif isinstance(v, dict):
            v = ", ".join(f"{a} {b:,.0f}" if isinstance(b, float) else f"{a} {b}"
                          for a, b in v.items()) or "none"  # fmt: skip
        elif isinstance(v, list | tuple):
            v = ", ".join(str(x) for x in v) or "none"
        out[k] = v
    return out


def _say(t0: float, text: str) -> None:
    print(f"[{time.time() - t0:5.1f} s] {text}", flush=True)


def rome_to_fap87(real: Path) -> pd.DataFrame:
    """ROME v3 -> FAP87 crosswalk (DARES fap225_rome.csv; equal weights over a code's FAP)."""
    fr = read_table(real / DARES / "fap225_rome.csv").dropna(subset=["Rome"])
    fr = fr.assign(source=fr["Rome"].str.strip(), target=fr["Fap"].str[:3])
    n = fr.groupby(["source", "target"]).size().rename("n").reset_index()
    n["weight"] = n["n"] / n.groupby("source")["n"].transform("sum")
    return n[["source", "target", "weight"]]


def naf_links(real: Path) -> pd.DataFrame:
    """ROME 4.0 fiche <-> NAF division links, with each fiche's ROME v3 parent."""
    links = read_table(real / "rome4-v460" / "unix_arborescence_secteur_naf_v460_utf8.csv")
    ref = read_table(real / "rome4-v460" / "unix_referentiel_code_rome_v460_utf8.csv")
    parent = dict(zip(ref["code_rome"], ref["code_rome_parent"].fillna(ref["code_rome"]),
                      strict=True))  # fmt: skip
    return pd.DataFrame(
        {
            "division": links["code_secteur_naf"].str.zfill(2),
            "rome": links["code_rome"].map(lambda c: parent.get(c, c)),
        }
    )


def fap87_labels(real: Path) -> pd.DataFrame:
    occ = read_dares_series(real / DARES / "effectifsalarie_hors_app_3niv.csv").occupations
    occ = occ[occ["level"] == "fap87"]
    return pd.DataFrame(
        {"occupation": occ["occupation"], "label": occ["label"], "system": "FAP2009_87"}
    )


def fap87_pyramids(real: Path) -> pd.DataFrame:
    age = read_dares_series(real / DARES / "age_2017_2019_3niv.csv").workforce_age
    age = age[age["occupation"].str.len() == 3]
    return age.assign(territory="FR")


def region_margin(real: Path, region: str = "28") -> pd.DataFrame:
    """Census employment by FAP87 in the région (input_carte1.csv)."""
    c = read_table(real / DARES / "input_carte1.csv")
    c = c[c["code_reg"].str.strip() == region]
    return pd.DataFrame({"occupation": c["FAP_3"], "value": c["emp_fap_reg"].astype(float)})


def reconversion_paths(res, profiles, mobility, data: GpecData) -> pd.DataFrame:
    """Reconversion paths between FAP87, from FAP87 skill profiles (``[gap]`` options of the run)."""
    from gpec.gap import transitions

    gap_cfg = res.config.gap
    out = transitions(
        res.gaps,
        res.openings,
        profiles,
        mobility=mobility,
        top_n=gap_cfg.transitions_top_n,
        min_overlap=gap_cfg.transitions_min_overlap,
        min_jobs_lost=gap_cfg.transitions_min_jobs_lost,
    )
    labels = {
        "territory": data.territories.set_index("territory")["label"],
        "occupation": data.occupations.set_index("occupation")["label"],
        "from_occupation": data.occupations.set_index("occupation")["label"],
    }
    for code, lab in labels.items():
        out.insert(out.columns.get_loc(code) + 1, f"{code}_label", out[code].map(lab))
    return out


#: FAP87 outside URSSAF's scope (agriculture; civil service, army, police; politics and
#: clergy; assistantes maternelles, employed by the parents, APE 9700Z, not in the
#: establishment file): left out of the occupation margin, not forced into private sectors.
OUT_OF_SCOPE = (
    "A0Z", "A1Z", "A2Z", "A3Z", "P0Z", "P1Z", "P2Z", "P3Z", "P4Z", "T2B", "X0Z",
)  # fmt: skip


def salaried_share(real: Path) -> pd.Series:
    """Share of salaried jobs in all jobs by FAP87, France 2017-2019 (DARES).

    Salaried jobs without apprentices (``effectifsalarie_hors_app_3niv.csv``, 2017-2019)
    over all jobs (``effectifs_3niv.csv``, year 2018: the mean of 2017-2019), both in
    thousands. Low where the self-employed dominate: owners and managers of hotels, cafés and
    restaurants (S3Z) 0.27, employés des services divers (T6Z) 0.17, hairdressers and
    beauticians (T0Z) 0.43, shop supervisors and commercial intermediaries (R3Z) 0.52.
    """
    sal = read_table(real / DARES / "effectifsalarie_hors_app_3niv.csv")
    sal = pd.to_numeric(sal.set_index("Fap")["sumeffsal"], errors="coerce")
    allj = read_table(real / DARES / "effectifs_3niv.csv")
    allj = allj[allj["Annee"].astype(str).str.strip() == "2018"].iloc[0].drop("Annee")
    allj = pd.to_numeric(allj, errors="coerce")
    codes = [c for c in allj.index if len(c) == 3 and c in sal.index]
    return (sal[codes] / allj[codes]).clip(upper=1.0).rename("salaried_share")


def occupation_margin(real: Path) -> pd.DataFrame:
    """The occupation margin of the sector -> FAP87 fit: salaried jobs of Normandie by FAP87.

    The census counts every job at its place of work (self-employed and household employees
    included) while URSSAF counts the salaried jobs of establishments: each FAP87's census
    employment is multiplied by its national salaried share (:func:`salaried_share`); the
    FAP87 outside URSSAF's scope are left out.
    """
    margin = region_margin(real)
    margin = margin[~margin["occupation"].isin(OUT_OF_SCOPE)].reset_index(drop=True)
    share = salaried_share(real)
    missing = sorted(set(margin["occupation"]) - set(share.index))
    if missing:  # pragma: no cover - every FAP87 of the census is in the DARES tables
        raise SystemExit(f"no salaried share for FAP87 {missing}")
    return margin.assign(value=margin["value"] * margin["occupation"].map(share))


def fap87_skills(real: Path, fap_codes) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """ROME 4.0 macro-compétences of the FAP87 of the run, and ROME mobility links between FAP87.

    Each ROME 4.0 fiche reaches FAP 2009 through its ROME v3 parent (``code_rome_parent``) and
    the DARES passage table (``passage_fap2009_romev3.txt``: every fiche is chained, whereas
    ``fap225_rome.csv`` misses one); a FAP225 code's first three characters give its FAP87. A
    FAP87 profile is the crosswalk-weighted mean of the profiles of its fiches
    (:func:`gpec.referentials.convert_profiles`). Skills are the 507 macro-compétences linked to
    the fiches (core 1, other 0.5): the savoir-faire (17,810) and savoirs (15,354) under them
    would make tables of a million rows a planner cannot read. A FAP87 pair has a mobility link
    when one fiche of the first lists a mobility to a fiche of the second in ROME 4.0.

    Returns
    -------
    skills, occupation_skills, mobility, info
    """
    rome = read_rome(real / "rome4-v460")
    sas = read_crosswalk(real / "bob-emploi-fixtures" / "passage_fap2009_romev3.txt").crosswalks
    sas = sas[(sas["source_system"] == "ROME3") & (sas["target_system"] == "FAP2009")]
    r4f, unchained = compose_crosswalks(rome.crosswalks, sas)
    r4f = r4f.assign(target=r4f["target"].str[:3])
    r4f = r4f.groupby(["source", "target"], as_index=False, sort=True)["weight"].sum()
    macro = rome.skills[rome.skills["kind"] == "macro_competence"]
    links = rome.occupation_skills
    links = links[links["skill"].isin(set(macro["skill"]))]
    profiles = convert_profiles(links[["occupation", "skill", "weight"]], r4f)
    codes = set(fap_codes)
    profiles = profiles[profiles["occupation"].isin(codes)].reset_index(drop=True)
    skills = macro[["skill", "label", "kind", "system"]].assign(parent=None)
    skills = skills[skills["skill"].isin(set(profiles["skill"]))].reset_index(drop=True)
    mob = rome.extra["mobility"]
    pairs = mob[["occupation", "target"]].merge(
        r4f[["source", "target"]].rename(columns={"source": "occupation", "target": "f_from"}),
        on="occupation",
    )
    pairs = pairs.merge(
        r4f[["source", "target"]].rename(columns={"source": "target", "target": "f_to"}),
        on="target",
    )
    mobility = (
        pairs[["f_from", "f_to"]]
        .rename(columns={"f_from": "source", "f_to": "target"})
        .drop_duplicates()
    )
    mobility = mobility[
        (mobility["source"] != mobility["target"])
        & mobility["source"].isin(codes)
        & mobility["target"].isin(codes)
    ].sort_values(["source", "target"], ignore_index=True)
    n = len(codes)
    info = {
        "rome4_fiches": int(rome.crosswalks["source"].nunique()),
        "fiches_chained": int(r4f["source"].nunique()),
        "unchained": sorted(unchained["source"]) if len(unchained) else [],
        "links_used": int(len(links)),
        "skills": int(len(skills)),
        "fap87_with_profile": int(profiles["occupation"].nunique()),
        "fap87_without_profile": sorted(codes - set(profiles["occupation"])),
        "mobility_pairs": int(len(mobility)),
        "mobility_pair_share": len(mobility) / (n * (n - 1)) if n > 1 else 0.0,
        "version": rome.meta.get("version"),
    }
    return skills, profiles, mobility, info


def departement_check(real: Path, est: pd.DataFrame, margin: pd.DataFrame) -> tuple:
    """Estimated FAP87 structure of the panel vs the DARES 2019 figures of Seine-Maritime,
    within the FAP87 DARES publishes and URSSAF's establishment file can hold."""
    t = read_table(real / DARES / "tensions" / "tensions.csv")
    d = t[(t["dep"] == "76") & (t["niveau_fap"] == "fap 87")]
    pub = pd.DataFrame({"occupation": d["fap"], "value": d["Emploi moyen"].astype(float)})
    pub = pub[~pub["occupation"].isin(OUT_OF_SCOPE)]  # farmers, childminders: not in URSSAF
    tab, dis = compare_structure(est[est["period"] == BASE_YEAR], pub)
    _, dis_region = compare_structure(margin, pub)  # the région structure, no sector information
    return tab, dis, dis_region


def comparateur_check(real: Path, commune_emp: pd.DataFrame, memberships) -> pd.DataFrame:
    """URSSAF private salaried jobs 2018 vs INSEE jobs at place of work 2018, per EPCI."""
    import zipfile

    with zipfile.ZipFile(real / "insee-cog" / "base_cc_comparateur_csv.zip") as z:
        with z.open("base_cc_comparateur.CSV") as fh:
            cc = pd.read_csv(fh, sep=";", dtype=str, usecols=["CODGEO", "P18_EMPLT",
                                                              "P18_EMPLT_SAL"])  # fmt: skip
    communes = sorted(set(commune_emp["territory"]))
    cc = cc[cc["CODGEO"].isin(communes)].copy()
    for c in ("P18_EMPLT", "P18_EMPLT_SAL"):
        cc[c] = pd.to_numeric(cc[c].str.replace(",", "."), errors="coerce")
    epci = memberships[memberships["level"] == "epci"].set_index("commune")["territory"]
    cc["epci"] = cc["CODGEO"].map(epci)
    urs = commune_emp[commune_emp["period"] == 2018].groupby("territory")["value"].sum()
    cc["urssaf_2018"] = cc["CODGEO"].map(urs).fillna(0.0)
    out = cc.groupby("epci")[["urssaf_2018", "P18_EMPLT_SAL", "P18_EMPLT"]].sum()
    out.loc["zone (76 part)"] = out.sum()
    out["private_salaried_share_of_jobs"] = out["urssaf_2018"] / out["P18_EMPLT"]
    out["private_share_of_salaried_jobs"] = out["urssaf_2018"] / out["P18_EMPLT_SAL"]
    out.attrs["communes_found"] = len(cc)
    return out.reset_index()


def reconciliation_check(commune: GpecData) -> pd.DataFrame:
    """Forecasts by commune x NA38 summed to EPCI and zone, against the EPCI/zone forecasts.

    The URSSAF file's own totals are the sums of its commune cells (published cells only), so
    the coherent forecast of a level is the sum of the forecasts of the level below.
    """
    from gpec.forecast import Forecaster, reconcile

    emp = commune.employment
    terr = commune.territories
    up = terr.set_index("territory")["parent"]
    levels = {"commune": emp}
    e = emp.assign(territory=emp["territory"].map(up))
    levels["epci"] = e.groupby(["territory", "occupation", "period"], as_index=False)["value"].sum()
    z = levels["epci"].assign(territory=levels["epci"]["territory"].map(up))
    levels["zone_emploi"] = z.groupby(["territory", "occupation", "period"], as_index=False)[
        "value"
    ].sum()
    # only sectors of the zone with at least 8 published years in every series of the zone
    panel = pd.concat(levels.values(), ignore_index=True)
    n = panel.groupby(["territory", "occupation"])["period"].transform("size")
    panel = panel[n >= 8]
    model = Forecaster(models=["naive", "drift"], horizon=8, level=(80,), random_state=0)
    model.fit(panel[panel["occupation"].isin(["FZ", "GZ", "QA"])])
    base = model.predict()
    rec = reconcile(base, terr, method="bottom_up")
    rows = []
    for name, fc in (("base", base), ("reconciled", rec)):
        fc = fc[fc["period"] == 2030].drop_duplicates(["territory", "occupation"])
        lvl = fc["territory"].map(terr.set_index("territory")["level"])
        for (lv, occ), v in fc.groupby([lvl, fc["occupation"]])["mean"].sum().items():
            rows.append((name, lv, occ, v))
    return pd.DataFrame(rows, columns=["forecast", "level", "sector", "employment_2030"])


def geography_check(real: Path, memberships: pd.DataFrame) -> pd.DataFrame:
    """Commune -> EPCI of the URSSAF file against the COG 2026 (etalab package), per commune."""
    from gpec.ingest import read_insee_geography

    cog = read_insee_geography(real / "insee-cog" / "etalab-decoupage-administratif-6.0.0.tgz")
    m = cog.extra["memberships"]
    cog_epci = m[m["level"] == "epci"].set_index("commune")["territory"]
    labels = cog.territories.set_index("territory")["label"]
    u = memberships[memberships["level"] == "epci"][["commune", "territory"]]
    u = u.rename(columns={"territory": "epci_urssaf"})
    u["epci_cog_2026"] = u["commune"].map(cog_epci)
    u["commune_label"] = u["commune"].map(labels)
    u["epci_cog_2026_label"] = u["epci_cog_2026"].map(labels)
    u["same"] = u["epci_urssaf"] == u["epci_cog_2026"]
    return u.sort_values(["same", "commune"]).reset_index(drop=True)


def bmo_check(real: Path, openings: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Openings 2023 by FAP87 vs the BMO 2023 hiring projects of the Rouen bassins (FAP 2009
    in both). BMO counts every recruitment project of every employer (seasonal and short
    contracts, public employers, agriculture): a comparison of structure, not of levels."""
    from gpec.ingest import read_bmo

    bmo = read_bmo(real / "bmo-france-travail" / "Base_open_data_23.xlsx")
    hi, terr = bmo.hiring_intentions, bmo.territories
    names = terr.set_index("territory")["label"].astype(str).str.upper()
    bassins = sorted(
        t for t in hi["territory"].unique() if any(b in names.get(t, "") for b in ROUEN_BASSINS)
    )
    hi = hi[hi["territory"].isin(bassins)]
    bmo87 = hi.groupby(hi["occupation"].str[:3])["projects"].sum()
    op = openings[openings["period"] == 2023]
    op87 = op.groupby("occupation")["openings"].sum()
    out = pd.concat({"openings_2023": op87, "bmo_2023_projects": bmo87}, axis=1)
    out = out.dropna(subset=["openings_2023"]).fillna({"bmo_2023_projects": 0.0})
    out["openings_share"] = out["openings_2023"] / out["openings_2023"].sum()
    out["bmo_share"] = out["bmo_2023_projects"] / out["bmo_2023_projects"].sum()
    out = out.sort_values("bmo_2023_projects", ascending=False)
    rank = out[["openings_2023", "bmo_2023_projects"]].rank().corr().iloc[0, 1]
    summary = {
        "bassins": [f"{b} {names.get(b, '')}" for b in bassins],
        "openings_2023": float(out["openings_2023"].sum()),
        "bmo_2023_projects": float(hi["projects"].sum()),
        "spearman_fap87": float(rank),
    }
    return out.reset_index().rename(columns={"index": "occupation"}), summary


def zone_job_share(real: Path) -> float:
    """Share of Seine-Maritime's jobs (INSEE comparateur, jobs at place of work 2018) in the
    communes of the URSSAF extract (the zone d'emploi's part in the département)."""
    import zipfile

    communes = pd.read_csv(real / URSSAF, sep=";", dtype=str, encoding="utf-8-sig",
                           usecols=["Code commune"])["Code commune"]  # fmt: skip
    with zipfile.ZipFile(real / "insee-cog" / "base_cc_comparateur_csv.zip") as z:
        with z.open("base_cc_comparateur.CSV") as fh:
            cc = pd.read_csv(fh, sep=";", dtype=str, usecols=["CODGEO", "P18_EMPLT"])
    cc = cc[cc["CODGEO"].str.startswith("76")]
    jobs = pd.to_numeric(cc["P18_EMPLT"].str.replace(",", "."), errors="coerce").fillna(0.0)
    return float(jobs[cc["CODGEO"].isin(set(communes))].sum() / jobs.sum())


def training_offers(real: Path, zone_share: float | None = None) -> GpecData | None:
    """Vocational (Affelnet 2022) and BTS (Parcoursup 2024) seats of Seine-Maritime, with their
    ROME codes from Certif Info; None when the readers are not available.

    The openings of the run cover the zone only, about half of the département's jobs, and the
    files do not say where each school is: each offer's seats are its seats times the zone's
    share of the département's jobs (``zone_share``, default :func:`zone_job_share`); the
    school's own seats stay in ``meta["seats_departement"]``.
    """
    try:
        from gpec.ingest import read_training_capacity
    except ImportError:  # pragma: no cover
        return None
    tc = real / "training-capacity"
    data = read_training_capacity(
        [tc / "attractivite_capacite_2022.csv", tc / "BTS_attractivite_capacite_2024.csv"],
        certifinfo=real / "certifinfo" / "certif_info.csv",
        inserjeunes=real / "inserjeunes" / "fr-en-inserjeunes-cfa.csv",
    )
    offers = data.training_offers
    eure = offers[offers["departement"] == "27"]
    meta = {
        **data.meta,
        "eure": {"offers": len(eure), "seats": float(eure["seats"].sum()),
                 "schools": int(eure["uai"].nunique()) if "uai" in eure else None},
    }  # fmt: skip
    offers = offers[offers["departement"] == "76"].copy()
    offers["site"] = "76"  # schools placed at their département (no UAI -> commune file here)
    share = zone_job_share(real) if zone_share is None else float(zone_share)
    meta["seats_departement"] = float(offers["seats"].sum())
    meta["zone_share"] = share
    offers["seats"] = offers["seats"] * share
    # the offers' ROME codes (Certif Info, "code" or "code:weight") -> FAP87 of this run
    cw = rome_to_fap87(real)
    ref = read_table(real / "rome4-v460" / "unix_referentiel_code_rome_v460_utf8.csv")
    v4 = ref[["code_rome", "code_rome_parent"]].dropna()
    v4 = v4[~v4["code_rome"].isin(cw["source"])].merge(
        cw, left_on="code_rome_parent", right_on="source"
    )
    cw = pd.concat([cw, v4.assign(source=v4["code_rome"])[cw.columns]], ignore_index=True)
    codes = (
        offers["rome"]
        .astype(object)
        .map(
            lambda v: (
                ";".join(c.split(":")[0].strip() for c in v.split(";"))
                if isinstance(v, str)
                else None
            )
        )
    )
    offers["rome"] = convert_code_lists(codes, cw)
    offers["rncp"] = None  # used through Certif Info already
    offers["formacode"] = None
    return GpecData(training_offers=offers, meta=meta)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "real"))
    ap.add_argument("--out", default="rouen-report")
    ap.add_argument("--no-bmo", action="store_true", help="skip the BMO comparison (slow read)")
    args = ap.parse_args(argv)
    real, out = Path(args.data), Path(args.out)
    t0 = time.time()
    warnings.simplefilter("default")

    # ---- 1. URSSAF: EPCI x NA38 panel, and the commune level for the checks
    sec = read_urssaf(real / URSSAF, sector_level="na38", territory_level="epci")
    com = read_urssaf(real / URSSAF, sector_level="na38", territory_level="commune")
    cells = sec.extra["cells"]
    _say(t0, f"URSSAF: {len(sec.employment)} published EPCI x NA38 cells, "
             f"{int(cells['employment'].isna().sum())} unknown (null, not 0)")  # fmt: skip

    # ---- 2. sectors -> FAP87 (seed from ROME-NAF links, IPF to the Normandie census margin)
    sectors = sec.extra["sectors"]
    na88_to_38 = sectors[sectors["level"] == "na88"].rename(
        columns={"sector": "source", "parent": "target"}
    )
    seed = staffing_seed(naf_links(real), rome_to_fap87(real), division_to_sector=na88_to_38)
    margin_all = region_margin(real)
    margin = occupation_margin(real)
    est, structure, info = sector_to_occupation(sec.employment, seed, margin, period=BASE_YEAR)
    dep_tab, dis, dis_region = departement_check(real, est, margin_all)
    unallocated = ", ".join(f"{k} {v:,.0f} jobs" for k, v in info["unallocated"].items())
    fit_note = (
        f"IPF {info['iterations']} iterations, converged: {info['converged']}; sector totals kept "
        f"exactly, largest relative miss of a FAP87 margin {info['col_error_after_row_scaling']:.0%}"
        f" (the seed's zeros make the two margins incompatible); FAP87 whose margin exceeds "
        f"every job of the sectors linked to it: {_above_note(info['margin_above_reachable'])};"
        f" jobs of sectors without seed left out: {unallocated or 'none'}"
    )
    _say(t0, f"sector -> FAP87: {fit_note}; dissimilarity with the département {dis:.3f} "
             f"(census structure of the région, all jobs: {dis_region:.3f})")  # fmt: skip

    # ---- 3. gpec run by sector
    pyramids = fap87_pyramids(real)
    sec_age = sector_age_pyramids(structure, pyramids)
    assumptions = {
        "urssaf_scope": sec.meta["scope"] + "; temporary agency workers counted in sector NZ "
        "(APE 7820Z) where the agency is",
        "urssaf_extract": "the Seine-Maritime part of the zone d'emploi 2815 (218 of its 300 "
        "communes; the 82 communes in Eure are not in the file); EPCI totals cover their "
        "communes in the zone only",
        "empty_cells": sec.meta["missing_reasons"]["empty"] + "; kept as null, never 0",
        "totals": sec.meta["totals_rule"],
        "series_gaps": "a sector x EPCI series with unknown years is forecast from its "
        "published years only",
        "sector_age_pyramids": "age pyramid of a sector = mix of the national FAP87 pyramids "
        "(DARES 2017-2019) with the sector's estimated FAP structure",
        **{f"sector_to_fap.{k}": v for k, v in ASSUMPTIONS.items()},
        "sector_to_fap.seed_source": "ROME 4.0 v460 arborescence secteur NAF, ROME v3 parent, "
        "DARES fap225_rome.csv",
        "sector_to_fap.margin": "the occupation margin (salaried jobs of a wider area, "
        "public employment included) is taken as the structure of the panel's jobs, rescaled "
        "to the panel's total",
        "sector_to_fap.margin_source": "DARES input_carte1.csv, census employment by FAP87 "
        "(all jobs), région 28 Normandie, times the national share of salaried jobs of each "
        "FAP87 (DARES effectifsalarie_hors_app_3niv.csv over effectifs_3niv.csv 2018, "
        "apprentices not counted as salaried there), without FAP outside URSSAF's scope "
        + ", ".join(OUT_OF_SCOPE),
        "sector_to_fap.fit_year": BASE_YEAR,
        "sector_to_fap.fit": fit_note,
        "sector_to_fap.check": f"dissimilarity index of the estimated FAP87 structure with "
        f"DARES 2019 Seine-Maritime salaried jobs (FAP it publishes, in URSSAF's scope): "
        f"{dis:.3f}; with the "
        f"census structure of the région (all jobs): {dis_region:.3f}. The zone's FAP87 totals "
        "follow the margin wherever the fit converges (IPF): this check tests the margin, the "
        "sector information only shares the jobs between EPCI",
    }
    data_sec = GpecData(
        territories=sec.territories,
        occupations=sec.occupations,
        employment=sec.employment,
        workforce_age=sec_age,
        sources=sec.sources,
        meta=sec.meta,
    )
    res_sec = run_pipeline(data_sec, CONFIG)
    res_sec.provenance["assumptions"] = assumptions
    res_sec.write(out / "sectors", lang="fr")
    _say(t0, f"sectors: {len(res_sec.forecast)} forecast rows, report in {out / 'sectors'}")

    # ---- 4. gpec run by FAP87, with the real seats of Seine-Maritime
    fap_occ = fap87_labels(real)
    fap_occ = fap_occ[fap_occ["occupation"].isin(set(est["occupation"]))]
    crosswalk = rome_to_fap87(real).assign(source_system="ROME3", target_system="FAP2009_87")
    crosswalk = crosswalk[crosswalk["target"].isin(set(fap_occ["occupation"]))]
    crosswalk["weight"] = crosswalk["weight"] / crosswalk.groupby("source")["weight"].transform(
        "sum"
    )
    offers = training_offers(real)
    eure = offers.meta["eure"] if offers is not None else None
    eure_note = (
        "not included: the Eure seats "
        + (f"({eure['offers']} offers, {eure['seats']:,.0f} seats in {eure['schools']} schools "
           "of département 27) " if eure else "")
        + "would serve the 82 Eure communes of the zone, which the URSSAF extract does not "
        "hold, and the files do not say which Eure schools lie in the zone (no school "
        "commune). To include them: add the URSSAF rows of the Eure communes of the zone "
        "(their EPCI then sit under département 27) and keep the catchment by département, "
        "or give the capacity reader a UAI -> commune table (option communes) and place each "
        "school at its commune's EPCI"
    )  # fmt: skip
    skills, profiles, mobility, skill_info = fap87_skills(real, fap_occ["occupation"])
    skill_note = (
        f"ROME {skill_info['version']} macro-compétences ({skill_info['skills']} linked to the "
        f"FAP87 of the run) carried to FAP87 through ROME 4.0 -> ROME v3 (code_rome_parent) -> "
        f"FAP 2009 (DARES passage_fap2009_romev3.txt) -> FAP87 (first three characters): "
        f"{skill_info['fiches_chained']} of {skill_info['rome4_fiches']} fiches chained; a FAP87 "
        f"profile is the crosswalk-weighted mean of its fiches' profiles (core link 1, other "
        f"0.5); FAP87 without a profile: "
        f"{', '.join(skill_info['fap87_without_profile']) or 'none'}"
    )
    mobility_note = (
        f"a FAP87 pair has a mobility link when one of its ROME 4.0 fiches lists a mobility to a "
        f"fiche of the other ({skill_info['mobility_pairs']} pairs, "
        f"{skill_info['mobility_pair_share']:.0%} of all pairs: a weak signal at this level, "
        f"worth 0.1 in the score); paths ranked by the overlap of the FAP87 profiles; a "
        f"source FAP87 must lose at least {CONFIG['gap']['transitions_min_jobs_lost']} jobs "
        "in the EPCI over the horizon"
    )
    _say(t0, f"skills: {skill_note}")
    terr = sec.territories
    if offers is not None and not (terr["territory"] == "76").any():  # pragma: no cover
        raise SystemExit("the territories have no département 76")
    data_fap = GpecData(
        territories=terr,
        occupations=fap_occ.assign(parent=None),
        employment=est.assign(value=est["value"].round(1)),
        workforce_age=pyramids[pyramids["occupation"].isin(set(fap_occ["occupation"]))],
        crosswalks=crosswalk,
        skills=skills,
        occupation_skills=profiles,
        training_offers=None if offers is None else offers.training_offers,
        extra={"mobility": mobility},
        meta={"estimate": _readable(info)},
    )
    cfg_fap = {**CONFIG, "supply": {"text_matching": True}}
    res_fap = run_pipeline(data_fap, cfg_fap, strict=False)
    n_paths = len(res_fap.transitions)
    res_fap.transitions = reconversion_paths(res_fap, profiles, mobility, data_fap)
    res_fap.provenance["assumptions"] = {
        **assumptions,
        "training_seats": "Affelnet 2022 (vocational) and Parcoursup 2024 (BTS) seats of "
        "schools in Seine-Maritime (UAI 076...), placed at the département; ROME codes from "
        "Certif Info by the diploma code, ROME v3 -> FAP87 by the DARES table; share of seats "
        "mapped by code / text / not at all in mapping_quality.csv and the report"
        if offers is not None
        else "no training seats (readers not available)",
        "training_seats_zone_share": f"the openings cover the zone only: each school's seats "
        f"count for the zone's share of Seine-Maritime's jobs ({offers.meta['zone_share']:.1%},"
        f" INSEE comparateur 2018, jobs at place of work), {offers.meta['seats_departement']:,.0f}"
        f" seats of the département -> {offers.training_offers['seats'].sum():,.0f} for the zone"
        " (the files do not say where each school is)"
        if offers is not None
        else "none",
        "training_seats_eure": eure_note,
        "skills": skill_note,
        "reconversion_paths": f"{mobility_note} ({n_paths} paths without that minimum, "
        f"{len(res_fap.transitions)} with it)",
    }
    res_fap.write(out / "occupations", lang="fr")
    _say(t0, f"occupations: openings by EPCI x FAP87, report in {out / 'occupations'}")

    # ---- 5. checks
    checks = out / "checks"
    checks.mkdir(parents=True, exist_ok=True)
    dep_tab.to_csv(checks / "fap87_vs_departement_2019.csv", index=False)
    structure.to_csv(checks / "sector_fap87_structure.csv", index=False)
    profiles.merge(skills[["skill", "label"]], on="skill").to_csv(
        checks / "fap87_skill_profiles.csv", index=False
    )
    cmp_ = comparateur_check(real, com.employment, com.extra["memberships"])
    cmp_.to_csv(checks / "urssaf_vs_comparateur_2018.csv", index=False)
    geo = geography_check(real, com.extra["memberships"])
    geo.to_csv(checks / "communes_epci_urssaf_vs_cog2026.csv", index=False)
    rec = reconciliation_check(com)
    rec.to_csv(checks / "reconciliation_commune_epci_zone.csv", index=False)
    bmo_summary = None
    if not args.no_bmo:
        bmo, bmo_summary = bmo_check(real, res_fap.openings)
        bmo.to_csv(checks / "openings_vs_bmo_2023.csv", index=False)
    _say(t0, "checks written")

    # ---- 6. what a planner reads first
    fc = res_sec.forecast
    mean = fc[(fc["level"] == 80) & fc["territory"].isin(sec.territories.query("level == 'epci'")
                                                          ["territory"])]  # fmt: skip
    total = mean.groupby("period")["mean"].sum()
    hist = sec.employment.groupby("period")["value"].sum()
    print("\nPrivate salaried jobs, zone (76 part), published cells:")
    print(f"  2006 {hist.loc[2006]:,.0f}   2014 {hist.loc[2014]:,.0f}   2022 {hist.loc[2022]:,.0f}"
          f"   forecast 2030 {total.loc[2030]:,.0f}")  # fmt: skip
    summ = res_sec.backtest_summary
    if len(summ):
        print("\nBacktest accuracy (sectors):")
        print(summ.to_string(index=False, max_rows=12))
    op = res_sec.openings
    by_sector = op.groupby(["occupation", "occupation_label"])["openings"].sum()
    print("\nOpenings 2023-2030 by sector (largest 8):")
    print(by_sector.sort_values(ascending=False).head(8).round(0).to_string())
    print(f"\nFAP87 structure vs DARES 2019 Seine-Maritime: dissimilarity {dis:.3f} "
          f"(census structure of the région, all jobs: {dis_region:.3f}); largest differences "
          "(points):")  # fmt: skip
    print(dep_tab.head(6)[["occupation", "estimate_share", "published_share", "difference"]]
          .round(3).to_string(index=False))  # fmt: skip
    print(f"\nCommune -> EPCI: URSSAF file and COG 2026 agree for {int(geo['same'].sum())} of "
          f"{len(geo)} communes")  # fmt: skip
    zone = cmp_[cmp_["epci"] == "zone (76 part)"].iloc[0]
    print(f"\nURSSAF 2018 / INSEE jobs at place of work 2018: "
          f"{zone['private_salaried_share_of_jobs']:.1%} of all jobs, "
          f"{zone['private_share_of_salaried_jobs']:.1%} of salaried jobs")  # fmt: skip
    if bmo_summary is not None:
        print(f"\nOpenings 2023 (FAP87) vs BMO 2023 hiring projects of the bassins "
              f"{', '.join(bmo_summary['bassins'])}: {bmo_summary['openings_2023']:,.0f} "
              f"openings, {bmo_summary['bmo_2023_projects']:,.0f} projects; rank correlation "
              f"across FAP87 {bmo_summary['spearman_fap87']:.2f}")  # fmt: skip
    sg = res_fap.skill_gaps
    if len(sg):
        tot = sg[["need", "supply_allocated", "gap"]].sum()
        print(f"\nSkill gaps 2023-2030 (FAP87 x ROME 4.0 macro-compétences, weighted): need "
              f"{tot['need']:,.0f}, covered by local training {tot['supply_allocated']:,.0f}, "
              f"gap {tot['gap']:,.0f}; largest gaps:")  # fmt: skip
        top = sg.groupby("skill_label")["gap"].sum().sort_values(ascending=False).head(5)
        print(top.round(0).to_string())
    tr_ = res_fap.transitions
    if len(tr_):
        best = tr_[tr_["rank"] == 1].sort_values("gap", ascending=False).head(5)
        print(f"\nReconversion paths: {len(tr_)} (up to 5 per EPCI x FAP87 in gap); for the "
              "largest gaps, the closest occupation losing jobs:")  # fmt: skip
        for r in best.itertuples():
            print(
                f"  {r.territory_label}: {r.from_occupation_label} -> {r.occupation_label} "
                f"(overlap {r.overlap:.2f}, {r.n_skills_to_acquire} skills to acquire)"
            )
    if offers is not None:
        q = res_fap.mapping_quality
        m = offers.meta
        print(f"\nTraining offers of Seine-Maritime: {len(offers.training_offers)}, "
              f"{m['seats_departement']:,.0f} seats, counted for the zone's share of the "
              f"département's jobs ({m['zone_share']:.1%}); mapping (seats of the zone):")  # fmt: skip
        print(q.to_string(index=False) if len(q) else "  (none)")
    _say(t0, f"done: {out}")


if __name__ == "__main__":
    main()
