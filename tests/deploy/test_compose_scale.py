"""docker/compose.yaml's `scale` profile: PostgreSQL, Redis, Milvus standalone and two pipekit
replicas behind one address that Open WebUI uses."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.deploy.files import (
    COMPOSE,
    DOCKER,
    ENV_EXAMPLE,
    interpolate,
    load_compose,
    read_env_file,
)
from tests.deploy.test_compose import expand_home, spec_checked

SCALE = {"postgres", "redis", "etcd", "minio", "milvus", "pipekit-2", "pipekit-lb"}


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """.env.example with the secrets and its scale block filled in, as the docs say."""
    entries = read_env_file(ENV_EXAMPLE)
    for secret in ("PIPELINES_API_KEY", "WEBUI_SECRET_KEY", "SEARXNG_SECRET", "PIPEKIT_MCP_TOKEN"):
        entries[secret] = f"{secret.lower()}-value"
    return entries | {
        "COMPOSE_PROFILES": "scale",
        "POSTGRES_PASSWORD": "pg-secret",
        "PIPEKIT_DATABASE_URL": "postgresql://pipekit:pg-secret@postgres:5432/pipekit",
        "PIPEKIT_REDIS_URL": "redis://redis:6379/0",
        "MILVUS_URI": "http://milvus:19530",
        "PIPEKIT_URL": "http://pipekit-lb:9099",
    }


@pytest.fixture(scope="module")
def services(env) -> dict[str, dict]:
    return interpolate(load_compose(COMPOSE), env)["services"]


def in_scale(services: dict) -> set[str]:
    return {name for name, service in services.items() if "scale" in service.get("profiles", [])}


def test_the_profile_starts_every_engine_and_a_second_replica(services):
    assert in_scale(services) == SCALE


def test_the_second_replica_is_pipekit_with_its_settings_and_a_data_dir_of_its_own(services):
    first, second = services["pipekit"], services["pipekit-2"]
    for key in ("image", "command", "environment", "secrets", "healthcheck", "read_only"):
        assert second[key] == first[key], key
    assert second["ports"] == []  # reached through pipekit-lb, never on the host
    assert second["volumes"] == ["pipekit-2-data:/data"] != first["volumes"]
    waits_for = {name for name, rule in second["depends_on"].items()
                 if rule["condition"] == "service_healthy"}  # fmt: skip
    assert waits_for == {"ollama", "postgres", "redis", "milvus"}


def test_both_replicas_point_at_the_shared_engines(services, env):
    for name in ("pipekit", "pipekit-2"):
        environment = services[name]["environment"]
        database = urlsplit(environment["PIPEKIT_DATABASE_URL"])
        postgres = services["postgres"]["environment"]
        assert (database.hostname, database.port, database.path) == ("postgres", 5432, "/pipekit")
        assert (database.username, database.password) == (
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_PASSWORD"],
        )
        assert urlsplit(environment["PIPEKIT_REDIS_URL"]).hostname == "redis"
        assert urlsplit(environment["MILVUS_URI"]).hostname == "milvus"


def test_open_webui_reaches_both_replicas_through_one_address(services):
    assert services["open-webui"]["environment"]["OPENAI_API_BASE_URLS"] == "http://pipekit-lb:9099"
    balancer = services["pipekit-lb"]
    assert {name for name, rule in balancer["depends_on"].items()
            if rule["condition"] == "service_healthy"} == {"pipekit", "pipekit-2"}  # fmt: skip
    (mount,) = balancer["volumes"]
    source, target, mode = mount.split(":")
    assert target == "/etc/nginx/conf.d/default.conf" and mode == "ro"
    config = (DOCKER / source).read_text(encoding="utf-8")
    upstream = re.search(r"upstream pipekit \{(.*?)\}", config, re.S).group(1)
    assert re.findall(r"server ([\w-]+):(\d+)", upstream) == [
        ("pipekit", "9099"),
        ("pipekit-2", "9099"),
    ]
    assert "listen 9099;" in config and "proxy_pass http://pipekit;" in config
    assert "proxy_buffering off;" in config  # answers stream chunk by chunk
    health = balancer["healthcheck"]["test"]
    assert health[-1] == "http://127.0.0.1:9099/lb-health" and "location = /lb-health" in config


def test_the_scale_profile_follows_the_compose_specification(services, env):
    spec_checked(expand_home(interpolate(load_compose(COMPOSE), env)))
