"""MCP both ways: agents call tools of users' MCP servers; /mcp serves agents to MCP clients."""
