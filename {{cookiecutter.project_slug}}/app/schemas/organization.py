"""Organisation, member and invitation schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, EmailStr, Field, StringConstraints

from app.models.organization import Role
from app.schemas.common import ReadModel, reject_nul

OrganizationName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(reject_nul),
]


class OrganizationCreate(BaseModel):
    """A new organisation; its creator becomes its owner."""

    name: OrganizationName


class OrganizationUpdate(BaseModel):
    """A new name."""

    name: OrganizationName


class OrganizationRead(ReadModel):
    """An organisation as one of its members sees it, with their role in it."""

    id: uuid.UUID
    name: str
    is_personal: bool
    role: Role = Field(description="Your role in this organization")
    created_at: datetime


class MemberRead(ReadModel):
    """A member and their role."""

    user_id: uuid.UUID
    email: str
    role: Role
    created_at: datetime = Field(description="When they joined")


class MemberUpdate(BaseModel):
    """A member's new role."""

    role: Role


class InvitationCreate(BaseModel):
    """Who to invite, as what, and for how long the token works."""

    email: EmailStr
    role: Role = Role.MEMBER
    expires_in_days: int = Field(default=7, ge=1, le=30)


class InvitationRead(ReadModel):
    """A pending invitation, without its token."""

    id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime


class InvitationCreated(InvitationRead):
    """The new invitation with its token: shown this once, to send to the invitee."""

    token: str


class InvitationAccept(BaseModel):
    """The token from an invitation addressed to your email."""

    token: str = Field(min_length=1, max_length=200)
