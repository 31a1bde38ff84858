"""boto3 clients for the operator tool: the standard credential chain, or the local stack's
emulator endpoints. Every call's AWS failure becomes an OpsError naming the action and
the resource (see errors.explain), so commands never print a botocore traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
from botocore.config import Config

from ddb2aurora.ops.errors import aws_failure_types, explain

LOCAL_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}  # emulator


class Client:
    """A boto3 client whose API methods raise OpsError instead of botocore errors."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.service = str(raw.meta.service_model.service_name)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.raw, name)
        operation = self.raw.meta.method_to_api_mapping.get(name)
        if operation is None or not callable(attribute):
            return attribute

        def call(**params: Any) -> Any:
            try:
                return attribute(**params)
            except aws_failure_types() as error:
                raise explain(error, self.service, operation, params) from error

        return call

    def pages(self, method: str, token_in: str, token_out: str, **params: Any) -> Iterator[Any]:
        """Each response of a paginated call (continuation token ``token_out`` → ``token_in``)."""
        call: Callable[..., Any] = getattr(self, method)
        while True:
            response = call(**params)
            yield response
            token = response.get(token_out)
            if not token:
                return
            params = {**params, token_in: token}


class Aws:
    """Where the clients point: one region, and per-service endpoint overrides (local)."""

    def __init__(
        self,
        region: str | None,
        endpoints: dict[str, str] | None = None,
        *,
        local: bool = False,
    ) -> None:
        self.endpoints = endpoints or {}
        self.local = local
        self._session = boto3.session.Session(
            region_name=region, **(LOCAL_CREDENTIALS if local else {})
        )
        self._clients: dict[str, Client] = {}

    @property
    def region(self) -> str | None:
        region: str | None = self._session.region_name
        return region

    def client(self, service: str) -> Client:
        if service not in self._clients:
            endpoint = self.endpoints.get(service) or self.endpoints.get("*")
            config = Config(retries={"mode": "adaptive", "max_attempts": 10})
            self._clients[service] = Client(
                self._session.client(service, endpoint_url=endpoint, config=config)
            )
        return self._clients[service]
