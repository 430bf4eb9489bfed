"""Benchmark of the official-file readers: ROME load time, LHEO streaming time and peak memory.

Run ``python benchmarks/bench_ingest.py`` (options: ``--lheo-mb 200``, ``--skip-lheo``). The
ROME figure uses the real v460 export beside the repository (``../shared/data/real/rome4-v460``)
when present. The LHEO figure generates a synthetic LHEO 2.3 file of the requested size (many
offers, each with two actions and sessions), then reads it in a child process whose peak
resident memory (``ru_maxrss``) is reported, so that the generator does not count.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"

_OFFER = """    <formation numero="F-{i:08d}">
      <domaine-formation>
        <code-FORMACODE ref="V14">{fc:05d}</code-FORMACODE>
        <code-NSF>326</code-NSF>
        <code-ROME ref="V4">{rome}</code-ROME>
      </domaine-formation>
      <intitule-formation>Formation numéro {i} : développement d'applications</intitule-formation>
      <objectif-formation>&lt;p&gt;{text}&lt;/p&gt;</objectif-formation>
      <resultats-attendus>Titre professionnel</resultats-attendus>
      <contenu-formation>{text}</contenu-formation>
      <certifiante>1</certifiante>
      <contact-formation><coordonnees><courriel>contact@exemple.fr</courriel></coordonnees></contact-formation>
      <parcours-de-formation>1</parcours-de-formation>
      <code-niveau-entree>14</code-niveau-entree>
      <certification><code-RNCP>RNCP{rncp}</code-RNCP></certification>
{actions}      <organisme-formation-responsable>
        <numero-activite>11755555575</numero-activite>
        <SIRET-organisme-formation><SIRET>19753471200017</SIRET></SIRET-organisme-formation>
        <nom-organisme>Organisme {org}</nom-organisme>
        <raison-sociale>ORGANISME {org}</raison-sociale>
        <coordonnees-organisme><coordonnees><adresse><ligne>1 rue</ligne><codepostal>75003</codepostal><ville>Paris</ville></adresse></coordonnees></coordonnees-organisme>
        <contact-organisme><coordonnees><courriel>c@exemple.fr</courriel></coordonnees></contact-organisme>
      </organisme-formation-responsable>
    </formation>
"""
_ACTION = """      <action numero="A-{i:08d}-{a}">
        <rythme-formation>Temps plein</rythme-formation>
        <code-public-vise ref="V14">15041</code-public-vise>
        <niveau-entree-obligatoire>0</niveau-entree-obligatoire>
        <modalites-alternance>-</modalites-alternance>
        <modalites-enseignement>{a}</modalites-enseignement>
        <conditions-specifiques>aucune</conditions-specifiques>
        <prise-en-charge-frais-possible>1</prise-en-charge-frais-possible>
        <lieu-de-formation><coordonnees><adresse><ligne>2 rue</ligne><codepostal>{cp}</codepostal><ville>Ville</ville><code-INSEE-commune>{insee}</code-INSEE-commune></adresse></coordonnees></lieu-de-formation>
        <modalites-entrees-sorties>0</modalites-entrees-sorties>
        <session><periode><debut>20250915</debut><fin>20260630</fin></periode><adresse-inscription><adresse><ligne>2 rue</ligne><codepostal>{cp}</codepostal><ville>Ville</ville></adresse></adresse-inscription><cycle><type-cycle>0</type-cycle><capacite-cumulee>{seats}</capacite-cumulee></cycle></session>
        <nombre-heures-total>{hours}</nombre-heures-total>
      </action>
"""


def make_lheo(path: str | Path, size_mb: float = 200.0, seed: int = 0) -> int:
    """Write a synthetic LHEO 2.3 file of about ``size_mb`` MB; return the number of offers."""
    import numpy as np

    rng = np.random.default_rng(seed)
    romes = ["M1805", "F1703", "H2913", "J1501", "N1103", "K2111"]
    text = "Concevoir, développer et maintenir des applications ; " * 8
    target = int(size_mb * 1024 * 1024)
    n = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="http://lheo.gouv.fr/2.3">\n'
            "  <offres>\n"
        )
        written = 0
        while written < target:
            actions = "".join(
                _ACTION.format(
                    i=n,
                    a=a,
                    cp="14000",
                    insee=f"14{int(rng.integers(100, 999))}",
                    seats=int(rng.integers(5, 30)),
                    hours=int(rng.integers(35, 1500)),
                )
                for a in (0, 1)
            )
            chunk = _OFFER.format(
                i=n,
                fc=int(rng.integers(10000, 99999)),
                rome=romes[n % len(romes)],
                text=text,
                rncp=int(rng.integers(100, 39999)),
                org=n % 500,
                actions=actions,
            )
            out.write(chunk)
            written += len(chunk.encode("utf-8"))
            n += 1
        out.write("  </offres>\n</lheo>\n")
    return n


_CHILD = """
import json, resource, sys, time
from gpec.ingest._lheo import read_lheo
t = time.perf_counter()
data = read_lheo(sys.argv[1])
elapsed = time.perf_counter() - t
# VmHWM (peak RSS of this program) resets at exec, unlike ru_maxrss which keeps the parent's
status = open("/proc/self/status").read() if sys.platform.startswith("linux") else ""
hwm = [line for line in status.splitlines() if line.startswith("VmHWM:")]
peak_mb = (int(hwm[0].split()[1]) / 1024 if hwm else
           resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "rows": len(data.training_offers)}))
"""


def bench_lheo_file(path: str | Path) -> dict:
    """Read ``path`` with read_lheo in a child process; return seconds, peak_mb, rows."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_rome() -> dict | None:
    folder = REAL / "rome4-v460"
    if not folder.is_dir():
        return None
    sys.path.insert(0, str(REPO))
    from gpec.ingest._rome import read_rome

    t = time.perf_counter()
    data = read_rome(folder)
    return {
        "seconds": time.perf_counter() - t,
        "fiches": int((data.occupations["level"] == "fiche").sum()),
        "occupation_skills": len(data.occupation_skills),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lheo-mb", type=float, default=200.0)
    parser.add_argument("--skip-lheo", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    rome = bench_rome()
    if rome is None:
        rows.append(("ROME v460 folder", "n/a (real data absent)", "", ""))
    else:
        rows.append(
            (
                "ROME v460 folder",
                f"{rome['seconds']:.2f} s",
                "",
                f"{rome['fiches']} fiches, {rome['occupation_skills']} links",
            )
        )
    if not args.skip_lheo:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "big_lheo.xml"
            t = time.perf_counter()
            n = make_lheo(path, args.lheo_mb)
            gen = time.perf_counter() - t
            size = path.stat().st_size / 1024 / 1024
            res = bench_lheo_file(path)
            rows.append(
                (
                    f"LHEO {size:.0f} MB ({n} formations)",
                    f"{res['seconds']:.2f} s",
                    f"{res['peak_mb']:.0f} MB",
                    f"{res['rows']} offer rows; generation {gen:.1f} s",
                )
            )
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'benchmark':<36} {'time':>10} {'peak RSS':>10}  notes")
    for name, t, mem, note in rows:
        print(f"{name:<36} {t:>10} {mem:>10}  {note}")
    print(f"(this process peak RSS: {self_peak:.0f} MB)")


if __name__ == "__main__":
    main()
