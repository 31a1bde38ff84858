"""The table-mapping module's plan-time validation agrees with ddb2aurora.mapping.load_mapping.

Each case is the sample mapping with one change. Python's verdict is computed here; the
Terraform verdicts come from a few `terraform plan` runs side by side (offline: the rules
alone need no provider, the whole module gets one with dummy credentials and calls no API)
of generated roots with one module instance per case, each instance its own copy of the
module so that every diagnostic names its case. A rule that drifts on either side fails this
test, naming the case; a `terraform test` run per case cost several times as much.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from ddb2aurora.mapping import MappingError, load_mapping

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULE = REPO_ROOT / "terraform" / "modules" / "table-mapping"
SAMPLE = json.loads((REPO_ROOT / "mappings" / "web_analytics.json").read_text())

ACCEPTS, REJECTS = "accepts", "rejects"

# Plan only: the provider starts without credentials or network and calls no API.
OFFLINE_PROVIDER = """provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
"""

# The documents reach the module calls through a root variable, unknown while Terraform
# validates the configuration before planning: each case's validation rules then run once
# (in the plan) instead of twice.
DOCUMENTS_VARIABLE = """variable "documents" {
  description = "Each case's mapping document, by case name."
  type        = map(string)
}
"""

Change = Callable[[dict[str, Any]], None]


def _set(field: str, value: Any) -> Change:
    return lambda m: m.__setitem__(field, value)


def _drop(field: str) -> Change:
    return lambda m: m.pop(field)


def _column(index: int, field: str, value: Any) -> Change:
    return lambda m: m["columns"][index].__setitem__(field, value)


def _add_column(column: dict[str, Any]) -> Change:
    return lambda m: m["columns"].append(column)


# name -> (change, whether load_mapping must accept it)
CASES: dict[str, tuple[Change, bool]] = {
    "sample": (lambda m: None, True),
    "no_source_table": (_drop("source_table"), True),
    "lower_case_unsigned_type": (_column(2, "type", " int unsigned "), True),
    "decimal_with_space": (_column(6, "type", "decimal(9, 6)"), True),
    "list_index_in_path": (_add_column({"name": "x", "type": "INT", "path": ["l", 0]}), True),
    "format_on_date": (
        _add_column({"name": "d", "type": "DATE", "path": ["d"], "format": "iso8601"}),
        True,
    ),
    "append_soft": (_set("write_mode", "append"), True),
    "no_keys": (_drop("keys"), False),
    "empty_keys": (_set("keys", []), False),
    "five_keys": (
        _set("keys", ["page_id", "activity_dt", "hits", "device_make", "session_id"]),
        False,
    ),
    "duplicate_key": (_set("keys", ["page_id", "page_id"]), False),
    "key_not_a_column": (_set("keys", ["page_id", "nope"]), False),
    "key_from_json_attribute": (_set("keys", ["page_id", "hits"]), False),
    "bad_write_mode": (_set("write_mode", "merge"), False),
    "bad_delete_mode": (_set("delete_mode", "purge"), False),
    "append_hard": (lambda m: m.update(write_mode="append", delete_mode="hard"), False),
    "ttl_flag_not_bool": (_set("ignore_ttl_deletes", "no"), False),
    "unknown_field": (_set("colums", []), False),
    "target_with_dash": (_set("target_table", "web-analytics"), False),
    "target_too_long": (_set("target_table", "t" * 53), False),
    "short_source_table": (_set("source_table", "ab"), False),
    "no_columns": (_set("columns", []), False),
    "reserved_column_name": (_add_column({"name": "_seq", "type": "INT", "path": ["s"]}), False),
    "duplicate_column_name": (_add_column({"name": "HITS", "type": "INT", "path": ["h"]}), False),
    "column_name_not_string": (_column(3, "name", 5), False),
    "varchar_without_length": (_column(3, "type", "VARCHAR"), False),
    "unsupported_type": (_column(3, "type", "GEOMETRY"), False),
    "unsigned_decimal": (_column(6, "type", "DECIMAL(9,6) UNSIGNED"), False),
    "empty_path": (_column(3, "path", []), False),
    "negative_path_index": (_column(3, "path", ["payload", -1]), False),
    "bad_format": (_column(10, "format", "epoch_nanos"), False),
    "format_on_int": (_column(2, "format", "epoch_millis"), False),
    "nullable_not_bool": (_column(3, "nullable", "yes"), False),
    "unknown_column_field": (_column(3, "default", "x"), False),
    "record_schema_not_object": (_set("record_schema", []), False),
}


def _document(change: Change) -> dict[str, Any]:
    mapping = copy.deepcopy(SAMPLE)
    change(mapping)
    return mapping


def _python_verdict(document: dict[str, Any]) -> str:
    try:
        load_mapping(json.dumps(document))
    except MappingError:
        return REJECTS
    return ACCEPTS


def _rules_only(module: Path, into: Path) -> None:
    """Copy a module's variables and locals, not its resources: its validation rules without
    a provider, whose schema would take most of a plan's time."""
    into.mkdir(parents=True)
    (into / "variables.tf").write_text((module / "variables.tf").read_text())
    top_level_locals = re.findall(r"(?ms)^locals \{$.*?^\}$", (module / "main.tf").read_text())
    (into / "locals.tf").write_text("\n\n".join(top_level_locals) + "\n")


def _write_root(root: Path, documents: dict[str, str], modules: str) -> None:
    # One copy of the module per case, so a diagnostic's file names its case wherever it
    # arises (the module call or the module's own files); the output evaluates every output.
    root.mkdir()
    if modules == "modules":
        (root / "providers.tf").write_text(OFFLINE_PROVIDER)
    (root / "variables.tf").write_text(DOCUMENTS_VARIABLE)
    (root / "terraform.tfvars.json").write_text(json.dumps({"documents": documents}))
    for name in documents:
        (root / f"{name}.tf").write_text(
            f'module "{name}" {{\n'
            f'  source         = "../{modules}/{name}"\n'
            f'  parameter_name = "/test/{name}"\n'
            f'  table_mapping  = var.documents["{name}"]\n'
            "}\n\n"
            f'output "{name}" {{\n  value = module.{name}\n}}\n'
        )


@dataclasses.dataclass
class _Plan:
    """What one `terraform plan -json` said, sorted by case."""

    errors: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    planned: set[str] = dataclasses.field(default_factory=set)
    unattributed: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    log: str = ""


def _case_of(diagnostic: dict[str, Any], names: set[str]) -> str | None:
    filename = diagnostic.get("range", {}).get("filename", "")
    for name in names:
        if filename == f"{name}.tf" or filename.startswith(
            (f"../modules/{name}/", f"../rules/{name}/")
        ):
            return name
    return None


def _plan(root: Path, names: set[str]) -> _Plan:
    terraform = shutil.which("terraform") or "terraform"
    init = [terraform, "init", "-input=false", "-no-color", "-backend=false"]
    if os.environ.get("TF_PLUGIN_DIR"):
        init.append(f"-plugin-dir={os.environ['TF_PLUGIN_DIR']}")
    subprocess.run(init, cwd=root, check=True, capture_output=True, text=True)
    result = subprocess.run(
        [terraform, "plan", "-json", "-input=false", "-lock=false", "-refresh=false"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    plan = _Plan(log=result.stdout[-4000:] + result.stderr[-2000:])
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "planned_change":
            plan.planned.add(message["change"]["resource"]["module"].removeprefix("module."))
        elif message["type"] == "diagnostic" and message["diagnostic"]["severity"] == "error":
            diagnostic = message["diagnostic"]
            case = _case_of(diagnostic, names)
            if case is None:
                plan.unattributed.append(diagnostic)
            else:
                plan.errors.setdefault(case, []).append(diagnostic)
    return plan


def _terraform_verdict(errors: list[dict[str, Any]]) -> str:
    refusals = [
        e
        for e in errors
        if e["summary"] == "Invalid value for variable"
        and e.get("snippet", {}).get("code", "").lstrip().startswith("table_mapping")
    ]
    if refusals == errors:
        return REJECTS
    return "fails: " + "; ".join(f"{e['summary']}: {e['detail']}" for e in errors)


def _terraform_verdicts(
    workdir: Path, documents: dict[str, str], python: dict[str, str]
) -> dict[str, str]:
    """Plan the cases, a few roots side by side, until each has a verdict.

    A case whose table_mapping validation fails rejects; a case accepts only once a root
    with the whole module planned its parameter. Cases Python refuses go first to a root of
    the rules alone, cases it accepts to a root of the whole module, so that refusals cannot
    stop Terraform from planning (and so checking) the accepted cases' resources. A case
    left without a verdict (a refusal stopped its root, or it passed the rules alone) goes
    to a further root of the whole module.
    """
    for name in documents:
        shutil.copytree(
            MODULE,
            workdir / "modules" / name,
            ignore=shutil.ignore_patterns(".terraform*", "tests"),
        )
        _rules_only(MODULE, workdir / "rules" / name)
    refused = sorted(n for n, v in python.items() if v == REJECTS)
    groups = [
        # Two roots of rules: a root evaluates its cases' rules on about one core.
        ("rules", set(refused[::2])),
        ("rules", set(refused[1::2])),
        ("modules", {n for n, v in python.items() if v == ACCEPTS}),
    ]
    groups = [(modules, group) for modules, group in groups if group]
    verdicts: dict[str, str] = {}
    roots: list[tuple[Path, set[str]]] = []
    while groups:
        for modules, group in groups:
            root = workdir / f"root{len(roots)}"
            _write_root(root, {name: documents[name] for name in group}, modules)
            roots.append((root, group))
        batch = roots[-len(groups) :]
        with ThreadPoolExecutor(max_workers=len(batch)) as pool:
            plans = list(pool.map(lambda root_group: _plan(*root_group), batch))
        leftovers: set[str] = set()
        for (_, group), plan in zip(batch, plans, strict=True):
            assert plan.unattributed == [], plan.log
            for name in group:
                if name in plan.errors:
                    verdicts[name] = _terraform_verdict(plan.errors[name])
                elif name in plan.planned:
                    verdicts[name] = ACCEPTS
                else:
                    leftovers.add(name)
        assert not (leftovers and groups == [("modules", leftovers)]), (
            f"Terraform judged none of {sorted(leftovers)}:\n{plans[-1].log}"
        )
        groups = [("modules", leftovers)] if leftovers else []
    return verdicts


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_and_python_agree_on_every_case(tmp_path: Path) -> None:
    documents = {name: _document(change) for name, (change, _) in CASES.items()}
    python = {name: _python_verdict(document) for name, document in documents.items()}
    assert python == {
        name: ACCEPTS if accepts else REJECTS for name, (_, accepts) in CASES.items()
    }, "the cases' expectations no longer match load_mapping"

    texts = {name: json.dumps(document) for name, document in documents.items()}
    terraform = _terraform_verdicts(tmp_path, texts, python)

    assert set(terraform) == set(CASES)
    disagreements = {
        name: f"python {python[name]}, terraform {terraform[name]}"
        for name in CASES
        if terraform[name] != python[name]
    }
    assert disagreements == {}
