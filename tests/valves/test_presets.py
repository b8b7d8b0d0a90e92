"""`pipekit valves show|apply` against a real `pipekit serve`."""

from __future__ import annotations

import json
import subprocess

import pytest

from pipekit.testing.server import PIPEKIT
from tests.support import REPO


def valves_cli(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PIPEKIT, "valves", *args, "--url", server.url, "--key", server.api_key],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def server(start_server):
    return start_server()


def live_valves(server) -> dict:
    with server.client() as client:
        return client.get("/chat/valves").json()


def test_show_prints_live_valves_as_json(server):
    result = valves_cli(server, "show", "chat")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["chat"] == live_valves(server)


def test_apply_merges_and_keeps_omitted_valves(server, tmp_path):
    with server.client() as client:
        client.post("/chat/valves/update", json={"max_tokens": 333}).raise_for_status()
    result = valves_cli(server, "apply", str(REPO / "valves" / "korean-chat.yaml"))
    assert result.returncode == 0, result.stderr
    valves = live_valves(server)
    assert valves["system_prompt"].startswith("항상 한국어로")
    assert valves["temperature"] == 0.3
    assert valves["max_tokens"] == 333  # not in the preset: kept


def test_dry_run_changes_nothing(server):
    before = live_valves(server)
    result = valves_cli(server, "apply", str(REPO / "valves" / "korean-chat.yaml"), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "chat: would change temperature" in result.stderr
    assert live_valves(server) == before


def test_bad_fields_are_reported_each_and_nothing_changes(server, tmp_path):
    preset = tmp_path / "bad.yaml"
    preset.write_text(
        "chat:\n  temperature: hot\n  tempreature: 0.1\n  system_prompt: fine\n"
        "no_such_pipe:\n  x: 1\n"
    )
    before = live_valves(server)
    result = valves_cli(server, "apply", str(preset))
    assert result.returncode == 1
    assert "chat.temperature" in result.stderr
    assert "chat.tempreature: unknown valve" in result.stderr
    assert "no_such_pipe: no such pipeline" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert live_valves(server) == before


def test_shipped_presets_are_valid_for_the_shipped_pipelines(server):
    for preset in sorted((REPO / "valves").glob("*.yaml")):
        result = valves_cli(server, "apply", str(preset), "--dry-run")
        assert result.returncode == 0, (preset.name, result.stderr)


def test_wrong_key_is_a_clear_error(server):
    result = subprocess.run(
        [*PIPEKIT, "valves", "show", "--url", server.url, "--key", "wrong"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "refused the API key" in result.stderr


def test_secrets_are_not_echoed(server, tmp_path):
    preset = tmp_path / "secret.yaml"
    preset.write_text("chat:\n  openai_api_key: sk-very-secret\n")
    result = valves_cli(server, "apply", str(preset))
    assert result.returncode == 0, result.stderr
    assert "sk-very-secret" not in result.stderr
    saved = json.loads((server.data_dir / "pipelines" / "chat" / "valves.json").read_text())
    assert saved["openai_api_key"] == "sk-very-secret"
    assert "sk-very-secret" not in json.dumps(live_valves(server))  # GET shows it masked
