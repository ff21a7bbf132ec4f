"""A ready-to-run curl command for a recorded exchange, with its secrets left out.

The token is not in the record (it is redacted there); the command reads it from
``$DEPLOYCHECK_TOKEN`` instead, so it can be pasted and run as it is (in bash: a
body that is not text is sent from its base64 with process substitution). A body
longer than the record's excerpt, or with a password masked, is replayed as recorded.
"""

from __future__ import annotations

import shlex

from pytest_deploycheck.run.client import Exchange
from pytest_deploycheck.run.redaction import MASK

TOKEN_VARIABLE = "DEPLOYCHECK_TOKEN"
# Headers a replay needs; the rest (User-Agent, Host, lengths, encodings) curl sets itself.
_REPLAYED = ("authorization", "content-type", "accept", "origin", "x-api-key")


def curl_command(exchange: Exchange) -> str:
    parts = ["curl", "-sS", "-i", "-X", exchange.method, shlex.quote(exchange.url)]
    for name, value in exchange.request_headers.items():
        if name not in _REPLAYED:
            continue
        if name == "authorization" and value == MASK:
            parts += ["-H", f'"Authorization: Bearer ${TOKEN_VARIABLE}"']
        elif name == "content-type" and value.startswith("multipart/"):
            continue  # curl -F sets its own boundary
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = exchange.request_body
    if exchange.request_bytes:  # not text: sent exactly as it was
        parts += ["--data-binary", f"@<(printf %s {exchange.request_bytes} | base64 -d)"]
    elif body and not body.startswith("<"):
        if "multipart/" in exchange.request_headers.get("content-type", ""):
            parts.append("# multipart body not shown")
        else:
            parts += ["--data-raw", shlex.quote(body)]
    return " ".join(parts)
