"""Referentials: occupation and sector code systems, crosswalks, and harmonising a data bundle.

:mod:`gpec.referentials` checks codes against their system's pattern, builds, composes and
applies crosswalks (ROME <-> FAP <-> PCS, NAF -> occupation staffing matrices), and
:func:`gpec.referentials.harmonize.harmonize` brings every table of a :class:`gpec.GpecData`
bundle to one occupation system and level.
"""

from gpec.referentials._codes import (
    CODE_PATTERNS,
    apply_crosswalk,
    check_codes,
    compose_crosswalks,
    convert_code_lists,
    convert_profiles,
    make_crosswalk,
)

__all__ = [
    "CODE_PATTERNS",
    "apply_crosswalk",
    "check_codes",
    "compose_crosswalks",
    "convert_code_lists",
    "convert_profiles",
    "make_crosswalk",
]
