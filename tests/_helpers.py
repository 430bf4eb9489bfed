"""Small builders shared by several test modules (imported as ``from _helpers import ...``)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

#: Age bands of the DARES portraits after :func:`gpec.ingest._dares.normalize_age_band`.
DARES_AGE_BANDS = {
    "15-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60+",
}  # fmt: skip


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
