"""Deprecated path of :mod:`gpec.supply.matching` (text matching of offers to occupations)."""

from gpec._compat import module_getattr

__getattr__ = module_getattr(
    "gpec.matching",
    {
        n: "gpec.supply.matching"
        for n in ("FRENCH_STOP_WORDS", "OfferMatcher", "build_profiles", "normalize_text")
    },
)
