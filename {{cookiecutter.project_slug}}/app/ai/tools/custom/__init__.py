"""Your own tools live here, apart from the built-ins, so updates to those never collide.

Each tool is a module in this folder (one `Tool` subclass, with its arguments model)
and one `ToolEntry` line in `catalog.py`, which also says how the tool is built from
settings when it needs any. The default registry offers these after the built-ins;
a name already taken is refused at startup. AGENTS.md ("Add a tool") walks through one.
"""
