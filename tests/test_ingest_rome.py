"""Tests of the ROME reader (fixtures written by hand + the real v460 and v347 exports)."""

import csv
import io
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from _helpers import csv_records, missing_real_data, rome_export

from gpec.ingest._errors import FormatError
from gpec.ingest._rome import read_rome

FIXTURE = Path(__file__).parent / "fixtures" / "rome4_v499"


def _count_rows(raw: bytes) -> int:
    """Data rows of a CSV file, counted with the csv module (independent of the reader)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-15")
    return sum(1 for _ in csv.reader(io.StringIO(text))) - 1


def _assert_accounting(data, folder: Path):
    acc = data.meta["row_accounting"]
    assert acc, "no file accounted"
    rej = data.rejected
    for file, c in acc.items():
        assert c["read"] == _count_rows((folder / file).read_bytes()), file
        assert c["read"] == c["kept"] + c["rejected"], file
        assert rej.loc[rej["file"] == file, "row"].nunique() == c["rejected"], file


def test_fixture_tables_and_weights():
    data = read_rome(FIXTURE)
    occ = data.occupations.set_index("occupation")
    assert occ.loc["M1805", "label"] == "Développeur / Développeuse informatique"
    assert occ.loc["M1805", "parent"] == "M18"
    assert occ.loc["M18", "parent"] == "M"
    assert occ.loc["M18", "label"] == "Systèmes d'information et de télécommunication"  # '' -> '
    assert occ.loc["M", "level"] == "grand_domaine"
    assert set(occ["system"]) == {"ROME4"}
    assert data.meta["version"] == "499"
    assert data.meta["version_info"]["Numero de version"] == "99"

    w = data.occupation_skills.set_index(["occupation", "skill"])["weight"]
    assert w[("M1805", "300123")] == 1.0  # Principale
    assert w[("M1805", "300124")] == 0.5  # empty
    assert w[("M1805", "200501")] == 0.5  # Émergente
    data2 = read_rome(FIXTURE, other_weight=0.25)
    w2 = data2.occupation_skills.set_index(["occupation", "skill"])["weight"]
    assert w2[("M1805", "300124")] == 0.25
    with pytest.raises(ValueError, match="other_weight"):
        read_rome(FIXTURE, other_weight=2)


def test_fixture_skill_tree_and_kinds():
    data = read_rome(FIXTURE)
    sk = data.skills.set_index("skill")
    assert sk.loc["300124", "parent"] == "300123"
    assert sk.loc["300123", "kind"] == "macro_competence"
    assert sk.loc["300123", "parent"] == "2B1"
    assert sk.loc["2B1", "label"] == "Développer des solutions numériques"
    assert sk.loc["2B1", "parent"] == "2B"
    assert sk.loc["2B", "label"] == "Data et Nouvelles technologies"
    assert sk.loc["2B", "parent"] == "2"
    assert sk.loc["300125", "kind"] == "savoir_etre"
    assert sk.loc["200501", "kind"] == "savoir"
    assert sk.loc["200501", "category"] == "Domaines d'expertise"


def test_fixture_rejections_and_accounting():
    data = read_rome(FIXTURE)
    _assert_accounting(data, FIXTURE)
    rej = data.rejected
    reasons = set(zip(rej["file"], rej["reason"], strict=True))
    code_file = "unix_referentiel_code_rome_v499_utf8.csv"
    assert (code_file, "not a ROME code (letter + 4 digits)") in reasons
    assert (code_file, "duplicate key") in reasons
    bad = rej[(rej["file"] == code_file) & (rej["value"] == "F17X3")]
    assert bad["row"].tolist() == [5] and bad["column"].tolist() == ["code_rome"]
    coh = rej[rej["file"] == "unix_coherence_item_v499_utf8.csv"]
    assert set(coh["reason"]) >= {"unknown ROME fiche", "duplicate key"}
    assert any("unknown item code" in r for r in coh["reason"])
    # the work context link went to occupation_contexts, not to occupation_skills
    ctx = data.extra["occupation_contexts"]
    assert ctx[["occupation", "context"]].values.tolist() == [["M1805", "23374"]]
    assert "23374" not in set(data.occupation_skills["skill"])
    # everything that was kept validates together
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


def test_fixture_extra_tables():
    data = read_rome(FIXTURE)
    texts = data.extra["occupation_texts"].set_index("occupation")
    assert list(data.extra["occupation_texts"].columns[:4]) == [
        "occupation",
        "label",
        "definition",
        "access",
    ]
    assert texts.loc["M1805", "definition"] == (
        "Conçoit et développe des applications.\nRédige la documentation d'utilisation."
    )
    assert texts.loc["M1805", "access"] == "Accessible avec un Bac+2 à Bac+5."
    assert texts.loc["M1855", "definition"] is None  # no text: null, row still present
    app = data.extra["appellations"]
    assert set(app["appellation"]) == {"14153", "38584", "11600"}
    assert app["appellation"].map(type).eq(str).all()
    mob = data.extra["mobility"]
    assert len(mob) == 2  # F1703 -> A1101 rejected: A1101 not in this export
    cw = data.crosswalks
    assert cw.set_index("source").loc["M1855", "target"] == "M1805"


def test_non_utf8_file_fallback_reported():
    data = read_rome(FIXTURE)
    f = "unix_arborescence_secteur_naf_v499_utf8.csv"
    assert data.meta["encoding_fallbacks"][f]["lines"] == 1
    assert data.meta["encoding_fallbacks"][f]["first_lines"] == [2]
    sec = data.extra["occupation_sectors"]
    assert "Programmation, conseil et autres activités informatiques" in set(sec["sector_label"])
    assert "Travaux de construction spécialisés" in set(sec["sector_label"])  # UTF-8 lines intact
    assert set(sec["sector"]) == {"62", "43", "01"}  # NAF division zero-padded


def test_zip_export(tmp_path):
    zpath = tmp_path / "RefRomeCsv.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for p in FIXTURE.iterdir():
            z.write(p, f"RefRomeCsv/{p.name}")
    a, b = read_rome(zpath), read_rome(FIXTURE)
    pd.testing.assert_frame_equal(a.occupations, b.occupations)
    pd.testing.assert_frame_equal(a.occupation_skills, b.occupation_skills)
    assert a.meta["version_info"] == b.meta["version_info"]


def test_rome_v3_layout(tmp_path):
    files = {
        "unix_referentiel_code_rome_v347_utf8.csv": '"code_rome","code_fiche_em","code_ogr","libelle_rome","statut"\n'
        '"A1204","13","10","Protection du patrimoine naturel","1"\n'
        '"M1805","567","494","Études et développement informatique","1"\n',
        "unix_referentiel_competence_v347_utf8.csv": '"code_ogr","libelle_competence","code_type_competence","libelle_type_competence",'
        '"statut"\n"100007","Techniques d\'\'analyse","1","SAVOIRS THEORIQUES ET PROCEDURAUX","1"\n',
        "unix_liens_rome_referentiels_v347_utf8.csv": '"code_rome","code_ogr","code_ref_rubrique","position_bloc","code_type_referentiel",'
        '"code_compo_bloc","position_item","id_priorisation"\n'
        '"M1805","100007","7","1","1","8","1","1"\n'
        '"A1204","100007","10","1","1","9","1","1"\n'
        '"A1204","10","2","1","3","2","1","1"\n'
        '"A1204","555555","9","1","2","9","1","1"\n',
        "unix_texte_v347_utf8.csv": '"code_rome","position_libelle_txt","code_type_texte","libelle_texte",'
        '"libelle_type_texte"\n"A1204","0","1","Protège la nature.","definition"\n'
        '"A1204","0","2","Accessible avec un CAP.","acces_a_em"\n',
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    data = read_rome(tmp_path)
    occ = data.occupations.set_index("occupation")
    assert set(occ["system"]) == {"ROME3"}
    assert occ.loc["A", "label"].startswith("Agriculture")  # built-in grand domaine label
    assert occ.loc["A12", "label"] == "Domaine professionnel A12"  # placeholder, noted in meta
    assert any("domaine professionnel label" in n for n in data.meta["notes"])
    w = data.occupation_skills.set_index(["occupation", "skill"])["weight"]
    assert w[("M1805", "100007")] == 1.0 and w[("A1204", "100007")] == 0.5
    assert data.skills.set_index("skill").loc["100007", "label"] == "Techniques d'analyse"
    texts = data.extra["occupation_texts"].set_index("occupation")
    assert texts.loc["A1204", "access"] == "Accessible avec un CAP."
    _assert_accounting(data, tmp_path)
    assert data.rejected["reason"].str.contains("unknown item code").sum() == 1


def test_wrong_kind_of_input(tmp_path):
    with pytest.raises(FormatError, match="not a ROME export"):
        read_rome(tmp_path)
    bad = rome_export(tmp_path / "bad", '"a","b"\n"1","2"\n')
    with pytest.raises(FormatError, match="missing column"):
        read_rome(bad)


# ----------------------------------------------------------------------------- real files
def test_real_rome_v460(real_data):
    folder = real_data / "rome4-v460"
    if not folder.is_dir():
        missing_real_data("rome4-v460 not present")
    t0 = time.perf_counter()
    data = read_rome(folder)
    elapsed = time.perf_counter() - t0
    assert elapsed < 10, elapsed
    occ = data.occupations
    assert (occ["level"] == "fiche").sum() == 1584
    assert occ["occupation"].is_unique
    assert occ.loc[occ["level"] == "fiche", "occupation"].str.fullmatch(r"[A-N]\d{4}").all()
    assert data.meta["version_info"]["Numero de version"] == "60"
    _assert_accounting(data, folder)
    f = "unix_arborescence_secteur_naf_v460_utf8.csv"
    assert f in data.meta["encoding_fallbacks"]
    labels = set(data.extra["occupation_sectors"]["occupation_label"])
    assert "Jardinier / Jardinière paysagiste" in labels  # Latin-9 line decoded, not mangled
    assert "Manœuvre bâtiment" in labels  # œ is 0xBD in ISO-8859-15 (not ½ as in cp1252)
    sec = data.extra["occupation_sectors"]
    assert len(sec) == 2920 and sec["sector"].str.fullmatch(r"\d{2}").all()
    kinds = data.skills["kind"].value_counts()
    assert kinds["macro_competence"] == 507 and kinds["savoir"] == 15354
    assert kinds["enjeu"] > 20 and kinds["objectif"] > 60 and kinds["domaine_competence"] == 6
    w = data.occupation_skills["weight"]
    assert set(w.unique()) == {1.0, 0.5}
    assert (w == 1.0).sum() == (data.occupation_skills["coeur_metier"] == "Principale").sum()
    texts = data.extra["occupation_texts"]
    assert len(texts) == 1584 and texts["definition"].notna().all()
    assert not texts["definition"].str.contains("''", regex=False).any()
    # one row per record of the official files, counted with the csv module
    appellations = csv_records(folder / "unix_referentiel_appellation_v460_utf8.csv")
    assert len(data.extra["appellations"]) == appellations
    assert len(data.extra["mobility"]) == csv_records(
        folder / "unix_rubrique_mobilite_v460_utf8.csv"
    )
    assert len(data.crosswalks) == 1584 and data.crosswalks["target"].nunique() == 532
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


def test_real_rome_v347(real_data):
    folder = real_data / "rome3-v347-bob-emploi"
    if not folder.is_dir():
        missing_real_data("rome3-v347 not present")
    data = read_rome(folder)
    occ = data.occupations
    assert (occ["level"] == "fiche").sum() == 531
    assert set(occ["system"]) == {"ROME3"}
    _assert_accounting(data, folder)
    texts = data.extra["occupation_texts"]
    assert len(texts) == 531
    assert texts["definition"].notna().sum() > 450
    assert len(data.skills) == 4949
    assert set(data.occupation_skills["weight"]) == {1.0, 0.5}
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


def test_dtypes_codes_are_str_weights_float():
    data = read_rome(FIXTURE)
    assert data.occupation_skills["weight"].dtype == float
    for table, col in (
        ("occupations", "occupation"),
        ("skills", "skill"),
        ("occupation_skills", "skill"),
    ):
        assert data[table][col].map(type).eq(str).all()
