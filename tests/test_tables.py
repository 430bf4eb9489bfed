"""The table reader: encodings, separators, codes as strings, Excel, Parquet."""

import pandas as pd
import pytest
from _helpers import write_workbook

from gpec.ingest import InputFileError, read_table

ROWS = "code;libellé;valeur\n01;Ain;3\n2A;Corse-du-Sud;4\n0051;Métier ä;5\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_csv_encodings_and_separators(tmp_path, encoding, sep):
    text = ROWS.replace(";", sep)
    if encoding == "latin-1":
        text = text.replace("ä", "à")
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    df = read_table(path)
    assert list(df.columns) == ["code", "libellé", "valeur"]
    assert df["code"].tolist() == ["01", "2A", "0051"]  # leading zeros and Corsica survive
    assert df.attrs["sep"] == sep
    expected = {
        "utf-8": "utf-8",
        "utf-8-sig": "utf-8-sig",
        "cp1252": "cp1252",
        "latin-1": "cp1252",
    }[encoding]  # latin-1 text of this sample is valid cp1252
    assert df.attrs["encoding"] == expected
    assert df["libellé"].iloc[1] == "Corse-du-Sud"
    assert list(df.index) == [2, 3, 4]  # rows as numbered in the file (header = 1)


def test_empty_cells_are_null_not_zero(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n01,\n,2\n", encoding="utf-8")
    df = read_table(path)
    assert df["b"].iloc[0] is None and df["a"].iloc[1] is None


def test_excel_codes_stay_strings(tmp_path):
    rows = [
        ["territory", "value"],
        ["01", 3],
        ["2B", 4.5],
        [75056, 7],  # a number cell: read as its digits, no ".0"
    ]
    df = read_table(write_workbook(tmp_path / "t.xlsx", {"Sheet": rows}))
    assert df["territory"].tolist() == ["01", "2B", "75056"]
    assert df["value"].tolist() == ["3", "4.5", "7"]
    assert df.attrs["format"] == "xlsx"


def test_parquet_code_columns(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    pd.DataFrame({"territory": ["01", "2A"], "value": [1.0, 2.0]}).to_parquet(path)
    df = read_table(path, code_columns=["territory"])
    assert df["territory"].tolist() == ["01", "2A"]


@pytest.mark.parametrize(
    "content,message", [(None, "file not found"), (b"", "empty"), (b"\x00\x01\x02", "binary")]
)
def test_bad_files_are_named(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as err:
        read_table(path)
    assert "bad.csv" in str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        "code;valeur\n01;1,5\n02;2,5\n",
        "territory;occupation;period;value\n14;H2913;2018;455,0\n14;H2913;2019;1 234,5\n",
        "a;b;c\n1,5;2,5;3,5\n1,5;2,5;3,5\n",
    ],
)
def test_semicolon_wins_over_decimal_commas(tmp_path, text):
    """French Excel: `;` between fields, `,` inside numbers; the numbers stay text here."""
    path = tmp_path / "fr.csv"
    path.write_bytes(text.encode("cp1252"))
    df = read_table(path)
    assert df.attrs["sep"] == ";"
    assert "," in df.iloc[0, -1]  # converted later, by validation (gpec._schema.to_number)
