"""Finding Chromium: a wrong MATRIX_CHROMIUM is named as such, not as a missing browser."""

from __future__ import annotations

from matrix.measure import browser


def test_a_matrix_chromium_that_is_not_executable_gets_its_own_sentence(tmp_path, monkeypatch):
    wrong = tmp_path / "chromium.txt"
    wrong.write_text("not a browser")
    monkeypatch.setenv(browser.ENV_VAR, str(wrong))
    assert browser.find() is None
    assert browser.missing_reason() == (
        f"MATRIX_CHROMIUM={wrong} is not an executable; point it at a Chromium binary "
        "(Debian: /usr/bin/chromium) or unset it to use the one on PATH")


def test_without_matrix_chromium_the_hint_says_how_to_get_one(monkeypatch) -> None:
    monkeypatch.delenv(browser.ENV_VAR, raising=False)
    assert browser.missing_reason() == browser.HINT
    assert "set MATRIX_CHROMIUM" in browser.HINT
