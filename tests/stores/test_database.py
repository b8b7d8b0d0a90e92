"""The database layer: schema on first use, fail-fast while PostgreSQL is down, named locks."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest
from sqlalchemy import select, text

from pipekit.stores import Database, LockHeld, StoreUnavailable, database_for, shared_database
from pipekit.stores.database import VERSION_TABLE
from pipekit.stores.schema import wrong_codes
from pipekit.testing.engines import PostgresCluster


def test_the_schema_is_created_on_first_use_by_one_replica_at_a_time(database_url):
    replicas = [Database(database_url) for _ in range(4)]
    errors: list[Exception] = []

    def first_use(database: Database) -> None:
        try:
            with database.read() as db:
                db.execute(select(wrong_codes))
        except Exception as error:  # pragma: no cover - the assertion shows it
            errors.append(error)

    threads = [threading.Thread(target=first_use, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with replicas[0].read() as db:
        assert db.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}")) == "0001"


def test_sqlite_files_get_only_their_tables_and_stay_private(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'a.sqlite3'}", [wrong_codes], private=True)
    with database.transaction() as db:
        db.execute(wrong_codes.insert().values(chat_id="c", at=1.0))
    with database.read() as db:
        names = db.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")).all()
    assert names == ["wrong_codes"]
    assert os.stat(tmp_path / "a.sqlite3").st_mode & 0o777 == 0o600


def test_the_shared_database_is_used_only_when_its_url_is_set(tmp_path, monkeypatch, database_url):
    monkeypatch.delenv("PIPEKIT_DATABASE_URL", raising=False)
    assert shared_database() is None
    assert not database_for(tmp_path / "x.sqlite3", [wrong_codes]).shared
    monkeypatch.setenv("PIPEKIT_DATABASE_URL", database_url)
    assert database_for(tmp_path / "x.sqlite3", [wrong_codes]) is shared_database()


def test_a_stopped_database_fails_fast_names_itself_and_is_used_again_when_back(postgres):
    cluster = PostgresCluster().start()
    try:
        database = Database(cluster.url.replace("pipekit@", "pipekit:hunter2@"))
        with database.read() as db:
            db.execute(text("SELECT 1"))
        cluster.stop()
        with pytest.raises(StoreUnavailable, match="The database at postgresql://127.0.0.1"):
            with database.read() as db:
                db.execute(text("SELECT 1"))
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            with database.read():
                pass
        assert time.monotonic() - started < 0.1  # no connect timeout per call meanwhile
        assert "hunter2" not in str(caught.value)
        assert database.check() != ""
        cluster.start()
        assert database.check() == ""  # a probe does not wait out the pause
        with database.read() as db:
            assert db.scalar(text("SELECT 1")) == 1
    finally:
        cluster.remove()


def _hold(url: str, name: str, ready, release) -> None:
    with Database(url).lock(name):
        ready.set()
        release.wait(30)


@pytest.fixture(params=["sqlite", "postgresql"])
def lock_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    return request.getfixturevalue("database_url")


def test_a_lock_held_by_another_process_says_who_holds_it_and_since_when(lock_url):
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(lock_url, "ingest of docs", ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(
            LockHeld, match=rf"ingest of docs is running on .+ \(pid {holder.pid}\) since 20\d\d-"
        ):
            with Database(lock_url).lock("ingest of docs", wait_s=0.6):
                pass
        with Database(lock_url).lock("ingest of other"):
            pass  # another name is free
    finally:
        release.set()
        holder.join(30)
    with Database(lock_url).lock("ingest of docs"):
        pass


def test_a_lock_is_let_go_when_its_process_dies(lock_url):
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(lock_url, "ingest of docs", ready, release))
    holder.start()
    assert ready.wait(30)
    holder.kill()
    holder.join(30)
    with Database(lock_url).lock("ingest of docs", wait_s=10):
        pass
