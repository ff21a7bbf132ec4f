"""Checks of the services behind the API (the docs, "Dependency checks"): one module each,
through the ecosystem's own client (psycopg, redis, boto3, prometheus-client's parser)."""
