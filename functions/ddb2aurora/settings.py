"""Typed configuration of the three functions, parsed from the environment.

Each function parses its settings once per cold start (on its first invocation) with
``<Settings>.from_env(os.environ)``. Parsing collects every problem before failing, so
one deployment round trip shows all of them: ``ConfigurationError`` names each missing
or bad variable. The variables are those of docs/architecture.md, "Environment variables".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

TlsMode = Literal["disabled", "required", "verify-identity"]
LoadMethod = Literal["s3", "local"]


class ConfigurationError(ValueError):
    """One or more environment variables are missing or bad; ``problems`` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid configuration: " + "; ".join(problems))


class _Environment:
    """Reads variables, recording a problem (naming the variable) instead of raising."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.problems: list[str] = []

    def optional(self, name: str) -> str | None:
        """The value, or None when unset or blank (Terraform passes "" for unset optionals)."""
        value = self._environ.get(name, "").strip()
        return value or None

    def required(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            self.problems.append(f"{name} is required")
            return ""
        return value

    def integer(self, name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name} must be an integer, got {raw!r}")
            return default
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            self.problems.append(f"{name} must be at least {minimum}{upper}, got {value}")
            return default
        return value

    def boolean(self, name: str) -> bool:
        raw = self.optional(name)
        if raw is None:
            return False
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        self.problems.append(f"{name} must be 'true' or 'false', got {raw!r}")
        return False

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        if raw not in choices:
            self.problems.append(f"{name} must be one of {', '.join(choices)}; got {raw!r}")
            return default
        return raw

    def fail_if_any(self) -> None:
        if self.problems:
            raise ConfigurationError(self.problems)


@dataclass(frozen=True, slots=True)
class MappingSource:
    """Where the table mapping JSON lives: inline text, or the name of an SSM parameter."""

    inline: str | None = None
    parameter_name: str | None = None

    @classmethod
    def from_env(cls, env: _Environment) -> MappingSource:
        inline = env.optional("TABLE_MAPPING")
        parameter_name = env.optional("TABLE_MAPPING_PARAMETER")
        if inline is not None and parameter_name is not None:
            env.problems.append("set only one of TABLE_MAPPING and TABLE_MAPPING_PARAMETER")
        elif inline is None and parameter_name is None:
            env.problems.append("one of TABLE_MAPPING or TABLE_MAPPING_PARAMETER is required")
        return cls(inline=inline, parameter_name=parameter_name)

    def resolve(self, get_parameter: Callable[[str], str] | None = None) -> str:
        """The mapping JSON text: inline, or read from SSM (``get_parameter`` replaces the
        SSM adapter in tests). Parse it with ``ddb2aurora.mapping.load_mapping``."""
        if self.inline is not None:
            return self.inline
        if self.parameter_name is None:
            raise ConfigurationError(
                ["one of TABLE_MAPPING or TABLE_MAPPING_PARAMETER is required"]
            )
        if get_parameter is None:
            from ddb2aurora.adapters import ssm  # noqa: PLC0415 - only when a parameter is used

            get_parameter = ssm.get_parameter
        return get_parameter(self.parameter_name)


@dataclass(frozen=True, slots=True)
class StreamProcessorSettings:
    delivery_stream_name: str
    dead_letter_queue_url: str | None
    put_max_attempts: int
    put_backoff_base_ms: int
    put_backoff_max_ms: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> StreamProcessorSettings:
        env = _Environment(environ)
        settings = cls(
            delivery_stream_name=env.required("DELIVERY_STREAM_NAME"),
            dead_letter_queue_url=env.optional("DEAD_LETTER_QUEUE_URL"),
            put_max_attempts=env.integer("PUT_MAX_ATTEMPTS", 5, minimum=1, maximum=100),
            put_backoff_base_ms=env.integer("PUT_BACKOFF_BASE_MS", 100, minimum=0),
            put_backoff_max_ms=env.integer("PUT_BACKOFF_MAX_MS", 3000, minimum=0),
        )
        if settings.put_backoff_max_ms < settings.put_backoff_base_ms:
            env.problems.append(
                "PUT_BACKOFF_MAX_MS must be at least PUT_BACKOFF_BASE_MS "
                f"({settings.put_backoff_max_ms} < {settings.put_backoff_base_ms})"
            )
        env.fail_if_any()
        return settings


@dataclass(frozen=True, slots=True)
class TransformSettings:
    mapping: MappingSource

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TransformSettings:
        env = _Environment(environ)
        settings = cls(mapping=MappingSource.from_env(env))
        env.fail_if_any()
        return settings


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """How the loader reaches the database. Exactly one of ``secret_arn`` (Secrets Manager
    secret with username and password) and ``iam_user`` (IAM auth token) is set."""

    host: str
    port: int
    name: str
    secret_arn: str | None
    iam_user: str | None
    tls_mode: TlsMode
    tls_ca_bundle: str | None
    connect_timeout_seconds: int

    @classmethod
    def from_env(cls, env: _Environment) -> DatabaseSettings:
        host = env.required("DB_HOST")
        name = env.required("DB_NAME")
        port = env.integer("DB_PORT", 3306, minimum=1, maximum=65535)
        secret_arn = env.optional("DB_SECRET_ARN")
        iam_auth = env.boolean("DB_IAM_AUTH")
        user = env.optional("DB_USER")
        if iam_auth and secret_arn is not None:
            env.problems.append("set only one of DB_SECRET_ARN and DB_IAM_AUTH=true")
        elif iam_auth and user is None:
            env.problems.append("DB_USER is required when DB_IAM_AUTH=true")
        elif not iam_auth and secret_arn is None:
            env.problems.append(
                "one of DB_SECRET_ARN or DB_IAM_AUTH=true (with DB_USER) is required"
            )
        tls_mode: TlsMode = env.choice("DB_TLS_MODE", get_args(TlsMode), "required")  # type: ignore[assignment]
        ca_bundle = env.optional("DB_TLS_CA_BUNDLE")
        if tls_mode == "verify-identity" and ca_bundle is None:
            env.problems.append("DB_TLS_CA_BUNDLE is required when DB_TLS_MODE=verify-identity")
        if iam_auth and tls_mode == "disabled":
            env.problems.append(
                "DB_TLS_MODE=disabled is not allowed with DB_IAM_AUTH=true "
                "(the token would travel in clear text)"
            )
        return cls(
            host=host,
            port=port,
            name=name,
            secret_arn=None if iam_auth else secret_arn,
            iam_user=user if iam_auth else None,
            tls_mode=tls_mode,
            tls_ca_bundle=ca_bundle,
            connect_timeout_seconds=env.integer(
                "DB_CONNECT_TIMEOUT_SECONDS", 5, minimum=1, maximum=31_536_000
            ),
        )


@dataclass(frozen=True, slots=True)
class LoaderSettings:
    mapping: MappingSource
    database: DatabaseSettings
    load_method: LoadMethod

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LoaderSettings:
        env = _Environment(environ)
        settings = cls(
            mapping=MappingSource.from_env(env),
            database=DatabaseSettings.from_env(env),
            load_method=env.choice("LOAD_METHOD", get_args(LoadMethod), "s3"),  # type: ignore[arg-type]
        )
        env.fail_if_any()
        return settings
