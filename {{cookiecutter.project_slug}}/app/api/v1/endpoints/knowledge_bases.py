"""The active organisation's knowledge bases, and searching them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from app.ai.knowledge import repository, retrieval
from app.api.access import Access, require
from app.api.deps import EmbeddersDep, PaginationDep, SessionDep, SettingsDep
from app.api.v1.resources import KnowledgeBaseDep
from app.crud.base import apply_changes
from app.models import KnowledgeBase
from app.schemas.common import Page
from app.schemas.knowledge import (
    KnowledgeBaseCreate,
    KnowledgeBaseRead,
    KnowledgeBaseUpdate,
    SearchHit,
    SearchRequest,
    SearchResponse,
)

router = APIRouter(prefix="/knowledge-bases", tags=["knowledge"])

CanRead = Annotated[Access, require("knowledge:read")]
CanWrite = Annotated[Access, require("knowledge:write")]


@router.get("", response_model=Page[KnowledgeBaseRead])
async def list_knowledge_bases(
    access: CanRead, session: SessionDep, page: PaginationDep
) -> Page[KnowledgeBaseRead]:
    """The organisation's knowledge bases, newest first."""
    bases, total = await repository.list_bases(
        session, organization_id=access.organization_id, skip=page.skip, limit=page.limit
    )
    return Page[KnowledgeBaseRead].of(bases, total, page)


@router.post("", response_model=KnowledgeBaseRead, status_code=status.HTTP_201_CREATED)
async def create_knowledge_base(
    access: CanWrite, payload: KnowledgeBaseCreate, session: SessionDep, embedders: EmbeddersDep
) -> KnowledgeBase:
    """An empty base, embedded with the service's embedding model from now on."""
    return await repository.create_base(
        session,
        organization_id=access.organization_id,
        owner_id=access.user_id,
        name=payload.name,
        description=payload.description,
        embedder=embedders.get(),
    )


@router.get("/{base_id}", response_model=KnowledgeBaseRead)
async def read_knowledge_base(_: CanRead, base: KnowledgeBaseDep) -> KnowledgeBase:
    """One of the organisation's knowledge bases."""
    return base


@router.patch("/{base_id}", response_model=KnowledgeBaseRead)
async def update_knowledge_base(
    _: CanWrite, payload: KnowledgeBaseUpdate, base: KnowledgeBaseDep, session: SessionDep
) -> KnowledgeBase:
    """Rename the base or change its description."""
    return await apply_changes(session, base, payload.changes())


@router.delete("/{base_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_knowledge_base(_: CanWrite, base: KnowledgeBaseDep, session: SessionDep) -> None:
    """Delete the base with its documents and chunks; agents linked to it lose the link."""
    await repository.delete_base(session, organization_id=base.organization_id, base_id=base.id)


@router.post("/{base_id}/search", response_model=SearchResponse)
async def search_knowledge_base(
    _: CanRead,
    payload: SearchRequest,
    base: KnowledgeBaseDep,
    session: SessionDep,
    embedders: EmbeddersDep,
    settings: SettingsDep,
) -> SearchResponse:
    """The chunks that best answer the query: vector and full-text rankings, fused."""
    results = await retrieval.search(
        session,
        embedders.get(),
        organization_id=base.organization_id,
        base_ids=[base.id],
        query=payload.query,
        top_k=payload.top_k,
        min_score=payload.min_score,
        candidates=settings.knowledge_search_candidates,
    )
    return SearchResponse(
        results=[
            SearchHit(
                chunk_id=result.chunk_id,
                document_id=result.document_id,
                base_id=result.base_id,
                position=result.position,
                heading=result.heading,
                text=result.text,
                source=result.source,
                source_url=result.source_url,
                score=result.score,
            )
            for result in results
        ]
    )
