"""Reading the matrix definition: good files give cells, bad ones one sentence and exit 2."""

from __future__ import annotations

import pytest

from matrix.define import definition, plan
from matrix.errors import ConfigError, NothingToDo


def test_explicit_cells_become_cells_with_stable_readable_ids(data) -> None:
    profile = definition.load(data / "reported.toml")
    cells = plan.build(profile).cells
    assert [c.id for c in cells] == [
        "py3.13-pytest8.4.2-asyncio0.23.0-sync0.7.1-pw1.49.1-cov7.0.0",
        "py3.13-pytest8.4.2-asyncio0.24.0-async0.7.1-pw1.56.0-cov7.0.0",
        "py3.13-pytest8.4.2-asyncio1.5.0-async0.7.1-pw1.56.0-cov7.0.0",
    ]
    assert [c.probe for c in cells] == ["sync-plugin", "async-plugin", "async-plugin"]
    assert profile.reruns == 0 and profile.timeout == 180


def test_axes_multiply_and_the_two_plugins_form_one_axis(tmp_path) -> None:
    path = tmp_path / "axes.toml"
    path.write_text(
        '[axes]\npython = ["3.12", "3.13"]\npytest-asyncio = ["0.24.0", "1.5.0"]\n'
        'pytest-playwright = ["0.7.1"]\npytest-playwright-asyncio = ["0.7.1", "none"]\n'
    )
    cells = plan.build(definition.load(path)).cells
    assert len(cells) == 2 * 2 * 3
    assert all(not ("pytest-playwright" in c.pin_map and "pytest-playwright-asyncio" in c.pin_map)
               for c in cells)
    # "none" leaves the plugin out: without playwright either, only the control probe runs
    assert {c.probe for c in cells} == {"sync-plugin", "async-plugin", "control"}


def test_cell_ids_do_not_change_when_another_axis_value_is_added(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[axes]\npython = ["3.13"]\npytest = ["8.4.2"]\n')
    before = {c.id for c in plan.build(definition.load(path)).cells}
    path.write_text('[axes]\npython = ["3.13"]\npytest = ["8.4.2", "8.3.5"]\n')
    after = {c.id for c in plan.build(definition.load(path)).cells}
    assert before < after


def test_exclusions_drop_matching_cells(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[axes]\npython = ["3.12", "3.13"]\npytest = ["8.3.5", "8.4.2"]\n'
                    '[[exclude]]\npython = "3.12"\npytest = "8.4.*"\n')
    ids = {c.id for c in plan.build(definition.load(path)).cells}
    assert ids == {"py3.12-pytest8.3.5", "py3.13-pytest8.3.5", "py3.13-pytest8.4.2"}


def test_both_plugins_from_axes_are_declared_incompatible_not_run(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[axes]\npython = ["3.13"]\npytest-playwright = ["0.7.1"]\n'
                    'pytest-playwright-asyncio = ["0.7.1"]\n'
                    '[[exclude]]\npytest-playwright = "none"\n')
    # the plugin axis never pairs the two; only an explicit request could
    assert all(c.probe == "sync-plugin" for c in plan.build(definition.load(path)).cells)
    cell = plan.Cell.make("3.13", {"pytest-playwright": "0.7.1", "pytest-playwright-asyncio": "0.7.1"})
    assert "refuse to load together" in plan._declared_incompatible(cell, None)


def test_explicit_cells_are_never_pruned_the_resolver_answers_them(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[[cell]]\npython = "3.12"\npytest = "7.4.4"\npytest-asyncio = "1.0.0"\n')
    assert [c.id for c in plan.build(definition.load(path)).cells] == [
        "py3.12-pytest7.4.4-asyncio1.0.0"]


def test_profiles_are_chosen_by_name(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[profiles.quick]\n[[profiles.quick.cell]]\npython = "3.13"\npytest = "8.4.2"\n'
                    '[profiles.full.axes]\npython = ["3.12", "3.13"]\npytest = ["8.4.2"]\n')
    assert definition.load(path).name == "quick"
    assert len(plan.build(definition.load(path, "full")).cells) == 2
    with pytest.raises(ConfigError, match="no profile 'nightly'; choose one of: quick, full"):
        definition.load(path, "nightly")


def test_selecting_no_cell_is_an_error_not_an_empty_green_run(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[[cell]]\npython = "3.13"\npytest = "8.4.2"\n')
    profile = definition.load(path)
    with pytest.raises(NothingToDo, match="selects no cell in shard 2/2") as err:
        plan.selected(profile, share="2/2")
    assert err.value.return_code == 3


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("unknown-key.toml", "unknown distribution 'colour' in [[cell]] #1"),
        ("unknown-dist.toml", "unknown distribution 'pytest-asynchronous' in [[cell]] #1"),
        ("malformed-version.toml", "malformed version '8.4.x' for pytest in [[cell]] #1"),
        ("unknown-top-key.toml", "unknown key 'flavour' in the file"),
        ("float-python.toml", "python = 3.13 in [[cell]] #1 of the file must be a quoted string"),
    ],
)
def test_bad_files_name_the_file_and_the_key_with_exit_code_2(data, name, says) -> None:
    path = data / "bad" / name
    with pytest.raises(ConfigError) as err:
        definition.load(path)
    message = str(err.value)
    assert str(path) in message and says in message
    assert "\n" not in message and err.value.return_code == 2


def test_a_missing_file_says_so(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        definition.load(tmp_path / "nope.toml")


def test_pass_env_takes_names_and_patterns_and_refuses_anything_else(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('pass-env = ["DJANGO_SETTINGS_MODULE", "MYAPP_*"]\n[axes]\npython = ["3.13"]\npytest = ["8.4.2"]\n')
    assert definition.load(path).pass_env == ("DJANGO_SETTINGS_MODULE", "MYAPP_*")
    for bad in ('"MYAPP_*"', '["A=B"]', '[5]', '["TWO WORDS"]'):
        path.write_text(f'pass-env = {bad}\n[axes]\npython = ["3.13"]\npytest = ["8.4.2"]\n')
        with pytest.raises(ConfigError, match="pass-env"):
            definition.load(path)
