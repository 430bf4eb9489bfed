"""Tests of the LHEO reader: both namespaces, the lheo-index layout, seats, safety, streaming."""

import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest
from _helpers import missing_real_data

from gpec.ingest._errors import FormatError
from gpec.ingest._lheo import read_lheo

FIXTURES = Path(__file__).parent / "fixtures"
LHEO23 = FIXTURES / "lheo_23.xml"


def _offers(path, **kw):
    data = read_lheo(path, **kw)
    return data, data.training_offers.set_index("offer")


def test_lheo_23_rows_per_offer_and_site():
    data, off = _offers(LHEO23)
    assert data.meta["lheo_version"] == "2.3" and data.meta["layout"] == "lheo"
    assert list(off.index) == [
        "F-0001/A-0001",
        "F-0001/A-0002@14118",
        "F-0001/A-0002@50129",
        "F-0002/A-0003",
    ]
    a = off.loc["F-0001/A-0001"]
    assert a["title"] == "Concepteur développeur d'applications"
    assert a["description"] == "Concevoir et développer des applications & des API."
    assert a["site"] == "75103" and a["provider"] == "Cnam"
    assert a["formacode"] == "31054"  # the invalid 3105X is left out, and reported
    assert a["rome"] == "M1805;M1855" and a["rome_version"] == "V4"
    assert a["rncp"] == "RNCP37873"
    assert a["hours"] == 1449  # centre + entreprise when no total
    assert a["modality"] == "mixte"
    assert a["lat"] == pytest.approx(48.8667)
    warn = data.meta["code_warnings"]
    assert warn[["offer", "column", "value"]].values.tolist() == [["F-0001", "formacode", "3105X"]]
    assert off.loc["F-0002/A-0003", "rncp"] == "RNCP270"  # digits only -> RNCP prefix
    assert off.loc["F-0002/A-0003", "modality"] == "distance"
    assert "content" not in data.training_offers or data.training_offers["content"].isna().all()
    _, off2 = _offers(LHEO23, content=True)
    assert off2.loc["F-0002/A-0003", "content"] == "Maçonnerie"


def test_lheo_seats_priority_and_flag():
    _, off = _offers(LHEO23)
    a = off.loc["F-0001/A-0001"]
    assert a["seats"] == 36 and a["seats_source"] == "capacite-cumulee"  # 24 + 12 over sessions
    assert a["sessions"] == 2 and a["start"] == "20250915" and a["end"] == "20261030"
    b = off.loc[["F-0001/A-0002@14118", "F-0001/A-0002@50129"]]
    assert b["seats"].tolist() == [5.0, 5.0]  # 10 funded seats split over the two sites
    assert set(b["seats_source"]) == {"nb-places-financees"}
    c = off.loc["F-0002/A-0003"]
    assert c["seats"] == 15 and c["seats_source"] == "nb-places"
    assert c["site"] == "76540"  # no lieu-de-formation: registration address
    assert not off["seats_unknown"].any()


def test_lheo_rejections_and_accounting():
    data, _ = _offers(LHEO23)
    acc = data.meta["row_accounting"]["lheo_23.xml"]
    assert acc == {"read": 5, "kept": 4, "rejected": 1}
    rej = data.rejected
    assert rej["row"].tolist() == ["3.1"] and rej["column"].tolist() == ["site"]
    assert "INSEE commune" in rej["reason"].iloc[0]
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


def test_lheo_22_namespace_and_index_layout(tmp_path):
    text = LHEO23.read_text(encoding="utf-8").replace(
        "http://lheo.gouv.fr/2.3", "http://www.lheo.org/2.2"
    )
    p = tmp_path / "lheo22.xml"
    p.write_text(text, encoding="utf-8")
    a, b = read_lheo(p), read_lheo(LHEO23)
    assert a.meta["lheo_version"] == "2.2"
    assert a.training_offers.equals(b.training_offers)
    idx = tmp_path / "index.xml"
    idx.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<lheo-index xmlns="http://www.lheo.org/2.2">'
        '<resumes-offres><resume-offre numero="14_AF_1_SE_2"><domaine-formation>'
        "<code-FORMACODE>42780</code-FORMACODE><code-ROME>G1605</code-ROME></domaine-formation>"
        "<intitule-formation>CQP plongeur</intitule-formation><nom-organisme>Infrep</nom-organisme>"
        "<SIRET>32441928201134</SIRET><codepostal>92100</codepostal>"
        "<code-INSEE-commune>92012</code-INSEE-commune><modalites-enseignement>0"
        "</modalites-enseignement><nombre-heures-total>300</nombre-heures-total>"
        "<session><periode><debut>20181204</debut><fin>20191231</fin></periode></session>"
        '<extras info="geolocalisation"><extra info="latitude">48.83</extra>'
        '<extra info="longitude">2.23</extra></extras></resume-offre></resumes-offres>'
        "</lheo-index>",
        encoding="utf-8",
    )
    data = read_lheo(idx)
    row = data.training_offers.iloc[0]
    assert data.meta["layout"] == "lheo-index"
    assert row["offer"] == "14_AF_1_SE_2" and row["site"] == "92012"
    assert row["rome"] == "G1605" and row["hours"] == 300 and row["lat"] == 48.83
    assert np.isnan(row["seats"]) and row["seats_unknown"]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres><formation numero="1">
<intitule-formation>&lol9;</intitule-formation></formation></offres></lheo>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE lheo [<!ENTITY xxe SYSTEM "{uri}">]>
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres><formation numero="1">
<intitule-formation>&xxe;</intitule-formation></formation></offres></lheo>
"""


@pytest.mark.parametrize(
    "text",
    [
        BOMB,
        XXE.format(uri="file:///etc/passwd"),
        XXE.format(uri="http://198.51.100.1/secret.txt"),  # TEST-NET address: must never be fetched
    ],
)
def test_lheo_refuses_entities_fast(tmp_path, text):
    p = tmp_path / "evil.xml"
    p.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(FormatError, match="refused"):
        read_lheo(p)
    assert time.perf_counter() - t0 < 1.0


def test_lheo_wrong_kind_of_file(tmp_path):
    p = tmp_path / "other.xml"
    p.write_text("<catalogue><item/></catalogue>", encoding="utf-8")
    with pytest.raises(FormatError, match="not an LHEO file"):
        read_lheo(p)
    p.write_text("<lheo><offres>", encoding="utf-8")
    with pytest.raises(FormatError, match="not well-formed"):
        read_lheo(p)
    with pytest.raises(FormatError, match="not found"):
        read_lheo(tmp_path / "missing.xml")
    with pytest.raises(FormatError, match="folder"):
        read_lheo(tmp_path)


def test_real_lheo_files(real_data):
    onisep = real_data / "lheo-schema-example" / "exemple-bts-onisep.xml"
    carif = real_data / "bob-emploi-fixtures" / "carif.xml"
    if not onisep.exists() or not carif.exists():
        missing_real_data("LHEO real files not present")
    data = read_lheo(onisep)
    row = data.training_offers.iloc[0]
    assert data.meta["lheo_version"] == "2.2"
    assert row["title"] == "BTS négociation et relation client"
    assert row["site"] == "29233" and row["rome"] == "D1402;D1403;D1408"
    assert row["formacode"] == "34582;34076" and row["rncp"] == "RNCP474"
    assert "<p>" not in row["description"] and row["seats_unknown"]
    acc = data.meta["row_accounting"]["exemple-bts-onisep.xml"]
    assert acc == {"read": 1, "kept": 1, "rejected": 0}
    data = read_lheo(carif)
    off = data.training_offers
    assert data.meta["layout"] == "lheo-index" and data.meta["offers_read"] == 10
    acc = data.meta["row_accounting"]["carif.xml"]
    assert acc["read"] == 10 and acc["read"] == acc["kept"] + acc["rejected"]
    assert off["site"].str.fullmatch(r"\d{5}").all()
    assert off["rncp"].str.fullmatch(r"RNCP\d+").all()
    assert off["seats"].isna().all() and off["seats_unknown"].all()  # flagged, never 0
    assert off["lat"].notna().all()
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


@pytest.mark.slow
def test_lheo_streaming_memory(tmp_path):
    """A 40 MB file read in a child process stays far below 500 MB of peak memory."""
    spec = importlib.util.spec_from_file_location(
        "bench_ingest", Path(__file__).resolve().parents[1] / "benchmarks" / "bench_ingest.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = tmp_path / "big.xml"
    n = bench.make_lheo(path, 40)
    res = bench.bench_lheo_file(path)
    assert res["rows"] == 2 * n
    assert res["peak_mb"] < 300


def test_lheo_seats_per_year():
    _, off = _offers(LHEO23, year=2026)
    a = off.loc["F-0001/A-0001"]
    assert a["seats"] == 12 and a["sessions"] == 1  # only the session starting in 2026
    b = off.loc["F-0001/A-0002@14118"]  # its only session has no known start in 2026
    assert np.isnan(b["seats"]) and b["seats_unknown"] and b["sessions"] == 0
    _, off25 = _offers(LHEO23, year=2025)
    assert off25.loc["F-0001/A-0001", "seats"] == 24
    assert off25.loc["F-0002/A-0003", "seats"] == 15


def test_lheo_latin1_declared_encoding(tmp_path):
    text = LHEO23.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    p = tmp_path / "latin1.xml"
    p.write_bytes(text.encode("latin-1", errors="strict"))
    _, off = _offers(p)
    assert off.loc["F-0002/A-0003", "title"] == "Maçon"
