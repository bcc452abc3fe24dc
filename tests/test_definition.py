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
    assert all(
        not ("pytest-playwright" in c.pin_map and "pytest-playwright-asyncio" in c.pin_map)
        for c in cells
    )
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
    path.write_text(
        '[axes]\npython = ["3.12", "3.13"]\npytest = ["8.3.5", "8.4.2"]\n'
        '[[exclude]]\npython = "3.12"\npytest = "8.4.*"\n'
    )
    ids = {c.id for c in plan.build(definition.load(path)).cells}
    assert ids == {"py3.12-pytest8.3.5", "py3.13-pytest8.3.5", "py3.13-pytest8.4.2"}


def test_both_plugins_from_axes_are_declared_incompatible_not_run(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[axes]\npython = ["3.13"]\npytest-playwright = ["0.7.1"]\n'
        'pytest-playwright-asyncio = ["0.7.1"]\n'
        '[[exclude]]\npytest-playwright = "none"\n'
    )
    # the plugin axis never pairs the two; only an explicit request could
    assert all(c.probe == "sync-plugin" for c in plan.build(definition.load(path)).cells)
    cell = plan.Cell.make(
        "3.13", {"pytest-playwright": "0.7.1", "pytest-playwright-asyncio": "0.7.1"}
    )
    assert "refuse to load together" in plan._declared_incompatible(cell, None)


def test_explicit_cells_are_never_pruned_the_resolver_answers_them(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[[cell]]\npython = "3.12"\npytest = "7.4.4"\npytest-asyncio = "1.0.0"\n')
    assert [c.id for c in plan.build(definition.load(path)).cells] == [
        "py3.12-pytest7.4.4-asyncio1.0.0"
    ]


def test_profiles_are_chosen_by_name(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[profiles.quick]\n[[profiles.quick.cell]]\npython = "3.13"\npytest = "8.4.2"\n'
        '[profiles.full.axes]\npython = ["3.12", "3.13"]\npytest = ["8.4.2"]\n'
    )
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
    path.write_text(
        'pass-env = ["DJANGO_SETTINGS_MODULE", "MYAPP_*"]\n[axes]\npython = ["3.13"]\npytest = ["8.4.2"]\n'
    )
    assert definition.load(path).pass_env == ("DJANGO_SETTINGS_MODULE", "MYAPP_*")
    for bad in ('"MYAPP_*"', '["A=B"]', "[5]", '["TWO WORDS"]'):
        path.write_text(f'pass-env = {bad}\n[axes]\npython = ["3.13"]\npytest = ["8.4.2"]\n')
        with pytest.raises(ConfigError, match="pass-env"):
            definition.load(path)


SYNC_CELL = (
    'python = "3.13"\npytest = "8.4.2"\npytest-asyncio = "1.3.0"\n'
    'pytest-playwright = "0.7.1"\nplaywright = "1.56.0"\n'
)


def test_variants_of_a_cell_make_one_cell_each_and_baseline_ids_stay(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(f'[[cell]]\n{SYNC_CELL}variants = ["baseline", "nest-asyncio"]\n')
    cells = plan.build(definition.load(path)).cells
    assert [c.id for c in cells] == [
        "py3.13-pytest8.4.2-asyncio1.3.0-sync0.7.1-pw1.56.0",
        "py3.13-pytest8.4.2-asyncio1.3.0-sync0.7.1-pw1.56.0+nest-asyncio",
    ]
    assert [c.variant for c in cells] == ["baseline", "nest-asyncio"]
    row = plan.build(definition.load(path)).to_json("r")["cells"][1]
    assert (
        row["variant"] == "nest-asyncio"
        and "variant" not in plan.build(definition.load(path)).to_json("r")["cells"][0]
    )


def test_a_profile_variant_that_cannot_apply_is_listed_not_generated(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        'variants = ["baseline", "both-plugins"]\n[axes]\npython = ["3.13"]\n'
        'pytest-asyncio = ["1.3.0"]\npytest-playwright = ["0.7.1"]\n'
        'pytest-playwright-asyncio = ["0.7.1"]\n'
    )
    built = plan.build(definition.load(path))
    assert sorted(c.id for c in built.cells) == [
        "py3.13-asyncio1.3.0-async0.7.1",
        "py3.13-asyncio1.3.0-async0.7.1+both-plugins",
        "py3.13-asyncio1.3.0-sync0.7.1",
    ]
    assert [(c.id, r) for c, r in built.incompatible] == [
        (
            "py3.13-asyncio1.3.0-sync0.7.1+both-plugins",
            "variant 'both-plugins' applies to the async-plugin probe, not to sync-plugin",
        )
    ]


def test_pairwise_keeps_the_baseline_covering_and_pairs_every_variant(tmp_path) -> None:
    base = (
        'mode = "pairwise"\ncritical = ["python", "plugin"]\n{}[axes]\npython = ["3.12", "3.13"]\n'
        'pytest = ["8.3.5", "8.4.2"]\npytest-playwright = ["0.7.1"]\n'
        'pytest-playwright-asyncio = ["0.7.1"]\n'
    )
    path = tmp_path / "m.toml"
    path.write_text(base.format(""))
    alone = {c.id for c in plan.build(definition.load(path)).cells}
    path.write_text(base.format('variants = ["baseline", "nest-asyncio", "asyncio-auto"]\n'))
    cells = plan.build(definition.load(path)).cells
    assert {c.id for c in cells if c.variant == "baseline"} == alone
    pairs = {(c.variant, k, v) for c in cells for k, v in [("python", c.python), *c.pins]}
    for value in ("3.12", "3.13"):
        assert ("nest-asyncio", "python", value) in pairs and (
            "asyncio-auto",
            "python",
            value,
        ) in pairs
    for version in ("8.3.5", "8.4.2"):
        assert ("nest-asyncio", "pytest", version) in pairs
    assert ("asyncio-auto", "pytest-playwright-asyncio", "0.7.1") in pairs
    assert not any(c.variant == "nest-asyncio" and c.probe != "sync-plugin" for c in cells)


@pytest.mark.parametrize(
    "where", ['variants = ["nosuch"]\n', "[[cell]]\n" + SYNC_CELL + 'variants = ["nosuch"]\n']
)
def test_an_unknown_variant_stops_with_exit_code_2(tmp_path, where) -> None:
    path = tmp_path / "m.toml"
    path.write_text(where)
    with pytest.raises(ConfigError) as caught:
        definition.load(path)
    assert caught.value.return_code == 2
    assert str(caught.value).startswith("unknown variant 'nosuch' in variants of ")


def test_a_variant_a_cell_asks_for_and_cannot_have_stops_with_exit_code_2(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(f'[[cell]]\n{SYNC_CELL}variants = ["both-plugins"]\n')
    with pytest.raises(ConfigError) as caught:
        plan.build(definition.load(path))
    assert caught.value.return_code == 2
    assert str(caught.value) == (
        "cell py3.13-pytest8.4.2-asyncio1.3.0-sync0.7.1-pw1.56.0+both-plugins: variant "
        "'both-plugins' applies to the async-plugin probe, not to sync-plugin; remove it "
        "from that cell's variants."
    )


def test_a_row_that_pins_nothing_yet_is_not_listed_incompatible(tmp_path) -> None:
    # (Python 3.12, no pytest-cov) is a pair like any other: the cells hold it with their
    # other pins; only a whole cell that pins nothing is refused.
    path = tmp_path / "m.toml"
    path.write_text(
        'mode = "pairwise"\ncritical = ["python"]\n[axes]\npython = ["3.12", "3.13"]\n'
        'pytest = ["8.3.5", "8.4.2"]\npytest-cov = ["7.0.0", "none"]\n'
    )
    built = plan.build(definition.load(path))
    assert built.incompatible == ()
    assert {(c.python, c.has_coverage) for c in built.cells} == {
        ("3.12", True),
        ("3.12", False),
        ("3.13", True),
        ("3.13", False),
    }
