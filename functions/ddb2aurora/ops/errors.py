"""Errors the operator can act on: each message says what failed, on which resource, and
what to do. The CLI prints the message and exits with the code, never a traceback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

EXIT_OK = 0
EXIT_FINDINGS = 1  # drift found, or something could not be replayed
EXIT_OPERATOR = 2  # bad usage, missing resource or permission
EXIT_INTERRUPTED = 130

ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "AuthorizationError",
    "KMSAccessDeniedException",
}
NOT_FOUND = {
    "ResourceNotFoundException",
    "NoSuchBucket",
    "NoSuchKey",
    "NotFound",
    "404",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "ParameterNotFound",
}
# The request arguments that name the resource an operation acts on, in order of preference.
RESOURCE_ARGUMENTS = (
    "TableName",
    "StreamArn",
    "DeliveryStreamName",
    "QueueUrl",
    "FunctionName",
    "SecretId",
    "Name",
    "Namespace",
)


class OpsError(Exception):
    """A failure the operator must act on; ``str()`` is the whole message."""

    exit_code = EXIT_OPERATOR

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def resource_of(service: str, params: Mapping[str, Any]) -> str:
    """A readable name for what a request acts on, from its arguments."""
    if "Bucket" in params:
        where = f"s3://{params['Bucket']}"
        key = params.get("Key") or params.get("Prefix")
        return f"{where}/{key}" if key else where
    for name in RESOURCE_ARGUMENTS:
        if params.get(name):
            return f"{name}={params[name]}"
    return f"{service} (account level)"


def explain(error: Exception, service: str, operation: str, params: Mapping[str, Any]) -> OpsError:
    """An AWS failure as an OpsError naming the action and the resource."""
    action = f"{service}:{operation}"
    resource = resource_of(service, params)
    if isinstance(error, NoCredentialsError):
        return OpsError(
            f"no AWS credentials found for {action}: configure the standard credential chain "
            "(AWS_PROFILE, environment, SSO or an instance role), or pass --local"
        )
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        message = str(error.response.get("Error", {}).get("Message", ""))
        if code in ACCESS_DENIED:
            return OpsError(
                f"permission denied: your identity may not perform {action} on {resource} "
                f"({code}: {message}); grant it in IAM or run as a role that has it",
                code,
            )
        if code in NOT_FOUND:
            return OpsError(
                f"not found: {resource} does not exist or is not visible in this account "
                f"and region ({action} said {code}: {message}); check the name, --region "
                "and --stack-outputs",
                code,
            )
        return OpsError(f"{action} on {resource} failed: {code}: {message}", code)
    return OpsError(f"{action} on {resource} failed: {error}")


def aws_failure_types() -> tuple[type[Exception], ...]:
    return (ClientError, BotoCoreError)
