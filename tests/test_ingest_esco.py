"""Tests of the ESCO and O*NET readers."""

import pytest
from _helpers import missing_real_data

from gpec.ingest._errors import FormatError
from gpec.ingest._esco import read_esco, read_onet

O1 = "http://data.europa.eu/esco/occupation/0b1e2c3d-0000-4000-8000-000000000001"
O2 = "http://data.europa.eu/esco/occupation/0b1e2c3d-0000-4000-8000-000000000002"
S1 = "http://data.europa.eu/esco/skill/7a1b2c3d-0000-4000-8000-000000000010"
S2 = "http://data.europa.eu/esco/skill/7a1b2c3d-0000-4000-8000-000000000011"


def _esco(folder):
    (folder / "occupations_fr.csv").write_text(
        "conceptType,conceptUri,iscoGroup,preferredLabel,altLabels,description\n"
        f'Occupation,{O1},2512,développeur logiciels/développeuse logiciels,"développeur\n'
        'programmeur",Conçoit des logiciels.\n'
        f"Occupation,{O2},2512,développeur web/développeuse web,,\n",
        encoding="utf-8",
    )
    (folder / "ISCOGroups_fr.csv").write_text(
        "conceptType,conceptUri,code,preferredLabel,altLabels,description\n"
        "ISCOGroup,http://data.europa.eu/esco/isco/C2,2,Professions intellectuelles,,\n"
        "ISCOGroup,http://data.europa.eu/esco/isco/C25,25,Spécialistes TIC,,\n"
        "ISCOGroup,http://data.europa.eu/esco/isco/C251,251,Concepteurs de logiciels,,\n"
        "ISCOGroup,http://data.europa.eu/esco/isco/C2512,2512,Concepteurs de logiciels,,\n",
        encoding="utf-8",
    )
    (folder / "skills_fr.csv").write_text(
        "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,description\n"
        f"KnowledgeSkillCompetence,{S1},skill/competence,cross-sector,programmer,,\n"
        f"KnowledgeSkillCompetence,{S2},knowledge,sector-specific,Python,,\n",
        encoding="utf-8",
    )
    (folder / "broaderRelationsOccPillar.csv").write_text(
        "conceptType,conceptUri,broaderType,broaderUri\n"
        f"Occupation,{O2},Occupation,{O1}\n"
        "ISCOGroup,http://data.europa.eu/esco/isco/C25,ISCOGroup,http://data.europa.eu/esco/isco/C2\n",
        encoding="utf-8",
    )
    (folder / "occupationSkillRelations_fr.csv").write_text(
        "occupationUri,relationType,skillType,skillUri\n"
        f"{O1},essential,skill/competence,{S1}\n{O1},optional,knowledge,{S2}\n"
        f"{O2},related,knowledge,{S2}\n{O2},essential,knowledge,"
        "http://data.europa.eu/esco/skill/7a1b2c3d-0000-4000-8000-000000000099\n",
        encoding="utf-8",
    )
    return folder


def test_esco_fixture(tmp_path):
    data = read_esco(_esco(tmp_path))
    occ = data.occupations.set_index("occupation")
    assert occ.loc[O1, "alt_labels"] == "développeur\nprogrammeur"  # multi-line field
    assert occ.loc[O1, "parent"] == "2512" and occ.loc[O2, "parent"] == O1
    assert occ.loc["2512", "system"] == "ISCO08" and occ.loc["2512", "parent"] == "251"
    w = data.occupation_skills.set_index(["occupation", "skill"])["weight"]
    assert w[(O1, S1)] == 1.0 and w[(O1, S2)] == 0.5
    assert data.skills.set_index("skill").loc[S2, "kind"] == "knowledge"
    rej = data.rejected
    assert set(rej["reason"]) == {"unknown relationType", "unknown skill"}
    for c in data.meta["row_accounting"].values():
        assert c["read"] == c["kept"] + c["rejected"]
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)
    w2 = read_esco(tmp_path, optional_weight=0.2).occupation_skills
    assert w2["weight"].min() == 0.2


def test_esco_wrong_kind(tmp_path):
    with pytest.raises(FormatError, match="no occupations"):
        read_esco(tmp_path)
    with pytest.raises(FormatError):
        read_esco(tmp_path / "x.csv")


def test_onet_text_release(tmp_path):
    head = (
        "O*NET-SOC Code\tElement ID\tElement Name\tScale ID\tData Value\tN\tStandard Error\t"
        "Lower CI Bound\tUpper CI Bound\tRecommend Suppress\tNot Relevant\tDate\t"
        "Domain Source\n"
    )
    rows = [
        "15-1252.00\t2.A.1.a\tReading Comprehension\tIM\t3.88\t8\t0.12\t3.63\t4.12\tN\tn/a"
        "\t08/2023\tAnalyst",
        "15-1252.00\t2.A.1.a\tReading Comprehension\tLV\t4.25\t8\t0.16\t3.92\t4.58\tN\tN"
        "\t08/2023\tAnalyst",
        "15-1252.00\t2.A.1.b\tActive Listening\tIM\t5\t8\t0\t5\t5\tY\tn/a\t08/2023\tAnalyst",
        "15-12X2.00\t2.A.1.b\tActive Listening\tIM\t2\t8\t0\t5\t5\tN\tn/a\t08/2023\tAnalyst",
    ]
    (tmp_path / "Skills.txt").write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "Occupation Data.txt").write_text(
        "O*NET-SOC Code\tTitle\tDescription\n15-1252.00\tSoftware Developers\tx\n"
    )
    data = read_onet(tmp_path)
    osk = data.occupation_skills.set_index(["occupation", "skill"])["weight"]
    assert osk[("15-1252.00", "2.A.1.a")] == pytest.approx((3.88 - 1) / 4)
    assert len(osk) == 1  # suppressed and bad-code rows rejected
    assert data.extra["skill_levels"]["level"].tolist() == [4.25]
    assert data.occupations["label"].tolist() == ["Software Developers"]
    acc = data.meta["row_accounting"]["Skills.txt"]
    assert acc == {"read": 4, "kept": 2, "rejected": 2}
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)
    kept = read_onet(tmp_path / "Skills.txt", keep_suppressed=True).occupation_skills
    assert kept.set_index("skill").loc["2.A.1.b", "weight"] == 1.0
    assert bool(kept.set_index("skill").loc["2.A.1.b", "suppress"])
    with pytest.raises(FormatError, match="no O\\*NET"):
        read_onet(tmp_path / "empty_dir_missing")


def test_real_esco(real_data):
    for sub in ("esco/v1.0-fr", "esco/v1.0-en"):
        folder = real_data / sub
        if not folder.is_dir():
            continue
        data = read_esco(folder)
        occ = data.occupations
        assert (occ["system"] == "ESCO").sum() == 2942
        assert (occ["system"] == "ISCO08").sum() == 619
        for c in data.meta["row_accounting"].values():
            assert c["read"] == c["kept"] + c["rejected"]
        # the kept rows are all valid; the reader's own rejections are in data.rejected
        assert len(data.validate(strict=False).rejected) == len(data.rejected)
    fr = real_data / "esco/v1.0-fr"
    if fr.is_dir():
        assert len(read_esco(fr).skills) == 13485 + 17


@pytest.mark.slow
def test_real_onet(real_data):
    folder = real_data / "onet"
    if not folder.is_dir():
        missing_real_data("O*NET files not present")
    data = read_onet(folder)
    acc = data.meta["row_accounting"]
    assert acc["Skills.xlsx"]["read"] == 61530 and acc["Knowledge.xlsx"]["read"] == 58014
    for c in acc.values():
        assert c["read"] == c["kept"] + c["rejected"]
    assert len(data.occupations) == 879
    w = data.occupation_skills["weight"]
    assert w.between(0, 1).all()
    # the kept rows are all valid; the reader's own rejections are in data.rejected
    assert len(data.validate(strict=False).rejected) == len(data.rejected)
