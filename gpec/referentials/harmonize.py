"""Bring the inputs to one occupation system and one site level before the chain runs.

Driven by ``[run] occupation_system``, ``occupation_level``, ``exclude_occupations`` and
``[supply] seats_default``, ``site_level``. Every row left out is counted in
``data.meta["harmonised"]`` (table -> reason -> rows): nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from gpec._data import GpecData
from gpec._schema import to_number
from gpec.exceptions import ConfigError
from gpec.referentials import convert_code_lists

__all__ = ["harmonize"]

_OCC_TABLES = {
    "employment": ["value"],
    "workforce_age": ["value"],
    "hiring_intentions": ["projects", "difficult", "seasonal"],
}


def _crosswalk_to(crosswalks: pd.DataFrame | None, source: str, target: str) -> pd.DataFrame:
    """A crosswalk source -> target, direct or chained through one intermediate system."""
    from gpec.referentials import compose_crosswalks

    if crosswalks is None or not len(crosswalks):
        raise ConfigError(
            f"[run] occupation_system: no crosswalks table to go from {source} to {target}"
        )
    cw = crosswalks
    pair = lambda a, b: cw[(cw["source_system"] == a) & (cw["target_system"] == b)]  # noqa: E731
    if len(pair(source, target)):
        return pair(source, target)
    for mid in sorted(set(cw.loc[cw["source_system"] == source, "target_system"])):
        if len(pair(mid, target)):
            out, _ = compose_crosswalks(pair(source, mid), pair(mid, target))
            return out
    raise ConfigError(
        f"[run] occupation_system: no crosswalk from {source} to {target} "
        f"(directly or through one system) in table crosswalks"
    )


def _convert_titles(app, sys_of: pd.Series, system: str, crosswalks) -> pd.DataFrame | None:
    """Job titles (ROME appellations) of the target system: each title goes to every target
    occupation of its occupation (text matching scores the nearest title of each occupation);
    ``occupation_source`` keeps the original code. Titles without a crosswalk are dropped (they
    are not input rows of a canonical table, only help text matching)."""
    if app is None or not len(app) or "occupation" not in app.columns:
        return None
    src = app["occupation"].map(sys_of)
    parts = [app[src.eq(system).to_numpy()].assign(occupation_source=lambda d: d["occupation"])]
    for other in sorted(set(src.dropna()) - {system}):
        try:
            cw = _crosswalk_to(crosswalks, other, system)
        except ConfigError:
            continue
        sub = app[src.eq(other).to_numpy()].rename(columns={"occupation": "occupation_source"})
        pairs = cw[cw["weight"] > 0][["source", "target"]].drop_duplicates()
        conv = sub.merge(pairs, left_on="occupation_source", right_on="source", how="inner")
        parts.append(conv.drop(columns="source").rename(columns={"target": "occupation"}))
    return pd.concat(parts, ignore_index=True)


def harmonize(
    data: GpecData,
    cfg: Mapping[str, Any] | None = None,
    *,
    occupation_system: str = "",
    occupation_level: str = "",
    exclude_occupations: Iterable[str] = (),
    site_level: str = "",
    seats_default: float = 0.0,
) -> GpecData:
    """Bring a bundle to one occupation system and level, and apply the offers' site and seat
    defaults (the ``[run]`` occupation options and the ``[supply]`` site/seat options).

    Parameters
    ----------
    data : GpecData
        The inputs as read.
    cfg : mapping, optional
        A whole configuration (its ``run`` and ``supply`` sections are read); the keyword
        arguments are used when it is not given.
    occupation_system : str
        Convert every occupation table to this system through the crosswalks ("" = keep).
    occupation_level : str
        Keep only the occupations of this ``level`` ("" = all).
    exclude_occupations : iterable of str
        Codes left out (aggregates...).
    site_level : str
        Move each offer's site to its ancestor at this territory level ("" = keep).
    seats_default : float
        Seats of the offers whose seats are unknown.

    Returns
    -------
    GpecData
        Every row left out is counted in ``meta["harmonised"]`` (table -> reason -> rows);
        rows converted between systems keep their totals
        (:func:`gpec.referentials.apply_crosswalk`).

    Examples
    --------
    >>> from gpec.datasets import load_demo
    >>> data = harmonize(load_demo(), exclude_occupations=["X9999"])
    >>> data.meta.get("harmonised", {})
    {}
    """
    from gpec.referentials import apply_crosswalk, convert_profiles

    if cfg is not None:
        run_section, supply_section = cfg["run"], cfg["supply"]
        occupation_system = run_section["occupation_system"]
        occupation_level = run_section["occupation_level"]
        exclude_occupations = run_section["exclude_occupations"]
        site_level = supply_section["site_level"]
        seats_default = supply_section["seats_default"]
    log: dict[str, dict[str, int]] = {}
    kw = {}
    occ = data.occupations

    def drop(name, table, keep, reason):
        if (~keep).any():
            log.setdefault(name, {})[reason] = int((~keep).sum())
        return table[keep.to_numpy()]

    system = occupation_system
    if system and occ is not None:
        # a code may exist in two systems (ROME grand domaine "A" and FAP domaine "A"): the
        # target system wins
        first = occ.assign(_t=occ["system"].ne(system)).sort_values("_t", kind="stable")
        sys_of = first.drop_duplicates("occupation").set_index("occupation")["system"]
        for name, values in [*_OCC_TABLES.items(), ("occupation_skills", ["weight"])]:
            table = getattr(data, name)
            if table is None:
                continue
            src = table["occupation"].map(sys_of)
            parts = [table[src.eq(system).to_numpy()]]
            for other in sorted(set(src.dropna()) - {system}):
                cw = _crosswalk_to(data.crosswalks, other, system)
                sub = table[src.eq(other).to_numpy()]
                if name == "occupation_skills":
                    conv = convert_profiles(sub, cw)
                    rej = sub[~sub["occupation"].isin(set(cw["source"]))]
                else:
                    conv, rej = apply_crosswalk(sub, cw, value_cols=values)
                if len(rej):
                    log.setdefault(name, {})[f"no crosswalk {other}->{system}"] = len(rej)
                parts.append(conv)
            kw[name] = pd.concat(parts, ignore_index=True)
            if name == "occupation_skills":
                kw[name] = kw[name].groupby(["occupation", "skill"], as_index=False)["weight"].max()
        offers = data.training_offers
        if offers is not None and "rome" in offers.columns:
            cws = {
                s: _crosswalk_to(data.crosswalks, s, system)
                for s in ("ROME3", "ROME4")
                if s != system and (data.crosswalks["source_system"] == s).any()
            }
            if cws:
                offers = offers.copy()
                offers["rome_source"] = offers["rome"]
                offers["rome"] = convert_code_lists(offers["rome"], next(iter(cws.values())))
                kw["training_offers"] = offers
        kw["occupations"] = occ[occ["system"].eq(system)]
        titles = _convert_titles(data.extra.get("appellations"), sys_of, system, data.crosswalks)
        data = data.replace(**kw)
        data.extra["occupations_other_systems"] = occ[~occ["system"].eq(system)]
        if titles is not None:
            data.extra["appellations"] = titles
        occ = data.occupations
        kw = {}
    level, excluded = occupation_level, set(map(str, exclude_occupations))
    if (level or excluded) and occ is not None:
        if level and "level" not in occ.columns:
            raise ConfigError("[run] occupation_level: the occupations table has no 'level' column")
        ok = set(occ["occupation"] if not level else occ.loc[occ["level"] == level, "occupation"])
        ok -= excluded
        for name in [*_OCC_TABLES, "occupation_skills"]:
            table = getattr(data, name)
            if table is not None:
                kw[name] = drop(
                    name,
                    table,
                    table["occupation"].isin(ok),
                    f"occupation not kept (level {level!r} / excluded)",
                )
    offers = kw.get("training_offers", data.training_offers)
    if offers is not None and (site_level or seats_default > 0):
        offers = offers.copy()
        if seats_default > 0:
            unknown = to_number(offers["seats"]).isna()  # "1 234" is a number, not unknown
            offers["seats_assumed"] = unknown
            offers.loc[unknown, "seats"] = float(seats_default)
        if site_level:
            from gpec.territory import ancestors

            terr = data.territories
            known = set(terr["territory"])
            site = offers["site"].astype(str)
            dep = site.str.slice(0, 2).where(~site.str.startswith("97"), site.str.slice(0, 3))
            site = site.where(site.isin(known), dep)
            anc = ancestors(terr, site_level)
            offers["site_source"] = offers["site"]
            offers["site"] = site.map(anc).fillna(site)
        kw["training_offers"] = offers
    if kw:
        data = data.replace(**kw)
    data.meta["harmonised"] = log
    return data
