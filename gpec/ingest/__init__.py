"""Readers: user tables (CSV, Excel, Parquet) and official files (ROME, ESCO, BMO, LHEO, ...).

Each official reader returns a :class:`gpec.GpecData` holding the canonical tables it provides,
with a ``rejected`` table that accounts for every input row it did not keep.
"""

from importlib import import_module

from gpec.ingest._tables import (
    InputFileError,
    detect_encoding,
    detect_separator,
    read_table,
)

# name -> private module; imported on first use so a missing optional reader never breaks import
_LAZY = {
    "read_rome": "_rome",
    "read_esco": "_esco",
    "read_onet": "_esco",
    "read_bmo": "_bmo",
    "read_lheo": "_lheo",
    "read_crosswalk": "_crosswalk",
    "read_dares_series": "_dares",
    "read_insee_geography": "_geography",
    "read_urssaf": "_urssaf",
    "read_training_capacity": "_capacity",
    "read_nomenclature": "_capacity",
    "annual_cohorts": "_capacity",
    "family_codes": "_capacity",
    "departement_of_uai": "_capacity",
    "read_certifinfo": "_certifinfo",
    "link_certifications": "_certifinfo",
    "read_inserjeunes": "_inserjeunes",
    "outcome_rates": "_inserjeunes",
    "DEFAULT_OUTCOMES": "_inserjeunes",
    "FormatError": "_errors",
}

__all__ = ["InputFileError", "detect_encoding", "detect_separator", "read_table", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f"gpec.ingest.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'gpec.ingest' has no attribute {name!r}")
