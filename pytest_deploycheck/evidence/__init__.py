"""Every answer the run received, examined once per run by passive analysers.

Each analyser is one small module with one job (:mod:`.contract`, :mod:`.headers`,
:mod:`.leaks`): it looks at one :class:`~pytest_deploycheck.run.client.Exchange`
at a time and returns :class:`~.finding.Finding` objects. :func:`.review.review`
runs them all over the exchanges of every process of the run and folds the
findings into one result per analyser, which the plugin reports as a check of
its own (``passive::contract`` …).

A new analyser: a module with a class that has ``name``, ``prepare()`` and
``examine()`` (see :class:`.finding.Analyser`), listed in :data:`ANALYSERS`.
"""

from __future__ import annotations

from pytest_deploycheck.evidence.contract import ContractAnalyser
from pytest_deploycheck.evidence.finding import Analyser, AnalyserResult, Finding, RunEvidence
from pytest_deploycheck.evidence.headers import HeadersAnalyser
from pytest_deploycheck.evidence.leaks import LeaksAnalyser

ANALYSERS: tuple[type[Analyser], ...] = (ContractAnalyser, HeadersAnalyser, LeaksAnalyser)

__all__ = ["ANALYSERS", "Analyser", "AnalyserResult", "Finding", "RunEvidence"]
