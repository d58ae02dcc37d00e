"""Attacks on sessions: stolen refresh tokens, stale sessions, future-dated tokens, lockout.

Each test plays the attacker against the running application and then checks that the
legitimate user is left exactly where the design says.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.api.deps import SESSION_ENDED
from app.api.v1.endpoints.users import LAST_ADMIN
from app.core.config import Settings
from app.core.security.tokens import CLOCK_SKEW_SECONDS
from tests.support.factories import DEFAULT_PASSWORD, SignedInUser, UserFactory
from tests.support.tokens import forge, seconds_from_now

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"
USERS = "/api/v1/users"
REFUSED = {"detail": "Refresh token has already been used or revoked"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get(ME, headers=bearer(token))).status_code


async def _rotate(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": refresh_token})


# --- refresh-token families -------------------------------------------------------------


async def test_a_stolen_refresh_token_replayed_after_rotation_ends_the_family(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    """The thief replays a token the victim already rotated: both lose the sign-in."""
    victim = await users.signed_in()
    stolen = victim.refresh_token
    first = (await _rotate(client, victim.refresh_token)).json()
    second = (await _rotate(client, first["refresh_token"])).json()
    assert await _status(client, second["access_token"]) == 200

    replay = await _rotate(client, stolen)
    assert replay.status_code == 401
    assert replay.json() == REFUSED
    # Every token rotated from the stolen one is dead, access tokens included.
    for token in (first["access_token"], second["access_token"], victim.access_token):
        assert await _status(client, token) == 401
    newest = await _rotate(client, second["refresh_token"])
    assert newest.status_code == 401
    assert newest.json() == REFUSED
    # The victim signs in again with the password and carries on.
    assert (await users.login(victim.email)).status_code == 200


async def test_a_thief_who_rotates_first_loses_the_family_when_the_victim_rotates(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    """The thief uses the copy first; the victim's later use is the reuse that ends both."""
    victim = await users.signed_in()
    thief = (await _rotate(client, victim.refresh_token)).json()
    assert await _status(client, thief["access_token"]) == 200

    victims_turn = await _rotate(client, victim.refresh_token)
    assert victims_turn.status_code == 401
    assert await _status(client, thief["access_token"]) == 401
    assert (await _rotate(client, thief["refresh_token"])).status_code == 401


async def test_a_reuse_ends_only_that_sign_in(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    """The same user's other devices are other families and stay signed in."""
    phone = await users.signed_in()
    laptop = (await users.login(phone.email)).json()
    await _rotate(client, phone.refresh_token)
    assert (await _rotate(client, phone.refresh_token)).status_code == 401

    assert await _status(client, laptop["access_token"]) == 200
    assert (await _rotate(client, laptop["refresh_token"])).status_code == 200


async def test_another_users_family_is_untouched(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    mallory = await users.signed_in()
    alice = await users.signed_in()
    await _rotate(client, mallory.refresh_token)
    assert (await _rotate(client, mallory.refresh_token)).status_code == 401
    assert await _status(client, alice.access_token) == 200
    assert (await _rotate(client, alice.refresh_token)).status_code == 200


# --- stale sessions: password, role and active-flag changes -----------------------------


async def _two_sign_ins(users: UserFactory) -> tuple[SignedInUser, dict[str, Any]]:
    user = await users.signed_in()
    second = (await users.login(user.email)).json()
    return user, second


async def _assert_all_ended(
    client: httpx.AsyncClient, user: SignedInUser, second: dict[str, Any]
) -> None:
    for token in (user.access_token, second["access_token"]):
        response = await client.get(ME, headers=bearer(token))
        assert response.status_code == 401
        assert response.json() == {"detail": SESSION_ENDED}
    for token in (user.refresh_token, second["refresh_token"]):
        response = await _rotate(client, token)
        assert response.status_code == 401


async def test_changing_ones_password_ends_every_session(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    """Whoever learnt the old password and signed in with it is out once it changes."""
    user, attacker = await _two_sign_ins(users)
    changed = await client.patch(ME, headers=user.headers, json={"password": "new-secret-99"})
    assert changed.status_code == 200
    await _assert_all_ended(client, user, attacker)
    assert (await users.login(user.email, DEFAULT_PASSWORD)).status_code == 401
    fresh = await users.login(user.email, "new-secret-99")
    assert fresh.status_code == 200
    assert await _status(client, fresh.json()["access_token"]) == 200


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"password": "reset-by-admin-7"}, id="password-reset"),
        pytest.param({"is_active": False}, id="deactivated"),
        pytest.param({"role": "admin"}, id="promoted"),
    ],
)
async def test_an_admin_change_ends_the_users_sessions(
    client: httpx.AsyncClient, users: UserFactory, change: dict[str, Any]
) -> None:
    admin = await users.signed_in(admin=True)
    user, second = await _two_sign_ins(users)
    response = await client.patch(f"{USERS}/{user.id}", headers=admin.headers, json=change)
    assert response.status_code == 200
    for token in (user.access_token, second["access_token"]):
        assert await _status(client, token) == 401
    for token in (user.refresh_token, second["refresh_token"]):
        assert (await _rotate(client, token)).status_code == 401
    assert await _status(client, admin.access_token) == 200


async def test_a_demoted_admin_loses_admin_access_at_once(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    """Demotion is not left to the access token's expiry: the old token stops working."""
    admin = await users.signed_in(admin=True)
    other_admin = await users.signed_in(admin=True)
    demoted = await client.patch(
        f"{USERS}/{other_admin.id}", headers=admin.headers, json={"role": "user"}
    )
    assert demoted.status_code == 200
    assert (await client.get(USERS, headers=other_admin.headers)).status_code == 401
    relogin = (await users.login(other_admin.email)).json()
    assert (await client.get(USERS, headers=bearer(relogin["access_token"]))).status_code == 403


async def test_a_name_change_keeps_sessions(client: httpx.AsyncClient, users: UserFactory) -> None:
    user, second = await _two_sign_ins(users)
    renamed = await client.patch(ME, headers=user.headers, json={"full_name": "Still Me"})
    assert renamed.status_code == 200
    assert await _status(client, user.access_token) == 200
    assert await _status(client, second["access_token"]) == 200
    assert (await _rotate(client, second["refresh_token"])).status_code == 200


async def test_a_re_enabled_user_needs_a_new_sign_in(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    """Turning an account off and on again must not revive the tokens it had."""
    admin = await users.signed_in(admin=True)
    user = await users.signed_in()
    for active in (False, True):
        response = await client.patch(
            f"{USERS}/{user.id}", headers=admin.headers, json={"is_active": active}
        )
        assert response.status_code == 200
    assert await _status(client, user.access_token) == 401
    assert (await _rotate(client, user.refresh_token)).status_code == 401
    assert (await users.login(user.email)).status_code == 200


# --- tokens dated in the future ---------------------------------------------------------


@pytest.mark.parametrize(
    "ahead",
    [
        pytest.param({"iat": CLOCK_SKEW_SECONDS + 60}, id="iat-future"),
        pytest.param({"nbf": CLOCK_SKEW_SECONDS + 60}, id="nbf-future"),
        pytest.param({"iat": 365 * 86_400, "exp": 366 * 86_400}, id="minted-for-next-year"),
    ],
)
async def test_tokens_dated_in_the_future_are_refused(
    client: httpx.AsyncClient, me: SignedInUser, settings: Settings, ahead: dict[str, int]
) -> None:
    """A key holder cannot stockpile tokens that only become valid later."""
    claims = {name: seconds_from_now(seconds) for name, seconds in ahead.items()}
    response = await client.get(ME, headers=bearer(forge(settings, me.id, **claims)))
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


async def test_a_token_within_the_clock_skew_is_accepted(
    client: httpx.AsyncClient, me: SignedInUser, settings: Settings
) -> None:
    """The control: a few seconds of difference between servers' clocks is tolerated."""
    ahead = seconds_from_now(CLOCK_SKEW_SECONDS // 2)
    token = forge(settings, me.id, iat=ahead, nbf=ahead)
    assert await _status(client, token) == 200


# --- the last administrator -------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"role": "user"}, id="demote"),
        pytest.param({"is_active": False}, id="deactivate"),
        pytest.param({"role": "user", "is_active": False}, id="both"),
    ],
)
async def test_the_last_admin_cannot_lock_everyone_out(
    client: httpx.AsyncClient, users: UserFactory, change: dict[str, Any]
) -> None:
    admin = await users.signed_in(admin=True)
    ordinary = await users.signed_in()
    response = await client.patch(f"{USERS}/{admin.id}", headers=admin.headers, json=change)
    assert response.status_code == 409
    assert response.json() == {"detail": LAST_ADMIN}
    # Nothing changed and nothing ended: the admin still administers.
    me = await client.get(ME, headers=admin.headers)
    assert me.status_code == 200
    assert (me.json()["role"], me.json()["is_active"]) == ("admin", True)
    assert (await client.get(USERS, headers=admin.headers)).status_code == 200
    assert (await client.get(ME, headers=ordinary.headers)).json()["role"] == "user"


async def test_an_inactive_admin_does_not_count(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    admin = await users.signed_in(admin=True)
    dormant = await users.signed_in(admin=True)
    await users.deactivate(dormant.email)
    response = await client.patch(
        f"{USERS}/{admin.id}", headers=admin.headers, json={"role": "user"}
    )
    assert response.status_code == 409


async def test_an_admin_may_step_down_while_another_remains(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    first = await users.signed_in(admin=True)
    second = await users.signed_in(admin=True)
    stepped_down = await client.patch(
        f"{USERS}/{first.id}", headers=first.headers, json={"role": "user"}
    )
    assert stepped_down.status_code == 200
    assert stepped_down.json()["role"] == "user"
    # Now `second` is the last one, and cannot leave either.
    last = await client.patch(f"{USERS}/{second.id}", headers=second.headers, json={"role": "user"})
    assert last.status_code == 409
    # Harmless changes to the last admin still go through.
    renamed = await client.patch(
        f"{USERS}/{second.id}", headers=second.headers, json={"full_name": "Root", "role": "admin"}
    )
    assert renamed.status_code == 200


async def test_two_admins_demoting_each_other_at_once_leave_one(
    client: httpx.AsyncClient, users: UserFactory
) -> None:
    """Both requests check "another admin remains" at the same moment; only one may win."""
    first = await users.signed_in(admin=True)
    second = await users.signed_in(admin=True)
    responses = await asyncio.gather(
        client.patch(f"{USERS}/{second.id}", headers=first.headers, json={"role": "user"}),
        client.patch(f"{USERS}/{first.id}", headers=second.headers, json={"role": "user"}),
    )
    assert sorted(r.status_code for r in responses) in ([200, 401], [200, 409])
    roles = [(await users.login(user.email)).json()["access_token"] for user in (first, second)]
    admins = [
        (await client.get(ME, headers=bearer(token))).json()["role"] == "admin" for token in roles
    ]
    assert admins.count(True) == 1
