"""Real store servers on free 127.0.0.1 ports, for tests and benchmarks.

- `PostgresCluster`: a throwaway PostgreSQL cluster (Debian's `postgresql` package). initdb
  refuses to run as root, so under root the cluster belongs to the `postgres` user (or
  `nobody`) and its commands run through `runuser`. `new_database()` gives each user its own.
- `milvus_lite_server`: Milvus Lite's standalone server, a Milvus gRPC endpoint that speaks the
  protocol pymilvus speaks to a Milvus cluster, so the `MILVUS_URI` code path runs unchanged.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .server import free_port

USER = "pipekit"


def binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    # Debian keeps the server's programs off PATH, one folder per major version.
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_major)
    return candidates[-1] if candidates else None


def _major(path: str) -> int:
    return int(Path(path).parts[4]) if Path(path).parts[4].isdigit() else 0


class PostgresCluster:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="pipekit-pg-"))
        self.port = free_port()
        self.owner = _unprivileged_user() if os.geteuid() == 0 else None
        if self.owner:
            record = pwd.getpwnam(self.owner)
            os.chown(self.folder, record.pw_uid, record.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresCluster:
        data = self.folder / "data"
        if not data.exists():
            self._run("initdb", "-D", data, "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run("pg_ctl", "-D", data, "-o", options, "-l", self.folder / "log", "-w", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.folder / "data", "-m", mode, "-w", "stop", check=False)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def new_database(self) -> str:
        """The URL of a fresh, empty database in this cluster."""
        import psycopg

        name = f"test_{uuid.uuid4().hex[:12]}"
        deadline = time.monotonic() + 10
        while True:
            try:
                with psycopg.connect(self.url, autocommit=True) as connection:
                    connection.execute(f'CREATE DATABASE "{name}"')
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def _run(self, program: str, *args, check: bool = True) -> None:
        path = binary(program)
        if path is None:
            raise FileNotFoundError(f"{program} (apt-get install postgresql)")
        command = [path, *map(str, args)]
        if self.owner:
            command = ["runuser", "-u", self.owner, "--", *command]
        subprocess.run(command, check=check, capture_output=True, timeout=60)


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user to run PostgreSQL as (postgres or nobody)")


@contextmanager
def milvus_lite_server(data_dir: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "no Milvus"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
