"""Extract the ROME 4.0 (v460) occupations and skills used by the bundled demo.

The demo generator (``make_demo.py``) must run without the official files, so the few ROME 4.0
facts it needs (codes, labels, parents, and a selection of savoir-faire and savoirs per
occupation with their "coeur de métier" flag) are copied once into ``datasets/source/`` by this
script. Run it again only to refresh the extract from another ROME version::

    python datasets/extract_rome.py [--rome ../shared/data/real/rome4-v460]

Selection rule, per occupation (deterministic): among its core ("Principale") savoir-faire, the
3 shared by the most demo occupations and the 2 most specific ones; 2 other savoir-faire (most
shared); 2 core savoirs (most shared); 2 other savoirs (the most shared and the most specific).
Certifications and diplomas are excluded; ties go to the smallest code. Then each occupation also
gets up to 4 of its own ROME links to skills selected for another occupation of its family (so
that reconversion paths within a family show). Shared items make these paths visible, specific
ones tell the occupations apart.

Source: France Travail, ROME 4.0 version 60 (18/09/2025), Licence Ouverte / Etalab 2.0.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_ROME = HERE.parents[1] / "shared" / "data" / "real" / "rome4-v460"

#: ROME 4.0 codes of the demo occupations by family (families drive the demo's trends).
FAMILIES = {
    "metal": "H2913 H2917 H2902 H2903 H2909 H2912 H2911 H2906 H3404 H3402",
    "foundry": "H2907 H2910",
    "glass": "H2801 H2805 H2803",
    "leather": "H2401 H2407 H2414 H2411 H1231 H2402 H2409",
    "industry_support": "H2504 H1404 H1203",
    "maintenance": "I1304 I1310 I1309 I1335 I1604",
    "process": "H2301 H3201 H2102 H3301",
    "it": "M1805 M1855 M1801 M1802 M1810 M1811 M1806",
    "care": "J1501 J1506 J1301 K1302 J1304",
    "logistics": "N1101 N1103 N1105 N1110 N4101 N1301",
    "hospitality": "G1602 G1609 G1601 G1803 G1501 G1703 G1205 G1101 G1204",
    "services": "F1602 F1603 M1602 K2111",
}
FAMILY = {code: fam for fam, codes in FAMILIES.items() for code in codes.split()}
OCCUPATIONS = list(FAMILY)

#: at most this many extra real links per occupation to skills chosen for its family
N_FAMILY_LINKS = 4

#: (kind, core) -> (number of most shared items, number of most specific items)
QUOTA = {
    ("savoir_faire", True): (3, 2),
    ("savoir_faire", False): (2, 0),
    ("savoir", True): (2, 0),
    ("savoir", False): (1, 1),
}


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"unix_{name}_v460_utf8.csv", dtype=str, keep_default_na=False)


def extract(rome_dir: Path, out_dir: Path) -> tuple[Path, Path]:
    """Write ``rome4_occupations.csv`` and ``rome4_occupation_skills.csv`` into ``out_dir``."""
    codes = _read(rome_dir, "referentiel_code_rome").set_index("code_rome")
    missing = [c for c in OCCUPATIONS if c not in codes.index]
    if missing:
        raise SystemExit(f"codes not in {rome_dir}: {missing}")
    occ = pd.DataFrame(
        {
            "occupation": OCCUPATIONS,
            "label": [codes.loc[c, "libelle_rome"] for c in OCCUPATIONS],
            "parent": [codes.loc[c, "code_rome_parent"] for c in OCCUPATIONS],
            "family": [FAMILY[c] for c in OCCUPATIONS],
        }
    )
    # keep a parent only when it is another demo occupation
    occ["parent"] = occ["parent"].where(
        occ["parent"].isin(OCCUPATIONS) & (occ["parent"] != occ["occupation"]), ""
    )

    comp = _read(rome_dir, "referentiel_competence")
    comp = comp[comp["cat_comp"] == "Savoir-faire"]
    sav = _read(rome_dir, "referentiel_savoir")
    sav = sav[sav["categorie_savoir"] != "Certifications et habilitations"]
    labels = {
        **{
            k: ("savoir_faire", v)
            for k, v in zip(comp["code_ogr"], comp["libelle_competence"], strict=True)
        },
        **{
            k: ("savoir", v)
            for k, v in zip(sav["code_ogr_savoir"], sav["libelle_savoir"], strict=True)
        },
    }
    links = _read(rome_dir, "liens_rome_referentiels")
    links = links[links["code_rome"].isin(OCCUPATIONS) & links["code_ogr"].isin(labels)]
    core = _read(rome_dir, "coherence_item")
    links = links.merge(core, on=["code_rome", "code_ogr"], how="left")
    links["core"] = links["coeur_metier"].eq("Principale")
    links["kind"] = links["code_ogr"].map(lambda k: labels[k][0])
    links["label"] = links["code_ogr"].map(lambda k: labels[k][1])
    links = links.drop_duplicates(["code_rome", "code_ogr"])
    links["shared"] = links.groupby("code_ogr")["code_rome"].transform("nunique")
    links["code_num"] = links["code_ogr"].astype(int)
    links = links.sort_values(
        ["code_rome", "kind", "core", "shared", "code_num"],
        ascending=[True, True, False, False, True],
    )
    keep = []
    for (_, kind, is_core), grp in links.groupby(["code_rome", "kind", "core"], sort=True):
        n_shared, n_specific = QUOTA[(kind, bool(is_core))]
        shared = grp.head(n_shared)
        rest = grp.iloc[n_shared:].sort_values(["shared", "code_num"])
        keep.extend([shared, rest.head(n_specific)])
    sel = pd.concat(keep)
    # add real links to skills already chosen for another occupation of the same family
    sel["family"] = sel["code_rome"].map(FAMILY)
    links["family"] = links["code_rome"].map(FAMILY)
    chosen = set(zip(sel["code_rome"], sel["code_ogr"], strict=True))
    fam_skills = sel.groupby("family")["code_ogr"].agg(set)
    extra = links[
        [
            (r, k) not in chosen and k in fam_skills.get(f, set())
            for r, k, f in zip(links["code_rome"], links["code_ogr"], links["family"], strict=True)
        ]
    ]
    extra = extra.sort_values(
        ["code_rome", "core", "shared", "code_num"], ascending=[True, False, False, True]
    )
    sel = pd.concat([sel, extra.groupby("code_rome").head(N_FAMILY_LINKS)])
    sel["order"] = sel["code_rome"].map({c: i for i, c in enumerate(OCCUPATIONS)})
    sel = sel.sort_values(
        ["order", "kind", "core", "code_num"], ascending=[True, False, False, True]
    )
    skills = pd.DataFrame(
        {
            "occupation": sel["code_rome"],
            "skill": sel["code_ogr"],
            "label": sel["label"],
            "kind": sel["kind"],
            "core": sel["core"].map({True: "1", False: "0"}),
        }
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    p_occ, p_sk = out_dir / "rome4_occupations.csv", out_dir / "rome4_occupation_skills.csv"
    occ.to_csv(p_occ, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    skills.to_csv(p_sk, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return p_occ, p_sk


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rome", type=Path, default=DEFAULT_ROME, help="ROME 4.0 v460 CSV folder")
    parser.add_argument("--out", type=Path, default=HERE / "source", help="output folder")
    args = parser.parse_args(argv)
    for p in extract(args.rome, args.out):
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
