"""The OpenShift tools against the fake API server, through the official kubernetes client.

These call the tool methods directly (no MCP in between) so each scenario is cheap to check;
test_servers.py runs the same server over stdio and HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from pipekit.mcp.budget import Budget
from pipekit.mcp.openshift import OpenShiftTools, api_client, decode_helm_release
from pipekit.testing.kubernetes import FakeKubernetes
from pipekit.testing.kubernetes.objects import deployment, running_pods, scaled_up
from tests.support.cluster import Cluster

CHECKOUT = "checkout-7d9f8c6b5-x7k2p"


@pytest.fixture(scope="module")
def tools(cluster: Cluster) -> OpenShiftTools:
    return OpenShiftTools(api_client(str(cluster.kubeconfig)))


@pytest.fixture
def own_cluster(tmp_path) -> Iterator[tuple[FakeKubernetes, OpenShiftTools]]:
    """A fresh fake for tests that change or break it."""
    with FakeKubernetes() as fake:
        yield fake, OpenShiftTools(api_client(str(fake.kubeconfig(tmp_path / "config"))))


def test_crashloop_pods_are_found_by_reason(tools):
    text = tools.pods_list("shop", status="CrashLoopBackOff")
    assert CHECKOUT in text and "checkout-7d9f8c6b5-q9m4d" in text
    assert "frontend" not in text
    assert "Error (exit 1" in text


def test_oomkilled_matches_the_last_termination_across_namespaces(tools):
    text = tools.pods_list(status="OOMKilled")
    assert "analytics" in text and "report-worker-6f8d9b7c4-h5j6k" in text
    assert "OOMKilled (exit 137" in text
    assert "checkout" not in text


def test_image_pull_and_pending_pods_show_their_reason(tools):
    assert "ImagePullBackOff" in tools.pods_list("payments", status="ImagePullBackOff")
    pending = tools.pods_list("batch", status="Pending")
    assert "ml-trainer-55d8f7c9b6-r7s8t" in pending and "Pending (Unschedulable)" in pending


def test_healthy_namespace_has_no_unhealthy_pods(tools):
    assert tools.pods_list("web", status="unhealthy") == (
        "No pods with status 'unhealthy' in web (2 pods in total)."
    )
    assert "nginx-6b7c8d9e0f-v1w2x" in tools.pods_list("web")


def test_label_selector_reaches_the_api(tools, cluster):
    text = tools.pods_list("shop", label_selector="app=frontend")
    assert "frontend-5c6d7e8f9-a1b2c" in text and "checkout" not in text
    assert cluster.fake.requests[-1]["query"]["labelSelector"] == "app=frontend"


def test_pod_details_name_state_restarts_last_termination_and_resources(tools):
    text = tools.pods_get("shop", CHECKOUT)
    assert "restarts=7" in text
    assert "waiting: CrashLoopBackOff" in text
    assert "last termination: terminated: Error (exit code 1" in text
    assert "requests cpu=100m, memory=128Mi" in text
    assert "Node: worker-1" in text


def test_pending_pod_details_carry_the_scheduler_message(tools):
    text = tools.pods_get("batch", "ml-trainer-55d8f7c9b6-r7s8t")
    assert "Insufficient cpu" in text and "requests cpu=16" in text


def test_previous_log_shows_the_crash_and_grep_narrows_it(tools):
    text = tools.pods_log("shop", CHECKOUT, previous=True)
    assert "KeyError: 'DATABASE_URL'" in text
    grepped = tools.pods_log("shop", CHECKOUT, previous=True, grep="database_url")
    assert "3 match" in grepped and "INFO" not in grepped


def test_log_of_a_pod_with_several_containers_asks_which(own_cluster):
    fake, tools = own_cluster
    pod = fake.objects["pods"][("shop", CHECKOUT)]
    pod["spec"]["containers"].append({"name": "envoy", "image": "envoy:1.30"})
    with pytest.raises(ToolError, match=r"choose one of: \[checkout envoy\]"):
        tools.pods_log("shop", CHECKOUT)


def test_huge_log_is_collapsed_and_clipped_to_the_budget(own_cluster):
    fake, tools = own_cluster
    noise = [
        f"2025-06-01T10:{i // 60:02d}:{i % 60:02d}Z DEBUG cache refresh item={i} " + "x" * 120
        for i in range(20_000)
    ]
    repeated = ["2025-06-01T11:00:00Z WARN upstream timeout, retrying"] * 37
    fake.set_log("shop", CHECKOUT, "checkout", [*noise, *repeated, "FATAL: giving up"])
    text = tools.pods_log("shop", CHECKOUT, tail_lines=10_000)
    assert len(text) <= Budget().max_chars + 300
    assert "earlier lines cut to fit the output budget" in text
    assert "retrying (×37)" in text
    assert text.endswith("FATAL: giving up")


def test_warning_events_for_an_object(tools):
    text = tools.events_list(
        "batch", involved_object="Pod/ml-trainer-55d8f7c9b6-r7s8t", warnings_only=True
    )
    assert "FailedScheduling" in text and "Insufficient cpu" in text and "(×9)" in text
    shop = tools.events_list("shop", warnings_only=True)
    assert "BackOff" in shop and "Pulled" not in shop


def test_deployment_details_list_env_names_but_no_values(tools):
    text = tools.deployments_get("shop", "checkout")
    assert "0 ready" in text and "env: PORT, REDIS_URL" in text
    assert "redis://" not in text
    assert "checkout  0/2" in tools.deployments_list("shop")


def test_routes_and_a_clean_message_without_openshift(tools, own_cluster):
    assert "shop.apps.example.com" in tools.routes_list("shop")
    fake, plain = own_cluster
    fake.openshift = False
    assert "no route.openshift.io API" in plain.routes_list()


def test_helm_releases_show_the_latest_revision_without_values(tools):
    text = tools.helm_releases_list("shop")
    assert "shop-1.4.2" in text and "deployed" in text
    assert "superseded" not in text
    assert "not-for-the-model" not in text
    assert "superseded" in tools.helm_releases_list("shop", all_revisions=True)


def test_helm_release_decoding_accepts_single_base64_too():
    import base64
    import gzip
    import json

    raw = base64.b64encode(gzip.compress(json.dumps({"name": "x"}).encode())).decode()
    assert decode_helm_release(raw) == {"name": "x"}
    assert decode_helm_release("not base64!") is None


def test_forbidden_not_found_and_unreachable_are_readable(tools, own_cluster):
    with pytest.raises(ToolError, match=r"cannot list resource \"pods\".*\(403\).*RBAC"):
        tools.pods_list("kube-system")
    with pytest.raises(ToolError, match=r'pods "nope" not found \(404\)'):
        tools.pods_get("shop", "nope")
    fake, gone = own_cluster
    fake.stop()
    with pytest.raises(ToolError, match="is not reachable while listing pods in shop"):
        gone.pods_list("shop")


def test_namespaces_fall_back_to_projects_when_listing_is_forbidden(own_cluster):
    fake, tools = own_cluster
    assert "shop" in tools.namespaces_list()
    fake.forbidden_namespaces.add("*")  # a user who may not list namespaces
    fake.forbidden_namespaces.discard("kube-system")
    assert "payments" in tools.namespaces_list()
    assert fake.requests[-1]["path"] == "/apis/project.openshift.io/v1/projects"


def test_rollout_restart_patches_the_template_annotation(own_cluster):
    fake, tools = own_cluster
    assert tools.deployment_restart("shop", "checkout").startswith(
        "Restarted deployment shop/checkout"
    )
    patch = fake.patches[-1]
    annotations = patch["patch"]["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    assert patch["content_type"] == "application/strategic-merge-patch+json"
    assert "Last rollout restart" in tools.deployments_get("shop", "checkout")


def test_scale_dry_run_changes_nothing_and_scale_does(own_cluster):
    fake, tools = own_cluster
    assert "would go from 2 to 0" in tools.deployment_scale("shop", "checkout", 0, dry_run=True)
    assert fake.objects["deployments"][("shop", "checkout")]["spec"]["replicas"] == 2
    assert (
        tools.deployment_scale("shop", "checkout", 0)
        == "Scaled deployment shop/checkout from 2 to 0 replicas."
    )
    assert fake.objects["deployments"][("shop", "checkout")]["spec"]["replicas"] == 0


# --- the namespace allow-list (--namespaces) ----------------------------------------------

TEAM_POD = "api-5f6b7c8d9-a1b2c"


@pytest.fixture
def teams(tmp_path) -> Iterator[tuple[FakeKubernetes, OpenShiftTools]]:
    """Two teams' namespaces on one cluster, and tools limited to team-a."""
    with FakeKubernetes(scenarios=()) as fake:
        for team in ("team-a", "team-b"):
            image = f"registry.example.com/{team}/api:1.0"
            deployment(fake, team, "api", image=image, replicas=2, ready=2)
            running_pods(fake, team, "api", image, "api-5f6b7c8d9", [f"{team} secret log line"])
            scaled_up(fake, team, "api", "api-5f6b7c8d9", 2, age_s=600)
        kubeconfig = str(fake.kubeconfig(tmp_path / "config"))
        yield fake, OpenShiftTools(api_client(kubeconfig), namespaces=frozenset({"team-a"}))


def test_allowed_namespace_reads_work_and_another_teams_logs_are_refused(teams):
    fake, tools = teams
    assert "team-a secret log line" in tools.pods_log("team-a", TEAM_POD)
    before = len(fake.requests)
    with pytest.raises(ToolError, match=r"Refused: namespace 'team-b' is outside .*\(team-a\)"):
        tools.pods_log("team-b", TEAM_POD)
    assert len(fake.requests) == before, "refused before any API call"


CALLS_INTO_TEAM_B = {
    "pods_list": {},
    "pods_get": {"name": TEAM_POD},
    "pods_log": {"name": TEAM_POD},
    "events_list": {},
    "deployments_list": {},
    "deployments_get": {"name": "api"},
    "routes_list": {},
    "helm_releases_list": {},
    "deployment_restart": {"name": "api"},
    "deployment_scale": {"name": "api", "replicas": 0},
}


@pytest.mark.parametrize("tool", sorted(CALLS_INTO_TEAM_B))
def test_every_namespaced_tool_refuses_a_namespace_outside_the_list(teams, tool):
    fake, tools = teams
    with pytest.raises(ToolError, match="Refused: namespace 'team-b'"):
        getattr(tools, tool)(namespace="team-b", **CALLS_INTO_TEAM_B[tool])
    assert not fake.patches
    assert not any("team-b" in request["path"] for request in fake.requests)


def test_all_namespace_queries_and_the_namespace_list_keep_to_the_allowed_ones(teams):
    fake, tools = teams
    pods = tools.pods_list()
    assert "team-a" in pods and "team-b" not in pods
    events = tools.events_list()
    assert "[team-a]" in events and "team-b" not in events
    assert "team-b" not in tools.deployments_list()
    assert tools.helm_releases_list() == "No helm releases in the allowed namespaces (team-a)."
    namespaces = tools.namespaces_list()
    assert "team-a" in namespaces and "Active" in namespaces and "team-b" not in namespaces
    # Never a cluster-wide list: a per-namespace RoleBinding would not allow one anyway.
    paths = {request["path"] for request in fake.requests}
    assert "/api/v1/pods" not in paths and "/api/v1/namespaces" not in paths


def test_without_an_allow_list_every_namespace_is_visible(teams, tmp_path):
    fake, _ = teams
    tools = OpenShiftTools(api_client(str(fake.kubeconfig(tmp_path / "all"))))
    assert "team-b secret log line" in tools.pods_log("team-b", TEAM_POD)
    assert {"team-a", "team-b"} <= set(tools.namespaces_list().split())
    pods = tools.pods_list()
    assert "team-a" in pods and "team-b" in pods
    assert fake.requests[-1]["path"] == "/api/v1/pods"  # one cluster-wide list, as before
