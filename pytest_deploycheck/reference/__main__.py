"""``python -m pytest_deploycheck.reference``: run the reference deployment."""

from pytest_deploycheck.reference.server import main

raise SystemExit(main())
