"""Tests of the INSEE geography reader (fixtures written from formats.md §5)."""

import pytest
from _helpers import write_workbook

from gpec.ingest._errors import FormatError
from gpec.ingest._geography import read_insee_geography

COMMUNES = """TYPECOM,COM,REG,DEP,CTCD,ARR,TNCC,NCC,NCCENR,LIBELLE,CAN,COMPARENT
COM,2A004,94,2A,20R,2A1,0,AJACCIO,Ajaccio,Ajaccio,2AZZ,
COM,75056,11,75,75C,751,0,PARIS,Paris,Paris,75ZZ,
ARM,75103,,,,,0,PARIS 3E ARRONDISSEMENT,Paris 3e Arrondissement,Paris 3e Arrondissement,,75056
COM,76540,28,76,76D,763,0,ROUEN,Rouen,Rouen,7699,
COM,76451,28,76,76D,763,0,MONT SAINT AIGNAN,Mont-Saint-Aignan,Mont-Saint-Aignan,7699,
COM,14118,28,14,14D,141,0,CAEN,Caen,Caen,1499,
COMD,14118,,,,,0,CAEN,Caen,Caen,,14118
COM,97411,04,974,974D,9741,0,SAINT DENIS,Saint-Denis,Saint-Denis,97ZZ,
COM,7X001,28,76,,,0,BAD,Bad,Bad,,
"""
DEPS = """DEP,REG,CHEFLIEU,TNCC,NCC,NCCENR,LIBELLE
2A,94,2A004,3,CORSE DU SUD,Corse-du-Sud,Corse-du-Sud
75,11,75056,0,PARIS,Paris,Paris
76,28,76540,3,SEINE MARITIME,Seine-Maritime,Seine-Maritime
14,28,14118,2,CALVADOS,Calvados,Calvados
974,04,97411,0,LA REUNION,La Réunion,La Réunion
"""
REGS = """REG,CHEFLIEU,TNCC,NCC,NCCENR,LIBELLE
04,97411,0,LA REUNION,La Réunion,La Réunion
11,75056,1,ILE DE FRANCE,Île-de-France,Île-de-France
28,76540,0,NORMANDIE,Normandie,Normandie
94,2A004,0,CORSE,Corse,Corse
"""


def _workbook(path, sheets):
    # five title rows, then the header on row 6
    titles = [["Intercommunalités au 1er janvier 2024"], [], ["Source : Insee"], [], []]
    return write_workbook(
        path, {name: [*titles, header, *rows] for name, (header, rows) in sheets.items()}
    )


def _read_cog(folder, **kwargs):
    """Read the three COG files of ``folder`` (communes, départements, régions)."""
    return read_insee_geography(
        folder / "v_commune_2024.csv",
        departements=folder / "v_departement_2024.csv",
        regions=folder / "v_region_2024.csv",
        **kwargs,
    )


@pytest.fixture
def files(tmp_path):
    (tmp_path / "v_commune_2024.csv").write_text(COMMUNES, encoding="utf-8")
    (tmp_path / "v_departement_2024.csv").write_text(DEPS, encoding="utf-8")
    (tmp_path / "v_region_2024.csv").write_text(REGS, encoding="utf-8")
    epci = _workbook(
        tmp_path / "Intercommunalite_Metropole_au_01-01-2024.xlsx",
        {
            "EPCI": (
                ["EPCI", "LIBEPCI", "NATURE_EPCI", "NB_COM"],
                [
                    ["200023414", "Métropole Rouen Normandie", "ME", 71],
                    ["200065597", "Caen la Mer", "CU", 48],
                ],
            ),
            "Composition_communale": (
                ["CODGEO", "LIBGEO", "EPCI", "LIBEPCI", "DEP", "REG"],
                [
                    ["76540", "Rouen", "200023414", "Métropole Rouen", "76", "28"],
                    ["76451", "Mont-Saint-Aignan", "200023414", "Métropole Rouen", "76", "28"],
                    ["14118", "Caen", "200065597", "Caen la Mer", "14", "28"],
                    ["75056", "Paris", "ZZZZZZZZZ", "Sans objet", "75", "11"],
                ],
            ),
        },
    )
    ze = _workbook(
        tmp_path / "ZE2020_au_01-01-2024.xlsx",
        {
            "ZE2020": (
                ["ZE2020", "LIBZE2020"],
                [["2805", "Rouen"], ["2802", "Caen"], [51, "Alençon"]],
            ),
            "Composition_communale": (
                ["CODGEO", "LIBGEO", "ZE2020", "LIBZE2020", "ZE2020_PARTIE_REG", "DEP", "REG"],
                [
                    ["76540", "Rouen", "2805", "Rouen", 0, "76", "28"],
                    ["14118", "Caen", "2802", "Caen", 0, "14", "28"],
                ],
            ),
        },
    )
    return tmp_path, epci, ze


def test_cog_hierarchy(files):
    folder, _, _ = files
    data = _read_cog(folder)
    t = data.territories.set_index("territory")
    assert t.loc["2A004", "parent"] == "2A" and t.loc["2A", "parent"] == "R94"
    assert t.loc["R94", "parent"] == "FR" and t.loc["R04", "label"] == "La Réunion"
    assert t.loc["04" if "04" in t.index else "974", "parent"] == "R04"
    assert t.loc["75103", "level"] == "arrondissement_municipal"
    assert t.loc["75103", "parent"] == "75056"
    assert t.loc["97411", "parent"] == "974"
    acc = data.meta["row_accounting"]["v_commune_2024.csv"]
    assert acc == {"read": 9, "kept": 7, "rejected": 2}
    reasons = set(data.rejected["reason"])
    assert "commune associée or déléguée: not a territory of its own" in reasons
    assert any(r.startswith("not a commune code") for r in reasons)
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


def test_epci_and_ze(files):
    folder, epci, ze = files
    data = _read_cog(folder, epci=epci, zones_emploi=ze)
    t = data.territories.set_index("territory")
    assert t.loc["76540", "parent"] == "200023414"  # commune -> EPCI
    assert t.loc["200023414", "parent"] == "76" and t.loc["200023414", "level"] == "epci"
    assert t.loc["75056", "parent"] == "75"  # no EPCI (ZZZZZZZZZ): falls back to département
    assert t.loc["0051", "label"] == "Alençon"  # 51 stored as a number -> 0051
    assert t.loc["2805", "level"] == "zone_emploi"
    m = data.extra["memberships"]
    assert set(m.loc[m["commune"] == "76540", "level"]) == {"epci", "zone_emploi", "departement"}
    for c in data.meta["row_accounting"].values():
        assert c["read"] == c["kept"] + c["rejected"]
    rej = data.rejected
    assert "ZZZZZZZZZ" in set(rej["value"])
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)
    ze_parent = read_insee_geography(
        folder / "v_commune_2024.csv", zones_emploi=ze, commune_parent="zone_emploi"
    )
    assert ze_parent.territories.set_index("territory").loc["14118", "parent"] == "2802"


def test_wrong_kind(files, tmp_path):
    folder, epci, _ = files
    with pytest.raises(FormatError, match="missing column"):
        read_insee_geography(folder / "v_region_2024.csv")
    with pytest.raises(FormatError, match="no sheet"):
        read_insee_geography(zones_emploi=epci)
    with pytest.raises(ValueError):
        read_insee_geography()


def _appartenance(tmp_path, rows):
    """A table d'appartenance whose sheet COM holds ``rows``."""
    header = ["CODGEO", "LIBGEO", "DEP", "REG", "EPCI", "NATURE_EPCI", "ZE2020"]
    return _workbook(tmp_path / "table-appartenance-geo-communes-24.xlsx", {"COM": (header, rows)})


def test_table_appartenance(files, tmp_path):
    folder, epci, _ = files
    app = _appartenance(
        tmp_path,
        [
            ["76540", "Rouen", "76", "28", "200023414", "ME", "2805"],
            ["14118", "Caen", "14", "28", "200065597", "CU", "2802"],
            [1001, "L'Abergement-Clémenciat", "01", "84", "200069193", "CC", 8401],
            ["97411", "Saint-Denis", "974", "4", "249740119", "CA", "0401"],
            ["75056", "Paris", "75", "11", "ZZZZZZZZZ", "ZZ", "1109"],
            ["7X001", "Bad", "76", "28", "200023414", "ME", "2805"],
        ],
    )
    data = read_insee_geography(appartenance=app, epci=epci)
    t = data.territories.set_index("territory")
    assert t.loc["01001", "parent"] == "200069193"  # 1001 stored as a number -> 01001
    assert t.loc["200069193", "parent"] == "01" and t.loc["01", "parent"] == "R84"
    assert t.loc["97411", "parent"] == "249740119" and t.loc["974", "parent"] == "R04"
    assert t.loc["200023414", "label"] == "Métropole Rouen Normandie"  # from the EPCI file
    assert t.loc["75056", "parent"] == "75"
    assert data.meta["communes_without_epci"] == 1
    m = data.extra["memberships"]
    assert m.loc[
        (m["commune"] == "01001") & (m["level"] == "zone_emploi"), "territory"
    ].tolist() == ["8401"]
    for c in data.meta["row_accounting"].values():
        assert c["read"] == c["kept"] + c["rejected"]
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)
    assert not m.duplicated(["commune", "level", "territory"]).any()


def test_table_appartenance_reports_each_bad_row_once(files, tmp_path):
    """A code both malformed and repeated is rejected once (as malformed); a valid code
    repeated keeps its first row and rejects the second as a duplicate key."""
    folder, epci, _ = files
    rest = ["76", "28", "200023414", "ME", "2805"]  # DEP, REG, EPCI, NATURE_EPCI, ZE2020
    app = _appartenance(
        tmp_path,
        [
            ["76540", "Rouen", *rest],
            ["7X001", "Bad", *rest],
            ["76540", "Rouen again", *rest],
            ["7X001", "Bad again", *rest],
        ],
    )
    data = read_insee_geography(appartenance=app, epci=epci)
    rej = data.rejected[data.rejected["value"].astype(str).isin(["7X001", "76540"])]
    assert len(rej) == 3, rej
    assert rej.duplicated(["row"]).sum() == 0
    dup = rej[rej["value"].astype(str) == "76540"]
    assert len(dup) == 1 and "duplicate" in dup["reason"].iloc[0]
    (acc,) = [c for k, c in data.meta["row_accounting"].items() if "COM" in k]
    assert acc["read"] == 4 and acc["kept"] == 1 and acc["rejected"] == 3
