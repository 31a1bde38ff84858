"""Amazon S3: stream one delivered object to a local file for ``LOAD DATA LOCAL INFILE``.

The object is copied in 1 MiB chunks, so memory stays flat whatever its size; the
request names the ETag from the S3 event, so a replaced object is never loaded under
the old object's manifest entry.
"""

from __future__ import annotations

from typing import BinaryIO

from ddb2aurora.adapters import aws_errors, client

CHUNK_BYTES = 1024 * 1024


class ObjectReadError(Exception):
    """The object could not be read (missing, replaced, or no permission)."""


def copy_object_to(bucket: str, key: str, etag: str, sink: BinaryIO) -> tuple[int, int]:
    """Write the object's bytes to ``sink``; return (bytes, newline count)."""
    try:
        response = client("s3").get_object(Bucket=bucket, Key=key, IfMatch=etag)
        body = response["Body"]
        size = lines = 0
        for chunk in body.iter_chunks(CHUNK_BYTES):
            sink.write(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    except aws_errors() as exc:
        raise ObjectReadError(f"cannot read s3://{bucket}/{key} (ETag {etag}): {exc}") from exc
    return size, lines
