"""Gaps: trained entrants allocated to openings within each site's catchment (a transport
problem solved with HiGHS), gaps per territory x occupation and per skill, reconversion paths."""

from gpec.gap._allocation import (
    Allocation,
    TransportSolution,
    allocate,
    lexicographic_weight,
    solve_transport,
)
from gpec.gap._gaps import skill_gaps, transitions, weighted_jaccard

__all__ = [
    "Allocation",
    "TransportSolution",
    "allocate",
    "lexicographic_weight",
    "skill_gaps",
    "solve_transport",
    "transitions",
    "weighted_jaccard",
]
