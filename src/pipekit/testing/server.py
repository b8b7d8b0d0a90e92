"""`pipekit serve` as a real subprocess on a free port, as users run it (tests, benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PIPEKIT = [sys.executable, "-m", "pipekit.cli"]
TEST_KEY = "test-key-7f3a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PipekitServer:
    def __init__(
        self,
        data_dir: Path,
        *,
        extra_dirs: tuple[Path, ...] = (),
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        api_key: str = TEST_KEY,
    ) -> None:
        self.data_dir = data_dir
        self.extra_dirs = extra_dirs
        self.api_key = api_key
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"serve-{self.port}.log"
        self.env = {**os.environ, "PIPELINES_API_KEY": api_key, **(env or {})}
        self.args = args
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        command = [*PIPEKIT, "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        for folder in self.extra_dirs:
            command += ["--extra-dir", str(folder)]
        return command + list(self.args)

    def start(self, timeout_s: float = 60.0) -> PipekitServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(), env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pipekit serve exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + "/", headers=self.headers(), timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pipekit serve did not start in {timeout_s}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> PipekitServer:
        self.stop()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.api_key}"}

    def client(self, timeout_s: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers(), timeout=timeout_s)
