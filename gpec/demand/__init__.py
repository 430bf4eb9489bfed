"""Demand: openings (expansion + replacement from the age pyramid), skill needs, the
cross-check with hiring intentions (BMO), and the held-out check of the plan totals."""

from gpec._compat import module_getattr
from gpec.demand._ageing import (
    AGE_BANDS,
    DEFAULT_ENTRY_AGES,
    DEFAULT_EXIT_RATES,
    DEFAULT_PYRAMID,
    exit_rate_curve,
    parse_age_band,
)
from gpec.demand._heldout import HELDOUT_COLUMNS, heldout_plan_totals
from gpec.demand._hiring import compare_hiring_intentions
from gpec.demand._openings import openings, skill_needs
from gpec.demand._paths import OpeningsPaths

__all__ = [
    "AGE_BANDS",
    "DEFAULT_ENTRY_AGES",
    "DEFAULT_EXIT_RATES",
    "DEFAULT_PYRAMID",
    "HELDOUT_COLUMNS",
    "OpeningsPaths",
    "compare_hiring_intentions",
    "exit_rate_curve",
    "heldout_plan_totals",
    "openings",
    "parse_age_band",
    "skill_needs",
]

# Scenarios have their own stage now (gpec.scenarios); the old paths still work, with a warning.
__getattr__ = module_getattr(
    "gpec.demand",
    {"apply_scenarios": "gpec.scenarios", "run_scenarios": "gpec.scenarios"},
)
