"""A plant-closure scenario against the baseline: a foundry of Ardenne Métropole closes in 2027.

A scenario shocks the employment forecast of chosen territories x occupations from a given
year on, then recomputes openings, allocation of trainees and gaps. It is one entry of the
configuration, the same as a ``[[scenarios]]`` table in a ``gpec.toml`` file::

    [[scenarios]]
    name = "foundry_closure"
    territories = ["200041630"]
    occupations = ["H2907", "H2910"]
    from_year = 2027
    absolute = -250

``absolute`` adds (here removes) a number of jobs, spread over the targeted cells in proportion
to their size; ``change = -0.4`` would remove 40 % of the jobs instead. A new site is a
positive ``absolute``; ``retirement_shift = 2`` moves retirements two years later.

On the bundled demo (synthetic numbers, real codes) this script runs the whole chain once
with the scenario, prints how openings and gaps change against the baseline, and writes
``scenario_comparison.csv`` into the current folder.

Run it with ``python examples/plant_closure_scenario.py`` (20-40 s).
"""

import warnings

import gpec
from gpec.datasets import load_demo

TERRITORY = "200041630"  # CA Ardenne Métropole
FOUNDRY = ["H2907", "H2910"]  # Fondeur en métallurgie, Mouleur noyauteur

config = {
    "forecast": {"horizon": 6},  # 2025-2030
    "scenarios": [
        {
            "name": "foundry_closure",
            "territories": [TERRITORY],
            "occupations": FOUNDRY,
            "from_year": 2027,
            "absolute": -250,
            "description": "a foundry of 250 jobs closes in Ardenne Métropole in 2027",
        },
    ],
}
# The demo has no RNCP / Formacode -> ROME crosswalk: gpec warns that these codes are not used
# (training_gaps.py shows them). Not needed here.
warnings.filterwarnings("ignore", message="entrants: .* not used")
results = gpec.run_pipeline(load_demo(), config)

# results.scenarios: one row per scenario x territory x occupation x year, with employment,
# openings, entrants_allocated and gap; "baseline" is the run without the shock.
sc = results.scenarios
keys = ["territory", "territory_label", "occupation", "occupation_label", "period"]
wide = sc.pivot_table(
    index=keys, columns="scenario", values=["employment", "openings", "entrants_allocated", "gap"]
)
wide.columns = [f"{value}_{scenario}" for value, scenario in wide.columns]
for value in ("employment", "openings", "entrants_allocated", "gap"):
    wide[f"{value}_change"] = wide[f"{value}_foundry_closure"] - wide[f"{value}_baseline"]
wide = wide.reset_index()
wide.to_csv("scenario_comparison.csv", index=False, float_format="%.1f")

# The closing plant: foundry occupations of the territory, year by year.
hit = wide[(wide["territory"] == TERRITORY) & wide["occupation"].isin(FOUNDRY)]
print(f"Foundry occupations of {hit['territory_label'].iloc[0]}, baseline -> closure:")
print(f"  {'year':4s} {'jobs':>15s} {'openings':>15s} {'gap':>13s}")
columns = [
    f"{v}_{s}" for v in ("employment", "openings", "gap") for s in ("baseline", "foundry_closure")
]
by_year = hit.groupby("period")[columns].sum()
for year, r in by_year.iterrows():
    print(
        f"  {year} {r.employment_baseline:6.0f} -> {r.employment_foundry_closure:5.0f}"
        f" {r.openings_baseline:6.0f} -> {r.openings_foundry_closure:5.0f}"
        f" {r.gap_baseline:5.0f} -> {r.gap_foundry_closure:5.0f}"
    )
print(
    "  (openings are jobs to fill: in 2027 the closure sheds more jobs than retirements free,\n"
    "   so none are left; afterwards a smaller workforce means fewer retirements)"
)

# Totals over 2025-2030, everywhere: only the shocked cells change openings, but trainees who
# no longer find a job at the plant may be allocated to other territories of the catchment.
total = wide[[c for c in wide.columns if c.endswith("_change")]].sum()
print("\nChange against the baseline, all territories, 2025-2030:")
jobs_2030 = wide.loc[wide["period"] == wide["period"].max(), "employment_change"].sum()
print(f"  jobs in 2030:    {jobs_2030:+.0f}")
print(f"  openings:        {total['openings_change']:+.0f}")
print(f"  trainees placed: {total['entrants_allocated_change']:+.0f}")
print(f"  gap:             {total['gap_change']:+.0f}")
moved = (
    wide.groupby(["territory_label", "occupation_label"])["gap_change"]
    .sum()
    .loc[lambda s: s.abs() > 0.5]
    .sort_values()
)
if len(moved):
    print("\nCells whose gap changes (negative: smaller gap):")
    for (terr, occ), change in moved.head(10).items():
        print(f"  {terr[:30]:30s} {occ[:45]:45s} {change:+6.0f}")
print("\nWrote scenario_comparison.csv")
