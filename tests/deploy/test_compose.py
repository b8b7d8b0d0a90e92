"""docker/compose.yaml: the stack a team starts with one command on a GPU host.

Docker is not available here, so these tests read the files as compose does: YAML with its
tags, `${VAR}` interpolation from .env, and the merge of the CPU override.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from pipekit.cli import build_parser
from tests.deploy.files import (
    COMPOSE,
    COMPOSE_CPU,
    COMPOSE_SLACK_WRITES,
    DOCKER,
    ENV_EXAMPLE,
    bare_variables_in,
    interpolate,
    load_compose,
    merge_compose,
    read_env_file,
    variables_in,
)

CORE_SERVICES = {"ollama", "ollama-pull", "ollama-import", "pipekit", "open-webui", "searxng"}
ONE_SHOT = {"ollama-pull", "ollama-import"}
PIPEKIT_IMAGE_SERVICES = {"pipekit", "mcp-openshift", "mcp-slack"}


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """.env.example with the secrets filled in, as a user's docker/.env would be."""
    entries = read_env_file(ENV_EXAMPLE)
    for secret in ("PIPELINES_API_KEY", "WEBUI_SECRET_KEY", "SEARXNG_SECRET", "PIPEKIT_MCP_TOKEN"):
        entries[secret] = f"{secret.lower()}-value"
    return entries


@pytest.fixture(scope="module")
def compose(env) -> dict:
    """compose.yaml as `docker compose config` would see it with that .env."""
    return interpolate(load_compose(COMPOSE), env)


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


def published(service: dict) -> dict[int, str]:
    """container port -> host address:port, from "addr:host:container" strings."""
    ports = {}
    for entry in service.get("ports", []):
        parts = str(entry).split(":")
        ports[int(parts[-1])] = ":".join(parts[:-1])
    return ports


def test_the_stack_has_every_service_the_issue_names(services):
    optional = {"mcp-openshift", "mcp-slack", "milvus", "etcd", "minio", "redis"}
    assert CORE_SERVICES | optional <= set(services)


def test_every_image_is_pinned_to_a_version(services):
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: image {image!r} is not pinned"
    assert services["open-webui"]["image"] == "ghcr.io/open-webui/open-webui:v0.12.4"


def test_pipekit_and_the_mcp_servers_build_one_image_from_this_repo(services):
    for name in PIPEKIT_IMAGE_SERVICES:
        build = services[name]["build"]
        assert (DOCKER / build["context"] / build["dockerfile"]).resolve() == (
            DOCKER / "Dockerfile"
        ).resolve(), name
    assert len({services[name]["image"] for name in PIPEKIT_IMAGE_SERVICES}) == 1


def test_ports_9099_8080_11434_are_published_and_the_unauthenticated_ones_on_loopback(services):
    assert 9099 in published(services["pipekit"])
    assert 8080 in published(services["open-webui"])
    assert 11434 in published(services["ollama"])
    # Ollama has no authentication; pipekit's valves hold API keys.
    assert published(services["ollama"])[11434] == "127.0.0.1:11434"
    assert published(services["pipekit"])[9099] == "127.0.0.1:9099"
    assert published(services["open-webui"])[8080] == "8080"
    internal_only = set(services) - {"pipekit", "open-webui", "ollama"}
    assert not [name for name in internal_only if services[name].get("ports")]


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no"
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"
        assert service["restart"] == "unless-stopped", name


def test_services_wait_for_what_they_call_to_be_healthy(services):
    def healthy_dependencies(name: str) -> set[str]:
        depends = services[name].get("depends_on", {})
        return {dep for dep, rule in depends.items() if rule["condition"] == "service_healthy"}

    assert healthy_dependencies("open-webui") == {"pipekit", "ollama"}
    assert healthy_dependencies("pipekit") == {"ollama"}
    assert healthy_dependencies("ollama-pull") == {"ollama"}
    assert healthy_dependencies("milvus") == {"etcd", "minio"}


def test_model_pull_job_pulls_the_chat_embedding_and_guard_models_from_env(services, env):
    job = services["ollama-pull"]
    assert job["environment"]["OLLAMA_HOST"] == "http://ollama:11434"
    for variable in ("CHAT_MODEL", "EMBED_MODEL", "GUARD_MODEL"):
        assert job["environment"][variable] == env[variable]
    script = job["command"][0]
    # Compose turned $$ into $: the shell, not compose, expands the model list.
    assert "for model in $CHAT_MODEL $EMBED_MODEL $GUARD_MODEL" in script
    assert 'ollama pull "$model" || exit 1' in script


def test_model_import_job_imports_the_drop_folder_after_the_pull(services, env):
    job = services["ollama-import"]
    assert job["image"] == services["pipekit"]["image"]  # pipekit's image: `pipekit models`
    assert job["depends_on"] == {"ollama-pull": {"condition": "service_completed_successfully"}}
    assert job["environment"]["OLLAMA_BASE_URL"] == "http://ollama:11434"
    assert f"{env['MODELS_DIR']}:/models:ro" in job["volumes"]
    args = build_parser().parse_args([str(part) for part in job["command"]])
    assert (args.command, args.models_command, str(args.source)) == ("models", "import", "/models")
    assert not args.force  # a re-run keeps the models Ollama already has
    readme = (DOCKER / "models" / "README.md").read_text(encoding="utf-8")
    assert "docs/models.md" in readme


def test_open_webui_is_prewired_to_pipekit_with_the_same_key_and_to_ollama(compose, services, env):
    webui = services["open-webui"]["environment"]
    assert webui["OPENAI_API_BASE_URLS"] == "http://pipekit:9099"
    assert webui["OPENAI_API_KEYS"] == env["PIPELINES_API_KEY"]
    assert webui["OLLAMA_BASE_URL"] == "http://ollama:11434"
    # pipekit reads the same key as a secret file, never from its command line.
    pipekit = services["pipekit"]
    assert pipekit["secrets"] == ["pipelines_api_key"]
    assert pipekit["environment"]["PIPELINES_API_KEY_FILE"] == "/run/secrets/pipelines_api_key"
    assert compose["secrets"]["pipelines_api_key"] == {"environment": "PIPELINES_API_KEY"}
    assert "PIPELINES_API_KEY" not in pipekit["environment"]


def test_missing_secrets_stop_compose_with_a_message_naming_the_env_file():
    bare = read_env_file(ENV_EXAMPLE) | {"PIPEKIT_MCP_TOKEN": "mcp-token-value-of-24ch"}
    with pytest.raises(KeyError, match="set PIPELINES_API_KEY in docker/.env"):
        interpolate(load_compose(COMPOSE), bare)


def test_the_mcp_token_is_required_by_every_service_that_uses_it(env):
    """An empty token would leave the MCP servers open to the compose network; the servers
    refuse to start without one, and compose stops before that with a message."""
    without = env | {"PIPEKIT_MCP_TOKEN": ""}
    for name in ("pipekit", "mcp-openshift", "mcp-slack"):
        service = load_compose(COMPOSE)["services"][name]
        with pytest.raises(KeyError, match="set PIPEKIT_MCP_TOKEN in docker/.env"):
            interpolate(service["environment"], without)


def test_pipekit_is_pointed_at_the_services_in_the_stack(services, env):
    environment = services["pipekit"]["environment"]
    assert environment["OLLAMA_BASE_URL"] == "http://ollama:11434"
    assert environment["SEARXNG_URL"] == "http://searxng:8080"
    assert environment["PIPEKIT_MODEL"] == env["CHAT_MODEL"]
    assert environment["PIPEKIT_DATA_DIR"] == "/data"
    # Milvus Lite (a file in /data) and in-memory rate limits unless .env says otherwise.
    assert environment["MILVUS_URI"] == "" and environment["PIPEKIT_REDIS_URL"] == ""


def test_every_pipekit_variable_the_stack_sets_is_read_by_pipekit(services):
    # A variable nothing reads looks like configuration and silently does nothing.
    source = "\n".join(p.read_text("utf-8") for p in (DOCKER.parent / "src").rglob("*.py"))
    environment = services["pipekit"]["environment"]
    unread = [name for name in environment if name.startswith("PIPEKIT_") and name not in source]
    assert unread == []


def test_pipes_embed_and_guard_with_the_models_the_stack_pulls(services, env, monkeypatch):
    from pipekit.embeddings import make_embedder
    from pipekit.guards.moderation import GuardModelValves
    from pipekit.rag.pipe import RagPipe

    environment = services["pipekit"]["environment"]
    assert environment["PIPEKIT_EMBEDDER"] == f"ollama:{env['EMBED_MODEL']}"
    rag_valves, guard_valves = RagPipe.Valves(), GuardModelValves()  # empty: the environment
    for name in ("PIPEKIT_EMBEDDER", "PIPEKIT_GUARD_MODEL"):
        monkeypatch.setenv(name, environment[name])
    assert make_embedder(rag_valves.embedder).model_name == f"ollama:{env['EMBED_MODEL']}"
    assert guard_valves.llm_config().model == env["GUARD_MODEL"]
    monkeypatch.delenv("PIPEKIT_EMBEDDER")
    assert make_embedder(rag_valves.embedder) is make_embedder("local")


def test_state_lives_in_named_volumes(compose, services):
    mounts = {
        "ollama": "ollama-models:/root/.ollama",
        "pipekit": "pipekit-data:/data",
        "open-webui": "open-webui-data:/app/backend/data",
        "milvus": "milvus-data:/var/lib/milvus",
        "redis": "redis-data:/data",
        "postgres": "postgres-data:/var/lib/postgresql/data",
        "pipekit-2": "pipekit-2-data:/data",
    }
    for name, mount in mounts.items():
        assert mount in services[name]["volumes"], name
    used = {
        volume.split(":")[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if isinstance(volume, str) and not volume.startswith((".", "/", "~"))
    }
    assert used == set(compose["volumes"]), "declared and used named volumes differ"


def test_searxng_gets_settings_that_enable_the_json_format(services):
    import yaml

    mount = next(v for v in services["searxng"]["volumes"] if "settings.yml" in v)
    source, target, mode = mount.split(":")
    assert (target, mode) == ("/etc/searxng/settings.yml", "ro")
    settings = yaml.safe_load((DOCKER / source).read_text(encoding="utf-8"))
    assert "json" in settings["search"]["formats"]
    assert settings["use_default_settings"] is True
    # The limiter would throttle the agent, SearXNG's only client here.
    assert settings["server"]["limiter"] is False


def test_optional_services_sit_behind_profiles(services):
    def profiles(name: str) -> set[str]:
        return set(services[name].get("profiles", []))

    assert all(not profiles(name) for name in CORE_SERVICES)
    assert profiles("milvus") == profiles("etcd") == profiles("minio") == {"milvus", "scale"}
    assert profiles("redis") == {"redis", "scale"}
    assert profiles("postgres") == profiles("pipekit-2") == profiles("pipekit-lb") == {"scale"}
    assert profiles("mcp-openshift") == {"mcp", "mcp-openshift"}
    assert profiles("mcp-slack") == {"mcp", "mcp-slack"}


def test_openshift_mcp_server_reads_with_a_service_account_kubeconfig_not_yours(services, env):
    service = services["mcp-openshift"]
    assert "--read-only" in service["command"]
    assert service["command"][service["command"].index("--kubeconfig") + 1] == "/kube/config"
    (mount,) = service["volumes"]
    assert mount["type"] == "bind" and mount["target"] == "/kube/config"
    assert mount["read_only"] is True
    # A missing file must stop `up`, not become an empty directory the server cannot read.
    assert mount["bind"] == {"create_host_path": False}
    assert mount["source"] == env["MCP_KUBECONFIG"] == "./mcp-openshift.kubeconfig"
    assert Path(mount["source"]).parent.name != ".kube" and not mount["source"].startswith("~")
    # It holds a token: git must not pick it up next to the compose file.
    assert "mcp-openshift.kubeconfig" in (DOCKER / ".gitignore").read_text().splitlines()
    assert service["environment"]["PIPEKIT_MCP_NAMESPACES"] == env["PIPEKIT_MCP_NAMESPACES"]
    assert "SLACK_BOT_TOKEN" in services["mcp-slack"]["environment"]


def test_slack_mcp_server_is_read_only_unless_the_writes_override_is_added(env):
    base = load_compose(COMPOSE)
    assert "--read-only" in base["services"]["mcp-slack"]["command"]
    override = load_compose(COMPOSE_SLACK_WRITES)
    assert set(override["services"]) == {"mcp-slack"}, "the override changes only mcp-slack"
    merged = merge_compose(base, override)
    writes = merged["services"]["mcp-slack"]
    assert writes["command"] == [p for p in base["services"]["mcp-slack"]["command"]
                                 if p != "--read-only"]  # fmt: skip
    assert {k: v for k, v in writes.items() if k != "command"} == {
        k: v for k, v in base["services"]["mcp-slack"].items() if k != "command"
    }
    for name in base["services"]:
        if name != "mcp-slack":
            assert merged["services"][name] == base["services"][name]
    spec_checked(expand_home(interpolate(merged, env)))


def test_every_command_is_one_the_pipekit_cli_accepts(services):
    """A typo in a flag would only show when the container restarts in a loop."""
    parser = build_parser()
    for name in PIPEKIT_IMAGE_SERVICES:
        command = [str(part) for part in services[name]["command"]]
        args = parser.parse_args(command)
        assert args.host == "0.0.0.0", f"{name} must listen beyond the container's loopback"
        health_url = services[name]["healthcheck"]["test"][-1]
        if name != "pipekit":
            assert health_url == f"http://127.0.0.1:{args.port}/mcp", name


def test_gpu_is_reserved_in_the_base_and_dropped_by_the_cpu_override():
    base = load_compose(COMPOSE)
    devices = base["services"]["ollama"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]

    override = load_compose(COMPOSE_CPU)
    assert set(override["services"]) == {"ollama"}, "the CPU override changes only Ollama"
    merged = merge_compose(base, override)
    reservations = merged["services"]["ollama"]["deploy"]["resources"]["reservations"]
    assert "devices" not in reservations
    # Everything else is the base file, untouched.
    for name in base["services"]:
        if name != "ollama":
            assert merged["services"][name] == base["services"][name]
    assert merged["services"]["ollama"]["volumes"] == base["services"]["ollama"]["volumes"]


def test_every_variable_compose_reads_is_documented_in_env_example():
    documented = set(read_env_file(ENV_EXAMPLE))
    used = variables_in(COMPOSE.read_text(encoding="utf-8"))
    assert used - documented == set(), "add these to docker/.env.example"
    # Only compose's own variables may be in the example without being used by the file.
    assert documented - used <= {"COMPOSE_PROFILES"}, "stale entries in docker/.env.example"
    for path in (COMPOSE, COMPOSE_CPU, COMPOSE_SLACK_WRITES):
        assert bare_variables_in(path.read_text(encoding="utf-8")) == [], path.name


def test_env_example_ships_no_secret_values():
    entries = read_env_file(ENV_EXAMPLE)
    secrets = ("PIPELINES_API_KEY", "WEBUI_SECRET_KEY", "SEARXNG_SECRET", "SLACK_BOT_TOKEN")
    for name in (*secrets, "PIPEKIT_MCP_TOKEN"):
        assert entries[name] == "", f"{name} must be left for the user to set"


def spec_checked(document: dict) -> None:
    """Parse with compose-spec (the Rust `compose_spec` parser): unknown keys, bad values
    and undefined secrets or networks are errors, as they are for `docker compose`."""
    compose_spec = pytest.importorskip(
        "compose_spec", reason="pip install compose-spec==0.2.1 (offline Compose parser)"
    )
    parsed = compose_spec.PyCompose.from_json(json.dumps(document))
    parsed.validate()


def expand_home(document: dict) -> dict:
    """Compose expands `~` in bind-mount sources itself; the parser does not."""
    for service in document["services"].values():
        service["volumes"] = [
            str(Path(v).expanduser()) if isinstance(v, str) and v.startswith("~") else v
            for v in service.get("volumes", [])
        ]
    return document


@pytest.mark.parametrize("files", [["compose.yaml"], ["compose.yaml", "compose.cpu.yaml"]])
def test_the_files_follow_the_compose_specification(files, env):
    merged = load_compose(DOCKER / files[0])
    for override in files[1:]:
        merged = merge_compose(merged, load_compose(DOCKER / override))
    spec_checked(expand_home(interpolate(merged, env)))


def test_the_specification_check_rejects_a_misspelled_key(compose):
    """Proves the check above can fail."""
    broken = copy.deepcopy(compose)
    broken["services"]["pipekit"]["healthcheck"]["start_perod"] = "10s"
    with pytest.raises(ValueError, match="start_perod"):
        spec_checked(expand_home(broken))
