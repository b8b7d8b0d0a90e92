"""`pipekit ingest SOURCE... --collection NAME`: index folders and web sites into a collection."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipekit.embeddings import EmbeddingError, make_embedder

from .catalog import CollectionError
from .chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE
from .sources import SourceError, read_sources
from .store import INDEX_TYPES, StoreConfig, StoreError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    ingest = subparsers.add_parser(
        "ingest",
        help="Index folders, URLs or sitemaps into a RAG collection (incremental).",
        description="Index md/txt/html/pdf/docx files and web pages into a collection. A "
        "re-run embeds only what changed and removes what disappeared from the same sources.",
    )
    ingest.add_argument("sources", nargs="*", help="Folders, files, URLs or sitemap URLs.")
    ingest.add_argument("--collection", "-c", help="Collection name (e.g. docs, runbooks).")
    ingest.add_argument(
        "--embedder", default=None,
        help="$PIPEKIT_EMBEDDER, else `local` (offline: MiniLM + bge-small + USE multilingual); "
        "`local:all-MiniLM-L6-v2` (faster) or `ollama:MODEL` (e.g. ollama:bge-m3 for Korean).",
    )  # fmt: skip
    ingest.add_argument("--ollama-url", help="Ollama URL (default: $OLLAMA_BASE_URL).")
    ingest.add_argument("--data-dir", type=Path, help="Data dir (default: $PIPEKIT_DATA_DIR).")
    ingest.add_argument(
        "--milvus-uri",
        default="",
        help="Milvus server URI (default: $MILVUS_URI, else Milvus Lite).",
    )
    ingest.add_argument("--milvus-token", default="", help="Milvus token (default: $MILVUS_TOKEN).")
    ingest.add_argument(
        "--index-type", type=str.upper, choices=INDEX_TYPES, default=None,
        help="Vector index of a new collection ($MILVUS_INDEX_TYPE, else HNSW); "
        "an existing one keeps its own (change it with --rebuild).",
    )  # fmt: skip
    ingest.add_argument(
        "--hnsw-m", type=int, default=None, help="HNSW links per node ($MILVUS_HNSW_M, else 16)."
    )
    ingest.add_argument(
        "--hnsw-ef-construction", type=int, default=None,
        help="HNSW build breadth ($MILVUS_HNSW_EF_CONSTRUCTION, else 200).",
    )  # fmt: skip
    ingest.add_argument(
        "--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="Tokens per chunk."
    )
    ingest.add_argument(
        "--chunk-overlap",
        type=int,
        default=DEFAULT_CHUNK_OVERLAP,
        help="Tokens shared by neighbouring chunks.",
    )
    ingest.add_argument(
        "--depth", type=int, default=1, help="Link depth to follow from a start page."
    )
    ingest.add_argument(
        "--max-pages", type=int, default=200, help="Stop a crawl after this many pages."
    )
    ingest.add_argument(
        "--delay", type=float, default=1.0, help="Seconds between requests to one site."
    )
    ingest.add_argument(
        "--allow-private",
        action="store_true",
        help="Crawl private and loopback addresses too (an intranet wiki); off by default, so "
        "a page or a redirect cannot make the crawler read internal services.",
    )
    ingest.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="Also follow redirects and sitemap entries to this host (repeatable); by default "
        "a crawl stays on its start page's host.",
    )
    ingest.add_argument(
        "--keep-missing", action="store_true", help="Do not remove documents that disappeared."
    )
    ingest.add_argument(
        "--rebuild",
        action="store_true",
        help="Drop the collection first (e.g. to change the embedder).",
    )
    ingest.add_argument("--owner", help="Make the collection private to this Open WebUI user id.")
    ingest.add_argument(
        "--wait",
        type=float,
        default=120.0,
        help="Seconds to wait for a Milvus Lite file that a running server holds.",
    )
    ingest.add_argument("--list", action="store_true", help="List the collections and exit.")
    ingest.add_argument("--drop", action="store_true", help="Delete the collection and exit.")
    ingest.add_argument(
        "--migrate",
        action="store_true",
        help="Move every collection indexed while chunk texts lived in the catalog into Milvus "
        "(no re-embedding), and exit. Opening such a collection to search it also moves it.",
    )
    ingest.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from .index import RagIndex

    try:
        store = StoreConfig.from_env(
            args.milvus_uri,
            args.milvus_token,
            index_type=args.index_type,
            hnsw_m=args.hnsw_m,
            hnsw_ef_construction=args.hnsw_ef_construction,
        )
    except ValueError as error:
        return _fail(str(error))
    try:
        index = RagIndex(args.data_dir, store)
    except Exception as error:
        return _fail(f"cannot open the RAG data dir: {error}")
    try:
        if args.migrate:
            return _migrate(index, args.wait)
        if args.list:
            for info in index.catalog.collections():
                documents, chunks = index.counts(info.name, args.wait)
                owner = f" private to {info.owner}" if info.owner else ""
                line = f"{info.name}\t{documents} documents\t{chunks} chunks\t{info.embed_model}"
                sys.stdout.write(f"{line}{owner}\n")
            return 0
        if not args.collection:
            return _fail("--collection is required")
        if args.drop or args.rebuild:
            if index.catalog.collection(args.collection) is not None:
                index.drop(args.collection)
                log.info("dropped collection %s", args.collection)
            if args.drop:
                return 0
        if not args.sources:
            return _fail("give at least one folder, file or URL to index")
        embedder = make_embedder(args.embedder, args.ollama_url)
        items = read_sources(
            args.sources,
            depth=args.depth,
            max_pages=args.max_pages,
            delay_s=args.delay,
            allow_private=args.allow_private,
            allowed_hosts=args.allow_host,
        )
        progress = _progress()
        summary = index.ingest(
            args.collection,
            items,
            embedder,
            owner=args.owner,
            chunk_size=args.chunk_size,
            chunk_overlap=args.chunk_overlap,
            remove_missing=not args.keep_missing,
            wait_s=args.wait,
            on_document=progress,
        )
        getattr(progress, "close", lambda: None)()
        sys.stdout.write("\n".join(summary.lines()) + "\n")
        return 0
    except (CollectionError, EmbeddingError, SourceError, StoreError, ValueError) as error:
        return _fail(str(error))
    finally:
        index.close()


def _migrate(index, wait_s: float) -> int:
    """Open every collection: opening moves one made by the version before into Milvus."""
    from .migrate import drop_legacy_tables

    for info in index.catalog.collections():
        documents, chunks = index.counts(info.name, wait_s)
        sys.stdout.write(f"{info.name}: {documents} documents, {chunks} chunks in Milvus\n")
    if drop_legacy_tables(index.data_dir):
        return 0
    return _fail("some chunks are still in the catalog; see the messages above")


def _progress():
    """A progress bar on a terminal; a log line every 100 documents otherwise (CI, cron)."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit="doc", desc="ingest", file=sys.stderr)

        def tick(doc_id: str) -> None:
            bar.update(1)

        tick.close = bar.close  # type: ignore[attr-defined]
        return tick
    count = 0

    def log_every_hundred(doc_id: str) -> None:
        nonlocal count
        count += 1
        if count % 100 == 0:
            log.info("ingest: %d documents read", count)

    return log_every_hundred


def _fail(message: str) -> int:
    sys.stderr.write(f"pipekit ingest: {message}\n")
    return 2
