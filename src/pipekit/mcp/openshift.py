"""OpenShift/Kubernetes MCP server: see what is failing; restart or scale only when allowed.

Reads: namespaces (OpenShift projects), pods (list with phase/reason filters, get), pod logs
(tail, since, previous, grep, repeated lines collapsed), events, deployments, routes, helm
releases. Writes: rollout restart and scale — annotated as destructive, hidden and refused
with `--read-only`, and both take `dry_run` so an approval step can show what would change.

With `namespaces` (`--namespaces a,b`) every tool is limited to those namespaces: others are
refused before any API call, and "all namespaces" means all of those.

Output is what `kubectl` would print, clipped to an output budget. API errors (403, 404,
unreachable) come back as tool errors a person can act on, never as tracebacks.

It talks to the cluster with the official `kubernetes` client (kubeconfig, or the pod's
service account in-cluster) and reads raw JSON rather than the typed models, so fields a
newer cluster adds never break a tool. See docs/mcp.md for the RBAC it needs.
"""

from __future__ import annotations

import base64
import binascii
import functools
import gzip
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from pipekit import settings

from .budget import DEFAULT_BUDGET, Budget, collapse_repeats, fit
from .server import WRITE, ToolServer

log = logging.getLogger(__name__)

# (connect, read) seconds: a hung API server must not hang the agent.
REQUEST_TIMEOUT = (5.0, 30.0)
LOG_LIMIT_BYTES = 8 * 1024 * 1024
MAX_REPLICAS = 50
RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
ROUTE_API = ("route.openshift.io", "v1")
POD_COLUMNS = (
    "NAMESPACE",
    "NAME",
    "READY",
    "STATUS",
    "RESTARTS",
    "LAST TERMINATION",
    "AGE",
    "NODE",
)
DEPLOYMENT_COLUMNS = ("NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "IMAGES")
ROUTE_COLUMNS = ("NAMESPACE", "NAME", "HOST/PATH", "SERVICE:PORT", "TLS")
HELM_COLUMNS = ("NAME", "NAMESPACE", "REVISION", "STATUS", "CHART", "APP VERSION", "UPDATED")

Namespace = Annotated[str, Field(description="Namespace (OpenShift project).")]
AnyNamespace = Annotated[
    str | None,
    Field(description="Namespace (OpenShift project); empty for every namespace it may see."),
]
Name = Annotated[str, Field(description="Object name.")]
DryRun = Annotated[
    bool, Field(description="Only show what would change (server-side dry run); nothing changes.")
]

INSTRUCTIONS = (
    "Read-only tools to investigate Kubernetes/OpenShift workloads: start with pods_list "
    "(status='unhealthy'), then pods_get, events_list and pods_log (previous=true for the "
    "crashed instance). Writes (deployment_restart, deployment_scale) need a human's approval."
)


class ClusterConfigError(RuntimeError):
    """No usable kubeconfig or in-cluster service account."""


class KubeApiError(ToolError):
    """An API call failed; the message is for the model and the user, `status` for code."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def api_client(kubeconfig: str | None = None, context: str | None = None) -> client.ApiClient:
    """An API client from a kubeconfig (file, $KUBECONFIG, ~/.kube/config) or in-cluster."""
    configuration = client.Configuration()
    default = Path("~/.kube/config").expanduser()
    try:
        if kubeconfig or context or settings.kubeconfig() or default.exists():
            config.load_kube_config(
                config_file=kubeconfig,
                context=context,
                client_configuration=configuration,
                persist_config=False,  # never rewrite the user's kubeconfig
            )
        else:
            config.load_incluster_config(client_configuration=configuration)
    except (ConfigException, OSError) as error:
        raise ClusterConfigError(
            f"No Kubernetes credentials: {error}. Pass --kubeconfig/--context, set KUBECONFIG, "
            "or run in a pod with a service account."
        ) from error
    # One retry: a refused connection should fail in seconds, not after urllib3's back-off.
    configuration.retries = 1
    return client.ApiClient(configuration)


class OpenShiftTools:
    """The tools, as plain methods over one API client; `build_server` registers them."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        budget: Budget = DEFAULT_BUDGET,
        namespaces: frozenset[str] | None = None,
    ) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.budget = budget
        # The allow-list: None reads whatever the credentials allow. Checked here as well as
        # by RBAC, so a cluster-wide binding or an operator's kubeconfig cannot widen it.
        self.namespaces = namespaces

    @property
    def host(self) -> str:
        return self.api.configuration.host

    # --- plumbing -------------------------------------------------------------------------

    def _call(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one API call; JSON comes back as dicts, text as str; errors as ToolError."""
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        try:
            response = method(
                *args, _preload_content=False, _request_timeout=REQUEST_TIMEOUT, **kwargs
            )
        except ApiException as error:
            raise KubeApiError(_explain(error, what), error.status) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise KubeApiError(
                f"The Kubernetes API at {self.host} is not reachable while {what}: {reason}. "
                "Check the server's kubeconfig/context and the network path to the cluster."
            ) from None
        data = response.data
        if "json" in (response.headers.get("content-type") or ""):
            return json.loads(data)
        return data.decode("utf-8", errors="replace")

    def _allow(self, namespace: str) -> None:
        """Refuse, before any API call, a namespace outside the allow-list."""
        if self.namespaces is not None and namespace not in self.namespaces:
            raise ToolError(
                f"Refused: namespace {namespace!r} is outside the namespaces this MCP server "
                f"may use ({', '.join(sorted(self.namespaces))}). Ask an operator to add it to "
                "its --namespaces if you need it."
            )

    def _where(self, namespace: str | None) -> str:
        if namespace:
            return f"in {namespace}"
        if self.namespaces is not None:
            return f"in the allowed namespaces ({', '.join(sorted(self.namespaces))})"
        return "in all namespaces"

    def _items(self, kind: str, namespace: str | None, **options: Any) -> list[dict[str, Any]]:
        """List `kind` in one namespace, or in all (allowed) ones when `namespace` is empty."""
        in_namespace, everywhere = {
            "pods": (self.core.list_namespaced_pod, self.core.list_pod_for_all_namespaces),
            "events": (self.core.list_namespaced_event, self.core.list_event_for_all_namespaces),
            "deployments": (
                self.apps.list_namespaced_deployment,
                self.apps.list_deployment_for_all_namespaces,
            ),
            "helm release secrets": (
                self.core.list_namespaced_secret,
                self.core.list_secret_for_all_namespaces,
            ),
            "routes": (
                functools.partial(self._routes_in, ROUTE_API),
                functools.partial(self.custom.list_cluster_custom_object, *ROUTE_API, "routes"),
            ),
        }[kind]
        what = f"listing {kind} {self._where(namespace)}"
        options = {k: v for k, v in options.items() if v}
        if namespace:
            self._allow(namespace)
            return self._call(what, in_namespace, namespace, **options)["items"]
        if self.namespaces is not None:
            # One list per allowed namespace: this is also all a per-namespace RoleBinding allows.
            return [
                item
                for allowed in sorted(self.namespaces)
                for item in self._call(
                    f"listing {kind} in {allowed}", in_namespace, allowed, **options
                )["items"]
            ]
        return self._call(what, everywhere, **options)["items"]

    def _routes_in(self, api: tuple[str, str], namespace: str, **options: Any) -> Any:
        return self.custom.list_namespaced_custom_object(*api, namespace, "routes", **options)

    def _fit(self, lines: list[str], *, keep: str = "head", hint: str = "") -> str:
        return fit(lines, self.budget, keep=keep, hint=hint)  # type: ignore[arg-type]

    # --- reads ----------------------------------------------------------------------------

    def namespaces_list(self) -> str:
        """List namespaces (OpenShift projects) with their status and age."""
        items = (
            self._allowed_namespaces() if self.namespaces is not None else self._all_namespaces()
        )
        now = _now()
        rows = [
            [
                m["name"],
                (ns.get("status") or {}).get("phase", ""),
                _age(m.get("creationTimestamp"), now),
            ]
            for ns in items
            for m in [ns["metadata"]]
        ]
        return self._fit(_table(("NAME", "STATUS", "AGE"), rows) or ["No namespaces visible."])

    def _allowed_namespaces(self) -> list[dict[str, Any]]:
        """Each allowed namespace, read by name: a RoleBinding grants `get` on its namespace."""
        found = []
        for name in sorted(self.namespaces or ()):
            try:
                found.append(
                    self._call(f"reading namespace {name}", self.core.read_namespace, name)
                )
            except KubeApiError as error:
                if error.status not in (403, 404):
                    raise
                # Still listed, so the model sees the name and why it cannot look inside.
                phase = "Forbidden" if error.status == 403 else "NotFound"
                found.append({"metadata": {"name": name}, "status": {"phase": phase}})
        return found

    def _all_namespaces(self) -> list[dict[str, Any]]:
        try:
            items = self._call("listing namespaces", self.core.list_namespace)["items"]
        except KubeApiError as error:
            # OpenShift users who may not list namespaces can still list their projects.
            if error.status != 403:
                raise
            try:
                items = self._call(
                    "listing projects",
                    self.custom.list_cluster_custom_object,
                    "project.openshift.io",
                    "v1",
                    "projects",
                )["items"]
            except KubeApiError:
                raise error from None
        return items

    def pods_list(
        self,
        namespace: AnyNamespace = None,
        label_selector: Annotated[
            str | None, Field(description="Label selector, e.g. 'app=checkout'.")
        ] = None,
        status: Annotated[
            str | None,
            Field(
                description="Keep pods whose phase, status or last termination reason "
                "matches, e.g. CrashLoopBackOff, OOMKilled, ImagePullBackOff, Pending; "
                "'unhealthy' for every pod that is not Running and ready (or Succeeded)."
            ),
        ] = None,
    ) -> str:
        """List pods: ready, status (as kubectl shows it), restarts, last termination, node."""
        where = self._where(namespace)
        everything = items = self._items("pods", namespace, label_selector=label_selector)
        if status:
            items = [p for p in items if _pod_matches(p, status)]
        now = _now()
        rows = []
        for p in items:
            meta, spec = p["metadata"], p.get("spec") or {}
            row = [
                meta["name"],
                _ready(p),
                _pod_status(p),
                str(_restarts(p)),
                _last_termination(p, now) or "-",
                _age(meta.get("creationTimestamp"), now),
                spec.get("nodeName") or "-",
            ]
            rows.append([meta["namespace"], *row])
        if not rows:
            found = f" with status {status!r}" if status else ""
            total = f" ({len(everything)} pods in total)" if status else ""
            return f"No pods{found} {where}{total}."
        return self._fit(
            _table(POD_COLUMNS, rows, namespace),
            hint="Filter with namespace, label_selector or status.",
        )

    def pods_get(self, namespace: Namespace, name: Name) -> str:
        """Describe a pod: node, conditions; per container state, restarts, last exit, resources."""
        self._allow(namespace)
        p = self._call(
            f"reading pod {namespace}/{name}", self.core.read_namespaced_pod, name, namespace
        )
        meta, spec, st = p["metadata"], p.get("spec") or {}, p.get("status") or {}
        now = _now()
        owners = ", ".join(f"{o['kind']}/{o['name']}" for o in meta.get("ownerReferences") or [])
        lines = [
            f"Pod {meta['namespace']}/{meta['name']}",
            f"Status: {_pod_status(p)} (phase {st.get('phase', '?')}), "
            f"age {_age(meta.get('creationTimestamp'), now)}",
            f"Node: {spec.get('nodeName') or '(not scheduled)'}  Pod IP: {st.get('podIP') or '-'}",
        ]
        if owners:
            lines.append(f"Controlled by: {owners}")
        if labels := meta.get("labels"):
            lines.append("Labels: " + ", ".join(f"{k}={v}" for k, v in labels.items()))
        for c in st.get("conditions") or []:
            detail = " — ".join(x for x in (c.get("reason"), c.get("message")) if x)
            lines.append(
                f"Condition {c['type']}={c['status']}" + (f" ({detail})" if detail else "")
            )
        statuses = {s["name"]: s for s in st.get("initContainerStatuses") or []}
        statuses |= {s["name"]: s for s in st.get("containerStatuses") or []}
        for kind, containers in (
            ("Init container", spec.get("initContainers")),
            ("Container", spec.get("containers")),
        ):
            for c in containers or []:
                s = statuses.get(c["name"], {})
                lines.append(f"{kind} {c['name']}: image {c.get('image')}")
                if s:
                    lines.append(
                        f"  ready={s.get('ready')} restarts={s.get('restartCount', 0)} "
                        f"state: {_state(s.get('state'), now)}"
                    )
                    if last := (s.get("lastState") or {}).get("terminated"):
                        lines.append(f"  last termination: {_state({'terminated': last}, now)}")
                if resources := _resources(c):
                    lines.append(f"  resources: {resources}")
        return self._fit(lines)

    def pods_log(
        self,
        namespace: Namespace,
        name: Annotated[str, Field(description="Pod name.")],
        container: Annotated[
            str | None, Field(description="Container; needed when the pod has several.")
        ] = None,
        tail_lines: Annotated[
            int, Field(ge=1, le=10_000, description="How many of the newest lines to read.")
        ] = 500,
        since_seconds: Annotated[
            int | None, Field(ge=1, description="Only lines from the last N seconds.")
        ] = None,
        previous: Annotated[
            bool, Field(description="Log of the previous (crashed) container instance.")
        ] = False,
        grep: Annotated[
            str | None,
            Field(description="Keep only lines matching this case-insensitive regex (or text)."),
        ] = None,
    ) -> str:
        """Read a pod's newest log lines (repeats collapsed); previous=true for the crashed one."""
        self._allow(namespace)
        what = f"reading the log of pod {namespace}/{name}"
        text = self._call(
            what,
            self.core.read_namespaced_pod_log,
            name,
            namespace,
            container=container or None,
            tail_lines=tail_lines,
            since_seconds=since_seconds,
            previous=previous or None,
            limit_bytes=LOG_LIMIT_BYTES,
        )
        lines = text.splitlines()
        read = len(lines)
        if grep:
            try:
                pattern = re.compile(grep, re.IGNORECASE)
            except re.error:
                pattern = re.compile(re.escape(grep), re.IGNORECASE)
            lines = [line for line in lines if pattern.search(line)]
        source = f"{namespace}/{name}" + (f" container {container}" if container else "")
        source += " (previous instance)" if previous else ""
        if not lines:
            if grep and read:
                return f"No lines matching {grep!r} in the last {read} lines of {source}."
            return f"The log of {source} is empty" + (
                " for that time range." if since_seconds else "."
            )
        header = f"Log of {source}: {read} lines read" + (
            f", {len(lines)} match {grep!r}" if grep else ""
        )
        body = self._fit(
            collapse_repeats(lines),
            keep="tail",
            hint="Narrow with grep, since_seconds or a smaller tail_lines.",
        )
        return f"{header}\n{body}"

    def events_list(
        self,
        namespace: AnyNamespace = None,
        involved_object: Annotated[
            str | None,
            Field(
                description="Only events about this object: 'name' or 'Kind/name', "
                "e.g. Pod/checkout-7d9f8c6b5-x7k2p."
            ),
        ] = None,
        warnings_only: Annotated[bool, Field(description="Only Warning events.")] = False,
        limit: Annotated[int, Field(ge=1, le=500, description="Newest events to show.")] = 50,
    ) -> str:
        """List events, newest last: type, reason, object, message and how often it repeated."""
        selectors = []
        if involved_object:
            kind, _, obj = involved_object.rpartition("/")
            selectors.append(f"involvedObject.name={obj}")
            if kind:
                selectors.append(f"involvedObject.kind={kind[:1].upper()}{kind[1:]}")
        if warnings_only:
            selectors.append("type=Warning")
        where = self._where(namespace)
        items = self._items("events", namespace, field_selector=",".join(selectors))
        if not items:
            about = f" about {involved_object}" if involved_object else ""
            return f"No {'warning ' if warnings_only else ''}events{about} {where}."
        items.sort(key=_event_time)
        cut = max(0, len(items) - limit)
        now = _now()
        lines = [f"{cut} older events not shown (raise limit to see them)."] if cut else []
        for e in items[cut:]:
            obj = e.get("involvedObject") or {}
            count = e.get("count") or (e.get("series") or {}).get("count") or 1
            lines.append(
                f"{_age(_event_time(e), now):>5} {e.get('type', ''):<7} {e.get('reason', '')} "
                f"{obj.get('kind', '')}/{obj.get('name', '')}"
                + (
                    ""
                    if namespace
                    else f" [{obj.get('namespace') or e['metadata'].get('namespace')}]"
                )
                + f": {(e.get('message') or '').strip()}"
                + (f" (×{count})" if count > 1 else "")
            )
        return self._fit(lines, keep="tail", hint="Filter with involved_object or warnings_only.")

    def deployments_list(
        self,
        namespace: AnyNamespace = None,
        label_selector: Annotated[str | None, Field(description="Label selector.")] = None,
    ) -> str:
        """List deployments with desired/ready/up-to-date/available replicas, age and images."""
        items = self._items("deployments", namespace, label_selector=label_selector)
        if not items:
            return f"No deployments {self._where(namespace)}."
        now = _now()
        rows = []
        for d in items:
            meta, st = d["metadata"], d.get("status") or {}
            images = ",".join(c.get("image", "") for c in _template_containers(d))
            row = [
                meta["name"],
                f"{st.get('readyReplicas', 0)}/{(d.get('spec') or {}).get('replicas', 1)}",
                str(st.get("updatedReplicas", 0)),
                str(st.get("availableReplicas", 0)),
                _age(meta.get("creationTimestamp"), now),
                images,
            ]
            rows.append([meta["namespace"], *row])
        return self._fit(_table(DEPLOYMENT_COLUMNS, rows, namespace))

    def deployments_get(self, namespace: Namespace, name: Name) -> str:
        """Describe a deployment: replicas, conditions, images, resources, env names, restarts."""
        self._allow(namespace)
        d = self._call(
            f"reading deployment {namespace}/{name}",
            self.apps.read_namespaced_deployment,
            name,
            namespace,
        )
        meta, spec, st = d["metadata"], d.get("spec") or {}, d.get("status") or {}
        annotations = meta.get("annotations") or {}
        template_annotations = ((spec.get("template") or {}).get("metadata") or {}).get(
            "annotations"
        ) or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        lines = [
            f"Deployment {meta['namespace']}/{meta['name']} "
            f"(revision {annotations.get('deployment.kubernetes.io/revision', '?')})",
            f"Replicas: {spec.get('replicas', 1)} desired, {st.get('updatedReplicas', 0)} updated, "
            f"{st.get('readyReplicas', 0)} ready, {st.get('availableReplicas', 0)} available, "
            f"{st.get('unavailableReplicas', 0)} unavailable",
            f"Strategy: {(spec.get('strategy') or {}).get('type', '?')}",
            "Selector: " + ", ".join(f"{k}={v}" for k, v in selector.items()),
        ]
        if restarted := template_annotations.get(RESTART_ANNOTATION):
            lines.append(f"Last rollout restart: {restarted}")
        if meta.get("generation") != st.get("observedGeneration"):
            lines.append(
                f"Rollout in progress: generation {meta.get('generation')}, "
                f"observed {st.get('observedGeneration')}"
            )
        for c in st.get("conditions") or []:
            lines.append(
                f"Condition {c['type']}={c['status']} ({c.get('reason', '')}): "
                f"{c.get('message', '')}"
            )
        for c in _template_containers(d):
            lines.append(f"Container {c['name']}: image {c.get('image')}")
            if resources := _resources(c):
                lines.append(f"  resources: {resources}")
            # Names only: values may be credentials.
            env = [e["name"] for e in c.get("env") or []]
            env += [f"(all of {_env_from(src)})" for src in c.get("envFrom") or []]
            lines.append("  env: " + (", ".join(env) if env else "(none)"))
        return self._fit(lines)

    def routes_list(self, namespace: AnyNamespace = None) -> str:
        """List OpenShift routes: host/path, target service and port, TLS termination."""
        try:
            items = self._items("routes", namespace)
        except KubeApiError as error:
            if error.status == 404:
                return (
                    "This cluster has no route.openshift.io API, so it is not OpenShift: "
                    "there are no routes. Look at Ingress objects or Services instead."
                )
            raise
        if not items:
            return f"No routes {self._where(namespace)}."
        rows = []
        for r in items:
            meta, spec = r["metadata"], r.get("spec") or {}
            to = spec.get("to") or {}
            port = (spec.get("port") or {}).get("targetPort", "")
            tls = (spec.get("tls") or {}).get("termination", "-")
            row = [
                meta["name"],
                spec.get("host", "") + spec.get("path", ""),
                f"{to.get('name', '')}:{port}" if port else to.get("name", ""),
                tls,
            ]
            rows.append([meta["namespace"], *row])
        return self._fit(_table(ROUTE_COLUMNS, rows, namespace))

    def helm_releases_list(
        self,
        namespace: AnyNamespace = None,
        all_revisions: Annotated[
            bool, Field(description="Every stored revision, not only the latest per release.")
        ] = False,
    ) -> str:
        """List helm releases from their secrets: revision, status, chart, app version, date."""
        secrets = self._items("helm release secrets", namespace, label_selector="owner=helm")
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        chosen = []
        for s in secrets:
            labels = s["metadata"].get("labels") or {}
            if all_revisions:
                chosen.append(s)
                continue
            key = (s["metadata"]["namespace"], labels.get("name", ""))
            if key not in latest or _int(labels.get("version")) > _int(
                latest[key]["metadata"]["labels"].get("version")
            ):
                latest[key] = s
        chosen = chosen or list(latest.values())
        if not chosen:
            return f"No helm releases {self._where(namespace)}."
        rows = []
        for s in sorted(chosen, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
            release = decode_helm_release((s.get("data") or {}).get("release", ""))
            labels = s["metadata"].get("labels") or {}
            if release is None:
                rows.append(
                    [
                        labels.get("name", s["metadata"]["name"]),
                        s["metadata"]["namespace"],
                        labels.get("version", "?"),
                        labels.get("status", "?"),
                        "(undecodable)",
                        "",
                        "",
                    ]
                )
                continue
            chart = (release.get("chart") or {}).get("metadata") or {}
            info = release.get("info") or {}
            rows.append(
                [
                    release.get("name", ""),
                    release.get("namespace", ""),
                    str(release.get("version", "")),
                    info.get("status", ""),
                    f"{chart.get('name', '')}-{chart.get('version', '')}",
                    chart.get("appVersion", ""),
                    info.get("last_deployed", "")[:19],
                ]
            )
        return self._fit(_table(HELM_COLUMNS, rows))

    # --- writes ---------------------------------------------------------------------------

    def deployment_restart(self, namespace: Namespace, name: Name, dry_run: DryRun = False) -> str:
        """Rollout-restart a deployment (kubectl rollout restart): pods are replaced gradually."""
        self._allow(namespace)
        stamp = _now().isoformat().replace("+00:00", "Z")
        body = {"spec": {"template": {"metadata": {"annotations": {RESTART_ANNOTATION: stamp}}}}}
        self._call(
            f"restarting deployment {namespace}/{name}",
            self.apps.patch_namespaced_deployment,
            name,
            namespace,
            body,
            dry_run="All" if dry_run else None,
        )
        if dry_run:
            return (
                f"Dry run: deployment {namespace}/{name} would be restarted "
                f"(restartedAt={stamp}); nothing changed."
            )
        log.info("restarted deployment %s/%s", namespace, name)
        return f"Restarted deployment {namespace}/{name} at {stamp}: its pods are being replaced."

    def deployment_scale(
        self,
        namespace: Namespace,
        name: Name,
        replicas: Annotated[int, Field(ge=0, le=MAX_REPLICAS, description="Desired replicas.")],
        dry_run: DryRun = False,
    ) -> str:
        """Scale a deployment to a number of replicas (0 stops it)."""
        self._allow(namespace)
        what = f"scaling deployment {namespace}/{name}"
        current = self._call(what, self.apps.read_namespaced_deployment_scale, name, namespace)
        before = (current.get("spec") or {}).get("replicas", 0)
        self._call(
            what,
            self.apps.patch_namespaced_deployment_scale,
            name,
            namespace,
            {"spec": {"replicas": replicas}},
            dry_run="All" if dry_run else None,
        )
        if dry_run:
            return (
                f"Dry run: deployment {namespace}/{name} would go from {before} to {replicas} "
                "replicas; nothing changed."
            )
        log.info("scaled deployment %s/%s from %d to %d", namespace, name, before, replicas)
        return f"Scaled deployment {namespace}/{name} from {before} to {replicas} replicas."


# Scaling twice to the same number changes nothing more; restarting twice restarts twice.
SCALE_ANNOTATIONS = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)


def build_server(
    tools: OpenShiftTools, *, read_only: bool = False, name: str = "openshift"
) -> ToolServer:
    """The MCP server over these tools; with `read_only` the writes are hidden and refused."""
    server = ToolServer(name, read_only=read_only, instructions=INSTRUCTIONS)
    for read in (
        tools.namespaces_list,
        tools.pods_list,
        tools.pods_get,
        tools.pods_log,
        tools.events_list,
        tools.deployments_list,
        tools.deployments_get,
        tools.routes_list,
        tools.helm_releases_list,
    ):
        server.read(read)
    server.write(tools.deployment_restart, WRITE)
    server.write(tools.deployment_scale, SCALE_ANNOTATIONS)
    return server


# --- helm ---------------------------------------------------------------------------------


def decode_helm_release(data: str) -> dict[str, Any] | None:
    """A release secret's `data.release`: base64 (the API's) of base64 (helm's) of gzip'd JSON."""
    try:
        raw = base64.b64decode(data)
        if not raw.startswith(b"\x1f\x8b"):
            raw = base64.b64decode(raw)
        if raw.startswith(b"\x1f\x8b"):
            raw = gzip.decompress(raw)
        return json.loads(raw)
    except (binascii.Error, OSError, ValueError):
        return None


# --- formatting ---------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _age(value: str | None, now: datetime) -> str:
    when = _parse_time(value)
    if when is None:
        return "?"
    seconds = max(0, int((now - when).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _table(
    header: tuple[str, ...], rows: list[list[str]], namespace: str | None = None
) -> list[str]:
    """Aligned columns, as kubectl prints them; one namespace's listing drops that column."""
    if not rows:
        return []
    if namespace:
        header, rows = header[1:], [row[1:] for row in rows]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _ready(pod: dict[str, Any]) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _restarts(pod: dict[str, Any]) -> int:
    return sum(
        s.get("restartCount", 0) for s in (pod.get("status") or {}).get("containerStatuses") or []
    )


def _pod_status(pod: dict[str, Any]) -> str:
    """The STATUS column of `kubectl get pods`."""
    st = pod.get("status") or {}
    reason = st.get("reason") or st.get("phase") or "Unknown"
    for s in st.get("initContainerStatuses") or []:
        state = s.get("state") or {}
        if (term := state.get("terminated")) and term.get("exitCode") == 0:
            continue
        if waiting := state.get("waiting"):
            if waiting.get("reason") and waiting["reason"] != "PodInitializing":
                return f"Init:{waiting['reason']}"
        if term := state.get("terminated"):
            return f"Init:{term.get('reason') or 'Error'}"
    for s in reversed(st.get("containerStatuses") or []):
        state = s.get("state") or {}
        if (waiting := state.get("waiting")) and waiting.get("reason"):
            reason = waiting["reason"]
        elif (term := state.get("terminated")) and term.get("reason"):
            reason = term["reason"]
        elif term := state.get("terminated"):
            reason = f"ExitCode:{term.get('exitCode')}"
    if reason == "Pending":
        for c in st.get("conditions") or []:
            if c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason"):
                reason = f"Pending ({c['reason']})"
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def _last_termination(pod: dict[str, Any], now: datetime) -> str:
    for s in (pod.get("status") or {}).get("containerStatuses") or []:
        if last := ((s.get("lastState") or {}).get("terminated")):
            ago = _age(last.get("finishedAt"), now)
            return f"{last.get('reason') or 'Error'} (exit {last.get('exitCode')}, {ago} ago)"
    return ""


def _pod_matches(pod: dict[str, Any], wanted: str) -> bool:
    wanted = wanted.strip().lower()
    st = pod.get("status") or {}
    if wanted in ("unhealthy", "problem", "failing", "not ready"):
        if st.get("phase") == "Succeeded":
            return False
        statuses = st.get("containerStatuses") or []
        return (
            st.get("phase") != "Running"
            or not statuses
            or not all(s.get("ready") for s in statuses)
        )
    reasons = {st.get("phase") or "", st.get("reason") or "", _pod_status(pod)}
    for s in (st.get("containerStatuses") or []) + (st.get("initContainerStatuses") or []):
        for state in (s.get("state") or {}, s.get("lastState") or {}):
            for detail in state.values():
                reasons.add((detail or {}).get("reason") or "")
    for c in st.get("conditions") or []:
        reasons.add(c.get("reason") or "")
    return any(
        wanted == r.lower() or (wanted in r.lower() and len(wanted) > 3) for r in reasons if r
    )


def _state(state: dict[str, Any] | None, now: datetime) -> str:
    if not state:
        return "unknown"
    if running := state.get("running"):
        return f"running since {_age(running.get('startedAt'), now)} ago"
    if waiting := state.get("waiting"):
        return f"waiting: {waiting.get('reason', '')}" + (
            f" — {waiting['message']}" if waiting.get("message") else ""
        )
    if term := state.get("terminated"):
        text = f"terminated: {term.get('reason') or 'Error'} (exit code {term.get('exitCode')}"
        text += f", {_age(term.get('finishedAt'), now)} ago)" if term.get("finishedAt") else ")"
        return text + (f" — {term['message'].strip()}" if term.get("message") else "")
    return "unknown"


def _event_time(event: dict[str, Any]) -> str:
    return (
        event.get("lastTimestamp")
        or event.get("eventTime")
        or (event.get("series") or {}).get("lastObservedTime")
        or event.get("firstTimestamp")
        or event["metadata"].get("creationTimestamp")
        or ""
    )


def _template_containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return (((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
        "containers"
    ) or []


def _resources(container: dict[str, Any]) -> str:
    """`requests cpu=100m, memory=128Mi; limits memory=256Mi`, or empty."""
    res = container.get("resources") or {}
    return "; ".join(
        f"{kind} " + ", ".join(f"{name}={value}" for name, value in res[kind].items())
        for kind in ("requests", "limits")
        if res.get(kind)
    )


def _env_from(source: dict[str, Any]) -> str:
    for kind in ("configMapRef", "secretRef"):
        if ref := source.get(kind):
            return f"{kind.removesuffix('Ref')} {ref.get('name')}"
    return "?"


def _explain(error: ApiException, what: str) -> str:
    """A readable message from an API error: what failed, why, and what to do."""
    message = ""
    body = error.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if body:
        try:
            message = json.loads(body).get("message", "")
        except (ValueError, AttributeError):
            message = body.strip()[:300]
    status = error.status
    if status == 401:
        advice = (
            "The credentials were rejected: the token may have expired; refresh the kubeconfig "
            "or the service account token."
        )
    elif status == 403:
        advice = (
            "The service account lacks the RBAC permission for this "
            "(see docs/mcp.md for the read-only role)."
        )
    elif status == 404:
        advice = "It does not exist (check the name and namespace)."
    elif status in (429, 500, 502, 503, 504):
        advice = "The API server is overloaded or failing; try again shortly."
    else:
        advice = ""
    text = f"Kubernetes API error while {what}: {message or error.reason} ({status})."
    return f"{text} {advice}".strip()
