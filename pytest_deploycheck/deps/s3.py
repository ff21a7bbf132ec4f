"""Object storage (S3, MinIO): the bucket exists, can be written, read and deleted where that
is allowed, and does not serve its objects to anyone without credentials.

The anonymous check asks the storage itself, without credentials, for an object (one the
bucket lists, or the probe just written), and reads the bucket's ACL for grants to everyone.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from pytest_deploycheck.config.schema import S3Dependency, TargetEnv
from pytest_deploycheck.deps.clients import dependency_reached, first_line, service_client
from pytest_deploycheck.errors import CheckFailed
from pytest_deploycheck.optional import need
from pytest_deploycheck.run.redaction import Redactor

_EVERYONE = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "everyone (AllUsers)",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "every AWS account (AuthenticatedUsers)",
}


class Bucket:
    """One bucket through boto3, every call turned into one clear message."""

    def __init__(self, dep: S3Dependency, redactor: Redactor) -> None:
        boto3 = need("boto3", "S3 or MinIO", "boto3", "deps")
        from botocore.config import Config

        self.dep = dep
        self.redactor = redactor
        self.where = f"bucket {dep.bucket!r}" + (
            f" at {redactor.url(dep.endpoint_url)}" if dep.endpoint_url else ""
        )
        self.client = boto3.client(
            "s3",
            endpoint_url=dep.endpoint_url,
            region_name=dep.region,
            aws_access_key_id=dep.access_key,
            aws_secret_access_key=dep.secret_key,
            config=Config(
                connect_timeout=dep.timeout_s,
                read_timeout=dep.timeout_s,
                retries={"max_attempts": 1},
                s3={"addressing_style": "path" if dep.endpoint_url else "auto"},
            ),
        )

    def call(self, what: str, name: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        try:
            return getattr(self.client, name)(Bucket=self.dep.bucket, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in ("404", "NoSuchBucket"):
                raise CheckFailed(f"{self.where} does not exist") from None
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise CheckFailed(
                    f"{self.where}: the configured credentials may not {what} ({code})"
                ) from None
            raise CheckFailed(
                f"{self.where}: cannot {what}: {code} {error.get('Message', '')}".strip()
            ) from None
        except EndpointConnectionError as exc:
            raise CheckFailed(
                f"{self.where}: cannot connect: {self.redactor.text(first_line(exc))}"
            ) from None
        except BotoCoreError as exc:
            raise CheckFailed(f"{self.where}: {self.redactor.text(first_line(exc))}") from None

    def object_url(self, key: str) -> str:
        if self.dep.endpoint_url:
            return f"{self.dep.endpoint_url.rstrip('/')}/{self.dep.bucket}/{quote(key)}"
        return f"https://{self.dep.bucket}.s3.{self.dep.region}.amazonaws.com/{quote(key)}"


def check_bucket_exists(dep: S3Dependency, redactor: Redactor) -> None:
    Bucket(dep, redactor).call("reach it", "head_bucket")


def check_bucket_write_read_delete(dep: S3Dependency, redactor: Redactor) -> None:
    """Put a small object, read it back, delete it and see it gone; deleted also on failure."""
    bucket = Bucket(dep, redactor)
    key = f"{dep.probe_prefix}{uuid.uuid4().hex}.txt"
    body = b"pytest-deploycheck probe: safe to delete\n"
    bucket.call("write objects", "put_object", Key=key, Body=body)
    try:
        read = bucket.call("read objects", "get_object", Key=key)["Body"].read()
        if read != body:
            raise CheckFailed(
                f"{bucket.where}: the object written ({key}) read back different bytes"
            )
    finally:
        bucket.call("delete objects", "delete_object", Key=key)
    listed = bucket.call("list objects", "list_objects_v2", Prefix=key).get("KeyCount", 0)
    if listed:
        raise CheckFailed(f"{bucket.where}: the probe object {key} is still there after its DELETE")


def check_bucket_not_public(
    env: TargetEnv, dep: S3Dependency, redactor: Redactor, *, may_write: bool
) -> list[str]:
    """No ACL grant to everyone, and an object is refused to a request without credentials."""
    bucket = Bucket(dep, redactor)
    problems = []
    acl = bucket.call("read its ACL", "get_bucket_acl")
    for grant in acl.get("Grants", []):
        who = _EVERYONE.get(str(grant.get("Grantee", {}).get("URI", "")))
        if who:
            problems.append(
                f"{bucket.where} grants {grant.get('Permission')} to {who} in its ACL: "
                "make it private and serve decks through signed links"
            )
    listed = bucket.call("list objects", "list_objects_v2", MaxKeys=1).get("Contents", [])
    probe = None
    if listed:
        key = str(listed[0]["Key"])
    elif may_write:
        key = probe = f"{dep.probe_prefix}{uuid.uuid4().hex}.txt"
        try:
            bucket.call("write objects", "put_object", Key=key, Body=b"pytest-deploycheck probe\n")
        except CheckFailed:  # read-only credentials: test_..._write_read_delete says so
            return problems  # nothing to ask for; the ACL alone was checked
    else:
        return problems  # nothing to ask for; the ACL alone was checked
    try:
        url = bucket.object_url(key)
        with dependency_reached(bucket.where), service_client(env, redactor, url) as client:
            response = client.get(url)
        status = response.status_code
        if status < 300:
            problems.append(
                f"{bucket.where} serves objects anonymously: GET {redactor.url(url)} without "
                f"credentials answered {status}; make it private"
            )
        elif status not in (401, 403):
            # A 301 (another region), a 404 or a 5xx says nothing about who may read it.
            where_to = response.headers.get("location") or response.headers.get(
                "x-amz-bucket-region"
            )
            problems.append(
                f"{bucket.where}: the anonymous read could not be judged: GET {redactor.url(url)} "
                f"without credentials answered {status}"
                + (f" (pointing to {redactor.url(where_to)})" if where_to else "")
                + ", not 401 or 403; set deps.s3.endpoint_url (and region) to where the bucket is"
            )
    finally:
        if probe:
            bucket.call("delete objects", "delete_object", Key=probe)
    return problems
