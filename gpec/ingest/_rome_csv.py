"""Files of the ROME open-data CSV export: archive or folder, decoding, CSV parsing, row checks.

Shared by the table readers of :mod:`gpec.ingest._rome` and :mod:`gpec.ingest._rome_skills`.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from gpec.ingest._errors import FormatError, RowLedger, check_pattern
from gpec.ingest._tables import nearby_files

_FILE_RX = re.compile(r"(?:.*/)?unix_(?P<table>[a-z_]+)_v(?P<version>[34]\d{2})_utf8\.csv$")
_ROME_RX = r"[A-Z]\d{4}"
_OGR_RX = r"\d{1,7}"

#: The 14 grands domaines of the ROME (same letters in v3 and 4.0).
GRANDS_DOMAINES = {
    "A": "Agriculture et Pêche, Espaces naturels et Espaces verts, Soins aux animaux",
    "B": "Arts et Façonnage d'ouvrages d'art",
    "C": "Banque, Assurance, Immobilier",
    "D": "Commerce, Vente et Grande distribution",
    "E": "Communication, Média et Multimédia",
    "F": "Construction, Bâtiment et Travaux publics",
    "G": "Hôtellerie-Restauration, Tourisme, Loisirs et Animation",
    "H": "Industrie",
    "I": "Installation et Maintenance",
    "J": "Santé",
    "K": "Services à la personne et à la collectivité",
    "L": "Spectacle",
    "M": "Support à l'entreprise",
    "N": "Transport et Logistique",
}

#: The 6 domaines de compétences of ROME 4.0 (``code_fonctionnel`` 1 to 6).
DOMAINES_COMPETENCES = {
    "1": "Management, Social, Soin",
    "2": "Communication, Création, Innovation, Nouvelles technologies",
    "3": "Production, Construction, Qualité, Logistique",
    "4": "Pilotage, Gestion, Cadre réglementaire",
    "5": "Développement économique",
    "6": "Coopération, Organisation et Développement de ses compétences",
}

_V4_ATTRS = [
    "code_ogr",
    "code_rome_parent",
    "transition_eco",
    "transition_num",
    "transition_demo",
    "emploi_reglemente",
    "emploi_cadre",
]


# --------------------------------------------------------------------------------------- files
class _Export:
    """The CSV files of one ROME export, in a folder or a zip archive."""

    def __init__(self, path: Path):
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            names = [
                str(p.relative_to(path)).replace(os.sep, "/")
                for p in path.rglob("*")
                if p.is_file()
            ]
        elif path.is_file() and zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            names = self._zip.namelist()
        elif path.exists():
            raise FormatError(
                f"{path}: not a ROME export (expected a folder or a .zip of "
                "unix_*_vNNN_utf8.csv files)"
            )
        else:
            raise FormatError(f"{path}: file or folder not found{nearby_files(path, folders=True)}")
        self.tables: dict[str, str] = {}
        versions = set()
        for name in sorted(names):
            m = _FILE_RX.match(name)
            if m:
                self.tables.setdefault(m["table"], name)
                if m["table"] == "referentiel_code_rome":
                    versions.add(m["version"])
        if not versions:
            raise FormatError(
                f"{path}: not a ROME export (no unix_referentiel_code_rome_vNNN_utf8.csv file)"
            )
        if len(versions) > 1:
            raise FormatError(f"{path}: several ROME versions in one export: {sorted(versions)}")
        self.version = versions.pop()
        self.others = sorted(n for n in names if not _FILE_RX.match(n))

    def raw(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(name)
        return (self.path / name).read_bytes()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _decode(raw: bytes, file: str, meta: dict) -> str:
    """Decode UTF-8; lines that are not valid UTF-8 are read as ISO-8859-15 and reported."""
    try:
        text = raw.decode("utf-8-sig")
        meta["encodings"][file] = "utf-8"
        return text
    except UnicodeDecodeError:
        pass
    lines = raw.split(b"\n")
    bad = []
    out = []
    for i, line in enumerate(lines, start=1):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode("iso-8859-15"))
            bad.append(i)
    meta["encodings"][file] = "utf-8 (iso-8859-15 fallback)"
    meta["encoding_fallbacks"][file] = {
        "encoding": "iso-8859-15",
        "lines": len(bad),
        "first_lines": bad[:10],
        "note": "not valid UTF-8: these lines were decoded as ISO-8859-15 (Latin-9)",
    }
    return "\n".join(out).lstrip("\ufeff")


def _csv(
    export: _Export, table: str, meta: dict, ledger: RowLedger, required: list[str]
) -> tuple[pd.DataFrame, str] | tuple[None, None]:
    """Read one table of the export (text cells, '' for empty; index = row in file)."""
    name = export.tables.get(table)
    if name is None:
        return None, None
    file = name.rsplit("/", 1)[-1]
    text = _decode(export.raw(name), file, meta)
    try:
        df = pd.read_csv(
            io.StringIO(text), sep=",", dtype=str, keep_default_na=False, quotechar='"'
        )
    except pd.errors.ParserError as exc:
        raise FormatError(f"{file}: not a readable ROME CSV file ({exc})") from exc
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise FormatError(f"{file}: missing column(s) {missing} (found {list(df.columns)})")
    df.index = pd.RangeIndex(2, 2 + len(df), name="row")
    for col in df.columns:
        s = df[col]
        if s.str.contains("''", regex=False).any():
            df[col] = s.str.replace("''", "'", regex=False)
    df = df.apply(lambda s: s.str.strip()) if len(df) else df
    meta["files"].append(file)
    ledger.read(file, len(df))
    return df, file


def _none(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as object with None for empty cells; numeric columns untouched."""
    df = df.copy()
    for col in df.columns:
        if not pd.api.types.is_numeric_dtype(df[col].dtype):
            s = df[col].astype(object)
            df[col] = s.where(s.notna() & s.ne(""), None)
    return df


def _drop(at: tuple, df: pd.DataFrame, mask, column: str, reason: str) -> pd.DataFrame:
    """Reject the rows of ``df`` under ``mask``; ``at`` = (ledger, table, file)."""
    ledger, table, file = at
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        ledger.reject(table, file, df.index[mask], column, df.loc[mask, column], reason)
    return df[~mask]


def _bad_code(at: tuple, df: pd.DataFrame, column: str, pattern: str, reason: str):
    """Reject the rows whose ``column`` does not fully match ``pattern``."""
    return _drop(at, df, ~check_pattern(df[column], pattern), column, reason)


def _dedupe(at: tuple, df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Reject the repeats of a key (the first row is kept)."""
    ledger, table, file = at
    dup = df.duplicated(subset=key, keep="first").to_numpy()
    if dup.any():
        cells = df.loc[dup, key].astype(object)
        vals = cells.where(cells.notna(), "").map(str).agg("|".join, axis=1)
        ledger.reject(table, file, df.index[dup], "+".join(key), vals, "duplicate key")
    return df[~dup]


def _labelled_codes(
    at: tuple,
    df: pd.DataFrame,
    code: str,
    label: str,
    pattern: str = _OGR_RX,
    reason: str = "not an OGR code (digits)",
) -> pd.DataFrame:
    """Reject the rows with a bad ``code``, an empty ``label`` or a repeated code."""
    df = _bad_code(at, df, code, pattern, reason)
    df = _drop(at, df, df[label].eq(""), label, "missing label")
    return _dedupe(at, df, [code])


def _parse_version(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            key, value = key.strip(), value.strip()
            if key and value and key not in out:
                out[key] = value
    return out
