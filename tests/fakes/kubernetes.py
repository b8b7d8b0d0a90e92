"""The fake Kubernetes API lives in `pipekit.testing.kubernetes` (the incident bench needs it
installed); tests keep importing it from here."""

from pipekit.testing.kubernetes import (
    CHECKOUT_LOG,
    SCENARIOS,
    UNSCHEDULABLE,
    FakeKubernetes,
    FakeRequest,
    FakeResponse,
    LocalHTTPFake,
    container_status,
    deployment,
    event,
    field_selector_matches,
    helm_release,
    label_selector_matches,
    pod,
    route,
    running_pods,
    scaled_up,
)

__all__ = [
    "CHECKOUT_LOG",
    "SCENARIOS",
    "UNSCHEDULABLE",
    "FakeKubernetes",
    "FakeRequest",
    "FakeResponse",
    "LocalHTTPFake",
    "container_status",
    "deployment",
    "event",
    "field_selector_matches",
    "helm_release",
    "label_selector_matches",
    "pod",
    "route",
    "running_pods",
    "scaled_up",
]
