"""The agent pipe's resources: one MCP connection per configuration, closed when it changes and
at shutdown (no stray server processes)."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path

from pipekit.agents.pipe import ReactAgentPipe
from pipekit.pipe import ChatRequest

PID_SERVER = """
import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

with open(sys.argv[1], "a") as pids:
    pids.write(f"{os.getpid()}\\n")

server = MCPServer("pid")


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def whoami() -> str:
    \"\"\"The server's process id.\"\"\"
    return str(os.getpid())


server.run()
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_mcp_connection_is_reused_replaced_on_change_and_closed_at_shutdown(tmp_path):
    script = tmp_path / "pid_server.py"
    script.write_text(PID_SERVER, encoding="utf-8")
    pids = tmp_path / "pids"

    def config(**extra) -> str:
        return json.dumps(
            [{"name": "pid", "command": sys.executable, "args": [str(script), str(pids)], **extra}]
        )

    pipe = ReactAgentPipe()
    request = ChatRequest(model_id="react_agent", messages=[{"role": "user", "content": "hi"}])
    pipe.valves = pipe.Valves(mcp_servers=config())
    for _ in range(3):  # three chats, one server process
        tools, problems = pipe.tools_for(request)
        assert problems == [] and "whoami" in [t.name for t in tools]
    first_pid = int(pids.read_text().split()[0])
    whoami = next(t for t in tools if t.name == "whoami")
    assert whoami.invoke({}).text.strip() == str(first_pid)
    assert len(pids.read_text().split()) == 1

    pipe.valves = pipe.Valves(mcp_servers=config(prefix="p_"))
    tools, _ = pipe.tools_for(request)
    assert "p_whoami" in [t.name for t in tools]
    assert wait_gone(first_pid)  # the old configuration's server was stopped
    second_pid = int(pids.read_text().split()[1])
    assert alive(second_pid)

    asyncio.run(pipe.on_shutdown())
    assert wait_gone(second_pid)


def test_shutdown_closes_the_mcp_clients_off_the_event_loop(monkeypatch):
    pipe = ReactAgentPipe()
    closed_in = []
    monkeypatch.setattr(pipe.tool_sources, "close", lambda: closed_in.append(threading.get_ident()))

    async def shutdown() -> int:
        await pipe.on_shutdown()
        return threading.get_ident()

    loop_thread = asyncio.run(shutdown())
    assert closed_in and closed_in[0] != loop_thread
