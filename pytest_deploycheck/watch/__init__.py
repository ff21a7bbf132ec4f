"""The watch window: the hours after the deploy, judged round by round like its first minutes.

- :mod:`.window`: how long, how often (``--watch 2h --watch-every 30s``);
- :mod:`.policy`: rounds of check runs and the judge (Argo Rollouts' AnalysisRun policy:
  failure limits, consecutive limits, GREEN / RED / INCONCLUSIVE);
- :mod:`.target_metrics`: the target's own ``/metrics`` read every round (resident memory
  growth, restart-aware; the share of 5xx answers);
- :mod:`.prometheus`: PromQL queries against the team's Prometheus, each a check;
- :mod:`.exporter`: the watch's own metrics, served for a team's Prometheus to scrape.

The pytest side (re-running the checks each round, the report) is
:mod:`pytest_deploycheck.plugin.watch`.
"""
