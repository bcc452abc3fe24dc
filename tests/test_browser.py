"""Finding Chromium: a wrong MATRIX_CHROMIUM is named as such, not as a missing browser."""

from __future__ import annotations

from matrix.measure import browser


def test_a_matrix_chromium_that_is_not_executable_gets_its_own_sentence(tmp_path) -> None:
    wrong = tmp_path / "chromium.txt"
    wrong.write_text("not a browser")
    assert browser.find(str(wrong)) is None
    assert browser.missing_reason(str(wrong)) == (
        f"MATRIX_CHROMIUM={wrong} is not an executable; point it at a Chromium binary "
        "(Debian: /usr/bin/chromium) or unset it to use the one on PATH"
    )


def test_without_matrix_chromium_the_hint_says_how_to_get_one() -> None:
    assert browser.missing_reason(None) == browser.HINT
    assert "set MATRIX_CHROMIUM" in browser.HINT
