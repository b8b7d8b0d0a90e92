"""docker/Dockerfile and the health check it runs.

There is no Docker daemon here, so the image is not built: the Dockerfile is read as
instructions, and docker/healthcheck.py is run for real against `pipekit serve` and an MCP
server on 127.0.0.1, the way the HEALTHCHECK runs it inside the container.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pipekit.cli import build_parser
from pipekit.testing.server import PIPEKIT, TEST_KEY, free_port
from tests.deploy.files import DOCKER, DOCKERIGNORE, dockerfile_instructions

HEALTHCHECK = DOCKER / "healthcheck.py"


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return dockerfile_instructions()


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def exec_form(arguments: str) -> list[str]:
    """`["a", "b"]` of CMD/ENTRYPOINT/HEALTHCHECK CMD; shell form is not used in this file."""
    return json.loads(arguments)


def test_image_is_python_311_slim(instructions):
    args = dict(arguments.split("=", 1) for keyword, arguments in instructions if keyword == "ARG")
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    assert all(
        arguments.startswith("${PYTHON_IMAGE}") for k, arguments in instructions if k == "FROM"
    )


def test_container_runs_as_a_non_root_user(instructions):
    users = [arguments for keyword, arguments in final_stage(instructions) if keyword == "USER"]
    assert users, "the final stage sets no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # Numeric, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
    assert user.isdigit()


def test_healthcheck_runs_the_bundled_script_and_the_script_is_copied_in(instructions):
    stage = final_stage(instructions)
    healthchecks = [arguments for keyword, arguments in stage if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    options, _, command = healthchecks[0].partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options
    script = exec_form(command)[-1]
    copies = [arguments.split()[-1] for keyword, arguments in stage if keyword == "COPY"]
    assert script in copies


def test_everything_is_installed_at_build_time_not_at_start(instructions):
    stage = final_stage(instructions)
    entrypoint = exec_form(next(a for k, a in stage if k == "ENTRYPOINT"))
    command = exec_form(next(a for k, a in stage if k == "CMD"))
    assert entrypoint == ["pipekit"]
    programs = {part.split("/")[-1] for part in entrypoint + command}
    assert not programs & {"pip", "pip3", "sh", "bash"}, "no install step may run at start"
    # The default command is a valid `pipekit serve` listening beyond the container.
    args = build_parser(["serve"]).parse_args(command)
    assert (args.host, args.port) == ("0.0.0.0", 9099)
    installs = [a for k, a in instructions if k == "RUN" and "pip install" in a]
    assert any("-r " in a for a in installs) and any("--no-deps ." in a for a in installs)


def test_test_tools_pinned_for_the_venv_stay_out_of_the_image(instructions):
    (runtime_filter,) = [a for k, a in instructions if k == "RUN" and "grep -v" in a]
    for tool in ("pytest", "ruff", "kubernetes-validate", "compose-spec"):
        assert tool in runtime_filter
    # Pins stay exact: the image gets the same versions the tests ran with.
    assert "requirements.txt > /tmp/runtime-requirements.txt" in runtime_filter
    assert "pip install -r /tmp/runtime-requirements.txt" in runtime_filter


def test_data_dir_is_a_volume_the_env_points_at(instructions):
    stage = final_stage(instructions)
    env_text = " ".join(a for k, a in stage if k == "ENV")
    assert "PIPEKIT_DATA_DIR=/data" in env_text
    assert any(k == "VOLUME" and json.loads(a) == ["/data"] for k, a in stage)


def test_build_context_sends_every_file_the_dockerfile_copies(instructions):
    """A COPY of a path .dockerignore leaves out fails only at `docker build`."""
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def sent(path: str) -> bool:
        included = True
        for pattern in patterns:
            negated = pattern.startswith("!")
            pattern = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
                included = negated
        return included

    for keyword, arguments in instructions:
        if keyword != "COPY" or arguments.startswith("--from"):
            continue
        *sources, _ = arguments.split()
        for source in sources:
            assert sent(source.rstrip("/")), f"COPY {source}: excluded by .dockerignore"
            assert Path(DOCKER.parent / source).exists(), f"COPY {source}: no such path"
    assert not sent(".venv") and not sent(".git") and not sent("tests")


def run_healthcheck(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PIPELINES_", "PIPEKIT_"))}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_healthcheck_passes_with_the_key_from_a_secret_file(start_server, tmp_path):
    # As in the container: the server and the check read the same mounted secret file.
    key_file = tmp_path / "pipelines_api_key"
    key_file.write_text(TEST_KEY + "\n", encoding="utf-8")
    server = start_server(env={"PIPELINES_API_KEY_FILE": str(key_file)})
    url = f"{server.url}/pipekit/status"

    result = run_healthcheck("--url", url, env={"PIPELINES_API_KEY_FILE": str(key_file)})
    assert result.returncode == 0, result.stderr
    assert "healthy" in result.stderr

    result = run_healthcheck("--url", url, env={"PIPELINES_API_KEY": TEST_KEY})
    assert result.returncode == 0, result.stderr


def test_healthcheck_fails_and_says_why_on_a_wrong_key_or_no_server(start_server, tmp_path):
    server = start_server()
    result = run_healthcheck(
        "--url", f"{server.url}/pipekit/status", env={"PIPELINES_API_KEY": "wrong"}
    )
    assert result.returncode == 1
    assert "refused the key (HTTP 401)" in result.stderr

    nobody = f"http://127.0.0.1:{free_port()}/pipekit/status"
    result = run_healthcheck("--url", nobody, env={"PIPELINES_API_KEY": TEST_KEY})
    assert result.returncode == 1
    assert "is not answering" in result.stderr

    missing = tmp_path / "no-such-secret"
    result = run_healthcheck(
        "--url", f"{server.url}/pipekit/status", env={"PIPELINES_API_KEY_FILE": str(missing)}
    )
    assert result.returncode == 1
    assert "cannot read the key" in result.stderr


def test_readiness_fails_while_the_database_is_down_and_the_server_stays_up(start_server):
    unreachable = f"postgresql://pipekit@127.0.0.1:{free_port()}/pipekit"  # nobody listens
    server = start_server(env={"PIPEKIT_DATABASE_URL": unreachable})
    ready = run_healthcheck(
        "--url", f"{server.url}/pipekit/ready", env={"PIPELINES_API_KEY": TEST_KEY}
    )
    assert ready.returncode == 1 and "answered HTTP 503" in ready.stderr
    alive = run_healthcheck(
        "--url", f"{server.url}/pipekit/status", env={"PIPELINES_API_KEY": TEST_KEY}
    )
    assert alive.returncode == 0, alive.stderr


@pytest.fixture
def slack_mcp_server(tmp_path):
    """`pipekit mcp slack --transport http` as in compose, with a token demanded."""
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",
        "PIPEKIT_MCP_TOKEN": "mcp-secret",
    }
    log = (tmp_path / "mcp.log").open("wb")
    process = subprocess.Popen(
        [*PIPEKIT, "mcp", "slack", "--transport", "http", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        assert process.poll() is None, (tmp_path / "mcp.log").read_text()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_mcp_healthcheck_passes_on_a_running_server_even_without_its_token(slack_mcp_server):
    for token in ("mcp-secret", ""):
        result = run_healthcheck(
            "--mcp", "--url", slack_mcp_server, env={"PIPEKIT_MCP_TOKEN": token}
        )
        assert result.returncode == 0, result.stderr
        assert "answered HTTP 4" in result.stderr


def test_mcp_healthcheck_fails_when_nothing_listens():
    result = run_healthcheck("--mcp", "--url", f"http://127.0.0.1:{free_port()}/mcp", env={})
    assert result.returncode == 1
    assert "is not answering" in result.stderr
