"""Bundled demo data and synthetic data generators.

- :func:`load_demo` / :func:`demo_files`: the synthetic Normandie + Grand Est demo region
  (real territory, ROME 4.0 occupation and skill codes; synthetic numbers);
- :func:`make_panel`: a large synthetic employment panel, for benchmarks and tests;
- :func:`make_hierarchy`: a synthetic EPCI -> département -> région -> nation tree with
  employment, for aggregation and reconciliation tests.
"""

from gpec.datasets._demo import DEMO_TABLES, demo_files, load_demo
from gpec.datasets._synthetic import make_hierarchy, make_panel

__all__ = ["DEMO_TABLES", "demo_files", "load_demo", "make_hierarchy", "make_panel"]
