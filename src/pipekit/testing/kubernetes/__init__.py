"""A fake Kubernetes/OpenShift API on 127.0.0.1 that the official `kubernetes` client talks to.

It serves the endpoints pipekit's OpenShift MCP server uses, with the real wire shapes:
namespaces (and OpenShift projects), pods with label and field selectors, pod logs as
`text/plain` (tailLines, sinceSeconds, previous, container), events, apps/v1 deployments
(get, list, strategic-merge patch, the scale subresource, `dryRun=All`), helm release secrets,
and route.openshift.io routes. Errors are `Status` objects with the real messages (403 for a
forbidden namespace, 404, 400 for a log request that names no container).

`FakeKubernetes()` starts with the incident scenarios (see `SCENARIOS`) loaded; tests can add
objects, flip `openshift`, forbid namespaces, or `stall()` it to look slow.

- `server`: `FakeKubernetes`, the API server (state, routing, handlers)
- `selectors`: label and field selector matching
- `objects`: builders of pods, deployments, events, helm releases and routes
- `scenarios`: the incident scenarios, built from those objects
"""

from .scenarios import SCENARIOS
from .server import FakeKubernetes

__all__ = ["SCENARIOS", "FakeKubernetes"]
