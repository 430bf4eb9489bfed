"""Generate the bundled gpec demo: a synthetic Normandie + Grand Est region.

The numbers are SYNTHETIC. Territory names, département and région codes, ROME 4.0 occupation
codes and labels and ROME 4.0 skills are real (skills copied from France Travail's ROME 4.0 v460
by ``extract_rome.py`` into ``datasets/source/``); employment, age pyramids, hiring intentions and
training seats and rates are invented by this script, with plausible orders of magnitude and a few
stylised events (see ``datasets/README.md``). Course templates (French titles, descriptions,
codes, sites) come from the hand-written ``datasets/source/offer_catalogue.csv``.

Usage::

    python datasets/make_demo.py                # writes gpec/datasets/data/*.csv
    python datasets/make_demo.py --out /tmp/demo

The output is deterministic: one seeded numpy Generator, fixed ordering and number formats, so
two runs give byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import pandas as pd

from gpec.datasets._demo import DEMO_TABLES
from gpec.demand import AGE_BANDS

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"
DEFAULT_OUT = HERE.parent / "gpec" / "datasets" / "data"
SEED = 20240628
YEARS = np.arange(2005, 2025)
FILES = DEMO_TABLES

# --------------------------------------------------------------------------------- territories
NATION = ("FR", "France", 46.6033, 1.8883)
REGIONS = [("R28", "Normandie", 49.1214, 0.1077), ("R44", "Grand Est", 48.6890, 5.6190)]
# fmt: off
DEPARTEMENTS = [  # code, label, region, lat, lon
    ("14", "Calvados", "R28", 49.0907, -0.3636),
    ("27", "Eure", "R28", 49.1136, 0.9962),
    ("50", "Manche", "R28", 49.0797, -1.3279),
    ("61", "Orne", "R28", 48.623, 0.129),
    ("76", "Seine-Maritime", "R28", 49.6554, 1.0263),
    ("08", "Ardennes", "R44", 49.6159, 4.6406),
    ("54", "Meurthe-et-Moselle", "R44", 48.7867, 6.1653),
    ("57", "Moselle", "R44", 49.0372, 6.6631),
    ("67", "Bas-Rhin", "R44", 48.6708, 7.5513),
    ("68", "Haut-Rhin", "R44", 47.8584, 7.2338),
    ("88", "Vosges", "R44", 48.1965, 6.3809),
]
# SIREN-like code, label, departement, lat, lon, size (thousand jobs), profile tags
EPCI = [
    ("200065597", "Communauté urbaine Caen la Mer", "14", 49.1829, -0.3707, 150, "it care"),
    ("200069532", "CA Lisieux Normandie", "14", 49.1466, 0.2258, 30, "process"),
    ("241400415", "CC Cœur Côte Fleurie", "14", 49.3578, 0.0741, 12, "tourism"),
    ("200069524", "CC Bayeux Intercom", "14", 49.2764, -0.7024, 15, "tourism"),
    ("200089821", "Agglomération Seine-Eure", "27", 49.2152, 1.1659, 40, "logistics process"),
    ("200066215", "CA Évreux Portes de Normandie", "27", 49.0241, 1.1508, 45, "care process"),
    ("200072312", "Seine Normandie Agglomération", "27", 49.0928, 1.4852, 25, "metal"),
    ("200066298", "CC Intercom Bernay Terres de Normandie", "27", 49.0889, 0.5985, 12, "metal"),
    ("200067205", "CA du Cotentin", "50", 49.6337, -1.6222, 70, "metal maintenance"),
    ("200066876", "Saint-Lô Agglo", "50", 49.1157, -1.0906, 35, "process care"),
    ("200042729", "CA Mont-Saint-Michel-Normandie", "50", 48.6844, -1.3569, 35, "tourism process"),
    ("200067064", "CC Coutances Mer et Bocage", "50", 49.0478, -1.4452, 15, "process"),
    ("246100663", "Communauté urbaine d'Alençon", "61", 48.4318, 0.0912, 30, "process care"),
    ("200068617", "Flers Agglo", "61", 48.7486, -0.5694, 22, "metal foundry"),
    ("200068666", "Argentan Intercom", "61", 48.7444, -0.0203, 12, "metal"),
    ("200023414", "Métropole Rouen Normandie", "76", 49.4432, 1.0999, 230,
     "it process logistics care"),
    ("200084952", "Le Havre Seine Métropole", "76", 49.4944, 0.1079, 120,
     "logistics process maintenance"),
    ("247600596", "CA de la Région Dieppoise", "76", 49.9229, 1.0775, 25, "tourism metal"),
    ("200010650", "Caux Seine Agglo", "76", 49.5289, 0.5386, 30, "process maintenance"),
    ("200070365", "CC Interrégionale Aumale - Blangy-sur-Bresle", "76", 49.9326, 1.6347, 8,
     "glass"),
    ("200066132", "CA Fécamp Caux Littoral", "76", 49.7578, 0.3747, 15, "tourism"),
    ("200041630", "CA Ardenne Métropole", "08", 49.7621, 4.7263, 45, "foundry metal"),
    ("200043032", "CC Ardenne Rives de Meuse", "08", 50.0394, 4.8256, 8, "foundry metal"),
    ("200040905", "CC du Pays Rethélois", "08", 49.5096, 4.3676, 8, "process"),
    ("245400676", "Métropole du Grand Nancy", "54", 48.6921, 6.1844, 170, "it care"),
    ("200040491", "CA du Grand Longwy", "54", 49.5196, 5.7606, 20, "metal"),
    ("200069474", "CC Terres Touloises", "54", 48.6753, 5.8916, 18, "logistics"),
    ("200069433", "CC du Territoire de Lunéville à Baccarat", "54", 48.5923, 6.4966, 25, "glass"),
    ("200039865", "Metz Métropole", "57", 49.1193, 6.1757, 130, "logistics it care"),
    ("200068146", "CC Sarrebourg Moselle Sud", "57", 48.7355, 7.0539, 22, "leather"),
    ("245701206", "CA du Val de Fensch", "57", 49.3597, 6.0985, 25, "metal"),
    ("245700398", "CA Forbach Porte de France", "57", 49.188, 6.8965, 25, "process"),
    ("200067502", "CC du Pays de Bitche", "57", 49.052, 7.429, 10, "glass leather"),
    ("246700488", "Eurométropole de Strasbourg", "67", 48.5734, 7.7521, 280, "it care logistics"),
    ("200067247", "CA de Haguenau", "67", 48.8156, 7.7906, 40, "metal process"),
    ("246700843", "CC du Pays de Saverne", "67", 48.7414, 7.3627, 12, "process"),
    ("200066009", "Mulhouse Alsace Agglomération", "68", 47.7508, 7.3359, 110,
     "metal maintenance logistics"),
    ("246800726", "Colmar Agglomération", "68", 48.0794, 7.3585, 60, "tourism process"),
    ("246800569", "CC de la Vallée de Kaysersberg", "68", 48.1385, 7.2638, 6, "tourism"),
    ("200068757", "CA d'Épinal", "88", 48.1724, 6.4496, 45, "process care"),
    ("200068278", "CC des Hautes Vosges", "88", 48.0726, 6.8781, 10, "tourism leather"),
]
# fmt: on
#: main town of each EPCI (names the training providers)
# fmt: off
CITY = {
    "200065597": "Caen", "200069532": "Lisieux", "241400415": "Deauville", "200069524": "Bayeux",
    "200089821": "Louviers", "200066215": "Évreux", "200072312": "Vernon", "200066298": "Bernay",
    "200067205": "Cherbourg-en-Cotentin", "200066876": "Saint-Lô", "200042729": "Avranches",
    "200067064": "Coutances", "246100663": "Alençon", "200068617": "Flers",
    "200068666": "Argentan", "200023414": "Rouen", "200084952": "Le Havre", "247600596": "Dieppe",
    "200010650": "Lillebonne", "200070365": "Blangy-sur-Bresle", "200066132": "Fécamp",
    "200041630": "Charleville-Mézières", "200043032": "Givet", "200040905": "Rethel",
    "245400676": "Nancy", "200040491": "Longwy", "200069474": "Toul", "200069433": "Lunéville",
    "200039865": "Metz", "200068146": "Sarrebourg", "245701206": "Hayange",
    "245700398": "Forbach", "200067502": "Bitche", "246700488": "Strasbourg",
    "200067247": "Haguenau", "246700843": "Saverne", "200066009": "Mulhouse",
    "246800726": "Colmar", "246800569": "Kaysersberg", "200068757": "Épinal",
    "200068278": "Gérardmer",
}
# fmt: on
ROUEN, LE_HAVRE, CAEN, SEINE_EURE = "200023414", "200084952", "200065597", "200089821"
NANCY, METZ, STRASBOURG, SARREBOURG = "245400676", "200039865", "246700488", "200068146"
COTENTIN, VAL_DE_FENSCH, LONGWY, ARDENNE = "200067205", "245701206", "200040491", "200041630"

# ------------------------------------------------------------------------- occupation families
# family -> annual log trend, mean age of the workforce, BMO hiring rate, difficult share,
# seasonal share; tag that boosts it (x factor), and whether it exists outside its tag.
# fmt: off
#: family: (trend, age, hire, diff, seas, tag, boost, everywhere)
_FAMILY_ROWS = {
    'metal': (-0.015, 45.0, 0.07, 0.75, 0.02, 'metal', 3.0, True),
    'foundry': (-0.030, 47.5, 0.05, 0.80, 0.01, 'foundry', 15.0, False),
    'glass': (-0.020, 46.5, 0.05, 0.70, 0.02, 'glass', 40.0, False),
    'leather': (-0.040, 48.5, 0.04, 0.65, 0.05, 'leather', 30.0, False),
    'industry_support': (-0.005, 44.0, 0.05, 0.60, 0.01, 'metal', 1.5, True),
    'maintenance': (0.005, 41.5, 0.08, 0.75, 0.02, 'maintenance', 1.6, True),
    'process': (-0.005, 43.0, 0.07, 0.50, 0.15, 'process', 3.0, True),
    'it': (0.030, 36.0, 0.09, 0.60, 0.00, 'it', 2.5, True),
    'care': (0.012, 42.0, 0.10, 0.70, 0.05, 'care', 1.2, True),
    'logistics': (0.010, 40.0, 0.10, 0.45, 0.25, 'logistics', 2.0, True),
    'hospitality': (0.008, 33.5, 0.18, 0.55, 0.50, 'tourism', 2.5, True),
    'services': (0.005, 43.0, 0.08, 0.50, 0.05, '', 1.0, True),
}
# fmt: on
FAMILY = {
    fam: dict(
        zip(
            ("trend", "age", "hire", "diff", "seas", "tag", "boost", "everywhere"), row, strict=True
        )
    )
    for fam, row in _FAMILY_ROWS.items()
}
INDUSTRY = {"metal", "foundry", "glass", "leather", "industry_support", "process"}
# jobs per 1000 jobs of a territory (before specialisation)
# fmt: off
DENSITY = {
    "H2913": 2.0, "H2917": 1.0, "H2902": 1.5, "H2903": 1.2, "H2909": 2.0, "H2912": 0.8,
    "H2911": 1.0, "H2906": 2.0, "H3404": 0.8, "H3402": 0.5, "H2907": 0.4, "H2910": 0.3,
    "H2801": 0.35, "H2805": 0.1, "H2803": 0.2, "H2401": 0.25, "H2407": 0.1, "H2414": 0.12,
    "H2411": 0.05, "H1231": 0.05, "H2402": 0.3, "H2409": 0.15, "H2504": 2.0, "H1404": 1.0,
    "H1203": 1.0, "I1304": 2.0, "I1310": 1.5, "I1309": 1.5, "I1335": 1.0, "I1604": 4.0,
    "H2301": 0.8, "H3201": 0.8, "H2102": 2.0, "H3301": 1.5, "M1805": 3.5, "M1855": 2.0,
    "M1801": 1.5, "M1802": 2.0, "M1810": 1.5, "M1811": 0.6, "M1806": 1.5, "J1501": 12.0,
    "J1506": 10.0, "J1301": 6.0, "K1302": 8.0, "J1304": 3.0, "N1101": 5.0, "N1103": 6.0,
    "N1105": 5.0, "N1110": 4.0, "N4101": 7.0, "N1301": 1.5, "G1602": 3.0, "G1609": 6.0,
    "G1601": 2.0, "G1803": 5.0, "G1501": 1.5, "G1703": 1.0, "G1205": 0.3, "G1101": 0.5,
    "G1204": 2.0, "F1602": 4.0, "F1603": 3.0, "M1602": 8.0, "K2111": 2.0,
}
# fmt: on
NEW_OCCUPATIONS = {"M1811": 2014}  # data engineers appear in the statistics from this year on

# ------------------------------------------------------------------------------ training offers
# One row per course template (French title and description, ROME codes, Formacode, RNCP, hours,
# typical seats, modality, completion and placement rates, provider kind, ';'-separated sites).
# Templates with an empty `rome` are known only by their text.
OFFER_CATALOGUE = SOURCE / "offer_catalogue.csv"
PROVIDERS = {
    "afpa": "AFPA {region}",
    "cnam": "Cnam {region}",
    "greta": "GRETA {dep}",
    "lycee": "Lycée professionnel ({city})",
    "cfa": "CFA de l'industrie {region}",
    "ifas": "IFAS ({city})",
    "ifsi": "IFSI ({city})",
    "private": "Centre de formation ({city})",
}


def _r(x: float, nd: int) -> str:
    return f"{x:.{nd}f}"


def make_territories() -> pd.DataFrame:
    rows = [(NATION[0], NATION[1], "nation", "", NATION[2], NATION[3])]
    rows += [(c, lab, "region", "FR", la, lo) for c, lab, la, lo in REGIONS]
    rows += [(c, lab, "departement", reg, la, lo) for c, lab, reg, la, lo in DEPARTEMENTS]
    rows += [(c, lab, "epci", dep, la, lo) for c, lab, dep, la, lo, _, _ in EPCI]
    df = pd.DataFrame(rows, columns=["territory", "label", "level", "parent", "lat", "lon"])
    if df["territory"].duplicated().any():
        raise ValueError("duplicate territory code in the generator tables")
    if set(CITY) != {e[0] for e in EPCI}:
        raise ValueError("CITY must name the main town of every EPCI")
    df["lat"] = df["lat"].map(lambda v: _r(v, 4))
    df["lon"] = df["lon"].map(lambda v: _r(v, 4))
    return df


def make_referentials() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """occupations, skills, occupation_skills and the occupation -> family map."""
    occ = pd.read_csv(SOURCE / "rome4_occupations.csv", dtype=str, keep_default_na=False)
    links = pd.read_csv(SOURCE / "rome4_occupation_skills.csv", dtype=str, keep_default_na=False)
    occupations = pd.DataFrame(
        {
            "occupation": occ["occupation"],
            "label": occ["label"],
            "system": "ROME4",
            "parent": occ["parent"],
        }
    )
    skills = (
        links.drop_duplicates("skill")[["skill", "label", "kind"]]
        .assign(system="ROME4")
        .sort_values("skill", key=lambda s: s.astype(int))
        .reset_index(drop=True)
    )
    occ_skills = pd.DataFrame(
        {
            "occupation": links["occupation"],
            "skill": links["skill"],
            "weight": np.where(links["core"] == "1", "1", "0.5"),
        }
    )
    return occupations, skills, occ_skills, occ[["occupation", "family"]]


def _event_effects(epci: str, fam: str, occ: str) -> np.ndarray:
    """Log-level effects of the stylised events, one value per year."""
    t = YEARS
    eff = np.zeros(len(t))
    if fam in INDUSTRY or fam == "logistics":  # 2009 recession, partial recovery
        eff += np.where(t >= 2009, -0.08, 0.0) + np.where(t >= 2011, 0.04, 0.0)
    if fam == "hospitality":  # Covid-19
        eff += np.select([t == 2020, t == 2021], [-0.30, -0.12], 0.0)
    if fam == "logistics":  # e-commerce
        eff += np.where(t >= 2020, 0.06, 0.0)
    if fam == "it" and epci in (ROUEN, NANCY, CAEN):  # IT-services boom
        eff += 0.045 * np.clip(t - 2012, 0, None)
    if fam == "leather" and epci == SARREBOURG:  # shoe factory closes in 2016
        eff += np.where(t >= 2016, np.log(0.22), 0.0)
    if fam in ("metal", "foundry") and epci in (VAL_DE_FENSCH, LONGWY):  # slow decline
        eff += -0.03 * (t - t[0])
    if fam == "metal" and epci == COTENTIN:  # large construction site 2007-2016
        eff += 0.06 * np.clip(t - 2006, 0, 10) - 0.05 * np.clip(t - 2016, 0, None)
    return eff


def make_employment(
    rng: np.random.Generator, occupations: pd.DataFrame, family: dict[str, str]
) -> pd.DataFrame:
    frames = []
    n_years = len(YEARS)
    for code, _, _, _, _, size, tags in EPCI:
        tags = set(tags.split())
        for occ in occupations["occupation"]:
            fam = family[occ]
            spec = FAMILY[fam]
            tagged = spec["tag"] in tags
            if not spec["everywhere"] and not tagged and rng.random() > 0.12:
                continue
            base = size * DENSITY[occ] * (spec["boost"] if tagged else 1.0)
            base *= np.exp(rng.normal(0.0, 0.35))
            if base < 1.5 and rng.random() < 0.6:
                continue  # too small to be published: occupation absent from the territory
            if rng.random() < 0.05:
                continue
            trend = spec["trend"] + rng.normal(0.0, 0.012)
            noise = np.empty(n_years)
            noise[0] = rng.normal(0.0, 0.05)
            for i in range(1, n_years):  # AR(1) noise on the log level
                noise[i] = 0.6 * noise[i - 1] + rng.normal(0.0, 0.04)
            log_level = np.log(base) + trend * (YEARS - YEARS[0]) + noise
            log_level += _event_effects(code, fam, occ)
            level = np.exp(log_level)
            if fam == "hospitality" and code == SARREBOURG:  # holiday resort opens in 2010
                level += np.where(YEARS >= 2010, 20.0 * DENSITY[occ] + 10.0, 0.0)
            values = rng.poisson(level)
            years = YEARS
            start = NEW_OCCUPATIONS.get(occ)
            if occ == "G1205" and code == SARREBOURG:
                start = 2010
            if start is not None:
                keep = years >= start + int(rng.integers(0, 3))
                years, values = years[keep], values[keep]
            frames.append(([code] * len(years), [occ] * len(years), years, values))
    return pd.DataFrame(
        {
            "territory": [c for f in frames for c in f[0]],
            "occupation": [o for f in frames for o in f[1]],
            "period": np.concatenate([f[2] for f in frames]),
            "value": np.concatenate([f[3] for f in frames]),
        }
    )


def _age_profile(mean_age: float, sd: float = 11.0) -> np.ndarray:
    from math import erf, sqrt

    edges = [15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 72]
    cdf = [0.5 * (1 + erf((e - mean_age) / (sd * sqrt(2)))) for e in edges]
    p = np.diff(cdf)
    p[-1] *= 0.35  # few people keep working after 65
    p += 0.004
    return p / p.sum()


def make_workforce_age(
    rng: np.random.Generator, employment: pd.DataFrame, family: dict[str, str]
) -> pd.DataFrame:
    last = employment[(employment["period"] == YEARS[-1]) & (employment["value"] > 0)]
    rows = []
    for terr, occ, value in zip(last["territory"], last["occupation"], last["value"], strict=True):
        p = _age_profile(FAMILY[family[occ]]["age"] + rng.normal(0.0, 1.5))
        p = rng.dirichlet(p * 200.0)
        counts = rng.multinomial(int(value), p)
        rows.extend((terr, occ, band, int(c)) for band, c in zip(AGE_BANDS, counts, strict=True))
    return pd.DataFrame(rows, columns=["territory", "occupation", "age_band", "value"])


def make_hiring_intentions(
    rng: np.random.Generator, employment: pd.DataFrame, family: dict[str, str], threshold: int = 3
) -> pd.DataFrame:
    emp = employment[employment["period"] >= 2022]
    rows = []
    for terr, occ, period, value in zip(
        emp["territory"], emp["occupation"], emp["period"], emp["value"], strict=True
    ):
        spec = FAMILY[family[occ]]
        projects = int(rng.poisson(value * spec["hire"] * np.exp(rng.normal(0.0, 0.25))))
        if projects == 0:
            continue  # no project: no row (BMO publishes no zero)
        difficult = int(rng.binomial(projects, spec["diff"]))
        seasonal = int(rng.binomial(projects, spec["seas"]))
        # statistical secrecy: small values are masked (empty cell), never written as 0
        masked = [None if v < threshold else v for v in (projects, difficult, seasonal)]
        if masked[0] is None:
            masked = [None, None, None]
        rows.append((terr, occ, int(period), *masked))
    df = pd.DataFrame(
        rows, columns=["territory", "occupation", "period", "projects", "difficult", "seasonal"]
    )
    for col in ("projects", "difficult", "seasonal"):
        df[col] = df[col].astype("Int64")
    return df


def make_training_offers(rng: np.random.Generator) -> pd.DataFrame:
    """Instantiate every course template of the catalogue at each of its sites."""
    catalogue = pd.read_csv(OFFER_CATALOGUE, dtype=str, keep_default_na=False)
    terr = {c: dep for c, _, dep, *_ in EPCI}
    deps = {c: lab for c, lab, *_ in DEPARTEMENTS}
    region_of = {c: reg for c, _, reg, *_ in DEPARTEMENTS}
    region_name = {c: lab for c, lab, *_ in REGIONS}
    rows = []
    for tpl in catalogue.itertuples(index=False):
        for site in tpl.sites.split(";"):
            dep = terr[site]
            provider = PROVIDERS[tpl.provider_kind].format(
                region=region_name[region_of[dep]], dep=deps[dep], city=CITY[site]
            )
            # a share of coded offers lose their ROME code, as in real catalogues
            rome = tpl.rome if (tpl.rome == "" or rng.random() > 0.15) else ""
            comp = None
            if rng.random() >= 0.12:
                comp = np.clip(float(tpl.completion_rate) + rng.normal(0, 0.04), 0.4, 0.99)
            place = None
            if tpl.placement_rate != "" and rng.random() >= 0.18:
                place = np.clip(float(tpl.placement_rate) + rng.normal(0, 0.05), 0.3, 0.98)
            seats = int(max(4, round(int(tpl.seats) * np.exp(rng.normal(0, 0.25)))))
            rows.append(
                {
                    "offer": f"OF{len(rows) + 1:04d}",
                    "title": tpl.title,
                    "description": tpl.description,
                    "provider": provider,
                    "site": site,
                    "seats": seats,
                    "hours": int(tpl.hours),
                    "modality": tpl.modality,
                    "formacode": tpl.formacode,
                    "rncp": tpl.rncp,
                    "rome": rome,
                    "completion_rate": "" if comp is None else _r(comp, 2),
                    "placement_rate": "" if place is None else _r(place, 2),
                }
            )
    return pd.DataFrame(rows)


def make_tables(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Build every demo table (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    territories = make_territories()
    occupations, skills, occ_skills, fam = make_referentials()
    family = dict(zip(fam["occupation"], fam["family"], strict=True))
    employment = make_employment(rng, occupations, family)
    return {
        "territories": territories,
        "occupations": occupations,
        "skills": skills,
        "occupation_skills": occ_skills,
        "employment": employment,
        "workforce_age": make_workforce_age(rng, employment, family),
        "hiring_intentions": make_hiring_intentions(rng, employment, family),
        "training_offers": make_training_offers(rng),
    }


def write_tables(tables: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in FILES:
        path = out_dir / f"{name}.csv"
        # minimal quoting, except text tables whose free text may hold separators: quote all
        quoting = csv.QUOTE_NONNUMERIC if name == "training_offers" else csv.QUOTE_MINIMAL
        tables[name].to_csv(
            path, index=False, encoding="utf-8", lineterminator="\n", quoting=quoting
        )
        paths.append(path)
    return paths


def main(out_dir: str | Path | None = None, seed: int = SEED) -> list[Path]:
    """Generate the demo CSV files into ``out_dir`` (default: the package data folder)."""
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT
    return write_tables(make_tables(seed), out)


def _cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate the synthetic gpec demo CSV files.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    args = parser.parse_args(argv)
    for path in main(args.out, args.seed):
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    _cli()
