"""The bare app `make bench` compares against answers its routes as ours do."""

from __future__ import annotations

import httpx

from scripts.bare_app import PASSWORD, app


async def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bare")


async def test_health_and_the_profile_answer_like_ours() -> None:
    async with await _client() as http:
        health = await http.get("/health")
        me = await http.get("/api/v1/users/me", headers={"Authorization": "Bearer x"})

    assert health.json() == {"status": "ok"}
    assert set(me.json()) == {
        "id",
        "email",
        "full_name",
        "role",
        "is_active",
        "created_at",
        "updated_at",
    }


async def test_login_checks_the_password() -> None:
    async with await _client() as http:
        right = await http.post(
            "/api/v1/auth/login", data={"username": "a@example.com", "password": PASSWORD}
        )
        wrong = await http.post(
            "/api/v1/auth/login", data={"username": "a@example.com", "password": "wrong-1"}
        )

    assert right.status_code == 200
    assert right.json()["token_type"] == "bearer"
    assert wrong.status_code == 401


async def test_stream_sends_one_event_and_ends() -> None:
    async with await _client() as http:
        answer = await http.post("/stream")

    assert answer.headers["content-type"].startswith("text/event-stream")
    assert answer.text.count("\n\n") == 1
