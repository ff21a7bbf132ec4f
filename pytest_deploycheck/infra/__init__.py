"""Checks on the hosts behind a deployment, through pytest-testinfra (the docs,
"Infrastructure checks"): :mod:`.hosts` connects, the other modules check one thing each."""
