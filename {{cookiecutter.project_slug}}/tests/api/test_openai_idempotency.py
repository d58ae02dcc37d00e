"""Idempotency-Key on `POST /v1/chat/completions`: a repeat answers with the run it started."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.support.runs import create_agent, executions_of, parse_sse, scripted_calls

URL = "/v1/chat/completions"


async def _complete(
    client: httpx.AsyncClient, headers: dict[str, str], key: str, **body: Any
) -> httpx.Response:
    return await client.post(URL, json=body, headers={**headers, "Idempotency-Key": key})


def _said(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def test_a_repeated_completion_is_the_first_one(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    marker = uuid.uuid4().hex
    body = {"model": agent["name"], "messages": _said(f"hi {marker}")}

    first = await _complete(client, auth_headers, "chat-1", **body)
    second = await _complete(client, auth_headers, "chat-1", **body)

    assert first.status_code == second.status_code == 200, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["choices"] == first.json()["choices"]
    assert second.json()["usage"] == first.json()["usage"]
    assert first.json()["choices"][0]["message"]["content"] == f"[scripted] hi {marker}"
    assert scripted_calls(app, marker) == 1
    assert len(await executions_of(client, auth_headers)) == 1


async def test_a_repeated_failure_fails_the_same_way_without_a_second_call(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    marker = uuid.uuid4().hex
    body = {"model": agent["name"], "messages": _said(f"!error rate_limited\n{marker}")}

    first = await _complete(client, auth_headers, "fails", **body)
    second = await _complete(client, auth_headers, "fails", **body)

    assert first.status_code == second.status_code == 429
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert scripted_calls(app, marker) == 1


async def test_a_repeated_stream_sends_the_whole_answer(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    marker = uuid.uuid4().hex
    body = {"model": agent["name"], "messages": _said(f"stream {marker}"), "stream": True}

    first = parse_sse((await _complete(client, auth_headers, "streamed", **body)).text)
    repeat = await _complete(client, auth_headers, "streamed", **body)

    replayed = parse_sse(repeat.text)
    assert repeat.headers["idempotent-replayed"] == "true"
    assert replayed[-1] == ("message", "[DONE]")
    chunks = [data for _, data in replayed[:-1]]
    assert {chunk["id"] for chunk in chunks} == {first[0][1]["id"]}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks)
    assert text == f"[scripted] stream {marker}"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert scripted_calls(app, marker) == 1


async def test_a_key_sent_with_other_messages_is_refused_in_openais_shape(
    client: httpx.AsyncClient, auth_headers: dict[str, str], app: FastAPI
) -> None:
    agent = await create_agent(client, auth_headers)
    marker = uuid.uuid4().hex
    await _complete(client, auth_headers, "k", model=agent["name"], messages=_said("one"))

    refused = await _complete(
        client, auth_headers, "k", model=agent["name"], messages=_said(marker)
    )
    malformed = await _complete(
        client, auth_headers, "tab\there", model=agent["name"], messages=_said("one")
    )

    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "header.Idempotency-Key"
    assert "already used for a different request" in error["message"]
    assert malformed.status_code == 422
    assert "printable ASCII" in malformed.json()["error"]["message"]
    assert scripted_calls(app, marker) == 0
