"""Secrets: which names look secret, which values are masked, what a suite is given."""

from __future__ import annotations

import io
import json

from matrix import masking

ENV = {
    "PATH": "/usr/bin",
    "HOME": "/home/ci",
    "LC_ALL": "C.UTF-8",
    "https_proxy": "http://proxy:3128",
    "AWS_SECRET_ACCESS_KEY": "aws-7Qx9",
    "GH_PAT": "ghp_8d7f",
    "SENTRY_DSN": "https://k@s/1",
    "DATABASE_URL": "postgres://app:db-pw-3c8e@db:5432/shop",
    "DB_PASS": "abc",  # too short
    "XDG_SESSION_TYPE": "wayland",
    "PATTERN": "not-a-secret",
    "MYAPP_MODE": "fast",
}


def test_secret_names_are_recognised_by_their_parts() -> None:
    secret = [n for n in ENV if masking.is_secret_name(n)]
    assert secret == ["AWS_SECRET_ACCESS_KEY", "GH_PAT", "SENTRY_DSN", "DB_PASS"]


def test_values_and_url_passwords_are_masked_but_not_short_ones() -> None:
    values = masking.secret_values(ENV)
    assert values == {"aws-7Qx9", "ghp_8d7f", "https://k@s/1", ENV["DATABASE_URL"], "db-pw-3c8e"}
    text = "uv: cannot reach postgres://app:db-pw-3c8e@db:N/shop with aws-7Qx9; abc"
    assert (
        masking.mask(text, values) == "uv: cannot reach postgres://app:***@db:N/shop with ***; abc"
    )


def test_escaped_forms_are_masked_in_json_html_and_the_page_script() -> None:
    secret = "p<&>\"'w"
    forms = (
        secret,
        json.dumps(secret)[1:-1],
        "p&lt;&amp;&gt;&quot;&#x27;w",
        "p&lt;&amp;&gt;&#34;&#39;w",
        "p\\u003c\\u0026\\u003e\\\"'w",
    )
    for written in forms:
        assert masking.mask(f"[{written}]", frozenset({secret})) == "[***]", written


def test_a_suite_gets_the_allow_list_and_pass_env_only() -> None:
    given = masking.allowed_environ(ENV, ("MYAPP_*",))
    assert sorted(given) == ["HOME", "LC_ALL", "MYAPP_MODE", "PATH", "https_proxy"]


def test_files_and_the_console_are_masked(tmp_path) -> None:
    values = masking.secret_values(ENV)
    log = tmp_path / "a.log"
    log.write_text("token ghp_8d7f here\n")
    link = tmp_path / "b.log"
    link.hardlink_to(log)
    masking.mask_tree(tmp_path, values)
    assert log.read_text() == link.read_text() == "token *** here\n"
    console = io.StringIO()
    print("key aws-7Qx9", file=masking.MaskedStream(console, values))
    assert console.getvalue() == "key ***\n"


def test_what_nox_sets_is_not_a_secret() -> None:
    """Inside `nox -s tests`, NOX_CURRENT_SESSION=tests: masking it cut every tests/ path."""
    assert masking.secret_values({"NOX_CURRENT_SESSION": "tests", "SESSION_KEY": "s3cr3t"}) == {
        "s3cr3t"
    }
