"""What the README and the tutorials tell a new user matches what gpec writes and prints."""

from __future__ import annotations

import re
from pathlib import Path

from gpec.pipeline import OUTPUT_FILES

REPO = Path(__file__).resolve().parents[1]


def _readme_outputs_table() -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split("## Outputs", 1)[1].split("\n\n", 2)[1]
    names: set[str] = set()
    for line in table.splitlines():
        first = line.split("|")[1] if line.startswith("|") else ""
        names |= set(re.findall(r"`([^`]+)`", first))
    return names


def test_readme_outputs_table_lists_every_output_file():
    listed = _readme_outputs_table()
    assert listed == set(OUTPUT_FILES) | {"provenance.toml", "report.xlsx", "report.html"}
