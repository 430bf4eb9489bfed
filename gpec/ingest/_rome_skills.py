"""Skills of the ROME export: compétences, savoirs and the ROME 4.0 skill tree (private).

Used by :func:`gpec.ingest.read_rome`: :func:`skills_v4` reads the compétences,
macro-compétences and savoirs of ROME 4.0 and builds the nodes of the skill tree (domaine ``1``
-> enjeu ``1A`` -> objectif ``1A1``); :func:`skills_v3` reads the savoirs and activités of ROME
v3. The CSV plumbing (reading, rejecting rows) is shared with :mod:`gpec.ingest._rome`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gpec.ingest._errors import FormatError, check_pattern
from gpec.ingest._rome_csv import (
    DOMAINES_COMPETENCES,
    _csv,
    _drop,
    _labelled_codes,
    _none,
)


# ------------------------------------------------------------------------------------ skills
def _competences(export, meta, ledger):
    """The compétences file with bad codes, missing labels and duplicates rejected (v3 and v4)."""
    comp, cfile = _csv(
        export, "referentiel_competence", meta, ledger, ["code_ogr", "libelle_competence"]
    )
    at_c = (ledger, "skills", cfile)
    if comp is None:
        return None, cfile, at_c
    return _labelled_codes(at_c, comp, "code_ogr", "libelle_competence"), cfile, at_c


_SKILL_COLUMNS = [
    "skill",
    "label",
    "kind",
    "system",
    "parent",
    "code_fonctionnel",
    "category",
    "subcategory",
]


def skills_v4(export, meta, ledger, system) -> pd.DataFrame:
    """ROME 4.0 skills: the nodes of the skill tree, then compétences and savoirs."""
    parts = []
    comp = _competences_v4(export, meta, ledger, system)
    if comp is not None:
        parts.append(comp)
    taken = set(comp["skill"]) if comp is not None else set()
    sav = _savoirs(export, meta, ledger, system, taken)
    if sav is not None:
        parts.append(sav)
    skills = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_SKILL_COLUMNS)
    nodes = _skill_tree(export, meta, ledger, skills, system)
    clash = nodes["skill"].isin(set(skills["skill"]))
    if clash.any():  # pragma: no cover - OGR codes have 5+ digits in every known release
        raise FormatError(
            f"skill tree code(s) {nodes.loc[clash, 'skill'].tolist()} clash with OGR codes"
        )
    return _none(pd.concat([nodes, skills], ignore_index=True))


def _competences_v4(export, meta, ledger, system) -> pd.DataFrame | None:
    """Compétences (savoir-faire, savoir-être) and macro-compétences under their objectif."""
    comp, cfile, at_c = _competences(export, meta, ledger)
    if comp is None:
        return None
    is_macro = _optional(comp, "nature").str.lower().str.startswith("macro")
    func = _optional(comp, "code_macro_comp")
    bad_func = is_macro & ~check_pattern(func, r"\d[A-Z]\d{3}")
    comp = _drop(
        at_c,
        comp,
        bad_func,
        "code_macro_comp",
        "macro-compétence without a code_fonctionnel like 1A101",
    )
    is_macro, func = is_macro[~bad_func], func[~bad_func]
    cat = _optional(comp, "cat_comp").str.lower()
    kind = np.where(
        is_macro,
        "macro_competence",
        np.where(cat.str.contains("être|etre", regex=True), "savoir_etre", "savoir_faire"),
    )
    parent = np.where(is_macro, func.str[:3], _optional(comp, "code_ogr_macro_comp"))
    ledger.keep(cfile, len(comp))
    return pd.DataFrame(
        {
            "skill": comp["code_ogr"],
            "label": comp["libelle_competence"],
            "kind": kind,
            "system": system,
            "parent": parent,
            "code_fonctionnel": np.where(is_macro, func, ""),
            "category": comp.get("sous_cat_comp", ""),
            "subcategory": "",
        }
    )


def _optional(df: pd.DataFrame, column: str) -> pd.Series:
    """A column of the export that older releases may lack ("" when absent)."""
    return df.get(column, pd.Series("", index=df.index))


def _savoirs(export, meta, ledger, system, taken: set) -> pd.DataFrame | None:
    """Savoirs whose OGR code is not already a compétence's."""
    sav, sfile = _csv(
        export, "referentiel_savoir", meta, ledger, ["code_ogr_savoir", "libelle_savoir"]
    )
    if sav is None:
        return None
    at_s = (ledger, "skills", sfile)
    sav = _labelled_codes(at_s, sav, "code_ogr_savoir", "libelle_savoir")
    sav = _drop(
        at_s,
        sav,
        sav["code_ogr_savoir"].isin(taken),
        "code_ogr_savoir",
        "OGR code already used by a compétence",
    )
    ledger.keep(sfile, len(sav))
    return pd.DataFrame(
        {
            "skill": sav["code_ogr_savoir"],
            "label": sav["libelle_savoir"],
            "kind": "savoir",
            "system": system,
            "parent": "",
            "code_fonctionnel": "",
            "category": sav.get("categorie_savoir", ""),
            "subcategory": sav.get("sous_categorie_savoir", ""),
        }
    )


_TREE_LEVELS = (
    ("code_domaine_competence", "domaine_competence", "domaine_competence"),
    ("code_enjeu", "enjeu", "enjeu"),
    ("code_objectif", "objectif", "objectif"),
)


def _tree_labels(export, meta, ledger, skills: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Labels of the tree nodes by level, from the arborescence file when present; the file
    also gives the code_fonctionnel of macro-compétences that lack one (set in ``skills``)."""
    labels = {"domaine_competence": dict(DOMAINES_COMPETENCES), "enjeu": {}, "objectif": {}}
    required = [col for level in _TREE_LEVELS for col in level[:2]]
    arbo, afile = _csv(export, "arborescence_competences", meta, ledger, required)
    if arbo is None:
        return labels
    ok = (
        check_pattern(arbo["code_domaine_competence"], r"\d")
        & check_pattern(arbo["code_enjeu"], r"\d[A-Z]")
        & check_pattern(arbo["code_objectif"], r"\d[A-Z]\d")
    )
    at_a = (ledger, "skills", afile)
    arbo = _drop(
        at_a, arbo, ~ok, "code_objectif", "codes of the skill tree do not match 1 / 1A / 1A1"
    )
    ledger.keep(afile, len(arbo))
    for code, lab, level in _TREE_LEVELS:
        labels[level].update(zip(arbo[code], arbo[lab], strict=True))
    if "code_ogr_macro_competence" in arbo.columns and "code_macro_competence" in arbo.columns:
        macro_func = dict(
            zip(arbo["code_ogr_macro_competence"], arbo["code_macro_competence"], strict=True)
        )
        m = skills["kind"].eq("macro_competence") & skills["code_fonctionnel"].eq("")
        skills.loc[m, "code_fonctionnel"] = skills.loc[m, "skill"].map(macro_func).fillna("")
        skills.loc[m, "parent"] = skills.loc[m, "code_fonctionnel"].str[:3]
    return labels


def _skill_tree(export, meta, ledger, skills: pd.DataFrame, system) -> pd.DataFrame:
    """The nodes of the skill tree (domaine ``1`` -> enjeu ``1A`` -> objectif ``1A1``): those
    the macro-compétences hang from and those of the arborescence file."""
    labels = _tree_labels(export, meta, ledger, skills)
    objectifs = sorted(
        set(skills.loc[skills["kind"].eq("macro_competence"), "parent"]) - {""}
        | set(labels["objectif"])
    )
    enjeux = sorted({c[:2] for c in objectifs} | set(labels["enjeu"]))
    domaines = sorted({c[:1] for c in enjeux})
    if any(c not in labels["enjeu"] for c in enjeux):
        meta.setdefault("notes", []).append(
            "labels of the enjeux and objectifs of the skill tree are not in the export "
            "(unix_arborescence_competences file absent): set to 'Enjeu <code>' / "
            "'Objectif <code>'"
        )
    return pd.DataFrame(
        {
            "skill": domaines + enjeux + objectifs,
            "label": [
                labels["domaine_competence"].get(c, f"Domaine de compétences {c}") for c in domaines
            ]
            + [labels["enjeu"].get(c, f"Enjeu {c}") for c in enjeux]
            + [labels["objectif"].get(c, f"Objectif {c}") for c in objectifs],
            "kind": ["domaine_competence"] * len(domaines)
            + ["enjeu"] * len(enjeux)
            + ["objectif"] * len(objectifs),
            "system": system,
            "parent": [""] * len(domaines) + [c[:1] for c in enjeux] + [c[:2] for c in objectifs],
            "code_fonctionnel": domaines + enjeux + objectifs,
            "category": "",
            "subcategory": "",
        }
    )


def skills_v3(export, meta, ledger, system) -> pd.DataFrame:
    """ROME v3 skills: savoirs (the compétences file) and savoir-faire (activités)."""
    parts = []
    comp, cfile, at_c = _competences(export, meta, ledger)
    if comp is not None:
        ledger.keep(cfile, len(comp))
        parts.append(
            pd.DataFrame(
                {
                    "skill": comp["code_ogr"],
                    "label": comp["libelle_competence"],
                    "kind": "savoir",
                    "system": system,
                    "category": comp.get("libelle_type_competence", ""),
                }
            )
        )
    act, afile = _csv(
        export, "referentiel_activite", meta, ledger, ["code_ogr", "libelle_activite"]
    )
    if act is not None:
        at_a = (ledger, "skills", afile)
        act = _labelled_codes(at_a, act, "code_ogr", "libelle_activite")
        ledger.keep(afile, len(act))
        parts.append(
            pd.DataFrame(
                {
                    "skill": act["code_ogr"],
                    "label": act["libelle_activite"],
                    "kind": "savoir_faire",
                    "system": system,
                    "category": act.get("libelle_type_activite", ""),
                }
            )
        )
    skills = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["skill", "label", "kind", "system", "category"])
    )
    skills = skills.drop_duplicates("skill", keep="first")
    skills["parent"] = ""
    return _none(skills)
