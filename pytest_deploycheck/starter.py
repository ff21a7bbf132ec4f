"""``deploycheck init``: a commented starter config for a team's own repository."""

from __future__ import annotations

from urllib.parse import urlsplit

TEMPLATE = """\
#:schema ./deploycheck.schema.json
# Target environments for pytest-deploycheck. Run: pytest --env {env} -m smoke
# Values may be ${{VAR}} (or ${{VAR:-default}}) references to environment variables:
# keep secrets out of this file. Every key: the docs, "Keys of an env".

default_env = "{env}"

[envs.{env}]
base_url = "{base_url}"
api_prefix = "/api/v1"            # prefix of every API path ("" for none)
production = {production}
# expected_version = "${{DEPLOY_VERSION:-}}"   # the version the deploy should have put there
# timeouts = {{ connect = 5, read = 10, total = 60 }}
# latency_ms = {{ health = 1000, default = 2000 }}

# How the service reports its health (a 503 or a body saying "unhealthy" fails).
# health = {{ liveness_path = "/health", readiness_path = "/ready", info_path = "/info" }}

[envs.{env}.auth]
# "throwaway" registers a user per run and deletes it; production uses an account.
mode = "{auth_mode}"
{account}# rate_limit = "5/60s"            # register + login + refresh per client IP; the run paces to it

# Where your API differs from the Anki Compendium's: its paths (each under api_prefix;
# {{job_id}} and {{deck_id}} are filled in) and the journey's fields. The the docs' "Pointing
# it at your own deployment" walks through them; `deploycheck schema` lists every key.
# [envs.{env}.paths]
# register = "/auth/register"
# login = "/auth/login"
# me = "/auth/me"
# upload = "/upload/"
# job = "/jobs/{{job_id}}"
# deck_download = "/decks/{{deck_id}}/download"
# [envs.{env}.journey]
# upload_field = "file"              # the multipart field the PDF goes in
# job_id_field = "id"                # where the upload's answer names the job
# status_field = "status"
# completed_values = ["completed", "succeeded", "done"]
# failed_values = ["failed", "error", "cancelled"]
# deck_id_field = "result_deck_id"
# job_deadline_s = 300               # how long a job may take

# The hosts behind it, in testinfra's connection strings (pytest --env {env} -m infra):
# [envs.{env}.infra]
# hosts = [{{ url = "ssh://deploy@api-1.example.com", roles = ["api"] }}]
# roles.api = {{ processes = ["uvicorn"], secret_files = [{{ path = "/srv/app/.env", mode = "600" }}] }}

# The services behind the API (pytest --env {env} -m deps):
# [envs.{env}.deps]
# postgres = {{ dsn = "postgresql://app:${{DB_PASSWORD}}@db:5432/app", expected_head = "<alembic head>" }}
# redis = {{ url = "redis://:${{REDIS_PASSWORD}}@cache:6379/0" }}

# The embedded reference deployment: a demo target that needs nothing running.
[envs.local]
base_url = "embedded"
"""


def starter_config(base_url: str, env: str = "staging", production: bool = False) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"the base URL must be an absolute http:// or https:// URL, got {base_url!r}"
        )
    account = (
        'email = "${SMOKE_EMAIL}"\npassword = "${SMOKE_PASSWORD}"\n'
        if production
        else '# email = "${SMOKE_EMAIL}"       # with mode = "account"\n'
        '# password = "${SMOKE_PASSWORD}"\n'
    )
    return TEMPLATE.format(
        env=env,
        base_url=base_url.rstrip("/"),
        production="true" if production else "false",
        auth_mode="account" if production else "throwaway",
        account=account,
    )
