"""Builders of the API objects the scenarios hold: pods, deployments, events, helm release
secrets and routes, shaped as a real API server returns them, each added to a fake."""

from __future__ import annotations

import base64
import gzip
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import FakeKubernetes


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
