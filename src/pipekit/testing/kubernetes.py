"""A fake Kubernetes/OpenShift API on 127.0.0.1 that the official `kubernetes` client talks to.

It serves the endpoints pipekit's OpenShift MCP server uses, with the real wire shapes:
namespaces (and OpenShift projects), pods with label and field selectors, pod logs as
`text/plain` (tailLines, sinceSeconds, previous, container), events, apps/v1 deployments
(get, list, strategic-merge patch, the scale subresource, `dryRun=All`), helm release secrets,
and route.openshift.io routes. Errors are `Status` objects with the real messages (403 for a
forbidden namespace, 404, 400 for a log request that names no container).

`FakeKubernetes()` starts with the incident scenarios (see `SCENARIOS`) loaded; tests can add
objects, flip `openshift`, forbid namespaces, or `stall()` it to look slow.

Also home of `LocalHTTPFake`, the request/response shape both this and the Slack fake use.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from .http_fake import ThreadedHTTPFake

# --- a threaded HTTP server on 127.0.0.1 ----------------------------------------------------


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else {}


@dataclass
class FakeResponse:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, payload: Any, status: int = 200, **headers: str) -> FakeResponse:
        return cls(status, json.dumps(payload).encode(), "application/json", headers)


class LocalHTTPFake(ThreadedHTTPFake):
    """A fake that records `FakeRequest`s; subclasses implement `handle`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.requests: list[FakeRequest] = []

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = FakeRequest(
            handler.command,
            parsed.path,
            dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)),
            {k.lower(): v for k, v in handler.headers.items()},
            handler.rfile.read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(request)
        if self.stall_s:
            time.sleep(self.stall_s)
        response = self.handle(request)
        handler.send_response(response.status)
        handler.send_header("Content-Type", response.content_type)
        handler.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(response.body)

    def handle(self, request: FakeRequest) -> FakeResponse:
        raise NotImplementedError


# --- selectors ----------------------------------------------------------------------------


def _split_selector(selector: str) -> list[str]:
    """Split on commas outside parentheses: `app in (a,b),tier=web`."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def label_selector_matches(selector: str, labels: dict[str, str]) -> bool:
    for term in _split_selector(selector or ""):
        if match := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\((.*)\)", term):
            key, op, values = match.group(1), match.group(2), match.group(3)
            allowed = {v.strip() for v in values.split(",")}
            if (labels.get(key) in allowed) != (op == "in"):
                return False
        elif match := re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)", term):
            key, op, value = match.groups()
            if (labels.get(key) == value) != (op != "!="):
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def field_selector_matches(selector: str, obj: dict[str, Any]) -> bool:
    for term in _split_selector(selector or ""):
        match = re.fullmatch(r"([\w.]+)\s*(==|=|!=)\s*(.*)", term)
        if not match:
            return False
        path, op, value = match.groups()
        current: Any = obj
        for part in path.split("."):
            current = current.get(part) if isinstance(current, dict) else None
        if (str(current or "") == value) != (op != "!="):
            return False
    return True


# --- the fake API -------------------------------------------------------------------------

_ROUTE_GROUP = "route.openshift.io"
Key = tuple[str, str]  # (namespace, name)


def _status(code: int, reason: str, message: str, **details: Any) -> FakeResponse:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }
    return FakeResponse.of(body, code)


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch; for the maps we patch it equals a strategic merge."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


class FakeKubernetes(LocalHTTPFake):
    """An API server with the incident scenarios loaded. Use as a context manager."""

    def __init__(
        self,
        *,
        scenarios: tuple[str, ...] | None = None,
        openshift: bool = True,
        token: str = "fake-sa-token",
        forbidden_namespaces: tuple[str, ...] = ("kube-system",),
        user: str = "system:serviceaccount:pipekit:incident-reader",
    ) -> None:
        super().__init__()
        self.openshift = openshift
        self.token = token
        self.forbidden_namespaces = set(forbidden_namespaces)
        self.user = user
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, dict[Key, dict[str, Any]]] = {
            kind: {} for kind in ("pods", "events", "deployments", "secrets", "routes")
        }
        # (namespace, pod, container, previous) -> [(seconds ago, line)]
        self.logs: dict[tuple[str, str, str, bool], list[tuple[float, str]]] = {}
        self.patches: list[dict[str, Any]] = []
        for name in scenarios if scenarios is not None else tuple(SCENARIOS):
            SCENARIOS[name](self)

    # --- loading --------------------------------------------------------------------------

    def ts(self, seconds_ago: float = 0) -> str:
        return (self.now - timedelta(seconds=seconds_ago)).isoformat().replace("+00:00", "Z")

    def add_namespace(self, name: str, **labels: str) -> None:
        self.namespaces[name] = {
            "metadata": {
                "name": name,
                "uid": f"ns-{name}",
                "creationTimestamp": self.ts(86_400 * 30),
                "labels": {"kubernetes.io/metadata.name": name, **labels},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }

    def add(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", f"{kind}-{meta['namespace']}-{meta['name']}")
        meta.setdefault("creationTimestamp", self.ts(3600))
        meta.setdefault("resourceVersion", "1")
        if meta["namespace"] not in self.namespaces:
            self.add_namespace(meta["namespace"])
        self.objects[kind][(meta["namespace"], meta["name"])] = obj
        return obj

    def set_log(
        self,
        namespace: str,
        pod: str,
        container: str,
        lines: list[str] | str,
        *,
        previous: bool = False,
        spacing_s: float = 1.0,
    ) -> None:
        """Log lines, oldest first; the last line is `spacing_s` old, each earlier one older."""
        lines = lines.splitlines() if isinstance(lines, str) else lines
        count = len(lines)
        self.logs[(namespace, pod, container, previous)] = [
            ((count - index) * spacing_s, line) for index, line in enumerate(lines)
        ]

    def kubeconfig(self, path: Path, *, context: str = "fake") -> Path:
        """Write a kubeconfig that points at this fake with its bearer token."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "reader", "user": {"token": self.token}}],
            "contexts": [
                {"name": context, "context": {"cluster": "fake", "user": "reader"}},
            ],
            "current-context": context,
        }
        path.write_text(json.dumps(config), encoding="utf-8")
        return path

    # --- routing --------------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> FakeResponse:
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return _status(401, "Unauthorized", "Unauthorized")
        parts = [urllib.parse.unquote(p) for p in request.path.strip("/").split("/")]
        with self._lock:
            return self._route(request, parts)

    def _route(self, request: FakeRequest, parts: list[str]) -> FakeResponse:
        method = request.method
        match parts:
            case ["api", "v1", "namespaces"]:
                return self._list_namespaces(request)
            case ["api", "v1", "namespaces", namespace] if method == "GET":
                if namespace not in self.namespaces:
                    return self._not_found("namespaces", namespace)
                return FakeResponse.of(
                    {"kind": "Namespace", "apiVersion": "v1"} | self.namespaces[namespace]
                )
            case ["api", "v1", "namespaces", ns, "pods", name, "log"]:
                return self._pod_log(request, ns, name)
            case ["api", "v1", "namespaces", ns, ("pods" | "events" | "secrets") as kind]:
                return self._list(request, kind, ns)
            case ["api", "v1", ("pods" | "events" | "secrets") as kind]:
                return self._list(request, kind, None)
            case ["api", "v1", "namespaces", ns, ("pods" | "events" | "secrets") as kind, name]:
                return self._get(kind, ns, name)
            case ["apis", "apps", "v1", "deployments"]:
                return self._list(request, "deployments", None)
            case ["apis", "apps", "v1", "namespaces", ns, "deployments"]:
                return self._list(request, "deployments", ns)
            case ["apis", "apps", "v1", "namespaces", ns, "deployments", name]:
                if method == "PATCH":
                    return self._patch_deployment(request, ns, name)
                return self._get("deployments", ns, name)
            case ["apis", "apps", "v1", "namespaces", ns, "deployments", name, "scale"]:
                return self._scale(request, ns, name)
            case ["apis", "route.openshift.io", "v1", "routes"] if self.openshift:
                return self._list(request, "routes", None)
            case ["apis", "route.openshift.io", "v1", "namespaces", ns, "routes"] if self.openshift:
                return self._list(request, "routes", ns)
            case ["apis", "project.openshift.io", "v1", "projects"] if self.openshift:
                items = [self._project(ns) for ns in sorted(self.namespaces)]
                return FakeResponse.of(
                    {
                        "kind": "ProjectList",
                        "apiVersion": "project.openshift.io/v1",
                        "metadata": {},
                        "items": items,
                    }
                )
        # What a real API server answers for a path or API group it does not serve.
        return FakeResponse(404, b"404 page not found\n", "text/plain; charset=utf-8")

    # --- handlers -------------------------------------------------------------------------

    def _forbidden(
        self, verb: str, kind: str, namespace: str | None, group: str = ""
    ) -> FakeResponse:
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        return _status(
            403,
            "Forbidden",
            f'{kind} is forbidden: User "{self.user}" cannot {verb} resource "{kind}" '
            f'in API group "{group}"{where}',
            kind=kind,
        )

    def _not_found(self, kind: str, name: str, group: str = "") -> FakeResponse:
        prefix = f"{kind}.{group}" if group else kind
        return _status(404, "NotFound", f'{prefix} "{name}" not found', name=name, kind=kind)

    def _list_namespaces(self, request: FakeRequest) -> FakeResponse:
        if "*" in self.forbidden_namespaces:
            return self._forbidden("list", "namespaces", None)
        items = [
            {"kind": "Namespace", "apiVersion": "v1"} | ns
            for ns in self.namespaces.values()
            if label_selector_matches(
                request.query.get("labelSelector", ""), ns["metadata"]["labels"]
            )
        ]
        return FakeResponse.of(
            {
                "kind": "NamespaceList",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": "1"},
                "items": items,
            }
        )

    def _project(self, namespace: str) -> dict[str, Any]:
        return {"kind": "Project", "apiVersion": "project.openshift.io/v1"} | copy.deepcopy(
            self.namespaces[namespace]
        )

    def _list(self, request: FakeRequest, kind: str, namespace: str | None) -> FakeResponse:
        group, version, list_kind = {
            "pods": ("", "v1", "PodList"),
            "events": ("", "v1", "EventList"),
            "secrets": ("", "v1", "SecretList"),
            "deployments": ("apps", "apps/v1", "DeploymentList"),
            "routes": (_ROUTE_GROUP, "route.openshift.io/v1", "RouteList"),
        }[kind]
        if namespace in self.forbidden_namespaces or (
            namespace is None and "*" in self.forbidden_namespaces
        ):
            return self._forbidden("list", kind, namespace, group)
        labels = request.query.get("labelSelector", "")
        fields = request.query.get("fieldSelector", "")
        items = [
            copy.deepcopy(obj)
            for (ns, _name), obj in sorted(self.objects[kind].items())
            if (namespace is None or ns == namespace)
            and ns not in self.forbidden_namespaces
            and label_selector_matches(labels, obj["metadata"].get("labels") or {})
            and field_selector_matches(fields, obj)
        ]
        return FakeResponse.of(
            {
                "kind": list_kind,
                "apiVersion": version,
                "metadata": {"resourceVersion": "42"},
                "items": items,
            }
        )

    def _get(self, kind: str, namespace: str, name: str) -> FakeResponse:
        group = "apps" if kind == "deployments" else ""
        if namespace in self.forbidden_namespaces:
            return self._forbidden("get", kind, namespace, group)
        obj = self.objects[kind].get((namespace, name))
        if obj is None:
            return self._not_found(kind, name, group)
        return FakeResponse.of(obj)

    def _pod_log(self, request: FakeRequest, namespace: str, name: str) -> FakeResponse:
        if namespace in self.forbidden_namespaces:
            return self._forbidden("get", "pods/log", namespace)
        pod = self.objects["pods"].get((namespace, name))
        if pod is None:
            return self._not_found("pods", name)
        containers = [c["name"] for c in pod["spec"]["containers"]]
        container = request.query.get("container")
        if not container:
            if len(containers) > 1:
                return _status(
                    400,
                    "BadRequest",
                    f"a container name must be specified for pod {name}, "
                    f"choose one of: [{' '.join(containers)}]",
                )
            container = containers[0]
        if container not in containers:
            return _status(400, "BadRequest", f"container {container} is not valid for pod {name}")
        previous = request.query.get("previous") == "true"
        lines = self.logs.get((namespace, name, container, previous))
        if lines is None and previous:
            return _status(
                400,
                "BadRequest",
                f'previous terminated container "{container}" in pod "{name}" not found',
            )
        lines = lines or []
        if since := request.query.get("sinceSeconds"):
            lines = [entry for entry in lines if entry[0] <= float(since)]
        if tail := request.query.get("tailLines"):
            lines = lines[-int(tail) :] if int(tail) else []
        text = "".join(line + "\n" for _age, line in lines).encode()
        if limit := request.query.get("limitBytes"):
            text = text[: int(limit)]
        return FakeResponse(200, text, "text/plain")

    def _record_patch(
        self,
        request: FakeRequest,
        namespace: str,
        name: str,
        patch: dict[str, Any],
        dry_run: bool,
        **extra: str,
    ) -> None:
        content_type = request.headers.get("content-type", "")
        self.patches.append(
            {"namespace": namespace, "name": name, "patch": patch, "dry_run": dry_run}
            | {"content_type": content_type, **extra}
        )

    def _patch_deployment(self, request: FakeRequest, namespace: str, name: str) -> FakeResponse:
        if namespace in self.forbidden_namespaces:
            return self._forbidden("patch", "deployments", namespace, "apps")
        current = self.objects["deployments"].get((namespace, name))
        if current is None:
            return self._not_found("deployments", name, "apps")
        patch = request.json()
        updated = _merge(copy.deepcopy(current), patch)
        dry_run = request.query.get("dryRun") == "All"
        self._record_patch(request, namespace, name, patch, dry_run)
        if not dry_run:
            updated["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
            self.objects["deployments"][(namespace, name)] = updated
        return FakeResponse.of(updated)

    def _scale(self, request: FakeRequest, namespace: str, name: str) -> FakeResponse:
        if namespace in self.forbidden_namespaces:
            verb = "patch" if request.method == "PATCH" else "get"
            return self._forbidden(verb, "deployments/scale", namespace, "apps")
        deployment = self.objects["deployments"].get((namespace, name))
        if deployment is None:
            return self._not_found("deployments", name, "apps")
        if request.method == "PATCH":
            patch = request.json()
            dry_run = request.query.get("dryRun") == "All"
            self._record_patch(request, namespace, name, patch, dry_run, subresource="scale")
            replicas = patch.get("spec", {}).get("replicas", deployment["spec"]["replicas"])
            if not dry_run:
                deployment["spec"]["replicas"] = replicas
        else:
            replicas = deployment["spec"]["replicas"]
        selector = ",".join(
            f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items()
        )
        return FakeResponse.of(
            {
                "kind": "Scale",
                "apiVersion": "autoscaling/v1",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"replicas": replicas},
                "status": {
                    "replicas": deployment.get("status", {}).get("replicas", 0),
                    "selector": selector,
                },
            }
        )


# --- object builders ----------------------------------------------------------------------


def container_status(
    name: str,
    image: str,
    *,
    ready: bool = True,
    restarts: int = 0,
    waiting: tuple[str, str] | None = None,
    last: dict[str, Any] | None = None,
    started: str | None = None,
) -> dict[str, Any]:
    state: dict[str, Any]
    if waiting:
        state = {"waiting": {"reason": waiting[0], "message": waiting[1]}}
    else:
        state = {"running": {"startedAt": started or "2025-01-01T00:00:00Z"}}
    return {
        "name": name,
        "image": image,
        "imageID": "" if waiting and "Image" in waiting[0] else f"{image}@sha256:{'0' * 64}",
        "ready": ready,
        "started": ready,
        "restartCount": restarts,
        "state": state,
        "lastState": {"terminated": last} if last else {},
    }


def pod(
    fake: FakeKubernetes,
    namespace: str,
    name: str,
    *,
    app: str,
    image: str,
    statuses: list[dict[str, Any]] | None = None,
    phase: str = "Running",
    node: str | None = "worker-1",
    resources: dict[str, Any] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    owner: str | None = None,
    age_s: float = 7200,
    extra_containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    containers = [
        {
            "name": app,
            "image": image,
            "resources": resources or {"requests": {"cpu": "100m", "memory": "128Mi"}},
        },
        *(extra_containers or []),
    ]
    spec: dict[str, Any] = {"containers": containers, "restartPolicy": "Always"}
    if node:
        spec["nodeName"] = node
    ready = phase == "Running" and all(s["ready"] for s in statuses or [])
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": conditions
        or [
            {"type": "PodScheduled", "status": "True"},
            {
                "type": "Ready",
                "status": "True" if ready else "False",
                **({} if ready else {"reason": "ContainersNotReady"}),
            },
        ],
        "startTime": fake.ts(age_s),
    }
    if node:
        status |= {
            "hostIP": "10.0.0.11",
            "podIP": f"10.128.{len(name) % 9}.{len(fake.objects['pods']) + 10}",
        }
    if statuses is not None:
        status["containerStatuses"] = statuses
    meta = {
        "name": name,
        "namespace": namespace,
        "labels": {
            "app": app,
            "pod-template-hash": name.rsplit("-", 2)[-2] if name.count("-") >= 2 else "x",
        },
        "creationTimestamp": fake.ts(age_s),
    }
    if owner:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": owner,
                "uid": f"rs-{owner}",
                "controller": True,
            }
        ]
    return fake.add(
        "pods",
        {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": status},
    )


def deployment(
    fake: FakeKubernetes,
    namespace: str,
    name: str,
    *,
    image: str,
    replicas: int,
    ready: int,
    env: list[dict[str, Any]] | None = None,
    resources: dict[str, Any] | None = None,
    available_reason: str | None = None,
) -> dict[str, Any]:
    healthy = ready >= replicas
    return fake.add(
        "deployments",
        {
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {"app": name},
                "generation": 3,
                "annotations": {"deployment.kubernetes.io/revision": "3"},
                "creationTimestamp": fake.ts(86_400 * 7),
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                },
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "containers": [
                            {
                                "name": name,
                                "image": image,
                                "env": env or [],
                                "resources": resources
                                or {"requests": {"cpu": "100m", "memory": "128Mi"}},
                            }
                        ]
                    },
                },
            },
            "status": {
                "observedGeneration": 3,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": ready,
                "availableReplicas": ready,
                **({} if healthy else {"unavailableReplicas": replicas - ready}),
                "conditions": [
                    {
                        "type": "Available",
                        "status": "True" if healthy else "False",
                        "reason": "MinimumReplicasAvailable"
                        if healthy
                        else (available_reason or "MinimumReplicasUnavailable"),
                        "message": "Deployment has minimum availability."
                        if healthy
                        else "Deployment does not have minimum availability.",
                    },
                    {
                        "type": "Progressing",
                        "status": "True",
                        "reason": "NewReplicaSetAvailable",
                        "message": f'ReplicaSet "{name}-7d9f8c6b5" has successfully progressed.',
                    },
                ],
            },
        },
    )


def event(
    fake: FakeKubernetes,
    namespace: str,
    obj: str,
    reason: str,
    message: str,
    *,
    kind: str = "Pod",
    type_: str = "Warning",
    count: int = 1,
    age_s: float = 60,
    first_age_s: float | None = None,
) -> dict[str, Any]:
    index = len(fake.objects["events"])
    return fake.add(
        "events",
        {
            "kind": "Event",
            "apiVersion": "v1",
            "metadata": {
                "name": f"{obj}.{index:08x}",
                "namespace": namespace,
                "creationTimestamp": fake.ts(first_age_s or age_s),
            },
            "involvedObject": {
                "kind": kind,
                "namespace": namespace,
                "name": obj,
                "apiVersion": "v1",
            },
            "reason": reason,
            "message": message,
            "source": {
                "component": "kubelet" if reason != "FailedScheduling" else "default-scheduler"
            },
            "firstTimestamp": fake.ts(first_age_s or age_s),
            "lastTimestamp": fake.ts(age_s),
            "count": count,
            "type": type_,
        },
    )


def running_pods(
    fake: FakeKubernetes,
    namespace: str,
    app: str,
    image: str,
    replica_set: str,
    log: list[str],
    *,
    suffixes: tuple[str, ...] = ("a1b2c", "d3e4f"),
) -> None:
    """Healthy pods of a deployment: running, ready, never restarted."""
    for suffix in suffixes:
        name = f"{replica_set}-{suffix}"
        ready = container_status(app, image, started=fake.ts(7000))
        pod(fake, namespace, name, app=app, image=image, owner=replica_set, statuses=[ready])
        fake.set_log(namespace, name, app, log)


def scaled_up(
    fake: FakeKubernetes,
    namespace: str,
    name: str,
    replica_set: str,
    replicas: int,
    *,
    age_s: float,
) -> None:
    """The Normal event a deployment rollout leaves behind."""
    message = f"Scaled up replica set {replica_set} to {replicas}"
    event(
        fake,
        namespace,
        name,
        "ScalingReplicaSet",
        message,
        kind="Deployment",
        type_="Normal",
        age_s=age_s,
    )


def helm_release(
    fake: FakeKubernetes,
    namespace: str,
    name: str,
    revision: int,
    status: str,
    version: str,
    app_version: str,
) -> dict[str, Any]:
    """A `sh.helm.release.v1` secret: data.release = base64(base64(gzip(json)))."""
    release = {
        "name": name,
        "namespace": namespace,
        "version": revision,
        "info": {
            "status": status,
            "last_deployed": fake.ts(3600 * (10 - revision)),
            "description": "Upgrade complete",
        },
        "chart": {"metadata": {"name": name, "version": version, "appVersion": app_version}},
        "config": {"database": {"password": "not-for-the-model"}},
    }
    helm_encoded = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    return fake.add(
        "secrets",
        {
            "kind": "Secret",
            "apiVersion": "v1",
            "type": "helm.sh/release.v1",
            "metadata": {
                "name": f"sh.helm.release.v1.{name}.v{revision}",
                "namespace": namespace,
                "labels": {
                    "owner": "helm",
                    "name": name,
                    "status": status,
                    "version": str(revision),
                },
            },
            "data": {"release": base64.b64encode(helm_encoded).decode()},
        },
    )


def route(
    fake: FakeKubernetes, namespace: str, name: str, host: str, service: str, *, tls: bool = True
) -> None:
    spec: dict[str, Any] = {
        "host": host,
        "to": {"kind": "Service", "name": service, "weight": 100},
        "port": {"targetPort": "http"},
    }
    if tls:
        spec["tls"] = {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}
    fake.add(
        "routes",
        {
            "kind": "Route",
            "apiVersion": "route.openshift.io/v1",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
            "status": {
                "ingress": [
                    {
                        "host": host,
                        "routerName": "default",
                        "conditions": [{"type": "Admitted", "status": "True"}],
                    }
                ]
            },
        },
    )


# --- scenarios ----------------------------------------------------------------------------

UNSCHEDULABLE = (
    "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
    "3 No preemption victims found for incoming pod."
)

CHECKOUT_LOG = [
    "2025-06-01T10:00:00Z INFO  checkout starting version=1.4.2",
    "2025-06-01T10:00:00Z INFO  loading configuration from environment",
    "2025-06-01T10:00:01Z ERROR config: required environment variable DATABASE_URL is not set",
    "Traceback (most recent call last):",
    '  File "/app/checkout/settings.py", line 18, in <module>',
    '    DATABASE_URL = os.environ["DATABASE_URL"]',
    "KeyError: 'DATABASE_URL'",
    "2025-06-01T10:00:01Z FATAL checkout exiting with code 1",
]


def scenario_crashloop(fake: FakeKubernetes) -> None:
    """shop: checkout pods in CrashLoopBackOff because DATABASE_URL is missing."""
    ns = "shop"
    fake.add_namespace(ns, team="storefront")
    deployment(
        fake,
        ns,
        "checkout",
        image="quay.io/acme/checkout:1.4.2",
        replicas=2,
        ready=0,
        env=[
            {"name": "PORT", "value": "8080"},
            {"name": "REDIS_URL", "value": "redis://redis:6379"},
        ],
    )
    deployment(fake, ns, "frontend", image="quay.io/acme/frontend:3.1.0", replicas=2, ready=2)
    last = {"reason": "Error", "exitCode": 1, "startedAt": fake.ts(95), "finishedAt": fake.ts(94)}
    for suffix in ("x7k2p", "q9m4d"):
        name = f"checkout-7d9f8c6b5-{suffix}"
        pod(
            fake,
            ns,
            name,
            app="checkout",
            image="quay.io/acme/checkout:1.4.2",
            owner="checkout-7d9f8c6b5",
            statuses=[
                container_status(
                    "checkout",
                    "quay.io/acme/checkout:1.4.2",
                    ready=False,
                    restarts=7,
                    waiting=(
                        "CrashLoopBackOff",
                        f"back-off 5m0s restarting failed container=checkout pod={name}",
                    ),
                    last=last,
                )
            ],
        )
        fake.set_log(ns, name, "checkout", CHECKOUT_LOG[:2])
        fake.set_log(ns, name, "checkout", CHECKOUT_LOG, previous=True)
        event(
            fake,
            ns,
            name,
            "BackOff",
            "Back-off restarting failed container checkout in pod " + name,
            count=37,
            age_s=20,
            first_age_s=1800,
        )
        event(
            fake,
            ns,
            name,
            "Pulled",
            'Container image "quay.io/acme/checkout:1.4.2" already present on machine',
            type_="Normal",
            count=8,
            age_s=95,
        )
    log = ["GET /healthz 200", "GET /healthz 200", "GET / 200"]
    running_pods(fake, ns, "frontend", "quay.io/acme/frontend:3.1.0", "frontend-5c6d7e8f9", log)
    scaled_up(fake, ns, "checkout", "checkout-7d9f8c6b5", 2, age_s=1900)
    route(fake, ns, "shop", "shop.apps.example.com", "frontend")
    helm_release(fake, ns, "shop", 1, "superseded", "1.4.1", "1.4.1")
    helm_release(fake, ns, "shop", 2, "deployed", "1.4.2", "1.4.2")


def scenario_oomkilled(fake: FakeKubernetes) -> None:
    """analytics: a worker killed for exceeding its 256Mi memory limit."""
    ns = "analytics"
    fake.add_namespace(ns)
    limits = {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}
    deployment(
        fake,
        ns,
        "report-worker",
        image="quay.io/acme/report-worker:2.0.0",
        replicas=1,
        ready=0,
        resources=limits,
    )
    name = "report-worker-6f8d9b7c4-h5j6k"
    last = {
        "reason": "OOMKilled",
        "exitCode": 137,
        "startedAt": fake.ts(300),
        "finishedAt": fake.ts(240),
    }
    pod(
        fake,
        ns,
        name,
        app="report-worker",
        image="quay.io/acme/report-worker:2.0.0",
        owner="report-worker-6f8d9b7c4",
        resources=limits,
        statuses=[
            container_status(
                "report-worker",
                "quay.io/acme/report-worker:2.0.0",
                ready=False,
                restarts=4,
                waiting=("CrashLoopBackOff", "back-off 2m40s restarting failed container"),
                last=last,
            )
        ],
    )
    fake.set_log(
        ns,
        name,
        "report-worker",
        [
            "INFO worker started, concurrency=4",
            "INFO loading dataset sales-2024.parquet (2.1 GB) into memory",
        ],
        previous=True,
    )
    fake.set_log(ns, name, "report-worker", ["INFO worker started, concurrency=4"])
    event(
        fake,
        ns,
        name,
        "BackOff",
        f"Back-off restarting failed container report-worker in pod {name}",
        count=12,
        age_s=30,
    )


def scenario_imagepull(fake: FakeKubernetes) -> None:
    """payments: a typo in the image tag, so the image cannot be pulled."""
    ns = "payments"
    fake.add_namespace(ns)
    image = "quay.io/acme/payments-api:2.0.1-rc"
    deployment(fake, ns, "payments-api", image=image, replicas=1, ready=0)
    name = "payments-api-84b5c6d7f8-m2n3p"
    pod(
        fake,
        ns,
        name,
        app="payments-api",
        image=image,
        owner="payments-api-84b5c6d7f8",
        statuses=[
            container_status(
                "payments-api",
                image,
                ready=False,
                waiting=("ImagePullBackOff", f'Back-off pulling image "{image}"'),
            )
        ],
    )
    event(
        fake,
        ns,
        name,
        "Failed",
        f'Failed to pull image "{image}": rpc error: code = NotFound desc = '
        f'failed to pull and unpack image "{image}": not found',
        count=6,
        age_s=45,
    )
    event(fake, ns, name, "Failed", "Error: ErrImagePull", count=6, age_s=45)
    event(fake, ns, name, "BackOff", f'Back-off pulling image "{image}"', count=21, age_s=15)


def scenario_pending(fake: FakeKubernetes) -> None:
    """batch: a pod asking for 16 CPUs that no node has, so it stays Pending."""
    ns = "batch"
    fake.add_namespace(ns)
    heavy = {"requests": {"cpu": "16", "memory": "4Gi"}}
    deployment(
        fake,
        ns,
        "ml-trainer",
        image="quay.io/acme/ml-trainer:0.9",
        replicas=1,
        ready=0,
        resources=heavy,
    )
    name = "ml-trainer-55d8f7c9b6-r7s8t"
    pod(
        fake,
        ns,
        name,
        app="ml-trainer",
        image="quay.io/acme/ml-trainer:0.9",
        owner="ml-trainer-55d8f7c9b6",
        phase="Pending",
        node=None,
        resources=heavy,
        statuses=None,
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": UNSCHEDULABLE,
            }
        ],
    )
    event(
        fake,
        ns,
        name,
        "FailedScheduling",
        UNSCHEDULABLE,
        count=9,
        age_s=50,
    )


def scenario_healthy(fake: FakeKubernetes) -> None:
    """web: everything running and ready."""
    ns = "web"
    fake.add_namespace(ns)
    deployment(
        fake,
        ns,
        "nginx",
        image="registry.access.redhat.com/ubi9/nginx-122:latest",
        replicas=2,
        ready=2,
    )
    image = "registry.access.redhat.com/ubi9/nginx-122:latest"
    log = ['10.128.0.1 - - "GET / HTTP/1.1" 200 612']
    running_pods(fake, ns, "nginx", image, "nginx-6b7c8d9e0f", log, suffixes=("v1w2x", "y3z4a"))
    scaled_up(fake, ns, "nginx", "nginx-6b7c8d9e0f", 2, age_s=86_000)
    route(fake, ns, "nginx", "www.apps.example.com", "nginx")
    helm_release(fake, ns, "nginx", 5, "deployed", "15.1.0", "1.22.1")


def scenario_restricted(fake: FakeKubernetes) -> None:
    """kube-system: exists, but the read-only service account may not look inside."""
    fake.add_namespace("kube-system")


SCENARIOS = {
    "crashloop": scenario_crashloop,
    "oomkilled": scenario_oomkilled,
    "imagepull": scenario_imagepull,
    "pending": scenario_pending,
    "healthy": scenario_healthy,
    "restricted": scenario_restricted,
}
