"""The local data plane: runs what moto stores but never runs.

moto (started through ``moto_server.py``) holds the deployed functions, event source
mappings, delivery streams and bucket notifications; this package reads them back from its
API and runs the real zips from dist/ with AWS's documented semantics:

- ``runtime``: one warm worker process per function (its Runtime's interpreter, its handler,
  environment, timeout; code = the dist/ zip whose sha256 is the deployed CodeSha256);
- ``streams``: DynamoDB Streams mappings (batch size and window, retries, bisect, partial
  batch responses, on-failure records, checkpoints);
- ``firehose``: the Firehose API the functions call, buffering, the transform contract,
  prefixes with their expressions, the error prefix;
- ``s3events``: ObjectCreated notifications with URL-encoded keys;
- ``async_invoke``: asynchronous invocation retries and on-failure destinations;
- ``core.DataPlane``: all of it, with ``step()`` / ``drain()`` / ``stats()`` / ``inject()``;
- ``control`` and ``__main__``: ``python -m scripts.local.dataplane [--state-dir .local]
  serve|drain|stats|reload|inject``.

Local simplifications (each documented where it lives): one invocation at a time per
function and shards processed sequentially; retry delays shortened. State (shard
checkpoints, announced objects, queued object events, a journal of buffered Firehose
records) lives in the state directory, so a restarted data plane resumes.
"""
