"""What the `cluster` fixture gives a test: the fake Kubernetes API and a kubeconfig for it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipekit.testing.kubernetes import FakeKubernetes


@dataclass
class Cluster:
    fake: FakeKubernetes
    kubeconfig: Path
