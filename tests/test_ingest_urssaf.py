"""read_urssaf on the real commune x APE extract (zone d'emploi de Rouen) and on hand-written
files of the other cuts of the URSSAF family (EPCI x NA38 wide, département x NA17 long)."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from gpec.ingest import FormatError, read_urssaf

FILE = "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last.csv"


_CACHE: dict = {}


@pytest.fixture
def raw(real_data):
    """The raw file read with the csv module only (no gpec code), and the path."""
    path = real_data / "urssaf-rouen" / FILE
    if "raw" not in _CACHE:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh, delimiter=";"))
        _CACHE["raw"] = (path, rows[0], rows[1:])
    return _CACHE["raw"]


def _read(path, **kw):
    """read_urssaf, once per set of arguments in this module (the real file takes ~1 s)."""
    key = (str(path), tuple(sorted(kw.items())))
    if key not in _CACHE:
        _CACHE[key] = read_urssaf(path, **kw)
    return _CACHE[key]


def test_row_accounting_is_exact(raw):
    path, header, rows = raw
    data = _read(path)
    acc = data.meta["row_accounting"][FILE]
    assert acc == {"read": len(rows), "kept": len(rows), "rejected": 0}
    assert len(rows) == 9338  # SOURCE.md
    assert len(data.rejected) == 0
    # one cell per row and year, published or not
    years = [int(h[-4:]) for h in header if h.startswith("Effectifs salariés")]
    assert years == list(range(2006, 2023))
    assert len(data.extra["cells"]) == len(rows) * len(years)


def test_yearly_totals_match_a_plain_sum_of_the_raw_file(raw):
    path, header, rows = raw
    data = _read(path)
    got = data.employment.groupby("period")["value"].sum()
    for year, published in ((2006, 181_000), (2014, 171_000), (2022, 184_000)):
        col = header.index(f"Effectifs salariés {year}")
        expected = sum(float(r[col]) for r in rows if r[col].strip())
        assert got.loc[year] == expected
        # the zone's totals as quoted when the Rouen case was set, rounded to 1,000
        assert abs(expected - published) < 500
    # the same at EPCI x NA38: sums of the published cells only
    by_epci = _read(path, sector_level="na38", territory_level="epci").employment
    assert by_epci.groupby("period")["value"].sum().equals(got)


def test_empty_cells_are_null_with_a_reason_never_zero(raw):
    path, header, rows = raw
    data = _read(path)
    cells = data.extra["cells"]
    emp_cols = [i for i, h in enumerate(header) if h.startswith("Effectifs salariés")]
    n_empty = sum(1 for r in rows for i in emp_cols if not r[i].strip())
    assert cells["employment"].isna().sum() == n_empty == data.meta["empty_cells"]
    assert cells["reason"].notna().sum() == n_empty
    assert len(data.employment) == len(cells) - n_empty
    # first row of the file: 76005 x 4399A, empty in 2006, 1 job in 2007
    c = cells.set_index(["territory", "occupation", "period"])
    assert np.isnan(c.loc[("76005", "4399A", 2006), "employment"])
    assert c.loc[("76005", "4399A", 2006), "reason"] == "empty"
    assert c.loc[("76005", "4399A", 2007), "employment"] == 1
    e = data.employment.set_index(["territory", "occupation", "period"])["value"]
    assert ("76005", "4399A", 2006) not in e.index
    # establishments published, employment not: statistical secrecy (4 cells in the file)
    assert c.loc[("76020", "3320A", 2018), "reason"] == "secret"
    assert c.loc[("76020", "3320A", 2018), "establishments"] == 1
    assert data.meta["secret_cells"] == 4
    # published zeros stay zeros (an establishment with no employee on average)
    assert (data.employment["value"] == 0).sum() > 0


def test_aggregates_count_their_unknown_cells(raw):
    path, header, rows = raw
    data = _read(path, sector_level="na38", territory_level="epci")
    i_epci, i_na38 = header.index("Code EPCI"), header.index("Secteur NA38")
    col = header.index("Effectifs salariés 2022")
    members = [r for r in rows if r[i_epci] == "200023414" and r[i_na38].startswith("FZ ")]
    cells = data.extra["cells"].set_index(["territory", "occupation", "period"])
    cell = cells.loc[("200023414", "FZ", 2022)]
    assert cell["employment"] == sum(float(r[col]) for r in members if r[col].strip())
    assert cell["n_cells"] == len(members)
    assert cell["unknown_cells"] == sum(1 for r in members if not r[col].strip())
    # an aggregate with no published cell is null, not 0
    empty = data.extra["cells"][data.extra["cells"]["reason"] == "all_empty"]
    assert len(empty) and empty["employment"].isna().all()
    assert (empty["unknown_cells"] == empty["n_cells"]).all()


def test_sector_hierarchy_and_labels(raw):
    path, _, _ = raw
    data = _read(path)
    sec = data.extra["sectors"].set_index(["level", "sector"])
    assert sec.loc[("ape", "4399A"), "parent"] == "43"
    assert sec.loc[("na88", "43"), "parent"] == "FZ"
    assert sec.loc[("na38", "FZ"), "parent"] == "FZ"  # the NA17 code of construction
    assert sec.loc[("na17", "FZ"), "parent"] == "GS2"
    assert sec.loc[("ape", "4399A"), "label"] == "Travaux d'étanchéification"
    counts = data.extra["sectors"]["level"].value_counts()
    assert counts.to_dict() == {"ape": 570, "na88": 78, "na38": 35, "na17": 16, "gs": 7}
    cw = data.extra["sector_crosswalk"]
    assert (cw.groupby(["source", "target_system"])["weight"].sum() == 1).all()
    assert set(cw["target_system"]) == {"NA88", "NA38", "NA17", "GS"}
    # territories: commune -> EPCI -> zone d'emploi -> département -> région -> France
    t = data.territories.set_index("territory")
    assert t.loc["76005", "parent"] == "200023414"
    assert t.loc["200023414", "parent"] == "2815"
    assert t.loc["2815", "parent"] == "76" and t.loc["76", "parent"] == "R28"
    assert t.loc["R28", "label"] == "Normandie"
    assert (t["level"] == "commune").sum() == 218
    clean = data.validate()  # the canonical tables hold together
    assert len(clean.employment) == len(data.employment)


def test_interim_is_reported(raw):
    path, header, rows = raw
    data = _read(path)
    col, ape = header.index("Effectifs salariés 2022"), header.index("Code APE")
    expected = sum(float(r[col]) for r in rows if r[ape] == "7820Z" and r[col].strip())
    assert data.meta["interim_jobs"][2022] == expected


# ------------------------------------------------------------------ other cuts, hand-written
WIDE_EPCI = (
    "Région;Département;EPCI;Secteur NA17;Secteur NA38;Code région;Code département;"
    "Code EPCI;Nombre d'établissements 2021;Effectifs salariés 2021;"
    "Nombre d'établissements 2022;Effectifs salariés 2022\n"
    "Normandie;Eure;CA Evreux;FZ Construction;FZ Construction;28;27;200071488;10;120;11;130\n"
    "Normandie;Eure;CA Evreux;C1 Industries agro;CA Industries agro-alimentaires;28;27;"
    "200071488;;;2;\n"
    "Normandie;Eure;CA Evreux;GZ Commerce;GZ Commerce;28;27;200071488;5;50,5;5;52\n"
    "Normandie;Eure;Sans EPCI;GZ Commerce;GZ Commerce;28;27;ZZZZZZZZZ;1;2;1;2\n"
    "Normandie;Eure;CA Evreux;FZ Construction;FZ Construction;28;27;200071488;1;1;1;1\n"
)

LONG_DEP = (
    "region,departement,secteur_na17i,annee,code_region,code_departement,"
    "nombre_d_etablissements,effectifs_salaries_moyens,masse_salariale\n"
    "Normandie,Seine-Maritime,FZ Construction,2021,28,76,3000,25000,1\n"
    "Normandie,Seine-Maritime,FZ Construction,2022,28,76,3100,,1\n"
    "Normandie,Seine-Maritime,GZ Commerce,2022,28,76,5000,40000,1\n"
    "Normandie,Seine-Maritime,GZ Commerce,deux,28,76,5000,40000,1\n"
)


def test_epci_x_na38_wide_cut(tmp_path):
    p = tmp_path / "epci-x-na38.csv"
    p.write_text(WIDE_EPCI, encoding="utf-8")
    data = read_urssaf(p)
    assert data.meta["layout"] == "wide"
    assert (data.meta["file_territory_level"], data.meta["file_sector_level"]) == ("epci", "na38")
    # 5 rows: 3 kept, ZZZZZZZZZ is not an EPCI, the last row repeats a key
    assert data.meta["row_accounting"]["epci-x-na38.csv"] == {"read": 5, "kept": 3, "rejected": 2}
    assert sorted(data.rejected["reason"]) == ["duplicate key", "not a epci code"]
    e = data.employment.set_index(["occupation", "period"])["value"]
    assert e.to_dict() == {("FZ", 2021): 120, ("FZ", 2022): 130, ("GZ", 2021): 50.5,
                           ("GZ", 2022): 52}  # fmt: skip
    cells = data.extra["cells"].set_index(["occupation", "period"])
    assert cells.loc[("CA", 2021), "reason"] == "empty"
    assert cells.loc[("CA", 2022), "reason"] == "secret"  # 2 establishments, no employment
    t = data.territories.set_index("territory")
    assert t.loc["200071488", "parent"] == "27" and t.loc["27", "parent"] == "R28"


def test_departement_x_na17_long_cut(tmp_path):
    p = tmp_path / "dep-x-na17.csv"
    p.write_text(LONG_DEP, encoding="utf-8")
    data = read_urssaf(p)
    assert data.meta["layout"] == "long"
    assert data.meta["row_accounting"]["dep-x-na17.csv"] == {"read": 4, "kept": 3, "rejected": 1}
    assert data.rejected["reason"].tolist() == ["not a year"]
    assert data.employment["value"].tolist() == [25000.0, 40000.0]
    cells = data.extra["cells"].set_index(["occupation", "period"])
    assert cells.loc[("FZ", 2022), "reason"] == "secret"
    assert set(data.employment["territory"]) == {"76"}
    # to the région: the only région code is prefixed like every gpec région
    reg = read_urssaf(p, territory_level="region")
    assert set(reg.employment["territory"]) == {"R28"}


def test_not_an_urssaf_file(tmp_path):
    p = tmp_path / "other.csv"
    p.write_text("code;libelle\n01;Ain\n", encoding="utf-8")
    with pytest.raises(FormatError, match="not an URSSAF"):
        read_urssaf(p)
    q = tmp_path / "epci.csv"
    q.write_text(WIDE_EPCI, encoding="utf-8")
    with pytest.raises(FormatError, match="sector_level 'ape' not in the file"):
        read_urssaf(q, sector_level="ape")


def test_pandas_reads_the_same_cells(raw):
    """A second reading with plain pandas: every published (commune, APE, year) cell agrees."""
    path, _, _ = raw
    df = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig")
    cols = [c for c in df.columns if c.startswith("Effectifs salariés")]
    long = df.melt(id_vars=["Code commune", "Code APE"], value_vars=cols).dropna()
    long["period"] = long["variable"].str[-4:].astype(int)
    long["value"] = long["value"].astype(float)
    mine = _read(path).employment
    merged = mine.merge(
        long.rename(columns={"Code commune": "territory", "Code APE": "occupation"}),
        on=["territory", "occupation", "period"],
        suffixes=("", "_pd"),
        how="outer",
    )
    assert len(merged) == len(mine) == len(long)
    assert (merged["value"] == merged["value_pd"]).all()


def test_runnable_from_a_configuration(real_data, tmp_path):
    """format = "urssaf" (examples/real_files/rouen.toml) and format = "insee_cog"."""
    from pathlib import Path

    from gpec.config import load_config
    from gpec.pipeline import load_data

    toml = Path(__file__).resolve().parents[1] / "examples" / "real_files" / "rouen.toml"
    data = load_data(load_config(toml))
    assert set(data.tables) == {"employment", "occupations", "territories"}
    assert data.employment.groupby("period")["value"].sum().loc[2022] == 183731
    assert set(data.territories.loc[data.territories["level"] == "epci", "territory"]) == set(
        data.employment["territory"]
    )
    cog = tmp_path / "gpec.toml"
    tgz = real_data / "insee-cog" / "etalab-decoupage-administratif-6.0.0.tgz"
    cog.write_text(
        f'[data.territories]\npath = "{tgz.as_posix()}"\nformat = "insee_cog"\n', encoding="utf-8"
    )
    terr = load_data(load_config(cog)).territories.set_index("territory")
    assert terr.loc["200023414", "label"] == "Métropole Rouen Normandie"


def test_unknown_cells_are_not_zeros_in_forecasts_and_totals(tmp_path):
    """Two communes of one EPCI, sector FZ; commune b's 2022 cell is empty. Read as 0, the EPCI
    would fall from 150 to 100 jobs in 2022 and "no change" would forecast 100; read as unknown,
    the EPCI total of 2022 is 100 from 1 published cell of 2 (unknown_cells = 1), and commune b
    is forecast from its last published year."""
    from gpec.pipeline import run_pipeline

    head = (
        "Code région;Code département;Code zone d'emploi;Code EPCI;EPCI;Code commune;"
        "Nom commune;Secteur NA38;Code APE;APE"
    )
    years = range(2012, 2023)
    head += "".join(f";Nombre d'établissements {y};Effectifs salariés {y}" for y in years)
    rows = [head]
    for com, emp in (("76001", [100] * 11), ("76002", [50] * 10 + [None])):
        cells = "".join(f";2;{e}" if e is not None else ";;" for e in emp)
        rows.append(f"28;76;2815;200000001;CC Test;{com};Commune {com};FZ Construction;4120A;"
                    f"4120A Construction de bâtiments{cells}")  # fmt: skip
    p = tmp_path / "urssaf.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    epci = read_urssaf(p, sector_level="na38", territory_level="epci")
    cell = epci.extra["cells"].set_index("period").loc[2022]
    assert (cell["employment"], cell["n_cells"], cell["unknown_cells"]) == (100.0, 2, 1)
    com = read_urssaf(p, sector_level="na38")
    e = com.employment
    assert ("76002", 2022) not in set(zip(e["territory"], e["period"], strict=True))
    cfg = {"run": {"level": "commune"}, "forecast": {"models": "naive", "horizon": 2}}
    res = run_pipeline(com.replace(), cfg)
    fc = res.forecast[res.forecast["level"] == 80].set_index(["territory", "period"])
    assert fc.loc[("76002", 2024), "mean"] == pytest.approx(50.0)  # not 0
    assert fc.loc[("76002", 2024), "last_observed"] == 2021
    assert fc.loc[("76001", 2024), "mean"] == pytest.approx(100.0)
