"""`pipekit serve` run as a subprocess: auth on every route, robust loading, valves."""

from __future__ import annotations

import json
import subprocess
import textwrap

import httpx
import pytest

from pipekit.testing.server import PIPEKIT, free_port
from tests.support import REPO

WRONG_KEY = "not-the-key"

GOOD = '''
"""
title: Good Test Pipe
"""
from pydantic import BaseModel


class Pipeline:
    class Valves(BaseModel):
        greeting: str = "hello"
        repeat: int = 1

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, user_message, model_id, messages, body):
        return " ".join([self.valves.greeting] * self.valves.repeat)
'''

BROKEN_IMPORT = "import module_that_does_not_exist_anywhere\n"

BROKEN_STARTUP = """
class Pipeline:
    async def on_startup(self):
        raise RuntimeError("database password missing")

    def pipe(self, user_message, model_id, messages, body):
        return "never"
"""

NO_CLASS = "VALUE = 1\n"

NEEDS_PIP = '''"""
title: Declares requirements
requirements: package-that-does-not-exist-on-pypi-xyz==9.9
"""
class Pipeline:
    def pipe(self, user_message, model_id, messages, body):
        return "ok"
'''


@pytest.fixture
def server(start_server, pipelines_dir):
    return start_server(extra_dirs=(pipelines_dir(good=GOOD),))


def all_routes(server) -> list[tuple[str, str]]:
    """Every (method, path) the app serves: its OpenAPI paths plus the docs routes."""
    spec = httpx.get(server.url + "/openapi.json", headers=server.headers()).json()
    routes = [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
    ]
    return routes + [("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/docs/oauth2-redirect")]


def test_every_route_requires_the_key(server):
    routes = all_routes(server)
    paths = {path for _, path in routes}
    # The routes upstream leaves open must be among those walked.
    for path in (
        "/{pipeline_id}/valves",
        "/{pipeline_id}/valves/update",
        "/{pipeline_id}/filter/inlet",
        "/chat/completions",
        "/v1/chat/completions",
        "/v1/{pipeline_id}/valves/spec",
        "/v1/{pipeline_id}/filter/outlet",
    ):
        assert path in paths

    for method, path in routes:
        url = server.url + path.replace("{pipeline_id}", "good")
        kwargs = {"json": {}} if method in ("POST", "DELETE") else {}
        for headers in ({}, server.headers(WRONG_KEY), {"Authorization": server.api_key}):
            refused = httpx.request(method, url, headers=headers, timeout=10, **kwargs)
            assert refused.status_code == 401, (method, path, headers, refused.text)
            assert "valves" not in refused.text and "greeting" not in refused.text
        allowed = httpx.request(method, url, headers=server.headers(), timeout=10, **kwargs)
        assert allowed.status_code != 401, (method, path)


def test_valves_are_readable_with_the_key(server):
    response = httpx.get(server.url + "/good/valves", headers=server.headers())
    assert response.json() == {"greeting": "hello", "repeat": 1}


def test_broken_pipelines_are_skipped_and_reported_with_reasons(start_server, pipelines_dir):
    extra = pipelines_dir(
        good=GOOD, broken_import=BROKEN_IMPORT, broken_startup=BROKEN_STARTUP, no_class=NO_CLASS
    )
    server = start_server(extra_dirs=(extra,))
    with server.client() as client:
        model_ids = {model["id"] for model in client.get("/models").json()["data"]}
        report = client.get("/pipekit/status").json()
        answer = client.post(
            "/chat/completions",
            json={
                "model": "good",
                "messages": [{"role": "user", "content": "hi"}],
                "stream": False,
            },
        )
    assert {"good", "chat"} <= model_ids
    assert not model_ids & {"broken_import", "broken_startup", "no_class"}
    failures = {item["file"]: item for item in report["failed"]}
    assert failures["broken_import.py"]["stage"] == "import"
    assert "module_that_does_not_exist_anywhere" in failures["broken_import.py"]["reason"]
    assert failures["broken_startup.py"]["stage"] == "on_startup"
    assert "database password missing" in failures["broken_startup.py"]["reason"]
    assert "Pipeline" in failures["no_class.py"]["reason"]
    assert answer.json()["choices"][0]["message"]["content"] == "hello"
    log = server.log()
    assert "database password missing" in log and "broken_import.py" in log
    # Nothing is moved away: the next start tries the files again.
    assert (server.data_dir / "pipelines" / "broken_import.py").exists()


def test_front_matter_requirements_are_not_pip_installed(start_server, pipelines_dir):
    server = start_server(extra_dirs=(pipelines_dir(needs_pip=NEEDS_PIP),))
    with server.client() as client:
        assert "needs_pip" in client.get("/pipekit/status").json()["loaded"]
    assert "Installing requirement" not in server.log()


def test_partial_valve_update_keeps_other_fields(server):
    with server.client() as client:
        client.post("/good/valves/update", json={"repeat": 3}).raise_for_status()
        client.post("/good/valves/update", json={"greeting": "안녕"}).raise_for_status()
        assert client.get("/good/valves").json() == {"greeting": "안녕", "repeat": 3}


def test_null_valve_from_the_admin_panel_resets_it_to_its_default(server):
    # Open WebUI's admin panel sends null for each valve left at "Default".
    with server.client() as client:
        client.post(
            "/good/valves/update", json={"repeat": 3, "greeting": "안녕"}
        ).raise_for_status()
        client.post("/good/valves/update", json={"repeat": 5, "greeting": None}).raise_for_status()
        assert client.get("/good/valves").json() == {"greeting": "hello", "repeat": 5}


def test_invalid_valve_update_names_each_field_and_changes_nothing(server):
    with server.client() as client:
        response = client.post(
            "/good/valves/update", json={"repeat": "many", "greting": "typo", "greeting": "hi"}
        )
        assert response.status_code == 422
        fields = {error["field"] for error in response.json()["errors"]}
        assert fields == {"repeat", "greting"}
        assert "Valves not changed" in response.json()["detail"]
        assert client.get("/good/valves").json() == {"greeting": "hello", "repeat": 1}


def test_valves_survive_a_restart(server):
    with server.client() as client:
        client.post("/v1/good/valves/update", json={"repeat": 2}).raise_for_status()
    server.restart()
    with server.client() as client:
        assert client.get("/good/valves").json() == {"greeting": "hello", "repeat": 2}
        answer = client.post(
            "/v1/chat/completions",
            json={"model": "good", "messages": [{"role": "user", "content": "x"}], "stream": False},
        )
        assert answer.json()["choices"][0]["message"]["content"] == "hello hello"


def test_invalid_saved_valve_falls_back_to_its_default_alone(start_server, pipelines_dir, tmp_path):
    data_dir = tmp_path / "data"
    saved = data_dir / "pipelines" / "good" / "valves.json"
    saved.parent.mkdir(parents=True)
    saved.write_text(json.dumps({"greeting": "kept", "repeat": "broken", "gone": 1}))
    server = start_server(extra_dirs=(pipelines_dir(good=GOOD),), data_dir=data_dir)
    with server.client() as client:
        assert client.get("/good/valves").json() == {"greeting": "kept", "repeat": 1}


def serve_once(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PIPEKIT, "serve", "--port", str(free_port()), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_default_key_is_refused_on_a_public_host(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = serve_once("--host", "0.0.0.0", "--data-dir", str(tmp_path), env=env)
    assert result.returncode == 2
    assert "well-known key" in result.stderr and "PIPELINES_API_KEY" in result.stderr


def test_default_key_on_a_public_host_needs_the_explicit_flag(start_server):
    server = start_server(api_key="0p3n-w3bu!", args=("--host", "0.0.0.0", "--allow-default-key"))
    assert httpx.get(server.url + "/models", headers=server.headers()).status_code == 200


def test_key_file_is_read_and_its_source_logged(start_server, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-a-secret-file\n")
    server = start_server(
        api_key="from-a-secret-file", env={"PIPELINES_API_KEY_FILE": str(key_file)}
    )
    assert httpx.get(server.url + "/models", headers=server.headers()).status_code == 200
    assert f"PIPELINES_API_KEY_FILE ({key_file})" in server.log()
    assert "from-a-secret-file" not in server.log()


def test_two_scripts_with_one_name_stop_serve_with_a_clear_message(tmp_path, pipelines_dir):
    duplicate = pipelines_dir(chat=textwrap.dedent(GOOD))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIPELINES_API_KEY": "k"}
    result = serve_once("--data-dir", str(tmp_path), "--extra-dir", str(duplicate), env=env)
    assert result.returncode == 2
    assert "Two pipelines are named chat.py" in result.stderr


def test_every_valve_of_every_bundled_pipeline_has_a_description(start_server):
    server = start_server()
    with server.client() as client:
        loaded = client.get("/pipekit/status").json()
        assert loaded["failed"] == []
        for pipeline_id in loaded["loaded"]:
            spec = client.get(f"/{pipeline_id}/valves/spec").json()
            undescribed = [
                name
                for name, field in spec.get("properties", {}).items()
                if not field.get("description")
            ]
            assert undescribed == [], (pipeline_id, undescribed)


def test_lone_surrogates_do_not_break_the_server(start_server, pipelines_dir):
    echo_filter = """
class Pipeline:
    def __init__(self):
        self.type = "filter"

    async def inlet(self, body, user=None):
        return body
"""
    server = start_server(extra_dirs=(pipelines_dir(echo=echo_filter),))
    raw = (
        b'{"body": {"model": "chat", "messages": [{"role": "user", '
        b'"content": "broken \\ud800 text \\ud83d\\ude00"}]}}'
    )
    with server.client() as client:
        response = client.post(
            "/echo/filter/inlet", content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 200
        assert response.json()["messages"][0]["content"] == "broken \ufffd text 😀"
        assert client.get("/models").status_code == 200
