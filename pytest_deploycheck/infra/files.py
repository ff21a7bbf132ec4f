"""Files on a host: secret files' owner and mode, the deployed env file's settings, sshd's
root login, and certificate files' expiry. No value read from a file is ever shown, except
an expected setting's plain value (``DEBUG=true``) under a key that does not look secret."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone

from pytest_deploycheck.config.schema import EnvFile, SecretFile
from pytest_deploycheck.infra.hosts import DeployHost
from pytest_deploycheck.optional import need
from pytest_deploycheck.run.redaction import Redactor

# In a deployed env file, any of these in a key makes its value a secret (SECRET_KEY,
# MINIO_ACCESS_KEY, REDIS_PASSWORD, JWT_SECRET, DATABASE_URL's password …).
_SECRET_KEY = re.compile(r"(key|pass|secret|token|credential|auth)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"://[^:/@\s]*:([^@\s]+)@")


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


_WHO = (("user", 0o700, 6), ("group", 0o070, 3), ("others", 0o007, 0))
_WHAT = ((4, "read"), (2, "write"), (1, "execute"))


def check_secret_file(host: DeployHost, secret: SecretFile) -> list[str]:
    file = host.module("file", secret.path)
    if not host.use(secret.path, lambda: file.exists):
        return [f"{secret.path} does not exist"]
    mode, user, group = host.use(secret.path, lambda: (file.mode, file.user, file.group))
    problems = []
    allowed = int(secret.mode, 8)
    excess = mode & 0o777 & ~allowed
    if excess:
        problems.append(
            f"{secret.path}: mode {mode & 0o777:03o} allows more than {secret.mode} "
            f"({_describe(excess)}); chmod {secret.mode} {secret.path}"
        )
    if secret.owner and user != secret.owner:
        problems.append(f"{secret.path}: owned by {user!r}, expected {secret.owner!r}")
    if secret.group and group != secret.group:
        problems.append(f"{secret.path}: group {group!r}, expected {secret.group!r}")
    return problems


def _describe(bits: int) -> str:
    parts = []
    for who, mask, shift in _WHO:
        can = [what for bit, what in _WHAT if (bits & mask) >> shift & bit]
        if can:
            parts.append(f"{who} can {' and '.join(can)}")
    return ", ".join(parts)


def read_env_file(host: DeployHost, path: str, redactor: Redactor) -> dict[str, str] | None:
    """Its KEY=value pairs, read by python-dotenv; None when it is missing. Values under
    secret-looking keys, and passwords in URLs, are handed to the redactor at once."""
    file = host.module("file", path)
    if not host.use(path, lambda: file.exists):
        return None
    text = host.use(path, lambda: file.content_string)
    dotenv = need("dotenv", "deployed env files", "python-dotenv", "infra")
    values = {  # python-dotenv: the format as the services themselves read it
        key: value or ""
        for key, value in dotenv.dotenv_values(stream=io.StringIO(text), interpolate=False).items()
    }
    for key, value in values.items():
        if is_secret_key(key):
            redactor.add(value)
        redactor.add(*_URL_PASSWORD.findall(value))
    return values


def check_env_file(host: DeployHost, env_file: EnvFile, redactor: Redactor) -> list[str]:
    values = read_env_file(host, env_file.path, redactor)
    if values is None:
        return [f"{env_file.path} does not exist"]
    problems = []
    for key, expected in env_file.expect.items():
        if key not in values:
            problems.append(f"{env_file.path}: {key} is not set (expected {key}={expected})")
        elif values[key].strip().lower() != expected.strip().lower():
            shown = "a different value" if is_secret_key(key) else repr(values[key])
            problems.append(f"{env_file.path}: {key} is {shown}, expected {expected!r}")
    return problems


_PERMIT_ROOT = re.compile(r"^\s*PermitRootLogin\s+(\S+)", re.IGNORECASE | re.MULTILINE)
_EFFECTIVE_ROOT_LOGIN = re.compile(r"^permitrootlogin\s+(\S+)", re.MULTILINE)


def check_sshd_root_login(host: DeployHost, path: str) -> list[str]:
    """The seeds' "root login disabled": sshd's effective PermitRootLogin is ``no``.

    ``sshd -T`` prints the effective value, drop-ins (``Include``) and defaults included;
    where it cannot run (no permission to read the host keys), the file's first
    PermitRootLogin (the one sshd uses) is read instead.
    """
    file = host.module("file", path)
    if not host.use(path, lambda: file.exists):
        return [f"{path} does not exist"]
    effective = host.run(
        "sshd -T -f %s 2>/dev/null || /usr/sbin/sshd -T -f %s 2>/dev/null", path, path
    )
    found = _EFFECTIVE_ROOT_LOGIN.search(effective.stdout) if effective.rc == 0 else None
    if found:
        value, source = found.group(1).lower(), "effective, from sshd -T"
    else:
        text = host.use(path, lambda: file.content_string)
        first = _PERMIT_ROOT.search(text.split("\nMatch ", 1)[0])
        value = first.group(1).lower() if first else ""
        source = "the file's first PermitRootLogin" if first else ""
    if value == "no":
        return []
    if not value:
        shown = "PermitRootLogin is not set (sshd's default, 'prohibit-password', lets root in with a key)"
    else:
        shown = f"PermitRootLogin is {value!r} ({source})"
    return [f"{path}: {shown}; set 'PermitRootLogin no'"]


def check_cert_file(host: DeployHost, path: str, min_days: int) -> list[str]:
    x509 = need("cryptography.x509", "certificate files", "cryptography", "infra")
    file = host.module("file", path)
    if not host.use(path, lambda: file.exists):
        return [f"{path} does not exist"]
    data = host.use(path, lambda: file.content)
    try:
        certificate = x509.load_pem_x509_certificate(data)
    except ValueError:
        return [f"{path}: not a PEM certificate"]
    expires = certificate.not_valid_after_utc
    days = (expires - datetime.now(timezone.utc)).total_seconds() / 86400
    subject = certificate.subject.rfc4514_string() or "(no subject)"
    when = expires.strftime("%Y-%m-%d")
    if days < 0:
        return [f"{path}: the certificate for {subject} expired on {when}"]
    if days < min_days:
        return [
            f"{path}: the certificate for {subject} expires in {days:.0f} days ({when}); "
            f"at least {min_days} required (infra.cert_min_days)"
        ]
    return []
