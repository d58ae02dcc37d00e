"""Knowledge base schemas: bases, their documents, and search requests and results."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from app.models import DocumentStatus
from app.schemas.common import PartialUpdate, ReadModel, reject_nul

BaseName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(reject_nul),
]
BaseDescription = Annotated[str, StringConstraints(max_length=2_000), AfterValidator(reject_nul)]
Query = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000),
    AfterValidator(reject_nul),
]


class KnowledgeBaseCreate(BaseModel):
    """A new, empty base; it is embedded with the service's current embedding model."""

    name: BaseName
    description: BaseDescription | None = None


class KnowledgeBaseUpdate(PartialUpdate):
    """A rename or a new description; the embedding model never changes in place."""

    nullable = frozenset({"description"})

    name: BaseName | None = None
    description: BaseDescription | None = None


class KnowledgeBaseRead(ReadModel):
    """A base as its owner sees it, with the model its vectors come from."""

    id: uuid.UUID
    organization_id: uuid.UUID = Field(description="The organisation it belongs to")
    name: str
    description: str | None
    embedding_model: str
    embedding_dimension: int
    created_at: datetime
    updated_at: datetime


class DocumentRead(ReadModel):
    """A document and how far its indexing got: `pending`, `indexed`, or `failed` and why."""

    id: uuid.UUID
    base_id: uuid.UUID
    source_name: str
    source_url: str | None
    content_type: str
    size_bytes: int
    status: DocumentStatus
    failure_reason: str | None
    chunk_count: int
    indexed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SearchRequest(BaseModel):
    """A question for one base, how many chunks to return, and an optional score floor."""

    query: Query
    top_k: int = Field(default=5, ge=1, le=50)
    min_score: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Leave out chunks below this fused score (1.0: first in both rankings)",
    )


class SearchHit(BaseModel):
    """One retrieved chunk, with what a citation needs."""

    chunk_id: int
    document_id: uuid.UUID
    base_id: uuid.UUID
    position: int = Field(description="The chunk's place in its document, from 0")
    heading: str | None
    text: str
    source: str = Field(description="The document's file name, or its URL's last part")
    source_url: str | None
    score: float


class SearchResponse(BaseModel):
    """The chunks that best answer the query, best first."""

    results: list[SearchHit]


class MemoryRead(ReadModel):
    """A fact an agent keeps about you; erase it with DELETE /memories/{id}."""

    id: uuid.UUID
    agent_id: uuid.UUID | None = Field(description="The agent that kept it; null: a direct call")
    text: str
    created_at: datetime
    updated_at: datetime = Field(description="When it was last remembered")
    recalled_at: datetime | None = Field(description="When an agent last recalled it")
