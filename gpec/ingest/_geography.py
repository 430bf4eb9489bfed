"""Read INSEE geography files into the territory hierarchy of gpec.

Files (formats.md §5): the COG CSV files ``v_commune_YYYY.csv``, ``v_departement_YYYY.csv``,
``v_region_YYYY.csv`` (UTF-8, comma); the EPCI workbook
``Intercommunalite_Metropole_au_01-01-YYYY.xlsx`` (sheets ``EPCI`` and
``Composition_communale``) and the zones d'emploi workbook ``ZE2020_au_01-01-YYYY.xlsx``
(sheets ``ZE2020`` and ``Composition_communale``), whose header sits below a few title rows
(found by name, not by position); the *table d'appartenance géographique des communes*
(sheet ``COM``, labels of the EPCI, zones d'emploi, départements and régions in sheet
``Zones_supra_communales``); the COG as JSON of the npm package ``@etalab/decoupage-administratif``
(``communes.json``, ``epci.json``, ``departements.json``, ``regions.json``), read from its ``.tgz``
as published or from a folder holding these files.

Territory codes: ``FR``; régions ``R`` + INSEE code (``R28``, so that ``R01`` Guadeloupe does not
clash with the département ``01``); départements, communes, arrondissements municipaux, EPCI
(SIREN, 9 digits) and zones d'emploi (4 digits, ``0051``) keep their INSEE codes. Each territory
has one parent: commune -> EPCI (or zone d'emploi, or département: ``commune_parent``) ->
département -> région -> FR; an EPCI or a zone d'emploi hangs under the département holding most
of its communes. Every membership (commune -> EPCI, zone d'emploi, département) is also kept in
the extra table ``memberships`` [commune, level, territory].
"""

from __future__ import annotations

import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gpec._data import GpecData
from gpec.ingest._errors import FormatError, RowLedger, check_pattern, read_source_table
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


def _sheet(
    path: Path, sheet: str, key: str, ledger: RowLedger, *, optional: bool = False
) -> tuple[pd.DataFrame, str] | None:
    """Read an INSEE sheet whose header row (holding ``key``) is below title rows (None when an
    ``optional`` sheet is not in the workbook)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise FormatError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    try:
        if sheet not in wb.sheetnames:
            if optional:
                return None
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
    df = read_source_table(path)
    df.columns = [c.upper() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise FormatError(f"{path}: missing column(s) {missing} (found {list(df.columns)})")
    meta["encodings"][path.name] = df.attrs.get("encoding")
    ledger.read(path.name, len(df))
    return df


def _code_check(codes: pd.Series, col: str, system: str) -> tuple:
    """The check that ``codes`` are codes of ``system``, as :meth:`RowLedger.reject_in_turn`
    takes it."""
    return ~check_pattern(codes, CODE_PATTERNS[system]), col, codes, f"not a {system.lower()} code"


def _check(ledger, file, df, col, codes, system, table="territories"):
    bad, col, codes, reason = _code_check(codes, col, system)
    ledger.reject(table, file, df.index[bad], col, codes[bad], reason)
    return ~bad


_NOT_A_TERRITORY = "commune associée or déléguée: not a territory of its own"


def _mode_parent(members: pd.DataFrame, child: str, parent: str) -> pd.Series:
    """For each ``child``, the ``parent`` most of its communes belong to (ties: smallest code)."""
    counts = members.groupby([child, parent]).size().reset_index(name="n")
    counts = counts.sort_values([child, "n", parent], ascending=[True, False, True])
    return counts.drop_duplicates(child).set_index(child)[parent]


_ETALAB_FILES = ("communes.json", "epci.json", "departements.json", "regions.json")


def _etalab_json(path: Path) -> dict[str, list]:
    """The JSON lists of the etalab package: from its ``.tgz`` (``package/data/*.json``, read in
    memory, nothing extracted) or from a folder holding the files."""
    out: dict[str, list] = {}
    if path.is_dir():
        for name in _ETALAB_FILES:
            f = path / name if (path / name).is_file() else path / "data" / name
            if f.is_file():
                out[name] = json.loads(f.read_text(encoding="utf-8"))
    elif path.is_file() and tarfile.is_tarfile(path):
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                name = member.name.rsplit("/", 1)[-1]
                if name in _ETALAB_FILES and "/data/" in f"/{member.name}":
                    fh = tar.extractfile(member)
                    if fh is not None:
                        out[name] = json.loads(fh.read().decode("utf-8"))
    elif path.is_file() and path.suffix.lower() == ".json":
        out[path.name] = json.loads(path.read_text(encoding="utf-8"))
    else:
        raise FormatError(f"{path}: not the etalab COG package (.tgz, folder or .json)")
    if "communes.json" not in out and "epci.json" not in out:
        raise FormatError(
            f"{path}: no communes.json nor epci.json (etalab decoupage-administratif data)"
        )
    for name, rows in out.items():
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise FormatError(f"{path}: {name} is not a list of objects")
    return out


def _records(rows: list[dict], fields: list[str]) -> pd.DataFrame:
    """JSON objects -> text columns, index = position in the list (1 = first object)."""
    df = pd.DataFrame([{f: r.get(f) for f in fields} for r in rows], columns=fields)
    df.index = pd.RangeIndex(1, len(df) + 1, name="row")
    return df


def _kind(path: Path) -> str:
    """What a geography file given as the first argument is."""
    name = path.name.lower()
    if path.is_dir() or name.endswith((".tgz", ".tar.gz", ".json")):
        return "etalab"
    if name.endswith((".xlsx", ".xlsm")):
        return "appartenance"
    return "communes"


_ZONE_LEVELS = {"EPCI": "epci", "ZE2020": "zone_emploi"}


def _zones_sheet(path: Path, ledger: RowLedger, reg_labels: dict, dep_rows: dict,
                 group_labels: dict, extra: dict) -> None:  # fmt: skip
    """Labels of the sheet ``Zones_supra_communales`` of the table d'appartenance (when it has
    one): EPCI and zones d'emploi, départements and régions; all rows in extra ``zones``."""
    found = _sheet(path, "Zones_supra_communales", "NIVGEO", ledger, optional=True)
    if found is None:
        return
    z, zname = found
    missing = [x for x in ("NIVGEO", "CODGEO", "LIBGEO") if x not in z.columns]
    if missing:
        raise FormatError(f"{path}: sheet 'Zones_supra_communales' lacks {missing}")
    level, code, label = _text(z["NIVGEO"]), _text(z["CODGEO"]), _text(z["LIBGEO"])
    bad = level.eq("") | code.eq("")
    ledger.reject("territories", zname, z.index[bad], "CODGEO", code[bad], "no level or code")
    ledger.keep(zname, int((~bad).sum()))
    for lv, c, lab in zip(level[~bad], code[~bad], label[~bad], strict=True):
        if lv in _ZONE_LEVELS:
            width = 9 if lv == "EPCI" else 4
            c = c.zfill(width) if c.isdigit() else c
            if c.isdigit():  # not ZZZZZZZZZ, "sans objet"
                group_labels[_ZONE_LEVELS[lv]].setdefault(c, lab)
        elif lv == "REG":
            reg_labels.setdefault(c.zfill(2) if c.isdigit() else c, lab)
        elif lv == "DEP":
            c = c.zfill(2) if c.isdigit() else c
            old = dep_rows.get(c)
            if old is None or old[0].startswith("Département "):
                dep_rows[c] = (lab, old[1] if old else "")
    extra["zones"] = pd.DataFrame(
        {"level": level[~bad], "code": code[~bad], "label": label[~bad]}
    ).reset_index(drop=True)


def read_insee_geography(
    communes: str | os.PathLike | None = None,
    *,
    departements: str | os.PathLike | None = None,
    regions: str | os.PathLike | None = None,
    epci: str | os.PathLike | None = None,
    zones_emploi: str | os.PathLike | None = None,
    appartenance: str | os.PathLike | None = None,
    cog_json: str | os.PathLike | None = None,
    commune_parent: str | None = None,
    epci_parent: str = "departement",
) -> GpecData:
    """Build the territory hierarchy from INSEE COG, EPCI and zone d'emploi files.

    Parameters
    ----------
    communes : path, optional
        ``v_commune_YYYY.csv`` (COG). Rows ``COM`` become communes, ``ARM`` arrondissements
        municipaux under their commune; ``COMA``/``COMD`` (associated / delegated communes,
        which can repeat a commune code) are reported as rejected. A ``.xlsx`` given here is
        read as ``appartenance``, a ``.tgz``, ``.json`` or folder as ``cog_json``.
    departements, regions : path, optional
        ``v_departement_YYYY.csv`` and ``v_region_YYYY.csv`` (labels, département -> région).
    epci : path, optional
        ``Intercommunalite_Metropole_au_01-01-YYYY.xlsx``.
    zones_emploi : path, optional
        ``ZE2020_au_01-01-YYYY.xlsx``.
    appartenance : path, optional
        The *table d'appartenance géographique des communes* (sheet ``COM``: ``CODGEO, LIBGEO,
        DEP, REG, EPCI, ZE2020, ...``): communes with their EPCI and zone d'emploi in one file
        (EPCI, zone, département and région labels from its sheet ``Zones_supra_communales``,
        or from the EPCI / ZE workbooks when given; every label row is kept in the extra table
        ``zones``).
    cog_json : path, optional
        The npm package ``@etalab/decoupage-administratif`` (``.tgz`` as published, read
        without extracting it, or a folder of its ``data/*.json``): communes (``type``
        ``commune-actuelle``; ``arrondissement-municipal`` under its commune; delegated and
        associated communes reported as rejected), EPCI with their member communes,
        départements and régions with their labels; populations in the extra table
        ``populations``. Collectivités d'outre-mer (codes 975-989) are reported as rejected:
        they are outside the COG départements.
    commune_parent : {"epci", "zone_emploi", "departement"}, optional
        Parent level of communes; default ``"epci"`` when the EPCI file is given, else
        ``"zone_emploi"`` when the ZE file is given, else ``"departement"``.

    epci_parent : {"departement", "zone_emploi"}, default "departement"
        Parent level of the EPCI. With ``"zone_emploi"`` (needs the communes' zones, e.g. the
        table d'appartenance) the tree is commune -> EPCI -> zone d'emploi -> département ->
        région: each EPCI hangs under the zone holding most of its communes; EPCI spread over
        several zones are counted in ``meta["epci_in_several_zones"]`` and their communes outside
        that zone in ``meta["communes_outside_their_epci_zone"]`` (sums up this tree then put
        those communes in the EPCI's main zone).

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
    >>> cog = read_insee_geography("etalab-decoupage-administratif-6.0.0.tgz")  # doctest: +SKIP
    """
    communes, appartenance, cog_json = _route(communes, appartenance, cog_json)
    if not any((communes, departements, regions, epci, zones_emploi, appartenance, cog_json)):
        raise ValueError("give at least one INSEE geography file")
    parts = _Parts(RowLedger(), {"format": "insee_geography", "encodings": {}, "sources": {}})
    if regions is not None:
        _read_regions(Path(regions), parts)
    if departements is not None:
        _read_departements(Path(departements), parts)
    if communes is not None:
        _read_communes(Path(communes), parts)
    if appartenance is not None:
        _read_appartenance(Path(appartenance), parts)
    if cog_json is not None:
        _read_etalab(Path(cog_json), parts)
    for level, path, sheet, code_col, label_col, system in (
        ("epci", epci, "EPCI", "EPCI", "LIBEPCI", "EPCI"),
        ("zone_emploi", zones_emploi, "ZE2020", "ZE2020", "LIBZE2020", "ZE2020"),
    ):
        if path is not None:
            _read_group_workbook(
                Path(path), parts, level, sheet, code_col, label_col, system, communes is None
            )
    if commune_parent is None:
        commune_parent = (
            "epci"
            if epci is not None or appartenance is not None or cog_json is not None
            else "zone_emploi"
            if zones_emploi is not None
            else "departement"
        )
    return _assemble(parts, commune_parent, epci_parent)


@dataclass
class _Parts:
    """What the files of one call give, gathered before the tree is assembled."""

    ledger: RowLedger
    meta: dict
    reg_labels: dict[str, str] = field(default_factory=dict)
    dep_rows: dict[str, tuple[str, str]] = field(default_factory=dict)  # dep -> (label, region)
    com_rows: list[tuple] = field(default_factory=list)  # (code, label, level, dep, parent)
    members: list[pd.DataFrame] = field(default_factory=list)
    group_labels: dict[str, dict[str, str]] = field(
        default_factory=lambda: {"epci": {}, "zone_emploi": {}}
    )
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)


def _route(communes, appartenance, cog_json):
    """A workbook or an etalab package given as ``communes`` is read as what it is."""
    if communes is not None and _kind(Path(communes)) != "communes":
        if _kind(Path(communes)) == "etalab" and cog_json is None:
            cog_json, communes = communes, None
        elif _kind(Path(communes)) == "appartenance" and appartenance is None:
            appartenance, communes = communes, None
    return communes, appartenance, cog_json


def _read_regions(path: Path, parts: _Parts) -> None:
    """``v_region_YYYY.csv``: région labels."""
    ledger, meta = parts.ledger, parts.meta
    df = _csv(path, ledger, ["REG", "LIBELLE"], meta)
    reg = _text(df["REG"]).str.zfill(2)
    ok = _check(ledger, path.name, df, "REG", reg, "REGION")
    ledger.keep(path.name, int(ok.sum()))
    parts.reg_labels.update(zip(reg[ok], _text(df["LIBELLE"])[ok], strict=True))
    meta["sources"]["regions"] = str(path)


def _read_departements(path: Path, parts: _Parts) -> None:
    """``v_departement_YYYY.csv``: département labels and régions."""
    ledger, meta = parts.ledger, parts.meta
    df = _csv(path, ledger, ["DEP", "REG", "LIBELLE"], meta)
    dep, reg = _text(df["DEP"]), _text(df["REG"]).str.zfill(2)
    ok = _check(ledger, path.name, df, "DEP", dep, "DEPARTEMENT")
    ledger.keep(path.name, int(ok.sum()))
    for d, lab, r in zip(dep[ok], _text(df["LIBELLE"])[ok], reg[ok], strict=True):
        parts.dep_rows[d] = (lab, r)
    meta["sources"]["departements"] = str(path)


def _read_communes(path: Path, parts: _Parts) -> None:
    """``v_commune_YYYY.csv``: communes and arrondissements municipaux."""
    ledger, meta = parts.ledger, parts.meta
    df = _csv(path, ledger, ["TYPECOM", "COM", "LIBELLE"], meta)
    f = path.name
    typ, com = _text(df["TYPECOM"]), _text(df["COM"])
    dep = _text(df["DEP"]) if "DEP" in df else pd.Series("", index=df.index)
    reg = _text(df["REG"]).str.zfill(2) if "REG" in df else pd.Series("", index=df.index)
    parent = _text(df["COMPARENT"]) if "COMPARENT" in df else pd.Series("", index=df.index)
    keep = ledger.reject_in_turn(
        "territories",
        f,
        df.index,
        [
            _code_check(com, "COM", "COMMUNE"),
            (~typ.isin(["COM", "ARM"]), "TYPECOM", typ, _NOT_A_TERRITORY),
            (typ.eq("COM") & com.duplicated(), "COM", com, "duplicate key"),
        ],
    )
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
        level = "commune" if t == "COM" else "arrondissement_municipal"
        parts.com_rows.append((c, lab, level, d, p))
        if t == "COM" and d and d not in parts.dep_rows:
            parts.dep_rows[d] = (f"Département {d}", r)
    meta["sources"]["communes"] = str(path)


def _read_appartenance(path: Path, parts: _Parts) -> None:
    """The table d'appartenance: sheet ``COM`` (communes with their EPCI and zone d'emploi),
    then the labels of its sheet ``Zones_supra_communales``."""
    ledger, meta = parts.ledger, parts.meta
    meta["sources"]["appartenance"] = str(path)
    c, cname = _sheet(path, "COM", "CODGEO", ledger)
    missing = [x for x in ("CODGEO", "LIBGEO", "DEP") if x not in c.columns]
    if missing:
        raise FormatError(f"{path}: sheet 'COM' lacks {missing}")
    codgeo = _pad(_text(c["CODGEO"]), 5)
    valid = _check(ledger, cname, c, "CODGEO", codgeo, "COMMUNE")
    dup = valid & codgeo.duplicated()  # an invalid code is already rejected, once
    ok = valid & ~dup
    ledger.reject("territories", cname, c.index[dup], "CODGEO", codgeo[dup], "duplicate key")
    ledger.keep(cname, int(ok.sum()))
    dep = _text(c["DEP"])
    reg = _pad(_text(c["REG"]), 2) if "REG" in c else pd.Series("", index=c.index)
    known = {r[0] for r in parts.com_rows}
    for code_, lab, d, r in zip(codgeo[ok], _text(c["LIBGEO"])[ok], dep[ok], reg[ok], strict=True):
        if code_ not in known:
            parts.com_rows.append((code_, lab, "commune", d, ""))
        if d and d not in parts.dep_rows:
            parts.dep_rows[d] = (f"Département {d}", r)
    for level, col, system, width in (
        ("epci", "EPCI", "EPCI", 9),
        ("zone_emploi", "ZE2020", "ZE2020", 4),
    ):
        if col not in c.columns:
            continue
        grp = _pad(_text(c[col]), width)
        okg = ok & check_pattern(grp, CODE_PATTERNS[system])
        meta[f"communes_without_{level}"] = int((ok & ~okg).sum())
        parts.members.append(_memberships(level, codgeo[okg], grp[okg], dep[okg]))
    _zones_sheet(path, ledger, parts.reg_labels, parts.dep_rows, parts.group_labels, parts.extra)


def _read_etalab(path: Path, parts: _Parts) -> None:
    """The etalab COG package: régions, départements, communes, EPCI with their members."""
    parts.meta["sources"]["cog_json"] = str(path)
    files = _etalab_json(path)
    if "regions.json" in files:
        name = f"{path.name}[regions.json]"
        r = _records(files["regions.json"], ["code", "nom"])
        parts.ledger.read(name, len(r))
        code = _text(r["code"])
        ok = _check(parts.ledger, name, r, "code", code, "REGION")
        parts.ledger.keep(name, int(ok.sum()))
        parts.reg_labels.update(zip(code[ok], _text(r["nom"])[ok], strict=True))
    if "departements.json" in files:
        name = f"{path.name}[departements.json]"
        d = _records(files["departements.json"], ["code", "nom", "region"])
        parts.ledger.read(name, len(d))
        code = _text(d["code"])
        ok = _check(parts.ledger, name, d, "code", code, "DEPARTEMENT")
        parts.ledger.keep(name, int(ok.sum()))
        for c, lab, reg_ in zip(code[ok], _text(d["nom"])[ok], _text(d["region"])[ok],
                                strict=True):  # fmt: skip
            parts.dep_rows[c] = (lab, reg_)
    dep_of_commune: dict[str, str] = {}
    if "communes.json" in files:
        dep_of_commune = _etalab_communes(files["communes.json"], f"{path.name}[communes.json]",
                                          parts)  # fmt: skip
    if "epci.json" in files:
        _etalab_epci(files["epci.json"], f"{path.name}[epci.json]", parts, dep_of_commune)


def _etalab_communes(rows: list[dict], name: str, parts: _Parts) -> dict[str, str]:
    """``communes.json``: communes and arrondissements municipaux, populations in extra;
    returns the département of each commune read."""
    ledger = parts.ledger
    c = _records(rows, ["code", "nom", "type", "departement", "region", "commune", "population"])
    ledger.read(name, len(c))
    code, typ = _text(c["code"]), _text(c["type"])
    dep = _text(c["departement"])
    current = typ.eq("commune-actuelle")
    keep = ledger.reject_in_turn(
        "territories",
        name,
        c.index,
        [
            _code_check(code, "code", "COMMUNE"),
            (
                ~typ.isin(["commune-actuelle", "arrondissement-municipal"]),
                "type",
                typ,
                _NOT_A_TERRITORY,
            ),
            (
                current & ~check_pattern(dep, CODE_PATTERNS["DEPARTEMENT"]),
                "departement",
                dep,
                "collectivité d'outre-mer: not a COG département",
            ),
            (current & code.duplicated(), "code", code, "duplicate key"),
        ],
    )
    ledger.keep(name, int(keep.sum()))
    known = {r_[0] for r_ in parts.com_rows}
    parent = _text(c["commune"])
    dep_of_commune: dict[str, str] = {}
    for code_, lab, t, d_, p_ in zip(
        code[keep], _text(c["nom"])[keep], typ[keep], dep[keep], parent[keep],
        strict=True,
    ):  # fmt: skip
        if code_ in known:
            continue
        level = "commune" if t == "commune-actuelle" else "arrondissement_municipal"
        parts.com_rows.append((code_, lab, level, d_, p_))
        if level == "commune":
            dep_of_commune[code_] = d_
    pop = pd.to_numeric(c["population"], errors="coerce")
    sel = keep & current.to_numpy()
    parts.extra["populations"] = pd.DataFrame(
        {"territory": code[sel].to_numpy(), "population": pop[sel].to_numpy()}
    ).reset_index(drop=True)
    return dep_of_commune


def _etalab_epci(rows: list[dict], name: str, parts: _Parts, dep_of_commune: dict) -> None:
    """``epci.json``: EPCI labels and their member communes."""
    e = _records(rows, ["code", "nom", "type", "membres"])
    parts.ledger.read(name, len(e))
    code = _text(e["code"])
    ok = _check(parts.ledger, name, e, "code", code, "EPCI")
    parts.ledger.keep(name, int(ok.sum()))
    parts.group_labels["epci"].update(zip(code[ok], _text(e["nom"])[ok], strict=True))
    pairs = [
        (str(m.get("code", "")), g)
        for g, members_ in zip(code[ok], e["membres"][ok], strict=True)
        for m in (members_ or [])
    ]
    mem = pd.DataFrame(pairs, columns=["commune", "territory"])
    mem = mem[check_pattern(mem["commune"], CODE_PATTERNS["COMMUNE"])]
    dep = mem["commune"].map(dep_of_commune)
    dep = dep.fillna(mem["commune"].str[:2])
    parts.members.append(_memberships("epci", mem["commune"], mem["territory"], dep))


def _read_group_workbook(
    path: Path,
    parts: _Parts,
    level: str,
    sheet: str,
    code_col: str,
    label_col: str,
    system: str,
    add_communes: bool,
) -> None:
    """The EPCI or zones d'emploi workbook: group labels, then the communes of each group
    (sheet ``Composition_communale``; the communes themselves when ``add_communes``)."""
    ledger = parts.ledger
    parts.meta["sources"][level] = str(path)
    g, gname = _sheet(path, sheet, code_col, ledger)
    width = 9 if level == "epci" else 4
    code = _pad(_text(g[code_col]), width)
    ok = _check(ledger, gname, g, code_col, code, system)
    ledger.keep(gname, int(ok.sum()))
    parts.group_labels[level].update(zip(code[ok], _text(g[label_col])[ok], strict=True))
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
    parts.members.append(_memberships(level, codgeo[okg], grp[okg], dep[okg]))
    for g_code, lab in zip(grp[okg], _text(c.get(label_col, grp))[okg], strict=True):
        parts.group_labels[level].setdefault(g_code, lab)
    if "LIBGEO" in c and add_communes:
        known = {r[0] for r in parts.com_rows}
        for code_, lab, d in zip(codgeo[okg], _text(c["LIBGEO"])[okg], dep[okg], strict=True):
            if code_ not in known:
                parts.com_rows.append((code_, lab, "commune", d, ""))
                known.add(code_)


def _assemble(parts: _Parts, commune_parent: str, epci_parent: str) -> GpecData:
    """The tree FR -> région -> département -> groups -> communes, and the memberships."""
    memberships = (
        pd.concat(parts.members, ignore_index=True).drop_duplicates(
            ["commune", "level", "territory"]
        )
        if parts.members
        else pd.DataFrame(columns=["commune", "level", "territory", "departement"])
    )
    rows = _upper_rows(parts.reg_labels, parts.dep_rows, memberships)
    if epci_parent not in ("departement", "zone_emploi"):
        raise ValueError("epci_parent must be 'departement' or 'zone_emploi'")
    ze_of_epci: dict = {}
    if epci_parent == "zone_emploi" and len(memberships):
        ze_of_epci = _zone_of_epci(memberships, parts.meta)
    rows += _group_rows(memberships, parts.group_labels, parts.dep_rows, ze_of_epci)
    if commune_parent not in ("epci", "zone_emploi", "departement"):
        raise ValueError("commune_parent must be 'epci', 'zone_emploi' or 'departement'")
    com_rows, dep_members = _commune_rows(parts.com_rows, memberships, commune_parent)
    rows += com_rows
    if dep_members:
        memberships = pd.concat(
            [
                memberships,
                pd.DataFrame(dep_members, columns=["commune", "level", "territory", "departement"]),
            ],
            ignore_index=True,
        )
    territories = _territory_table(rows)
    meta = parts.meta
    meta["commune_parent"] = commune_parent
    meta["row_accounting"] = parts.ledger.checked_accounting()
    return GpecData(
        territories=territories,
        rejected=parts.ledger.frame(),
        meta=meta,
        sources={"territories": ";".join(meta["sources"].values())},
        extra={
            **parts.extra,
            "memberships": memberships.drop(columns="departement")
            .sort_values(["commune", "level"])
            .reset_index(drop=True),
        },
    )


def _upper_rows(reg_labels: dict, dep_rows: dict, memberships: pd.DataFrame) -> list[tuple]:
    """Rows of France, the régions and the départements (those only named by a membership
    added to ``dep_rows``)."""
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
    return rows


def _zone_of_epci(memberships: pd.DataFrame, meta: dict) -> dict:
    """The zone d'emploi of each EPCI (most of its communes); counts the splits in ``meta``."""
    e = memberships[memberships["level"] == "epci"][["commune", "territory"]]
    z = memberships[memberships["level"] == "zone_emploi"][["commune", "territory"]]
    ez = e.merge(z, on="commune", suffixes=("", "_ze"))
    if not len(ez):
        raise FormatError("epci_parent='zone_emploi' needs the communes' EPCI and zone d'emploi")
    ze_of_epci = _mode_parent(ez, "territory", "territory_ze").to_dict()
    n_zones = ez.groupby("territory")["territory_ze"].nunique()
    meta["epci_in_several_zones"] = int((n_zones > 1).sum())
    meta["communes_outside_their_epci_zone"] = int(
        (ez["territory_ze"] != ez["territory"].map(ze_of_epci)).sum()
    )
    return ze_of_epci


def _group_rows(
    memberships: pd.DataFrame, group_labels: dict, dep_rows: dict, ze_of_epci: dict
) -> list[tuple]:
    """Rows of the EPCI and zones d'emploi, under their main département (or zone)."""
    rows = []
    for level in ("epci", "zone_emploi"):
        m = memberships[memberships["level"] == level]
        dep_of = _mode_parent(m, "territory", "departement") if len(m) else {}
        # groups without member communes in the files hang directly under FR
        for code in sorted(set(m["territory"]) | set(group_labels[level])):
            parent = dep_of.get(code) if dep_of.get(code) in dep_rows else "FR"
            if level == "epci" and code in ze_of_epci:
                parent = ze_of_epci[code]
            rows.append((code, group_labels[level].get(code) or f"{level} {code}", level, parent))
    return rows


def _commune_rows(
    com_rows: list[tuple], memberships: pd.DataFrame, commune_parent: str
) -> tuple[list[tuple], list[tuple]]:
    """Rows of the communes (under their group or département) and of the arrondissements
    municipaux (under their commune); the communes' département memberships."""
    group_of = {}
    if commune_parent != "departement" and len(memberships):
        m = memberships[memberships["level"] == commune_parent]
        group_of = dict(zip(m["commune"], m["territory"], strict=True))
    rows, dep_members = [], []
    for code, lab, level, d, p in com_rows:
        if level == "arrondissement_municipal":
            parent = p or None
        else:
            parent = group_of.get(code) or d or None
            if d:
                dep_members.append((code, "departement", d, d))
        rows.append((code, lab, level, parent))
    return rows, dep_members


def _territory_table(rows: list[tuple]) -> pd.DataFrame:
    """The ``territories`` table; a code used at two levels is an error."""
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
    return territories
