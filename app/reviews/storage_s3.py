"""Review photos in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, ...), behind PhotoStorage.

Objects are named <S3_PREFIX><store id>/<sha256>.<ext> (content-addressed, so a retried upload writes the same
object) and written with their sniffed Content-Type and a year-long immutable Cache-Control. Photos are
checked by their magic bytes and size (storage.read_photo) before they get here, whatever the backend.
Links: with S3_PUBLIC_BASE_URL (a public bucket or a CDN in front of it) API answers point there directly;
otherwise our /r/photos/<key> answers a redirect to a presigned GET valid S3_PRESIGN_SECONDS, so the bucket
can stay private.

Docs relied on (boto3 / botocore):
- put_object, get_object (NoSuchKey):
  https://boto3.amazonaws.com/v1/documentation/api/latest/reference/services/s3/client/put_object.html
- presigned URLs: https://boto3.amazonaws.com/v1/documentation/api/latest/guide/s3-presigned-urls.html
- path-style addressing for custom endpoints (MinIO and most S3-compatible servers need it):
  https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html (s3.addressing_style)
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from app.reviews.storage import photo_key, sniff, valid_key

log = logging.getLogger(__name__)
MISSING = {"NoSuchKey", "404", "NotFound"}


class S3PhotoStorage:
    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        prefix: str = "review-photos/",
        public_base_url: str | None = None,
        presign_seconds: int = 3600,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.presign_seconds = presign_seconds

    def _object(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def save(self, store_id: int, data: bytes, extension: str) -> str:
        key = photo_key(store_id, data, extension)
        kind = sniff(data[:16])
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._object(key),
            Body=data,
            ContentType=kind[0] if kind else "application/octet-stream",
            CacheControl="public, max-age=31536000, immutable",  # content-addressed: never changes
        )
        log.info("reviews.photo_stored", extra={"store_id": store_id, "backend": "s3", "size": len(data)})
        return key

    def open(self, key: str) -> bytes | None:
        if not valid_key(key):
            return None
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in MISSING:
                return None
            raise
        return answer["Body"].read()

    def public_url(self, key: str) -> str | None:
        if not valid_key(key) or self.public_base_url is None:
            return None
        return f"{self.public_base_url}/{self._object(key)}"

    def link(self, key: str) -> str | None:
        if not valid_key(key):
            return None
        return self.public_url(key) or self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._object(key)}, ExpiresIn=self.presign_seconds
        )


def s3_storage_from_config(config: Any) -> S3PhotoStorage:
    """Build from the S3_* settings (app/config.py); raises ValueError without a bucket."""
    bucket = config.get("S3_BUCKET")
    if not bucket:
        raise ValueError("REVIEW_PHOTO_STORAGE=s3 needs S3_BUCKET")
    endpoint = config.get("S3_ENDPOINT_URL")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=config.get("S3_REGION") or "us-east-1",
        aws_access_key_id=config.get("S3_ACCESS_KEY_ID"),
        aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint else "auto"},
            connect_timeout=5,
            read_timeout=20,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )
    return S3PhotoStorage(
        client,
        bucket,
        prefix=config.get("S3_PREFIX", "review-photos/"),
        public_base_url=config.get("S3_PUBLIC_BASE_URL"),
        presign_seconds=int(config.get("S3_PRESIGN_SECONDS", 3600)),
    )
