"""Labels of the reports, in English (the keys) and French: sheets, sections, headers, texts.

Every text a planner reads goes through :func:`tr` (fixed texts, templates with ``{named}``
fields filled after translation), :func:`header` (column headers, including the
``lower_80``/``coverage_95`` families) or :func:`translate_values` (coded values such as the
BMO check flags).
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["FR", "tr", "header", "translate_values", "fmt_number"]

#: Why a sheet of the workbook is empty.
NO_SKILLS = (
    "(no rows: no occupation-skill links (occupation_skills) for the occupations of the run)"
)
NO_OFFERS = (
    "(no rows: no training offers in this run (training_offers); no trained entrant is counted, "
    "every opening to fill is a gap)"
)
NO_PATHS_WITHOUT_SKILLS = (
    "(no rows: reconversion paths need the occupations' skills (occupation_skills))"
)
NO_PATHS = (
    "(no rows: no occupation losing jobs is close enough in skills to an occupation in gap; "
    "see [gap] transitions_min_overlap and transitions_min_jobs_lost)"
)


FR = {
    # ------------------------------------------------------------------ sheets and sections
    "Summary": "Synthèse",
    "Gaps": "Écarts",
    "Skill gaps": "Écarts compétences",
    "Openings": "Besoins nets",
    "Forecast": "Projections",
    "Backtest": "Précision (backtest)",
    "Training supply": "Offre de formation",
    "Transitions": "Reconversions",
    "Assumptions": "Hypothèses",
    "Scenarios": "Scénarios",
    "Contents": "Sommaire",
    "Employment forecast": "Projection de l'emploi",
    "Net openings: expansion and replacement": "Besoins nets : créations et départs",
    "Gaps per territory": "Écarts par territoire",
    "Skill needs against training supply": "Besoins en compétences et offre de formation",
    "Reconversion paths": "Parcours de reconversion",
    "Training offers mapped to occupations": "Rattachement de l'offre de formation aux métiers",
    (
        "<p>How the seats of the training offers reached occupations: by their "
        "codes (ROME, RNCP, Formacode), by text matching of their titles, or not "
        "at all (unmapped seats train no one for an opening here; they stay in "
        "surplus.csv). Offers matched by text with a low certainty are counted in "
        "<code>to_review</code>; mapping_review.csv lists them.</p>"
    ): (
        "<p>Comment les places des formations ont été rattachées aux métiers : par leurs "
        "codes (ROME, RNCP, Formacode), par rapprochement du texte de leur intitulé, ou pas "
        "du tout (les places non rattachées ne forment pour aucun poste ici ; elles restent "
        "dans surplus.csv). Les offres rattachées par le texte avec une faible certitude sont "
        "comptées « à revoir » ; mapping_review.csv les liste.</p>"
    ),
    "Forecast accuracy (backtest)": "Précision des projections (backtest)",
    "Assumptions and methodology": "Hypothèses et méthode",
    # ------------------------------------------------------------------ summary blocks
    "Totals per year": "Totaux par année",
    "Plan period totals, with bounds": "Totaux sur la période du plan, avec bornes",
    "sum of the cells’ bounds": "somme des bornes des cellules",
    "interval of the total": "intervalle du total",
    "median of the simulated futures": "médiane des futurs simulés",
    "Openings and gaps summed from the first forecast year to each year (the last row is the "
    "whole plan period). Bounds: when the run drew sample paths, quantiles over the paths of "
    "the total itself, the cells moving together as their yearly changes did (see "
    "provenance: openings_interval); otherwise sums over territories x occupations of each cell's "
    "interval, as if every cell moved together (too wide if they do not). With paths, the "
    "_median columns are the totals half of the simulated futures exceed. The central "
    "figures (every cell on its forecast trend) can sit well below them: along a future, "
    "openings above the trend in one cell or year add to the gap, those below it in "
    "another do not give it back, and the futures carry the backtest's lean.": (
        "Postes et écarts cumulés de la première année projetée à chaque année (la dernière "
        "ligne couvre toute la période du plan). Bornes : quand le calcul a tiré des "
        "trajectoires simulées, quantiles sur les trajectoires du total lui-même, les cellules "
        "variant ensemble comme l'ont fait leurs évolutions annuelles (voir provenance : "
        "openings_interval) ; sinon sommes, sur les territoires x métiers, de l'intervalle de chaque "
        "cellule, comme si toutes variaient ensemble (trop large sinon). Avec des trajectoires, "
        "les colonnes médiane sont les totaux que dépasse la moitié des futurs simulés. Les "
        "chiffres centraux (chaque cellule sur sa tendance prévue) peuvent être nettement en "
        "dessous : dans un futur simulé, des postes au-dessus de la tendance dans une cellule ou "
        "une année s'ajoutent à l'écart, ceux en dessous dans une autre ne le réduisent pas, et "
        "les futurs portent le biais du backtest."
    ),
    "Largest gaps per territory (whole horizon)": (
        "Territoires aux écarts les plus importants (tout l'horizon)"
    ),
    "Largest gaps per territory and occupation (whole horizon)": (
        "Écarts les plus importants par territoire et métier (tout l'horizon)"
    ),
    "Occupations with the most openings to fill (whole horizon)": (
        "Métiers avec le plus de postes à pourvoir (tout l'horizon)"
    ),
    "Fastest growing occupations": "Métiers en plus forte croissance",
    "Totals over the horizon, all territories and occupations": (
        "Totaux sur l'horizon, tous territoires et métiers"
    ),
    "Per territory, occupation and year": "Par territoire, métier et année",
    "Mapping quality (seats mapped by override, code, text, unmapped; text "
    "matches to review: see mapping_review.csv)": (
        "Qualité du rattachement (places rattachées par correction, code, texte, non "
        "rattachées ; rattachements par texte à revoir : voir mapping_review.csv)"
    ),
    "Surplus: trained entrants not allocated to any opening": (
        "Surplus : entrants formés affectés à aucun poste"
    ),
    "Offers mapped to occupations (score and reason)": (
        "Offres rattachées aux métiers (score et raison)"
    ),
    # notes of the summary blocks and sheets
    (
        "openings_to_fill = entrants_allocated + gap. net_openings = net openings (creations − "
        "losses + departures) = expansion + replacement + turnover: it is smaller because job "
        "losses in one territory x occupation fill no opening in another (negative openings "
        "count as 0 in openings_to_fill). Whole jobs, rounded so that the sums hold."
    ): (
        "postes à pourvoir = entrants formés affectés + écart. Besoin net = créations − "
        "destructions + départs = créations nettes + départs en fin de carrière + rotation : il "
        "est plus faible car les emplois perdus dans un territoire x métier ne pourvoient aucun "
        "poste ailleurs (un besoin négatif compte pour 0 dans les postes à pourvoir). Emplois "
        "entiers, arrondis de sorte que les sommes tombent juste."
    ),
    (
        "openings_to_fill counts each territory's openings (negative ones as 0); net_openings = "
        "expansion + replacement nets job losses against creations and departures."
    ): (
        "Les postes à pourvoir comptent les besoins de chaque territoire (négatifs comptés 0) ; "
        "le besoin net = créations nettes + départs compense les pertes d'emplois par les "
        "créations et les départs."
    ),
    "One row per series and year: the mean and the bounds of each interval level.": (
        "Une ligne par série et par année : la projection et les bornes de chaque intervalle."
    ),
    (
        "Rolling-origin backtest: accuracy of each model against the baselines "
        "(MASE < 1 beats the naive forecast)."
    ): (
        "Backtest à origine glissante : précision de chaque modèle face aux références "
        "(MASE < 1 : meilleur que la projection naïve)."
    ),
    (
        "net_openings = expansion + replacement + turnover, negative where job losses exceed "
        "departures (openings.csv calls it openings); the Gaps sheet counts negative openings "
        "as 0 (openings to fill)."
    ): (
        "Besoin net = créations nettes + départs en fin de carrière + rotation, négatif quand "
        "les pertes d'emplois dépassent les départs (colonne openings de openings.csv) ; la "
        "feuille Écarts compte un besoin négatif pour 0 (postes à pourvoir)."
    ),
    "{n} rows: the first {max} are shown here; the CSV file holds them all.": (
        "{n} lignes : les {max} premières sont affichées ici ; le fichier CSV les contient toutes."
    ),
    (
        "Sums over {first}-{last} per territory and skill (skills with a need); "
        "skill_gaps.csv has every year."
    ): (
        "Sommes sur {first}-{last} par territoire et compétence (compétences avec un besoin) ; "
        "skill_gaps.csv détaille chaque année."
    ),
    "(no rows)": "(aucune ligne)",
    NO_SKILLS: (
        "(aucune ligne : pas de lien métier - compétence (occupation_skills) pour les métiers de "
        "cette étude)"
    ),
    NO_OFFERS: (
        "(aucune ligne : pas d'offre de formation dans cette étude (training_offers) ; aucun "
        "entrant formé n'est compté, tout poste à pourvoir est un écart)"
    ),
    NO_PATHS_WITHOUT_SKILLS: (
        "(aucune ligne : les parcours de reconversion demandent les compétences des métiers "
        "(occupation_skills))"
    ),
    NO_PATHS: (
        "(aucune ligne : aucun métier qui perd des emplois n'est assez proche en compétences "
        "d'un métier en écart ; voir [gap] transitions_min_overlap et "
        "transitions_min_jobs_lost)"
    ),
    "(+{n} more)": "(+{n} autres)",
    # ------------------------------------------------------------------ reasons
    "growth: job creation is {share} of net openings": (
        "croissance de l'emploi : les créations font {share} du besoin net"
    ),
    "retirements: end-of-career departures are {share} of net openings": (
        "départs en fin de carrière : {share} du besoin net"
    ),
    "retirements: end-of-career departures, while jobs are lost": (
        "départs en fin de carrière, alors que l'emploi recule"
    ),
    "too few trainees: no training offer in the catchment supplies it": (
        "trop peu de formés : aucune formation de la zone n'y prépare"
    ),
    "no training offer in the inputs: every opening counts as a gap": (
        "aucune offre de formation fournie : tout poste à pourvoir compte comme écart"
    ),
    "training offers not provided": "offre de formation non fournie",
    "too few trainees: local training covers {share} of openings": (
        "trop peu de formés : la formation locale couvre {share} des postes"
    ),
    "growth: {change} employment by {year}": "croissance : emploi {change} d'ici {year}",
    # ------------------------------------------------------------------ headline
    "openings to fill {first}-{last}": "postes à pourvoir {first}-{last}",
    "end-of-career departures": "départs en fin de carrière",
    "covered by local training": "couverts par la formation locale",
    "gap (not covered)": "écart (non couvert)",
    "Sums of the Totals per year table below: openings to fill = covered by local training + gap.": (
        "Sommes du tableau « Totaux par année » ci-dessous : postes à pourvoir = couverts par "
        "la formation locale + écart."
    ),
    "run": "exécution du",
    # ------------------------------------------------------------------ HTML paragraphs
    (
        "<p>Employment history and forecast for <b>{occupation}</b> in <b>{territory}</b> "
        "(model: {model}), with its prediction intervals. Choose another series with "
        "<code>[report] territory</code> and <code>occupation</code> in the configuration.</p>"
    ): (
        "<p>Historique et projection de l'emploi pour <b>{occupation}</b> dans "
        "<b>{territory}</b> (modèle : {model}), avec ses intervalles de prévision. Pour une "
        "autre série, renseigner <code>[report] territory</code> et <code>occupation</code> "
        "dans la configuration.</p>"
    ),
    (
        "<p>Net openings = expansion (net change in employment) + replacement (end-of-career "
        "departures computed by ageing each age pyramid). They are negative where job losses "
        "exceed departures; the openings to fill of the gaps count such cells as 0, so their "
        "total is higher. The first year's expansion is the step from the last observed year "
        "to the first forecast: it carries each series' return to the level the models read "
        "in its history, larger cell by cell than a year's trend, so the first year's openings "
        "to fill and gap can stand above the next year's: read the plan period totals of the "
        "summary.</p>"
    ): (
        "<p>Besoin net = créations nettes (variation de l'emploi) + départs en fin de carrière "
        "(calculés en faisant vieillir chaque pyramide des âges). Il est négatif quand les "
        "pertes d'emplois dépassent les départs ; les postes à pourvoir des écarts comptent ces "
        "cellules pour 0, d'où un total plus élevé. Les créations nettes de la première année "
        "vont de la dernière année observée à la première prévision : elles portent le retour "
        "de chaque série au niveau que les modèles lisent dans son historique, plus grand "
        "cellule par cellule que la tendance d'une année ; les postes à pourvoir et l'écart de "
        "la première année peuvent donc dépasser ceux de la suivante : lire les totaux sur la "
        "période du plan du résumé.</p>"
    ),
    (
        "<p>Share of openings not covered by the local training offer (the "
        "<i>déséquilibre potentiel</i> of Métiers 2030): a signal, not a shortage "
        "forecast — openings may also be filled by mobility and job seekers. The lower end "
        "of an interval is often the central figure itself, for two reasons: a cell's gap "
        "is never below 0, so openings above the forecast add more to it than openings below "
        "take away; and where the backtest forecasts came out below the outcomes more often "
        "than above, the simulated futures lean above the central forecast. Most simulated "
        "gaps then lie above the central gap, and the interval is widened to contain it.</p>"
    ): (
        "<p>Part des postes à pourvoir non couverte par l'offre de formation locale (le "
        "<i>déséquilibre potentiel</i> des Métiers 2030) : un signal, pas une prévision de "
        "pénurie — les postes peuvent aussi être pourvus par la mobilité et les demandeurs "
        "d'emploi. La borne basse d'un intervalle est souvent le chiffre central lui-même, "
        "pour deux raisons : l'écart d'une cellule n'est jamais négatif, donc des postes à "
        "pourvoir plus nombreux que prévu ajoutent plus à l'écart que des postes moins "
        "nombreux n'en retirent ; et quand les prévisions du backtest sont restées plus "
        "souvent sous les valeurs observées qu'au-dessus, les trajectoires simulées penchent "
        "au-dessus de la prévision centrale. La plupart des écarts simulés dépassent alors "
        "l'écart central, et l'intervalle est élargi pour le contenir.</p>"
    ),
    (
        "<p>For the largest gaps: occupations losing jobs in the same territory "
        "whose skills are closest (weighted Jaccard overlap), with the skills "
        "to acquire. Full list in transitions.csv.</p>"
    ): (
        "<p>Pour les écarts les plus importants : les métiers qui perdent des emplois dans le "
        "même territoire et dont les compétences sont les plus proches (recouvrement de "
        "Jaccard pondéré), avec les compétences à acquérir. Liste complète dans "
        "transitions.csv.</p>"
    ),
    (
        "<p>Every model is backtested on the history (rolling origin): each past year is "
        "forecast with the data before it only, and the error is measured. The chosen "
        "method (<code>auto</code>) is shown beside the naive (no change) and constant-share "
        "baselines. <code>mase_vs_naive</code> below 1 means more accurate than the naive "
        "forecast; <code>coverage_80</code> is the share of backtest values that fell inside "
        "the 80% interval.</p>"
    ): (
        "<p>Chaque modèle est testé sur l'historique (origine glissante) : chaque année passée "
        "est projetée avec les seules données antérieures et l'erreur est mesurée. La méthode "
        "retenue (<code>auto</code>) figure à côté des références naïve (pas de changement) et "
        "part constante. Un MASE rapporté au naïf inférieur à 1 signifie une projection plus "
        "précise que la naïve ; la couverture à 80 % est la part des valeurs du backtest "
        "tombées dans l'intervalle à 80 %.</p>"
    ),
    (
        "<p>Totals over the horizon, all territories and occupations; <code>gap_change</code> "
        "is the scenario's gap minus the baseline's (negative: a smaller gap).</p>"
    ): (
        "<p>Totaux sur l'horizon, tous territoires et métiers ; l'écart par rapport au scénario "
        "de référence est l'écart du scénario moins celui de la référence (négatif : un écart "
        "plus faible).</p>"
    ),
    (
        "<p>Method: employment forecasts per territory x occupation (model chosen per series "
        "from a rolling-origin backtest, intervals calibrated on backtest errors); openings = "
        "expansion + replacement (BLS; France Stratégie/DARES <i>Les métiers en 2030</i>); "
        "qualified entrants = seats x completion rate x placement rate; entrants allocated to "
        "openings inside each site's catchment by a min-cost flow (HiGHS), nearer first; "
        "gap = openings to fill - allocated entrants (negative openings count as 0); skill "
        "gaps through the occupation-skill matrix. See docs/methodology.md.</p>"
    ): (
        "<p>Méthode : projections de l'emploi par territoire x métier (modèle choisi pour chaque "
        "série par un backtest à origine glissante, intervalles calibrés sur les erreurs du "
        "backtest) ; besoins = créations nettes + départs en fin de carrière (BLS ; France "
        "Stratégie/DARES <i>Les métiers en 2030</i>) ; entrants qualifiés = places x taux de "
        "réussite x taux d'insertion ; entrants affectés aux postes dans la zone de chaque site "
        "par un flot de coût minimal (HiGHS), au plus près d'abord ; écart = postes à pourvoir "
        "- entrants affectés (un besoin négatif compte pour 0) ; écarts de compétences par la "
        "matrice métiers-compétences. Voir docs/methodology.md.</p>"
    ),
    (
        '<p class="note">Projections extend past trends: they are a decision aid, not a '
        "prediction. Small cells are flagged (<code>flag_small</code>).</p>"
    ): (
        '<p class="note">Les projections prolongent les tendances passées : une aide à la '
        "décision, pas une prédiction. Les petits effectifs sont signalés (colonne « petit "
        "effectif »).</p>"
    ),
    # ------------------------------------------------------------------ charts
    "observed": "observé",
    "{level}% interval": "intervalle à {level} %",
    "forecast": "projection",
    "jobs": "emplois",
    "jobs per year": "emplois par an",
    "replacement (end-of-career departures)": "départs en fin de carrière",
    "expansion (growth)": "créations nettes (croissance)",
    "net job losses": "pertes nettes d'emplois",
    "gap": "écart",
    "openings to fill over the horizon": "postes à pourvoir sur l'horizon",
    "gap / openings (grey: no openings)": "écart / postes (gris : aucun poste)",
    "supplied by training": "couvert par la formation",
    "Net openings per year, all territories": "Besoin net par année, tous territoires",
    "Gap share (gap / openings), territory x occupation": (
        "Part de l'écart (écart / postes à pourvoir), territoire x métier"
    ),
    "Skills: need against supply (whole horizon)": (
        "Compétences : besoin et offre (tout l'horizon)"
    ),
    "forecast fan chart": "graphique de projection",
    "openings decomposition": "décomposition des besoins",
    "gap ranking": "classement des écarts",
    "gap heatmap": "carte des écarts",
    "skills chart": "graphique des compétences",
    # ------------------------------------------------------------------ held-out check
    "Plan totals on the study's own past": "Totaux du plan sur le passé de l'étude",
    "Held-out check": "Contrôle sur le passé",
    "{low} to {high}": "{low} à {high}",
    "openings to fill": "postes à pourvoir",
    "net openings": "besoins nets",
    (
        "On this study's own past (origins {origins}, {cells} cells), the {years}-year {what}: "
        "central figure off by {central}, median of the simulated futures by {median}; inside "
        "the {level}% interval {inside} of {n}; the median was the closer figure at {closer} of "
        "{n} origins."
    ): (
        "Sur le passé de cette étude (origines {origins}, {cells} cellules), les {what} sur "
        "{years} ans : chiffre central écarté de {central}, médiane des futurs simulés de "
        "{median} ; dans l'intervalle à {level} % {inside} fois sur {n} ; la médiane était le "
        "chiffre le plus proche {closer} fois sur {n}."
    ),
    (
        "On this study's own past (origins {origins}, {cells} cells), the {years}-year {what}: "
        "central figure off by {central} (no sample paths: no median, no interval)."
    ): (
        "Sur le passé de cette étude (origines {origins}, {cells} cellules), les {what} sur "
        "{years} ans : chiffre central écarté de {central} (sans futurs simulés : ni médiane, "
        "ni intervalle)."
    ),
    "Not run: {reason}": "Non effectué : {reason}",
    (
        "{n} series, more than the {limit} up to which [forecast] heldout_check = 'auto' runs it "
        "(it refits the forecaster at up to 4 past origins); heldout_check = 'on' runs it"
    ): (
        "{n} séries, plus que les {limit} jusqu'où [forecast] heldout_check = 'auto' l'effectue "
        "(il réestime les projections à 4 origines passées au plus) ; heldout_check = 'on' "
        "l'effectue"
    ),
    (
        "Each origin replays the run on the years before it: the forecaster refitted, the "
        "openings computed along its sample paths; what happened is the openings of the "
        "employment then observed (its yearly changes, the same departures rule), summed over "
        "the cells observed throughout. The figure that held on the study's own past is the "
        "one to read first for the plan period; an interval that missed says the uncertainty "
        "is larger than shown."
    ): (
        "Chaque origine rejoue l'étude sur les années qui la précèdent : projections réestimées, "
        "besoins calculés le long de leurs futurs simulés ; ce qui s'est passé, ce sont les "
        "besoins de l'emploi alors observé (ses variations annuelles, la même règle de départs), "
        "sommés sur les cellules observées tout du long. Le chiffre qui a tenu sur le passé de "
        "l'étude est celui à lire d'abord pour la période du plan ; un intervalle manqué dit que "
        "l'incertitude est plus grande qu'affiché."
    ),
    "quantity": "grandeur",
    "cells": "cellules",
    "central": "chiffre central",
    "median": "médiane des futurs simulés",
    "inside": "dans l'intervalle",
    "central_error_pct": "écart du chiffre central (%)",
    "median_error_pct": "écart de la médiane (%)",
    "years": "années",
    # ------------------------------------------------------------------ columns
    "territory": "territoire",
    "territory_label": "libellé territoire",
    "occupation": "métier",
    "occupation_label": "libellé métier",
    "skill": "compétence",
    "skill_label": "libellé compétence",
    "period": "année",
    "openings": "postes à pourvoir",
    "openings_to_fill": "postes à pourvoir",
    "net_openings": "besoin net (créations − pertes + départs)",
    "net_openings_lower": "besoin net (borne basse)",
    "net_openings_upper": "besoin net (borne haute)",
    "net_openings_median": "besoin net (médiane des futurs simulés)",
    "gap_median": "écart (médiane des futurs simulés)",
    "openings_to_fill_median": "postes à pourvoir (médiane des futurs simulés)",
    "openings_to_fill_lower": "postes à pourvoir (borne basse)",
    "openings_to_fill_upper": "postes à pourvoir (borne haute)",
    "plan_period": "période du plan",
    "expansion_lower": "créations nettes (borne basse)",
    "expansion_upper": "créations nettes (borne haute)",
    "replacement_lower": "départs en fin de carrière (borne basse)",
    "replacement_upper": "départs en fin de carrière (borne haute)",
    "openings_cum": "besoin net cumulé",
    "openings_cum_lower": "besoin net cumulé (borne basse)",
    "openings_cum_upper": "besoin net cumulé (borne haute)",
    "gap_cum": "écart cumulé",
    "gap_cum_lower": "écart cumulé (borne basse)",
    "gap_cum_upper": "écart cumulé (borne haute)",
    "entrants_allocated": "entrants formés affectés",
    "gap_share": "part de l'écart",
    "gap_lower": "écart (borne basse)",
    "gap_upper": "écart (borne haute)",
    "flag_small": "petit effectif",
    "employment": "emploi",
    "employment_lower": "emploi (borne basse)",
    "employment_upper": "emploi (borne haute)",
    "employment_start": "emploi (dernière année observée)",
    "employment_end": "emploi (horizon)",
    "growth": "croissance",
    "expansion": "créations nettes",
    "replacement": "départs en fin de carrière",
    "replacement_source": "source des départs",
    "turnover": "rotation",
    "lower": "borne basse",
    "upper": "borne haute",
    "model": "modèle",
    "mean": "projection",
    "level": "niveau de confiance (%)",
    "last_observed": "dernière année observée",
    "horizon": "horizon (années)",
    "origin": "origine",
    "n": "nombre",
    "mase": "MASE",
    "smape": "sMAPE",
    "wape": "WAPE",
    "bias": "biais",
    "direction": "sens de variation juste",
    "win_vs_naive": "part des séries où le modèle bat le naïf",
    "mase_vs_naive": "MASE rapporté au naïf",
    "mase_vs_cshare": "MASE rapporté à la part constante",
    "need": "besoin",
    "need_lower": "besoin (borne basse)",
    "need_upper": "besoin (borne haute)",
    "supply_allocated": "offre affectée",
    "n_occupations": "nombre de métiers",
    "from_occupation": "métier d'origine",
    "from_occupation_label": "libellé métier d'origine",
    "overlap": "proximité de compétences",
    "mobility_link": "mobilité observée",
    "score": "score",
    "rank": "rang",
    "jobs_lost": "emplois perdus",
    "skills_to_acquire": "compétences à acquérir",
    "skills_to_acquire_labels": "compétences à acquérir (libellés)",
    "n_skills_to_acquire": "nombre de compétences à acquérir",
    "reason": "raison",
    "offer": "offre",
    "title": "intitulé",
    "provider": "organisme",
    "site": "site",
    "seats": "places",
    "seats_share": "part des places",
    "to_review_offers": "offres à revoir",
    "to_review_seats": "places à revoir",
    "entrants_share": "part des entrants",
    "offers": "offres",
    "share": "part",
    "completion_rate": "taux de réussite",
    "placement_rate": "taux d'insertion",
    "defaulted": "taux par défaut",
    "source": "source",
    "warning": "avertissement",
    "entrants": "entrants formés",
    "allocated": "affectés",
    "surplus": "places non affectées",
    "scenario": "scénario",
    "gap_change": "écart par rapport au scénario de référence",
    "description": "description",
    "key": "paramètre",
    "value": "valeur",
    "metric": "indicateur",
    "bmo_projects": "BMO : projets de recrutement",
    "bmo_difficult_share": "BMO : part des projets difficiles",
    "bmo_check": "BMO : comparaison avec la projection",
    "projects": "projets de recrutement",
    "difficult_share": "part des projets difficiles",
    "seasonal_share": "part des projets saisonniers",
    "share_ratio": "rapport des parts",
    "flag": "signal",
}

# the column families with a number in their name: lower_80, upper_95, coverage_80...
_FAMILIES = {
    "lower": ("lower bound {level}%", "borne basse {level} %"),
    "upper": ("upper bound {level}%", "borne haute {level} %"),
    "coverage": ("coverage {level}%", "couverture {level} %"),
}
_FAMILY_RE = re.compile(r"^(lower|upper|coverage)_(\d+)$")

#: Coded values shown translated (column -> value -> French).
VALUES_FR = {
    "quantity": {"net_openings": "besoin net", "openings_to_fill": "postes à pourvoir"},
    "inside": {"yes": "oui", "no": "non"},
    "bmo_check": {
        "agree": "cohérent",
        "survey_higher": "enquête plus haute",
        "projection_higher": "projection plus haute",
        "not_comparable": "non comparable",
    },
    "flag": {
        "agree": "cohérent",
        "survey_higher": "enquête plus haute",
        "projection_higher": "projection plus haute",
        "not_comparable": "non comparable",
    },
    "reason": {
        "code": "code",
        "text": "texte",
        "user": "utilisateur",
        "override": "correction",
        "unmapped": "non rattachée",
    },
    "replacement_source": {"pyramid": "pyramide des âges", "occupation": "taux du métier"},
    "scenario": {"baseline": "référence"},
}


def tr(text: str, lang: str | None) -> str:
    """Translate a label when ``lang == "fr"`` (unknown labels are returned as they are).

    Examples
    --------
    >>> tr("Totals per year", "fr")
    'Totaux par année'
    >>> tr("too few trainees: local training covers {share} of openings", "fr").format(
    ...     share="40%")
    'trop peu de formés : la formation locale couvre 40% des postes'
    """
    if lang == "fr":
        return FR.get(text, text)
    return text


def header(column: str, lang: str | None) -> str:
    """Column header: the name itself in English, its French label with ``lang="fr"``."""
    column = str(column)
    if lang != "fr":
        return column
    m = _FAMILY_RE.match(column)
    if m:
        return _FAMILIES[m.group(1)][1].format(level=m.group(2))
    return FR.get(column, column)


def translate_values(df: pd.DataFrame, lang: str | None) -> pd.DataFrame:
    """The table with its coded values (BMO flags, mapping reasons...) in French."""
    if lang != "fr" or df is None or not len(df):
        return df
    cols = [c for c in VALUES_FR if c in df.columns and not pd.api.types.is_numeric_dtype(df[c])]
    if not cols:
        return df
    df = df.copy()
    for c in cols:
        mapping = VALUES_FR[c]
        df[c] = df[c].map(lambda v, m=mapping: m.get(v, v) if isinstance(v, str) else v)
    return df


def fmt_number(text: str, lang: str | None) -> str:
    """French number typography for a formatted number: ``12,345.6`` -> ``12 345,6``."""
    if lang != "fr":
        return text
    nbsp = "\u202f"
    out = text.replace(",", nbsp).replace(".", ",")
    return out.replace("%", f"{nbsp}%")
