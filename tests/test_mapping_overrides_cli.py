"""A planner's corrections round-trip through `gpec run`: `gpec demo` writes mapping_review.csv,
the corrections file named by `[supply] mapping_overrides` wins over any match, and the
corrected offer's title becomes a known title that text matching uses for the other offers."""

import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

CODES = {c: str for c in ("offer", "occupation", "site", "territory")}


def gpec(*args):
    return subprocess.run(
        [sys.executable, "-m", "gpec.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_overrides_round_trip_through_gpec_run(tmp_path):
    demo = tmp_path / "demo"
    res = gpec("--quiet", "demo", "--out", demo)
    assert res.returncode == 0, res.stderr
    review = pd.read_csv(demo / "mapping_review.csv", dtype=CODES)
    offers = pd.read_csv(demo / "inputs" / "training_offers.csv", dtype=CODES)
    title = offers.set_index("offer")["title"]
    assert len(review) and review["offer"].isin(offers["offer"]).all()

    # an offer to correct whose title another text-mapped offer shares (its "sibling")
    first = review.drop_duplicates("offer").assign(title=lambda d: d["offer"].map(title))
    shared = first[first["title"].duplicated(keep=False)]
    fixed, sibling = shared["offer"].iloc[0], None
    same = shared[(shared["title"] == title[fixed]) & (shared["offer"] != fixed)]
    sibling = same["offer"].iloc[0]
    # correct it to its second-ranked occupation; another offer feeds no occupation
    alternatives = review[(review["offer"] == fixed) & (review["rank"] == 2)]
    target = alternatives["occupation"].iloc[0]
    dropped = first.loc[~first["title"].isin([title[fixed]]), "offer"].iloc[0]

    inputs = tmp_path / "inputs"
    shutil.copytree(demo / "inputs", inputs)
    (inputs / "overrides.csv").write_text(
        f"offer,occupation\n{fixed},{target}\n{dropped},none\n", encoding="utf-8"
    )
    config = inputs / "gpec.toml"
    text = config.read_text(encoding="utf-8")
    text, n = re.subn(r'mapping_overrides = ""', 'mapping_overrides = "overrides.csv"', text)
    assert n == 1
    config.write_text(text, encoding="utf-8")

    out = tmp_path / "run"
    res = gpec("--quiet", "run", config, "--out", out)
    assert res.returncode == 0, res.stderr
    ent = pd.read_csv(out / "entrants.csv", dtype=CODES)
    rows = ent[ent["offer"] == fixed]
    assert rows["occupation"].tolist() == [target] and rows["reason"].tolist() == ["override"]
    assert rows["share"].tolist() == [1.0]
    rows = ent[ent["offer"] == dropped]
    assert rows["reason"].tolist() == ["override"] and rows["occupation"].isna().all()

    quality = pd.read_csv(out / "mapping_quality.csv").set_index("reason")
    seats = offers.set_index("offer")["seats"].astype(float)
    assert quality.loc["override", "offers"] == 2
    assert quality.loc["override", "seats"] == pytest.approx(seats[fixed] + seats[dropped])
    new_review = pd.read_csv(out / "mapping_review.csv", dtype=CODES)
    assert not new_review["offer"].isin([fixed, dropped]).any()
    # the correction is now a known title: the sibling offer, same title, follows it
    sib = new_review[(new_review["offer"] == sibling) & (new_review["rank"] == 1)].iloc[0]
    assert sib["occupation"] == target
    assert sib["nearest_title"] == title[fixed]
    assert (
        quality.loc["text", "to_review_offers"]
        == new_review.loc[new_review["confidence"] != "high", "offer"].nunique()
    )
