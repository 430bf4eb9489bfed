"""Read ESCO (European Commission) CSV exports and O*NET (US DoL) Skills / Knowledge files.

ESCO: a folder of ``<table>_<lang>.csv`` files (UTF-8, comma, quoted multi-line fields): the
occupations (system ``ESCO``, keyed by concept URI, parent = broader occupation or ISCO-08
group), the ISCO-08 groups (system ``ISCO08``), skills (kind ``knowledge`` or
``skill_competence``, skill groups ``skill_group``) and, when present, the occupation-skill
relations (``essential`` = 1, ``optional`` = a lower weight).

O*NET: ``Skills``/``Knowledge`` (``.xlsx`` or tab-separated ``.txt``): importance (scale
``IM``, 1 to 5) becomes an ``occupation_skills`` weight ``(IM - 1) / 4`` in [0, 1]; levels (scale
``LV``) go to the extra table ``skill_levels``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from gpec._data import GpecData
from gpec.exceptions import FormatError
from gpec.ingest._errors import RowLedger, check_pattern, read_source_table, reader_data
from gpec.ingest._tables import read_table

__all__ = ["read_esco", "read_onet"]

_ESCO_FILE = re.compile(r"(?P<table>[A-Za-z]+?)(?:_(?P<lang>[a-z]{2}))?\.csv$")
_URI = r"http://data\.europa\.eu/esco/(?:occupation|skill|isco|isced-f)/[0-9A-Za-z._-]+"
_ONET_SOC = r"\d{2}-\d{4}\.\d{2}"


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def _read(path: Path, ledger: RowLedger, required: list[str]) -> pd.DataFrame:
    df = read_source_table(path, sep=",")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise FormatError(f"{path}: missing column(s) {missing} (found {list(df.columns)})")
    ledger.read(path.name, len(df))
    return df


def _concepts(file: Path, ledger, table: str) -> pd.DataFrame:
    """An ESCO concept file with bad URIs, missing labels and duplicate URIs rejected."""
    df = _read(file, ledger, ["conceptUri", "preferredLabel"])
    uri = _text(df["conceptUri"])
    ok = check_pattern(uri, _URI) & _text(df["preferredLabel"]).ne("")
    return _unique_valid(
        ledger, table, file.name, df, "conceptUri", uri, ok, "not an ESCO URI or no label"
    )


def _unique_valid(
    ledger: RowLedger,
    table: str,
    file: str,
    df: pd.DataFrame,
    column: str,
    key: pd.Series,
    ok: pd.Series,
    reason: str,
) -> pd.DataFrame:
    """The rows of ``df`` whose ``key`` is ``ok`` and not a repeat; the others rejected."""
    keep = ledger.reject_in_turn(
        table,
        file,
        df.index,
        [(~ok, column, key, reason), (key.duplicated(), column, key, "duplicate key")],
    )
    df = df[keep]
    ledger.keep(file, len(df))
    return df


def _isco_code(uri: pd.Series) -> pd.Series:
    return uri.str.extract(r"/isco/C(\d{1,4})$", expand=False)


def read_esco(path: str | os.PathLike, *, optional_weight: float = 0.5) -> GpecData:
    """Read an ESCO CSV export folder (one language).

    Parameters
    ----------
    path : str or path-like
        Folder with ``occupations_<lang>.csv`` and, when present, ``skills_<lang>.csv``,
        ``ISCOGroups_<lang>.csv``, ``skillGroups_<lang>.csv``, ``broaderRelationsOccPillar*.csv``
        and ``occupationSkillRelations*.csv``.
    optional_weight : float, default 0.5
        ``occupation_skills`` weight of an ``optional`` skill (``essential`` = 1).

    Returns
    -------
    GpecData
        ``occupations`` (ESCO occupations + ISCO-08 groups; extra columns ``alt_labels``,
        ``description``), ``skills``, ``occupation_skills`` (when the relations file is
        present); ``meta`` with ``language``, ``files``, ``files_ignored``, ``row_accounting``.

    Raises
    ------
    FormatError
        When the folder holds no ``occupations_*.csv``.

    Examples
    --------
    >>> data = read_esco("ESCO dataset - v1.2.0 - classification - fr - csv")  # doctest: +SKIP
    """
    if not 0 <= optional_weight <= 1:
        raise ValueError(f"optional_weight must be in [0, 1], got {optional_weight}")
    path = Path(path)
    files = _esco_files(path)
    ledger = RowLedger()
    lang = (_ESCO_FILE.fullmatch(files["occupations"].name)["lang"] or "").lower() or None
    meta: dict = {
        "source": str(path),
        "format": "esco",
        "language": lang,
        "encoding": "utf-8",
        "separator": ",",
        "weights": {"essential": 1.0, "optional": optional_weight},
    }
    parts = [_esco_occupations(files["occupations"], ledger)]
    if "ISCOGroups" in files:
        parts.append(_isco_groups(files["ISCOGroups"], ledger))
    occupations = pd.concat(parts, ignore_index=True)
    broader = next((files[k] for k in files if k.startswith("broaderRelationsOccPillar")), None)
    if broader is not None:
        _link_broader(occupations, broader, ledger)
    skills = _esco_skills(files, ledger)
    occ_skills = None
    rel = next((files[k] for k in files if k.startswith("occupationSkillRelations")), None)
    if rel is not None:
        occ_skills = _relations(rel, ledger, occupations, skills, optional_weight)
    else:
        meta["notes"] = ["no occupationSkillRelations file: occupation_skills not provided"]
    used = {p.name for p in files.values()} & set(ledger.accounting())
    meta["files"] = sorted(used)
    meta["files_ignored"] = sorted(p.name for p in files.values() if p.name not in used)
    occupations["parent"] = (
        occupations["parent"].astype(object).where(occupations["parent"].notna(), None)
    )
    return reader_data(
        path,
        ledger,
        meta,
        ("occupations",),
        occupations=occupations,
        skills=skills,
        occupation_skills=occ_skills,
    )


def _esco_files(path: Path) -> dict[str, Path]:
    """The ``<table>_<lang>.csv`` files of an export folder, by table (first file of a table)."""
    if not path.is_dir():
        raise FormatError(f"{path}: not an ESCO export folder")
    files: dict[str, Path] = {}
    for p in sorted(path.iterdir()):
        m = _ESCO_FILE.fullmatch(p.name)
        if m and p.is_file():
            files.setdefault(m["table"], p)
    if "occupations" not in files:
        raise FormatError(f"{path}: not an ESCO export (no occupations_<lang>.csv)")
    return files


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    """Text of an optional column ("" when the file does not have it)."""
    return _text(df.get(name, pd.Series("", index=df.index)))


def _esco_occupations(file: Path, ledger: RowLedger) -> pd.DataFrame:
    """The ESCO occupations, their ISCO-08 group as parent."""
    occ_df = _concepts(file, ledger, "occupations")
    isco_grp = _column(occ_df, "iscoGroup")
    return pd.DataFrame(
        {
            "occupation": _text(occ_df["conceptUri"]),
            "label": _text(occ_df["preferredLabel"]),
            "system": "ESCO",
            "parent": isco_grp.where(isco_grp.ne(""), None),
            "level": "occupation",
            "alt_labels": _column(occ_df, "altLabels"),
            "description": _column(occ_df, "description"),
        }
    )


def _isco_groups(file: Path, ledger: RowLedger) -> pd.DataFrame:
    """The ISCO-08 groups (system ``ISCO08``), each under the group of its code less a digit."""
    g = _read(file, ledger, ["code", "preferredLabel"])
    code = _text(g["code"])
    ok = check_pattern(code, r"\d{1,4}")
    g = _unique_valid(ledger, "occupations", file.name, g, "code", code, ok, "not an ISCO-08 code")
    code = code[g.index]
    return pd.DataFrame(
        {
            "occupation": code,
            "label": _text(g["preferredLabel"]),
            "system": "ISCO08",
            "parent": code.where(code.str.len() > 1, "").str[:-1].replace("", None),
            "level": "isco" + code.str.len().astype(str),
            "alt_labels": "",
            "description": _column(g, "description"),
        }
    )


def _link_broader(occupations: pd.DataFrame, file: Path, ledger: RowLedger) -> None:
    """Set the parent of the ESCO occupations from the broader-relations file (in place)."""
    b = _read(file, ledger, ["conceptUri", "broaderUri", "broaderType"])
    child = _text(b["conceptUri"])
    parent = np.where(
        _text(b["broaderType"]).eq("ISCOGroup"),
        _isco_code(_text(b["broaderUri"])),
        _text(b["broaderUri"]),
    )
    parent = pd.Series(parent, index=b.index)
    known = set(occupations["occupation"])
    is_isco_child = _text(b["conceptType"]).eq("ISCOGroup") if "conceptType" in b else False
    child = child.where(~is_isco_child, _isco_code(child))
    ok = child.isin(known) & parent.isin(known)
    ledger.reject(
        "occupations",
        file.name,
        b.index[~ok],
        "conceptUri",
        child[~ok],
        "concept or broader concept not in the occupation files",
    )
    ledger.keep(file.name, int(ok.sum()))
    link = dict(zip(child[ok], parent[ok], strict=True))
    esco = occupations["system"].eq("ESCO")
    occupations.loc[esco, "parent"] = (
        occupations.loc[esco, "occupation"].map(link).fillna(occupations.loc[esco, "parent"])
    )


def _esco_skills(files: dict[str, Path], ledger: RowLedger) -> pd.DataFrame | None:
    """Skills and knowledge, then the skill groups whose URI is not a skill's."""
    parts = []
    if "skills" in files:
        s = _concepts(files["skills"], ledger, "skills")
        stype = _column(s, "skillType")
        kind = np.where(
            stype.eq("knowledge"),
            "knowledge",
            np.where(stype.str.contains("skill"), "skill_competence", "skill"),
        )
        parts.append(
            pd.DataFrame(
                {
                    "skill": _text(s["conceptUri"]),
                    "label": _text(s["preferredLabel"]),
                    "kind": kind,
                    "system": "ESCO",
                    "reuse_level": _column(s, "reuseLevel"),
                    "alt_labels": _column(s, "altLabels"),
                }
            )
        )
    if "skillGroups" in files:
        taken = set(parts[0]["skill"]) if parts else set()
        parts.append(_skill_groups(files["skillGroups"], ledger, taken))
    return pd.concat(parts, ignore_index=True) if parts else None


def _skill_groups(file: Path, ledger: RowLedger, taken: set) -> pd.DataFrame:
    """The skill groups (kind ``skill_group``) not already read as skills."""
    s = _read(file, ledger, ["conceptUri", "preferredLabel"])
    suri = _text(s["conceptUri"])
    ok = check_pattern(suri, _URI) & ~suri.isin(taken) & ~suri.duplicated()
    ledger.reject(
        "skills", file.name, s.index[~ok], "conceptUri", suri[~ok], "not an ESCO URI or duplicate"
    )
    s = s[ok.to_numpy()]
    ledger.keep(file.name, len(s))
    return pd.DataFrame(
        {
            "skill": _text(s["conceptUri"]),
            "label": _text(s["preferredLabel"]),
            "kind": "skill_group",
            "system": "ESCO",
            "reuse_level": "",
            "alt_labels": "",
        }
    )


def _relations(
    file: Path,
    ledger: RowLedger,
    occupations: pd.DataFrame,
    skills: pd.DataFrame | None,
    optional_weight: float,
) -> pd.DataFrame:
    """``occupation_skills`` from the relations file: essential 1, optional ``optional_weight``."""
    r = _read(file, ledger, ["occupationUri", "relationType", "skillUri"])
    o, sk, rt = _text(r["occupationUri"]), _text(r["skillUri"]), _text(r["relationType"])
    weight = rt.str.lower().map({"essential": 1.0, "optional": optional_weight})
    known_skills = set(skills["skill"]) if skills is not None else set()
    keep = ledger.reject_in_turn(
        "occupation_skills",
        file.name,
        r.index,
        [
            (weight.isna(), "relationType", rt, "unknown relationType"),
            (~o.isin(set(occupations["occupation"])), "occupationUri", o, "unknown occupation"),
            (~sk.isin(known_skills), "skillUri", sk, "unknown skill"),
        ],
    )
    pairs = pd.DataFrame({"occupation": o, "skill": sk, "weight": weight})[keep]
    return ledger.keep_unique(
        "occupation_skills",
        file.name,
        pairs,
        ["occupation", "skill"],
        "occupationUri+skillUri",
        "occupation",
    ).reset_index(drop=True)


# ------------------------------------------------------------------------------------- O*NET
_ONET_COLS = {
    "O*NET-SOC Code": "soc",
    "Element ID": "element",
    "Element Name": "name",
    "Scale ID": "scale",
    "Data Value": "value",
}


def _onet_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        out = [
            p
            for p in sorted(path.iterdir())
            if p.stem.lower() in ("skills", "knowledge") and p.suffix.lower() in (".xlsx", ".txt")
        ]
        if out:
            return out
    raise FormatError(f"{path}: no O*NET Skills or Knowledge file (.xlsx or .txt)")


def read_onet(path: str | os.PathLike, *, keep_suppressed: bool = False) -> GpecData:
    """Read O*NET ``Skills`` / ``Knowledge`` files (Excel or tab-separated text release).

    Parameters
    ----------
    path : str or path-like
        One ``Skills.xlsx`` / ``Knowledge.txt``... file, or a folder holding them (and
        optionally ``Occupation Data.txt`` for occupation titles).
    keep_suppressed : bool, default False
        Keep the rows flagged ``Recommend Suppress = Y`` instead of rejecting them.

    Returns
    -------
    GpecData
        ``occupations`` (O*NET-SOC codes, system ``ONET``), ``skills`` (element IDs, kind
        ``skill`` or ``knowledge``, system ``ONET``), ``occupation_skills`` with weight
        ``(importance - 1) / 4`` (importance 1 -> 0, 5 -> 1), extra table ``skill_levels``
        [occupation, skill, level] from the ``LV`` scale. Rows flagged ``Recommend Suppress =
        Y`` are rejected (imprecise estimates).

    Raises
    ------
    FormatError
        When a file lacks the O*NET columns.

    Notes
    -----
    With ``keep_suppressed=True`` the rows O*NET flags ``Recommend Suppress = Y`` are kept
    (column ``suppress`` True in ``occupation_skills``) instead of rejected.

    Examples
    --------
    >>> data = read_onet("db_29_0_text/Skills.txt")  # doctest: +SKIP
    """
    path = Path(path)
    ledger = RowLedger()
    meta: dict = {"source": str(path), "format": "onet", "files": [], "encodings": {}}
    titles: dict[str, str] = {}
    parts: dict[str, list[pd.DataFrame]] = {"osk": [], "levels": [], "skills": []}
    for file in _onet_files(path):
        file_parts, file_titles = _onet_file(file, ledger, meta, keep_suppressed)
        titles.update(file_titles)
        for name, part in file_parts.items():
            parts[name].append(part)
    occ_data = (path if path.is_dir() else path.parent) / "Occupation Data.txt"
    if occ_data.exists():
        od = read_table(occ_data, sep="\t")
        if {"O*NET-SOC Code", "Title"} <= set(od.columns):
            titles = {
                **dict(zip(_text(od["O*NET-SOC Code"]), _text(od["Title"]), strict=True)),
                **titles,
            }
            meta["titles"] = occ_data.name
    occ_skills = pd.concat(parts["osk"], ignore_index=True)
    dup = occ_skills.duplicated(["occupation", "skill"])
    if dup.any():  # pragma: no cover - O*NET has one IM row per occupation x element
        raise FormatError(f"{path}: duplicate occupation x element importance rows")
    skills = pd.concat(parts["skills"], ignore_index=True).drop_duplicates("skill")
    codes = sorted(set(occ_skills["occupation"]) | set(pd.concat(parts["levels"])["occupation"]))
    occupations = pd.DataFrame(
        {
            "occupation": codes,
            "label": [titles.get(c) or f"O*NET {c}" for c in codes],
            "system": "ONET",
            "parent": None,
        }
    ).astype({"parent": object})
    meta["row_accounting"] = ledger.checked_accounting()
    meta["weight"] = "(importance IM - 1) / 4"
    return GpecData(
        occupations=occupations,
        skills=skills.reset_index(drop=True),
        occupation_skills=occ_skills,
        sources={"occupation_skills": str(path)},
        rejected=ledger.frame(),
        meta=meta,
        extra={"skill_levels": pd.concat(parts["levels"], ignore_index=True)},
    )


def _onet_file(
    file: Path, ledger: RowLedger, meta: dict, keep_suppressed: bool
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """One Skills or Knowledge file: its importance rows (``osk``), level rows (``levels``),
    elements (``skills``), and the occupation titles it gives."""
    kind = "knowledge" if "knowledge" in file.stem.lower() else "skill"
    df = read_source_table(file, sep="\t" if file.suffix.lower() == ".txt" else None)
    missing = [c for c in _ONET_COLS if c not in df.columns]
    if missing:
        raise FormatError(f"{file}: not an O*NET Skills/Knowledge file (missing {missing})")
    name = file.name
    meta["files"].append(name)
    meta["encodings"][name] = df.attrs.get("encoding") or "xlsx"
    ledger.read(name, len(df))
    soc, elem = _text(df["O*NET-SOC Code"]), _text(df["Element ID"])
    scale = _text(df["Scale ID"])
    value = pd.to_numeric(df["Data Value"], errors="coerce")
    flagged = _column(df, "Recommend Suppress").eq("Y")
    suppress = pd.Series(False, index=df.index) if keep_suppressed else flagged.copy()
    keep = ledger.reject_in_turn(
        "occupation_skills",
        name,
        df.index,
        [
            (~check_pattern(soc, _ONET_SOC), "O*NET-SOC Code", soc, "not an O*NET-SOC code"),
            (
                ~check_pattern(elem, r"\d+(\.[A-Za-z0-9]+)+"),
                "Element ID",
                elem,
                "not an element ID",
            ),
            (~scale.isin(["IM", "LV"]), "Scale ID", scale, "unknown scale"),
            (value.isna(), "Data Value", df["Data Value"], "not a number"),
            (
                suppress,
                "Recommend Suppress",
                suppress.map({True: "Y"}),
                "O*NET recommends suppression (imprecise estimate)",
            ),
        ],
    )
    titles = {}
    if "Title" in df.columns:
        titles = dict(zip(soc[keep], _text(df["Title"])[keep], strict=True))
    im = keep & scale.eq("IM").to_numpy()
    lv = keep & scale.eq("LV").to_numpy()
    ledger.keep(name, int((im | lv).sum()))
    parts = {
        "osk": pd.DataFrame(
            {
                "occupation": soc[im],
                "skill": elem[im],
                "weight": ((value[im] - 1) / 4).clip(0, 1),
                "suppress": flagged[im],
            }
        ),
        "levels": pd.DataFrame({"occupation": soc[lv], "skill": elem[lv], "level": value[lv]}),
        "skills": pd.DataFrame(
            {
                "skill": elem[keep],
                "label": _text(df["Element Name"])[keep],
                "kind": kind,
                "system": "ONET",
            }
        ),
    }
    return parts, titles
