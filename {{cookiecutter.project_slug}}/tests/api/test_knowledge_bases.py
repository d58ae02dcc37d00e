"""Knowledge bases over HTTP: owned like agents, searched with hybrid retrieval."""

from __future__ import annotations

import httpx

from tests.support.factories import SignedInUser
from tests.support.knowledge import BASES, create_base, indexed

TIDES = b"# Tides\nSpring tides have the largest range, when the Sun and Moon line up."
BEES = b"# Bees\nWorker bees forage for nectar and pollen and guard the hive entrance."


async def test_a_base_is_created_listed_renamed_and_deleted(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    base = await create_base(client, me.headers, "handbook")
    assert base["embedding_model"] == "hashing-v1"
    assert base["embedding_dimension"] > 0

    listed = (await client.get(BASES, headers=me.headers)).json()
    renamed = await client.patch(
        f"{BASES}/{base['id']}", json={"name": "manual"}, headers=me.headers
    )
    deleted = await client.delete(f"{BASES}/{base['id']}", headers=me.headers)
    after = await client.get(f"{BASES}/{base['id']}", headers=me.headers)

    assert [item["id"] for item in listed["items"]] == [base["id"]]
    assert renamed.json()["name"] == "manual"
    assert deleted.status_code == 204
    assert after.status_code == 404


async def test_search_returns_the_answering_chunk_with_its_source(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    base = await create_base(client, me.headers)
    tides = await indexed(client, me.headers, base["id"], TIDES, name="tides.md")
    await indexed(client, me.headers, base["id"], BEES, name="bees.md")

    response = await client.post(
        f"{BASES}/{base['id']}/search",
        json={"query": "when is the tidal range largest?", "top_k": 1},
        headers=me.headers,
    )

    assert response.status_code == 200, response.text
    [hit] = response.json()["results"]
    assert hit["source"] == "tides.md"
    assert hit["document_id"] == tides["id"]
    assert hit["heading"] == "Tides"
    assert isinstance(hit["chunk_id"], int)
    assert 0 < hit["score"] <= 1


async def test_min_score_leaves_out_weak_matches(
    client: httpx.AsyncClient, me: SignedInUser
) -> None:
    base = await create_base(client, me.headers)
    await indexed(client, me.headers, base["id"], TIDES, name="tides.md")
    await indexed(client, me.headers, base["id"], BEES, name="bees.md")
    query = {"query": "spring tides range sun moon", "top_k": 5}

    everything = await client.post(f"{BASES}/{base['id']}/search", json=query, headers=me.headers)
    strict = await client.post(
        f"{BASES}/{base['id']}/search", json=query | {"min_score": 0.9}, headers=me.headers
    )

    assert {hit["source"] for hit in everything.json()["results"]} == {"tides.md", "bees.md"}
    assert [hit["source"] for hit in strict.json()["results"]] == ["tides.md"]


async def test_a_blank_query_is_refused(client: httpx.AsyncClient, me: SignedInUser) -> None:
    base = await create_base(client, me.headers)

    response = await client.post(
        f"{BASES}/{base['id']}/search", json={"query": "   "}, headers=me.headers
    )

    assert response.status_code == 422


async def test_another_users_base_is_not_listed_and_its_search_is_not_found(
    client: httpx.AsyncClient, me: SignedInUser, stranger: SignedInUser
) -> None:
    base = await create_base(client, me.headers)
    await indexed(client, me.headers, base["id"], TIDES, name="tides.md")

    listed = await client.get(BASES, headers=stranger.headers)
    searched = await client.post(
        f"{BASES}/{base['id']}/search", json={"query": "tides"}, headers=stranger.headers
    )

    assert listed.json()["total"] == 0
    assert searched.status_code == 404
    assert "tides" not in searched.text.lower()
