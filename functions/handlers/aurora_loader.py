"""Lambda entry point ``aurora_loader.handler``: S3 ObjectCreated → merge into Aurora.

The logic lives in ``ddb2aurora.aurora_loader``. Settings, mapping and tables are set up
on the first invocation and cached (once per cold start), so importing the module needs
neither environment variables nor boto3. A failed object raises after its rollback, so
Lambda's asynchronous retries and the on-failure destination take over.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from ddb2aurora.adapters import db, s3
from ddb2aurora.aurora_loader import Loader, LoadRejected, objects_from_event
from ddb2aurora.mapping import load_mapping
from ddb2aurora.observability import get_logger, get_metrics
from ddb2aurora.settings import LoaderSettings
from ddb2aurora.sql_types import Dialect

logger = get_logger("aurora_loader")
metrics = get_metrics("aurora_loader")


class ObjectsNotLoaded(Exception):
    """One or more objects of the event failed; each was rolled back."""


@cache
def settings() -> LoaderSettings:
    return LoaderSettings.from_env(os.environ)


@cache
def loader() -> Loader:
    config = settings()
    mapping = load_mapping(config.mapping.resolve())
    return Loader(mapping, config.load_method, copy_object=s3.copy_object_to)


@cache
def prepared_database() -> Dialect:
    """Detect the server flavour and create missing tables, once per cold start."""
    connection = db.get_connection(settings().database)
    dialect = db.server_flavour(connection)
    loader().ensure_tables(connection, dialect)
    return dialect


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    dialect = prepared_database()
    loaded: list[dict[str, Any]] = []
    failed: list[str] = []
    for obj in objects_from_event(event):
        try:
            result = loader().load(db.get_connection(settings().database), obj, dialect)
        except Exception as exc:
            if not isinstance(exc, LoadRejected):
                db.discard_connection()  # the connection may be broken; reopen next time
            logger.exception("object not loaded", extra={"bucket": obj.bucket, "key": obj.key})
            failed.append(obj.key)
            continue
        logger.info(
            "object applied",
            extra={"key": obj.key, "etag": obj.etag, "status": result.status, "rows": result.rows},
        )
        metrics.add_metric(
            name="ObjectsLoaded" if result.status == "loaded" else "ObjectsSkipped",
            unit=MetricUnit.Count,
            value=1,
        )
        metrics.add_metric(name="RowsLoaded", unit=MetricUnit.Count, value=result.rows)
        loaded.append({"key": obj.key, "status": result.status, "rows": result.rows})
    if failed:
        metrics.add_metric(name="ObjectsFailed", unit=MetricUnit.Count, value=len(failed))
        raise ObjectsNotLoaded(f"{len(failed)} object(s) not loaded: {', '.join(failed)}")
    return {"objects": loaded}
