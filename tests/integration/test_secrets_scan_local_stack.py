"""No database secret in the Lambda environments, Terraform outputs, parameters or logs of a
whole local-stack session.

Runs after every other test of the session's shared local stack and before it is destroyed
(marker ``scans_stack_logs``, ordered in tests/conftest.py), so the logs hold the session's
failure paths too. Before searching it drives a few changes through the pipeline (so each
function has run with the real credentials even when this test runs alone), then a load
with a wrong password (a fresh decoy put in the database secret) through the data plane,
and checks the loader logged the refused connection; the decoy is searched for like the
real passwords.

Searched: every file under the stack's logs directory and every ``*.log`` / ``*.err`` file
under its state directory (moto, data plane, function logs, Terraform, MariaDB), the
Terraform state, ``terraform output -json``, each function's configuration (environment)
from the Lambda API, every SSM parameter's value, and the captured output and logs of
every test report of this pytest session. Not searched: the files meant to hold the
credentials (``stack.json``, MariaDB's ``connection.json``) and MariaDB's data files.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from scripts.local import stack
from scripts.local.mariadb import Connection, MariaDBServer, connect
from scripts.local.sample_data import ClickstreamGenerator, to_dynamodb
from tests.support.local_stack import LocalStack
from tests.support.secret_scan import find_leaks

pytestmark = [pytest.mark.localstack, pytest.mark.scans_stack_logs]

LOG_SUFFIXES = (".log", ".err", ".out")


def _database_secrets(sm: Any, secret_arn: str) -> dict[str, str]:
    """Every version of the database secret, whole and its password field."""
    found: dict[str, str] = {}
    versions = sm.list_secret_version_ids(SecretId=secret_arn, IncludeDeprecated=True)["Versions"]
    for version in versions:
        value = sm.get_secret_value(SecretId=secret_arn, VersionId=version["VersionId"])
        string = value.get("SecretString")
        if not string:
            continue
        stages = ",".join(version.get("VersionStages", [])) or "deprecated"
        found[f"secret string ({stages})"] = string
        password = json.loads(string).get("password")
        if password:
            found[f"secret password ({stages})"] = password
    return found


def _end_other_sessions(server: Connection) -> None:
    """End the app user's other sessions so the loader must reconnect (and read the secret)."""
    conn = connect(server)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM information_schema.processlist"
                " WHERE user = %s AND id <> CONNECTION_ID()",
                (server.user,),
            )
            for (session_id,) in cursor.fetchall():
                cursor.execute(f"KILL {int(session_id)}")
    finally:
        conn.close()


def _replicate_a_few_items(info: dict[str, Any], paths: stack.StatePaths) -> None:
    """A few changes through the whole pipeline, so every function has run and logged (with
    the real password) even when this test runs alone. Not asserted: at this stage the
    wiring may be broken on purpose by the breaks_stack tests."""
    dynamodb = stack.boto_client("dynamodb", info["aws_endpoint_url"])
    for item in ClickstreamGenerator(seed=77).items(3):
        dynamodb.put_item(TableName=info["table_name"], Item=to_dynamodb(item))
    LocalStack(paths.root, info).drain_with_cli()


def _load_with_a_wrong_password(
    info: dict[str, Any], paths: stack.StatePaths, server: Connection, decoy: str
) -> None:
    """Put the decoy in the database secret, drop the loader's sessions and deliver an object
    where the deployed bucket notification sends it to the loader; restore the secret after."""
    endpoint = info["aws_endpoint_url"]
    secret_arn = info["db_secret_arn"]
    user = str(info["mysql"]["user"])
    s3 = stack.boto_client("s3", endpoint)
    notification = s3.get_bucket_notification_configuration(Bucket=info["bucket_name"])
    (target,) = notification["LambdaFunctionConfigurations"]
    rules = target.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    prefix = next((r["Value"] for r in rules if r["Name"].lower() == "prefix"), "")
    suffix = next((r["Value"] for r in rules if r["Name"].lower() == "suffix"), "")
    stack.store_db_secret(endpoint, secret_arn, user, decoy)
    try:
        _end_other_sessions(server)
        # The loader connects before it reads the object, so its content does not matter.
        key = f"{prefix}secrets-scan/{time.time_ns()}{suffix}"
        s3.put_object(Bucket=info["bucket_name"], Key=key, Body=b"never loaded\n")
        # fails: the loader cannot connect (async retries, then its DLQ)
        LocalStack(paths.root, info).drain_with_cli()
    finally:
        stack.store_db_secret(endpoint, secret_arn, user, str(info["mysql"]["password"]))


def _log_files(paths: stack.StatePaths) -> list[Path]:
    files = {p for p in paths.logs.rglob("*") if p.is_file()}
    files.update(p for p in paths.root.rglob("*") if p.is_file() and p.suffix in LOG_SUFFIXES)
    return sorted(files)


def _pytest_reports_text(config: pytest.Config) -> list[tuple[str, str]]:
    """The captured stdout, stderr and log sections and failure texts of every report so far
    (a call report repeats its setup's sections: each section is taken once per test)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    texts: dict[str, str] = {}
    for reports in getattr(reporter, "stats", {}).values():
        for report in reports:
            if not isinstance(report, pytest.TestReport):
                continue
            for title, content in report.sections:
                texts[f"pytest {report.nodeid} {title}"] = content
            if report.longreprtext:
                texts[f"pytest {report.nodeid} {report.when} failure"] = report.longreprtext
    return list(texts.items())


def test_no_password_in_function_environments_outputs_parameters_or_logs(
    shared_local_stack: Any, request: pytest.FixtureRequest
) -> None:
    paths = stack.StatePaths(shared_local_stack.state_dir)
    info = shared_local_stack.info
    endpoint = info["aws_endpoint_url"]
    server = MariaDBServer(paths.mariadb_dir).running_connection()
    assert server is not None, "the stack's MariaDB is not running"

    loader = info["terraform_outputs"]["aurora_loader_function_name"]
    loader_log_path = paths.logs / f"{loader}.log"
    _replicate_a_few_items(info, paths)
    decoy = "decoy-" + secrets.token_urlsafe(18) + "/+%\"'é"
    logged_before = loader_log_path.stat().st_size if loader_log_path.exists() else 0
    _load_with_a_wrong_password(info, paths, server, decoy)
    with loader_log_path.open("rb") as log:
        log.seek(logged_before)
        logged_by_the_refused_load = log.read().decode(errors="replace")
    # The search covers a failure path: the refused connection was just logged.
    assert "cannot connect to" in logged_by_the_refused_load
    assert "Access denied" in logged_by_the_refused_load

    passwords = {
        "app password": str(info["mysql"]["password"]),
        "admin password": server.admin_password,
        "decoy password": decoy,
    }
    passwords.update(
        _database_secrets(stack.boto_client("secretsmanager", endpoint), info["db_secret_arn"])
    )
    assert all(len(value) >= 12 for value in passwords.values()), "too short to search for"
    assert passwords.get("secret password (AWSCURRENT)") == passwords["app password"], (
        "the database secret does not hold the app password (restored after the decoy)"
    )

    sources: list[tuple[str, str]] = []
    for path in _log_files(paths):
        sources.append((str(path.relative_to(paths.root)), path.read_text(errors="replace")))
    tf_state = paths.tf_dir / "terraform.tfstate"
    sources.append(("terraform.tfstate", tf_state.read_text()))
    outputs = subprocess.run(
        [shutil.which("terraform") or "terraform", f"-chdir={paths.tf_dir}", "output", "-json"],
        env=stack._terraform_env(endpoint),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    sources.append(("terraform output -json", outputs))
    lambda_api = stack.boto_client("lambda", endpoint)
    functions = [f["FunctionName"] for f in lambda_api.list_functions()["Functions"]]
    for name in functions:
        config = lambda_api.get_function_configuration(FunctionName=name)
        sources.append((f"function configuration {name}", json.dumps(config, default=str)))
    ssm = stack.boto_client("ssm", endpoint)
    for parameter in ssm.describe_parameters()["Parameters"]:
        value = ssm.get_parameter(Name=parameter["Name"], WithDecryption=True)["Parameter"]
        sources.append((f"SSM parameter {parameter['Name']}", value["Value"]))
    reports = _pytest_reports_text(request.config)
    sources.extend(reports)

    # The search is real: it reads the logs of the whole pipeline, including a failure path.
    by_name = dict(sources)
    assert len(functions) == 3, functions
    for name in functions:
        log = by_name.get(f"logs/{name}.log", "")
        assert log.strip(), f"the function log of {name} is missing or empty"
    for expected in ("moto.log", "dataplane.log", "terraform-apply.log"):
        assert by_name.get(f"logs/{expected}", "").strip(), f"logs/{expected} missing or empty"
    assert "DB_SECRET_ARN" in by_name[f"function configuration {loader}"]
    assert outputs.strip().startswith("{")
    # the earlier tests' captures are searched when they captured anything (a run of a few
    # quiet tests may have none), which needs the terminal reporter that keeps them
    assert request.config.pluginmanager.get_plugin("terminalreporter") is not None
    print(
        f"searched {len(sources)} sources, {sum(len(t) for _, t in sources):,} characters,"
        f" for {len(passwords)} secrets"
    )

    leaks = find_leaks(passwords, sources)
    assert not leaks, "secrets found:\n" + "\n".join(str(leak) for leak in leaks[:50])
