"""Review photos in S3-compatible storage: a real S3 server on loopback (moto's ThreadedMotoServer), boto3
over real HTTP. Photos keep their checks (magic bytes, size) whatever the backend; disk stays the default."""

from __future__ import annotations

import io
import json

import boto3
import pytest
import requests
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from sqlalchemy import select

from app.extensions import db
from app.reviews import photo_storage
from app.reviews.models import Review
from app.reviews.storage import LocalPhotoStorage
from tests.helpers import add_store
from tests.reviews.test_reviews_form import PNG, _links, _public_key

BUCKET = "review-photos-test"
S3_PNG = PNG + b"only-ever-uploaded-to-s3"  # a hash no disk test writes (they share instance/review_photos)


@pytest.fixture
def s3(app, monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    settings = {
        "REVIEW_PHOTO_STORAGE": "s3",
        "S3_ENDPOINT_URL": endpoint,
        "S3_BUCKET": BUCKET,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "test-key",
        "S3_SECRET_ACCESS_KEY": "test-secret",
        "S3_PREFIX": "photos/",
        "S3_PUBLIC_BASE_URL": None,
        "S3_PRESIGN_SECONDS": 600,
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    app.extensions.pop("review_photos", None)
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    client.create_bucket(Bucket=BUCKET)
    yield client, endpoint
    app.extensions.pop("review_photos", None)
    requests.post(f"{endpoint}/moto-api/reset", timeout=5)
    server.stop()


def objects(client) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_photo_stored_in_s3_checked_and_served_by_presigned_redirect(app, client, ctx, mail_clock, s3):
    s3_client, endpoint = s3
    add_store()
    link = _links(app, client, mail_clock)[4]
    fake = {"rating": "5", "photos": (io.BytesIO(b"GIF89a not allowed"), "cat.png")}
    assert client.post(link, data=fake, content_type="multipart/form-data").status_code == 400
    assert objects(s3_client) == []  # refused before it reaches the bucket
    good = {"rating": "5", "photos": (io.BytesIO(S3_PNG), "ok.bin")}
    assert client.post(link, data=good, content_type="multipart/form-data").status_code == 201
    key = db.session.scalars(select(Review)).one().photos[0]["key"]
    assert objects(s3_client) == [f"photos/{key}"]
    stored = s3_client.get_object(Bucket=BUCKET, Key=f"photos/{key}")
    assert stored["Body"].read() == S3_PNG and stored["ContentType"] == "image/png"
    assert not (LocalPhotoStorage(f"{app.instance_path}/review_photos").root / key).exists()

    answer = client.get(f"/r/photos/{key}")
    assert answer.status_code == 302 and answer.headers["Location"].startswith(f"{endpoint}/{BUCKET}/photos/{key}?")
    assert "X-Amz-Signature=" in answer.headers["Location"] and "max-age=300" in answer.headers["Cache-Control"]
    fetched = requests.get(answer.headers["Location"], timeout=5)
    assert fetched.status_code == 200 and fetched.content == S3_PNG
    assert photo_storage().open(key) == S3_PNG and photo_storage().open("1/missing.png") is None


def test_public_bucket_linked_directly_from_the_storefront_api(app, client, ctx, mail_clock, s3, monkeypatch):
    s3_client, endpoint = s3
    monkeypatch.setitem(app.config, "S3_PUBLIC_BASE_URL", f"{endpoint}/{BUCKET}")
    # What a merchant does for a public bucket: anonymous GetObject under the prefix.
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/photos/*",
    }
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    public_key = _public_key(add_store())
    token = _links(app, client, mail_clock)[4].rsplit("/", 1)[1]
    answer = client.post(
        f"/api/v1/reviews?store={public_key}",
        data={"token": token, "rating": "5", "photos": (io.BytesIO(PNG), "p.png")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.data
    [url] = answer.get_json()["review"]["photo_urls"]
    key = answer.get_json()["review"]["photos"][0]
    assert url == f"{endpoint}/{BUCKET}/photos/{key}" and objects(s3_client) == [f"photos/{key}"]
    got = requests.get(url, timeout=5)
    assert got.content == PNG, (got.status_code, got.text[:300])
    assert client.get(f"/r/photos/{key}").headers["Location"] == url


def test_disk_is_the_default(app, ctx):
    app.extensions.pop("review_photos", None)
    assert app.config["REVIEW_PHOTO_STORAGE"] == "disk"
    assert isinstance(photo_storage(), LocalPhotoStorage)
