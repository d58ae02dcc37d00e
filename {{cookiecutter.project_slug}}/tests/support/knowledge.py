"""Knowledge bases through the HTTP API: create one, upload to it, wait for indexing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.waiting import wait_for

BASES = "/api/v1/knowledge-bases"


async def create_base(
    client: httpx.AsyncClient, headers: dict[str, str], name: str = "handbook"
) -> dict[str, Any]:
    """A new base of the signed-in user, as the API answers it."""
    response = await client.post(BASES, json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    base_id: str,
    content: bytes,
    *,
    name: str = "notes.md",
    content_type: str = "text/markdown",
) -> httpx.Response:
    """POST one file to the base's documents, as a browser form or curl -F would."""
    return await client.post(
        f"{BASES}/{base_id}/documents",
        files={"file": (name, content, content_type)},
        headers=headers,
    )


async def settled(
    client: httpx.AsyncClient, headers: dict[str, str], base_id: str, document_id: str
) -> dict[str, Any]:
    """The document once indexing has ended, `indexed` or `failed`."""
    url = f"{BASES}/{base_id}/documents/{document_id}"
    latest: dict[str, Any] = {}

    async def done() -> bool:
        nonlocal latest
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        latest = response.json()
        return bool(latest["status"] != "pending")

    await wait_for(done, message=f"document {document_id} still pending")
    return latest


async def indexed(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    base_id: str,
    content: bytes,
    *,
    name: str = "notes.md",
    content_type: str = "text/markdown",
) -> dict[str, Any]:
    """Upload a document and wait until it is indexed."""
    response = await upload(client, headers, base_id, content, name=name, content_type=content_type)
    assert response.status_code == 202, response.text
    document = await settled(client, headers, base_id, response.json()["id"])
    assert document["status"] == "indexed", document
    return document
