"""Read the ROME open-data CSV export (France Travail), ROME 4.0 (``v4NN``) and ROME v3 (``v3NN``).

The export is a folder (or the ``RefRomeCsv.zip`` archive) of ``unix_<table>_v<NNN>_utf8.csv``
files: comma separated, every field quoted, UTF-8, apostrophes doubled inside the data
(``d''études``). :func:`read_rome` turns it into the canonical tables of gpec:

* ``occupations``: the fiches (system ``ROME4`` or ``ROME3``) under their domaine professionnel
  (``A11``) and grand domaine (``A``), with a ``level`` column;
* ``skills``: compétences, macro-compétences and savoirs (ROME 4.0), or savoirs and activités
  (v3), plus the nodes of the ROME 4.0 skill tree (domaine ``1`` -> enjeu ``1A`` -> objectif
  ``1A1``; macro-compétences keep their OGR code and their ``code_fonctionnel`` ``1A101``);
  ``parent`` links each skill to its node of the tree;
* ``occupation_skills``: weight ``core_weight`` for a core link (ROME 4.0 ``coeur_metier`` =
  ``Principale``; ROME v3 "compétences de base"), ``other_weight`` for the others;
* ``crosswalks``: ROME 4.0 fiche -> the v3 fiche it derives from (``code_rome_parent``);
* extra tables ``appellations``, ``mobility``, ``occupation_texts``, ``occupation_contexts`` and
  ``occupation_sectors`` (ROME 4.0 links to NAF divisions).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from gpec._data import GpecData
from gpec.ingest._errors import RowLedger, check_pattern, reader_data
from gpec.ingest._rome_csv import (
    _OGR_RX,
    _ROME_RX,
    _V4_ATTRS,
    DOMAINES_COMPETENCES,
    GRANDS_DOMAINES,
    _bad_code,
    _csv,
    _dedupe,
    _drop,
    _Export,
    _labelled_codes,
    _none,
    _parse_version,
)
from gpec.ingest._rome_skills import skills_v3, skills_v4

__all__ = ["read_rome", "GRANDS_DOMAINES", "DOMAINES_COMPETENCES"]


# ------------------------------------------------------------------------------- occupations
def _occupations(export, meta, ledger, system, v4) -> pd.DataFrame:
    """The fiches under their domaine professionnel (``A11``) and grand domaine (``A``)."""
    fiches = _fiches(export, meta, ledger, system, v4)
    gd_file = _code_labels(
        export,
        meta,
        ledger,
        "grand_domaine",
        ("code_grand_domaine", "libelle_grand_domaine"),
        ("[A-Z]", "not a grand domaine code (one letter)"),
    )
    gd_labels = {**GRANDS_DOMAINES, **(gd_file or {})}
    dp_labels = _code_labels(
        export,
        meta,
        ledger,
        "domaine_professionnel",
        ("code_domaine_professionnel", "libelle_domaine_professionnel"),
        (r"[A-Z]\d{2}", "not a domaine code (letter + 2 digits)"),
    )
    dp_labels = dp_labels or {}
    _v3_tree_labels(export, meta, ledger, set(fiches["occupation"]), gd_labels, dp_labels)
    needed_dp = sorted(set(fiches["parent"]) | set(dp_labels))
    missing_dp = [c for c in needed_dp if c not in dp_labels]
    if missing_dp:
        meta.setdefault("notes", []).append(
            f"{len(missing_dp)} domaine professionnel label(s) not in the export: label set to "
            "'Domaine professionnel <code>'"
        )
    domaines = pd.DataFrame(
        {
            "occupation": needed_dp,
            "label": [dp_labels.get(c, f"Domaine professionnel {c}") for c in needed_dp],
            "system": system,
            "parent": [c[0] for c in needed_dp],
            "level": "domaine_professionnel",
        }
    )
    needed_gd = sorted(set(domaines["parent"]) | (set(gd_labels) if gd_file is not None else set()))
    grands = pd.DataFrame(
        {
            "occupation": needed_gd,
            "label": [gd_labels.get(c, f"Grand domaine {c}") for c in needed_gd],
            "system": system,
            "parent": None,
            "level": "grand_domaine",
        }
    )
    occ = pd.concat([grands, domaines, fiches], ignore_index=True)
    return _none(occ)


def _fiches(export, meta, ledger, system, v4) -> pd.DataFrame:
    """The fiches of ``referentiel_code_rome`` (level ``fiche``) and their attributes."""
    req = ["code_rome", "code_ogr", "libelle_rome"]
    df, file = _csv(export, "referentiel_code_rome", meta, ledger, req)
    at = (ledger, "occupations", file)
    df = _labelled_codes(
        at, df, "code_rome", "libelle_rome", _ROME_RX, "not a ROME code (letter + 4 digits)"
    )
    ledger.keep(file, len(df))
    fiches = pd.DataFrame(
        {
            "occupation": df["code_rome"],
            "label": df["libelle_rome"],
            "system": system,
            "parent": df["code_rome"].str[:3],
            "level": "fiche",
        }
    )
    for col in _V4_ATTRS if v4 else ["code_ogr", "statut"]:
        if col in df.columns:
            fiches[col] = df[col]
    return fiches


def _code_labels(
    export, meta, ledger, table: str, columns: tuple[str, str], check: tuple[str, str]
) -> dict[str, str] | None:
    """Code -> label of a table of the export (None when absent): ``columns`` are the code and
    label columns, ``check`` the code's pattern and the reason a code failing it is rejected."""
    code, label = columns
    df, file = _csv(export, table, meta, ledger, [code, label])
    if df is None:
        return None
    at = (ledger, "occupations", file)
    df = _dedupe(at, _bad_code(at, df, code, *check), [code])
    ledger.keep(file, len(df))
    return dict(zip(df[code], df[label], strict=True))


def _v3_tree_labels(export, meta, ledger, fiches: set, gd_labels: dict, dp_labels: dict) -> None:
    """Labels of grands domaines and domaines from the ROME v3 tree (``item_arborescence``,
    type 6 = arborescence principale), added to ``gd_labels`` / ``dp_labels`` in place."""
    required = [
        "code_type_referentiel",
        "code_pere",
        "code_noeud",
        "libelle_item_arbo",
        "libelle_type_noeud",
    ]
    arbo, afile = _csv(export, "item_arborescence", meta, ledger, required)
    if arbo is None:
        return
    at_a = (ledger, "occupations", afile)
    arbo = _drop(
        at_a,
        arbo,
        arbo["code_type_referentiel"].ne("6"),
        "code_type_referentiel",
        "thematic tree (type 7) not used",
    )
    node = arbo["code_noeud"]
    is_gd = check_pattern(node, "[A-Z]")
    is_dp = check_pattern(node, r"[A-Z]\d{2}")
    is_fiche = check_pattern(node, _ROME_RX) & node.isin(fiches)
    arbo = _drop(
        at_a, arbo, ~(is_gd | is_dp | is_fiche), "code_noeud", "unknown node of the ROME tree"
    )
    ledger.keep(afile, len(arbo))
    for code, label in zip(arbo["code_noeud"], arbo["libelle_item_arbo"], strict=True):
        if len(code) == 1:
            gd_labels.setdefault(code, label)
        elif len(code) == 3:
            dp_labels[code] = label


def _contexts(export, meta, ledger, v4) -> pd.DataFrame | None:
    if v4:
        df, file = _csv(
            export,
            "referentiel_contexte_travail",
            meta,
            ledger,
            ["code_ogr", "libelle_cont_travail"],
        )
        cols = ("code_ogr", "libelle_cont_travail", "libelle_type_cont_trav")
    else:
        df, file = _csv(
            export, "referentiel_env_travail", meta, ledger, ["code_ogr", "libelle_env_travail"]
        )
        cols = ("code_ogr", "libelle_env_travail", "libelle_type_section_env_trav")
    if df is None:
        return None
    at = (ledger, "occupation_contexts", file)
    df = _bad_code(at, df, "code_ogr", _OGR_RX, "not an OGR code (digits)")
    df = _dedupe(at, df, ["code_ogr"])
    ledger.keep(file, len(df))
    return pd.DataFrame(
        {"context": df[cols[0]], "label": df[cols[1]], "context_type": df.get(cols[2], "")}
    )


# --------------------------------------------------------------------------------- links
def _links(
    export, meta, ledger, fiches: set, skills: pd.DataFrame, contexts, v4, core_weight, other_weight
):
    """occupation_skills and occupation_contexts from the ROME <-> item link file."""
    read = _v4_links(export, meta, ledger) if v4 else _v3_links(export, meta, ledger)
    if read is None:
        return None, None
    df, file, core = read
    at = (ledger, "occupation_skills", file)
    df = _drop(at, df, ~df["code_rome"].isin(fiches), "code_rome", "unknown ROME fiche")
    core = core[df.index]
    kept_other = 0
    if not v4 and df["code_type_referentiel"].ne("").any():
        # fiche and appellation rows restate the code_rome and appellation files (whose content
        # is in the output): counted as kept
        restate = df["code_type_referentiel"].isin(["3", "4"])
        kept_other += int(restate.sum())
        df, core = df[~restate], core[~restate]
    ctx_codes = set(contexts["context"]) if contexts is not None else set()
    is_skill = df["code_ogr"].isin(set(skills["skill"]))
    is_ctx = df["code_ogr"].isin(ctx_codes) & ~is_skill
    reason = (
        "unknown item code (not in the compétence, savoir or contexte files)"
        if v4
        else "unknown item code (not in the compétence, activité or env_travail files; the "
        "v3 activité file may be incomplete)"
    )
    df = _drop(at, df, ~(is_skill | is_ctx), "code_ogr", reason)
    osk = _dedupe(at, df[is_skill[df.index]], ["code_rome", "code_ogr"])
    occ_skills = pd.DataFrame(
        {
            "occupation": osk["code_rome"],
            "skill": osk["code_ogr"],
            "weight": np.where(core[osk.index], core_weight, other_weight).astype(float),
            "coeur_metier": osk["coeur_metier"],
        }
    )
    at_contexts = (ledger, "occupation_contexts", file)
    ctx = _dedupe(at_contexts, df[is_ctx[df.index]], ["code_rome", "code_ogr"])
    occ_ctx = pd.DataFrame({"occupation": ctx["code_rome"], "context": ctx["code_ogr"]})
    if contexts is not None:
        occ_ctx = occ_ctx.merge(contexts, on="context", how="left")
    ledger.keep(file, len(occ_skills) + len(occ_ctx) + kept_other)
    return (_none(occ_skills.reset_index(drop=True)), _none(occ_ctx.reset_index(drop=True)))


def _v4_links(export, meta, ledger) -> tuple[pd.DataFrame, str, pd.Series] | None:
    """ROME 4.0 ``coherence_item``: the link rows, their file and whether each is core
    (``coeur_metier`` = ``Principale``)."""
    df, file = _csv(export, "coherence_item", meta, ledger, ["code_rome", "code_ogr"])
    if df is None:
        return None
    if "coeur_metier" not in df.columns:
        df["coeur_metier"] = ""
    return df, file, df["coeur_metier"].str.lower().str.startswith("princip")


def _v3_links(export, meta, ledger) -> tuple[pd.DataFrame, str, pd.Series] | None:
    """ROME v3 ``liens_rome_referentiels`` (core = bloc 8, the compétences de base), else
    ``coherence_item`` with every link core."""
    required = ["code_rome", "code_ogr", "code_type_referentiel", "code_compo_bloc"]
    df, file = _csv(export, "liens_rome_referentiels", meta, ledger, required)
    if df is None:
        df, file = _csv(export, "coherence_item", meta, ledger, ["code_rome", "code_ogr"])
        if df is None:
            return None
        meta.setdefault("notes", []).append(
            "ROME v3 without unix_liens_rome_referentiels: every link gets core_weight"
        )
        df["code_type_referentiel"] = ""
        return df, file, pd.Series(True, index=df.index)
    # type 1 compétences, 2 activités, 3 the fiche itself, 4 appellations, 5 environnements
    # bloc 8 = compétences de base (core), bloc 9 = compétences spécifiques
    core = df["code_compo_bloc"].eq("8")
    df["coeur_metier"] = np.where(
        core, "base", np.where(df["code_compo_bloc"].eq("9"), "specifique", "")
    )
    return df, file, core


def _appellations(export, meta, ledger, fiches: set, v4) -> pd.DataFrame | None:
    """The appellations (job titles) of the fiches."""
    req = ["code_ogr", "libelle_appellation_long", "code_rome"]
    df, file = _csv(export, "referentiel_appellation", meta, ledger, req)
    if df is None:
        return None
    at = (ledger, "appellations", file)
    df = _bad_code(at, df, "code_ogr", _OGR_RX, "not an OGR code (digits)")
    df = _drop(at, df, ~df["code_rome"].isin(fiches), "code_rome", "unknown ROME fiche")
    df = _dedupe(at, df, ["code_ogr"])
    ledger.keep(file, len(df))
    out = pd.DataFrame(
        {
            "appellation": df["code_ogr"],
            "label": df["libelle_appellation_long"],
            "short_label": df.get("libelle_appellation_court", ""),
            "occupation": df["code_rome"],
        }
    )
    cls = "classification" if v4 else "libelle_type_section_appellation"
    out["classification"] = df.get(cls, "")
    for col in ("emploi_cadre", "emploi_reglemente", "peu_usite"):
        if col in df.columns:
            out[col] = df[col]
    return _none(out.reset_index(drop=True))


def _mobility(export, meta, ledger, fiches: set) -> pd.DataFrame | None:
    df, file = _csv(export, "rubrique_mobilite", meta, ledger, ["code_rome", "code_rome_cible"])
    if df is None:
        return None
    at = (ledger, "mobility", file)
    df = _drop(at, df, ~df["code_rome"].isin(fiches), "code_rome", "unknown ROME fiche")
    df = _drop(at, df, ~df["code_rome_cible"].isin(fiches), "code_rome_cible", "unknown ROME fiche")
    key = ["code_rome", "code_rome_cible"] + [
        c for c in ("code_appellation_source", "code_appellation_cible") if c in df.columns
    ]
    df = _dedupe(at, df, key)
    ledger.keep(file, len(df))
    out = pd.DataFrame(
        {
            "occupation": df["code_rome"],
            "target": df["code_rome_cible"],
            "rank": df.get("numero_ordre", ""),
            "mobility_type": df.get("libelle_type_mobilite", ""),
        }
    )
    for src, dst in (
        ("code_appellation_source", "source_appellation"),
        ("code_appellation_cible", "target_appellation"),
    ):
        if src in df.columns:
            out[dst] = df[src]
    return _none(out.reset_index(drop=True))


_TEXT_TYPES = {
    "definition": "definition",
    "acces_metier": "access",
    "acces_a_em": "access",
    "cond_exercice_activite": "conditions",
}


def _texts(export, meta, ledger, occupations: pd.DataFrame, v4) -> pd.DataFrame:
    fiches = occupations[occupations["level"].eq("fiche")]
    out = pd.DataFrame(
        {"occupation": fiches["occupation"].to_numpy(), "label": fiches["label"].to_numpy()}
    )
    for col in ("definition", "access", "conditions"):
        out[col] = None
    df, file = _csv(
        export, "texte", meta, ledger, ["code_rome", "libelle_texte", "libelle_type_texte"]
    )
    if df is None:
        return out
    pos = "position_phrase" if "position_phrase" in df.columns else "position_libelle_txt"
    at = (ledger, "occupation_texts", file)
    df = _drop(
        at, df, ~df["code_rome"].isin(set(fiches["occupation"])), "code_rome", "unknown ROME fiche"
    )
    kind = df["libelle_type_texte"].map(_TEXT_TYPES)
    df = _drop(at, df, kind.isna(), "libelle_type_texte", "unknown text type")
    kind = kind[df.index]
    ledger.keep(file, len(df))
    df = df.assign(
        kind=kind, _pos=pd.to_numeric(df.get(pos, 0), errors="coerce").fillna(0), _row=df.index
    )
    df = df.sort_values(["code_rome", "kind", "_pos", "_row"])
    joined = df.groupby(["code_rome", "kind"], sort=True)["libelle_texte"].agg(
        lambda s: "\n".join(t for t in s if t)
    )
    wide = joined.unstack("kind")
    for col in ("definition", "access", "conditions"):
        if col in wide.columns:
            out[col] = out["occupation"].map(wide[col]).astype(object)
    return _none(out)


def _sectors(export, meta, ledger, fiches: set) -> pd.DataFrame | None:
    """ROME 4.0 fiche -> NAF divisions (``arborescence_secteur_naf``)."""
    req = ["code_secteur_naf", "libelle_secteur_naf", "code_rome"]
    df, file = _csv(export, "arborescence_secteur_naf", meta, ledger, req)
    if df is None:
        return None
    at = (ledger, "occupation_sectors", file)
    df = _drop(at, df, ~df["code_rome"].isin(fiches), "code_rome", "unknown ROME fiche")
    df = _bad_code(at, df, "code_secteur_naf", r"\d{1,2}", "not a NAF division (1-2 digits)")
    df = _dedupe(at, df, ["code_secteur_naf", "code_rome"])
    ledger.keep(file, len(df))
    return _none(
        pd.DataFrame(
            {
                "sector": df["code_secteur_naf"].str.zfill(2),
                "sector_label": df["libelle_secteur_naf"],
                "occupation": df["code_rome"],
                "occupation_label": df.get("libelle_rome", ""),
            }
        ).reset_index(drop=True)
    )


# ------------------------------------------------------------------------------------ main
def read_rome(
    path: str | os.PathLike, *, core_weight: float = 1.0, other_weight: float = 0.5
) -> GpecData:
    """Read a ROME open-data CSV export (ROME 4.0 ``v4NN`` or ROME v3 ``v3NN``).

    Parameters
    ----------
    path : str or path-like
        The folder of ``unix_*_vNNN_utf8.csv`` files, or the ``RefRomeCsv.zip`` archive.
    core_weight : float, default 1.0
        ``occupation_skills`` weight of a core link: ``coeur_metier`` = ``Principale`` in ROME
        4.0, a "compétence de base" in ROME v3.
    other_weight : float, default 0.5
        Weight of the other links (``Émergente`` or empty ``coeur_metier``; v3 "compétences
        spécifiques"): a skill that the job may use, counted at this fraction of a core skill.

    Returns
    -------
    GpecData
        Tables ``occupations``, ``skills``, ``occupation_skills`` and (ROME 4.0) ``crosswalks``
        (ROME4 -> ROME3 through ``code_rome_parent``); extra tables ``appellations``,
        ``mobility``, ``occupation_texts`` [occupation, label, definition, access, conditions],
        ``occupation_contexts`` and (ROME 4.0) ``occupation_sectors`` (NAF divisions).
        ``meta`` holds ``version`` (e.g. ``"460"``), ``version_info`` (``version.txt``),
        ``encodings`` per file, ``encoding_fallbacks``, ``separator``, ``row_accounting``
        (per file: read, kept, rejected), ``files`` read and ``files_ignored``.

    Raises
    ------
    FormatError
        When ``path`` is not a ROME export (no ``unix_referentiel_code_rome_vNNN_utf8.csv``) or a
        required column is missing.

    Examples
    --------
    >>> data = read_rome("RefRomeCsv.zip")  # doctest: +SKIP
    >>> data.occupations.query("level == 'fiche'").shape[0]  # doctest: +SKIP
    1584
    """
    for name, w in (("core_weight", core_weight), ("other_weight", other_weight)):
        if not 0 <= w <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {w}")
    path = Path(path)
    export = _Export(path)
    try:
        v4 = export.version.startswith("4")
        system = "ROME4" if v4 else "ROME3"
        meta: dict = {
            "source": str(path),
            "format": "rome",
            "system": system,
            "version": export.version,
            "separator": ",",
            "encodings": {},
            "encoding_fallbacks": {},
            "files": [],
            "weights": {"core": core_weight, "other": other_weight},
        }
        version_info = _version_info(export)
        if version_info is not None:
            meta["version_info"] = version_info
        ledger = RowLedger()
        occupations = _occupations(export, meta, ledger, system, v4)
        fiche_codes = set(occupations.loc[occupations["level"].eq("fiche"), "occupation"])
        skills = (
            skills_v4(export, meta, ledger, system)
            if v4
            else skills_v3(export, meta, ledger, system)
        )
        contexts = _contexts(export, meta, ledger, v4)
        occ_skills, occ_ctx = _links(
            export, meta, ledger, fiche_codes, skills, contexts, v4, core_weight, other_weight
        )
        extra = {
            "appellations": _appellations(export, meta, ledger, fiche_codes, v4),
            "mobility": _mobility(export, meta, ledger, fiche_codes),
            "occupation_texts": _texts(export, meta, ledger, occupations, v4),
            "occupation_contexts": occ_ctx,
        }
        crosswalks = None
        if v4:
            extra["occupation_sectors"] = _sectors(export, meta, ledger, fiche_codes)
            crosswalks = _rome3_parents(occupations)
        used = set(meta["files"])
        meta["files_ignored"] = sorted(
            n.rsplit("/", 1)[-1] for n in export.tables.values() if n.rsplit("/", 1)[-1] not in used
        )
    finally:
        export.close()
    return reader_data(
        path,
        ledger,
        meta,
        ("occupations", "skills", "occupation_skills", "crosswalks"),
        occupations=occupations,
        skills=skills,
        occupation_skills=occ_skills,
        crosswalks=crosswalks,
        extra={k: v for k, v in extra.items() if v is not None},
    )


def _version_info(export: _Export) -> dict[str, str] | None:
    """The fields of the export's ``version.txt`` (None without one)."""
    version_txt = [n for n in export.others if n.rsplit("/", 1)[-1].lower() == "version.txt"]
    if not version_txt:
        return None
    raw = export.raw(version_txt[0])
    try:
        txt = raw.decode("utf-8")
    except UnicodeDecodeError:
        txt = raw.decode("iso-8859-15")
    return _parse_version(txt)


def _rome3_parents(occupations: pd.DataFrame) -> pd.DataFrame | None:
    """ROME4 fiche -> the ROME v3 fiche it derives from (``code_rome_parent``), weight 1."""
    if "code_rome_parent" not in occupations:
        return None
    f = occupations[occupations["level"].eq("fiche") & occupations["code_rome_parent"].notna()]
    if not len(f):
        return None
    return pd.DataFrame(
        {
            "source_system": "ROME4",
            "source": f["occupation"],
            "target_system": "ROME3",
            "target": f["code_rome_parent"],
            "weight": 1.0,
        }
    ).reset_index(drop=True)
