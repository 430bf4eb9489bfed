"""Every official reader, given another source's file, stops with a one-line FormatError."""

from pathlib import Path

import pytest
from _helpers import write_workbook

from gpec.ingest._bmo import read_bmo
from gpec.ingest._crosswalk import read_crosswalk
from gpec.ingest._dares import read_dares_series
from gpec.ingest._errors import FormatError
from gpec.ingest._esco import read_esco, read_onet
from gpec.ingest._lheo import read_lheo
from gpec.ingest._rome import read_rome

FIX = Path(__file__).parent / "fixtures"
ROME = FIX / "rome4_v499"
ROME_CSV = ROME / "unix_referentiel_code_rome_v499_utf8.csv"
LHEO = FIX / "lheo_23.xml"


@pytest.fixture
def bmo_xlsx(tmp_path):
    rows = [
        ["annee", "Code métier BMO", "Nom métier BMO", "BE25", "NOMBE25", "met"],
        [2025, "A0X40", "Agriculteurs", 101, "BASSE-TERRE", "12"],
    ]
    return write_workbook(tmp_path / "bmo.xlsx", {"BMO_2025_open_data": rows})


@pytest.mark.parametrize(
    "reader,wrong",
    [
        (read_rome, "bmo"),
        (read_rome, LHEO),
        (read_bmo, ROME),
        (read_bmo, ROME_CSV),
        (read_bmo, LHEO),
        (read_lheo, ROME_CSV),
        (read_lheo, "bmo"),
        (read_crosswalk, "bmo"),
        (read_crosswalk, LHEO),
        (read_dares_series, "bmo"),
        (read_dares_series, ROME_CSV),
        (read_esco, ROME),
        (read_onet, ROME_CSV),
    ],
)
def test_wrong_file_one_line_error(reader, wrong, bmo_xlsx):
    path = bmo_xlsx if wrong == "bmo" else wrong
    with pytest.raises(FormatError) as info:
        reader(path)
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 600
    assert Path(path).name in msg
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "reader,message",
    [
        (read_rome, "not a ROME export"),
        (read_crosswalk, "not a crosswalk"),
        (read_dares_series, "not a DARES"),
    ],
)
def test_plain_table_is_not_an_official_file(tmp_path, reader, message):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(FormatError, match=message):
        reader(path)


@pytest.mark.parametrize(
    "reader,name",
    [(read_rome, "missing"), (read_crosswalk, "none.csv"), (read_bmo, "missing.xlsx")],
)
def test_missing_path_is_named(tmp_path, reader, name):
    with pytest.raises(FormatError, match="not found"):
        reader(tmp_path / name)
