"""Read occupation crosswalks: DARES FAP <-> ROME, FAP <-> PCS, France Travail ROME <-> ISCO-08.

Supported layouts (detected from the content):

* ``fap225_rome.csv`` (DARES, ``;``, Latin-1): ``Fap;Rome;intitule_rome``, FAP 2009 <-> ROME v3;
* ``passage_fap2009_romev3.txt`` (DARES SAS ``proc format``, Latin-1): ``value $FAP9RSQ``
  (ROME v3 -> FAP 2009) and ``value $FAP9RAQ`` (ROME v3 + qualification digit -> FAP 2009);
* ``FAP_PCS.csv`` (DARES): ``Fap;PCS;intitule_PCS``, FAP 2009 <-> PCS 2003;
* ``Correspondance_ROME_ISCO08.xlsx`` (Pôle emploi): sheets ``ROME to ISCO-08`` and
  ``ISCO-08 to ROME``;
* any table with columns ``source_system, source, target_system, target[, weight]``, or two code
  columns whose names say the system (``ROME``, ``FAP``, ``PCS``, ``ISCO``), e.g. ``ROME,PCS``.

Weights: equal split over the targets of a source unless the file gives weights (normalised
to sum to 1). For the SAS table, a ROME code that needs the qualification gets an equal split
over the FAP reached by its qualification digits, and the exact ``ROME3Q`` rows are kept too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from gpec._data import GpecData
from gpec.ingest._errors import FormatError, RowLedger, read_source_table, require_file
from gpec.ingest._tables import detect_encoding, read_table
from gpec.referentials import CODE_PATTERNS, check_codes, make_crosswalk

__all__ = ["read_crosswalk"]

_SYSTEM_OF_HEADER = [
    (re.compile(r"^(code_?)?rome(_?v?3)?$", re.I), "ROME3"),
    (re.compile(r"^(code_?)?rome_?v?4$", re.I), "ROME4"),
    (re.compile(r"^(code_?)?fap(_?2009|225)?$", re.I), "FAP2009"),
    (re.compile(r"^(code_?)?fap_?2021$", re.I), "FAP2021"),
    (re.compile(r"^(code_?)?pcs(_?2003)?$", re.I), "PCS2003"),
    (re.compile(r"^(code_?)?pcs_?2020$", re.I), "PCS2020"),
    (re.compile(r"^(code_?)?isco(_?08)?$", re.I), "ISCO08"),
    (re.compile(r"^(code_?)?naf", re.I), "NAF2"),
]
_NA = {"", "NA", "N/A", "NaN", "nan", "-"}


def _system(header: str) -> str | None:
    h = re.sub(r"[^A-Za-z0-9]+", "_", str(header)).strip("_")
    for rx, system in _SYSTEM_OF_HEADER:
        if rx.match(h):
            return system
    return None


def _codes(values: pd.Series, system: str) -> pd.Series:
    """Codes as stripped text ("" for null); ISCO-08 codes of 1-3 digits padded to 4."""
    codes = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    if system == "ISCO08":
        codes = codes.where(~codes.str.fullmatch(r"\d{1,3}"), codes.str.zfill(4))
    return codes


class _Builder:
    """Collect (source_system, source, target_system, target, weight) links with accounting."""

    def __init__(self, ledger: RowLedger):
        self.ledger = ledger
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        df: pd.DataFrame,
        file: str,
        src: str,
        tgt: str,
        src_sys: str,
        tgt_sys: str,
        weight: str | None = None,
        both: bool = True,
    ) -> None:
        """``df`` indexed by row in file; rejects bad rows, adds links in one or two directions."""
        s, t = _codes(df[src], src_sys), _codes(df[tgt], tgt_sys)
        pairs = pd.DataFrame({"source": s, "target": t}, index=df.index)
        checks = [(s.isin(_NA) & t.isin(_NA), f"{src}+{tgt}", None, "empty row")]
        for codes, col, system in ((s, src, src_sys), (t, tgt, tgt_sys)):
            checks.append((codes.isin(_NA), col, codes, f"no {system} code (empty or NA)"))
            checks.append((~check_codes(codes, system), col, codes, f"not a {system} code"))
        if weight is not None:
            pairs["w"] = pd.to_numeric(df[weight], errors="coerce")
            bad = pairs["w"].isna() | (pairs["w"] < 0)
            checks.append((bad, weight, df[weight], "not a weight (number >= 0)"))
        dup = pairs.duplicated(["source", "target"], keep="first")
        shown = pairs["source"] + "|" + pairs["target"]
        checks.append((dup, f"{src}+{tgt}", shown, "duplicate pair"))
        ok = self.ledger.reject_in_turn("crosswalks", file, df.index, checks)
        pairs = pairs[ok]
        self.ledger.keep(file, len(pairs))
        w = "w" if weight is not None else None
        self.parts.append(
            make_crosswalk(pairs, weight=w, source_system=src_sys, target_system=tgt_sys)
        )
        if both:
            self.parts.append(
                make_crosswalk(
                    pairs,
                    source="target",
                    target="source",
                    weight=w,
                    source_system=tgt_sys,
                    target_system=src_sys,
                )
            )

    def frame(self) -> pd.DataFrame:
        cols = ["source_system", "source", "target_system", "target", "weight"]
        if not self.parts:
            return pd.DataFrame(columns=cols)
        out = pd.concat(self.parts, ignore_index=True)
        return out.sort_values(cols[:4], kind="mergesort").reset_index(drop=True)


# ------------------------------------------------------------------------------ SAS format
_SAS_LINE = re.compile(r'^\s*((?:"[^"]*"\s*,\s*)*"[^"]*")\s*=\s*"([^"]*)"\s*;?\s*$')
_SAS_VALUE = re.compile(r"^\s*value\s+\$?(\w+)", re.I)


def _read_sas(path: Path, ledger: RowLedger, builder: _Builder, meta: dict) -> None:
    """The DARES SAS ``proc format`` table: ROME v3 (``$FAP9RSQ``) and ROME v3 + qualification
    digit (``$FAP9RAQ``) -> FAP 2009, one line per target with its keys."""
    raw = path.read_bytes()
    enc = detect_encoding(raw)
    meta["encoding"] = enc
    file = path.name
    rows, unparsed = _sas_lines(raw.decode(enc))
    if not rows and not unparsed:
        raise FormatError(
            f"{path}: not a DARES SAS crosswalk (no 'value $FORMAT' statement with "
            '"code" = "code" lines)'
        )
    ledger.read(file, len(rows) + len(unparsed))
    for lineno, text in unparsed:
        ledger.reject("crosswalks", file, [lineno], "", [text[:80]], "unparsed SAS format line")
    links = _sas_links(rows, ledger, file)
    builder.parts.extend(
        _sas_crosswalks(pd.DataFrame(links, columns=["system", "source", "target"]))
    )
    meta["layout"] = "dares_sas_format"


def _sas_lines(text: str) -> tuple[list[tuple], list[tuple]]:
    """The ``"key", ... = "target"`` lines of the value statements, as (line, format, keys,
    target), and the lines that look like one but do not parse, as (line, text)."""
    fmt = None
    rows = []
    unparsed = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        m = _SAS_VALUE.match(line)
        if m:
            fmt = m.group(1).upper()
            continue
        if fmt is None or not line.strip().startswith('"'):
            continue  # comments, proc format, Other = "ZZZZZ", run;
        m = _SAS_LINE.match(line)
        if not m:
            unparsed.append((lineno, line.strip()))
            continue
        keys = re.findall(r'"([^"]*)"', m.group(1))
        rows.append((lineno, fmt, keys, m.group(2)))
    return rows, unparsed


def _sas_links(rows: list[tuple], ledger: RowLedger, file: str) -> list[tuple[str, str, str]]:
    """One (system, source, target) link per key; a line is the accounting unit (kept when its
    target and keys are valid)."""
    links = []
    for lineno, fmt, keys, target in rows:
        if fmt == "FAP9RSQ":
            src_sys = "ROME3"
        elif fmt == "FAP9RAQ":
            src_sys = "ROME3Q"
        else:
            ledger.reject(
                "crosswalks", file, [lineno], "value", [fmt], "SAS format not a ROME -> FAP table"
            )
            continue
        bad = [k for k in keys if not re.fullmatch(CODE_PATTERNS[src_sys], k)]
        if not re.fullmatch(CODE_PATTERNS["FAP2009"], target):
            ledger.reject("crosswalks", file, [lineno], "target", [target], "not a FAP2009 code")
        elif bad:
            ledger.reject(
                "crosswalks", file, [lineno], "source", [";".join(bad)], f"not a {src_sys} code"
            )
        else:
            ledger.keep(file, 1)
            links.extend((src_sys, k, target) for k in keys)
    return links


def _sas_crosswalks(df: pd.DataFrame) -> list[pd.DataFrame]:
    """ROME3 -> FAP2009 and ROME3Q -> FAP2009; a ROME code known only with its qualification
    digits also gets an equal split over the distinct FAP they reach."""
    rsq = df[df["system"] == "ROME3"]
    raq = df[df["system"] == "ROME3Q"]
    parts = []
    if len(rsq):
        parts.append(make_crosswalk(rsq, source_system="ROME3", target_system="FAP2009"))
    if len(raq):
        parts.append(make_crosswalk(raq, source_system="ROME3Q", target_system="FAP2009"))
        rome = raq.assign(rome=raq["source"].str[:5])
        rome = rome[~rome["rome"].isin(set(rsq["source"]))]
        rome = rome.drop_duplicates(["rome", "target"])
        parts.append(
            make_crosswalk(rome, source="rome", source_system="ROME3", target_system="FAP2009")
        )
    return parts


# ------------------------------------------------------------------------------------ main
def read_crosswalk(
    path: str | os.PathLike,
    *,
    direction: str = "both",
    source_system: str | None = None,
    target_system: str | None = None,
) -> GpecData:
    """Read a crosswalk file into the canonical ``crosswalks`` table.

    Parameters
    ----------
    path : str or path-like
        A DARES ``fap225_rome.csv``, ``FAP_PCS.csv``, ``passage_fap2009_romev3.txt``, the
        ``Correspondance_ROME_ISCO08.xlsx`` workbook, or a generic table (see module doc).
    direction : {"both", "forward"}, default "both"
        Also add the reverse links (target -> source, equal split over the sources of a
        target). The SAS table is one-way (ROME -> FAP) whatever this option.
    source_system, target_system : str, optional
        Systems of a generic two-column table whose headers do not name them.

    Returns
    -------
    GpecData
        ``crosswalks`` [source_system, source, target_system, target, weight] (weights of one
        source sum to 1), ``rejected`` (NA codes, invalid codes, duplicates) and ``meta``
        (layout, encoding, separator, row_accounting).

    Raises
    ------
    FormatError
        When the file is not a crosswalk this reader knows.

    Examples
    --------
    >>> data = read_crosswalk("fap225_rome.csv")  # doctest: +SKIP
    >>> data.crosswalks.query("source_system == 'ROME3'").head()  # doctest: +SKIP
    """
    if direction not in ("both", "forward"):
        raise ValueError("direction must be 'both' or 'forward'")
    both = direction == "both"
    path = Path(path)
    require_file(path, "a crosswalk file")
    ledger = RowLedger()
    builder = _Builder(ledger)
    meta: dict = {"source": str(path), "format": "crosswalk"}
    suffix = path.suffix.lower()
    head = path.read_bytes()[:20000]
    if suffix == ".txt" and re.search(rb"(?im)^\s*value\s+\$", head):
        _read_sas(path, ledger, builder, meta)
    elif suffix in (".xlsx", ".xlsm"):
        _read_rome_isco(path, ledger, builder, meta, both)
    else:
        df = read_source_table(path)
        meta.update(encoding=df.attrs.get("encoding"), separator=df.attrs.get("sep"))
        ledger.read(path.name, len(df))
        if {"source", "target"} <= set(df.columns):
            _add_generic(df, path, builder, meta, both, (source_system, target_system))
        else:
            _add_code_columns(df, path, builder, meta, both, (source_system, target_system))
    crosswalks = builder.frame()
    meta["row_accounting"] = ledger.checked_accounting()
    meta["system_pairs"] = sorted(
        {
            f"{a}->{b}"
            for a, b in zip(crosswalks["source_system"], crosswalks["target_system"], strict=True)
        }
    )
    return GpecData(
        crosswalks=crosswalks, sources={"crosswalks": str(path)}, rejected=ledger.frame(), meta=meta
    )


def _read_rome_isco(
    path: Path, ledger: RowLedger, builder: _Builder, meta: dict, both: bool
) -> None:
    """The Pôle emploi ROME <-> ISCO-08 workbook: one sheet per direction."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True)
        sheets = wb.sheetnames
        wb.close()
    except Exception as exc:
        raise FormatError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    if "ROME to ISCO-08" not in sheets:
        raise FormatError(
            f"{path}: not a known crosswalk workbook (no sheet 'ROME to ISCO-08'; sheets: {sheets})"
        )
    meta["layout"] = "rome_isco08"
    for sheet, src, tgt, s_sys, t_sys in (
        ("ROME to ISCO-08", "Code ROME", "Code ISCO08", "ROME3", "ISCO08"),
        ("ISCO-08 to ROME", "Code ISCO08", "Code ROME", "ISCO08", "ROME3"),
    ):
        if sheet not in sheets or (sheet != "ROME to ISCO-08" and not both):
            continue
        df = read_table(path, sheet=sheet)
        df = df.dropna(how="all")  # blank formatted rows are not data rows
        key = f"{path.name}[{sheet}]"
        ledger.read(key, len(df))
        for c in (src, tgt):
            if c not in df.columns:
                raise FormatError(f"{path}: sheet {sheet!r} has no column {c!r}")
        builder.add(df, key, src, tgt, s_sys, t_sys, both=False)


def _add_generic(
    df: pd.DataFrame, path: Path, builder: _Builder, meta: dict, both: bool, systems: tuple
) -> None:
    """A table with ``source`` and ``target`` columns (and ``weight``, ``source_system`` and
    ``target_system`` when given; else ``systems`` names them)."""
    meta["layout"] = "generic"
    cols = list(df.columns)
    weight = "weight" if "weight" in cols else None
    if "source_system" in cols and "target_system" in cols:
        for (ss, ts), part in df.groupby(["source_system", "target_system"], sort=True):
            builder.add(part, path.name, "source", "target", ss, ts, weight, both=False)
        return
    source_system, target_system = systems
    if not (source_system and target_system):
        raise FormatError(
            f"{path}: generic crosswalk without source_system/"
            "target_system columns: pass source_system= and "
            "target_system="
        )
    builder.add(df, path.name, "source", "target", source_system, target_system, weight, both=both)


def _add_code_columns(
    df: pd.DataFrame, path: Path, builder: _Builder, meta: dict, both: bool, systems: tuple
) -> None:
    """A table whose first two code columns name their system (``Fap;Rome``, ``ROME,PCS``...);
    ``systems`` overrides the systems read from the headers."""
    cols = list(df.columns)
    known = [(c, s) for c, s in ((c, _system(c)) for c in cols) if s]
    if len(known) < 2:
        raise FormatError(
            f"{path}: not a crosswalk (no two code columns such as "
            f"Fap;Rome, Fap;PCS, ROME,PCS; found {cols})"
        )
    (src, s_sys), (tgt, t_sys) = known[0], known[1]
    s_sys, t_sys = systems[0] or s_sys, systems[1] or t_sys
    meta["layout"] = f"{s_sys}-{t_sys}".lower()
    builder.add(df, path.name, src, tgt, s_sys, t_sys, both=both)
