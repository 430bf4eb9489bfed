"""Read the France Travail BMO open-data workbooks (enquête Besoins en Main-d'Œuvre).

One workbook per survey year, data sheet ``BMO_YYYY_open_data``, one row per bassin d'emploi x
métier BMO (x département when a bassin spans several). Column order and names drift between
years (``BE23``/``NOMBE23`` vs ``BE25``/``NOMBE25``), so columns are found by normalised name.
``*`` is statistical secrecy: it becomes null, never 0. Métier codes are FAP 2009 up to BMO 2023
and FAP 2021 from BMO 2024; the system is recorded in ``occupations.system``.

Territory codes (one namespace for every level): the nation is ``FR``, régions are ``R`` + the
INSEE code (``R84``; ``R01`` Guadeloupe would otherwise clash with the département ``01``),
départements keep their INSEE code (``69``, ``2A``, ``971``), bassins are ``BE`` + the 4-digit
bassin code (``BE8201``, ``BE0101``). A bassin that spans several départements is split, as in
the file, into one territory per part: ``BE1117-77`` (Marne la Vallée, Seine-et-Marne part) with
the département as parent and the bassin code in column ``bassin``.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from gpec._data import GpecData
from gpec.ingest._errors import FormatError, RowLedger, check_pattern
from gpec.ingest._tables import InputFileError, read_table

__all__ = ["read_bmo", "normalize_header"]

_DEPT_RX = r"0[1-9]|1\d|2[1-9AB]|[3-8]\d|9[0-5]|97[1-46]"
_REG_RX = r"0[1-46]|11|24|27|28|32|44|52|53|75|76|84|93|94"
_METIER_RX = r"[A-X][0-9A-Z][A-Z]\d{2}"  # FAP 2009 (A0Z40) and FAP 2021 (A0X40, QAX01)

# canonical name -> regex on the normalised header
_COLUMNS = {
    "year": r"annee",
    "code": r"code_metier(_bmo)?",
    "label": r"(nom|lbl|libelle)_metier(_bmo)?",
    "family": r"famille_met(ier)?",
    "family_label": r"(lbl_fam_met|libelle_de_famille_de_metier)",
    "bassin": r"be\d{2}",
    "bassin_label": r"nombe\d{2}",
    "dept": r"dept?",
    "dept_label": r"nom_?dept?",
    "reg": r"reg(ion)?",
    "reg_label": r"nom_?reg(ion)?",
    "met": r"met",
    "xmet": r"xmet",
    "smet": r"smet",
}
_REQUIRED = ("code", "label", "bassin", "met")


def normalize_header(name: object) -> str:
    """Lower-case ASCII header with non-alphanumerics as ``_``.

    Examples
    --------
    >>> normalize_header("Code métier BMO")
    'code_metier_bmo'
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _find_columns(columns: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for col in columns:
        norm = normalize_header(col)
        for key, rx in _COLUMNS.items():
            if key not in found and re.fullmatch(rx, norm):
                found[key] = col
                break
    return found


def _data_sheet(path: Path) -> str | None:
    """Name of the sheet whose first row has the BMO columns (None for CSV files)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise FormatError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    try:
        names = wb.sheetnames
        ordered = sorted(names, key=lambda n: not re.fullmatch(r"BMO_\d{4}_open_data", n))
        for name in ordered:
            header = next(wb[name].iter_rows(max_row=1, values_only=True), None) or ()
            found = _find_columns([str(h) for h in header if h is not None])
            if all(k in found for k in _REQUIRED):
                return name
    finally:
        wb.close()
    raise FormatError(
        f"{path}: not a BMO workbook (no sheet with the columns 'Code métier BMO', "
        f"'BEyy' and 'met'; sheets: {names})"
    )


def _numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """'*' and empty -> NaN (masked); returns (values, mask of unreadable cells)."""
    text = s.astype(object).where(s.notna(), "").astype(str).str.strip()
    masked = text.isin(["*", ""])
    num = pd.to_numeric(text.where(~masked), errors="coerce")
    bad = ~masked & (num.isna() | (num < 0))
    return num.astype(float), bad


def read_bmo(path: str | os.PathLike, *, sheet: str | None = None) -> GpecData:
    """Read a BMO open-data workbook (or the same table saved as CSV).

    Parameters
    ----------
    path : str or path-like
        ``Base_open_data_BMO_YYYY.xlsx`` (or ``.csv``) as downloaded from data.gouv.fr.
    sheet : str, optional
        Data sheet; by default the ``BMO_YYYY_open_data`` sheet, else the first sheet whose header
        has the BMO columns.

    Returns
    -------
    GpecData
        ``hiring_intentions`` [territory, occupation, period, projects, difficult, seasonal]
        (null where the file shows ``*``), ``territories`` (bassins -> départements -> régions
        -> FR; extra columns ``code`` (official code) and ``bassin``), ``occupations`` (métiers
        BMO, ``system`` FAP2009 or FAP2021, extra columns ``bmo_family``,
        ``bmo_family_label``); ``meta`` with ``year``, ``occupation_system``, ``sheet``,
        ``columns`` (header found for each field), ``masked`` (count of ``*`` per measure) and
        ``row_accounting``.

    Raises
    ------
    FormatError
        When the file is not a BMO table (e.g. a ROME export or another workbook).

    Examples
    --------
    >>> data = read_bmo("Base_open_data_BMO_2025.xlsx")  # doctest: +SKIP
    >>> data.meta["occupation_system"]  # doctest: +SKIP
    'FAP2021'
    """
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path}: file not found")
    if path.is_dir():
        raise FormatError(f"{path}: is a folder, not a BMO workbook (.xlsx)")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        sheet = sheet or _data_sheet(path)
    elif suffix not in (".csv", ".txt"):
        raise FormatError(f"{path}: not a BMO workbook (expected .xlsx or .csv)")
    try:
        df = read_table(path, sheet=sheet)
    except InputFileError as exc:
        raise FormatError(str(exc)) from exc
    cols = _find_columns(list(df.columns))
    missing = [k for k in _REQUIRED if k not in cols]
    if missing:
        raise FormatError(
            f"{path}: not a BMO table (missing column(s) for {missing}; found {list(df.columns)})"
        )
    file = path.name
    ledger = RowLedger()
    ledger.read(file, len(df))
    table = "hiring_intentions"

    def get(key: str) -> pd.Series:
        if key in cols:
            return (
                df[cols[key]]
                .astype(object)
                .where(df[cols[key]].notna(), "")
                .astype(str)
                .str.strip()
            )
        return pd.Series("", index=df.index, dtype=object)

    empty = df.isna().all(axis=1).to_numpy()
    if empty.any():
        ledger.reject(table, file, df.index[empty], "", [""] * int(empty.sum()), "empty row")
    df = df[~empty]
    f = {key: get(key) for key in _COLUMNS}
    code, bassin, dept, reg = f["code"], f["bassin"], f["dept"], f["reg"]
    # codes stored as numbers in some years: pad the numeric ones
    dept = dept.where(~dept.str.fullmatch(r"\d"), dept.str.zfill(2))
    reg = reg.where(~reg.str.fullmatch(r"\d"), reg.str.zfill(2))
    bassin_ok = check_pattern(bassin, r"\d{3,4}")
    bassin = bassin.where(~bassin_ok, bassin.str.zfill(4))

    years = f["year"]
    period = pd.to_numeric(years, errors="coerce")
    if period.isna().all():
        m = re.search(r"(20\d{2})", path.stem) or re.search(r"BE(\d{2})", cols["bassin"])
        guess = (
            int(m.group(1)) if m and len(m.group(1)) == 4 else 2000 + int(m.group(1)) if m else None
        )
        period = pd.Series(guess, index=df.index, dtype=float)

    checks = [
        (
            "code",
            ~check_pattern(code, _METIER_RX),
            "not a BMO métier code (FAP, e.g. A0Z40 or A0X40)",
        ),
        ("bassin", ~bassin_ok, "not a bassin code (3-4 digits)"),
        ("year", period.isna() | ~period.between(1990, 2100), "not a survey year"),
    ]
    if "dept" in cols:
        checks.append(("dept", ~check_pattern(dept, _DEPT_RX), "not a département code"))
    if "reg" in cols:
        checks.append(("reg", ~check_pattern(reg, _REG_RX), "not a région code (2016 map)"))
    values = {}
    for key, name in (("met", "projects"), ("xmet", "difficult"), ("smet", "seasonal")):
        if key in cols:
            v, bad = _numbers(df[cols[key]])
            values[name] = v
            checks.append((key, bad, "not a count (number >= 0 or '*')"))
        else:
            values[name] = pd.Series(np.nan, index=df.index)
    bad_any = np.zeros(len(df), dtype=bool)
    for key, mask, reason in checks:
        mask = np.asarray(mask, dtype=bool) & ~bad_any
        if mask.any():
            col = cols.get(key, key)
            ledger.reject(
                table,
                file,
                df.index[mask],
                col,
                df.loc[mask, col] if col in df else [""] * int(mask.sum()),
                reason,
            )
            bad_any |= mask
    keep = ~bad_any
    df, code, bassin, dept, reg, period = (x[keep] for x in (df, code, bassin, dept, reg, period))
    values = {k: v[keep] for k, v in values.items()}

    # territory of each row: the bassin, or the bassin part within a département
    n_dept = pd.Series(dept.to_numpy()).groupby(bassin.to_numpy()).transform("nunique").to_numpy()
    split = n_dept > 1
    territory = np.where(split, "BE" + bassin + "-" + dept, "BE" + bassin)
    hi = pd.DataFrame(
        {"territory": territory, "occupation": code, "period": period.astype("int64"), **values},
        index=df.index,
    )
    dup = hi.duplicated(["territory", "occupation", "period"], keep="first").to_numpy()
    if dup.any():
        keys = hi.loc[dup, ["territory", "occupation"]].agg("|".join, axis=1)
        ledger.reject(
            table, file, hi.index[dup], f"{cols['bassin']}+{cols['code']}", keys, "duplicate key"
        )
    hi = hi[~dup]
    sel = ~dup
    ledger.keep(file, len(hi))

    # territories
    f = {k: v[keep][sel] for k, v in f.items()}
    blabel, dlabel, rlabel = f["bassin_label"], f["dept_label"], f["reg_label"]
    bassin_s, dept_s, reg_s = bassin[sel], dept[sel], reg[sel]
    split_s = split[sel]
    has_dept = "dept" in cols
    has_reg = "reg" in cols
    b = pd.DataFrame(
        {
            "territory": hi["territory"].to_numpy(),
            "label": np.where(
                split_s, blabel + " (" + np.where(dlabel.ne(""), dlabel, dept_s) + ")", blabel
            ),
            "level": "bassin_emploi",
            "parent": dept_s.to_numpy() if has_dept else None,
            "code": bassin_s.to_numpy(),
            "bassin": bassin_s.to_numpy(),
        }
    )
    b["label"] = b["label"].where(b["label"].ne(""), "Bassin " + b["code"])
    parts = [b.drop_duplicates("territory")]
    if has_dept:
        d = pd.DataFrame(
            {
                "territory": dept_s.to_numpy(),
                "label": dlabel.to_numpy(),
                "level": "departement",
                "parent": ("R" + reg_s).to_numpy() if has_reg else "FR",
                "code": dept_s.to_numpy(),
                "bassin": None,
            }
        ).drop_duplicates("territory")
        d["label"] = d["label"].where(d["label"].ne(""), "Département " + d["code"])
        parts.append(d)
    if has_reg:
        r = pd.DataFrame(
            {
                "territory": ("R" + reg_s).to_numpy(),
                "label": rlabel.to_numpy(),
                "level": "region",
                "parent": "FR",
                "code": reg_s.to_numpy(),
                "bassin": None,
            }
        ).drop_duplicates("territory")
        r["label"] = r["label"].where(r["label"].ne(""), "Région " + r["code"])
        parts.append(r)
    parts.append(
        pd.DataFrame(
            {
                "territory": ["FR"],
                "label": ["France"],
                "level": ["nation"],
                "parent": [None],
                "code": ["FR"],
                "bassin": [None],
            }
        )
    )
    if not has_dept:
        parts[0]["parent"] = "FR"
    territories = pd.concat(parts, ignore_index=True)
    territories["parent"] = territories["parent"].astype(object)
    territories["bassin"] = (
        territories["bassin"].astype(object).where(territories["bassin"].notna(), None)
    )

    # occupations and their system
    years_set = sorted(set(hi["period"]))
    third = code.str[2]
    n_fap2021 = int(third.eq("X").sum())
    system = (
        "FAP2021"
        if (years_set and years_set[0] >= 2024) or n_fap2021 > len(code) / 2
        else "FAP2009"
    )
    occ = (
        pd.DataFrame(
            {
                "occupation": code[sel].to_numpy(),
                "label": f["label"].to_numpy(),
                "system": system,
                "parent": None,
                "bmo_family": f["family"].to_numpy(),
                "bmo_family_label": f["family_label"].to_numpy(),
            }
        )
        .drop_duplicates("occupation")
        .sort_values("occupation")
    )
    occ["label"] = occ["label"].where(occ["label"].ne(""), "Métier BMO " + occ["occupation"])
    occ = occ.reset_index(drop=True)

    masked = {name: int(v.isna().sum()) for name, v in values.items()}
    meta = {
        "source": str(path),
        "format": "bmo",
        "sheet": sheet,
        "year": years_set,
        "occupation_system": system,
        "columns": cols,
        "encoding": df.attrs.get("encoding"),
        "separator": df.attrs.get("sep"),
        "masked": masked,
        "split_bassins": sorted(set(bassin_s[split_s])),
        "row_accounting": ledger.checked_accounting(),
    }
    sources = {t: str(path) for t in ("hiring_intentions", "territories", "occupations")}
    return GpecData(
        territories=territories,
        occupations=occ,
        hiring_intentions=hi,
        sources=sources,
        rejected=ledger.frame(),
        meta=meta,
    )
