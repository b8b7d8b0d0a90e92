"""The `replicas` part of `pipekit bench scale`: two `pipekit serve` replicas against one.

Both runs serve the same mixed load, as Open WebUI behind a load balancer would send it, from
four clients at once: RAG questions (timed), valve changes, approvals of incident writes and
one `pipekit ingest` running alongside. With two replicas every request goes to the next
replica in turn, and each cross-replica step is checked: a valve saved on one is read back
from the other, a code proposed on one is approved on the other. Errors count failed
requests and failed checks; `p95_ratio` is the two-replica question p95 over the one-replica
one. The model is a fake Ollama (answers at once), so the time is pipekit's own.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from pipekit.testing.fake_base import Reply, Turn, last_user_text
from pipekit.testing.fake_ollama import FakeOllama

CORPUS = "bench-docs"
CLIENTS = 4
QUESTIONS_PER_ROUND = 8
RESTART = "Please restart nginx in web."
QUESTION = "Which command brings the checkout service back?"
_CODE = re.compile(r"`approve ([A-Z0-9]{6})`")


class ProposingModel(FakeOllama):
    """Asked RESTART, it calls `deployment_restart` once, then says it proposed it; anything
    else (a RAG prompt) gets a one-line answer. Planned per request, so clients never share a
    script."""

    def next_turn(self, messages: list[dict[str, Any]], max_tokens: Any = None) -> Turn:
        asked = last_user_text(messages)
        if asked == RESTART and not any(m.get("role") == "tool" for m in messages):
            call = {
                "name": "deployment_restart",
                "arguments": {"namespace": "web", "name": "nginx"},
            }
            reply = Reply(tool_calls=[call])
        elif asked == RESTART:
            reply = Reply(content="A restart of web/nginx is proposed.")
        else:
            reply = Reply(content="From the documents: see [1].")
        return Turn(reply, reply.pieces(), False)


def mixed_run(milvus_uri: str, database_url: str = "", rounds: int = 10) -> dict[str, Any]:
    """{"errors", "p95_ratio", "one": {…}, "two": {…}} for the mixed load on 1 and 2 replicas."""
    from pipekit.testing.engines import PostgresCluster
    from pipekit.testing.kubernetes import FakeKubernetes

    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pipekit-bench-")))
        if not database_url:
            cluster = PostgresCluster().start()
            stack.callback(cluster.remove)
        model = stack.enter_context(ProposingModel())
        kubernetes = stack.enter_context(FakeKubernetes())
        kubeconfig = kubernetes.kubeconfig(scratch / "kubeconfig")
        env = {
            "PIPEKIT_DATABASE_URL": database_url or cluster.new_database(),
            "MILVUS_URI": milvus_uri,
            "OLLAMA_BASE_URL": model.url,
            "PIPEKIT_MODEL": "llama3.2:3b",
        }
        corpus = _corpus(scratch / "corpus", 60)
        _ingest(corpus, CORPUS, scratch / "ingest", env).check_returncode()
        results = {
            replicas: _serve_mixed(scratch, env, replicas, kubeconfig, corpus, rounds)
            for replicas in (1, 2)
        }
    one, two = results[1], results[2]
    return {
        "errors": one["errors"] + two["errors"],
        "p95_ratio": round(two["query_ms_p95"] / one["query_ms_p95"], 2),
        "one": one,
        "two": two,
    }


def _serve_mixed(
    scratch: Path, env: dict[str, str], replicas: int, kubeconfig: Path, corpus: Path, rounds: int
) -> dict[str, Any]:
    from pipekit.testing.server import PipekitServer

    servers = [
        PipekitServer(scratch / f"replica-{replicas}-{n}", env=env).start() for n in range(replicas)
    ]
    try:
        clients = [server.client(timeout_s=120) for server in servers]
        _configure(clients[0], kubeconfig)
        load = _Load(clients)
        for _ in clients:  # each replica loads its embedder before the clock starts
            load.question()
        load = _Load(clients)
        # The ingest runs beside the load, as a nightly crawl would.
        ingest = threading.Thread(
            target=load.ingest, args=(corpus, f"bench-ingest-{replicas}", scratch, env)
        )
        started = time.perf_counter()
        ingest.start()
        with ThreadPoolExecutor(CLIENTS) as pool:
            steps = [load.question] * QUESTIONS_PER_ROUND + [load.valve_change, load.approval]
            for _ in pool.map(lambda step: step(), steps * rounds):
                pass
        ingest.join()
        seconds = time.perf_counter() - started
    finally:
        for server in servers:
            server.stop()
    latencies = np.array(load.latencies_ms)
    return {
        "replicas": replicas,
        "requests": load.requests,
        "errors": len(load.errors),
        "error_examples": load.errors[:3],
        "query_ms_p50": round(float(np.percentile(latencies, 50)), 1),
        "query_ms_p95": round(float(np.percentile(latencies, 95)), 1),
        "seconds": round(seconds, 1),
    }


class _Load:
    """The mixed load's steps, each on the next replica in turn (as a round-robin balancer)."""

    def __init__(self, clients: list[httpx.Client]) -> None:
        self.clients = clients
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self.latencies_ms: list[float] = []
        self.saved: list[float] = []  # temperatures saved, in order
        self.errors: list[str] = []
        self.requests = 0

    def next_two(self) -> tuple[httpx.Client, httpx.Client]:
        """This request's replica, and the one the next request goes to."""
        with self._lock:
            turn = next(self._turn)
            self.requests += 1
        return self.clients[turn % len(self.clients)], self.clients[(turn + 1) % len(self.clients)]

    def question(self) -> None:
        client, _ = self.next_two()
        started = time.perf_counter()
        answer = self._chat(client, "rag", QUESTION)
        with self._lock:
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
        if answer is not None and not answer.startswith("From the documents"):
            self._error(f"question: {answer[:200]}")

    def valve_change(self) -> None:
        here, there = self.next_two()
        temperature = round(random.uniform(0.1, 1.0), 3)
        with self._lock:
            ours = len(self.saved)
            self.saved.append(temperature)
        saved = here.post("/chat/valves/update", json={"temperature": temperature})
        if saved.status_code != 200:
            return self._error(f"valve save: HTTP {saved.status_code}")
        seen = there.get("/chat/valves").json().get("temperature")
        # The other replica shows this save, or one another client made after it.
        if seen not in self.saved[ours:]:
            self._error(f"valve saved as {temperature} on one replica, {seen!r} on the other")

    def approval(self) -> None:
        here, there = self.next_two()
        chat = f"bench-{random.getrandbits(48):x}"
        proposed = self._chat(here, "incident_agent", RESTART, chat)
        match = _CODE.search(proposed or "")
        if match is None:
            return self._error(f"no approval code: {(proposed or '')[:200]}")
        approved = self._chat(there, "incident_agent", f"approve {match.group(1)}", chat)
        if approved is not None and "✅ Approved" not in approved:
            self._error(f"approval: {approved[:200]}")

    def ingest(self, corpus: Path, name: str, scratch: Path, env: dict[str, str]) -> None:
        done = _ingest(corpus, name, scratch / name, env)
        if done.returncode:
            self._error(f"ingest: {done.stderr[-300:]}")

    def _chat(self, client: httpx.Client, model: str, text: str, chat: str = "") -> str | None:
        """Open WebUI's two requests for a message (the pipe's inlet, then the completion);
        the answer, or None after recording an error."""
        chat = chat or f"bench-{random.getrandbits(48):x}"
        user = {"id": "bench-user", "name": "Bench", "role": "user"}
        body = {
            "model": model,
            "messages": [{"role": "user", "content": text}],
            "stream": False,
            "user": user,
            "metadata": {"user_id": user["id"], "chat_id": chat, "message_id": f"{chat}-m"},
        }
        try:
            inlet = client.post(f"/{model}/filter/inlet", json={"body": body, "user": user})
            inlet.raise_for_status()
            sent = {k: v for k, v in inlet.json().items() if k != "metadata"}
            answer = client.post("/chat/completions", json=sent)
            answer.raise_for_status()
            return answer.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, KeyError, ValueError) as error:
            self._error(f"{model}: {type(error).__name__}: {error}")
            return None

    def _error(self, what: str) -> None:
        with self._lock:
            self.errors.append(what)


def _configure(client: httpx.Client, kubeconfig: Path) -> None:
    """Valves for the run, saved once: every replica reads them from the database."""
    openshift = {
        "name": "openshift",
        "command": sys.executable,
        "args": ["-m", "pipekit.cli", "mcp", "openshift", "--kubeconfig", str(kubeconfig)],
    }
    for pipeline, valves in (
        ("rag", {"collections": [CORPUS], "similarity_cutoff": 0.0}),
        ("incident_agent", {"mcp_servers": json.dumps([openshift]), "collections": [],
                            "allow_writes": True}),
    ):  # fmt: skip
        client.post(f"/{pipeline}/valves/update", json=valves).raise_for_status()


def _ingest(corpus: Path, collection: str, data_dir: Path, env: dict[str, str]):
    return subprocess.run(
        [sys.executable, "-m", "pipekit.cli", "ingest", str(corpus), "--collection", collection,
         "--data-dir", str(data_dir), "--wait", "300"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip


def _corpus(folder: Path, documents: int) -> Path:
    """Runbook-like pages: a title, a few sections of plain operational sentences."""
    folder.mkdir(parents=True)
    pick = random.Random(5)
    services = ["checkout", "payments", "search", "inventory", "gateway", "billing"]
    actions = ["restarted", "scaled", "rolled back", "drained", "paused", "redeployed"]
    for number in range(documents):
        service = pick.choice(services)
        sections = [
            f"## Step {step}\n\nThe {service} service is {pick.choice(actions)} with "
            f"`oc rollout restart deployment/{service}` when its pods fail check {number}-{step}."
            for step in range(1, 4)
        ]
        text = f"# Runbook {number}: {service}\n\n" + "\n\n".join(sections)
        (folder / f"runbook-{number:03d}.md").write_text(text, encoding="utf-8")
    return folder
