"""The ReAct agent through `pipekit serve`: built-in tools, ReAct text mode, MCP servers, RAG."""

from __future__ import annotations

import json
import sys

from pipekit.testing.fake_base import Reply
from tests.agents.conftest import answer_text, statuses

# A one-tool MCP server over stdio, as users configure third-party ones.
DICE_SERVER = """
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("dice")


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def roll_dice(sides: int) -> str:
    \"\"\"Roll a die with this many sides.\"\"\"
    return f"rolled {sides - 2} on a d{sides}"


@server.tool()
def reset_scores() -> str:
    \"\"\"Reset every player's score (not marked read-only: may write).\"\"\"
    return "scores reset"


server.run()
"""


def test_native_calculator_and_time_tools(world):
    world.ollama.script(
        Reply(tool_calls=[{"name": "calculator", "arguments": {"expression": "(17.5 * 3) / 4"}}]),
        Reply(tool_calls=[{"name": "current_time", "arguments": {"timezone": "Asia/Seoul"}}]),
        Reply(content="It is 13.125, and it is evening in Seoul."),
    )
    response = world.chat("react_agent", "What is (17.5*3)/4, and what time is it in Seoul?")
    first, second, third = world.model_requests()
    offered = {item["function"]["name"] for item in first["tools"]}
    assert offered == {"web_search", "fetch_page", "calculator", "current_time"}
    assert "(17.5 * 3) / 4 = 13.125" in second["messages"][-1]["content"]
    assert "in Asia/Seoul" in third["messages"][-1]["content"]
    assert "KST" in third["messages"][-1]["content"]
    assert "Calculating (17.5 * 3) / 4" in statuses(response)
    assert "Checking the time in Asia/Seoul" in statuses(response)
    assert answer_text(response).startswith("It is 13.125")


def test_unsafe_calculator_input_is_an_error_not_code(world):
    world.ollama.script(
        Reply(
            tool_calls=[
                {"name": "calculator", "arguments": {"expression": "__import__('os').getcwd()"}}
            ]
        ),
        Reply(content="I cannot run that."),
    )
    world.chat("react_agent", "Run this")
    result = world.model_requests()[1]["messages"][-1]["content"]
    assert result.startswith("Error: calculator failed: Cannot evaluate")
    assert "'__import__' not defined" in result  # nothing was imported, nothing ran


def test_react_mode_valve_uses_text_prompts(world):
    world.set_valves("react_agent", react_mode=True)
    world.ollama.script(
        Reply(
            content="Thought: I should compute it.\nAction: calculator\n"
            'Action Input: {"expression": "17 * 3"}'
        ),
        Reply(content="Final Answer: 17 times 3 is 51."),
    )
    response = world.chat("react_agent", "What is 17 times 3?")
    first, second = world.model_requests()
    assert not first.get("tools")  # no native tool calling at all
    assert "Action Input" in first["messages"][0]["content"]
    assert "calculator" in first["messages"][0]["content"]
    assert second["messages"][-1]["content"].startswith("Observation:")
    assert "17 * 3 = 51" in second["messages"][-1]["content"]
    assert "I should compute it." in statuses(response)
    assert answer_text(response).startswith("17 times 3 is 51.")


def test_mcp_server_tools_are_offered_and_run(world, tmp_path):
    script = tmp_path / "dice_server.py"
    script.write_text(DICE_SERVER, encoding="utf-8")
    config = json.dumps([{"name": "dice", "command": sys.executable, "args": [str(script)]}])
    world.set_valves("react_agent", mcp_servers=config)
    world.ollama.script(
        Reply(tool_calls=[{"name": "roll_dice", "arguments": {"sides": 20}}]),
        Reply(tool_calls=[{"name": "reset_scores", "arguments": {}}]),
        Reply(content="You rolled 18."),
    )
    response = world.chat("react_agent", "Roll a d20, then reset the scores")
    first, second, third = world.model_requests()
    assert {"roll_dice", "reset_scores"} <= {item["function"]["name"] for item in first["tools"]}
    assert "rolled 18 on a d20" in second["messages"][-1]["content"]
    # A tool that may write never runs from an agent pipe without an approval step.
    assert third["messages"][-1]["content"].startswith("Refused: reset_scores changes things")
    assert answer_text(response).startswith("You rolled 18.")
    assert "Connecting to the MCP servers" in statuses(response)


def test_broken_mcp_config_is_a_status_line_and_the_agent_still_answers(world):
    world.set_valves(
        "react_agent",
        mcp_servers='[{"name": "gone", "command": "/nonexistent/mcp-server"}]',
    )
    world.ollama.script(Reply(content="Answer without MCP."))
    response = world.chat("react_agent", "hello")
    assert any(line.startswith("MCP server gone") for line in statuses(response))
    assert answer_text(response).startswith("Answer without MCP.")


def test_collections_without_the_rag_tool_are_skipped_with_a_note(world):
    world.set_valves("no_rag_agent", collections="docs, runbooks")
    world.ollama.script(Reply(content="ok"))
    response = world.chat("no_rag_agent", "hello")
    assert any("rag_search" in line and "not available" in line for line in statuses(response))
    assert "rag_search" not in {t["function"]["name"] for t in world.model_requests()[0]["tools"]}
    assert answer_text(response).startswith("ok")
