"""Read INSEE geography files into the territory hierarchy of gpec.

Files (formats.md §5): the COG CSV files ``v_commune_YYYY.csv``, ``v_departement_YYYY.csv``,
``v_region_YYYY.csv`` (UTF-8, comma); the EPCI workbook
``Intercommunalite_Metropole_au_01-01-YYYY.xlsx`` (sheets ``EPCI`` and
``Composition_communale``) and the zones d'emploi workbook ``ZE2020_au_01-01-YYYY.xlsx``
(sheets ``ZE2020`` and ``Composition_communale``), whose header sits below a few title rows
(found by name, not by position).

Territory codes: ``FR``; régions ``R`` + INSEE code (``R28``, so that ``R01`` Guadeloupe does not
clash with the département ``01``); départements, communes, arrondissements municipaux, EPCI
(SIREN, 9 digits) and zones d'emploi (4 digits, ``0051``) keep their INSEE codes. Each territory
has one parent: commune -> EPCI (or zone d'emploi, or département: ``commune_parent``) ->
département -> région -> FR; an EPCI or a zone d'emploi hangs under the département holding most
of its communes. Every membership (commune -> EPCI, zone d'emploi, département) is also kept in
the extra table ``memberships`` [commune, level, territory].
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from gpec._data import GpecData
from gpec.ingest._errors import FormatError, RowLedger, check_pattern
from gpec.ingest._tables import InputFileError, read_table
from gpec.referentials import CODE_PATTERNS

__all__ = ["read_insee_geography"]


def _text(s: pd.Series) -> pd.Series:
    out = s.astype(object).where(s.notna(), "").astype(str).str.strip()
    return out.str.replace(r"\.0$", "", regex=True)


def _pad(s: pd.Series, width: int) -> pd.Series:
    """Zero-pad digit-only codes (Excel may store ``01001`` as the number 1001)."""
    return s.where(~s.str.fullmatch(r"\d+"), s.str.zfill(width))


def _memberships(
    level: str, communes: pd.Series, territories: pd.Series, departements: pd.Series
) -> pd.DataFrame:
    """Membership rows (commune, level, territory, departement) of one grouping level."""
    return pd.DataFrame(
        {"commune": communes, "level": level, "territory": territories, "departement": departements}
    )


def _sheet(path: Path, sheet: str, key: str, ledger: RowLedger) -> tuple[pd.DataFrame, str]:
    """Read an INSEE sheet whose header row (holding ``key``) is below title rows."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise FormatError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    try:
        if sheet not in wb.sheetnames:
            raise FormatError(f"{path}: no sheet {sheet!r} (sheets: {wb.sheetnames})")
        rows = wb[sheet].iter_rows(values_only=True)
        header, header_row = None, 0
        for i, r in enumerate(rows, start=1):
            cells = [str(c).strip() if c is not None else "" for c in r]
            if key in cells:
                header, header_row = cells, i
                break
            if i > 20:
                break
        if header is None:
            raise FormatError(f"{path}: sheet {sheet!r} has no header row with {key!r}")
        data = [list(r[: len(header)]) for r in rows]
    finally:
        wb.close()
    df = pd.DataFrame(data, columns=header, dtype=object)
    df.index = pd.RangeIndex(header_row + 1, header_row + 1 + len(df), name="row")
    df = df.dropna(how="all")
    name = f"{path.name}[{sheet}]"
    ledger.read(name, len(df))
    return df, name


def _csv(path: Path, ledger: RowLedger, required: list[str], meta: dict) -> pd.DataFrame:
    try:
        df = read_table(path)
    except InputFileError as exc:
        raise FormatError(str(exc)) from exc
    df.columns = [c.upper() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise FormatError(f"{path}: missing column(s) {missing} (found {list(df.columns)})")
    meta["encodings"][path.name] = df.attrs.get("encoding")
    ledger.read(path.name, len(df))
    return df


def _check(ledger, file, df, col, codes, system, table="territories"):
    ok = check_pattern(codes, CODE_PATTERNS[system])
    ledger.reject(table, file, df.index[~ok], col, codes[~ok], f"not a {system.lower()} code")
    return ok


def _mode_parent(members: pd.DataFrame, child: str, parent: str) -> pd.Series:
    """For each ``child``, the ``parent`` most of its communes belong to (ties: smallest code)."""
    counts = members.groupby([child, parent]).size().reset_index(name="n")
    counts = counts.sort_values([child, "n", parent], ascending=[True, False, True])
    return counts.drop_duplicates(child).set_index(child)[parent]


def read_insee_geography(
    communes: str | os.PathLike | None = None,
    *,
    departements: str | os.PathLike | None = None,
    regions: str | os.PathLike | None = None,
    epci: str | os.PathLike | None = None,
    zones_emploi: str | os.PathLike | None = None,
    appartenance: str | os.PathLike | None = None,
    commune_parent: str | None = None,
) -> GpecData:
    """Build the territory hierarchy from INSEE COG, EPCI and zone d'emploi files.

    Parameters
    ----------
    communes : path, optional
        ``v_commune_YYYY.csv`` (COG). Rows ``COM`` become communes, ``ARM`` arrondissements
        municipaux under their commune; ``COMA``/``COMD`` (associated / delegated communes,
        which can repeat a commune code) are reported as rejected.
    departements, regions : path, optional
        ``v_departement_YYYY.csv`` and ``v_region_YYYY.csv`` (labels, département -> région).
    epci : path, optional
        ``Intercommunalite_Metropole_au_01-01-YYYY.xlsx``.
    zones_emploi : path, optional
        ``ZE2020_au_01-01-YYYY.xlsx``.
    appartenance : path, optional
        The *table d'appartenance géographique des communes* (sheet ``COM``: ``CODGEO, LIBGEO,
        DEP, REG, EPCI, ZE2020, ...``): communes with their EPCI and zone d'emploi in one file
        (EPCI and zone labels then come from the EPCI / ZE workbooks when given, else are
        placeholders).
    commune_parent : {"epci", "zone_emploi", "departement"}, optional
        Parent level of communes; default ``"epci"`` when the EPCI file is given, else
        ``"zone_emploi"`` when the ZE file is given, else ``"departement"``.

    Returns
    -------
    GpecData
        ``territories`` (territory, label, level, parent) and the extra table ``memberships``;
        ``meta`` with ``row_accounting`` per file (and sheet).

    Raises
    ------
    FormatError
        When a file lacks its INSEE columns or sheets.

    Examples
    --------
    >>> data = read_insee_geography("v_commune_2024.csv", departements="v_departement_2024.csv",
    ...                             regions="v_region_2024.csv")  # doctest: +SKIP
    """
    if not any((communes, departements, regions, epci, zones_emploi, appartenance)):
        raise ValueError("give at least one INSEE geography file")
    ledger = RowLedger()
    meta: dict = {"format": "insee_geography", "encodings": {}, "sources": {}}
    reg_labels: dict[str, str] = {}
    dep_rows: dict[str, tuple[str, str]] = {}  # dep -> (label, region)
    com_rows: list[tuple] = []  # (code, label, level, dep, parent_commune)
    members: list[pd.DataFrame] = []
    group_labels: dict[str, dict[str, str]] = {"epci": {}, "zone_emploi": {}}

    if regions is not None:
        path = Path(regions)
        df = _csv(path, ledger, ["REG", "LIBELLE"], meta)
        reg = _text(df["REG"]).str.zfill(2)
        ok = _check(ledger, path.name, df, "REG", reg, "REGION")
        ledger.keep(path.name, int(ok.sum()))
        reg_labels.update(zip(reg[ok], _text(df["LIBELLE"])[ok], strict=True))
        meta["sources"]["regions"] = str(path)
    if departements is not None:
        path = Path(departements)
        df = _csv(path, ledger, ["DEP", "REG", "LIBELLE"], meta)
        dep, reg = _text(df["DEP"]), _text(df["REG"]).str.zfill(2)
        ok = _check(ledger, path.name, df, "DEP", dep, "DEPARTEMENT")
        ledger.keep(path.name, int(ok.sum()))
        for d, lab, r in zip(dep[ok], _text(df["LIBELLE"])[ok], reg[ok], strict=True):
            dep_rows[d] = (lab, r)
        meta["sources"]["departements"] = str(path)
    if communes is not None:
        path = Path(communes)
        df = _csv(path, ledger, ["TYPECOM", "COM", "LIBELLE"], meta)
        f = path.name
        typ, com = _text(df["TYPECOM"]), _text(df["COM"])
        dep = _text(df["DEP"]) if "DEP" in df else pd.Series("", index=df.index)
        reg = _text(df["REG"]).str.zfill(2) if "REG" in df else pd.Series("", index=df.index)
        parent = _text(df["COMPARENT"]) if "COMPARENT" in df else pd.Series("", index=df.index)
        keep = _check(ledger, f, df, "COM", com, "COMMUNE")
        other = keep & ~typ.isin(["COM", "ARM"])
        ledger.reject(
            "territories",
            f,
            df.index[other],
            "TYPECOM",
            typ[other],
            "commune associée or déléguée: not a territory of its own",
        )
        keep &= ~other
        dup = keep & typ.eq("COM") & com.duplicated()
        ledger.reject("territories", f, df.index[dup], "COM", com[dup], "duplicate key")
        keep &= ~dup
        ledger.keep(f, int(keep.sum()))
        for c, lab, t, d, r, p in zip(
            com[keep],
            _text(df["LIBELLE"])[keep],
            typ[keep],
            dep[keep],
            reg[keep],
            parent[keep],
            strict=True,
        ):
            com_rows.append((c, lab, "commune" if t == "COM" else "arrondissement_municipal", d, p))
            if t == "COM" and d and d not in dep_rows:
                dep_rows[d] = (f"Département {d}", r)
        meta["sources"]["communes"] = str(path)
    if appartenance is not None:
        path = Path(appartenance)
        meta["sources"]["appartenance"] = str(path)
        c, cname = _sheet(path, "COM", "CODGEO", ledger)
        missing = [x for x in ("CODGEO", "LIBGEO", "DEP") if x not in c.columns]
        if missing:
            raise FormatError(f"{path}: sheet 'COM' lacks {missing}")
        codgeo = _pad(_text(c["CODGEO"]), 5)
        ok = _check(ledger, cname, c, "CODGEO", codgeo, "COMMUNE")
        ok &= ~codgeo.duplicated()
        ledger.reject(
            "territories",
            cname,
            c.index[~ok & codgeo.duplicated()],
            "CODGEO",
            codgeo[~ok & codgeo.duplicated()],
            "duplicate key",
        )
        ledger.keep(cname, int(ok.sum()))
        dep = _text(c["DEP"])
        reg = _pad(_text(c["REG"]), 2) if "REG" in c else pd.Series("", index=c.index)
        known = {r[0] for r in com_rows}
        for code_, lab, d, r in zip(
            codgeo[ok], _text(c["LIBGEO"])[ok], dep[ok], reg[ok], strict=True
        ):
            if code_ not in known:
                com_rows.append((code_, lab, "commune", d, ""))
            if d and d not in dep_rows:
                dep_rows[d] = (f"Département {d}", r)
        for level, col, system, width in (
            ("epci", "EPCI", "EPCI", 9),
            ("zone_emploi", "ZE2020", "ZE2020", 4),
        ):
            if col not in c.columns:
                continue
            grp = _pad(_text(c[col]), width)
            okg = ok & check_pattern(grp, CODE_PATTERNS[system])
            meta[f"communes_without_{level}"] = int((ok & ~okg).sum())
            members.append(_memberships(level, codgeo[okg], grp[okg], dep[okg]))
    for level, path, sheet, code_col, label_col, system in (
        ("epci", epci, "EPCI", "EPCI", "LIBEPCI", "EPCI"),
        ("zone_emploi", zones_emploi, "ZE2020", "ZE2020", "LIBZE2020", "ZE2020"),
    ):
        if path is None:
            continue
        path = Path(path)
        meta["sources"][level] = str(path)
        g, gname = _sheet(path, sheet, code_col, ledger)
        width = 9 if level == "epci" else 4
        code = _pad(_text(g[code_col]), width)
        ok = _check(ledger, gname, g, code_col, code, system)
        ledger.keep(gname, int(ok.sum()))
        group_labels[level].update(zip(code[ok], _text(g[label_col])[ok], strict=True))
        c, cname = _sheet(path, "Composition_communale", "CODGEO", ledger)
        missing = [x for x in ("CODGEO", code_col) if x not in c.columns]
        if missing:
            raise FormatError(f"{path}: sheet 'Composition_communale' lacks {missing}")
        codgeo, grp = _pad(_text(c["CODGEO"]), 5), _pad(_text(c[code_col]), width)
        dep = _text(c["DEP"]) if "DEP" in c else codgeo.str[:2]
        ok = _check(ledger, cname, c, "CODGEO", codgeo, "COMMUNE")
        okg = ok & check_pattern(grp, CODE_PATTERNS[system])
        ledger.reject(
            "territories",
            cname,
            c.index[ok & ~okg],
            code_col,
            grp[ok & ~okg],
            f"not a {system.lower()} code (e.g. commune without EPCI)",
        )
        ledger.keep(cname, int(okg.sum()))
        members.append(_memberships(level, codgeo[okg], grp[okg], dep[okg]))
        for g_code, lab in zip(grp[okg], _text(c.get(label_col, grp))[okg], strict=True):
            group_labels[level].setdefault(g_code, lab)
        if "LIBGEO" in c and communes is None:
            known = {r[0] for r in com_rows}
            for code_, lab, d in zip(codgeo[okg], _text(c["LIBGEO"])[okg], dep[okg], strict=True):
                if code_ not in known:
                    com_rows.append((code_, lab, "commune", d, ""))
                    known.add(code_)

    # assemble the tree
    memberships = (
        pd.concat(members, ignore_index=True).drop_duplicates(["commune", "level", "territory"])
        if members
        else pd.DataFrame(columns=["commune", "level", "territory", "departement"])
    )
    rows = [("FR", "France", "nation", None)]
    regions_used = set(reg_labels) | {r for _, r in dep_rows.values() if r}
    rows += [
        (f"R{r}", reg_labels.get(r, f"Région {r}"), "region", "FR") for r in sorted(regions_used)
    ]
    for d in memberships["departement"].unique() if len(memberships) else []:
        if d and d not in dep_rows:
            dep_rows[d] = (f"Département {d}", "")
    rows += [
        (d, lab, "departement", f"R{r}" if r else "FR") for d, (lab, r) in sorted(dep_rows.items())
    ]
    for level in ("epci", "zone_emploi"):
        m = memberships[memberships["level"] == level]
        dep_of = _mode_parent(m, "territory", "departement") if len(m) else {}
        # groups without member communes in the files hang directly under FR
        for code in sorted(set(m["territory"]) | set(group_labels[level])):
            rows.append(
                (
                    code,
                    group_labels[level].get(code) or f"{level} {code}",
                    level,
                    dep_of.get(code) if dep_of.get(code) in dep_rows else "FR",
                )
            )
    if commune_parent is None:
        commune_parent = (
            "epci"
            if epci is not None or appartenance is not None
            else "zone_emploi"
            if zones_emploi is not None
            else "departement"
        )
    if commune_parent not in ("epci", "zone_emploi", "departement"):
        raise ValueError("commune_parent must be 'epci', 'zone_emploi' or 'departement'")
    group_of = {}
    if commune_parent != "departement" and len(memberships):
        m = memberships[memberships["level"] == commune_parent]
        group_of = dict(zip(m["commune"], m["territory"], strict=True))
    dep_members = []
    for code, lab, level, d, p in com_rows:
        if level == "arrondissement_municipal":
            parent = p or None
        else:
            parent = group_of.get(code) or d or None
            if d:
                dep_members.append((code, "departement", d, d))
        rows.append((code, lab, level, parent))
    if dep_members:
        memberships = pd.concat(
            [
                memberships,
                pd.DataFrame(dep_members, columns=["commune", "level", "territory", "departement"]),
            ],
            ignore_index=True,
        )
    territories = pd.DataFrame(rows, columns=["territory", "label", "level", "parent"])
    dup = territories.duplicated("territory")
    if dup.any():
        raise FormatError(
            f"territory code(s) used at two levels: "
            f"{territories.loc[dup, 'territory'].tolist()[:5]}"
        )
    territories["parent"] = (
        territories["parent"].astype(object).where(territories["parent"].notna(), None)
    )
    meta["commune_parent"] = commune_parent
    meta["row_accounting"] = ledger.checked_accounting()
    return GpecData(
        territories=territories,
        rejected=ledger.frame(),
        meta=meta,
        sources={"territories": ";".join(meta["sources"].values())},
        extra={
            "memberships": memberships.drop(columns="departement")
            .sort_values(["commune", "level"])
            .reset_index(drop=True)
        },
    )
