"""read_insee_geography on the real INSEE 2022 membership workbook and the etalab COG package."""

from __future__ import annotations

import json
import tarfile

import pytest

from gpec.ingest import read_insee_geography

_CACHE: dict = {}


def _read(path):
    if str(path) not in _CACHE:
        _CACHE[str(path)] = read_insee_geography(path)
    return _CACHE[str(path)]


@pytest.fixture
def cog(real_data):
    return real_data / "insee-cog"


def test_appartenance_2022_header_block_and_labels(cog):
    path = cog / "table-appartenance-geo-communes-22.xlsx"
    data = _read(path)
    acc = data.meta["row_accounting"]
    # SOURCE.md: 34,955 communes in sheet COM; the five title rows are not data rows
    assert acc[f"{path.name}[COM]"] == {"read": 34955, "kept": 34955, "rejected": 0}
    zones = acc[f"{path.name}[Zones_supra_communales]"]
    assert zones["read"] == zones["kept"] + zones["rejected"]
    t = data.territories.set_index("territory")
    counts = t["level"].value_counts()
    assert counts["commune"] == 34955
    # labels from sheet Zones_supra_communales: 1,255 EPCI (ZZZZZZZZZ "sans objet" is not
    # one), 306 zones d'emploi, 101 départements, 18 régions
    assert counts["epci"] == 1255 and counts["zone_emploi"] == 306
    assert counts["departement"] == 101 and counts["region"] == 18
    assert t.loc["200023414", "label"] == "Métropole Rouen Normandie"
    assert t.loc["2815", "label"] == "Rouen" and t.loc["2815", "level"] == "zone_emploi"
    assert t.loc["76", "label"] == "Seine-Maritime" and t.loc["R28", "label"] == "Normandie"
    # commune -> EPCI -> département -> région; the zone d'emploi in memberships
    assert t.loc["76540", "parent"] == "200023414"
    assert t.loc["200023414", "parent"] == "76" and t.loc["76", "parent"] == "R28"
    m = data.extra["memberships"]
    rouen_ze = set(m.loc[(m["level"] == "zone_emploi") & (m["territory"] == "2815"), "commune"])
    assert len(rouen_ze) == 300  # its Zones_supra_communales row says NB_COM = 300
    z = data.extra["zones"]
    assert int(z.loc[(z["level"] == "ZE2020") & (z["code"] == "2815")].shape[0]) == 1
    assert len(data.validate(strict=False).rejected) == 0


def test_etalab_cog_json_read_from_the_tgz(cog):
    path = cog / "etalab-decoupage-administratif-6.0.0.tgz"
    data = _read(path)
    # independent count straight from the JSON inside the package
    with tarfile.open(path) as tar:
        communes = json.load(tar.extractfile("package/data/communes.json"))
        epci = json.load(tar.extractfile("package/data/epci.json"))
    types = [c["type"] for c in communes]
    acc = data.meta["row_accounting"][f"{path.name}[communes.json]"]
    assert acc["read"] == len(communes) == acc["kept"] + acc["rejected"]
    rej = data.rejected[data.rejected["file"] == f"{path.name}[communes.json]"]
    assert (rej["reason"].str.startswith("commune associée")).sum() == types.count(
        "commune-deleguee"
    ) + types.count("commune-associee")
    t = data.territories.set_index("territory")
    # collectivités d'outre-mer (zone "com": 975, 977, 978, 98x) are not COG départements
    n_com = sum(1 for c in communes if c["type"] == "commune-actuelle" and c["zone"] != "com")
    assert (t["level"] == "commune").sum() == n_com
    assert (t["level"] == "arrondissement_municipal").sum() == types.count(
        "arrondissement-municipal"
    )
    assert (t["level"] == "epci").sum() == len(epci)
    # the Métropole Rouen Normandie and its 71 member communes
    rouen = next(e for e in epci if e["code"] == "200023414")
    m = data.extra["memberships"]
    members = set(m.loc[(m["level"] == "epci") & (m["territory"] == "200023414"), "commune"])
    assert members == {x["code"] for x in rouen["membres"]} and len(members) == 71
    assert t.loc["200023414", "label"] == rouen["nom"]
    assert t.loc["76540", "parent"] == "200023414" and t.loc["76", "parent"] == "R28"
    assert t.loc["75101", "parent"] == "75056"  # arrondissement under its commune
    pop = data.extra["populations"].set_index("territory")["population"]
    assert pop.loc["76540"] == next(c["population"] for c in communes if c["code"] == "76540")
    # every row kept passes the canonical checks; the rejected ones are the reader's own
    assert len(data.validate(strict=False).rejected) == len(data.rejected)


@pytest.mark.slow  # reads the 35,000-commune workbook a second time (~15 s)
def test_appartenance_with_epci_under_their_zone_emploi(cog):
    """commune -> EPCI -> zone d'emploi -> département -> région, EPCI spread over several zones
    counted (recomputed here from the commune memberships)."""
    path = cog / "table-appartenance-geo-communes-22.xlsx"
    m = _read(path).extra["memberships"]
    e = m[m["level"] == "epci"][["commune", "territory"]]
    z = m[m["level"] == "zone_emploi"][["commune", "territory"]]
    ez = e.merge(z, on="commune", suffixes=("_epci", "_ze"))
    several = int((ez.groupby("territory_epci")["territory_ze"].nunique() > 1).sum())
    data = read_insee_geography(path, epci_parent="zone_emploi")
    assert data.meta["epci_in_several_zones"] == several > 0
    t = data.territories.set_index("territory")
    assert t.loc["76540", "parent"] == "200023414"
    assert t.loc["200023414", "parent"] == "2815" and t.loc["2815", "parent"] == "76"
    # every EPCI under a zone d'emploi, every zone under a département
    assert t.loc[t["level"] == "epci", "parent"].map(t["level"]).eq("zone_emploi").all()
    assert (
        t.loc[t["level"] == "zone_emploi", "parent"]
        .map(t["level"])
        .isin(["departement", "nation"])
        .all()
    )
