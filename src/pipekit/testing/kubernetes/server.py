"""The fake API server: state, routing, and the handlers with the real wire shapes and errors."""

from __future__ import annotations

import copy
import json
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..http_fake import HTTPFake, Request, Response
from .scenarios import SCENARIOS
from .selectors import field_selector_matches, label_selector_matches

_ROUTE_GROUP = "route.openshift.io"
Key = tuple[str, str]  # (namespace, name)


def _status(code: int, reason: str, message: str, **details: Any) -> Response:
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
    return Response.json(body, code)


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


class FakeKubernetes(HTTPFake):
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

    def handle(self, request: Request) -> Response:
        if self.token and request["headers"].get("authorization") != f"Bearer {self.token}":
            return _status(401, "Unauthorized", "Unauthorized")
        parts = [urllib.parse.unquote(p) for p in request["path"].strip("/").split("/")]
        with self._lock:
            return self._route(request, parts)

    def _route(self, request: Request, parts: list[str]) -> Response:
        method = request["method"]
        match parts:
            case ["api", "v1", "namespaces"]:
                return self._list_namespaces(request)
            case ["api", "v1", "namespaces", namespace] if method == "GET":
                if namespace not in self.namespaces:
                    return self._not_found("namespaces", namespace)
                return Response.json(
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
                return Response.json(
                    {
                        "kind": "ProjectList",
                        "apiVersion": "project.openshift.io/v1",
                        "metadata": {},
                        "items": items,
                    }
                )
        # What a real API server answers for a path or API group it does not serve.
        return Response(404, {"Content-Type": "text/plain; charset=utf-8"}, b"404 page not found\n")

    # --- handlers -------------------------------------------------------------------------

    def _forbidden(self, verb: str, kind: str, namespace: str | None, group: str = "") -> Response:
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        return _status(
            403,
            "Forbidden",
            f'{kind} is forbidden: User "{self.user}" cannot {verb} resource "{kind}" '
            f'in API group "{group}"{where}',
            kind=kind,
        )

    def _not_found(self, kind: str, name: str, group: str = "") -> Response:
        prefix = f"{kind}.{group}" if group else kind
        return _status(404, "NotFound", f'{prefix} "{name}" not found', name=name, kind=kind)

    def _list_namespaces(self, request: Request) -> Response:
        if "*" in self.forbidden_namespaces:
            return self._forbidden("list", "namespaces", None)
        items = [
            {"kind": "Namespace", "apiVersion": "v1"} | ns
            for ns in self.namespaces.values()
            if label_selector_matches(
                request["query"].get("labelSelector", ""), ns["metadata"]["labels"]
            )
        ]
        return Response.json(
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

    def _list(self, request: Request, kind: str, namespace: str | None) -> Response:
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
        labels = request["query"].get("labelSelector", "")
        fields = request["query"].get("fieldSelector", "")
        items = [
            copy.deepcopy(obj)
            for (ns, _name), obj in sorted(self.objects[kind].items())
            if (namespace is None or ns == namespace)
            and ns not in self.forbidden_namespaces
            and label_selector_matches(labels, obj["metadata"].get("labels") or {})
            and field_selector_matches(fields, obj)
        ]
        return Response.json(
            {
                "kind": list_kind,
                "apiVersion": version,
                "metadata": {"resourceVersion": "42"},
                "items": items,
            }
        )

    def _get(self, kind: str, namespace: str, name: str) -> Response:
        group = "apps" if kind == "deployments" else ""
        if namespace in self.forbidden_namespaces:
            return self._forbidden("get", kind, namespace, group)
        obj = self.objects[kind].get((namespace, name))
        if obj is None:
            return self._not_found(kind, name, group)
        return Response.json(obj)

    def _pod_log(self, request: Request, namespace: str, name: str) -> Response:
        if namespace in self.forbidden_namespaces:
            return self._forbidden("get", "pods/log", namespace)
        pod = self.objects["pods"].get((namespace, name))
        if pod is None:
            return self._not_found("pods", name)
        containers = [c["name"] for c in pod["spec"]["containers"]]
        container = request["query"].get("container")
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
        previous = request["query"].get("previous") == "true"
        lines = self.logs.get((namespace, name, container, previous))
        if lines is None and previous:
            return _status(
                400,
                "BadRequest",
                f'previous terminated container "{container}" in pod "{name}" not found',
            )
        lines = lines or []
        if since := request["query"].get("sinceSeconds"):
            lines = [entry for entry in lines if entry[0] <= float(since)]
        if tail := request["query"].get("tailLines"):
            lines = lines[-int(tail) :] if int(tail) else []
        text = "".join(line + "\n" for _age, line in lines).encode()
        if limit := request["query"].get("limitBytes"):
            text = text[: int(limit)]
        return Response(200, {"Content-Type": "text/plain"}, text)

    def _record_patch(
        self,
        request: Request,
        namespace: str,
        name: str,
        patch: dict[str, Any],
        dry_run: bool,
        **extra: str,
    ) -> None:
        content_type = request["headers"].get("content-type", "")
        self.patches.append(
            {"namespace": namespace, "name": name, "patch": patch, "dry_run": dry_run}
            | {"content_type": content_type, **extra}
        )

    def _patch_deployment(self, request: Request, namespace: str, name: str) -> Response:
        if namespace in self.forbidden_namespaces:
            return self._forbidden("patch", "deployments", namespace, "apps")
        current = self.objects["deployments"].get((namespace, name))
        if current is None:
            return self._not_found("deployments", name, "apps")
        patch = request["body"] or {}
        updated = _merge(copy.deepcopy(current), patch)
        dry_run = request["query"].get("dryRun") == "All"
        self._record_patch(request, namespace, name, patch, dry_run)
        if not dry_run:
            updated["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
            self.objects["deployments"][(namespace, name)] = updated
        return Response.json(updated)

    def _scale(self, request: Request, namespace: str, name: str) -> Response:
        if namespace in self.forbidden_namespaces:
            verb = "patch" if request["method"] == "PATCH" else "get"
            return self._forbidden(verb, "deployments/scale", namespace, "apps")
        deployment = self.objects["deployments"].get((namespace, name))
        if deployment is None:
            return self._not_found("deployments", name, "apps")
        if request["method"] == "PATCH":
            patch = request["body"] or {}
            dry_run = request["query"].get("dryRun") == "All"
            self._record_patch(request, namespace, name, patch, dry_run, subresource="scale")
            replicas = patch.get("spec", {}).get("replicas", deployment["spec"]["replicas"])
            if not dry_run:
                deployment["spec"]["replicas"] = replicas
        else:
            replicas = deployment["spec"]["replicas"]
        selector = ",".join(
            f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items()
        )
        return Response.json(
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
