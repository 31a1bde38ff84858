"""The secret search (tests/support/secret_scan.py) finds a password in each form it leaks
in, and never prints it."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

from tests.support.secret_scan import find_leaks, leak_forms

PASSWORD = 'p@ss w/rd+"é\\%'


def test_each_form_is_found_and_named_with_the_secret_masked() -> None:
    texts = {
        "plain.log": f"connecting with {PASSWORD}\n",
        "url.log": f"mysql://app:{quote(PASSWORD, safe='')}@db/x\n",
        "form.log": f"ok\npassword={quote_plus(PASSWORD)}\n",
        "json.log": json.dumps({"password": PASSWORD}) + "\n",
        "json-unicode.log": json.dumps({"password": PASSWORD}, ensure_ascii=False) + "\n",
        "clean.log": "Access denied for user 'app'@'localhost' (using password: YES)\n",
    }
    leaks = find_leaks({"app password": PASSWORD}, texts.items())
    assert {(leak.source, leak.form) for leak in leaks} == {
        ("plain.log", "plain"),
        ("url.log", "url-encoded"),
        ("form.log", "form-encoded"),
        ("json.log", "json-escaped"),
        ("json-unicode.log", "json-escaped, non-ASCII kept"),
    }
    form = next(leak for leak in leaks if leak.source == "form.log")
    assert form.line_number == 2
    for leak in leaks:
        for spelling in leak_forms(PASSWORD).values():
            assert spelling not in str(leak)
        assert "<app password>" in str(leak)


def test_a_clean_text_has_no_leaks() -> None:
    assert find_leaks({"a": "s3cr3t-value"}, [("x", "s3cr3t-valu e\ns3cr3t")]) == []


def test_secrets_with_the_same_value_are_reported_once() -> None:
    leaks = find_leaks(
        {"app": "s3cr3t-value", "secret (AWSCURRENT)": "s3cr3t-value"}, [("x", "s3cr3t-value")]
    )
    assert [str(leak) for leak in leaks] == [
        "app = secret (AWSCURRENT) (plain) in x:1: <app = secret (AWSCURRENT)>"
    ]
