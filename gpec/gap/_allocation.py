"""Allocation of entrants to openings: :func:`allocate` and its exact transportation solver.

The public names are re-exported by :mod:`gpec.gap`, which documents the conventions.

The allocation of qualified entrants to openings is a bipartite *transportation* problem: supply
nodes (one offer x occupation x period) send flow along arcs to demand nodes (one territory x
occupation x period) inside the offer site's catchment, never more than a node's capacity. The
objective is lexicographic — first the largest total flow, then the smallest total distance among
the largest flows — and is solved exactly as one linear programme per block with a single weighted
objective (see :func:`solve_transport`).

Blocks are the connected pieces the problem falls into by construction (one per occupation and
period); each is solved by HiGHS through :func:`scipy.optimize.linprog`, or in closed form when
it has a single supply or a single demand node (fill nearest first, which is exact there).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from gpec._checks import (
    as_codes,
    check_unique,
    fail_rows,
    int_periods,
    numeric_column,
    outside_stacklevel,
    require_columns,
)
from gpec._defaults import DEFAULTS
from gpec._hints import zeros_lookup
from gpec._schema import to_number
from gpec.exceptions import ValidationError
from gpec.gap._bounds import (
    PLAN_TOTAL_COLUMNS,
    cumulative_by_cell,
    cumulative_gap_columns,
    path_gap_bounds,
)

__all__ = ["Allocation", "allocate", "TransportSolution", "solve_transport", "lexicographic_weight"]

#: Flows below this value are set to zero (solver tolerance noise).
FLOW_EPS = 1e-9


@dataclass
class TransportSolution:
    """Result of :func:`solve_transport`.

    Attributes
    ----------
    flow : ndarray
        Flow on each arc (same order as the arcs given), >= 0, within every capacity.
    supply_used, demand_filled : ndarray
        Flow out of each supply node / into each demand node (clipped to the capacity).
    n_blocks, n_lp, n_closed_form : int
        Blocks with at least one arc; blocks solved by HiGHS; blocks solved in closed form.
    objective : float
        Sum over blocks of the weighted objective actually minimised (see :func:`solve_transport`).
    dual_gap : float
        Largest relative difference between the primal and the dual objective over the LP blocks
        (an optimality certificate that does not trust the solver's status alone).

    Examples
    --------
    >>> import numpy as np
    >>> sol = solve_transport(np.array([3.0]), np.array([2.0, 2.0]), np.array([0, 0]),
    ...                       np.array([0, 1]), np.array([0.0, 1000.0]), np.array([0, 0]))
    >>> sol.flow.tolist(), sol.supply_used.tolist(), sol.demand_filled.tolist()
    ([2.0, 1.0], [3.0], [2.0, 1.0])
    """

    flow: np.ndarray
    supply_used: np.ndarray
    demand_filled: np.ndarray
    n_blocks: int
    n_lp: int
    n_closed_form: int
    objective: float
    dual_gap: float


def lexicographic_weight(cost: np.ndarray, n_supply: int, n_demand: int) -> float:
    """Weight ``big`` that makes ``min sum (cost - big) x flow`` a lexicographic objective.

    With ``big > max(cost) * min(n_supply, n_demand)``, every augmenting path of the residual
    network has a negative weighted cost (it carries one more forward arc than backward arcs and at
    most ``min(n_supply, n_demand)`` forward arcs), so an optimum of the weighted objective is a
    maximum flow; among maximum flows the ``- big x total flow`` term is constant, so it is also a
    minimum-cost one. The returned value adds 1 to stay strictly above the bound.

    Parameters
    ----------
    cost : ndarray
        Cost of each arc, >= 0.
    n_supply, n_demand : int
        Number of supply and of demand nodes.

    Returns
    -------
    float
        ``max(cost) * (min(n_supply, n_demand) + 1) + 1``.

    Examples
    --------
    >>> lexicographic_weight(np.array([0.0, 2.0, 5.0]), n_supply=2, n_demand=3)
    16.0
    """
    cmax = float(np.max(cost)) if cost.size else 0.0
    return cmax * (min(n_supply, n_demand) + 1) + 1.0


def _greedy_single(caps_other: np.ndarray, cost: np.ndarray, total: float) -> np.ndarray:
    """Exact min-cost max-flow from one node with ``total`` units to sinks of capacity ``caps_other``.

    Filling the cheapest arcs first (ties broken by arc order) is optimal for one source.
    """
    order = np.lexsort((np.arange(cost.size), cost))
    caps = caps_other[order]
    before = np.cumsum(caps) - caps
    sent = np.clip(total - before, 0.0, caps)
    out = np.empty_like(sent)
    out[order] = sent
    return out


def _local_index(block: np.ndarray, node: np.ndarray, n_nodes: int):
    """Rank the distinct (block, node) pairs met by the arcs (arrays sorted by block).

    Returns the node and the block of each distinct pair, in (block, node) order, and the rank of
    each arc's pair; subtracting the rank of a block's first pair gives the node's index within
    its block.
    """
    key = block.astype(np.int64) * np.int64(n_nodes) + node.astype(np.int64)
    uniq, inv = np.unique(key, return_inverse=True)
    ublock = uniq // n_nodes
    unode = uniq % n_nodes
    return unode, ublock, inv


def solve_transport(
    supply_cap: np.ndarray,
    demand_cap: np.ndarray,
    arc_supply: np.ndarray,
    arc_demand: np.ndarray,
    arc_cost: np.ndarray,
    arc_block: np.ndarray,
    *,
    max_batch_arcs: int = 5_000,
    tie_break: bool = True,
) -> TransportSolution:
    """Solve a transportation problem block by block, maximum flow first then minimum cost.

    Parameters
    ----------
    supply_cap, demand_cap : ndarray of float
        Capacity of each supply node and each demand node (>= 0).
    arc_supply, arc_demand : ndarray of int
        End nodes of each arc (indices into the capacity arrays).
    arc_cost : ndarray of float
        Cost per unit of flow on each arc (>= 0), best as integers, e.g. the distance in metres.
    arc_block : ndarray of int
        Block of each arc. Arcs of different blocks must never share a node: each block is then
        an independent problem.
    max_batch_arcs : int, default 5_000
        Consecutive blocks are solved together, as one block-diagonal LP of about this many arcs
        (a block is never split): fewer solver calls, the same optimum. A batch of a single block
        with one supply or one demand node is solved in closed form (nearest first).
    tie_break : bool, default True
        Add ``rank / n`` (in [0, 1)) to the cost of the arcs into the demand node of rank ``rank``
        among the ``n`` demand nodes of its block. With integer costs (e.g. metres), this breaks
        ties between equally costly solutions without changing the cost optimum, and makes the
        flow into each demand node unique: it then never decreases when supplies grow.

    Returns
    -------
    TransportSolution

    Notes
    -----
    Each block minimises ``sum_a (cost_a - big_b) x flow_a`` subject to the node capacities, where
    ``big_b`` is the :func:`lexicographic_weight` of block ``b``. This single solve is exactly
    the lexicographic optimum (largest total flow, then smallest total cost), with the costs kept at
    their own scale so that the solver's tolerances apply to metres, not to a tiny epsilon.

    Why the tie-break gives a unique and monotone demand side: two optimal flows differ by
    zero-cost cycles of the residual network. A cycle that moves flow from demand node ``d'`` to
    ``d`` costs an integer plus ``tau_d - tau_d'`` with ``0 < |tau_d - tau_d'| < 1``, so it is
    never zero: all optima fill each demand node the same. When supplies grow, the successive
    shortest path argument reaches a new optimum by augmenting paths from the old one, which never
    lower the flow into a demand node; by uniqueness that is *the* new demand side.

    Examples
    --------
    >>> import numpy as np
    >>> sol = solve_transport(np.array([2.0]), np.array([1.0, 5.0]), np.array([0, 0]),
    ...                       np.array([0, 1]), np.array([10_000.0, 0.0]), np.array([0, 0]))
    >>> sol.flow.tolist()
    [0.0, 2.0]
    """
    supply_cap = np.asarray(supply_cap, dtype=float)
    demand_cap = np.asarray(demand_cap, dtype=float)
    arc_supply = np.asarray(arc_supply, dtype=np.int64)
    arc_demand = np.asarray(arc_demand, dtype=np.int64)
    arc_cost = np.asarray(arc_cost, dtype=float)
    arc_block = np.asarray(arc_block, dtype=np.int64)
    n_arcs = arc_supply.size
    flow = np.zeros(n_arcs)

    order = np.lexsort((arc_demand, arc_supply, arc_block))
    blk = arc_block[order]
    s_node, s_block, s_loc_arc = _local_index(blk, arc_supply[order], max(supply_cap.size, 1))
    d_node, d_block, d_loc_arc = _local_index(blk, arc_demand[order], max(demand_cap.size, 1))
    # local index within the block = global unique rank - rank of the block's first node
    b_values, b_start = np.unique(blk, return_index=True)
    b_end = np.append(b_start[1:], n_arcs)
    s_first = np.searchsorted(s_block, b_values)
    s_last = np.searchsorted(s_block, b_values, side="right")
    d_first = np.searchsorted(d_block, b_values)
    d_last = np.searchsorted(d_block, b_values, side="right")
    blk_pos = np.searchsorted(b_values, blk)
    cost_sorted = arc_cost[order]
    flow_sorted = np.zeros(n_arcs)

    n_s_blk = s_last - s_first
    n_d_blk = d_last - d_first
    if tie_break:  # + rank / n in [0, 1) for the demand node, by node order within the block
        cost_sorted = cost_sorted + (d_loc_arc - d_first[blk_pos]) / n_d_blk[blk_pos]
    # lexicographic weight of each block, broadcast to its arcs
    cmax = np.maximum.reduceat(cost_sorted, b_start) if n_arcs else np.zeros(0)
    big_blk = cmax * (np.minimum(n_s_blk, n_d_blk) + 1) + 1.0
    c_all = cost_sorted - big_blk[blk_pos]

    # batches of consecutive blocks (block-diagonal LPs): fewer solver calls, same optimum
    cum = np.cumsum(b_end - b_start)
    batch_of = (cum - 1) // max(int(max_batch_arcs), 1)
    # a block never splits: start a new batch where the batch number changes
    cut = np.flatnonzero(np.diff(batch_of)) + 1
    batches = np.split(np.arange(b_values.size), cut) if b_values.size else []

    n_lp = n_closed = 0
    dual_gap = 0.0
    for blocks in batches:
        b0, b1 = blocks[0], blocks[-1]
        a0, a1 = b_start[b0], b_end[b1]
        srow0, drow0 = s_first[b0], d_first[b0]
        scap = supply_cap[s_node[srow0 : s_last[b1]]]
        dcap = demand_cap[d_node[drow0 : d_last[b1]]]
        if scap.sum() <= 0 or dcap.sum() <= 0:
            continue
        c = c_all[a0:a1]
        n_s, n_d, n = scap.size, dcap.size, a1 - a0
        if b0 == b1 and n_s == 1:
            x = _greedy_single(dcap[d_loc_arc[a0:a1] - drow0], c, scap[0])
            n_closed += 1
        elif b0 == b1 and n_d == 1:
            x = _greedy_single(scap[s_loc_arc[a0:a1] - srow0], c, dcap[0])
            n_closed += 1
        else:
            ls = s_loc_arc[a0:a1] - srow0
            ld = d_loc_arc[a0:a1] - drow0
            cols = np.arange(n)
            a_ub = sp.csr_array(
                (np.ones(2 * n), (np.concatenate([ls, n_s + ld]), np.concatenate([cols, cols]))),
                shape=(n_s + n_d, n),
            )
            b_ub = np.concatenate([scap, dcap])
            res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
            if res.status != 0:  # pragma: no cover - a transportation LP is always feasible
                raise RuntimeError(f"HiGHS failed on allocation blocks {b0}-{b1}: {res.message}")
            x = res.x
            n_lp += 1
            # duality certificate: dual objective b'y with y <= 0, reduced costs c - A'y >= 0;
            # a valid lower bound even when some reduced costs are slightly negative, since
            # x_a <= min(supply, demand capacity) on every arc
            y = res.ineqlin.marginals
            red = c - a_ub.T @ y
            ub = np.minimum(scap[ls], dcap[ld])
            dual_obj = float(b_ub @ y) + float(np.minimum(red, 0.0) @ ub)
            dual_gap = max(dual_gap, abs(res.fun - dual_obj) / max(1.0, abs(res.fun)))
        flow_sorted[a0:a1] = np.where(x < FLOW_EPS, 0.0, x)
    objective = float(c_all @ flow_sorted)

    flow[order] = flow_sorted
    supply_used, demand_filled = _enforce_caps(flow, supply_cap, demand_cap, arc_supply, arc_demand)
    return TransportSolution(
        flow=flow,
        supply_used=supply_used,
        demand_filled=demand_filled,
        n_blocks=int(b_values.size),
        n_lp=n_lp,
        n_closed_form=n_closed,
        objective=objective,
        dual_gap=dual_gap,
    )


def _enforce_caps(flow, supply_cap, demand_cap, arc_supply, arc_demand):
    """Scale down nodes that exceed a capacity by solver tolerance; snap near-full nodes to full.

    Works in place on ``flow``; returns the flow out of each supply node and into each demand node,
    both guaranteed ``<= capacity``.
    """
    for node, cap in ((arc_supply, supply_cap), (arc_demand, demand_cap)):
        tot = np.bincount(node, weights=flow, minlength=cap.size)
        over = tot > cap
        if over.any():
            scale = np.ones(cap.size)
            scale[over] = cap[over] / tot[over]
            flow *= scale[node]
    supply_used = np.minimum(
        np.bincount(arc_supply, weights=flow, minlength=supply_cap.size), supply_cap
    )
    demand_filled = np.minimum(
        np.bincount(arc_demand, weights=flow, minlength=demand_cap.size), demand_cap
    )
    # nodes filled up to solver noise count as full
    for used, cap in ((supply_used, supply_cap), (demand_filled, demand_cap)):
        near = (cap - used) < FLOW_EPS
        used[near] = cap[near]
    return supply_used, demand_filled


GAPS_COLUMNS = [
    "territory", "occupation", "period", "openings", "entrants_allocated", "gap", "gap_share",
    "gap_lower", "gap_upper", "flag_small", "gap_cum", "gap_cum_lower", "gap_cum_upper",
]  # fmt: skip
SURPLUS_COLUMNS = ["offer", "site", "occupation", "period", "entrants", "allocated", "surplus"]


@dataclass(frozen=True)
class Allocation:
    """Result of :func:`allocate`.

    Attributes
    ----------
    gaps : DataFrame
        One row per territory x occupation x period of the openings table: territory, occupation,
        period, openings, entrants_allocated, gap, gap_share, gap_lower, gap_upper, flag_small
        (then employment and label columns when given).
    flows : DataFrame
        Non-zero flows: offer, site, territory, occupation, period, entrants, distance_km.
    surplus : DataFrame
        One row per offer x occupation x period: offer, site, occupation, period, entrants,
        allocated, surplus (= entrants - allocated); entrants repeat every period when the
        entrants table has no period column. Offers without an occupation (unmapped) are kept
        with occupation null and all their entrants in surplus.
    params : dict
        Options used and solver diagnostics: arcs, supply / demand nodes (and how many have no
        arc: offers whose site reaches no opening of their occupation, openings no offer
        reaches), blocks, LPs solved, closed-form blocks, duality gap, seconds.
    totals : DataFrame or None
        With openings paths: per period, the net openings and the gap summed over every cell
        and over the years from the first (the plan period): period, plan_period,
        net_openings (central: sum of the cells' ``openings_cum``), net_openings_median,
        net_openings_lower, net_openings_upper, gap (sum of ``gap_cum``), gap_median,
        gap_lower, gap_upper, level — medians and quantiles of those very sums over the
        paths, the bounds widened to contain the central figure. None without paths.

    Examples
    --------
    >>> import pandas as pd
    >>> op = pd.DataFrame({"territory": ["A", "B"], "occupation": "X", "period": 2030,
    ...                    "openings": [10.0, 5.0]})
    >>> en = pd.DataFrame({"offer": ["o1"], "site": ["A"], "occupation": ["X"],
    ...                    "entrants": [12.0]})
    >>> ca = pd.DataFrame({"site": "A", "territory": ["A", "B"], "distance_km": [0.0, 30.0]})
    >>> res = allocate(op, en, ca)
    >>> res.summary()[["period", "openings", "entrants_allocated", "gap", "surplus"]]
       period  openings  entrants_allocated  gap  surplus
    0    2030      15.0                12.0  3.0      0.0
    >>> res.flows[["offer", "territory", "entrants", "distance_km"]].values.tolist()
    [['o1', 'A', 10.0, 0.0], ['o1', 'B', 2.0, 30.0]]
    """

    gaps: pd.DataFrame
    flows: pd.DataFrame
    surplus: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    totals: pd.DataFrame | None = None

    def summary(self) -> pd.DataFrame:
        """Totals per period: openings, entrants, entrants_allocated, gap, gap_share, surplus.

        ``entrants_allocated`` is the same whether counted on the openings or on the offers
        side; ``gap_share`` is the total gap over the total openings.
        """
        g = self.gaps.groupby("period", sort=True)[["openings", "entrants_allocated", "gap"]].sum()
        s = self.surplus.groupby("period", sort=True)[["entrants", "surplus"]].sum()
        out = g.join(s, how="outer").fillna(0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["gap_share"] = np.where(out["openings"] > 0, out["gap"] / out["openings"], np.nan)
        cols = ["openings", "entrants", "entrants_allocated", "gap", "gap_share", "surplus"]
        return out[cols].reset_index()


# ---------------------------------------------------------------------------------------------
# input checks


def _code_index(columns: list[pd.Series]) -> pd.Index:
    """Sorted index of the distinct codes of several columns (hash first, then sort the few)."""
    return pd.Index(pd.unique(pd.concat(columns, ignore_index=True))).sort_values()


def _text_numbers(df: pd.DataFrame, table: str, column: str) -> np.ndarray:
    """The column as floats, numbers written the French way read ("12,5", "1 200"); missing
    values stay NaN; fail on a value that is not a number, naming row, column and value."""
    raw = df[column]
    values = to_number(raw).to_numpy(dtype=float)
    present = raw.notna().to_numpy()
    if not pd.api.types.is_numeric_dtype(raw.dtype):
        present = present & raw.astype("string").str.strip().fillna("").ne("").to_numpy()
    fail_rows(table, df, present & np.isnan(values), column, "not a number")
    return values


def _counts(df: pd.DataFrame, table: str, column: str, *, nonneg: bool) -> np.ndarray:
    """The column as floats, numbers written the French way read ("12,5", "1 200"); fail on
    text, missing values and (with ``nonneg``) negatives."""
    values = to_number(df[column]).to_numpy(dtype=float)
    return numeric_column(df, table, column, nonneg=nonneg, values=values)


def _prepare_openings(openings, employment, small_threshold):
    require_columns(openings, "openings", ["territory", "occupation", "period", "openings"])
    op = pd.DataFrame(
        {
            "territory": as_codes(openings["territory"]),
            "occupation": as_codes(openings["occupation"]),
            "period": openings["period"].to_numpy(),
        },
        index=openings.index,
    )
    for col in ("territory", "occupation", "period"):
        fail_rows("openings", op, op[col].isna().to_numpy(), col, "missing code")
    check_unique(op, "openings", ["territory", "occupation", "period"])
    raw = _counts(openings, "openings", "openings", nonneg=False)
    op["openings"] = np.maximum(raw, 0.0)
    for bound in ("lower", "upper"):
        if bound in openings.columns:
            v = _text_numbers(openings, "openings", bound)
            op[bound] = np.where(np.isnan(v), np.nan, np.maximum(v, 0.0))
        else:
            op[bound] = op["openings"].to_numpy()
    bad_lo = op["lower"].to_numpy() > op["openings"].to_numpy() + 1e-9
    bad_hi = op["upper"].to_numpy() < op["openings"].to_numpy() - 1e-9
    fail_rows("openings", openings, bad_lo, "lower", "lower bound above openings")
    fail_rows("openings", openings, bad_hi, "upper", "upper bound below openings")
    if employment is not None:
        require_columns(employment, "employment", ["territory", "occupation", "value"])
        key = ["territory", "occupation"] + (["period"] if "period" in employment.columns else [])
        emp = employment[key].copy()
        emp["territory"] = as_codes(emp["territory"])
        emp["occupation"] = as_codes(emp["occupation"])
        emp["employment"] = _text_numbers(employment, "employment", "value")
        check_unique(emp, "employment", key)
        op = op.reset_index(drop=True).merge(emp, on=key, how="left")
    elif "employment" in openings.columns:
        op["employment"] = _text_numbers(openings, "openings", "employment")
    if small_threshold is not None and "employment" in op.columns:
        emp_known = op["employment"].notna().to_numpy()
        small = op["employment"].to_numpy(dtype=float) < small_threshold
        # unknown employment: the flag is unknown too (null), never a silent False
        op["flag_small"] = pd.array(np.where(emp_known, small, False), dtype="boolean")
        op.loc[~emp_known, "flag_small"] = pd.NA
    elif small_threshold is not None:
        op["flag_small"] = pd.array([pd.NA] * len(op), dtype="boolean")
    else:
        op["flag_small"] = False
    for col in ("territory_label", "occupation_label"):
        if col in openings.columns:
            op[col] = openings[col].to_numpy()
    # canonical order: the same problem (whatever the row order) gives the same LP
    op = op.sort_values(["period", "territory", "occupation"], kind="stable")
    return op.reset_index(drop=True)


def _prepare_entrants(entrants):
    require_columns(entrants, "entrants", ["offer", "site", "occupation", "entrants"])
    has_period = "period" in entrants.columns
    en = pd.DataFrame(
        {
            "offer": as_codes(entrants["offer"]),
            "site": as_codes(entrants["site"]),
            "occupation": as_codes(entrants["occupation"]),
        },
        index=entrants.index,
    )
    if has_period:
        en["period"] = entrants["period"].to_numpy()
        fail_rows("entrants", en, en["period"].isna().to_numpy(), "period", "missing period")
    fail_rows("entrants", en, en["offer"].isna().to_numpy(), "offer", "missing code")
    en["entrants"] = _counts(entrants, "entrants", "entrants", nonneg=True)
    values = ["entrants"]
    if {"entrants_low", "entrants_high"} <= set(entrants.columns):
        # a supply interval (gpec.supply.entrants_interval): allocated again at both ends
        values += ["entrants_low", "entrants_high"]
        for col in values[1:]:
            en[col] = _counts(entrants, "entrants", col, nonneg=True)
        x = en["entrants"].to_numpy()
        tol = 1e-9 * np.maximum(1.0, x)
        bad_lo = en["entrants_low"].to_numpy() > x + tol
        bad_hi = en["entrants_high"].to_numpy() < x - tol
        fail_rows("entrants", entrants, bad_lo, "entrants_low", "low value above entrants")
        fail_rows("entrants", entrants, bad_hi, "entrants_high", "high value below entrants")
    if "share" in entrants.columns:
        _check_shares(entrants, en, has_period)
    mapped = en["occupation"].notna().to_numpy()
    fail_rows("entrants", en, mapped & en["site"].isna().to_numpy(), "site", "missing site")
    key = ["offer", "site", "occupation"] + (["period"] if has_period else [])
    # several rows of one offer x occupation (e.g. a code and a text match) add up
    sup = en[mapped].groupby(key, as_index=False, sort=True, dropna=False)[values].sum()
    unmapped = (
        en[~mapped]
        .groupby([k for k in key if k != "occupation"], as_index=False, sort=True, dropna=False)[
            "entrants"
        ]
        .sum()
    )
    return sup, unmapped, has_period


def _check_shares(entrants: pd.DataFrame, en: pd.DataFrame, has_period: bool) -> None:
    """Fail when the shares of an offer's seats sum above 1: a row given twice (a table
    concatenated with itself) would otherwise count its entrants twice. The row named is the
    first whose share takes the running sum of its offer above 1 (the repeated one)."""
    share = to_number(entrants["share"]).fillna(0.0).to_numpy(dtype=float)
    key = ["offer"] + (["period"] if has_period else [])
    groups = pd.Series(share).groupby([en[k].to_numpy() for k in key], dropna=False)
    running = groups.cumsum().to_numpy(dtype=float)
    bad = running > 1.0 + 1e-6
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        total = groups.transform("sum").to_numpy(dtype=float)[pos]
        fail_rows(
            "entrants",
            entrants,
            bad,
            "share",
            f"the shares of offer {en['offer'].iloc[pos]!r} sum to {total:g}, above 1 from "
            "this row on (a row given twice?)",
        )


def _code_warnings(op: pd.DataFrame, sup: pd.DataFrame, ca: pd.DataFrame) -> None:
    """Warn about codes that cannot meet: entrants at sites the catchment does not list, and
    codes that are the catchment's codes without their leading zeros (``1`` for ``"01"``, as
    a spreadsheet or an integer column writes them)."""

    def zero_hints(values, known, what: str) -> str:
        known = {str(k) for k in known}
        lookup = zeros_lookup(known)
        pairs = [
            (v, lookup[str(v).lstrip("0")])
            for v in dict.fromkeys(values)
            if v not in known and str(v).isdigit() and str(v).lstrip("0") in lookup
        ]
        if not pairs:
            return ""
        shown = ", ".join(f"{v!r} is {k!r} of the catchment" for v, k in pairs[:3])
        more = f" and {len(pairs) - 3} more" if len(pairs) > 3 else ""
        return (
            f"{what} {shown}{more}, but for the leading zero(s): codes are text; "
            "read the file with dtype=str or gpec.read_table"
        )

    hint = zero_hints(op["territory"], ca["territory"], "openings: territory")
    if hint:
        warnings.warn(hint, UserWarning, stacklevel=outside_stacklevel())
    sites = sup["site"].dropna()
    away = list(dict.fromkeys(sites[~sites.isin(set(ca["site"]))]))
    if away:
        shown = ", ".join(repr(s) for s in away[:5]) + (", ..." if len(away) > 5 else "")
        hint = zero_hints(away, ca["site"], "; site")
        warnings.warn(
            f"entrants: site(s) {shown} of {int(sites.isin(away).sum())} offer x occupation "
            f"row(s) not in the catchment: their entrants reach no opening (surplus){hint}",
            UserWarning,
            stacklevel=outside_stacklevel(),
        )


def _prepare_catchment(catchment):
    require_columns(catchment, "catchment", ["site", "territory"])
    ca = pd.DataFrame(
        {"site": as_codes(catchment["site"]), "territory": as_codes(catchment["territory"])},
        index=catchment.index,
    )
    for col in ("site", "territory"):
        fail_rows("catchment", ca, ca[col].isna().to_numpy(), col, "missing code")
    check_unique(ca, "catchment", ["site", "territory"])
    if "distance_km" in catchment.columns:
        d = _text_numbers(catchment, "catchment", "distance_km")
        fail_rows("catchment", catchment, d < 0, "distance_km", "negative distance")
        # arcs without a distance (e.g. same-parent catchments without centroids) are all
        # equally near: cost 0
        ca["distance_km"] = np.where(np.isnan(d), 0.0, d)
    else:
        ca["distance_km"] = 0.0
    return ca.sort_values(["site", "territory"], kind="stable").reset_index(drop=True)


def _by_cell(openings: pd.DataFrame, op: pd.DataFrame, column: str) -> np.ndarray:
    """``openings[column]`` in the row order of the prepared openings ``op``."""
    src = pd.MultiIndex.from_arrays(
        [as_codes(openings["territory"]), as_codes(openings["occupation"]), openings["period"]]
    )
    dst = pd.MultiIndex.from_arrays([op["territory"], op["occupation"], op["period"]])
    pos = src.get_indexer(dst)
    vals = pd.to_numeric(openings[column], errors="coerce").to_numpy(dtype=float)
    return np.where(pos >= 0, vals[np.maximum(pos, 0)], np.nan)


def _repeat_per_period(table: pd.DataFrame, periods: pd.Index) -> pd.DataFrame:
    """``table`` repeated once per period, with a ``period`` column (period-major order)."""
    n = len(table)
    out = table.loc[np.tile(np.arange(n), len(periods))].reset_index(drop=True)
    out["period"] = np.repeat(periods.to_numpy(), n)
    return out


def _year_periods(table, name: str):
    """``table`` with its periods as int years when they are years written another way
    (``2030.0``, ``"2030"``, an annual Period, 1 January), so that the tables' periods meet;
    other periods (quarters, months) are kept as they are."""
    if not isinstance(table, pd.DataFrame) or "period" not in table.columns or not len(table):
        return table
    s = table["period"]
    if pd.api.types.is_integer_dtype(s.dtype):
        return table
    try:
        years = int_periods(s, name)
    except ValidationError:
        return table
    return table.assign(period=years.to_numpy())


def _align_periods(op: pd.DataFrame, sup: pd.DataFrame, unmapped: pd.DataFrame, has_period: bool):
    """The sorted periods, and the supply tables with one row per period when undated."""
    periods = pd.Index(pd.unique(op["period"])).sort_values()
    if has_period:
        dated = pd.Index(pd.unique(sup["period"]))
        try:
            periods = periods.union(dated).sort_values()
        except TypeError:  # "2030Q1" and 2030 cannot be compared
            raise ValidationError(
                f"entrants: periods such as {dated[0]} are not of the kind of the openings' "
                f"periods (such as {op['period'].iloc[0]}): give both as years"
            ) from None
        if len(op) and len(dated) and not dated.isin(op["period"]).any():
            warnings.warn(
                f"entrants: no period in common with the openings (entrants: "
                f"{', '.join(map(str, dated[:5]))}; openings: "
                f"{', '.join(map(str, pd.unique(op['period'])[:5]))}): no entrant is allocated",
                UserWarning,
                stacklevel=outside_stacklevel(),
            )
    else:  # the same entrants every period
        sup = _repeat_per_period(sup, periods)
        if len(unmapped):
            unmapped = _repeat_per_period(unmapped, periods)
    return periods, sup, unmapped


def _build_arcs(op: pd.DataFrame, sup: pd.DataFrame, ca: pd.DataFrame, periods: pd.Index):
    """Arcs supply node -> demand node: each supply node x catchment territory of its site,
    kept where a demand node (same territory, occupation, period) exists.

    Returns arc_sup, arc_dem (row positions in ``sup`` and ``op``), arc_dist (km) and
    arc_block (occupation x period block of each arc).
    """
    terr = _code_index([op["territory"], ca["site"], ca["territory"], sup["site"]])
    occ = _code_index([op["occupation"], sup["occupation"]])
    n_occ, n_per = len(occ), max(len(periods), 1)

    d_terr = terr.get_indexer(op["territory"]).astype(np.int64)
    d_occ = occ.get_indexer(op["occupation"]).astype(np.int64)
    d_per = periods.get_indexer(op["period"]).astype(np.int64)
    d_key = (d_terr * n_occ + d_occ) * n_per + d_per
    s_site = terr.get_indexer(sup["site"]).astype(np.int64)
    s_occ = occ.get_indexer(sup["occupation"]).astype(np.int64)
    s_per = periods.get_indexer(sup["period"]).astype(np.int64)

    c_site = terr.get_indexer(ca["site"]).astype(np.int64)
    c_terr = terr.get_indexer(ca["territory"]).astype(np.int64)
    c_order = np.argsort(c_site, kind="stable")
    c_site, c_terr = c_site[c_order], c_terr[c_order]
    c_dist = ca["distance_km"].to_numpy(dtype=float)[c_order]
    start = np.searchsorted(c_site, s_site)
    count = np.searchsorted(c_site, s_site, side="right") - start
    arc_sup = np.repeat(np.arange(len(sup), dtype=np.int64), count)
    offs = np.arange(arc_sup.size) - np.repeat(np.cumsum(count) - count, count)
    c_idx = np.repeat(start, count) + offs
    a_key = (c_terr[c_idx] * n_occ + s_occ[arc_sup]) * n_per + s_per[arc_sup]
    d_index = pd.Index(d_key)
    arc_dem = d_index.get_indexer(a_key)
    keep = arc_dem >= 0
    arc_sup, arc_dem, c_idx = arc_sup[keep], arc_dem[keep].astype(np.int64), c_idx[keep]
    arc_dist = c_dist[c_idx]
    arc_block = s_occ[arc_sup] * n_per + s_per[arc_sup]
    return arc_sup, arc_dem, arc_dist, arc_block


def _path_cum_bounds(gaps, openings, op, alloc_lo, alloc_hi, openings_paths) -> pd.DataFrame:
    """Replace the cumulative gap bounds by quantiles over the openings' sample paths.

    Per year the yearly rule is already the quantile of the paths' gaps (max(0, x - A) is
    monotone); summed over years, quantiles of the summed gaps, never below what the
    cumulative openings bound implies (sum of max(0, x) >= max(0, sum of x)). Edits ``gaps``;
    returns the plan-period totals (see :func:`_plan_totals`).
    """
    pb = path_gap_bounds(
        gaps, alloc_lo, alloc_hi, openings_paths, alloc=gaps["entrants_allocated"].to_numpy()
    )
    has = ~np.isnan(pb["gap_cum_upper"])
    mid = gaps["gap_cum"].to_numpy(dtype=float)
    if "openings_cum_lower" in openings.columns:
        ocl = _by_cell(openings, op, "openings_cum_lower")
        (cum_hi,) = cumulative_by_cell(gaps, alloc_hi)
        pb["gap_cum_lower"] = np.fmax(pb["gap_cum_lower"], np.maximum(ocl - cum_hi, 0.0))
    low = np.fmin(pb["gap_cum_lower"], mid)
    gaps["gap_cum_lower"] = np.where(has, low, gaps["gap_cum_lower"])
    gaps["gap_cum_upper"] = np.where(has, np.fmax(pb["gap_cum_upper"], mid), gaps["gap_cum_upper"])
    return _plan_totals(pb["totals"], gaps, openings, op, has)


def _plan_totals(totals, gaps, openings, op, has) -> pd.DataFrame:
    """The openings and the gap summed over every cell and over the plan period: central
    figures, the paths' medians and bounds.

    The paths' totals (quantiles of the sums) plus, for cells without a path, their own
    cumulative bounds (added as if they moved with the rest; floored at 0 for the openings to
    fill) and central figures (added to the medians); the central totals (sums of
    ``openings_cum`` and ``gap_cum``) are kept inside the bounds.
    """
    t = totals.set_index("period")
    per = gaps["period"].to_numpy()
    gap_cum = gaps["gap_cum"].to_numpy(dtype=float)
    rest = pd.DataFrame(
        {
            "period": per[~has],
            "gap_median": gap_cum[~has],
            "gap_lower": gaps["gap_cum_lower"].to_numpy(dtype=float)[~has],
            "gap_upper": gaps["gap_cum_upper"].to_numpy(dtype=float)[~has],
        }
    )
    (fill_cum,) = cumulative_by_cell(gaps, gaps["openings"])
    for col in ("openings_to_fill_median", "openings_to_fill_lower", "openings_to_fill_upper"):
        rest[col] = fill_cum[~has]
    central = pd.DataFrame({"period": per, "openings_to_fill": fill_cum, "gap": gap_cum})
    net_cum = _by_cell(openings, op, "openings_cum") if "openings_cum" in openings.columns else None
    if "openings_cum_lower" in openings.columns:
        rest["net_openings_median"] = net_cum[~has]
        for end, keep in (("lower", np.fmin), ("upper", np.fmax)):
            net = _by_cell(openings, op, f"openings_cum_{end}")[~has]
            rest[f"net_openings_{end}"] = net
            # the openings to fill: the same bounds floored at 0, around the cell's own central
            # figure (negative yearly openings count as 0 there, not in the net openings)
            rest[f"openings_to_fill_{end}"] = keep(np.maximum(net, 0.0), fill_cum[~has])
    if net_cum is not None:
        central["net_openings"] = net_cum
    add = rest.groupby("period").sum(min_count=1).reindex(t.index).fillna(0.0)
    for col in add.columns:
        t[col] = t[col] + add[col]
    mid = central.groupby("period").sum().reindex(t.index)
    for col in mid.columns:
        t[col] = mid[col]
        t[f"{col}_lower"] = np.fmin(t[f"{col}_lower"], mid[col])
        t[f"{col}_upper"] = np.fmax(t[f"{col}_upper"], mid[col])
    out = t.reset_index()
    return out[[c for c in PLAN_TOTAL_COLUMNS if c in out.columns]]


def _gap_table(op, openings, cap, gap, alloc_lo, alloc_hi, interval, openings_paths):
    """The gaps table: the prepared openings (edited in place) with the allocation, the gap,
    its share and its yearly and cumulative bounds."""
    alloc = cap - gap
    gaps = op
    gaps["entrants_allocated"] = alloc
    gaps["gap"] = gap
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps["gap_share"] = np.where(cap > 0, gap / np.where(cap > 0, cap, 1.0), np.nan)
    lo, hi = gaps["lower"].to_numpy(dtype=float), gaps["upper"].to_numpy(dtype=float)
    gaps["gap_lower"] = np.minimum(np.maximum(lo - alloc_hi, 0.0), gap)
    gaps["gap_upper"] = np.maximum(np.maximum(hi - alloc_lo, 0.0), gap)
    gaps.loc[np.isnan(lo), "gap_lower"] = np.nan
    gaps.loc[np.isnan(hi), "gap_upper"] = np.nan
    gaps = gaps.assign(**cumulative_gap_columns(gaps))
    totals = None
    if openings_paths is not None:
        totals = _path_cum_bounds(gaps, openings, op, alloc_lo, alloc_hi, openings_paths)
    if interval:
        gaps["entrants_allocated_low"] = alloc_lo
        gaps["entrants_allocated_high"] = alloc_hi
    extra = [
        c
        for c in (
            "entrants_allocated_low",
            "entrants_allocated_high",
            "employment",
            "territory_label",
            "occupation_label",
        )
        if c in gaps.columns
    ]
    return gaps[GAPS_COLUMNS + extra], totals  # already in (period, territory, occupation) order


def _flow_table(sol, arc_sup, arc_dem, arc_dist, sup, op) -> pd.DataFrame:
    """One row per arc carrying entrants, in (period, occupation, offer, site, territory) order."""
    on = sol.flow > 0
    fa_sup, fa_dem = arc_sup[on], arc_dem[on]
    flows = pd.DataFrame(
        {
            "offer": sup["offer"].array.take(fa_sup),
            "site": sup["site"].array.take(fa_sup),
            "territory": op["territory"].array.take(fa_dem),
            "occupation": sup["occupation"].array.take(fa_sup),
            "period": sup["period"].array.take(fa_sup),
            "entrants": sol.flow[on],
            "distance_km": arc_dist[on],
        }
    )
    flows = flows.sort_values(["period", "occupation", "offer", "site", "territory"])
    return flows.reset_index(drop=True)


def _surplus_table(sup, unmapped, sol) -> pd.DataFrame:
    """Entrants not allocated per supply node; unmapped offers keep all their entrants."""
    surplus = sup[["offer", "site", "occupation", "period", "entrants"]].copy()
    surplus["allocated"] = sol.supply_used
    surplus["surplus"] = surplus["entrants"] - surplus["allocated"]
    if len(unmapped):
        um = unmapped.assign(occupation=pd.Series(pd.NA, index=unmapped.index, dtype="str"))
        um["allocated"] = 0.0
        um["surplus"] = um["entrants"]
        surplus = pd.concat([surplus, um[SURPLUS_COLUMNS]], ignore_index=True)
    surplus = surplus[SURPLUS_COLUMNS].sort_values(
        ["period", "offer", "site", "occupation"], na_position="last"
    )
    return surplus.reset_index(drop=True)


def _solve_params(sol, arcs, n_sup: int, n_dem: int) -> dict:
    """The solver's part of ``Allocation.params``: objective, sizes and solve statistics."""
    arc_sup, arc_dem = arcs
    return {
        "objective": (
            "lexicographic: max entrants allocated, then min entrants x km (to the metre), "
            "then territory code order"
        ),
        "n_arcs": int(arc_sup.size),
        "n_supply_nodes": int(n_sup),
        "n_demand_nodes": int(n_dem),
        "n_supply_without_arc": int(n_sup - np.unique(arc_sup).size),
        "n_demand_without_arc": int(n_dem - np.unique(arc_dem).size),
        "n_blocks": sol.n_blocks,
        "n_lp": sol.n_lp,
        "n_closed_form": sol.n_closed_form,
        "weighted_objective": sol.objective,
        "dual_gap": sol.dual_gap,
    }


# ---------------------------------------------------------------------------------------------
# allocation


def allocate(
    openings: pd.DataFrame,
    entrants: pd.DataFrame,
    catchment: pd.DataFrame,
    *,
    small_threshold: float | None = DEFAULTS["gap"]["small_threshold"],
    distance_cost: float = 1.0,
    employment: pd.DataFrame | None = None,
    openings_paths=None,
) -> Allocation:
    """Allocate qualified entrants to openings within catchments, nearer first.

    For each period and occupation, the yearly entrants of every offer x occupation (a supply
    node, at the offer's site) may go to the openings of that occupation in any territory of the
    site's catchment (a demand node). The flows solve, exactly and deterministically, a
    transportation problem with a lexicographic objective: **first** the largest total number of
    entrants placed, **then** the smallest total distance travelled (entrants x km, to the
    metre) among those placements, **then**, among equally near placements, territories in code
    order. Both are reached with one HiGHS solve per independent block
    (:func:`gpec.gap._allocation.solve_transport`), whose weighted objective provably has the
    lexicographic optimum as its optimum. The last level makes the entrants allocated to each
    territory x occupation unique, so that more entrants never raise a gap.

    Parameters
    ----------
    openings : DataFrame
        territory, occupation, period, openings (+ lower, upper, employment, labels) as returned
        by :func:`gpec.demand.openings`. Negative openings count as 0. Without lower/upper the
        gap bounds equal the gap.
    entrants : DataFrame
        offer, site, occupation, entrants (+ share, score, reason) as returned by
        :func:`gpec.supply.entrants`: yearly qualified entrants, the same every period unless a
        ``period`` column is given. Rows without an occupation (unmapped offers) are never
        allocated; they appear in the surplus. With ``entrants_low`` and ``entrants_high``
        columns (:func:`gpec.supply.entrants_interval`), the allocation is solved again at both
        ends and the gap bounds carry this supply interval too: ``gap_lower`` uses the entrants
        allocated with ``entrants_high``, ``gap_upper`` those allocated with ``entrants_low``
        (columns ``entrants_allocated_low`` / ``_high``).
    catchment : DataFrame
        site, territory, distance_km (+ weight) as returned by :func:`gpec.territory.catchment`.
        A site only serves the territories listed for it (list the site itself, at distance 0,
        for it to serve its own territory). Missing distances count as 0.
    small_threshold : float or None, default 30
        Cells whose employment is below this size get ``flag_small = True`` (the same default
        as ``[gap] small_threshold``); where employment is unknown the flag is null. ``None``:
        no flag (all False).
    distance_cost : float, default 1.0
        Weight of the distance in the second level of the objective: any value > 0 prefers
        nearer territories (distances compared to the metre), 0 ignores distances. As the first
        level is the number of entrants placed, every positive value gives the same allocation.
    employment : DataFrame, optional
        territory, occupation, (period,) value; used for ``flag_small`` when the openings table
        has no ``employment`` column.
    openings_paths : OpeningsPaths, optional
        The openings along each sample path (``gpec.demand.openings(..., return_paths=True)``).
        The gap bounds are then quantiles over the paths of the gap with the allocation held
        fixed, per year and summed over the years (``gap_cum_lower`` / ``gap_cum_upper``);
        without it the cumulative bounds are the sums of the yearly bounds (see
        :mod:`gpec.gap._bounds`).

    Returns
    -------
    Allocation
        ``.gaps``, ``.flows``, ``.surplus`` tables and ``.params``.

    Examples
    --------
    >>> import pandas as pd
    >>> op = pd.DataFrame({"territory": ["A", "B"], "occupation": ["X", "X"],
    ...                    "period": [2030, 2030], "openings": [10.0, 5.0]})
    >>> en = pd.DataFrame({"offer": ["o1"], "site": ["A"], "occupation": ["X"],
    ...                    "entrants": [12.0]})
    >>> ca = pd.DataFrame({"site": ["A", "A"], "territory": ["A", "B"],
    ...                    "distance_km": [0.0, 30.0]})
    >>> res = allocate(op, en, ca)
    >>> res.gaps[["territory", "entrants_allocated", "gap"]].to_dict("list")
    {'territory': ['A', 'B'], 'entrants_allocated': [10.0, 2.0], 'gap': [0.0, 3.0]}
    """
    t0 = time.perf_counter()
    if not np.isfinite(distance_cost) or distance_cost < 0:
        raise ValueError(f"distance_cost must be a finite number >= 0, got {distance_cost!r}")
    openings = _year_periods(openings, "openings")
    entrants = _year_periods(entrants, "entrants")
    employment = _year_periods(employment, "employment")
    op = _prepare_openings(openings, employment, small_threshold)
    sup, unmapped, has_period = _prepare_entrants(entrants)
    ca = _prepare_catchment(catchment)
    _code_warnings(op, sup, ca)
    periods, sup, unmapped = _align_periods(op, sup, unmapped, has_period)
    arc_sup, arc_dem, arc_dist, arc_block = _build_arcs(op, sup, ca, periods)
    t_build = time.perf_counter() - t0

    # integer metres (the tie-break needs integer costs); 0 when distances are ignored
    arc_cost = np.round(arc_dist * 1000.0) if distance_cost > 0 else np.zeros(arc_dist.size)
    cap = op["openings"].to_numpy(dtype=float)

    def solve(column: str):
        sol = solve_transport(
            sup[column].to_numpy(dtype=float), cap, arc_sup, arc_dem, arc_cost, arc_block
        )
        gap = cap - sol.demand_filled
        gap[gap < FLOW_EPS] = 0.0
        return sol, gap

    sol, gap = solve("entrants")
    alloc = cap - gap
    interval = "entrants_low" in sup.columns
    if interval:
        # fewer entrants never lower a gap, more never raise one (the allocation's uniqueness):
        # the two ends bound the entrants allocated to every cell
        alloc_lo = np.minimum(cap - solve("entrants_low")[1], alloc)
        alloc_hi = np.maximum(cap - solve("entrants_high")[1], alloc)
    else:
        alloc_lo = alloc_hi = alloc
    t_solve = time.perf_counter() - t0 - t_build

    n_sup, n_dem = len(sup), len(op)
    gaps, totals = _gap_table(op, openings, cap, gap, alloc_lo, alloc_hi, interval, openings_paths)
    flows = _flow_table(sol, arc_sup, arc_dem, arc_dist, sup, op)
    surplus = _surplus_table(sup, unmapped, sol)
    params = {
        "small_threshold": small_threshold,
        "distance_cost": distance_cost,
        "supply_interval": bool(interval),
        **_solve_params(sol, (arc_sup, arc_dem), n_sup, n_dem),
        "seconds_build": t_build,
        "seconds_solve": t_solve,
        "seconds_total": time.perf_counter() - t0,
    }
    return Allocation(gaps=gaps, flows=flows, surplus=surplus, params=params, totals=totals)
