"""Tests of the BMO reader (workbooks written here + the real 2023 and 2025 files)."""

import numpy as np
import pytest
from _helpers import missing_real_data, rome_export, write_workbook

from gpec.ingest._bmo import normalize_header, read_bmo
from gpec.ingest._errors import FormatError

H25 = [
    "annee",
    "Code métier BMO",
    "Nom métier BMO",
    "Famille_met",
    "Lbl_fam_met",
    "REG",
    "NOM_REG",
    "Dept",
    "NomDept",
    "BE25",
    "NOMBE25",
    "met",
    "xmet",
    "smet",
]
H23 = [
    "annee",
    "Code métier BMO",
    "Nom métier BMO",
    "Famille_met",
    "Lbl_fam_met",
    "BE23",
    "NOMBE23",
    "Dept",
    "NomDept",
    "REG",
    "NOM_REG",
    "met",
    "xmet",
    "smet",
]


def _rows25():
    # annee, Code métier BMO, Nom métier BMO, Famille_met, Lbl_fam_met
    it = [
        2025,
        "M2X90",
        "Ingénieurs et cadres d'étude, recherche et développement en informatique",
        "C",
        "Fonctions d'encadrement",
    ]
    farm = [2025, "A0X40", "Agriculteurs", "Z", "Autres métiers"]
    tiling = [2025, "B2X30", "Ouvriers en pose de revêtements", "O", "Ouvriers de la construction"]
    # REG, NOM_REG, Dept, NomDept, BE25, NOMBE25
    lyon = [84, "Auvergne-Rhône-Alpes", 69, "Rhône", 8201, "LYON"]
    lyon_ara = [84, "ARA", 69, "Rhône", 8201, "LYON"]
    marne_77 = [11, "Île-de-France", 77, "Seine-et-Marne", 1117, "Marne la Vallée"]
    marne_91 = [11, "Île-de-France", 91, "Essonne", 1117, "Marne la Vallée"]
    guadeloupe = ["Guadeloupe", "971", "Guadeloupe"]
    # each row ends with met, xmet, smet
    return [
        [*it, *lyon, "526", "371", "*"],
        [*farm, "01", *guadeloupe, 101, "BASSIN BASSE-TERRE", "46", "*", "46"],
        [*farm, 1, *guadeloupe, 102, "BASSIN GRANDE-TERRE", "*", "*", "*"],
        # a bassin spanning two départements: one row per part
        [*tiling, *marne_77, "99", "72", "*"],
        [*tiling, *marne_91, "*", "*", "*"],
        [*farm, 94, "Corse", "2A", "Corse-du-Sud", 9401, "AJACCIO", "12", "3", "0"],  # 0 stays 0
        [2025, "BAD", "Code faux", "Z", "Autres métiers", *lyon_ara, "5", "1", "0"],
        [*farm, *lyon_ara, "-3", "1", "0"],
        [None] * 14,
        [*it, *lyon, "1", "1", "1"],  # duplicate key
    ]


def _workbook(path, header, rows, data_sheet="BMO_2025_open_data", description=True):
    sheets = {}
    if description:
        sheets["Description_des_variables"] = [[None, None], ["Variable", "Description"]]
    sheets[data_sheet] = [header, *rows]
    return write_workbook(path, sheets)


@pytest.fixture
def bmo25(tmp_path):
    return _workbook(tmp_path / "Base_open_data_BMO_2025.xlsx", H25, _rows25())


def test_normalize_header():
    assert normalize_header("Code métier BMO") == "code_metier_bmo"
    assert normalize_header(" NOM_REG ") == "nom_reg"


def test_bmo_2025_layout(bmo25):
    data = read_bmo(bmo25)
    hi = data.hiring_intentions
    assert data.meta["occupation_system"] == "FAP2021"
    assert set(data.occupations["system"]) == {"FAP2021"}
    lyon = hi[(hi["territory"] == "BE8201") & (hi["occupation"] == "M2X90")].iloc[0]
    assert lyon["projects"] == 526 and lyon["difficult"] == 371
    assert np.isnan(lyon["seasonal"])  # '*' -> null, never 0
    g = hi[(hi["territory"] == "BE0102")].iloc[0]
    assert np.isnan(g[["projects", "difficult", "seasonal"]].astype(float)).all()
    assert (hi[["projects", "difficult", "seasonal"]] != 0).any().any()
    assert hi["period"].tolist() == [2025] * len(hi)
    terr = data.territories.set_index("territory")
    assert terr.loc["BE0101", "parent"] == "971"  # bassin code 101 padded to 0101
    assert terr.loc["971", "parent"] == "R01"  # région stored as number 1 -> 01
    assert terr.loc["R01", "parent"] == "FR" and terr.loc["R01", "code"] == "01"
    assert terr.loc["971", "level"] == "departement"
    # split bassin: one territory per département part
    assert terr.loc["BE1117-77", "parent"] == "77"
    assert terr.loc["BE1117-91", "label"] == "Marne la Vallée (Essonne)"
    assert terr.loc["BE1117-91", "bassin"] == "1117"
    assert data.meta["split_bassins"] == ["1117"]
    assert terr.loc["2A", "parent"] == "R94"
    assert hi.set_index("territory").loc["BE9401", "seasonal"] == 0
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


def test_bmo_rejections_and_accounting(bmo25):
    data = read_bmo(bmo25)
    acc = data.meta["row_accounting"]["Base_open_data_BMO_2025.xlsx"]
    assert acc["read"] == 10
    assert acc["read"] == acc["kept"] + acc["rejected"]
    assert acc["kept"] == len(data.hiring_intentions) == 6
    rej = data.rejected.set_index("row")
    assert rej.loc[8, "column"] == "Code métier BMO"
    assert rej.loc[9, "reason"].startswith("not a count") and rej.loc[9, "value"] == "-3"
    assert rej.loc[10, "reason"] == "empty row"
    assert rej.loc[11, "reason"] == "duplicate key"


def test_bmo_2023_layout_found_by_name(tmp_path):
    order = [H25.index(h.replace("23", "25")) for h in H23]
    rows = [[r[i] for i in order] for r in _rows25()[:5]]
    for r in rows:
        r[0] = 2023
        r[1] = r[1].replace("X", "Z")
    path = _workbook(tmp_path / "Base_open_data_23.xlsx", H23, rows, "BMO_2023_open_data")
    data = read_bmo(path)
    assert data.meta["occupation_system"] == "FAP2009"
    assert data.meta["columns"]["bassin"] == "BE23"
    hi = data.hiring_intentions.set_index(["territory", "occupation"])
    assert hi.loc[("BE8201", "M2Z90"), "projects"] == 526
    assert set(hi.reset_index()["period"]) == {2023}


def test_bmo_wrong_kind_of_file(tmp_path):
    other = _workbook(tmp_path / "other.xlsx", ["a", "b"], [[1, 2]], "Feuil1", description=False)
    with pytest.raises(FormatError, match="not a BMO workbook"):
        read_bmo(other)
    rome = rome_export(tmp_path / "rome", '"code_rome"\n"A1101"\n')
    with pytest.raises(FormatError, match="folder"):
        read_bmo(rome)
    with pytest.raises(FormatError, match="not a BMO table"):
        read_bmo(rome / "unix_referentiel_code_rome_v460_utf8.csv")


# ----------------------------------------------------------------------------- real files
@pytest.mark.slow
@pytest.mark.parametrize(
    "name,year,system,total,rows",
    [
        ("Base_open_data_23.xlsx", 2023, "FAP2009", 3_013_134, 50_437),
        ("Base_open_data_BMO_2025.xlsx", 2025, "FAP2021", 2_401_105, 50_076),
    ],
)
def test_real_bmo(real_data, name, year, system, total, rows):
    path = real_data / "bmo-france-travail" / name
    if not path.exists():
        missing_real_data(f"{name} not present")
    data = read_bmo(path)
    acc = data.meta["row_accounting"][name]
    assert acc["read"] == rows and acc["read"] == acc["kept"] + acc["rejected"]
    hi = data.hiring_intentions
    assert hi["projects"].sum() == total  # non-masked total published in SOURCE.md
    assert data.meta["occupation_system"] == system and data.meta["year"] == [year]
    masked = data.meta["masked"]["projects"]
    assert masked == hi["projects"].isna().sum() and masked > 0.15 * rows
    terr = data.territories
    b = terr[terr["level"] == "bassin_emploi"]
    assert b["code"].str.fullmatch(r"\d{4}").all()
    assert b["code"].nunique() in (405, 406)
    assert (terr["level"] == "region").sum() == 18
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


def test_bmo_csv_export(tmp_path):
    rows = _rows25()[:3]
    lines = [";".join(H25)] + [";".join("" if v is None else str(v) for v in r) for r in rows]
    p = tmp_path / "bmo_2025.csv"
    p.write_bytes("\n".join(lines).encode("cp1252"))
    data = read_bmo(p)
    assert data.meta["separator"] == ";" and data.meta["encoding"] == "cp1252"
    hi = data.hiring_intentions.set_index("territory")
    assert hi.loc["BE0101", "projects"] == 46 and np.isnan(hi.loc["BE0101", "difficult"])
    assert data.territories.set_index("territory").loc["971", "parent"] == "R01"
