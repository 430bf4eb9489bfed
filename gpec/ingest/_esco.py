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
from gpec.ingest._errors import FormatError, RowLedger, check_pattern
from gpec.ingest._tables import InputFileError, read_table

__all__ = ["read_esco", "read_onet"]

_ESCO_FILE = re.compile(r"(?P<table>[A-Za-z]+?)(?:_(?P<lang>[a-z]{2}))?\.csv$")
_URI = r"http://data\.europa\.eu/esco/(?:occupation|skill|isco|isced-f)/[0-9A-Za-z._-]+"
_ONET_SOC = r"\d{2}-\d{4}\.\d{2}"


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def _read(path: Path, ledger: RowLedger, required: list[str]) -> pd.DataFrame:
    try:
        df = read_table(path, sep=",")
    except InputFileError as exc:
        raise FormatError(str(exc)) from exc
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
    ledger.reject(
        table, file.name, df.index[~ok], "conceptUri", uri[~ok], "not an ESCO URI or no label"
    )
    dup = uri.duplicated() & ok
    ledger.reject(table, file.name, df.index[dup], "conceptUri", uri[dup], "duplicate key")
    df = df[(ok & ~dup).to_numpy()]
    ledger.keep(file.name, len(df))
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
    if not path.is_dir():
        raise FormatError(f"{path}: not an ESCO export folder")
    files: dict[str, Path] = {}
    for p in sorted(path.iterdir()):
        m = _ESCO_FILE.fullmatch(p.name)
        if m and p.is_file():
            files.setdefault(m["table"], p)
    if "occupations" not in files:
        raise FormatError(f"{path}: not an ESCO export (no occupations_<lang>.csv)")
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

    occ_df = _concepts(files["occupations"], ledger, "occupations")
    isco_grp = _text(occ_df.get("iscoGroup", pd.Series("", index=occ_df.index)))
    occupations = pd.DataFrame(
        {
            "occupation": _text(occ_df["conceptUri"]),
            "label": _text(occ_df["preferredLabel"]),
            "system": "ESCO",
            "parent": isco_grp.where(isco_grp.ne(""), None),
            "level": "occupation",
            "alt_labels": _text(occ_df.get("altLabels", pd.Series("", index=occ_df.index))),
            "description": _text(occ_df.get("description", pd.Series("", index=occ_df.index))),
        }
    )
    parts = [occupations]

    if "ISCOGroups" in files:
        g = _read(files["ISCOGroups"], ledger, ["code", "preferredLabel"])
        f = files["ISCOGroups"].name
        code = _text(g["code"])
        ok = check_pattern(code, r"\d{1,4}")
        ledger.reject("occupations", f, g.index[~ok], "code", code[~ok], "not an ISCO-08 code")
        dup = code.duplicated() & ok
        ledger.reject("occupations", f, g.index[dup], "code", code[dup], "duplicate key")
        g, code = g[(ok & ~dup).to_numpy()], code[ok & ~dup]
        ledger.keep(f, len(g))
        parts.append(
            pd.DataFrame(
                {
                    "occupation": code,
                    "label": _text(g["preferredLabel"]),
                    "system": "ISCO08",
                    "parent": code.where(code.str.len() > 1, "").str[:-1].replace("", None),
                    "level": "isco" + code.str.len().astype(str),
                    "alt_labels": "",
                    "description": _text(g.get("description", pd.Series("", index=g.index))),
                }
            )
        )
    occupations = pd.concat(parts, ignore_index=True)

    broader = next((files[k] for k in files if k.startswith("broaderRelationsOccPillar")), None)
    if broader is not None:
        b = _read(broader, ledger, ["conceptUri", "broaderUri", "broaderType"])
        f = broader.name
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
            f,
            b.index[~ok],
            "conceptUri",
            child[~ok],
            "concept or broader concept not in the occupation files",
        )
        ledger.keep(f, int(ok.sum()))
        link = dict(zip(child[ok], parent[ok], strict=True))
        esco = occupations["system"].eq("ESCO")
        occupations.loc[esco, "parent"] = (
            occupations.loc[esco, "occupation"].map(link).fillna(occupations.loc[esco, "parent"])
        )

    skills = None
    sparts = []
    if "skills" in files:
        s = _concepts(files["skills"], ledger, "skills")
        stype = _text(s.get("skillType", pd.Series("", index=s.index)))
        kind = np.where(
            stype.eq("knowledge"),
            "knowledge",
            np.where(stype.str.contains("skill"), "skill_competence", "skill"),
        )
        sparts.append(
            pd.DataFrame(
                {
                    "skill": _text(s["conceptUri"]),
                    "label": _text(s["preferredLabel"]),
                    "kind": kind,
                    "system": "ESCO",
                    "reuse_level": _text(s.get("reuseLevel", pd.Series("", index=s.index))),
                    "alt_labels": _text(s.get("altLabels", pd.Series("", index=s.index))),
                }
            )
        )
    if "skillGroups" in files:
        s = _read(files["skillGroups"], ledger, ["conceptUri", "preferredLabel"])
        f = files["skillGroups"].name
        suri = _text(s["conceptUri"])
        taken = set(sparts[0]["skill"]) if sparts else set()
        ok = check_pattern(suri, _URI) & ~suri.isin(taken) & ~suri.duplicated()
        ledger.reject(
            "skills", f, s.index[~ok], "conceptUri", suri[~ok], "not an ESCO URI or duplicate"
        )
        s = s[ok.to_numpy()]
        ledger.keep(f, len(s))
        sparts.append(
            pd.DataFrame(
                {
                    "skill": _text(s["conceptUri"]),
                    "label": _text(s["preferredLabel"]),
                    "kind": "skill_group",
                    "system": "ESCO",
                    "reuse_level": "",
                    "alt_labels": "",
                }
            )
        )
    if sparts:
        skills = pd.concat(sparts, ignore_index=True)

    occ_skills = None
    rel = next((files[k] for k in files if k.startswith("occupationSkillRelations")), None)
    if rel is not None:
        r = _read(rel, ledger, ["occupationUri", "relationType", "skillUri"])
        f = rel.name
        o, sk, rt = _text(r["occupationUri"]), _text(r["skillUri"]), _text(r["relationType"])
        weight = rt.str.lower().map({"essential": 1.0, "optional": optional_weight})
        checks = [
            (weight.isna(), "relationType", rt, "unknown relationType"),
            (~o.isin(set(occupations["occupation"])), "occupationUri", o, "unknown occupation"),
            (
                ~sk.isin(set(skills["skill"]) if skills is not None else set()),
                "skillUri",
                sk,
                "unknown skill",
            ),
        ]
        keep = pd.Series(True, index=r.index)
        for mask, col, vals, reason in checks:
            m = keep & mask
            ledger.reject("occupation_skills", f, r.index[m], col, vals[m], reason)
            keep &= ~m
        pairs = pd.DataFrame({"occupation": o, "skill": sk, "weight": weight})[keep]
        occ_skills = ledger.keep_unique(
            "occupation_skills",
            f,
            pairs,
            ["occupation", "skill"],
            "occupationUri+skillUri",
            "occupation",
        ).reset_index(drop=True)
    else:
        meta["notes"] = ["no occupationSkillRelations file: occupation_skills not provided"]

    used = {p.name for p in files.values()} & set(ledger.accounting())
    meta["files"] = sorted(used)
    meta["files_ignored"] = sorted(p.name for p in files.values() if p.name not in used)
    meta["row_accounting"] = ledger.checked_accounting()
    occupations["parent"] = (
        occupations["parent"].astype(object).where(occupations["parent"].notna(), None)
    )
    return GpecData(
        occupations=occupations,
        skills=skills,
        occupation_skills=occ_skills,
        sources={"occupations": str(path)},
        rejected=ledger.frame(),
        meta=meta,
    )


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
    occ_data = (path if path.is_dir() else path.parent) / "Occupation Data.txt"
    osk, levels, skill_rows = [], [], []
    for file in _onet_files(path):
        kind = "knowledge" if "knowledge" in file.stem.lower() else "skill"
        try:
            df = read_table(file, sep="\t" if file.suffix.lower() == ".txt" else None)
        except InputFileError as exc:
            raise FormatError(str(exc)) from exc
        missing = [c for c in _ONET_COLS if c not in df.columns]
        if missing:
            raise FormatError(f"{file}: not an O*NET Skills/Knowledge file (missing {missing})")
        meta["files"].append(file.name)
        meta["encodings"][file.name] = df.attrs.get("encoding") or "xlsx"
        name = file.name
        ledger.read(name, len(df))
        soc, elem = _text(df["O*NET-SOC Code"]), _text(df["Element ID"])
        scale = _text(df["Scale ID"])
        value = pd.to_numeric(df["Data Value"], errors="coerce")
        suppress = _text(df.get("Recommend Suppress", pd.Series("", index=df.index))).eq("Y")
        flagged = suppress.copy()
        if keep_suppressed:
            suppress = pd.Series(False, index=df.index)
        keep = pd.Series(True, index=df.index)
        for mask, col, vals, reason in (
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
        ):
            m = keep & mask
            ledger.reject("occupation_skills", name, df.index[m], col, vals[m], reason)
            keep &= ~m
        if "Title" in df.columns:
            titles.update(zip(soc[keep], _text(df["Title"])[keep], strict=True))
        im = keep & scale.eq("IM")
        lv = keep & scale.eq("LV")
        osk.append(
            pd.DataFrame(
                {
                    "occupation": soc[im],
                    "skill": elem[im],
                    "weight": ((value[im] - 1) / 4).clip(0, 1),
                    "suppress": flagged[im],
                }
            )
        )
        levels.append(pd.DataFrame({"occupation": soc[lv], "skill": elem[lv], "level": value[lv]}))
        skill_rows.append(
            pd.DataFrame(
                {
                    "skill": elem[keep],
                    "label": _text(df["Element Name"])[keep],
                    "kind": kind,
                    "system": "ONET",
                }
            )
        )
        ledger.keep(name, int((im | lv).sum()))
    if occ_data.exists():
        od = read_table(occ_data, sep="\t")
        if {"O*NET-SOC Code", "Title"} <= set(od.columns):
            titles = {
                **dict(zip(_text(od["O*NET-SOC Code"]), _text(od["Title"]), strict=True)),
                **titles,
            }
            meta["titles"] = occ_data.name
    occ_skills = pd.concat(osk, ignore_index=True)
    dup = occ_skills.duplicated(["occupation", "skill"])
    if dup.any():  # pragma: no cover - O*NET has one IM row per occupation x element
        raise FormatError(f"{path}: duplicate occupation x element importance rows")
    skills = pd.concat(skill_rows, ignore_index=True).drop_duplicates("skill")
    codes = sorted(set(occ_skills["occupation"]) | set(pd.concat(levels)["occupation"]))
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
        extra={"skill_levels": pd.concat(levels, ignore_index=True)},
    )
