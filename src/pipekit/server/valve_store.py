"""Where saved valves live: the shared database for several replicas, else valves.json files.

With PIPEKIT_DATABASE_URL every replica reads and writes the `valves` table. Each save bumps
the row's revision, and every request first asks for the revisions (a few rows), so a valve
saved through one replica is in force on the others by their next request. Without it, the
pipelines folder keeps `<module>/valves.json`, as one server always has.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from pipekit.stores import Database, shared_database
from pipekit.stores.schema import valves as valves_table


class ValveStore(Protocol):
    shared: bool  # other processes save valves too: look for their changes per request

    def saved(self, module: str) -> dict[str, Any] | None:
        """The valves saved for a pipeline script, or None."""

    def save(self, module: str, values: dict[str, Any]) -> None: ...

    def changes(self) -> dict[str, dict[str, Any]]:
        """Valves saved elsewhere since this process last read them, by module."""


def valve_store(pipelines_dir: Path) -> ValveStore:
    database = shared_database()
    return DatabaseValves(database) if database else FileValves(pipelines_dir)


def valves_path(pipelines_dir: Path, module: str) -> Path:
    return pipelines_dir / module / "valves.json"


class FileValves:
    """`<pipelines dir>/<module>/valves.json`: one server owns the folder."""

    shared = False

    def __init__(self, pipelines_dir: Path) -> None:
        self.pipelines_dir = pipelines_dir

    def saved(self, module: str) -> dict[str, Any] | None:
        path = valves_path(self.pipelines_dir, module)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8") or "{}")
        except ValueError as error:
            raise ValueError(f"{path} is not JSON ({error})") from None

    def save(self, module: str, values: dict[str, Any]) -> None:
        path = valves_path(self.pipelines_dir, module)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".valves-")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(values, file, ensure_ascii=False, indent=2)
        os.replace(temporary, path)

    def changes(self) -> dict[str, dict[str, Any]]:
        return {}


class DatabaseValves:
    """The `valves` table, and the revision of each row this process has applied."""

    shared = True

    def __init__(self, database: Database) -> None:
        self.database = database
        self.seen: dict[str, int] = {}

    def saved(self, module: str) -> dict[str, Any] | None:
        with self.database.read() as db:
            row = db.execute(select(valves_table).filter_by(pipeline=module)).first()
        if row is None:
            return None
        self.seen[module] = row.revision
        return json.loads(row.values)

    def save(self, module: str, values: dict[str, Any]) -> None:
        encoded = json.dumps(values, ensure_ascii=False)
        upsert = self.database.insert(valves_table).values(
            pipeline=module, values=encoded, revision=1
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=["pipeline"],
            set_={"values": encoded, "revision": valves_table.c.revision + 1},
        ).returning(valves_table.c.revision)
        with self.database.transaction() as db:
            self.seen[module] = db.scalar(upsert)

    def changes(self) -> dict[str, dict[str, Any]]:
        with self.database.read() as db:
            revisions = db.execute(select(valves_table.c.pipeline, valves_table.c.revision)).all()
            changed = [name for name, revision in revisions if self.seen.get(name) != revision]
            if not changed:
                return {}
            rows = db.execute(
                select(valves_table).where(valves_table.c.pipeline.in_(changed))
            ).all()
        self.seen |= {row.pipeline: row.revision for row in rows}
        return {row.pipeline: json.loads(row.values) for row in rows}
