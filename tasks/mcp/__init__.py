"""guiagent as an MCP server: another agent (Claude Desktop, Claude Code, any MCP client) operates a phone or a
desktop through guiagent's session steps, agent runs and replays (``guiagent mcp --device D``).

Built on the official ``mcp`` SDK (``MCPServer``, stdio and streamable HTTP; ``pip install 'guiagent[mcp]'``).
``server.py`` holds the device, its ``Session`` and the results; ``tools.py`` the tools; ``runs.py`` the tools
that are whole runs; ``jobs.py`` how a call asks the client's person to confirm a risky action in the middle of
a step, on both sides of the 2026-07-28 protocol change.
"""

from __future__ import annotations

from .server import GuiAgentServer, ServerOptions

__all__ = ["GuiAgentServer", "ServerOptions"]
