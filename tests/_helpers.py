"""Small builders shared by several test modules (imported as ``from _helpers import ...``)."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

#: Age bands of the DARES portraits after :func:`gpec.ingest._dares.normalize_age_band`.
DARES_AGE_BANDS = {
    "15-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60+",
}  # fmt: skip

#: Column contracts of the output files (docs/architecture.md, "Contracts"): these columns, in this
#: order, lead each file and the table it is written from.
GAPS_COLUMNS = [
    "territory",
    "territory_label",
    "occupation",
    "occupation_label",
    "period",
    "openings",
    "entrants_allocated",
    "gap",
    "gap_lower",
    "gap_upper",
]
FORECAST_COLUMNS = ["territory", "occupation", "period", "model", "mean", "lower", "upper", "level"]
OPENINGS_COLUMNS = [
    "territory",
    "occupation",
    "period",
    "employment",
    "expansion",
    "replacement",
    "openings",
]
SKILL_GAPS_COLUMNS = [
    "territory",
    "skill",
    "skill_label",
    "period",
    "need",
    "supply_allocated",
    "gap",
]


def territory_table(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    """A territories table from ``(territory, level, parent)`` rows, each labelled by its code."""
    return pd.DataFrame(
        [(code, code, level, parent) for code, level, parent in rows],
        columns=["territory", "label", "level", "parent"],
    )


def rome_export(folder: Path, codes_csv: str) -> Path:
    """A one-file ROME 4.0 export in ``folder``: its code table with the text ``codes_csv``."""
    folder.mkdir()
    (folder / "unix_referentiel_code_rome_v460_utf8.csv").write_text(codes_csv)
    return folder


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write an .xlsx file with one sheet per item of ``sheets`` (name -> rows, in order)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def four_profiles() -> pd.DataFrame:
    """Four ROME 4.0 occupations (welder, nurse, cook, mason) with a short description each."""
    return pd.DataFrame(
        {
            "occupation": ["H2913", "J1506", "G1602", "F1703"],
            "label": [
                "Soudeur / Soudeuse",
                "Infirmier / Infirmière en soins généraux",
                "Cuisinier / Cuisinière",
                "Maçon / Maçonne",
            ],
            "text": [
                "Assemble des pièces métalliques par soudage à l'arc ou TIG",
                "Réalise des soins infirmiers auprès des patients à l'hôpital",
                "Prépare et cuisine des plats en restaurant",
                "Construit des murs en parpaing, briques, béton",
            ],
        }
    )


def missing_real_data(message: str):
    """Skip a test whose real public file is absent; fail it where CI requires the real data
    (``GPEC_REQUIRE_REAL_DATA=1``), so that a missing ``../shared`` is never a silent green."""
    if os.environ.get("GPEC_REQUIRE_REAL_DATA", "") not in ("", "0"):
        pytest.fail(f"{message} (GPEC_REQUIRE_REAL_DATA is set)")
    pytest.skip(message)


GAP_KEYS = ["territory", "occupation", "period"]


def check_gaps_against_openings(gaps: pd.DataFrame, openings: pd.DataFrame, atol: float) -> None:
    """Check a gap table against the openings table it was built from (not against itself):
    its openings are the demand side's (negative ones count as 0), the entrants placed fit in
    them, and its bounds carry the openings interval, ``max(0, bound - entrants placed)`` (the
    placed entrants of the other end of the supply interval when there is one)."""
    both = gaps.merge(openings, on=GAP_KEYS, suffixes=("", "_op"), validate="one_to_one")
    assert len(both) == len(gaps) == len(openings)
    np.testing.assert_allclose(both["openings"], both["openings_op"].clip(lower=0), atol=atol)
    placed = both["entrants_allocated"]
    assert (placed >= -atol).all() and (placed <= both["openings"] + atol).all()
    low = both.get("entrants_allocated_low", placed)
    high = both.get("entrants_allocated_high", placed)
    for col, bound, used in (("gap_lower", "lower", high), ("gap_upper", "upper", low)):
        want = (both[bound].clip(lower=0) - used).clip(lower=0)
        np.testing.assert_allclose(
            both[col],
            want,
            atol=atol,
            err_msg=f"{col} is no longer max(0, openings' {bound} - entrants placed): the gap "
            "bounds and the openings interval disagree (or the documented rule changed)",
        )


def expected_expansion(
    forecast: pd.DataFrame, employment: pd.DataFrame, interval: int = 80, net: bool = True
) -> pd.DataFrame:
    """Expansion per territory x occupation x period recomputed in plain pandas: the forecast
    mean minus the previous one, the first year minus the last observed employment."""
    keys = ["territory", "occupation"]
    fc = forecast[forecast["level"].eq(interval)] if "level" in forecast else forecast
    fc = fc.sort_values([*keys, "period"]).reset_index(drop=True)
    first = fc.groupby(keys, as_index=False)["period"].min().rename(columns={"period": "first"})
    e = employment.dropna(subset=["value"]).merge(first, on=keys)
    base = e[e["period"] < e["first"]].sort_values("period").groupby(keys).tail(1)
    base = base.set_index(keys)["value"].reindex(pd.MultiIndex.from_frame(fc[keys]))
    prev = fc.groupby(keys)["mean"].shift(1).fillna(pd.Series(base.to_numpy(), index=fc.index))
    change = fc["mean"] - prev
    return fc[[*keys, "period"]].assign(expansion=change if net else change.clip(lower=0))


#: Métiers 2030 (France Stratégie & Dares, 2022): 760,000 postes à pourvoir a year in France
#: over 2019-2030, a published figure independent of gpec's runs.
METIERS_2030_OPENINGS = 760_000


def national_figures(text: str) -> tuple[int, float, float]:
    """The 2024 openings ("... to 747,000 in 2024") and the backtest pair ("MASE a against b")
    quoted by a page on the national FAP run."""
    flat = " ".join(text.split())
    openings = re.findall(r"to (\d{3}),(\d{3}) in 2024", flat)
    mase = re.findall(r"MASE (\d+\.\d+) against (\d+\.\d+)", flat)
    assert openings and mase, "the page no longer quotes the national figures"
    assert len(set(openings)) == 1 and len(set(mase)) == 1, (openings, mase)
    return int("".join(openings[0])), float(mase[0][0]), float(mase[0][1])


def csv_records(path: Path, sep: str = ",") -> int:
    """Data records of a CSV file counted with the standard csv module (header excluded,
    quoted line breaks inside a record), independently of gpec's readers."""
    with open(path, encoding="latin-1", newline="") as fh:  # latin-1 decodes any byte
        return sum(1 for _ in csv.reader(fh, delimiter=sep)) - 1


def rouen_example():
    """``examples/rouen_real.py`` loaded as a module (its readers of the real files)."""
    import importlib.util

    script = Path(__file__).resolve().parents[1] / "examples" / "rouen_real.py"
    spec = importlib.util.spec_from_file_location("rouen_real_for_tests", script)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def rouen_sectors_and_seed(real: Path, mod):
    """The URSSAF Rouen panel by EPCI x NA38 and the sector -> FAP87 seed of the example."""
    from gpec.demand.sector_to_occupation import staffing_seed
    from gpec.ingest import read_urssaf

    sec = read_urssaf(real / mod.URSSAF, sector_level="na38", territory_level="epci")
    sectors = sec.extra["sectors"]
    na88 = sectors[sectors["level"] == "na88"].rename(columns={"sector": "source",
                                                               "parent": "target"})  # fmt: skip
    seed = staffing_seed(mod.naf_links(real), mod.rome_to_fap87(real),
                         division_to_sector=na88)  # fmt: skip
    return sec, seed
