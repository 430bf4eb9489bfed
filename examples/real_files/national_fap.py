"""National FAP study from the official files: DARES series, ROME 4.0, DARES crosswalk, LHÉO offers.

What a planner can do today with the files she downloaded, through the Python API (the
harmonisation steps are marked HARMONISE; a ``gpec.toml`` expresses the first one too, with
``[run] occupation_level = "fap225"`` and ``exclude_occupations = ["T2Z60", "ZZZZZ"]``, as
``gpec.toml`` in this folder does, but not the other two):

1. read each file with its reader (every reader accounts for every row: kept or rejected);
2. HARMONISE: keep one FAP level (FAP225) for employment and the age pyramid, so that openings
   are not counted twice (the DARES files hold the total, the 23 domaines, the 87 and the 225
   FAP in the same columns);
3. HARMONISE: chain ROME 4.0 -> ROME v3 (``code_rome_parent``) -> FAP 2009 (DARES SAS table)
   and turn the ROME 4.0 skill profiles into FAP profiles (weighted mean of the profiles of the
   ROME fiches of each FAP);
4. HARMONISE: place each training offer at its département (the LHÉO site is a commune) and give
   a number of seats to the offers whose feed gives none (``--seats``);
5. run the whole chain (``gpec.pipeline.run_pipeline``) and write the CSV files and the reports.

Run it from any folder (the real files are looked for beside the repository)::

    python examples/real_files/national_fap.py --out national-fap
    python examples/real_files/national_fap.py --data /path/to/files --seats 20 --horizon 6

The numbers are national (territory ``FR``): the DARES series is national (3-year moving
averages, in thousands, 1983-2018; FAP225 from 2004).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from gpec import GpecData
from gpec.ingest import read_crosswalk, read_dares_series, read_lheo, read_rome
from gpec.referentials import compose_crosswalks, convert_code_lists, convert_profiles

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"

#: Files of the study, relative to the real-data folder (one folder per source).
FILES = {
    "employment": "dares-portrait-stat-metiers/effectifs_3niv.csv",
    "workforce_age": "dares-portrait-stat-metiers/age_2017_2019_3niv.csv",
    "territories": "dares-portrait-stat-metiers/tensions/tensions.csv",
    "rome": "rome4-v460",
    "rome_fap": "bob-emploi-fixtures/passage_fap2009_romev3.txt",
    "offers": ["bob-emploi-fixtures/carif.xml", "lheo-schema-example/exemple-bts-onisep.xml"],
}

#: The entry of FILES that each table of the study comes from (named in its ``sources``).
TABLE_SOURCES = {
    "employment": "employment",
    "workforce_age": "workforce_age",
    "territories": "territories",
    "occupations": "employment",
    "skills": "rome",
    "occupation_skills": "rome",
    "crosswalks": "rome_fap",
    "training_offers": "offers",
}


def source_paths(real: Path, key: str) -> str:
    """The file(s) of ``FILES[key]`` below ``real``, ';'-separated when there are several."""
    files = FILES[key]
    return ";".join(str(Path(real) / f) for f in ([files] if isinstance(files, str) else files))


#: FAP codes left out of the study: in the DARES files, T2Z / T2Z60 are aggregate columns
#: (T2A + T2B: aides à domicile + assistantes maternelles, without a label) that would count
#: those jobs twice; ZZZZZ / ZZZ is "non renseigné ou autre" (no occupation to plan for).
EXCLUDED = {
    "T2Z60": "aggregate of T2A60 + T2B60",
    "T2Z": "aggregate of T2A + T2B",
    "ZZZZZ": "non renseigné ou autre",
    "ZZZ": "non renseigné ou autre",
}


def fap_profiles(occupation_skills: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Skill profiles of the target occupations (see :func:`gpec.referentials.convert_profiles`)."""
    return convert_profiles(occupation_skills, crosswalk)


def offer_codes_to(
    codes: pd.Series, crosswalks: pd.DataFrame, system: str, source_system: str = "ROME3"
) -> pd.Series:
    """Translate ';'-separated ROME codes into ``code:share`` lists of another system.

    Each ROME code of an offer counts equally; its share is split by the crosswalk weights
    (rows ``source_system`` -> ``system``). Codes without a crosswalk entry are left out; an offer with none
    gets a null (it is then matched by text, or reported unmapped).

    Examples
    --------
    >>> cw = pd.DataFrame({"source_system": "ROME3", "source": ["A", "A", "B"],
    ...                    "target_system": "FAP2009", "target": ["F1", "F2", "F1"],
    ...                    "weight": [0.5, 0.5, 1.0]})
    >>> offer_codes_to(pd.Series(["A;B", "Z"]), cw, "FAP2009").tolist()
    ['F1:0.75;F2:0.25', None]
    """
    cw = crosswalks[
        crosswalks["target_system"].eq(system) & crosswalks["source_system"].eq(source_system)
    ]
    return convert_code_lists(codes, cw)


def read_sources(real: Path = REAL) -> dict[str, GpecData]:
    """Read each official file with its reader (one bundle per file, with its row accounting)."""
    real = Path(real)
    parts = {
        "employment": read_dares_series(real / FILES["employment"]),
        "workforce_age": read_dares_series(real / FILES["workforce_age"]),
        "territories": read_dares_series(real / FILES["territories"]),
        "rome": read_rome(real / FILES["rome"]),
        "rome_fap": read_crosswalk(real / FILES["rome_fap"]),
    }
    for f in FILES["offers"]:
        parts[f"offers:{Path(f).name}"] = read_lheo(real / f)
    return parts


def build_study(
    real: Path = REAL,
    *,
    seats: float | None = 20.0,
    fap_level: str = "fap225",
    parts: dict[str, GpecData] | None = None,
):
    """Read the official files and harmonise them into one FAP-coded bundle.

    Parameters
    ----------
    real : Path
        Folder of the files (one sub-folder per source, names as in :data:`FILES`).
    seats : float or None, default 20
        Seats per year given to the offers whose feed gives none (None: leave them unknown).
    fap_level : {"fap225", "fap87"}
        The one FAP level of the study.
    parts : dict, optional
        The bundles of :func:`read_sources`, when already read.

    Returns
    -------
    data : GpecData
        territories (France, régions, départements), occupations (FAP 2009 tree), skills
        (ROME 4.0), occupation_skills (FAP profiles), crosswalks (ROME4/ROME3 -> FAP2009),
        employment and workforce_age (one FAP level, France), training_offers (site =
        département); ``rejected`` holds the rows the readers did not keep.
    log : dict
        What each step kept and left out (rows, codes), to print or check.
    """
    real = Path(real)
    parts = read_sources(real) if parts is None else parts
    emp, age, geo = parts["employment"], parts["workforce_age"], parts["territories"]
    rome, sas = parts["rome"], parts["rome_fap"]
    lheo = [parts[f"offers:{Path(f).name}"] for f in FILES["offers"]]
    log: dict = {"readers": {name: p.meta["row_accounting"] for name, p in parts.items()}}

    # HARMONISE 1: one FAP level, without the DARES aggregate columns and "non renseigné"
    occupations = emp.occupations
    all_codes = set(occupations.loc[occupations["level"].eq(fap_level), "occupation"])
    level = all_codes - set(EXCLUDED)
    employment = emp.employment[emp.employment["occupation"].isin(level)]
    workforce_age = age.workforce_age[age.workforce_age["occupation"].isin(level)]
    last = employment["period"].max()
    out = emp.employment[
        emp.employment["occupation"].isin(all_codes & set(EXCLUDED))
        & emp.employment["period"].eq(last)
    ]
    log["excluded_jobs"] = {
        "period": int(last),
        **dict(zip(out["occupation"], out["value"], strict=True)),
    }
    log["fap_level"] = {
        "level": fap_level,
        "codes": len(level),
        "employment_rows": (len(employment), len(emp.employment)),
        "workforce_age_rows": (len(workforce_age), len(age.workforce_age)),
    }

    # HARMONISE 2: ROME 4.0 -> ROME v3 -> FAP 2009, and FAP skill profiles
    rome3_fap = sas.crosswalks.query("source_system == 'ROME3' and target_system == 'FAP2009'")
    rome4_fap, unchained = compose_crosswalks(rome.crosswalks, rome3_fap)
    profiles = fap_profiles(rome.occupation_skills, rome4_fap)
    profiles = profiles[profiles["occupation"].isin(level)]
    log["crosswalk"] = {
        "rome4_fiches": rome.crosswalks["source"].nunique(),
        "rome4_chained": rome4_fap["source"].nunique(),
        "unchained": unchained["source"].tolist(),
        "fap_with_profile": profiles["occupation"].nunique(),
    }
    crosswalks = pd.concat([rome4_fap, rome3_fap], ignore_index=True)

    # HARMONISE 3: offers at their département; their ROME codes written as FAP shares (gpec's
    # supply stage reads the `rome` column as occupation codes, with optional `code:weight`);
    # seats where the feed gives none
    offers = pd.concat([p.training_offers for p in lheo], ignore_index=True)
    offers["site"] = offers["departement"]
    offers["rome_codes"] = offers["rome"]
    v4 = offers["rome_version"].astype(str).str.upper().eq("V4")  # LHEO: ROME v3 unless V4
    offers["rome"] = offer_codes_to(offers["rome"], crosswalks, "FAP2009").where(
        ~v4, offer_codes_to(offers["rome"], crosswalks, "FAP2009", "ROME4")
    )
    unknown = offers["seats"].isna()
    if seats is not None:
        offers.loc[unknown, "seats"] = float(seats)
    log["offers"] = {
        "rows": len(offers),
        "seats_assumed": int(unknown.sum()) if seats else 0,
        "mapped_to_fap": int(offers["rome"].notna().sum()),
    }

    rejected = pd.concat(
        [p.rejected for p in (emp, age, geo, rome, sas, *lheo) if len(p.rejected)],
        ignore_index=True,
    )
    sources = {table: source_paths(real, key) for table, key in TABLE_SOURCES.items()}
    data = GpecData(
        territories=geo.territories,
        occupations=occupations,
        skills=rome.skills,
        occupation_skills=profiles,
        crosswalks=crosswalks,
        employment=employment,
        workforce_age=workforce_age,
        training_offers=offers,
        sources=sources,
        rejected=rejected,
        meta={
            "rome_version": rome.meta.get("version"),
            "employment_moving_average": emp.meta.get("moving_average"),
        },
    )
    return data, log


#: Configuration of the national run (the same keys as a gpec.toml).
CONFIG = {
    "run": {"name": "Étude nationale FAP (fichiers officiels)", "level": "nation"},
    "forecast": {"horizon": 6},
    "catchment": {"method": "parent", "level": "nation"},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REAL, help="folder of the real files")
    parser.add_argument("--out", type=Path, default=Path("national-fap-output"))
    parser.add_argument(
        "--seats", type=float, default=20.0, help="seats per year of an offer whose feed gives none"
    )
    parser.add_argument("--horizon", type=int, default=6)
    parser.add_argument("--no-reports", action="store_true", help="CSV files only")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"national_fap: real-data folder not found: {args.data}", file=sys.stderr)
        return 2
    from gpec.pipeline import run_pipeline

    t0 = time.perf_counter()
    data, log = build_study(args.data, seats=args.seats)
    print(f"read and harmonised in {time.perf_counter() - t0:.1f} s: {data}")
    for name, acc in log["readers"].items():
        for file, c in acc.items():
            print(
                f"  {name:<28} {file:<45} read {c['read']:>7}  kept {c['kept']:>7}  "
                f"rejected {c['rejected']:>6}"
            )
    cw = log["crosswalk"]
    print(
        f"ROME 4.0 fiches chained to FAP 2009: {cw['rome4_chained']} / {cw['rome4_fiches']}; "
        f"FAP with a skill profile: {cw['fap_with_profile']} / {log['fap_level']['codes']}"
    )
    ex = dict(log["excluded_jobs"])
    period = ex.pop("period")
    for code, jobs in ex.items():
        print(f"left out: {code} ({EXCLUDED[code]}), {jobs:,.0f} jobs in {period}")
    cfg = {**CONFIG, "forecast": {**CONFIG["forecast"], "horizon": args.horizon}}
    res = run_pipeline(data, cfg, strict=False)  # the DARES 'NA' age cell goes to rejected.csv
    files = res.write(args.out, reports=not args.no_reports)
    g = res.gaps
    last = g["period"].max()
    tot = g[g["period"] == last][["openings", "entrants_allocated", "gap"]].sum()
    print(
        f"Openings in {last}: {tot['openings']:,.0f}; trained entrants allocated "
        f"{tot['entrants_allocated']:,.0f}; gap {tot['gap']:,.0f}"
    )
    top = res.openings[res.openings["period"] == last].nlargest(10, "openings")[
        ["occupation", "occupation_label", "openings", "expansion", "replacement"]
    ]
    print(f"Largest openings in {last} (FAP225):")
    print(top.to_string(index=False, float_format=lambda v: f"{v:,.0f}"))
    print(f"wrote {len(files)} files into {args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
