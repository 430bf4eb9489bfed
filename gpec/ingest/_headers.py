"""Header names compared loosely: accents, case, ligatures and punctuation do not matter."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["header_key"]


def header_key(name) -> str:
    """Lower-case ASCII key of a column name (non-alphanumerics -> ``_``).

    Examples
    --------
    >>> header_key("Demandes vœux 1"), header_key("Capacité carte scolaire")
    ('demandes_voeux_1', 'capacite_carte_scolaire')
    """
    text = str(name).replace("œ", "oe").replace("Œ", "OE")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
