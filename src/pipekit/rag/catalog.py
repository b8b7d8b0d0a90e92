"""What each collection holds: in the shared database, else in SQLite next to Milvus Lite.

Per collection: who owns it (nobody = shared by the team), which embedding model and
dimension built it, and each document's content hash, title and origin. The chunks
themselves (text, vector, keywords) live in Milvus (store.py). With PIPEKIT_DATABASE_URL the
catalog is in PostgreSQL, so every replica and `pipekit ingest` see one catalog; else
`rag/catalog.sqlite` in the data dir (WAL: `pipekit ingest` writes while the server reads).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update

from pipekit.embeddings import DEFAULT_LOCAL_MODEL
from pipekit.stores import Database, database_for
from pipekit.stores.schema import collections, documents

# A document whose chunks are being replaced: a run killed half-way leaves this hash, which
# matches no content, so the next run redoes the document.
PENDING = "pending"
_VALID_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class CollectionError(ValueError):
    """Unknown collection, wrong embedder, bad name: the message says what to do."""


@dataclass
class CollectionInfo:
    name: str
    owner: str | None
    chat_id: str | None
    embed_model: str
    dimension: int
    version: int

    def readable_by(self, user_id: str | None, chat_id: str | None) -> bool:
        """Shared collections are for everyone; private ones for their owner (and chat)."""
        if self.owner is None:
            return True
        if user_id is None or user_id != self.owner:
            return False
        return self.chat_id is None or self.chat_id == chat_id


def check_name(name: str) -> str:
    if not _VALID_NAME.match(name or ""):
        raise CollectionError(
            f"Collection name {name!r} is not valid: use up to 64 letters, digits, '_', '-', "
            "'.', starting with a letter or digit."
        )
    return name


class Catalog:
    def __init__(self, path: Path, database: Database | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.database = database or database_for(path, [collections, documents])

    def close(self) -> None:
        """Nothing to let go: each call takes a connection and returns it."""

    # --- collections ----------------------------------------------------------------------

    def collection(self, name: str) -> CollectionInfo | None:
        with self.database.read() as db:
            row = db.execute(_INFO.where(collections.c.name == name)).first()
        return CollectionInfo(*row) if row else None

    def collections(self) -> list[CollectionInfo]:
        with self.database.read() as db:
            rows = db.execute(_INFO.order_by(collections.c.name)).all()
        return [CollectionInfo(*row) for row in rows]

    def ensure_collection(
        self,
        name: str,
        embed_model: str,
        dimension: int,
        *,
        owner: str | None = None,
        chat_id: str | None = None,
    ) -> CollectionInfo:
        check_name(name)
        existing = self.collection(name)
        if existing is None:
            with self.database.transaction() as db:
                db.execute(
                    self.database.insert(collections)
                    .values(
                        name=name,
                        owner=owner,
                        chat_id=chat_id,
                        embed_model=embed_model,
                        dimension=dimension,
                        created=time.time(),
                        version=0,
                    )
                    .on_conflict_do_nothing()
                )
            existing = self.collection(name)
            assert existing is not None
        check_embedder(existing, embed_model, dimension)
        if existing.owner != owner or existing.chat_id != chat_id:
            raise CollectionError(
                f"Collection {name!r} already exists with another owner: choose another name."
            )
        return existing

    def drop_collection(self, name: str) -> None:
        with self.database.transaction() as db:
            db.execute(delete(documents).where(documents.c.collection == name))
            db.execute(delete(collections).where(collections.c.name == name))

    # --- documents --------------------------------------------------------------------------

    def document_hashes(self, collection: str) -> dict[str, tuple[str, str]]:
        """doc_id -> (content hash, origin)."""
        with self.database.read() as db:
            rows = db.execute(
                select(documents.c.doc_id, documents.c.content_hash, documents.c.origin).where(
                    documents.c.collection == collection
                )
            ).all()
        return {doc_id: (digest, origin) for doc_id, digest, origin in rows}

    def mark_pending(self, collection: str, doc_id: str, title: str, origin: str) -> None:
        row = {"collection": collection, "doc_id": doc_id, "content_hash": PENDING}
        upsert = self.database.insert(documents).values(
            **row, title=title, origin=origin, metadata="{}", updated=time.time()
        )
        with self.database.transaction() as db:
            db.execute(
                upsert.on_conflict_do_update(
                    index_elements=["collection", "doc_id"], set_={"content_hash": PENDING}
                )
            )

    def replace_document(
        self,
        collection: str,
        *,
        doc_id: str,
        content_hash: str,
        title: str,
        origin: str,
        metadata: dict[str, Any],
    ) -> None:
        """The document's chunks are in Milvus: record its hash (no longer pending)."""
        fields = {
            "content_hash": content_hash,
            "title": title,
            "origin": origin,
            "metadata": json.dumps(metadata, ensure_ascii=False),
            "updated": time.time(),
        }
        upsert = self.database.insert(documents).values(
            collection=collection, doc_id=doc_id, **fields
        )
        with self.database.transaction() as db:
            db.execute(
                upsert.on_conflict_do_update(index_elements=["collection", "doc_id"], set_=fields)
            )
            db.execute(_next_version(collection))

    def remove_document(self, collection: str, doc_id: str) -> None:
        with self.database.transaction() as db:
            db.execute(
                delete(documents).where(
                    (documents.c.collection == collection) & (documents.c.doc_id == doc_id)
                )
            )
            db.execute(_next_version(collection))

    def pending_documents(self, collection: str) -> list[str]:
        """Documents whose chunks are being replaced, or were when a run was killed: searches
        leave them out until a run completes them."""
        with self.database.read() as db:
            return list(
                db.scalars(
                    select(documents.c.doc_id).where(
                        (documents.c.collection == collection)
                        & (documents.c.content_hash == PENDING)
                    )
                )
            )

    def document_count(self, collection: str) -> int:
        with self.database.read() as db:
            return db.scalar(
                select(func.count())
                .select_from(documents)
                .where(documents.c.collection == collection)
            )


_INFO = select(
    collections.c.name,
    collections.c.owner,
    collections.c.chat_id,
    collections.c.embed_model,
    collections.c.dimension,
    collections.c.version,
)


def _next_version(collection: str):
    return (
        update(collections)
        .where(collections.c.name == collection)
        .values(version=collections.c.version + 1)
    )


def check_embedder(info: CollectionInfo, embed_model: str, dimension: int | None) -> None:
    if info.embed_model != embed_model or (dimension is not None and info.dimension != dimension):
        raise CollectionError(
            f"Collection {info.name!r} was indexed with {info.embed_model} ({info.dimension} "
            f"dimensions), not {embed_model}: set the embedder to {info.embed_model}, or "
            f"re-index it with `pipekit ingest ... --collection {info.name} --embedder "
            f"{'local' if embed_model == DEFAULT_LOCAL_MODEL else embed_model} --rebuild`."
        )
