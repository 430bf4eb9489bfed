"""Territories: the hierarchy (commune -> EPCI -> zone d'emploi -> département -> région),
aggregation up the tree, training catchments and the specialisation profile of each territory."""

from gpec.territory._territory import (
    EARTH_RADIUS_KM,
    LEVELS,
    TerritoryHierarchy,
    aggregate,
    ancestors,
    catchment,
    check_territories,
    haversine_km,
    profile,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "LEVELS",
    "TerritoryHierarchy",
    "aggregate",
    "ancestors",
    "catchment",
    "check_territories",
    "haversine_km",
    "profile",
]
