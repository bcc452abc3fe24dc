"""What ``loop-compat --help`` and each command's ``--help`` tell a user."""

from __future__ import annotations

import re

import pytest

from matrix import cli

#: Developer markup and internal names a user's help must not show.
DEVELOPER = re.compile(r":(mod|func|class|attr|meth):|``|\bmatrix\.(?!toml|jsonl?\b)[a-z]")


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        cli.main([*argv, "--help"])
    assert stopped.value.code == 0
    return capsys.readouterr().out


def test_the_tool_opens_with_what_it_does_its_commands_and_where_results_go(capsys):
    text = _help(capsys)
    assert text.split("\n\n")[1].startswith("Measure which versions of pytest")
    assert "main commands:" in text and "Results go to MATRIX_OUT" in text
    assert not DEVELOPER.search(text), DEVELOPER.search(text)


@pytest.mark.parametrize("command", sorted(cli._parser()._subparsers._group_actions[0].choices))
def test_every_command_help_is_user_text(capsys, command):
    text = _help(capsys, command)
    description = text.split("\n\n")[1]
    assert description.strip() and not description.startswith(("positional", "options"))
    assert not DEVELOPER.search(text), DEVELOPER.search(text)


def test_docstrings_shown_to_users_lose_their_markup():
    doc = (
        "answered by the engine\n(:mod:`matrix.results.answers`): good; see :func:`finding_json`"
        " and :class:`~matrix.errors.MatrixError`, ``python -m matrix check``"
    )
    assert cli.user_text(doc) == (
        "answered by the engine:\ngood; see finding_json and MatrixError, 'loop-compat check'"
    )
