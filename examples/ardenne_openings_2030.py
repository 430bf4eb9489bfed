"""Job openings and skill needs of Ardenne Métropole (Charleville-Mézières) up to 2030.

Openings are the jobs employers will have to fill each year:

    openings = expansion (net change in employment) + replacement (end-of-career departures)

Replacement comes from ageing each occupation's age pyramid year by year with exit
probabilities per age band (the method of France Stratégie & Dares, *Les métiers en 2030*).
Skill needs spread the openings over the ROME skills of each occupation (core skills count 1,
other skills 0.5).

On the bundled demo (synthetic numbers, real codes) this script:

1. forecasts the employment of every occupation of the territory to 2030;
2. computes openings 2025-2030 and prints the occupations with the most openings, split into
   expansion and replacement, with the 80% interval;
3. prints the skills most needed;
4. writes ``ardenne_openings.csv`` and ``ardenne_skill_needs.csv`` into the current folder.

Run it with ``python examples/ardenne_openings_2030.py`` (about 10 s).
"""

import gpec
from gpec import demand
from gpec.datasets import load_demo

TERRITORY = "200041630"  # CA Ardenne Métropole (EPCI code)
LAST_YEAR = 2030

data = load_demo()
name = data.territories.set_index("territory").loc[TERRITORY, "label"]
history = data.employment[data.employment["territory"] == TERRITORY]
horizon = LAST_YEAR - int(history["period"].max())  # 2025-2030: 6 years

# 1. Employment forecast per occupation, with 80% and 95% intervals.
forecast = gpec.Forecaster(horizon=horizon, verbose=0).fit(history).predict()

# 2. Openings per occupation and year. The age pyramids (workforce_age) give the
#    departures; the observed employment gives the 2024 base level.
openings = demand.openings(
    forecast, data.workforce_age, employment=data.employment, territories=data.territories, level=80
)
openings = openings.merge(data.occupations[["occupation", "label"]], on="occupation")
openings.to_csv("ardenne_openings.csv", index=False, float_format="%.1f")

first, last = openings["period"].min(), openings["period"].max()
total = openings[["expansion", "replacement", "openings"]].sum()
jobs_2024 = history.loc[history["period"] == history["period"].max(), "value"].sum()
print(
    f"{name}: {jobs_2024:,.0f} jobs in 2024 in the {history['occupation'].nunique()} "
    f"occupations followed"
)
print(
    f"Openings {first}-{last}: {total['openings']:,.0f} "
    f"= expansion {total['expansion']:+,.0f} + replacement {total['replacement']:,.0f}\n"
)

# Cumulated over 2025-2030, per occupation. The bounds of the yearly rows are not added
# up (they are not independent); the 80% range of the whole period is read from the
# employment interval of the last year instead (see docs/methodology.md).
per_occ = openings.groupby(["occupation", "label"], as_index=False)[
    ["expansion", "replacement", "openings"]
].sum()
end = openings[openings["period"] == last].set_index("occupation")
spread = (end["employment_upper"] - end["employment_lower"]) / 2
per_occ["plus_minus"] = per_occ["occupation"].map(spread)
per_occ = per_occ.sort_values("openings", ascending=False)
print(f"Occupations with the most openings {first}-{last}:")
print(f"  {'occupation':50s} {'expansion':>9s} {'replace.':>9s} {'openings':>9s}  (80% +/-)")
for r in per_occ.head(10).itertuples():
    print(
        f"  {r.label[:50]:50s} {r.expansion:+9.0f} {r.replacement:9.0f} {r.openings:9.0f}"
        f"  (+/- {r.plus_minus:.0f})"
    )
# Shrinking occupations still recruit: their retirements outnumber the jobs lost.
shrinking = per_occ[(per_occ["expansion"] < 0) & (per_occ["openings"] > 0)]
print("\nOccupations losing jobs that still recruit to replace departures:")
for r in shrinking.head(5).itertuples():
    print(
        f"  {r.label[:50]:50s} {r.expansion:+5.0f} jobs, {r.replacement:4.0f} departures"
        f" -> {r.openings:4.0f} openings"
    )

# 3. Skill needs: openings x occupation-skill weight, summed over occupations.
needs = demand.skill_needs(openings, data.occupation_skills)
needs = needs.merge(data.skills[["skill", "label", "kind"]], on="skill")
needs.to_csv("ardenne_skill_needs.csv", index=False, float_format="%.1f")
top_skills = (
    needs.groupby(["skill", "label", "kind"], as_index=False)["need"]
    .sum()
    .sort_values("need", ascending=False)
)
print(f"\nSkills most needed {first}-{last} (openings weighted by skill importance):")
for r in top_skills.head(10).itertuples():
    print(f"  {r.label[:70]:70s} {r.kind:12s} {r.need:6.0f}")

print("\nWrote ardenne_openings.csv and ardenne_skill_needs.csv")
