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
from pathlib import Path

import numpy as np
import pandas as pd

from gpec._data import GpecData
from gpec.ingest._errors import (
    FormatError,
    RowLedger,
    check_pattern,
    read_source_table,
    reader_data,
    require_file,
)
from gpec.ingest._headers import header_key

__all__ = ["read_bmo", "normalize_header"]

#: Lower-case ASCII header with non-alphanumerics as ``_`` (shared by the readers).
normalize_header = header_key

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
_TABLE = "hiring_intentions"


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
    sheet, df = _read_sheet(path, sheet)
    cols = _find_columns(list(df.columns))
    missing = [k for k in _REQUIRED if k not in cols]
    if missing:
        raise FormatError(
            f"{path}: not a BMO table (missing column(s) for {missing}; found {list(df.columns)})"
        )
    file = path.name
    ledger = RowLedger()
    ledger.read(file, len(df))
    empty = df.isna().all(axis=1).to_numpy()
    if empty.any():
        ledger.reject(_TABLE, file, df.index[empty], "", [""] * int(empty.sum()), "empty row")
    df = df[~empty]
    rows = _fields(df, cols)
    rows["period"] = _survey_years(rows["year"], path, cols)
    counts, count_checks = _counts(df, cols)
    keep = ledger.reject_in_turn(_TABLE, file, df.index, _row_checks(df, cols, rows, count_checks))
    rows, counts = rows[keep], {name: v[keep] for name, v in counts.items()}
    hi, kept = _hiring_intentions(rows, counts, ledger, file, cols)
    years = sorted(set(hi["period"]))
    system = _occupation_system(years, rows["code"])
    meta = {
        "source": str(path),
        "format": "bmo",
        "sheet": sheet,
        "year": years,
        "occupation_system": system,
        "columns": cols,
        "encoding": df.attrs.get("encoding"),
        "separator": df.attrs.get("sep"),
        "masked": {name: int(v.isna().sum()) for name, v in counts.items()},
        "split_bassins": sorted(set(kept.loc[kept["split"], "bassin"])),
    }
    return reader_data(
        path,
        ledger,
        meta,
        ("hiring_intentions", "territories", "occupations"),
        territories=_territories(kept, has_dept="dept" in cols, has_reg="reg" in cols),
        occupations=_occupations(kept, system),
        hiring_intentions=hi,
    )


def _read_sheet(path: Path, sheet: str | None) -> tuple[str | None, pd.DataFrame]:
    """The data sheet's name (None for a CSV file) and its table."""
    require_file(path, "a BMO workbook (.xlsx)")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        sheet = sheet or _data_sheet(path)
    elif suffix not in (".csv", ".txt"):
        raise FormatError(f"{path}: not a BMO workbook (expected .xlsx or .csv)")
    return sheet, read_source_table(path, sheet=sheet)


def _fields(df: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    """Every field of :data:`_COLUMNS` as stripped text ("" when absent), codes padded."""

    def text(key: str) -> pd.Series:
        if key not in cols:
            return pd.Series("", index=df.index, dtype=object)
        s = df[cols[key]]
        return s.astype(object).where(s.notna(), "").astype(str).str.strip()

    rows = pd.DataFrame({key: text(key) for key in _COLUMNS}, index=df.index)
    # codes stored as numbers in some years: pad the numeric ones
    for key, width, rx in (("dept", 2, r"\d"), ("reg", 2, r"\d"), ("bassin", 4, r"\d{3,4}")):
        rows[key] = rows[key].where(~check_pattern(rows[key], rx), rows[key].str.zfill(width))
    return rows


def _survey_years(years: pd.Series, path: Path, cols: dict[str, str]) -> pd.Series:
    """The survey year of each row; without a year column, the year in the file or column name."""
    period = pd.to_numeric(years, errors="coerce")
    if period.isna().all():
        m = re.search(r"(20\d{2})", path.stem) or re.search(r"BE(\d{2})", cols["bassin"])
        guess = (
            int(m.group(1)) if m and len(m.group(1)) == 4 else 2000 + int(m.group(1)) if m else None
        )
        period = pd.Series(guess, index=years.index, dtype=float)
    return period


_COUNTS = (("met", "projects"), ("xmet", "difficult"), ("smet", "seasonal"))


def _counts(df: pd.DataFrame, cols: dict[str, str]) -> tuple[dict[str, pd.Series], list]:
    """The three measures (null where masked or absent) and the checks of their cells."""
    values, checks = {}, []
    for key, name in _COUNTS:
        if key in cols:
            values[name], bad = _numbers(df[cols[key]])
            checks.append((key, bad, "not a count (number >= 0 or '*')"))
        else:
            values[name] = pd.Series(np.nan, index=df.index)
    return values, checks


def _row_checks(
    df: pd.DataFrame, cols: dict[str, str], rows: pd.DataFrame, count_checks: list
) -> list[tuple]:
    """The checks of a row, in order: métier, bassin, year, département, région, counts."""
    period = rows["period"]
    checks = [
        (
            "code",
            ~check_pattern(rows["code"], _METIER_RX),
            "not a BMO métier code (FAP, e.g. A0Z40 or A0X40)",
        ),
        ("bassin", ~check_pattern(rows["bassin"], r"\d{3,4}"), "not a bassin code (3-4 digits)"),
        ("year", period.isna() | ~period.between(1990, 2100), "not a survey year"),
    ]
    if "dept" in cols:
        checks.append(("dept", ~check_pattern(rows["dept"], _DEPT_RX), "not a département code"))
    if "reg" in cols:
        checks.append(("reg", ~check_pattern(rows["reg"], _REG_RX), "not a région code (2016 map)"))
    out = []
    for key, mask, reason in checks + count_checks:
        col = cols.get(key, key)
        out.append((mask, col, df[col] if col in df else None, reason))
    return out


def _hiring_intentions(
    rows: pd.DataFrame, counts: dict, ledger: RowLedger, file: str, cols: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hiring intentions of the checked rows, one per territory x métier x year, and those
    rows (with their ``territory`` and whether their bassin is ``split``)."""
    # territory of each row: the bassin, or the bassin part within a département
    bassin, dept = rows["bassin"], rows["dept"]
    n_dept = pd.Series(dept.to_numpy()).groupby(bassin.to_numpy()).transform("nunique").to_numpy()
    split = n_dept > 1
    territory = np.where(split, "BE" + bassin + "-" + dept, "BE" + bassin)
    hi = pd.DataFrame(
        {
            "territory": territory,
            "occupation": rows["code"],
            "period": rows["period"].astype("int64"),
            **counts,
        },
        index=rows.index,
    )
    dup = hi.duplicated(["territory", "occupation", "period"], keep="first").to_numpy()
    if dup.any():
        keys = hi.loc[dup, ["territory", "occupation"]].agg("|".join, axis=1)
        ledger.reject(
            _TABLE, file, hi.index[dup], f"{cols['bassin']}+{cols['code']}", keys, "duplicate key"
        )
    hi = hi[~dup]
    ledger.keep(file, len(hi))
    kept = rows.assign(territory=territory, split=split)[~dup]
    return hi, kept


def _territories(rows: pd.DataFrame, *, has_dept: bool, has_reg: bool) -> pd.DataFrame:
    """Bassins (or bassin parts) -> départements -> régions -> FR, from the kept rows."""
    blabel, dlabel, rlabel = rows["bassin_label"], rows["dept_label"], rows["reg_label"]
    bassin, dept, reg, split = rows["bassin"], rows["dept"], rows["reg"], rows["split"].to_numpy()
    b = pd.DataFrame(
        {
            "territory": rows["territory"].to_numpy(),
            "label": np.where(
                split, blabel + " (" + np.where(dlabel.ne(""), dlabel, dept) + ")", blabel
            ),
            "level": "bassin_emploi",
            "parent": dept.to_numpy() if has_dept else None,
            "code": bassin.to_numpy(),
            "bassin": bassin.to_numpy(),
        }
    )
    b["label"] = b["label"].where(b["label"].ne(""), "Bassin " + b["code"])
    parts = [b.drop_duplicates("territory")]
    if has_dept:
        parent = ("R" + reg).to_numpy() if has_reg else "FR"
        parts.append(_area(dept, dlabel, "departement", parent, "Département "))
    else:
        parts[0]["parent"] = "FR"
    if has_reg:
        parts.append(_area("R" + reg, rlabel, "region", "FR", "Région ", code=reg))
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
    territories = pd.concat(parts, ignore_index=True)
    territories["parent"] = territories["parent"].astype(object)
    territories["bassin"] = (
        territories["bassin"].astype(object).where(territories["bassin"].notna(), None)
    )
    return territories


def _area(territory, label, level, parent, unnamed, code=None) -> pd.DataFrame:
    """One row per département or région (label "<unnamed><code>" when the file has none)."""
    code = territory if code is None else code
    out = pd.DataFrame(
        {
            "territory": territory.to_numpy(),
            "label": label.to_numpy(),
            "level": level,
            "parent": parent,
            "code": code.to_numpy(),
            "bassin": None,
        }
    ).drop_duplicates("territory")
    out["label"] = out["label"].where(out["label"].ne(""), unnamed + out["code"])
    return out


def _occupation_system(years: list[int], codes: pd.Series) -> str:
    """FAP2021 from BMO 2024 on, or when most métier codes have the FAP 2021 ``X``."""
    n_fap2021 = int(codes.str[2].eq("X").sum())
    if (years and years[0] >= 2024) or n_fap2021 > len(codes) / 2:
        return "FAP2021"
    return "FAP2009"


def _occupations(rows: pd.DataFrame, system: str) -> pd.DataFrame:
    """The métiers BMO of the kept rows, with their family."""
    occ = (
        pd.DataFrame(
            {
                "occupation": rows["code"].to_numpy(),
                "label": rows["label"].to_numpy(),
                "system": system,
                "parent": None,
                "bmo_family": rows["family"].to_numpy(),
                "bmo_family_label": rows["family_label"].to_numpy(),
            }
        )
        .drop_duplicates("occupation")
        .sort_values("occupation")
    )
    occ["label"] = occ["label"].where(occ["label"].ne(""), "Métier BMO " + occ["occupation"])
    return occ.reset_index(drop=True)
