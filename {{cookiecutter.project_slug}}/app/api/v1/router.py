"""Every versioned route, mounted under the API prefix."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.v1.endpoints import (
    agents,
    api_keys,
    auth,
    conversations,
    executions,
    runs,
    tools,
    users,
)

api_router = APIRouter()
api_router.include_router(auth.router)
api_router.include_router(users.router)
api_router.include_router(api_keys.router)
api_router.include_router(agents.router)
api_router.include_router(conversations.router)
api_router.include_router(executions.router)
api_router.include_router(runs.router)
api_router.include_router(tools.router)
