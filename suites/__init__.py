"""The shipped suites. Installed as ``pytest_deploycheck.suites``; the plugin collects them
in a team's own repository (see the README, "In your own repository")."""
