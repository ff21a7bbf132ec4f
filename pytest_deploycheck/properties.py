"""The names of what the plugin writes into pytest's reports: a check's user properties
(JUnit ``<property>``, read back by the verdict), and the run's JUnit properties. One place,
so the writer and every reader agree."""

from __future__ import annotations

# A check's user properties.
CAUSE = "deploycheck_cause"  # what the verdict groups this failure by
UNREACHABLE = "deploycheck_unreachable"  # the target could not be reached
RECOMMENDATION = "deploycheck_recommendation"  # a finding that does not fail the check
EXAMINED = "deploycheck_examined"  # what a passing check looked at
SECURITY = "deploycheck_security"  # the header policy's items on one answer, for the grade
FUZZ = "deploycheck_fuzz"  # the fuzz run's summary

# The cause of a failed header check, the suite's and the passive one's alike: + the items.
HEADER_POLICY_CAUSE = "security header policy: "
# The run's own JUnit properties (deploycheck_verdict, deploycheck_cause_N …) are written in
# one place, plugin.reporting.RunReporting.publish.
