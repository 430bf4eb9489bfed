"""Read a user table (CSV, Excel or Parquet) with codes kept as strings.

CSV files from French public bodies come in UTF-8, UTF-8 with BOM or cp1252/latin-1, with ``,``,
``;`` or tab separators: both are detected and recorded in ``df.attrs``. Every column is read as
text first so that codes such as "01", "0051" or "2A" keep their leading zeros; numeric columns are
converted later, by validation, which reports the rows it cannot convert.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from gpec.exceptions import InputFileError

__all__ = ["read_table", "detect_encoding", "detect_separator", "InputFileError"]

_ENCODINGS = ("utf-8-sig", "utf-8", "cp1252", "latin-1")


def detect_encoding(raw: bytes) -> str:
    """Return the first encoding of UTF-8 with BOM, UTF-8, cp1252, latin-1 that decodes ``raw``.

    A UTF-16 byte-order mark (Excel's "Unicode text") gives ``"utf-16"``. Pure ASCII bytes
    give ``"utf-8"``; bytes cp1252 leaves undefined (0x81, 0x8D...) give ``"latin-1"``, which
    decodes any byte.

    Parameters
    ----------
    raw : bytes
        The start of the file (or all of it).

    Returns
    -------
    str
        A Python codec name: ``"utf-8-sig"``, ``"utf-16"``, ``"utf-8"``, ``"cp1252"`` or
        ``"latin-1"``.

    Examples
    --------
    >>> detect_encoding("Métier".encode("cp1252"))
    'cp1252'
    >>> detect_encoding("Métier".encode("utf-8")), detect_encoding("Métier".encode("utf-8-sig"))
    ('utf-8', 'utf-8-sig')
    >>> detect_encoding(b"\\x81")
    'latin-1'
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" (UTF-16)
        return "utf-16"
    for enc in _ENCODINGS[1:]:
        try:
            raw.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    return "latin-1"  # pragma: no cover - latin-1 decodes every byte


def detect_separator(sample: str) -> str:
    """Return the most plausible field separator among ``;``, ``,``, tab and ``|``.

    The first 50 non-blank lines are given to :class:`csv.Sniffer`; when it cannot decide,
    the separator found most often in the first line wins, and ``","`` when none is there.

    Parameters
    ----------
    sample : str
        The start of the decoded file.

    Returns
    -------
    str
        One of ``";"``, ``","``, ``"\\t"``, ``"|"``.

    Examples
    --------
    >>> detect_separator("code;libelle\\n01;Ain\\n")
    ';'

    A semicolon file with decimal commas, then a single column (no separator at all):

    >>> detect_separator("code;taux\\n01;2,5\\n02;3,1\\n"), detect_separator("code\\n01\\n")
    (';', ',')
    """
    lines = [ln for ln in sample.splitlines() if ln.strip()][:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=";,\t|").delimiter
    except csv.Error:
        counts = {sep: lines[0].count(sep) for sep in (";", ",", "\t", "|")}
        return max(counts, key=counts.get) if max(counts.values()) else ","


def read_table(
    path: str | os.PathLike,
    *,
    sheet: str | int | None = None,
    dtype: dict | None = None,
    code_columns: list[str] | None = None,
    encoding: str | None = None,
    sep: str | None = None,
) -> pd.DataFrame:
    """Read a CSV, Excel (.xlsx) or Parquet table, keeping codes as strings.

    Parameters
    ----------
    path : str or path-like
        The file. The format follows the extension (.csv/.txt/.tsv, .xlsx/.xlsm, .parquet).
    sheet : str or int, optional
        Excel sheet (default: the first one).
    dtype : dict, optional
        Column -> dtype for columns that should not stay text (rarely needed: validation
        converts numbers).
    code_columns : list of str, optional
        Columns forced to text in Parquet files (CSV and Excel cells are always read as text).
    encoding, sep : str, optional
        Override the detected CSV encoding and separator.

    Returns
    -------
    DataFrame
        Text cells (empty cells are null), the index is the row as numbered in the file
        (header = row 1, first data row = 2; a blank line of a CSV file is counted, as a
        spreadsheet shows it, and left out: its number is in ``attrs["blank_lines"]``), named
        ``row``. ``attrs`` also records ``source``, ``format``, ``encoding`` and ``sep``.

    Raises
    ------
    InputFileError
        When the file is missing, empty or not a readable table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "dep.csv"
    >>> _ = p.write_bytes("code;libellé\\n01;Ain\\n2A;Corse-du-Sud\\n".encode("cp1252"))
    >>> df = read_table(p)
    >>> df["code"].tolist(), df.attrs["encoding"], df.attrs["sep"]
    (['01', '2A'], 'cp1252', ';')
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: file not found{nearby_files(path)}")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, expected a table file")
    suffix = path.suffix.lower()
    attrs: dict = {"source": str(path), "format": suffix.lstrip("."), "encoding": None, "sep": None}
    if suffix in (".xlsx", ".xlsm"):
        df = _read_excel(path, sheet)
    elif suffix in (".xls",):
        raise InputFileError(f"{path}: legacy .xls workbooks are not supported; save as .xlsx")
    elif suffix == ".parquet":
        try:
            df = pd.read_parquet(path)
        except ImportError as exc:  # no Parquet engine: say how to get one, on one line
            raise InputFileError(
                f"{path}: reading Parquet needs pyarrow: pip install 'gpec[parquet]'"
            ) from exc
        except Exception as exc:  # pyarrow raises many types; its text may span lines
            detail = " ".join(str(exc).split())[:200]
            raise InputFileError(
                f"{path}: not a readable Parquet file ({detail}); if pyarrow is missing: "
                "pip install 'gpec[parquet]'"
            ) from exc
        for col in code_columns or []:
            if col in df.columns:
                df[col] = (
                    df[col]
                    .astype(object)
                    .where(df[col].notna(), None)
                    .map(lambda v: v if v is None or isinstance(v, str) else str(v))
                )
    else:
        raw = path.read_bytes()
        if not raw.strip():
            raise InputFileError(f"{path}: file is empty")
        enc = encoding or detect_encoding(raw)
        if enc != "utf-16" and b"\x00" in raw[:4096]:
            raise InputFileError(f"{path}: not a text table (binary content)")
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{path}: cannot be read as {enc} text ({exc.reason})") from exc
        if enc == "cp1252" and encoding is None:
            # not UTF-8 as a whole: a UTF-8 file with rows added in Windows-1252 (two exports
            # pasted together) is read line by line, so that its UTF-8 part is not garbled
            mixed = _decode_mixed(raw)
            if mixed is not None:
                text, enc = mixed, "utf-8+cp1252"
        delim = sep or ("\t" if suffix == ".tsv" else detect_separator(text[:20000]))
        attrs.update(encoding=enc, sep=delim)
        try:
            df = pd.read_csv(
                io.StringIO(text),
                sep=delim,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skipinitialspace=False,
                skip_blank_lines=False,  # a blank line keeps its number (dropped below)
            )
        except pd.errors.ParserError as exc:
            raise InputFileError(f"{path}: not a readable CSV table ({exc})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    if dtype:
        df = df.astype(dtype)
    df.index = pd.RangeIndex(2, 2 + len(df), name="row")
    if attrs["sep"] is not None:
        df = _drop_blank_lines(df, text, attrs["sep"], attrs)
    df = df.astype(object).where(df.notna(), None) if len(df) else df
    df.attrs.update(attrs)
    return df


#: A UTF-8 encoded letter of the Latin-1 supplement (é = C3 A9) or another two-byte character.
_UTF8_PAIR = re.compile(rb"[\xc2-\xdf][\x80-\xbf]")


def _decode_mixed(raw: bytes) -> str | None:
    """The text of a file whose lines are UTF-8 or Windows-1252, each decoded its own way,
    when at least one line with accents is UTF-8 (else None: a plain Windows-1252 file)."""
    if not _UTF8_PAIR.search(raw):  # no UTF-8 accented letter anywhere: plain Windows-1252
        return None
    lines = raw.split(b"\n")
    out, utf8_accents = [], False
    for line in lines:
        try:
            text = line.decode("utf-8")
            utf8_accents |= not line.isascii()
        except UnicodeDecodeError:
            text = line.decode("cp1252", errors="replace")
        out.append(text)
    return "\n".join(out) if utf8_accents else None


def _drop_blank_lines(df: pd.DataFrame, text: str, sep: str, attrs: dict) -> pd.DataFrame:
    """Drop the rows that were blank lines of the CSV text, after numbering, so that the other
    rows keep the number the file (and a spreadsheet) shows; their numbers go to
    ``attrs["blank_lines"]``. A row of empty cells (``;;;``) is a row: it stays, for the
    checks to report."""
    attrs["blank_lines"] = []
    if not len(df) or not df.isna().all(axis=1).any():
        return df
    # csv gives [] for a blank line and ["", "", ""] for ";;", as pandas numbers its rows
    records = csv.reader(io.StringIO(text), delimiter=sep)
    next(records, None)  # the header
    blank = np.array([not rec for rec in records][: len(df)], dtype=bool)
    blank = np.concatenate([blank, np.zeros(len(df) - len(blank), dtype=bool)])
    blank &= df.isna().all(axis=1).to_numpy()
    attrs["blank_lines"] = [int(r) for r in df.index[blank]]
    return df[~blank] if blank.any() else df


def nearby_files(path: Path, folders: bool = False) -> str:
    """What the folder of a missing file holds that may be the file meant, for the message:
    ``" (the folder F has: a.csv, b.csv)"``, ``" (no folder F)"`` or ``""`` (``folders``: its
    sub-folders count too, for readers that take a folder).

    Examples
    --------
    >>> nearby_files(Path("/no/such/folder/employment.csv"))
    ' (no folder /no)'
    """
    folder = path.parent
    if not folder.is_dir():
        missing = folder
        while not missing.parent.is_dir() and missing.parent != missing:
            missing = missing.parent
        return f" (no folder {missing})"
    try:
        names = sorted(p.name for p in folder.iterdir() if folders or p.is_file())
    except OSError:  # pragma: no cover - unreadable folder
        return ""
    want = path.name.lower()
    close = [n for n in names if n.lower() == want]  # same name, other case
    close += [
        n for n in difflib.get_close_matches(path.name, names, n=3, cutoff=0.6) if n not in close
    ]
    if not close:
        same_kind = [n for n in names if Path(n).suffix.lower() == path.suffix.lower()]
        close = same_kind[:5]
    if not close:
        return ""
    listed = ", ".join(close)
    return f" (the folder {folder} has: {listed})"


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """Read one sheet of an .xlsx file as text, with openpyxl in read-only mode."""
    try:
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputFileError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            ws = wb.worksheets[sheet]
        else:
            if sheet not in wb.sheetnames:
                raise InputFileError(f"{path}: no sheet {sheet!r} (sheets: {wb.sheetnames})")
            ws = wb[sheet]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputFileError(f"{path}: sheet {ws.title!r} is empty")
        width = len(header)
        data = []
        for r in rows:
            r = list(r[:width]) + [None] * (width - len(r))
            data.append([_cell_text(v) for v in r])
    except InputFileError:
        raise
    except Exception as exc:  # a damaged workbook fails while its sheets are read
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise InputFileError(f"{path}: not a readable .xlsx workbook ({detail})") from exc
    finally:
        wb.close()
    cols = [str(h).strip() if h is not None else f"column_{i + 1}" for i, h in enumerate(header)]
    return pd.DataFrame(data, columns=cols, dtype=object)


def _cell_text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, str):
        return v if v.strip() else None
    return str(v)
