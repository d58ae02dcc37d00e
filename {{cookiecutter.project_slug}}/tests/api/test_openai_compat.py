"""The official OpenAI SDK, pointed at a real server, talks to an agent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from tests.support.live_server import running_server

openai = pytest.importorskip("openai")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(settings: Settings) -> Iterator[dict[str, Any]]:
    """A running server, a signed-in user and one scripted agent of theirs."""
    with running_server(settings) as url, httpx.Client(base_url=url, timeout=30) as http:
        email = f"sdk-{time.monotonic_ns()}@example.com"
        http.post("/api/v1/auth/register", json={"email": email, "password": "correct-horse-42"})
        token = http.post(
            "/api/v1/auth/login", data={"username": email, "password": "correct-horse-42"}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        agent = http.post(
            "/api/v1/agents",
            json={
                "name": "calc-bot",
                "provider": "scripted",
                "model": "scripted",
                "tools": ["calculator"],
            },
            headers=headers,
        ).json()
        yield {"url": url, "token": token, "agent": agent, "headers": headers}


@pytest.fixture(autouse=True)
def _clean_state() -> None:
    """These tests share one user and agent on the live server, so rows are kept."""


def _client(live: dict[str, Any], token: str | None = None) -> Any:
    return openai.OpenAI(
        base_url=f"{live['url']}/v1", api_key=token or live["token"], max_retries=0
    )


def test_plain_completion_by_agent_name(live: dict[str, Any]) -> None:
    completion = _client(live).chat.completions.create(
        model="calc-bot", messages=[{"role": "user", "content": "hello sdk"}]
    )

    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "[scripted] hello sdk"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens > 0


def test_agent_id_works_as_model_and_tools_run_server_side(live: dict[str, Any]) -> None:
    completion = _client(live).chat.completions.create(
        model=live["agent"]["id"],
        messages=[
            {"role": "system", "content": "ignored: the agent has its own prompt"},
            {"role": "user", "content": '!tool calculator {"expression": "2**10"}'},
        ],
    )

    assert "1024" in (completion.choices[0].message.content or "")


def test_streaming_completion(live: dict[str, Any]) -> None:
    stream = _client(live).chat.completions.create(
        model="calc-bot",
        messages=[{"role": "user", "content": "stream these words please"}],
        stream=True,
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "[scripted] stream these words please"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_history_is_passed_to_the_agent(live: dict[str, Any]) -> None:
    completion = _client(live).chat.completions.create(
        model="calc-bot",
        messages=[
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": "noted"},
            {"role": "user", "content": "now"},
        ],
    )
    conversation_id = _latest_conversation(live)
    messages = httpx.get(
        f"{live['url']}/api/v1/conversations/{conversation_id}/messages",
        headers=live["headers"],
    ).json()["items"]

    assert completion.choices[0].message.content == "[scripted] now"
    assert [m["content"] for m in messages][:3] == ["earlier", "noted", "now"]


def test_unknown_agent_and_bad_token_are_client_errors(live: dict[str, Any]) -> None:
    with pytest.raises(openai.NotFoundError):
        _client(live).chat.completions.create(
            model="no-such-agent", messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(openai.AuthenticationError):
        _client(live, token="not-a-token").chat.completions.create(
            model="calc-bot", messages=[{"role": "user", "content": "hi"}]
        )


def test_models_list_and_retrieve_the_agents(live: dict[str, Any]) -> None:
    client = _client(live)

    listed = [model.id for model in client.models.list()]
    retrieved = client.models.retrieve("calc-bot")

    assert "calc-bot" in listed
    assert retrieved.id == "calc-bot"
    assert retrieved.owned_by == "scripted"


def test_errors_reach_the_sdk_with_their_message(live: dict[str, Any]) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        _client(live).models.retrieve("no-such-agent")
    with pytest.raises(openai.UnprocessableEntityError) as invalid:
        _client(live).chat.completions.create(model="calc-bot", messages=[])

    assert missing.value.type == "not_found_error"
    assert "No agent with id or name 'no-such-agent'" in missing.value.message
    assert invalid.value.param == "messages"


def test_an_api_key_works_as_the_sdk_key(live: dict[str, Any]) -> None:
    created = httpx.post(
        f"{live['url']}/api/v1/api-keys", json={"name": "sdk"}, headers=live["headers"]
    ).json()

    completion = _client(live, token=created["key"]).chat.completions.create(
        model="calc-bot", messages=[{"role": "user", "content": "by key"}]
    )

    assert completion.choices[0].message.content == "[scripted] by key"


def test_provider_failure_surfaces_as_an_api_error(live: dict[str, Any]) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        _client(live).chat.completions.create(
            model="calc-bot", messages=[{"role": "user", "content": "!error unavailable"}]
        )

    assert caught.value.status_code == 502


def _latest_conversation(live: dict[str, Any]) -> str:
    listing = httpx.get(f"{live['url']}/api/v1/conversations", headers=live["headers"]).json()
    return str(listing["items"][0]["id"])
