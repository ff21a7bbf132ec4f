"""Where the records live: a directory (what a CI caches or keeps as an artifact), or an S3
bucket and prefix (``s3://bucket/prefix``). One JSON file per run, under the env's name."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pytest_deploycheck.baseline.record import RunRecord
from pytest_deploycheck.errors import ConfigError, DeployCheckError
from pytest_deploycheck.optional import need


class RecordStore(Protocol):
    where: str

    def save(self, record: RunRecord) -> str: ...

    def records(self, env: str) -> list[RunRecord]: ...


def _name(record: RunRecord) -> str:
    stamp = record.recorded_at.replace(":", "").replace("-", "")[:15]
    return f"{stamp}-{record.run_id}.json"


class DirectoryStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def save(self, record: RunRecord) -> str:
        folder = self.path / record.env
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / _name(record)
        target.write_text(record.to_json())
        return str(target)

    def records(self, env: str) -> list[RunRecord]:
        found = []
        for path in sorted((self.path / env).glob("*.json")):
            try:
                found.append(RunRecord.from_json(path.read_text()))
            except (OSError, ValueError, TypeError):
                continue  # a file that is no record is not a baseline
        return sorted(found, key=lambda r: r.recorded_at)


class S3Store:
    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        boto3 = need("boto3", "a baseline in S3", "boto3", "deps")
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.where = url
        botocore = need("botocore.config", "a baseline in S3", "boto3", "deps")
        # Bounded, as every request of the run is: a store that does not answer is said.
        bounded = botocore.Config(
            connect_timeout=5, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"}
        )
        self.client = boto3.client("s3", endpoint_url=endpoint_url, config=bounded)

    def _key(self, env: str, name: str = "") -> str:
        return "/".join(part for part in (self.prefix, env, name) if part)

    def save(self, record: RunRecord) -> str:
        key = self._key(record.env, _name(record))
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=record.to_json().encode())
        except Exception as exc:  # noqa: BLE001  (botocore's errors: one line, named)
            raise DeployCheckError(
                f"could not write the record to s3://{self.bucket}/{key}: {exc}"
            ) from None
        return f"s3://{self.bucket}/{key}"

    def records(self, env: str) -> list[RunRecord]:
        found = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(env) + "/"
            )
            keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
            for key in keys:
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                try:
                    found.append(RunRecord.from_json(body.decode()))
                except (ValueError, TypeError):
                    continue
        except Exception as exc:  # noqa: BLE001
            raise DeployCheckError(f"could not read the records in {self.where}: {exc}") from None
        return sorted(found, key=lambda r: r.recorded_at)


def open_store(where: str, endpoint_url: str | None = None) -> RecordStore:
    if where.startswith("s3://"):
        if not where.removeprefix("s3://").split("/", 1)[0]:
            raise ConfigError(f"baseline store {where!r} names no bucket (s3://bucket/prefix)")
        return S3Store(where, endpoint_url)
    if "://" in where:
        raise ConfigError(f"baseline store {where!r}: a directory or s3://bucket/prefix")
    return DirectoryStore(Path(where).expanduser())
