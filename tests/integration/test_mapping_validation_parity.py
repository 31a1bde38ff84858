"""The table-mapping module's plan-time validation agrees with ddb2aurora.mapping.load_mapping.

Each case is the sample mapping with one change. Python's verdict is computed here; the
Terraform verdict comes from one generated `terraform test` file (mock provider, offline)
with a run per case, so a rule that drifts on either side fails this test.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ddb2aurora.mapping import MappingError, load_mapping

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULE = REPO_ROOT / "terraform" / "modules" / "table-mapping"
SAMPLE = json.loads((REPO_ROOT / "mappings" / "web_analytics.json").read_text())

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


def _python_accepts(document: dict[str, Any]) -> bool:
    try:
        load_mapping(json.dumps(document))
    except MappingError:
        return False
    return True


def _run_block(name: str, document: dict[str, Any], accepts: bool) -> str:
    # jsonencode(jsondecode(...)) of a heredoc keeps the document byte-for-byte as JSON.
    lines = [
        f'run "{name}" {{',
        "  command = plan",
        "  variables {",
        f"    table_mapping = <<-EOT\n{json.dumps(document)}\nEOT",
        "  }",
    ]
    if not accepts:
        lines.append("  expect_failures = [var.table_mapping]")
    lines.append("}")
    return "\n".join(lines)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_and_python_agree_on_every_case(tmp_path: Path) -> None:
    verdicts = {name: _python_accepts(_document(change)) for name, (change, _) in CASES.items()}
    assert verdicts == {name: accepts for name, (_, accepts) in CASES.items()}, (
        "the cases' expectations no longer match load_mapping"
    )

    module = tmp_path / "table-mapping"
    shutil.copytree(MODULE, module, ignore=shutil.ignore_patterns(".terraform*", "tests"))
    (module / "tests").mkdir()
    header = (
        'mock_provider "aws" {\n'
        '  mock_resource "aws_ssm_parameter" {\n'
        "    defaults = {\n"
        '      arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/test/table-mapping"\n'
        "    }\n  }\n}\n\n"
        'variables {\n  parameter_name = "/test/table-mapping"\n}\n'
    )
    runs = [
        _run_block(name, _document(change), verdicts[name]) for name, (change, _) in CASES.items()
    ]
    (module / "tests" / "parity.tftest.hcl").write_text(header + "\n" + "\n\n".join(runs) + "\n")

    terraform = shutil.which("terraform") or "terraform"
    init = [terraform, "init", "-input=false", "-no-color", "-backend=false"]
    if os.environ.get("TF_PLUGIN_DIR"):
        init.append(f"-plugin-dir={os.environ['TF_PLUGIN_DIR']}")
    subprocess.run(init, cwd=module, check=True, capture_output=True, text=True)
    result = subprocess.run(
        [terraform, "test", "-no-color"], cwd=module, capture_output=True, text=True, check=False
    )
    outcomes = dict(re.findall(r'run "([^"]+)"\.\.\. (pass|fail|skip)', result.stdout))
    disagreements = {
        name: "python accepts, terraform rejects"
        if verdicts[name]
        else "python rejects, terraform accepts"
        for name, outcome in outcomes.items()
        if outcome != "pass"
    }
    assert set(outcomes) == set(CASES), result.stdout[-3000:] + result.stderr[-3000:]
    assert disagreements == {}, result.stdout[-4000:]
