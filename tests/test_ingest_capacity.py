"""Training capacity (Affelnet, Parcoursup), Certif Info and InserJeunes readers, on the real
files (row accounting, totals and code shares recomputed with the csv module only) and on small
hand-written files (errors, cohorts, outcome rates, entrants by hand)."""

from __future__ import annotations

import csv
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from gpec.ingest import (
    FormatError,
    annual_cohorts,
    departement_of_uai,
    outcome_rates,
    read_certifinfo,
    read_inserjeunes,
    read_training_capacity,
)

_CACHE: dict = {}
AFF22 = "attractivite_capacite_2022.csv"
BTS22 = "BTS_attractivite_capacite_2022.csv"


def _rows(path, encoding="utf-8-sig"):
    """Header and data rows of a ';' file, with the csv module only (no gpec code)."""
    if str(path) not in _CACHE:
        with open(path, encoding=encoding, newline="") as fh:
            rows = list(csv.reader(fh, delimiter=";"))
        _CACHE[str(path)] = (rows[0], rows[1:])
    return _CACHE[str(path)]


def _cached(key, fn):
    if key not in _CACHE:
        _CACHE[key] = fn()
    return _CACHE[key]


@pytest.fixture
def cap_dir(real_data):
    return real_data / "training-capacity"


@pytest.fixture
def certif(real_data):
    d = real_data / "certifinfo"
    return _cached(
        "certif",
        lambda: read_certifinfo(d / "certif_info.csv", kit=d / "CodeDiplome_RNCP_latest_kit.csv"),
    )


@pytest.fixture
def affelnet(cap_dir, certif):
    return _cached("aff22", lambda: read_training_capacity(cap_dir / AFF22, certifinfo=certif))


# ----------------------------------------------------------------------------- Affelnet
def test_affelnet_rows_schools_and_seats_match_the_file(cap_dir, affelnet):
    header, rows = _rows(cap_dir / AFF22)
    i_uai, i_cap = header.index("Etablissement d'accueil"), header.index("Capacité carte scolaire")
    acc = affelnet.meta["row_accounting"][AFF22]
    assert acc == {"read": len(rows), "kept": len(rows), "rejected": 0}
    off = affelnet.training_offers
    assert len(off) == len(rows) and off["offer"].is_unique
    # SOURCE.md: 2,788 schools, about 643,000 seats in 2022 (every capacity of the file summed)
    assert off["uai"].nunique() == len({r[i_uai] for r in rows}) == 2788
    total = sum(int(r[i_cap]) for r in rows)
    assert total == pytest.approx(643_000, abs=1000)
    assert affelnet.meta["files"][0]["seats_in_file"] == total
    # 999 / 998 are "no capacity set": unknown seats, never counted
    sentinel = [r for r in rows if r[i_cap] in ("998", "999")]
    assert off["seats_unknown"].sum() == len(sentinel) > 200
    assert off["seats_capacity"].sum() == total - sum(int(r[i_cap]) for r in sentinel)


def test_affelnet_seats_of_seine_maritime_and_eure(cap_dir, affelnet):
    header, rows = _rows(cap_dir / AFF22)
    i_uai, i_cap = header.index("Etablissement d'accueil"), header.index("Capacité carte scolaire")
    off = affelnet.training_offers
    for dep in ("76", "27"):
        by_hand = sum(
            int(r[i_cap])
            for r in rows
            if r[i_uai].startswith("0" + dep) and r[i_cap] not in ("998", "999")
        )
        mine = off.loc[off["departement"] == dep, "seats_capacity"].sum()
        assert mine == by_hand > 3000
        assert (off.loc[off["departement"] == dep, "site"] == dep).all()


def test_affelnet_nomenclature_and_code_share(cap_dir, real_data, affelnet):
    """Every MEF is in nMef; the share of rows reaching a ROME code through CFD -> Certif Info is
    the one computed here with csv (SOURCE.md: about 72 %)."""
    header, rows = _rows(cap_dir / AFF22)
    mh, mef = _rows(cap_dir / "nMef.csv")
    cfd_of = {r[mh.index("MEF_STAT_11")]: r[mh.index("FORMATION_DIPLOME")] for r in mef}
    ch, cert = _rows(real_data / "certifinfo" / "certif_info.csv")
    romes = [ch.index(f"Code_Rome_{i}") for i in range(1, 6)]
    with_rome = {
        r[ch.index("Code_Scolarité")] for r in cert if any(r[i].strip() for i in romes)
    } - {""}
    i_mef = header.index("MEF STAT 11")
    share = np.mean([cfd_of.get(r[i_mef]) in with_rome for r in rows])
    off = affelnet.training_offers
    assert off["cfd"].notna().all()
    direct = off["code_route"] == "CFD -> Certif Info"
    assert direct.mean() == pytest.approx(share, abs=1e-12)
    assert share == pytest.approx(0.72, abs=0.01)
    # the common first years of the familles de métiers take their family's specialties' codes
    common = off["label"].str.contains("2NDE COMMUNE", regex=False)
    routed = off.loc[common, "code_route"].fillna("")
    assert routed.str.startswith("famille de métiers").mean() > 0.95
    rc = off[off["label"].str.startswith("METIERS DE LA RELATION CLIENT 2NDE COMMUNE")]
    assert (
        rc["code_route"] == "famille de métiers RELATION CLIENT -> specialties -> Certif Info"
    ).all()
    # closed diplomas reach ROME through their successor (BCN NOUVEAU_DIPLOME)
    assert (off["code_route"] == "CFD -> successor CFD -> Certif Info").sum() > 0
    assert off["rome"].notna().mean() > 0.95


def test_cohorts_count_each_school_cohort_once(affelnet):
    """Per school x programme, leavers = the largest year-group capacity, never the sum of the
    year-groups (the 1re pro seats are the 2de pupils one year later)."""
    off = affelnet.training_offers
    known = off[off["seats_capacity"].notna()]
    key = ["uai", "status", "dispositif", "duration"]
    by_year = known.groupby(key + ["programme_year"])["seats_capacity"].sum()
    expected = by_year.groupby(level=key).max()
    got = known.groupby(key)["seats"].sum()
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert off["seats"].sum() < 0.7 * off["seats_capacity"].sum()


def test_annual_cohorts_by_hand():
    off = pd.DataFrame(
        {
            "year": 2022,
            "uai": ["A", "A", "A", "A", "B"],
            "status": "scolaire",
            "dispositif": "247",
            "duration": 3,
            "programme_year": [1, 2, 2, 1, 1],
            "seats_capacity": [64.0, 30.0, 24.0, 16.0, 15.0],
        }
    )
    out = annual_cohorts(off)
    # school A: year 1 = 80 seats, year 2 = 54 -> year 1 counts 26, split 64:16
    assert out["seats"].tolist() == pytest.approx([26 * 64 / 80, 30, 24, 26 * 16 / 80, 15])
    assert out["cohort_note"].notna().tolist() == [True, False, False, True, False]


# ----------------------------------------------------------------------------- Parcoursup
def test_parcoursup_rows_and_rejections(cap_dir):
    data = _cached("bts22", lambda: read_training_capacity(cap_dir / BTS22))
    header, rows = _rows(cap_dir / BTS22)
    i_uai, i_cap = header.index("UAI"), header.index("CAPACITEPSUP")
    bad = [k + 2 for k, r in enumerate(rows) if not re.fullmatch(r"\d{7}[A-Z]", r[i_uai])]
    acc = data.meta["row_accounting"][BTS22]
    assert acc == {"read": len(rows), "kept": len(rows) - len(bad), "rejected": len(bad)}
    rej = data.rejected
    assert sorted(rej["row"]) == bad and set(rej["column"]) == {"UAI"}
    assert rej["reason"].str.startswith("not a UAI").all()
    off = data.training_offers
    empty = sum(1 for r in rows if not r[i_cap].strip() and re.fullmatch(r"\d{7}[A-Z]", r[i_uai]))
    assert off["seats_unknown"].sum() == empty > 0
    assert off["seats"][off["seats_unknown"]].isna().all()  # unknown, never 0
    assert set(off["status"]) == {"scolaire", "apprentissage"}
    assert off["title"].str.startswith("BTS").mean() > 0.95
    seats76 = sum(int(r[i_cap]) for r in rows if r[i_uai].startswith("076") and r[i_cap].strip())
    assert off.loc[off["departement"] == "76", "seats_capacity"].sum() == seats76


# ----------------------------------------------------------------------------- Certif Info
def test_certifinfo_accounting_and_links(real_data, certif):
    ch, cert = _rows(real_data / "certifinfo" / "certif_info.csv")
    kh, kit = _rows(real_data / "certifinfo" / "CodeDiplome_RNCP_latest_kit.csv")
    acc = certif.meta["row_accounting"]
    assert acc["certif_info.csv"] == {"read": len(cert), "kept": len(cert), "rejected": 0}
    nr = sum(1 for r in kit if not re.fullmatch(r"RNCP\d+", r[kh.index("Code_RNCP")]))
    assert acc["CodeDiplome_RNCP_latest_kit.csv"] == {
        "read": len(kit),
        "kept": len(kit) - nr,
        "rejected": nr,
    }
    # SOURCE.md: ROME codes on 7,502 rows
    romes = [ch.index(f"Code_Rome_{i}") for i in range(1, 6)]
    assert sum(1 for r in cert if r[romes[0]].strip()) == 7502
    certs = certif.extra["certifications"]
    assert len(certs) == len({r[0] for r in cert})
    cw = certif.crosswalks
    sums = cw.groupby(["source_system", "source", "target_system"])["weight"].sum()
    assert np.allclose(sums, 1.0)
    # CAP cuisine (CFD 50022139): its ROME codes in the file, equally split
    i_cfd = ch.index("Code_Scolarité")
    want = sorted({r[i].strip() for r in cert if r[i_cfd] == "50022139" for i in romes} - {""})
    got = cw[(cw["source_system"] == "CFD") & (cw["source"] == "50022139")]
    got = got[got["target_system"] == "ROME"]
    assert sorted(got["target"]) == want and len(want) >= 1
    assert np.allclose(got["weight"], 1 / len(want))


# ----------------------------------------------------------------------------- InserJeunes
def test_inserjeunes_rows_and_rates(real_data):
    path = real_data / "inserjeunes" / "fr-en-inserjeunes-cfa.csv"
    data = _cached("ij", lambda: read_inserjeunes(path))
    header, rows = _rows(path)
    acc = data.meta["row_accounting"]["fr-en-inserjeunes-cfa.csv"]
    assert acc == {"read": len(rows), "kept": len(rows), "rejected": 0} and len(rows) == 11314
    out = data.extra["training_outcomes"]
    i_reg = header.index("Région")
    assert (out["region"] == "NORMANDIE").sum() == sum(r[i_reg] == "NORMANDIE" for r in rows) == 550
    i_emp, i_uai, i_year = header.index("Taux emploi 6 mois"), header.index("UAI"), 0
    r0 = next(r for r in rows if r[i_uai] == "0630003L" and r[i_year] == "cumul 2023-2024")
    got = out[(out["uai"] == "0630003L") & (out["period"] == 2024)]["employment_6m"].item()
    assert got == pytest.approx(float(r0[i_emp]) / 100)


def test_outcome_rates_and_entrants_by_hand():
    from gpec.supply import entrants

    off = pd.DataFrame(
        {
            "offer": ["bacpro", "bts-app", "bts-app-unknown"],
            "site": "76",
            "seats": [30.0, 20.0, 10.0],
            "rome": ["H2913", "M1607", "M1607"],
            "uai": ["0760001A", "0761234B", "0769999Z"],
            "status": ["scolaire", "apprentissage", "apprentissage"],
            "level": [4, 5, 5],
        }
    )
    ij = pd.DataFrame(
        {
            "uai": ["0761234B", "0761234B"],
            "period": [2023, 2024],
            "continuing_share": [0.5, 0.25],
            "employment_6m": [0.5, 0.8],
            "interrupted_share": [np.nan, 0.1],
        }
    )
    rated = outcome_rates(off, ij)
    assert rated["rate_source"].tolist() == ["default", "InserJeunes 2024", "default"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ent = entrants(rated).set_index("offer")["entrants"]
    # bac pro, school: 30 x 0.67 completion x (1 - 0.50 continuing) x 0.47 employment
    assert ent["bacpro"] == pytest.approx(30 * 0.67 * 0.5 * 0.47)
    # the centre's latest period: completion 1 - 0.1, placement (1 - 0.25) x 0.8
    assert ent["bts-app"] == pytest.approx(20 * 0.9 * 0.75 * 0.8)
    assert ent["bts-app-unknown"] == pytest.approx(10 * 0.73 * (1 - 0.37) * 0.64)


# ----------------------------------------------------------------------------- errors
def _write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


AFF_HEADER = (
    "Etablissement d'accueil;MEF STAT 11;Voeu de recensement O/N;Statut Offre de formation;"
    "Capacité carte scolaire;Demandes vœux 1;Famille de métiers\n"
)


def test_bad_rows_are_rejected_with_row_column_and_value(tmp_path):
    p = _write(
        tmp_path,
        "attractivite_capacite_2023.csv",
        AFF_HEADER
        + "0760001A;23210022139;N;ST;15;12;\n"
        + "C752887F;23210022139;N;ST;15;12;\n"
        + "0760001A;2321;N;ST;15;12;\n"
        + "0760002B;23210022139;N;XX;15;12;\n"
        + "0760003C;23210022139;N;ST;douze;12;\n"
        + "6200004D;23210022139;N;AP;999;3;\n",
    )
    data = read_training_capacity(p)
    rej = data.rejected.set_index("row")
    assert rej.loc[3, "column"] == "Etablissement d'accueil" and rej.loc[3, "value"] == "C752887F"
    assert rej.loc[4, "reason"] == "not a MEF STAT 11 code"
    assert rej.loc[5, "column"] == "Statut Offre de formation"
    assert rej.loc[6, "value"] == "douze"
    off = data.training_offers
    assert off["offer"].tolist() == [
        "affelnet-2023-0760001A-23210022139-S",
        "affelnet-2023-6200004D-23210022139-A",
    ]
    assert off["departement"].tolist() == ["76", "2A"] and off["year"].tolist() == [2023, 2023]
    assert off["seats_unknown"].tolist() == [False, True] and np.isnan(off["seats"].iloc[1])
    assert data.meta["row_accounting"][p.name] == {"read": 6, "kept": 2, "rejected": 4}


def test_wrong_file_and_missing_year_say_which_file(tmp_path):
    p = _write(tmp_path, "seats.csv", AFF_HEADER + "0760001A;23210022139;N;ST;15;12;\n")
    with pytest.raises(FormatError, match=r"seats\.csv: the year"):
        read_training_capacity(p)
    assert read_training_capacity(p, year=2021).training_offers["year"].item() == 2021
    q = _write(tmp_path, "other_2022.csv", "code;label\n01;x\n")
    with pytest.raises(FormatError, match=r"other_2022\.csv: not an Affelnet or Parcoursup"):
        read_training_capacity(q)
    with pytest.raises(FormatError, match="columns are those of affelnet"):
        read_training_capacity(p, year=2021, format="parcoursup")


def test_departement_of_uai():
    codes = ["0760001A", "0270001B", "02A0001C", "7200001D", "9760001E", "0200001F"]
    assert [departement_of_uai(c) for c in codes] == ["76", "27", "2A", "2B", "976", None]


def test_cohort_seats_match_enrolments_per_year_group(cap_dir, certif):
    """Independent check of 'seats per year = one year-group': the Affelnet 2021 leavers per
    year of the three-year bac pro (dispositif 247) are close to the pupils enrolled per year of
    that programme at the 2020 school start (DEPP constat de rentrée, read here with csv),
    while the raw capacities summed over the programme years are far above."""
    mh, mef = _rows(cap_dir / "nMef.csv")
    info = {
        r[mh.index("MEF_STAT_11")]: (
            r[mh.index("DISPOSITIF_FORMATION")],
            r[mh.index("ANNEE_DISPOSITIF")],
        )
        for r in mef
    }
    ch, constat = _rows(cap_dir / "constat_2020.csv")
    per_year: dict[str, int] = {}
    for r in constat:
        disp, year = info.get(r[ch.index("Mef Bcp 11")], (None, None))
        if disp == "247":
            per_year[year] = per_year.get(year, 0) + int(r[ch.index("Nombre d'élèves : Total")])
    assert sorted(per_year) == ["1", "2", "3"]
    enrolled = sum(per_year.values()) / 3
    off = _cached(
        "aff21",
        lambda: read_training_capacity(
            cap_dir / "attractivite_capacite_2021.csv", certifinfo=certif
        ),
    ).training_offers
    bac_pro = off[off["dispositif"] == "247"]
    assert bac_pro["seats"].sum() == pytest.approx(enrolled, rel=0.10)
    assert bac_pro["seats_capacity"].sum() > 1.5 * enrolled


def test_capacity_formats_from_a_config_file(tmp_path, cap_dir):
    from gpec.config import load_config
    from gpec.exceptions import ConfigError
    from gpec.pipeline import load_data

    bts = cap_dir / "BTS_attractivite_capacite_2024.csv"
    toml = tmp_path / "gpec.toml"
    toml.write_text(
        f'[data.training_offers]\npath = "{bts.as_posix()}"\nformat = "parcoursup"\n'
        "options = { cohorts = false }\n",
        encoding="utf-8",
    )
    data = load_data(load_config(toml))
    off = data.training_offers
    assert set(off["source_format"]) == {"parcoursup"} and len(off) > 14_000
    # the option reached the reader: without cohorts every capacity counts as listed
    assert off["seats"].equals(off["seats_capacity"]) and data.meta["cohorts"] is False
    toml.write_text(toml.read_text().replace('"parcoursup"', '"affelnet"'), encoding="utf-8")
    with pytest.raises(FormatError, match="columns are those of parcoursup"):
        load_data(load_config(toml))
    toml.write_text(toml.read_text().replace('"affelnet"', '"afelnet"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="did you mean 'affelnet'"):
        load_config(toml)


def test_apprenticeship_offers_take_their_centres_latest_rates(cap_dir, real_data, certif):
    path = real_data / "inserjeunes" / "fr-en-inserjeunes-cfa.csv"
    data = _cached(
        "bts24",
        lambda: read_training_capacity(
            cap_dir / "BTS_attractivite_capacite_2024.csv", certifinfo=certif, inserjeunes=path
        ),
    )
    off = data.training_offers
    app = off[(off["status"] == "apprentissage") & (off["departement"] == "76")]
    got = app[app["rate_source"].str.startswith("InserJeunes")]
    assert len(got) > 10
    # the centre's latest period with an employment rate, read with csv
    header, rows = _rows(path)
    i_uai, i_emp = header.index("UAI"), header.index("Taux emploi 6 mois")
    i_cont = header.index("Taux poursuite études")
    for _, o in got.drop_duplicates("uai").head(5).iterrows():
        mine = [r for r in rows if r[i_uai] == o["uai"] and r[i_emp].strip()]
        last = max(mine, key=lambda r: r[0][-4:])
        emp, cont = float(last[i_emp]) / 100, float(last[i_cont]) / 100
        assert o["placement_rate"] == pytest.approx((1 - cont) * emp)
        assert o["rate_source"] == f"InserJeunes {last[0][-4:]}"
    school = off[off["status"] == "scolaire"]
    assert (school["rate_source"] == "default").all()


def test_uai_commune_table_places_listed_schools(tmp_path):
    p = _write(
        tmp_path,
        "attractivite_capacite_2022.csv",
        AFF_HEADER + "0760001A;23210022139;N;ST;15;12;\n0270002B;23210022139;N;ST;12;3;\n",
    )
    communes = pd.DataFrame({"numero_uai": ["0760001A"], "code_commune": ["76540"]})
    off = read_training_capacity(p, communes=communes).training_offers
    assert off["site"].tolist() == ["76540", "27"]
    assert off["commune"].tolist() == ["76540", None]
