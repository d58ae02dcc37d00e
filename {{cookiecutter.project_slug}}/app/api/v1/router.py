"""Every versioned route, mounted under the API prefix."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.v1.endpoints import (
    agent_templates,
    agent_versions,
    agents,
    api_keys,
    audit,
    auth,
    budgets,
    conversations,
    executions,
    invitations,
    knowledge_bases,
    knowledge_documents,
    mcp_connections,
    members,
    memories,
    organizations,
    runs,
    tools,
    usage,
    users,
    workflow_runs,
    workflows,
)

api_router = APIRouter()
api_router.include_router(auth.router)
api_router.include_router(users.router)
api_router.include_router(api_keys.router)
api_router.include_router(organizations.router)
api_router.include_router(members.router)
api_router.include_router(invitations.router)
api_router.include_router(agent_templates.router)
api_router.include_router(agents.router)
api_router.include_router(agent_versions.router)
api_router.include_router(conversations.router)
api_router.include_router(executions.router)
api_router.include_router(runs.router)
api_router.include_router(tools.router)
api_router.include_router(knowledge_bases.router)
api_router.include_router(knowledge_documents.router)
api_router.include_router(memories.router)
api_router.include_router(mcp_connections.router)
api_router.include_router(workflows.router)
api_router.include_router(workflow_runs.router)
api_router.include_router(audit.router)
api_router.include_router(audit.admin_router)
api_router.include_router(budgets.router)
api_router.include_router(budgets.organization_router)
api_router.include_router(usage.router)
