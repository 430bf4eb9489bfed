"""Forecast one territory's employment by occupation, with prediction intervals.

What it does, on the bundled demo (synthetic numbers, real codes):

1. takes the employment history 2005-2024 of Métropole Rouen Normandie, one series per
   occupation (ROME 4.0 code);
2. lets ``gpec.Forecaster`` backtest several simple models on every series and keep, per
   series, a combination of the best ones; the intervals come from the backtest errors;
3. prints the backtest accuracy of the chosen forecast against the two baselines a planner
   would otherwise use: "no change" (naive) and "constant share" (each occupation keeps its
   share of the territory's jobs);
4. writes ``forecast_rouen.csv`` and a fan chart ``forecast_rouen.png`` into the current folder.

Run it with ``python examples/forecast_territory.py`` (about 10 s).
"""

import matplotlib

matplotlib.use("Agg")  # write image files, no window needed
import matplotlib.pyplot as plt

import gpec
from gpec.datasets import load_demo

TERRITORY = "200023414"  # Métropole Rouen Normandie (EPCI code)
HORIZON = 6  # years: 2025-2030

data = load_demo()
labels = data.occupations.set_index("occupation")["label"]
name = data.territories.set_index("territory").loc[TERRITORY, "label"]

# Employment history of the territory: one row per occupation x year.
history = data.employment[data.employment["territory"] == TERRITORY]
print(
    f"{name}: {history['occupation'].nunique()} occupations, "
    f"{history['period'].min()}-{history['period'].max()}"
)

# Fit: rolling-origin backtest of every candidate model, selection per series, intervals.
model = gpec.Forecaster(horizon=HORIZON, level=(80, 95), verbose=0).fit(history)
forecast = model.predict()  # territory, occupation, period, model, mean, lower, upper, level
forecast.insert(2, "occupation_label", forecast["occupation"].map(labels))
forecast.to_csv("forecast_rouen.csv", index=False, float_format="%.1f")

# Honest accuracy: every past year forecast with the data before it only.
# MASE and sMAPE: lower is better; mase_vs_naive / mase_vs_cshare below 1 mean the chosen
# forecast beats that baseline.
summary = model.backtest_summary().set_index("model")
print("\nBacktest accuracy (mean over series and horizons):")
cols = ["mase", "smape", "mase_vs_naive", "mase_vs_cshare"]
print(summary.loc[["auto", "naive", "cshare"], cols].round(3).to_string())
print(
    f"80% intervals covered {summary.loc['auto', 'coverage_80']:.0%} of the backtest values, "
    f"95% intervals {summary.loc['auto', 'coverage_95']:.0%}."
)

# Jobs in the last observed year and in the last forecast year, per occupation.
last_year = history["period"].max()
now = history[history["period"] == last_year].set_index("occupation")["value"]
end = forecast[(forecast["period"] == forecast["period"].max()) & (forecast["level"] == 80)]
end = end.set_index("occupation")
change = (end["mean"] - now).dropna().sort_values()
print(f"\nLargest expected changes {last_year}-{end['period'].iloc[0]} (jobs, 80% interval):")
for occ in [*change.index[:3], *change.index[-3:]]:
    print(
        f"  {labels[occ][:55]:55s} {change[occ]:+7.0f}  "
        f"[{end.loc[occ, 'lower']:.0f} - {end.loc[occ, 'upper']:.0f} jobs in the end]"
    )

# Fan chart of the four largest occupations: history, forecast, 80% and 95% intervals.
top = now.sort_values(ascending=False).index[:4]
fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
for ax, occ in zip(axes.ravel(), top, strict=True):
    h = history[history["occupation"] == occ]
    f = forecast[forecast["occupation"] == occ]
    for lev, colour in ((95, "#c8d7ea"), (80, "#8fb0d6")):
        band = f[f["level"] == lev]
        ax.fill_between(
            band["period"], band["lower"], band["upper"], color=colour, label=f"{lev}% interval"
        )
    mean = f[f["level"] == 80]
    ax.plot(h["period"], h["value"], color="#1f3b5c", lw=2, label="observed")
    ax.plot(
        [last_year, *mean["period"]],
        [now[occ], *mean["mean"]],
        color="#c0392b",
        ls="--",
        lw=2,
        label="forecast",
    )
    ax.set_title(f"{labels[occ][:45]} ({occ})", fontsize=9)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
axes[0, 0].set_ylabel("jobs")
axes[1, 0].set_ylabel("jobs")
axes[0, 0].legend(fontsize=8, frameon=False, loc="lower left")
fig.suptitle(f"Employment forecast, {name} (synthetic demo data)")
fig.tight_layout()
fig.savefig("forecast_rouen.png", dpi=100)
print("\nWrote forecast_rouen.csv and forecast_rouen.png")
