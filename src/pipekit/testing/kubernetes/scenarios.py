"""The incident scenarios, one namespace each: what a broken (or healthy) workload leaves in
the API for the incident agent to find."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .objects import (
    container_status,
    deployment,
    event,
    helm_release,
    pod,
    route,
    running_pods,
    scaled_up,
)

if TYPE_CHECKING:
    from .server import FakeKubernetes

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
