"""Where the probes are: the checkout's top-level folder, or the one inside an installed package."""

from __future__ import annotations

from pathlib import Path

from matrix import locations, options
from matrix.define import variants

ROOT = Path(__file__).resolve().parent.parent


def test_a_checkout_finds_its_top_level_probes_and_every_lookup_agrees():
    assert locations.PROBES == ROOT / "probes"
    assert variants.CATALOGUE == locations.VARIANTS == ROOT / "probes" / "variants.toml"
    assert options.read({}).probes == locations.PROBES
    assert locations.in_checkout()


def test_an_installed_package_finds_the_probes_it_carries(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "matrix"
    (package / "probes").mkdir(parents=True)
    (package / "probes" / "variants.toml").write_text("")
    (tmp_path / "site-packages" / "probes").mkdir()  # someone else's top-level folder
    monkeypatch.setattr(locations, "PACKAGE", package)
    monkeypatch.setattr(locations, "ROOT", package.parent)
    assert locations._probes() == package / "probes"
    assert not locations.in_checkout()
