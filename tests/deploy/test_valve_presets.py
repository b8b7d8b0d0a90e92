"""docker/valves: presets that point the incident agent at the deployed MCP servers.

Applied for real with `pipekit valves apply` to a running `pipekit serve` with the bundled
pipelines, and checked against the compose services and OpenShift Services they name.
"""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

import pytest
import yaml

from pipekit.mcp.client import parse_servers
from pipekit.testing.server import PIPEKIT
from tests.deploy.files import COMPOSE, DOCKER, kustomize, load_compose

PRESETS = DOCKER / "valves"


def preset_servers(name: str) -> list:
    preset = yaml.safe_load((PRESETS / name).read_text(encoding="utf-8"))
    return parse_servers(preset["incident_agent"]["mcp_servers"])


def addresses(servers: list) -> dict[str, tuple[str, int]]:
    return {s.name: (urlsplit(s.url).hostname, urlsplit(s.url).port) for s in servers}


def test_compose_preset_names_the_compose_mcp_services_and_ports():
    services = load_compose(COMPOSE)["services"]
    for host, port in addresses(preset_servers("incident-compose.yaml")).values():
        command = [str(part) for part in services[host]["command"]]
        assert command[command.index("--port") + 1] == str(port)


def test_openshift_preset_names_the_openshift_services_and_ports():
    rendered = kustomize("read-only")
    ports = {
        o["metadata"]["name"]: o["spec"]["ports"][0]["port"]
        for o in rendered
        if o["kind"] == "Service"
    }
    for host, port in addresses(preset_servers("incident-openshift.yaml")).values():
        assert ports[host] == port


def test_presets_send_the_mcp_token_from_the_environment_never_a_value():
    for name in ("incident-compose.yaml", "incident-openshift.yaml"):
        for server in preset_servers(name):
            assert server.headers == {"Authorization": "Bearer ${PIPEKIT_MCP_TOKEN}"}


@pytest.mark.parametrize("preset", ["incident-compose.yaml", "incident-openshift.yaml"])
def test_preset_applies_to_the_bundled_incident_agent(start_server, preset):
    server = start_server()
    result = subprocess.run(
        [
            *PIPEKIT,
            "valves",
            "apply",
            str(PRESETS / preset),
            "--url",
            server.url,
            "--key",
            server.api_key,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with server.client() as client:
        valves = client.get("/incident_agent/valves").json()
    applied = addresses(parse_servers(valves["mcp_servers"]))
    assert applied == addresses(preset_servers(preset))
