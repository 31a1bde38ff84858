"""Settings parsing: defaults, and every missing or bad variable named at once."""

from __future__ import annotations

import pytest
from ddb2aurora.settings import (
    ConfigurationError,
    LoaderSettings,
    MappingSource,
    StreamProcessorSettings,
    TransformSettings,
)

LOADER_ENV = {
    "TABLE_MAPPING": '{"target_table": "t"}',
    "DB_HOST": "cluster.example",
    "DB_NAME": "analytics",
    "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
}


def problems(excinfo: pytest.ExceptionInfo[ConfigurationError]) -> str:
    return "\n".join(excinfo.value.problems)


def test_stream_processor_defaults() -> None:
    settings = StreamProcessorSettings.from_env({"DELIVERY_STREAM_NAME": "ddb2aurora"})
    assert settings == StreamProcessorSettings(
        delivery_stream_name="ddb2aurora",
        dead_letter_queue_url=None,
        put_max_attempts=5,
        put_backoff_base_ms=100,
        put_backoff_max_ms=3000,
    )


def test_stream_processor_reads_every_variable() -> None:
    settings = StreamProcessorSettings.from_env(
        {
            "DELIVERY_STREAM_NAME": "s",
            "DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/dlq",
            "PUT_MAX_ATTEMPTS": "3",
            "PUT_BACKOFF_BASE_MS": "50",
            "PUT_BACKOFF_MAX_MS": "500",
        }
    )
    assert settings.dead_letter_queue_url == "https://sqs.eu-west-1.amazonaws.com/1/dlq"
    assert (settings.put_max_attempts, settings.put_backoff_base_ms) == (3, 50)
    assert settings.put_backoff_max_ms == 500


def test_stream_processor_names_every_problem_at_once() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        StreamProcessorSettings.from_env(
            {"PUT_MAX_ATTEMPTS": "0", "PUT_BACKOFF_BASE_MS": "soon", "PUT_BACKOFF_MAX_MS": "-1"}
        )
    text = problems(excinfo)
    for name in (
        "DELIVERY_STREAM_NAME",
        "PUT_MAX_ATTEMPTS",
        "PUT_BACKOFF_BASE_MS",
        "PUT_BACKOFF_MAX_MS",
    ):
        assert name in text
    assert len(excinfo.value.problems) == 4
    assert "DELIVERY_STREAM_NAME" in str(excinfo.value)


def test_backoff_max_below_base_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="PUT_BACKOFF_MAX_MS must be at least"):
        StreamProcessorSettings.from_env(
            {"DELIVERY_STREAM_NAME": "s", "PUT_BACKOFF_BASE_MS": "500", "PUT_BACKOFF_MAX_MS": "100"}
        )


def test_blank_values_count_as_missing() -> None:
    with pytest.raises(ConfigurationError, match="DELIVERY_STREAM_NAME is required"):
        StreamProcessorSettings.from_env({"DELIVERY_STREAM_NAME": "  "})


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "one of TABLE_MAPPING or TABLE_MAPPING_PARAMETER is required"),
        (
            {"TABLE_MAPPING": "{}", "TABLE_MAPPING_PARAMETER": "/m"},
            "set only one of TABLE_MAPPING and TABLE_MAPPING_PARAMETER",
        ),
    ],
)
def test_transform_needs_exactly_one_mapping_source(environ: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        TransformSettings.from_env(environ)
    assert excinfo.value.problems == (expected,)


def test_mapping_inline_resolves_without_ssm() -> None:
    settings = TransformSettings.from_env({"TABLE_MAPPING": '{"a": 1}'})
    assert settings.mapping.resolve(get_parameter=pytest.fail) == '{"a": 1}'


def test_mapping_parameter_resolves_through_ssm() -> None:
    settings = TransformSettings.from_env({"TABLE_MAPPING_PARAMETER": "/ddb2aurora/mapping"})
    assert settings.mapping == MappingSource(parameter_name="/ddb2aurora/mapping")
    read: list[str] = []

    def get_parameter(name: str) -> str:
        read.append(name)
        return '{"from": "ssm"}'

    assert settings.mapping.resolve(get_parameter) == '{"from": "ssm"}'
    assert read == ["/ddb2aurora/mapping"]


def test_loader_defaults_with_secret() -> None:
    settings = LoaderSettings.from_env(LOADER_ENV)
    database = settings.database
    assert settings.load_method == "s3"
    assert (database.host, database.port, database.name) == ("cluster.example", 3306, "analytics")
    assert database.secret_arn == LOADER_ENV["DB_SECRET_ARN"]
    assert database.iam_user is None
    assert (database.tls_mode, database.tls_ca_bundle) == ("required", None)
    assert database.connect_timeout_seconds == 5


def test_loader_with_iam_auth_and_verified_tls() -> None:
    environ = {k: v for k, v in LOADER_ENV.items() if k != "DB_SECRET_ARN"}
    environ |= {
        "DB_IAM_AUTH": "TRUE",
        "DB_USER": "loader",
        "DB_PORT": "3307",
        "DB_TLS_MODE": "verify-identity",
        "DB_TLS_CA_BUNDLE": "/opt/rds-ca.pem",
        "LOAD_METHOD": "local",
        "DB_CONNECT_TIMEOUT_SECONDS": "10",
    }
    settings = LoaderSettings.from_env(environ)
    assert settings.load_method == "local"
    assert settings.database.iam_user == "loader"
    assert settings.database.secret_arn is None
    assert settings.database.port == 3307
    assert settings.database.tls_ca_bundle == "/opt/rds-ca.pem"
    assert settings.database.connect_timeout_seconds == 10


def test_loader_names_every_problem_at_once() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        LoaderSettings.from_env(
            {
                "DB_PORT": "70000",
                "DB_IAM_AUTH": "yes",
                "DB_TLS_MODE": "verify-identity",
                "LOAD_METHOD": "ftp",
                "DB_CONNECT_TIMEOUT_SECONDS": "0",
            }
        )
    text = problems(excinfo)
    for expected in (
        "TABLE_MAPPING",
        "DB_HOST is required",
        "DB_NAME is required",
        "DB_PORT must be at least 1 and at most 65535",
        "DB_IAM_AUTH must be 'true' or 'false'",
        "DB_SECRET_ARN",
        "DB_TLS_CA_BUNDLE is required",
        "LOAD_METHOD must be one of s3, local",
        "DB_CONNECT_TIMEOUT_SECONDS must be at least 1",
    ):
        assert expected in text


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"DB_IAM_AUTH": "true", "DB_USER": "u"}, "set only one of DB_SECRET_ARN and DB_IAM_AUTH"),
        (
            {"DB_TLS_MODE": "preferred"},
            "DB_TLS_MODE must be one of disabled, required, verify-identity",
        ),
    ],
)
def test_loader_rejects_conflicts(extra: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        LoaderSettings.from_env(LOADER_ENV | extra)
    assert expected in problems(excinfo)


def test_iam_auth_needs_a_user_and_tls() -> None:
    environ = {k: v for k, v in LOADER_ENV.items() if k != "DB_SECRET_ARN"}
    with pytest.raises(ConfigurationError) as excinfo:
        LoaderSettings.from_env(environ | {"DB_IAM_AUTH": "true", "DB_TLS_MODE": "disabled"})
    text = problems(excinfo)
    assert "DB_USER is required when DB_IAM_AUTH=true" in text
    assert "DB_TLS_MODE=disabled is not allowed with DB_IAM_AUTH=true" in text
