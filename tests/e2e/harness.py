"""Real Open WebUI, wired to `pipekit serve`, driven in headless Chromium.

The toolchain comes from scripts/install-e2e.sh (Open WebUI in its own venv, Debian
Chromium, playwright-core), all under $PIPEKIT_E2E_HOME (default ~/.cache/pipekit-e2e).
Without it the e2e tests skip on a developer machine and FAIL in CI (CI set): a green CI
must never mean "the browser tests did not run".

Typical use (see conftest.py for the session fixtures, README.md for what is covered):

    result = browser.chat("chat", "Hello", screenshot="chat-hello.png",
                          wait_for=["Thinking"])
    assert "Hello" in result.answer
    browser.chat("incident_agent", "approve ABC123", in_chat=result.page_url, ...)
    browser.chat("rag", "What does it say?", attach=[path], ...)
    browser.chat("chat", [], list_models=True, ...).model_options
    browser.edit_valves("chat", fill={"System Prompt": "..."}, screenshot=...)
    open_webui.save_pipeline_valves("rag", {"top_k": 3})   # Open WebUI's pipelines API
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from pipekit.testing.server import TEST_KEY, PipekitServer, free_port

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]

E2E_HOME = Path(os.getenv("PIPEKIT_E2E_HOME") or Path.home() / ".cache" / "pipekit-e2e")
ARTIFACTS = REPO / "artifacts" / "e2e"
DRIVER = Path(__file__).with_name("driver.mjs")
INSTALL_HINT = "run scripts/install-e2e.sh (or `make e2e-toolchain`)"
OWUI_VERSION = "0.12.4"


# --- toolchain ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Toolchain:
    open_webui: Path  # the `open-webui` script in its own venv
    node: Path
    node_dir: Path  # holds node_modules/playwright-core
    chromium: Path


def find_toolchain(home: Path = E2E_HOME) -> Toolchain | str:
    """The installed toolchain, or a sentence saying what is missing."""
    open_webui = home / "owui-venv" / "bin" / "open-webui"
    node_dir = home / "node"
    chromium = Path(os.getenv("PIPEKIT_E2E_CHROMIUM", "/usr/bin/chromium"))
    node = shutil.which("node")
    missing = []
    if not open_webui.is_file():
        missing.append(f"Open WebUI {OWUI_VERSION} ({open_webui})")
    if not (node_dir / "node_modules" / "playwright-core" / "package.json").is_file():
        missing.append(f"playwright-core ({node_dir}/node_modules)")
    if not chromium.is_file():
        missing.append(f"Chromium ({chromium})")
    if not node:
        missing.append("node")
    if missing:
        return "missing " + ", ".join(missing)
    return Toolchain(open_webui, Path(node), node_dir, chromium)


def in_ci() -> bool:
    return os.getenv("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_toolchain() -> Toolchain:
    """The toolchain; else skip (developer machine) or fail (CI, where it must be installed)."""
    found = find_toolchain()
    if isinstance(found, Toolchain):
        return found
    message = f"e2e toolchain not installed: {found}; {INSTALL_HINT}"
    if in_ci():
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


# --- subprocess plumbing --------------------------------------------------------------------


def wait_until_up(
    url: str, process: subprocess.Popen, log_path: Path, timeout_s: float, what: str
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            code = process.returncode
            raise RuntimeError(f"{what} exited early (code {code}):\n{tail(log_path)}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{what} not up at {url} after {timeout_s:.0f}s:\n{tail(log_path)}")


def stop_process(process: subprocess.Popen | None, timeout_s: float = 15) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def tail(path: Path, chars: int = 4000) -> str:
    if not path.exists():
        return "(no log)"
    return path.read_text(errors="replace")[-chars:]


# --- the pipelines server -------------------------------------------------------------------


def start_pipelines_server(
    data_dir: Path,
    extra_dirs: Sequence[Path] = (),
    *,
    env: dict[str, str] | None = None,
    bundled: bool = True,
) -> PipekitServer:
    """`pipekit serve` on a free port: pipekit's own pipelines (unless bundled=False) plus
    the scripts in extra_dirs. The one place to change how e2e tests run the server."""
    args = () if bundled else ("--no-bundled",)
    server = PipekitServer(data_dir, extra_dirs=tuple(extra_dirs), env=env, args=args)
    return server.start(timeout_s=90)


# --- Open WebUI -----------------------------------------------------------------------------


@dataclass
class OpenWebUI:
    """`open-webui serve` on a free port with a fresh DATA_DIR, auth off, offline."""

    toolchain: Toolchain
    data_dir: Path
    openai_url: str  # the pipelines server, as an OpenAI API connection
    openai_key: str = TEST_KEY
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "open-webui.log"

    def environment(self) -> dict[str, str]:
        inherited = {
            key: value
            for key, value in os.environ.items()
            # Our own settings must not leak into Open WebUI's config.
            if not key.startswith(("OPENAI_", "OLLAMA_", "PIPELINES_", "PIPEKIT_", "WEBUI_"))
        }
        return {
            **inherited,
            "DATA_DIR": str(self.data_dir),
            "OFFLINE_MODE": "true",
            "HF_HUB_OFFLINE": "1",
            "WEBUI_AUTH": "False",
            "WEBUI_SECRET_KEY": "pipekit-e2e-secret",
            "ENABLE_OLLAMA_API": "False",
            "ENABLE_OPENAI_API": "True",
            "OPENAI_API_BASE_URL": self.openai_url,
            "OPENAI_API_KEY": self.openai_key,
            "RAG_EMBEDDING_ENGINE": "openai",
            "ENABLE_TITLE_GENERATION": "False",
            "ENABLE_FOLLOW_UP_GENERATION": "False",
            "ENABLE_TAGS_GENERATION": "False",
            "ENABLE_AUTOCOMPLETE_GENERATION": "False",
            "ENABLE_VERSION_UPDATE_CHECK": "False",
            "ENABLE_COMMUNITY_SHARING": "False",
            "ANONYMIZED_TELEMETRY": "False",
            "SCARF_NO_ANALYTICS": "true",
            "DO_NOT_TRACK": "true",
            "GLOBAL_LOG_LEVEL": "WARNING",
            **self.env,
        }

    def start(self, timeout_s: float = 180) -> OpenWebUI:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(self.toolchain.open_webui),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                cwd=self.data_dir,
                env=self.environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_up(
                self.url + "/health", self.process, self.log_path, timeout_s, "Open WebUI"
            )
            self.token = self.sign_in()
        except BaseException:
            self.stop()
            raise
        log.info("Open WebUI up at %s in %.1fs", self.url, time.monotonic() - started)
        return self

    def sign_in(self) -> str:
        """With WEBUI_AUTH=False an empty sign-in returns the admin's token."""
        response = httpx.post(
            self.url + "/api/v1/auths/signin", json={"email": "", "password": ""}, timeout=30
        )
        response.raise_for_status()
        return response.json()["token"]

    def client(self, timeout_s: float = 60) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=timeout_s,
        )

    def model_ids(self) -> list[str]:
        with self.client() as client:
            response = client.get("/api/models", params={"refresh": "true"})
            response.raise_for_status()
            return [model["id"] for model in response.json()["data"]]

    def pipeline_valves(self, pipeline_id: str, url_idx: int = 0) -> dict[str, Any]:
        """A pipeline's valves as Admin Panel → Settings → Pipelines shows them (Open WebUI
        asks the pipelines server of connection `url_idx`)."""
        with self.client() as client:
            response = client.get(
                f"/api/v1/pipelines/{pipeline_id}/valves", params={"urlIdx": url_idx}
            )
            response.raise_for_status()
            return response.json()

    def save_pipeline_valves(
        self, pipeline_id: str, changes: dict[str, Any], url_idx: int = 0
    ) -> dict[str, Any]:
        """Change valves as the admin panel's Save does: read them all, post them all back
        through Open WebUI's pipelines API. Returns what the pipelines server saved."""
        valves = {**self.pipeline_valves(pipeline_id, url_idx), **changes}
        with self.client() as client:
            response = client.post(
                f"/api/v1/pipelines/{pipeline_id}/valves/update",
                params={"urlIdx": url_idx},
                json=valves,
            )
            response.raise_for_status()
            return response.json()

    def override_model(self, model_id: str, name: str, *, capabilities: dict[str, bool]) -> None:
        """Workspace → Models → edit: Open WebUI's own settings for a connection's model, here
        its capabilities (e.g. file_context=False: Open WebUI does not put attached files'
        text into the prompt). Undo with remove_model_override."""
        form = {
            "id": model_id,
            "base_model_id": None,
            "name": name,
            "meta": {"capabilities": capabilities},
            "params": {},
        }
        with self.client() as client:
            client.post("/api/v1/models/create", json=form).raise_for_status()

    def remove_model_override(self, model_id: str) -> None:
        with self.client() as client:
            client.post("/api/v1/models/model/delete", json={"id": model_id}).raise_for_status()

    def create_api_key(self) -> str:
        """An API key of the signed-in admin (Settings → Account → API keys); Open WebUI
        must run with ENABLE_API_KEYS=True."""
        with self.client() as client:
            response = client.post("/api/v1/auths/api_key")
            response.raise_for_status()
            return response.json()["api_key"]

    def log(self) -> str:
        return tail(self.log_path, 20000)

    def stop(self) -> None:
        stop_process(self.process)


# --- the browser ----------------------------------------------------------------------------


@dataclass
class AdminValvesResult:
    posted: dict[str, Any] | None  # the body the admin panel sent (None: the form refused)
    status: int | None  # Open WebUI's answer to it
    toasts: list[str]  # what the admin read after Save
    invalid: list[str]  # fields the browser's form validation refused to submit


@dataclass
class ChatResult:
    ok: bool
    answers: list[str]
    assistant_text: str  # everything shown in the last assistant message (status, chips...)
    assistant_html: str  # the last assistant message as rendered (citation buttons, links)
    seen: list[str]  # every line shown there at some moment while it streamed
    sources: list[str]  # source names, after expanding the "N Sources" chip
    screenshot: Path
    elapsed_s: float
    error: str | None = None
    blocked: list[str] = field(default_factory=list)  # requests to anywhere but Open WebUI
    console_errors: list[str] = field(default_factory=list)
    page_url: str = ""  # /c/<chat id> once the chat is saved
    model_options: list[str] = field(default_factory=list)  # ids in the model selector
    admin: AdminValvesResult | None = None  # what Browser.edit_valves saw

    @property
    def chat_id(self) -> str:
        return self.page_url.rsplit("/c/", 1)[1].split("?")[0] if "/c/" in self.page_url else ""

    @property
    def answer(self) -> str:
        return self.answers[-1] if self.answers else ""

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.seen)


@dataclass
class Browser:
    """Headless Chromium on Open WebUI through tests/e2e/driver.mjs (playwright-core)."""

    toolchain: Toolchain
    base_url: str
    artifacts: Path = ARTIFACTS

    def chat(
        self,
        model: str,
        messages: str | Sequence[str],
        *,
        screenshot: str,
        wait_for: Sequence[str] = (),
        click: Sequence[str] = (),
        in_chat: str = "",
        attach: Sequence[Path] = (),
        timeout_s: float = 90,
        expand_sources: bool = True,
        list_models: bool = False,
        check: bool = True,
    ) -> ChatResult:
        """Open /?models=<model>, send each message, wait for each answer to finish.

        wait_for: texts that must show in the last assistant message at some point (status
        lines included). click: button texts to press there, in order, as they show up (an
        approval). in_chat: the page URL of an earlier result, to go on in that saved chat
        (its model stays; a reply typed after reading the answer, such as an approval code).
        attach: files uploaded in the chat input before the first message.
        list_models: then open the model selector and report the ids it offers
        (`model_options`); messages may be empty for that alone.
        The screenshot goes to artifacts/e2e/<screenshot>, also on failure.
        """
        messages = [messages] if isinstance(messages, str) else list(messages)
        spec = {
            "model": model,
            "messages": messages,
            "waitFor": list(wait_for),
            "clickText": list(click),
            "chatPath": urlsplit(in_chat).path if in_chat else "",
            "attach": [str(path) for path in attach],
            "timeoutMs": int(timeout_s * 1000),
            "expandSources": expand_sources,
            "listModels": list_models,
        }
        result = self._drive(spec, screenshot, timeout_s * max(1, len(messages)) + 60)
        if check and not result.ok:
            raise AssertionError(
                f"browser chat with {model!r} failed: {result.error}\n"
                f"screenshot: {result.screenshot}\nseen: {result.seen}\n"
                f"console: {result.console_errors}"
            )
        return result

    def edit_valves(
        self,
        pipeline: str,
        *,
        screenshot: str,
        fill: Mapping[str, str] | None = None,
        to_default: Sequence[str] = (),
        timeout_s: float = 60,
    ) -> AdminValvesResult:
        """Admin Panel → Settings → Pipelines: pick `pipeline`, type `fill` ({field title as
        shown: text}), press the Custom/Default toggle of each `to_default` title, Save."""
        spec = {
            "model": "",
            "messages": [],
            "timeoutMs": int(timeout_s * 1000),
            "adminValves": {
                "pipeline": pipeline,
                "fill": dict(fill or {}),
                "toDefault": list(to_default),
            },
        }
        result = self._drive(spec, screenshot, timeout_s + 60)
        if not result.ok or result.admin is None:
            raise AssertionError(
                f"admin panel valves of {pipeline!r} failed: {result.error}\n"
                f"screenshot: {result.screenshot}\nconsole: {result.console_errors}"
            )
        return result.admin

    def _drive(self, spec: dict[str, Any], screenshot: str, timeout_s: float) -> ChatResult:
        """Run driver.mjs once with a fresh browser profile."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        shot = self.artifacts / screenshot
        with tempfile.TemporaryDirectory(prefix="pipekit-chromium-") as profile:
            spec = {
                **spec,
                "baseUrl": self.base_url,
                "screenshot": str(shot),
                "nodeDir": str(self.toolchain.node_dir),
                "chromium": str(self.toolchain.chromium),
                "userDataDir": profile,
            }
            completed = subprocess.run(
                [str(self.toolchain.node), str(DRIVER), json.dumps(spec)],
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
        return parse_driver_output(completed, shot)


def parse_driver_output(completed: subprocess.CompletedProcess, shot: Path) -> ChatResult:
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(
            f"driver.mjs printed no result (exit {completed.returncode}):\n"
            f"{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}"
        )
    data: dict[str, Any] = json.loads(lines[-1])
    return ChatResult(
        ok=bool(data.get("ok")),
        answers=data.get("answers", []),
        assistant_text=data.get("assistantText", ""),
        assistant_html=data.get("assistantHtml", ""),
        seen=data.get("seen", []),
        sources=data.get("sources", []),
        screenshot=shot,
        elapsed_s=data.get("elapsedMs", 0) / 1000,
        error=data.get("error"),
        blocked=data.get("blocked", []),
        console_errors=data.get("console", []),
        page_url=data.get("pageUrl", ""),
        model_options=data.get("modelOptions", []),
        admin=AdminValvesResult(**data["admin"]) if data.get("admin") else None,
    )
