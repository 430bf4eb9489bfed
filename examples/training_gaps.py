"""Match the training offer to occupations and compute the gaps it leaves, per territory.

On the bundled demo (synthetic numbers, real codes), step by step:

1. openings 2025-2030 of every EPCI x occupation (employment forecast + retirements);
2. each training offer is linked to the occupations it prepares for: through its ROME codes
   when it has some, else through its French title and description (TF-IDF text similarity
   against the ROME occupation labels and skills), each link with a score and a reason;
3. qualified entrants per year = seats x completion rate x placement rate;
4. each training site serves the EPCI within 50 km (nearer ones first);
5. entrants are allocated to openings inside the catchments (a min-cost flow), and the gap is
   what remains: openings - allocated entrants;
6. prints the mapping quality, the largest gaps, and how much of the capacity of the
   Cnam-like offers (adult continuing education: Cnam Normandie and Cnam Grand Est) is used;
7. writes ``training_entrants.csv``, ``training_gaps.csv`` and ``training_surplus.csv``.

A gap is a signal, not a shortage forecast: openings are also filled by job seekers, mobility
between occupations and people trained elsewhere.

Run it with ``python examples/training_gaps.py`` (10-20 s).
"""

import warnings

import gpec
from gpec import demand, gap, supply, territory
from gpec.datasets import load_demo
from gpec.supply.matching import OfferMatcher, build_profiles

data = load_demo()
t_labels = data.territories.set_index("territory")["label"]
o_labels = data.occupations.set_index("occupation")["label"]

# 1. Openings per EPCI x occupation x year, 2025-2030 (80% interval).
forecast = gpec.Forecaster(horizon=6, verbose=0).fit(data.employment).predict()
openings = demand.openings(
    forecast, data.workforce_age, employment=data.employment, territories=data.territories
)

# 2-3. Offers -> occupations -> qualified entrants per year. An occupation "profile" is the
#      text the offers are compared with: its label plus the labels of its skills.
offers = data.training_offers
profiles = build_profiles(data.occupations, data.occupation_skills, data.skills)
with warnings.catch_warnings():
    # supply warns about RNCP / Formacode codes it cannot translate; counted below instead
    warnings.simplefilter("ignore", UserWarning)
    entrants = supply.entrants(
        offers,
        data.occupations,
        matcher=OfferMatcher(min_score=0.2),
        profiles=profiles,
        completion_default=0.8,
        placement_default=0.7,
    )
entrants.to_csv("training_entrants.csv", index=False, float_format="%.3g")

print(f"{len(offers)} training offers, {offers['seats'].sum():,.0f} seats a year")
# Mapping quality: offers, seats and entrants linked by ROME code, by text, or not at all.
quality = supply.mapping_quality(entrants).set_index("reason")
print("How offers were linked to occupations (code = ROME codes given, text = matched on the")
print("title and description, unmapped = no link found: their trainees are not counted):")
print(quality.round(2).to_string())
rejected = entrants.attrs.get("rejected")
if rejected is not None and len(rejected):
    print(
        f"{len(rejected)} RNCP / Formacode codes were not used ({rejected['reason'].iloc[0]}: "
        "the demo has no crosswalks table); see training_entrants.csv, column 'warning'."
    )

# A text match is a guess: look at the weakest ones before trusting the gaps.
text = entrants[entrants["reason"] == "text"].merge(offers[["offer", "title"]], on="offer")
text = text.sort_values("score", ascending=False).drop_duplicates(["title", "occupation"])
if len(text):
    print("Text matches, strongest and weakest (title -> occupation, score):")
    for r in [*text.head(3).itertuples(), *text.tail(3).itertuples()]:
        occupation = o_labels.get(r.occupation, r.occupation)
        print(f"  {r.title[:58]:58s} -> {occupation[:38]:38s} {r.score:.2f}")

# 4. Catchments: every EPCI within 50 km of a site, weight exp(-km / 25).
catchment = territory.catchment(
    data.territories,
    sites=sorted(offers["site"].unique()),
    method="distance",
    max_km=50.0,
    decay_km=25.0,
    bottom_level="epci",
)

# 5. Allocation and gaps. Unmapped offers cannot be allocated: they end up in the surplus.
mapped = entrants[entrants["occupation"].notna()]
allocation = gap.allocate(openings, mapped, catchment, small_threshold=30)
gaps = allocation.gaps
gaps.insert(1, "territory_label", gaps["territory"].map(t_labels))
gaps.insert(3, "occupation_label", gaps["occupation"].map(o_labels))
gaps.to_csv("training_gaps.csv", index=False, float_format="%.1f")

total = gaps[["openings", "entrants_allocated", "gap"]].clip(lower=0).sum()
print(
    f"\nOpenings 2025-2030: {total['openings']:,.0f}; covered by local training "
    f"{total['entrants_allocated']:,.0f} ({total['entrants_allocated'] / total['openings']:.0%})"
    f"; gap {total['gap']:,.0f}"
)

# Largest gaps over the whole horizon (cells of at least 30 jobs: small cells are noisy).
cells = (
    gaps[~gaps["flag_small"]]
    .groupby(["territory_label", "occupation_label"], as_index=False)[
        ["openings", "entrants_allocated", "gap"]
    ]
    .sum()
    .sort_values("gap", ascending=False)
)
print("\nLargest gaps 2025-2030 (openings not covered by the local training offer):")
for r in cells.head(10).itertuples():
    print(
        f"  {r.territory_label[:30]:30s} {r.occupation_label[:40]:40s} "
        f"openings {r.openings:5.0f}  trained {r.entrants_allocated:4.0f}  gap {r.gap:5.0f}"
    )

# 6. Capacity of the Cnam-like offers: qualified entrants per year, how many find openings
#    within the catchment, and the surplus (trained people with no local opening to fill).
surplus = allocation.surplus.merge(offers[["offer", "title", "provider"]], on="offer")
surplus.to_csv("training_surplus.csv", index=False, float_format="%.2f")
cnam = surplus[surplus["provider"].str.startswith("Cnam")]
use = cnam.groupby("title", as_index=False)[["entrants", "allocated", "surplus"]].sum()
print("\nCnam-like offers, 2025-2030 (qualified entrants, allocated to openings, surplus):")
for r in use.sort_values("entrants", ascending=False).itertuples():
    print(f"  {r.title[:62]:62s} {r.entrants:5.0f} {r.allocated:5.0f} {r.surplus:5.0f}")

print("\nWrote training_entrants.csv, training_gaps.csv and training_surplus.csv")
