"""Column and sheet labels of the reports, in English and French."""

from __future__ import annotations

FR = {
    # sheets and sections
    "Summary": "Synthèse",
    "Gaps": "Écarts",
    "Skill gaps": "Écarts compétences",
    "Openings": "Postes à pourvoir",
    "Forecast": "Projections",
    "Backtest": "Précision (backtest)",
    "Training supply": "Offre de formation",
    "Transitions": "Reconversions",
    "Assumptions": "Hypothèses",
    "Scenarios": "Scénarios",
    # columns
    "territory": "territoire",
    "territory_label": "libellé territoire",
    "occupation": "métier",
    "occupation_label": "libellé métier",
    "skill": "compétence",
    "skill_label": "libellé compétence",
    "period": "année",
    "openings": "postes à pourvoir",
    "entrants_allocated": "entrants formés affectés",
    "gap": "écart",
    "gap_share": "part de l'écart",
    "gap_lower": "écart (borne basse)",
    "gap_upper": "écart (borne haute)",
    "flag_small": "petit effectif",
    "employment": "emploi",
    "expansion": "créations nettes",
    "replacement": "départs en fin de carrière",
    "turnover": "rotation",
    "lower": "borne basse",
    "upper": "borne haute",
    "model": "modèle",
    "mean": "projection",
    "level": "niveau de confiance (%)",
    "need": "besoin",
    "supply_allocated": "offre affectée",
    "from_occupation": "métier d'origine",
    "overlap": "proximité de compétences",
    "skills_to_acquire": "compétences à acquérir",
    "reason": "raison",
    "offer": "offre",
    "site": "site",
    "entrants": "entrants formés",
    "surplus": "places non affectées",
    "scenario": "scénario",
    "gap_change": "écart par rapport au scénario de référence",
    "description": "description",
    "value": "valeur",
    "metric": "indicateur",
    # reasons
    "growth": "croissance de l'emploi",
    "retirements": "départs en fin de carrière",
    "too few trainees": "trop peu de formés",
}


def tr(text: str, lang: str | None) -> str:
    """Translate a label when ``lang == "fr"`` (unknown labels are returned as they are)."""
    if lang == "fr":
        return FR.get(text, text)
    return text
