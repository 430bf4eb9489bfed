"""gpec: skills-needs forecasting for territories (GPEC).

Ingest job profiles, employment, age pyramids, hiring intentions and training offers; forecast
employment per territory x occupation; derive openings and skill needs; match the training offer;
report the skill gap per territory, with its uncertainty.
"""

from importlib import import_module

from gpec._data import GpecData
from gpec._schema import TABLES
from gpec.exceptions import ValidationError

__version__ = "0.1.0"

# Public names served lazily from their modules (as scikit-learn does), so that importing gpec
# stays fast and each stage is loaded only when used.
_LAZY = {
    # forecasting
    "Forecaster": "gpec.forecast",
    "reconcile": "gpec.forecast",
    # demand
    "openings": "gpec.demand",
    "skill_needs": "gpec.demand",
    # scenarios
    "apply_scenarios": "gpec.scenarios",
    "apply_supply_scenarios": "gpec.scenarios",
    "run_scenarios": "gpec.scenarios",
    # supply and matching
    "entrants": "gpec.supply",
    "entrants_interval": "gpec.supply",
    "mapping_quality": "gpec.supply",
    "OfferMatcher": "gpec.supply.matching",
    "build_profiles": "gpec.supply.matching",
    "normalize_text": "gpec.supply.matching",
    # territories
    "catchment": "gpec.territory",
    "aggregate": "gpec.territory",
    "ancestors": "gpec.territory",
    "profile": "gpec.territory",
    # allocation and gaps
    "allocate": "gpec.gap",
    "Allocation": "gpec.gap",
    "skill_gaps": "gpec.gap",
    "transitions": "gpec.gap",
    # referentials
    "apply_crosswalk": "gpec.referentials",
    "make_crosswalk": "gpec.referentials",
    "compose_crosswalks": "gpec.referentials",
    # data, pipeline, configuration
    "load_demo": "gpec.datasets",
    "read_table": "gpec.ingest",
    "run_pipeline": "gpec.pipeline",
    "Results": "gpec.report",
    "load_config": "gpec.config",
}

__all__ = ["GpecData", "TABLES", "ValidationError", "__version__", *_LAZY]


#: The packages in the order data flows through them (the import rank of each: a package
#: imports only from those before it; see docs/architecture.md). ``gpec.demand.openings`` works
#: after a plain ``import gpec`` (each is imported at its first use).
SUBPACKAGES = (
    "exceptions",
    "territory",
    "referentials",
    "ingest",
    "datasets",
    "forecast",
    "demand",
    "supply",
    "gap",
    "scenarios",
    "report",
    "config",
    "pipeline",
)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in SUBPACKAGES:
        return import_module(f"gpec.{name}")
    raise AttributeError(f"module 'gpec' has no attribute {name!r}")


def __dir__():
    return sorted([*__all__, *SUBPACKAGES])
