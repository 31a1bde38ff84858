"""Search texts for secrets in the forms they take when they leak: as is, URL-encoded
(a connection URL, a query string) and JSON-escaped (a structured log line, a JSON secret).

Findings name the secret, the form and where it was found, with the secret masked, so a
failing test does not print the password it found.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, quote_plus


def leak_forms(secret: str) -> dict[str, str]:
    """The distinct spellings of ``secret`` to search for, by form name."""
    forms = {
        "plain": secret,
        "url-encoded": quote(secret, safe=""),
        "form-encoded": quote_plus(secret),
        "json-escaped": json.dumps(secret)[1:-1],
        "json-escaped, non-ASCII kept": json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    seen: set[str] = set()
    distinct = {}
    for name, form in forms.items():
        if form not in seen:
            seen.add(form)
            distinct[name] = form
    return distinct


@dataclass(frozen=True)
class Leak:
    secret_name: str
    form: str
    source: str
    line_number: int
    line: str  # with the secret masked

    def __str__(self) -> str:
        return f"{self.secret_name} ({self.form}) in {self.source}:{self.line_number}: {self.line}"


def find_leaks(secrets: Mapping[str, str], sources: Iterable[tuple[str, str]]) -> list[Leak]:
    """Every line of every (source name, text) that holds one of the secrets in any form.
    Secrets with the same value are reported once, under their names joined by " = "."""
    names_by_value: dict[str, list[str]] = {}
    for name, secret in secrets.items():
        names_by_value.setdefault(secret, []).append(name)
    patterns = [
        (" = ".join(names), form_name, form)
        for secret, names in names_by_value.items()
        for form_name, form in leak_forms(secret).items()
    ]
    leaks: list[Leak] = []
    for source, text in sources:
        if not any(form in text for _, _, form in patterns):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for name, form_name, form in patterns:
                if form in line:
                    leaks.append(Leak(name, form_name, source, number, _masked(line, patterns)))
    return leaks


def _masked(line: str, patterns: list[tuple[str, str, str]]) -> str:
    for name, _, form in sorted(patterns, key=lambda p: -len(p[2])):
        line = line.replace(form, f"<{name}>")
    return line[:300]
