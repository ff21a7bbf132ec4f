"""Release over release: every run recorded, each judged against the last green release.

- :mod:`.record`: what a run leaves for the next (latency samples per endpoint, 5xx
  counts, the API document's shape, the version, the verdict) and which record is a
  run's baseline;
- :mod:`.store`: where records live (a directory, or an S3 bucket and prefix);
- :mod:`.judge`: the statistics (Mann-Whitney U, the Hodges-Lehmann shift and its
  confidence interval, Fisher's exact test), after Kayenta's NetflixACAJudge;
- :mod:`.document`: an OpenAPI document's shape, and the breaking changes between two.

The pytest side (sampling, the checks it reports, recording) is
:mod:`pytest_deploycheck.plugin.baseline`.
"""
