"""The plugin starts the embedded reference deployment itself, once, and stops it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import SuiteProject

RECORD_URL = """
import os
def test_a(base_url, tmp_path_factory):
    record(base_url)
def test_b(base_url):
    record(base_url)
def test_c(base_url):
    record(base_url)
def test_d(base_url):
    record(base_url)
def record(url):
    with open(os.environ["URLS_FILE"], "a") as f:
        f.write(url + "\\n")
"""


def _pid_of(output: str) -> str:
    match = re.search(r"embedded reference deployment ran at (http://127\.0\.0\.1:\d+)", output)
    assert match, output
    return match.group(1)


def test_env_local_starts_and_stops_the_embedded_deployment(suite_project: SuiteProject) -> None:
    result = suite_project.run("--env", "local", "test_health.py")
    result.assert_outcomes(passed=3)
    url = _pid_of(result.stdout.str())
    # Stopped at the end of the session: nothing listens there any more.
    import httpx

    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/api/v1/health", timeout=2)


def test_builtin_local_env_needs_no_config(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "def test_it(deploy_env, http):\n"
        "    assert deploy_env.name == 'local'\n"
        "    assert http.get('/health').json()['status'] == 'healthy'\n"
    )
    result = pytester.runpytest("--env", "local")
    result.assert_outcomes(passed=1)


def test_embedded_faults_from_the_env_config(suite_project: SuiteProject) -> None:
    suite_project.config('[envs.local]\nbase_url = "embedded"\nembedded.faults = ["health-503"]\n')
    result = suite_project.run("--env", "local", "test_health.py")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*503 Service Unavailable, expected 2xx*"])


def test_unknown_embedded_fault_is_a_clear_error(suite_project: SuiteProject) -> None:
    suite_project.config('[envs.local]\nbase_url = "embedded"\nembedded.faults = ["helth-503"]\n')
    result = suite_project.run("--env", "local", "test_health.py")
    # A usage error at start (exit 4), not a deployment that "exited during startup".
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*env 'local', key 'embedded.faults'*unknown fault 'helth-503' (did you mean 'health-503'?)*"
        ]
    )
    assert "exited during startup" not in result.stdout.str()


def test_one_instance_for_all_xdist_workers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls_file = pytester.path / "urls.txt"
    monkeypatch.setenv("URLS_FILE", str(urls_file))
    pytester.makepyfile(test_urls=RECORD_URL)
    result = pytester.runpytest_subprocess("--env", "local", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    urls = set(urls_file.read_text().split())
    assert len(urls) == 1, urls
    # The controller stopped it after all workers were done.
    import httpx

    with pytest.raises(httpx.ConnectError):
        httpx.get(urls.pop() + "/api/v1/health", timeout=2)


def test_server_exits_when_its_owner_is_gone(tmp_path: pytest.TempPathFactory) -> None:
    import subprocess
    import sys
    import time

    from pytest_deploycheck.run import embedded

    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        deployment = embedded.ensure_started(tmp_path, owner_pid=owner.pid)  # type: ignore[arg-type]
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and embedded._alive(deployment.pid):
        time.sleep(0.1)
    alive = embedded._alive(deployment.pid)
    if alive:
        os.kill(deployment.pid, 9)
    assert not alive, "the reference deployment outlived the process that owned it"


def test_coexists_with_pytest_base_url(pytester: pytest.Pytester) -> None:
    """pytest-base-url owns --base-url when installed; our base_url fixture still wins."""
    pytest.importorskip("pytest_base_url")
    pytester.makepyfile(
        "def test_b(base_url, deploy_env):\n"
        "    assert base_url == deploy_env.base_url and base_url.startswith('http://127.0.0.1:')\n"
    )
    result = pytester.runpytest_subprocess("--env", "local", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("--base-url", "localhost:8000", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_faults_from_the_environment_variable_apply_under_pytest(
    suite_project: SuiteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOYCHECK_FAULTS", "health-503")
    result = suite_project.run("--env", "local", "test_health.py")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*503 Service Unavailable, expected 2xx*"])


def test_the_summary_names_a_log_that_outlives_the_run(suite_project: SuiteProject) -> None:
    result = suite_project.run("--env", "local", "test_health.py")
    (line,) = [
        text for text in result.stdout.lines if "embedded reference deployment ran at" in text
    ]
    log = Path(line.rsplit("(log: ", 1)[1].rstrip(")"))
    assert log.exists() and log.stat().st_size > 0, line
