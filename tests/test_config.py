"""Config loading and every config error: one readable UsageError naming file, env and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_deploycheck.config import ConfigFile, load_config, resolve_env
from pytest_deploycheck.errors import ConfigError

USES_ENV = "def test_env(deploy_env):\n    pass\n"


def usage_error(pytester: pytest.Pytester, *args: str) -> str:
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    output = result.stderr.str()
    assert "Traceback" not in output and "Traceback" not in result.stdout.str()
    return output


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_x=USES_ENV)
    return pytester


def write(pytester: pytest.Pytester, text: str) -> None:
    (pytester.path / "deploycheck.toml").write_text(text)


STAGING = '[envs.staging]\nbase_url = "https://staging.example.com"\n'


def test_unknown_env_lists_the_known_ones(project: pytest.Pytester) -> None:
    write(project, STAGING)
    output = usage_error(project, "--env", "stagin")
    assert "deploycheck: unknown env 'stagin' (did you mean 'staging'?)" in output
    assert "known envs in deploycheck.toml: staging, local" in output


def test_missing_variable_is_named(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMOKE_PASSWORD", raising=False)
    write(project, STAGING + 'auth.password = "${SMOKE_PASSWORD}"\n')
    output = usage_error(project, "--env", "staging")
    assert (
        "deploycheck.toml: env 'staging', key 'auth.password': environment variable SMOKE_PASSWORD is not set"
        in output
    )


def test_missing_variable_of_another_env_does_not_matter(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROD_PASSWORD", raising=False)
    write(
        project,
        STAGING
        + '[envs.prod]\nbase_url = "https://api.example.com"\nauth.password = "${PROD_PASSWORD}"\n',
    )
    result = project.runpytest("--env", "staging", "--co", "-q")
    assert result.ret == 0, result.stderr.str()


def test_variable_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory
) -> None:
    path = tmp_path / "deploycheck.toml"  # type: ignore[operator]
    path.write_text('[envs.s]\nbase_url = "${URL:-https://fallback.example.com}"\n')
    env = resolve_env(load_config(path, {}), "s", environ={})
    assert env.base_url == "https://fallback.example.com"
    env = resolve_env(load_config(path), "s", environ={"URL": "https://real.example.com"})
    assert env.base_url == "https://real.example.com"


def test_malformed_toml_names_file_and_line(project: pytest.Pytester) -> None:
    write(project, '[envs.staging]\nbase_url = "https://x.example.com"\ntimeouts = {connect = }\n')
    output = usage_error(project, "--env", "staging")
    assert "deploycheck.toml: not valid TOML:" in output
    assert "line 3" in output


def test_base_url_without_scheme(project: pytest.Pytester) -> None:
    write(project, '[envs.staging]\nbase_url = "api.example.com"\n')
    output = usage_error(project, "--env", "staging")
    assert (
        "env 'staging', key 'base_url': must be 'embedded' or an absolute http:// or https:// URL"
        in output
    )
    assert "did you mean 'https://api.example.com'?" in output


def test_base_url_option_without_scheme(project: pytest.Pytester) -> None:
    output = usage_error(project, "--base-url", "localhost:8000")
    assert "key 'base_url': must be 'embedded' or an absolute http:// or https:// URL" in output


def test_misspelt_key_suggests_the_right_one(project: pytest.Pytester) -> None:
    write(project, STAGING + "timeouts = { conect = 3 }\n")
    output = usage_error(project, "--env", "staging")
    assert "env 'staging', key 'timeouts.conect': unknown key (did you mean 'connect'?)" in output


def test_typo_in_another_env_is_reported_too(project: pytest.Pytester) -> None:
    write(
        project, STAGING + '[envs.prod]\nbase_url = "https://api.example.com"\nproduktion = true\n'
    )
    output = usage_error(project, "--env", "staging")
    assert "env 'prod', key 'produktion': unknown key (did you mean 'production'?)" in output


def test_wrong_type(project: pytest.Pytester) -> None:
    write(project, STAGING + 'production = "very"\n')
    output = usage_error(project, "--env", "staging")
    assert "env 'staging', key 'production': Input should be a valid boolean" in output


def test_unknown_top_level_key(project: pytest.Pytester) -> None:
    write(project, 'default_evn = "x"\n' + STAGING)
    output = usage_error(project, "--env", "staging")
    assert "deploycheck.toml: unknown key 'default_evn' (did you mean 'default_env'?)" in output


def test_undefined_default_env(project: pytest.Pytester) -> None:
    write(project, 'default_env = "prod"\n' + STAGING)
    output = usage_error(project)
    assert "deploycheck.toml: default_env 'prod' is not defined" in output


def test_missing_config_file_option(project: pytest.Pytester) -> None:
    output = usage_error(project, "--deploycheck-config", "nope.toml", "--env", "local")
    assert "config file 'nope.toml' does not exist" in output


def test_envs_must_be_tables(project: pytest.Pytester) -> None:
    write(project, 'envs = "staging"\n')
    output = usage_error(project)
    assert "'envs' must be a table of tables" in output


def test_pyproject_tool_section(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.deploycheck]\ndefault_env = "staging"\n[tool.deploycheck.envs.staging]\n'
        'base_url = "https://staging.example.com/"\napi_prefix = "/v2/"\n'
    )
    pytester.makepyfile(
        "def test_it(request):\n"
        "    from pytest_deploycheck.plugin.fixtures import deploy_context\n"
        "    env = deploy_context(request.config).env\n"
        "    assert env.base_url == 'https://staging.example.com'\n"
        "    assert env.api_url == 'https://staging.example.com/v2'\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["deploycheck: env=staging (from default_env in pyproject.toml ?tool.deploycheck?)*"]
    )


def test_env_from_environment_variable(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project, STAGING)
    monkeypatch.setenv("DEPLOYCHECK_ENV", "staging")
    result = project.runpytest("--co")
    result.stdout.fnmatch_lines(["deploycheck: env=staging (from DEPLOYCHECK_ENV)*"])


def test_header_says_where_settings_came_from(project: pytest.Pytester) -> None:
    write(project, STAGING + 'expected_version = "1.4.2"\n')
    result = project.runpytest(
        "--env", "staging", "--base-url", "https://canary.example.com", "--co"
    )
    result.stdout.fnmatch_lines(
        [
            "deploycheck: env=staging (from --env), target=https://canary.example.com (from --base-url), api_prefix=/api/v1",
            "deploycheck: production=no, destructive checks=allowed (not a production env), "
            "expected version=1.4.2 (from env 'staging'), config=*deploycheck.toml",
        ]
    )


def test_no_target_selected_is_a_usage_error_when_a_check_needs_one(
    project: pytest.Pytester,
) -> None:
    write(project, "")  # an empty config: once 44 identical errors and exit 1
    output = usage_error(project)
    assert output.count("no target selected") == 1
    assert (
        "pass --env NAME (known: local), set default_env in the config, or pass --base-url URL"
        in output
    )


def test_no_target_is_fine_for_tests_that_need_none(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("env_text", "args", "message"),
    [
        ('ca_bundle = "nope.pem"\n', (), "env 'x', key 'ca_bundle': no file at 'nope.pem'"),
        (
            'ca_bundle = "bad.pem"\n',
            (),
            "env 'x', key 'ca_bundle': 'bad.pem' is not a PEM certificate bundle",
        ),
        ('headers = { X-Team = "Zürich" }\n', (), "must be printable ASCII"),
        ('load.criteria = { all = "p95 < 2s" }\n', (), "env 'x', key 'load.criteria'"),
        ("", ("--load-profile", "nope"), "--load-profile: unknown load profile 'nope'"),
        ("", ("--auth-rate-limit", "five"), "--auth-rate-limit: must be like '5/60s'"),
        # Templates against their placeholders: at start, not a KeyError inside cleanup.
        (
            'paths.job = "/jobs/{id}"\n',
            (),
            "key 'paths.job': '/jobs/{id}' has the placeholder {id}, which is never filled in "
            "(known here: {deck_id}, {job_id})",
        ),
        (
            'auth.login_body = { user = "{mail}", password = "{password}" }\n',
            (),
            "key 'auth.login_body': '{mail}' has the placeholder {mail}",
        ),
        ('paths.login = "/t/{tenant}/login"\n', (), "(known here: none)"),
        ('headers = { "X Api Key" = "k" }\n', (), "'X Api Key' is not a header name"),
    ],
)
def test_bad_input_is_one_line_and_exit_4_at_start(
    project: pytest.Pytester, env_text: str, args: tuple[str, ...], message: str
) -> None:
    (project.path / "bad.pem").write_text("not a certificate\n")
    write(project, f'[envs.x]\nbase_url = "https://x.example"\n{env_text}')
    output = usage_error(project, "--env", "x", *args)
    assert message in output, output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("${NOPE_URL}", "key 'base_url': environment variable NOPE_URL is not set"),
        ("http://localhost:99999", "has a port out of range (1-65535)"),
    ],
)
def test_bad_base_url_is_named(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.delenv("NOPE_URL", raising=False)
    write(project, f'[envs.x]\nbase_url = "{url}"\n')
    output = usage_error(project, "--env", "x")
    assert message in output, output
    assert "did you mean" not in output


def test_resolve_env_api() -> None:
    config = ConfigFile(
        path=None, envs={"s": {"base_url": "https://s.example.com", "timeouts": {"read": 3}}}
    )
    env = resolve_env(config, "s", environ={})
    assert env.timeouts.read == 3 and env.timeouts.connect == 5
    with pytest.raises(ConfigError, match="unknown env 'x'"):
        resolve_env(config, "x", environ={})
    with pytest.raises(ConfigError, match="no target selected"):
        resolve_env(config, None, environ={})


def test_variable_with_a_line_break_is_rejected_without_its_value(tmp_path: Path) -> None:
    path = tmp_path / "deploycheck.toml"
    path.write_text(
        '[envs.x]\nbase_url = "https://a.example"\nheaders = { X-Api-Key = "${KEY}" }\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, {"KEY": "s3cret-value\n"})
    assert "environment variable KEY contains a line break" in str(caught.value)
    assert "key 'headers.X-Api-Key'" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_config_path_that_would_move_the_rootdir_is_a_usage_error(
    project: pytest.Pytester,
) -> None:
    configs = project.mkdir("configs")
    (configs / "pytest.ini").write_text("[pytest]\n")
    (configs / "prod.toml").write_text('[envs.x]\nbase_url = "https://x.example"\n')
    output = usage_error(project, "--deploycheck-config", "configs/prod.toml", "--env", "x")
    assert "write --deploycheck-config=PATH, or set DEPLOYCHECK_CONFIG=PATH" in output
    # Written with '=', pytest roots the run where it was invoked.
    result = project.runpytest(
        "-p", "no:cacheprovider", "--deploycheck-config=configs/prod.toml", "--env", "x", "--co"
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
