"""Supply: qualified entrants of each training offer and their mapping to occupations
(by code first, then by text with :class:`gpec.supply.matching.OfferMatcher`)."""

from gpec._compat import module_getattr
from gpec.supply._entrants import ENTRANTS_COLUMNS, entrants, entrants_interval, mapping_quality

__all__ = ["ENTRANTS_COLUMNS", "entrants", "entrants_interval", "mapping_quality"]

__getattr__ = module_getattr("gpec.supply", {"apply_supply_scenarios": "gpec.scenarios"})
