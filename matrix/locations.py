"""Where the package's own files are: the one place that decides where the probes live.

In a checkout the probe suites are a top-level folder beside the package (``probes/``,
next to ``noxfile.py``); an installed wheel carries the same folder inside the package
(``matrix/probes``, mapped there by ``pyproject.toml``). Every lookup of a probe, the
variants catalogue or the checkout asks this module, so both layouts work unchanged.
"""

from __future__ import annotations

from pathlib import Path

#: The ``matrix`` package folder (a checkout's, or the installed one).
PACKAGE = Path(__file__).resolve().parent
#: The folder holding the package: the repository root in a checkout, site-packages when
#: installed.
ROOT = PACKAGE.parent


def _probes() -> Path:
    # Installed first: a wheel holds matrix/probes; a checkout has none there (its probes
    # are the top-level folder), so a stray site-packages/probes is never mistaken for ours.
    inside = PACKAGE / "probes"
    return inside if (inside / "variants.toml").is_file() else ROOT / "probes"


#: The probe suites shipped with the product (``MATRIX_PROBES`` may name others).
PROBES = _probes()
#: The variants catalogue beside the probes (also shipped by the plugin's distribution).
VARIANTS = PROBES / "variants.toml"


def in_checkout() -> bool:
    """Whether the package runs from a checkout (the noxfile is beside it), not installed."""
    return (ROOT / "noxfile.py").is_file()
