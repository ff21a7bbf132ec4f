"""A check of your own, beside the shipped suites: `pytest --env staging -m smoke`
collects both. Everything comes from the public API and the fixtures."""

import pytest

from pytest_deploycheck import (
    CheckFailed,
    DeployClient,
    RunUser,
    TargetEnv,
    expect_status,
    json_body,
)


@pytest.mark.smoke
def test_new_users_start_with_an_empty_deck_list(
    http: DeployClient, deploy_env: TargetEnv, smoke_user: RunUser
) -> None:
    """A fresh throwaway user has no decks; an account may, so it is only checked there."""
    response = http.get(deploy_env.paths.decks, headers=smoke_user.headers)
    expect_status(response, 200, "listing the smoke user's decks")
    body = json_body(response)
    items = body.get("items", []) if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise CheckFailed(f"the deck list is not a list: {type(items).__name__}")
    if smoke_user.throwaway and smoke_user.register_status and len(items) > 1:
        raise CheckFailed(f"a new user already has {len(items)} decks: are users' data mixed up?")
