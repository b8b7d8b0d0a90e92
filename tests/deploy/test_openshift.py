"""docker/openshift: the kustomize overlays, rendered with `kubectl kustomize` and validated
offline against the Kubernetes 1.32 schemas (kubernetes-validate, strict: unknown fields are
errors). OpenShift's Route is a CRD those schemas do not know; it is checked field by field.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml

from pipekit.cli import build_parser
from tests.deploy.files import DEPLOY_DOCS, DOCKER, DOCKERFILE, kustomize


@pytest.fixture(scope="module")
def kubernetes_validate():
    """The offline schema validator; only the schema tests need it."""
    return pytest.importorskip(
        "kubernetes_validate", reason="pip install kubernetes-validate==1.37.0 (offline schemas)"
    )


KUBERNETES_VERSION = "1.32"
READ_VERBS = {"get", "list", "watch"}
WRITE_VERBS = {"patch", "update"}
MCP_OPENSHIFT = "pipekit-mcp-openshift"
READ_ROLE = "pipekit-mcp-openshift-read"
OVERLAYS = ["read-only", "with-writes", "cluster-wide-read", "single-replica"]


@pytest.fixture(scope="module")
def read_only() -> list[dict[str, Any]]:
    return kustomize("read-only")


@pytest.fixture(scope="module")
def with_writes() -> list[dict[str, Any]]:
    return kustomize("with-writes")


@pytest.fixture(scope="module")
def cluster_wide() -> list[dict[str, Any]]:
    return kustomize("cluster-wide-read")


@pytest.fixture(scope="module")
def single_replica() -> list[dict[str, Any]]:
    return kustomize("single-replica")


def objects(rendered: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in rendered if o["kind"] == kind}


def pod_spec(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]


def rules(rendered: list[dict]) -> set[tuple[str, str, str]]:
    """Every (apiGroup, resource, verb) any Role or ClusterRole grants."""
    granted = set()
    for role in rendered:
        if role["kind"] not in ("Role", "ClusterRole"):
            continue
        for rule in role.get("rules", []):
            for group in rule.get("apiGroups", []):
                for resource in rule.get("resources", []):
                    for verb in rule["verbs"]:
                        granted.add((group, resource, verb))
    return granted


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_against_the_kubernetes_schemas(overlay, kubernetes_validate):
    rendered = kustomize(overlay)
    for manifest in rendered:
        if manifest["kind"] == "Route":
            continue
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    assert {o["kind"] for o in rendered} >= {
        "Deployment",
        "Service",
        "Route",
        "ConfigMap",
        "ServiceAccount",
        "ClusterRole",
    }


def test_the_offline_validator_rejects_a_misspelled_field(read_only, kubernetes_validate):
    """Proves the check above can fail: strict mode knows every field of a Deployment."""
    deployment = copy.deepcopy(objects(read_only, "Deployment")["pipekit"])
    deployment["spec"]["replica"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_route_exposes_the_pipekit_service_over_tls(read_only):
    routes = objects(read_only, "Route")
    assert set(routes) == {"pipekit"}, "only pipekit gets a Route; the MCP servers stay inside"
    route = routes["pipekit"]
    assert route["apiVersion"] == "route.openshift.io/v1"
    assert set(route["spec"]) <= {"host", "path", "to", "port", "tls", "wildcardPolicy"}
    service = objects(read_only, "Service")[route["spec"]["to"]["name"]]
    assert route["spec"]["to"]["kind"] == "Service"
    port_names = {port["name"] for port in service["spec"]["ports"]}
    assert route["spec"]["port"]["targetPort"] in port_names
    assert route["spec"]["tls"] == {
        "termination": "edge",
        "insecureEdgeTerminationPolicy": "Redirect",
    }
    assert route["metadata"]["namespace"] == "pipekit"


def test_each_service_selects_its_deployment_and_a_named_container_port(read_only):
    deployments = objects(read_only, "Deployment")
    expected = {"pipekit": 9099, "pipekit-mcp-openshift": 8811, "pipekit-mcp-slack": 8812}
    for name, service in objects(read_only, "Service").items():
        deployment = deployments[name]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items(), name
        container_ports = {
            port["name"]: port["containerPort"]
            for container in pod_spec(deployment)["containers"]
            for port in container["ports"]
        }
        (port,) = service["spec"]["ports"]
        assert container_ports[port["targetPort"]] == port["port"] == expected[name]


def test_containers_are_non_root_unprivileged_with_limits_and_probes(read_only):
    for name, deployment in objects(read_only, "Deployment").items():
        spec = pod_spec(deployment)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        # No fixed UID: OpenShift's restricted SCC assigns one from the project's range.
        assert "runAsUser" not in spec["securityContext"], name
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["privileged"] is False and security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert security["readOnlyRootFilesystem"] is True
            assert {"/tmp"} <= {mount["mountPath"] for mount in container["volumeMounts"]}
            resources = container["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys() & resources["limits"].keys()
            assert "readinessProbe" in container and "livenessProbe" in container, name


def test_probes_run_the_health_script_the_image_ships(read_only):
    shipped = re.search(r"COPY docker/healthcheck.py (\S+)", DOCKERFILE.read_text()).group(1)
    for name, deployment in objects(read_only, "Deployment").items():
        (container,) = pod_spec(deployment)["containers"]
        command = container["readinessProbe"]["exec"]["command"]
        assert command[:2] == ["python", shipped], name
        if name != "pipekit":
            port = container["ports"][0]["containerPort"]
            assert command[2:] == ["--mcp", "--url", f"http://127.0.0.1:{port}/mcp"]


def test_container_args_are_commands_the_pipekit_cli_accepts(read_only, with_writes):
    parser = build_parser()
    for rendered in (read_only, with_writes):
        for name, deployment in objects(rendered, "Deployment").items():
            (container,) = pod_spec(deployment)["containers"]
            args = parser.parse_args([str(arg) for arg in container["args"]])
            assert args.host == "0.0.0.0", name
            assert args.port == container["ports"][0]["containerPort"], name


def volume_of(pod: dict, container: dict, path: str) -> dict:
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    return next(volume for volume in pod["volumes"] if volume["name"] == mounts[path])


def test_replicas_share_the_engines_and_no_volume(read_only):
    deployment = objects(read_only, "Deployment")["pipekit"]
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    env = {entry["name"]: entry for entry in container["env"]}
    assert env["PIPEKIT_DATA_DIR"]["value"] == "/data"
    assert volume_of(spec, container, "/data") == {"name": "data", "emptyDir": {}}
    claims = [v for v in spec["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [], "a ReadWriteOnce volume would pin every replica to one node"
    assert deployment["spec"]["replicas"] == 2
    # The new pod is up before an old one goes: a rollout never drops below two.
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (config,) = objects(read_only, "ConfigMap").values()
    assert config["data"]["MILVUS_URI"].startswith("http://")
    database = env["PIPEKIT_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert database == {"name": "pipekit-database", "key": "url"}  # a password: a secret
    assert "optional" not in database  # without it every replica would keep its own state


def test_a_replica_is_ready_only_when_its_database_and_milvus_answer(read_only):
    (container,) = pod_spec(objects(read_only, "Deployment")["pipekit"])["containers"]
    command = container["readinessProbe"]["exec"]["command"]
    assert command[2:] == ["--url", "http://127.0.0.1:9099/pipekit/ready"]
    # Alive is only the port: a database outage must not restart every replica.
    assert "tcpSocket" in container["livenessProbe"]


def test_disruptions_and_autoscaling_keep_at_least_one_replica_serving(read_only):
    deployment = objects(read_only, "Deployment")["pipekit"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    (budget,) = objects(read_only, "PodDisruptionBudget").values()
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (autoscaler,) = objects(read_only, "HorizontalPodAutoscaler").values()
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "pipekit",
    }
    assert autoscaler["spec"]["minReplicas"] == deployment["spec"]["replicas"] == 2
    assert autoscaler["spec"]["maxReplicas"] > 2


def test_the_single_replica_overlay_keeps_everything_on_one_volume(single_replica):
    deployment = objects(single_replica, "Deployment")["pipekit"]
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    claim = volume_of(spec, container, "/data")["persistentVolumeClaim"]["claimName"]
    (volume,) = [o for o in objects(single_replica, "PersistentVolumeClaim").values()
                 if o["metadata"]["name"] == claim]  # fmt: skip
    assert volume["spec"]["accessModes"] == ["ReadWriteOnce"]
    # A ReadWriteOnce volume and Milvus Lite files: never two pods on it during a rollout.
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert deployment["spec"]["replicas"] == 1
    assert not objects(single_replica, "HorizontalPodAutoscaler")
    assert not objects(single_replica, "PodDisruptionBudget")
    env = {entry["name"]: entry for entry in container["env"]}
    assert env["PIPEKIT_DATABASE_URL"] == {"name": "PIPEKIT_DATABASE_URL", "value": ""}
    (config,) = objects(single_replica, "ConfigMap").values()
    assert config["data"]["MILVUS_URI"] == ""  # Milvus Lite on the volume
    assert container["readinessProbe"]["exec"]["command"][2:] == []


def secret_references(rendered: list[dict]) -> set[str]:
    names = set()
    for deployment in objects(rendered, "Deployment").values():
        spec = pod_spec(deployment)
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                names.add(volume["secret"]["secretName"])
        for container in spec["containers"]:
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    names.add(ref["name"])
    return names


def test_secrets_are_referenced_never_shipped_and_the_docs_say_how_to_create_them(read_only):
    assert not objects(read_only, "Secret"), "secret values do not belong in the manifests"
    referenced = secret_references(read_only)
    assert {"pipekit-api-key", "pipekit-mcp-token", "pipekit-slack"} <= referenced
    docs = DEPLOY_DOCS.read_text(encoding="utf-8")
    for name in referenced:
        assert f"secret generic {name}" in docs, f"docs/deploy.md: how to create {name}"
    # The key reaches pipekit as a file, the way `pipekit serve` reads a mounted secret.
    (container,) = pod_spec(objects(read_only, "Deployment")["pipekit"])["containers"]
    env = {entry["name"]: entry for entry in container["env"]}
    key_file = env["PIPELINES_API_KEY_FILE"]["value"]
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert key_file.startswith(mounts["api-key"] + "/")


def test_read_only_overlay_grants_no_write_verb_and_no_secrets(read_only):
    granted = rules(read_only)
    assert {verb for _, _, verb in granted} <= READ_VERBS
    assert not {resource for _, resource, _ in granted if resource.startswith("secrets")}
    for name in (MCP_OPENSHIFT, "pipekit-mcp-slack"):
        (container,) = pod_spec(objects(read_only, "Deployment")[name])["containers"]
        assert "--read-only" in container["args"], name


def test_only_the_openshift_mcp_server_gets_a_kubernetes_identity(read_only):
    for name, deployment in objects(read_only, "Deployment").items():
        spec = pod_spec(deployment)
        if name == MCP_OPENSHIFT:
            assert spec["serviceAccountName"] == MCP_OPENSHIFT
            assert spec["automountServiceAccountToken"] is True
        else:
            assert spec["automountServiceAccountToken"] is False, name


def allow_list(rendered: list[dict]) -> set[str]:
    """PIPEKIT_MCP_NAMESPACES of the OpenShift MCP server; empty when it has none."""
    (container,) = pod_spec(objects(rendered, "Deployment")[MCP_OPENSHIFT])["containers"]
    env = {entry["name"]: entry.get("value", "") for entry in container["env"]}
    return {name.strip() for name in env.get("PIPEKIT_MCP_NAMESPACES", "").split(",") if name}


def bindings(rendered: list[dict], kind: str, role: str) -> list[dict]:
    return [o for o in rendered if o["kind"] == kind and o["roleRef"]["name"] == role]


def test_base_binds_no_role_so_no_overlay_reads_the_whole_cluster_by_accident():
    base = kustomize("../base")
    assert not [o for o in base if o["kind"] in ("ClusterRoleBinding", "RoleBinding")]
    assert allow_list(base) == set()


@pytest.mark.parametrize("overlay", ["read-only", "with-writes"])
def test_read_role_is_bound_per_listed_namespace_and_the_server_refuses_the_rest(overlay):
    rendered = kustomize(overlay)
    assert not objects(rendered, "ClusterRoleBinding"), "no cluster-wide read by default"
    account = objects(rendered, "ServiceAccount")[MCP_OPENSHIFT]["metadata"]["namespace"]
    reads = bindings(rendered, "RoleBinding", READ_ROLE)
    assert reads
    for binding in reads:
        assert binding["roleRef"]["kind"] == "ClusterRole"
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": MCP_OPENSHIFT, "namespace": account}
        ]
        assert binding["metadata"]["namespace"] != account
    # RBAC and the server's allow-list name the same namespaces.
    assert {b["metadata"]["namespace"] for b in reads} == allow_list(rendered)


def test_cluster_wide_read_is_an_explicit_overlay_without_an_allow_list(cluster_wide):
    (binding,) = bindings(cluster_wide, "ClusterRoleBinding", READ_ROLE)
    account = objects(cluster_wide, "ServiceAccount")[MCP_OPENSHIFT]["metadata"]["namespace"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": MCP_OPENSHIFT, "namespace": account}
    ]
    assert not objects(cluster_wide, "RoleBinding")
    assert allow_list(cluster_wide) == set()


# The Kubernetes client calls in pipekit.mcp.openshift, and the grant each needs.
API_CALLS = {
    "list_namespaced_pod": ("", "pods", "list"),
    "list_pod_for_all_namespaces": ("", "pods", "list"),
    "read_namespaced_pod": ("", "pods", "get"),
    "read_namespaced_pod_log": ("", "pods/log", "get"),
    "list_namespaced_event": ("", "events", "list"),
    "list_event_for_all_namespaces": ("", "events", "list"),
    "list_namespace": ("", "namespaces", "list"),
    "read_namespace": ("", "namespaces", "get"),
    "list_namespaced_deployment": ("apps", "deployments", "list"),
    "list_deployment_for_all_namespaces": ("apps", "deployments", "list"),
    "read_namespaced_deployment": ("apps", "deployments", "get"),
    "read_namespaced_deployment_scale": ("apps", "deployments/scale", "get"),
    "list_namespaced_custom_object": ("route.openshift.io", "routes", "list"),
    "list_cluster_custom_object": ("route.openshift.io", "routes", "list"),
    # Writes: granted only by the with-writes overlay.
    "patch_namespaced_deployment": ("apps", "deployments", "patch"),
    "patch_namespaced_deployment_scale": ("apps", "deployments/scale", "patch"),
}
# helm_releases_list: deliberately not granted (list secrets reads every secret's data).
NOT_GRANTED = {"list_namespaced_secret", "list_secret_for_all_namespaces"}


def test_roles_cover_every_kubernetes_call_the_mcp_server_makes(read_only, with_writes):
    import pipekit.mcp.openshift as openshift

    source = open(openshift.__file__, encoding="utf-8").read()
    calls = set(re.findall(r"self\.(?:core|apps|custom)\.(\w+)", source))
    unknown = calls - API_CALLS.keys() - NOT_GRANTED
    assert not unknown, f"new Kubernetes calls: add them to API_CALLS and to the Roles: {unknown}"
    for call in calls - NOT_GRANTED:
        group, resource, verb = API_CALLS[call]
        granted = rules(read_only if verb in READ_VERBS else with_writes)
        assert (group, resource, verb) in granted, f"{call} needs {verb} {group}/{resource}"
    assert ("project.openshift.io", "projects", "list") in rules(read_only)


def test_write_overlay_adds_only_patch_and_update_on_deployments(read_only, with_writes):
    added = rules(with_writes) - rules(read_only)
    assert added == {
        ("apps", resource, verb)
        for resource in ("deployments", "deployments/scale")
        for verb in WRITE_VERBS
    }
    # Bound per namespace (a RoleBinding), to the same service account, never cluster-wide.
    assert not objects(with_writes, "ClusterRoleBinding")
    (binding,) = bindings(with_writes, "RoleBinding", "pipekit-mcp-openshift-write")
    # A namespace outside the allow-list would be refused by the server anyway.
    assert binding["metadata"]["namespace"] in allow_list(with_writes)
    # write-rolebinding.yaml names the namespace itself: it must match the overlay's.
    account = objects(with_writes, "ServiceAccount")[MCP_OPENSHIFT]
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": MCP_OPENSHIFT,
            "namespace": account["metadata"]["namespace"],
        }
    ]
    for name in (MCP_OPENSHIFT, "pipekit-mcp-slack"):
        (container,) = pod_spec(objects(with_writes, "Deployment")[name])["containers"]
        assert "--read-only" not in container["args"], name


def test_write_overlay_changes_nothing_else(read_only, with_writes):
    def key(manifest: dict) -> tuple[str, str]:
        return manifest["kind"], manifest["metadata"]["name"]

    before = {key(m): m for m in read_only}
    after = {key(m): m for m in with_writes}
    added = set(after) - set(before)
    assert added == {
        ("ClusterRole", "pipekit-mcp-openshift-write"),
        ("RoleBinding", "pipekit-mcp-openshift-write"),
    }
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {("Deployment", MCP_OPENSHIFT), ("Deployment", "pipekit-mcp-slack")}


def test_every_pipekit_setting_in_the_config_map_is_read_by_pipekit(read_only):
    from tests.deploy.files import REPO

    source = "\n".join(p.read_text("utf-8") for p in (REPO / "src").rglob("*.py"))
    (config,) = objects(read_only, "ConfigMap").values()
    unread = [key for key in config["data"] if key.startswith("PIPEKIT_") and key not in source]
    assert unread == []
    assert config["data"]["PIPEKIT_EMBEDDER"].startswith("ollama:")


def job_pod(rendered: list[dict], name: str) -> dict:
    return objects(rendered, "CronJob")[name]["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def runs_beside_pipekit(rendered: list[dict], job: dict) -> bool:
    """Whether the job must land on the node of a pipekit pod (a ReadWriteOnce volume)."""
    terms = job.get("affinity", {}).get("podAffinity", {})
    (term,) = terms.get("requiredDuringSchedulingIgnoredDuringExecution", [None])
    if term is None:
        return False
    assert term["topologyKey"] == "kubernetes.io/hostname"
    server_labels = objects(rendered, "Deployment")["pipekit"]["spec"]["template"]["metadata"]
    return term["labelSelector"]["matchLabels"].items() <= server_labels["labels"].items()


def test_docs_crawl_job_ingests_a_site_into_the_stores_pipekit_reads(read_only, single_replica):
    cron = objects(read_only, "CronJob")["pipekit-docs-crawl"]
    assert cron["spec"]["suspend"] is True  # runs once pointed at a site
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"  # one crawl at a time
    spec = job_pod(read_only, "pipekit-docs-crawl")
    (container,) = spec["containers"]
    env = {entry["name"]: entry.get("value") for entry in container["env"]}
    # Kubernetes expands $(NAME) in args from the container's env: so does this test.
    args = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg) for arg in container["args"]]
    parsed = build_parser().parse_args(args)
    assert args[0] == "ingest" and parsed.sources == [env["DOCS_URL"]]
    assert parsed.collection == env["DOCS_COLLECTION"] and parsed.depth >= 1
    assert parsed.wait >= 300  # outlasts the server's hold on a Milvus Lite file
    # The settings and the database the server reads; no volume: it can run on any node.
    server = pod_spec(objects(read_only, "Deployment")["pipekit"])
    (server_container,) = server["containers"]
    assert container["envFrom"] == server_container["envFrom"]
    database = {e["name"]: e for e in server_container["env"]}["PIPEKIT_DATABASE_URL"]
    assert database in container["env"]
    assert volume_of(spec, container, "/data") == {"name": "data", "emptyDir": {}}
    assert not runs_beside_pipekit(read_only, spec)
    # One replica: pipekit's own volume, on pipekit's node.
    single = job_pod(single_replica, "pipekit-docs-crawl")
    (single_container,) = single["containers"]
    claim = volume_of(single, single_container, "/data")["persistentVolumeClaim"]["claimName"]
    assert claim == "pipekit-data" and runs_beside_pipekit(single_replica, single)
    security = container["securityContext"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    assert spec["automountServiceAccountToken"] is False


def test_models_import_job_imports_the_drop_volume_into_ollama(read_only, single_replica):
    cron = objects(read_only, "CronJob")["pipekit-models-import"]
    assert cron["spec"]["suspend"] is True  # runs once there is an Ollama to import into
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    spec = job_pod(read_only, "pipekit-models-import")
    (container,) = spec["containers"]
    args = build_parser().parse_args(container["args"])
    assert (args.models_command, str(args.source), args.force) == ("import", "/models", False)
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    claim = volume_of(spec, container, "/models")["persistentVolumeClaim"]["claimName"]
    assert claim == "pipekit-models" and mounts["/models"]["readOnly"]
    assert "pipekit-models" in objects(read_only, "PersistentVolumeClaim")
    # Replicas mount no ReadWriteOnce volume, so the job may run anywhere.
    assert not runs_beside_pipekit(read_only, spec)
    # One replica: the pipekit pod mounts the drop folder (for `oc cp`); the job, same node.
    server = pod_spec(objects(single_replica, "Deployment")["pipekit"])
    server_claims = {v["persistentVolumeClaim"]["claimName"] for v in server["volumes"]
                     if "persistentVolumeClaim" in v}  # fmt: skip
    assert "pipekit-models" in server_claims
    assert runs_beside_pipekit(single_replica, job_pod(single_replica, "pipekit-models-import"))
    # Ollama's URL comes from the same config map as the server's.
    server = pod_spec(objects(read_only, "Deployment")["pipekit"])
    assert container["envFrom"] == server["containers"][0]["envFrom"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["automountServiceAccountToken"] is False


def test_compose_reader_account_gets_the_read_role_per_namespace_and_a_token(kubernetes_validate):
    """docker/mcp-openshift-reader.yaml: the identity behind compose's mcp-openshift."""
    documents = list(yaml.safe_load_all((DOCKER / "mcp-openshift-reader.yaml").read_text()))
    for manifest in documents:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    by_kind = {manifest["kind"]: manifest for manifest in documents}
    assert set(by_kind) == {"ServiceAccount", "Secret", "RoleBinding"}
    account = by_kind["ServiceAccount"]["metadata"]
    secret = by_kind["Secret"]
    assert secret["type"] == "kubernetes.io/service-account-token" and "data" not in secret
    assert secret["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": account["name"]
    }
    binding = by_kind["RoleBinding"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": READ_ROLE,
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]
    base_role = yaml.safe_load((DOCKER / "openshift/base/mcp-openshift-rbac-read.yaml").read_text())
    assert base_role["kind"] == "ClusterRole" and base_role["metadata"]["name"] == READ_ROLE
