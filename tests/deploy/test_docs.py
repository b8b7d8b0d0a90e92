"""docs/deploy.md: the paths and links it tells people to use exist."""

from __future__ import annotations

import re

from tests.deploy.files import COMPOSE, DEPLOY_DOCS, load_compose
from tests.support import REPO

TEXT = DEPLOY_DOCS.read_text(encoding="utf-8")


def test_every_repository_path_the_guide_names_exists():
    paths = set(re.findall(r"(?<![\w/])((?:docker|docs)/[\w./-]*\w)", TEXT))
    assert "docker/openshift/overlays/read-only" in paths
    # the user's copy of docker/.env.example, and the kubeconfig the guide has them write
    user_created = {"docker/.env", "docker/mcp-openshift.kubeconfig"}
    missing = sorted(path for path in paths - user_created if not (REPO / path).exists())
    assert not missing, f"docs/deploy.md names paths that do not exist: {missing}"


def test_relative_links_point_at_files_and_headings_that_exist():
    for target in re.findall(r"\]\(((?!https?:)[^)]+)\)", TEXT):
        path, _, anchor = target.partition("#")
        linked = (DEPLOY_DOCS.parent / path).resolve()
        assert linked.exists(), f"broken link {target}"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
            assert anchor in slugs, f"no heading #{anchor} in {path}"


def test_every_profile_the_guide_offers_exists_in_compose():
    services = load_compose(COMPOSE)["services"]
    profiles = {p for service in services.values() for p in service.get("profiles", [])}
    for profile in ("mcp", "mcp-openshift", "mcp-slack", "milvus", "redis", "scale"):
        assert f"`{profile}`" in TEXT
        assert profile in profiles
