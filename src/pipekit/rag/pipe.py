"""The RAG pipe: search the collections (and this chat's uploads), answer with citations.

Passages are text from documents and uploads, so they can carry instructions aimed at the
model (indirect prompt injection). A `passage_screen` reads each one before it reaches the
prompt; a flagged passage is left out and the user is told which document. The screen comes
from the pipeline (pipelines/rag.py hands over the guards' detector): rag and guards share a
floor and never import each other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from typing import Literal

from pydantic import Field

from pipekit.embeddings import Embedder, EmbeddingError, make_embedder
from pipekit.llm import ChatOptions, chat_backend, complete, text_of
from pipekit.pipe import BasePipe, ChatRequest, StreamItem
from pipekit.pipe.events import status
from pipekit.pipe.request import ANONYMOUS
from pipekit.settings import (
    DEFAULT_HNSW_EF,
    DEFAULT_HNSW_EF_CONSTRUCTION,
    DEFAULT_HNSW_M,
    DEFAULT_MILVUS_INDEX_TYPE,
)
from pipekit.valves import CollectionValves

from .answer import (
    DEFAULT_PROMPT_TEMPLATE,
    UNCITED_PROMPT_TEMPLATE,
    build_prompt,
    footnotes,
    is_relevant,
    label,
    passage_events,
)
from .catalog import CollectionError, CollectionInfo
from .index import RagIndex
from .rerank import rerank
from .search import Passage, parse_filters
from .service import close_all, shared_index
from .store import StoreConfig, StoreError
from .uploads import (
    UploadedFile,
    UploadError,
    chat_collection_name,
    fetch_uploads,
    uploaded_files,
)

log = logging.getLogger(__name__)

_CONDENSE_PROMPT = (
    "Rewrite the last user message as one standalone search question, using the conversation "
    "for context (names, subjects the message refers to). Keep its language. Reply with the "
    "question only.\n\nConversation:\n{history}\n\nLast user message: {question}"
)
_HISTORY_TURNS = 6
# Passage text -> True when it carries instructions for the model and must be withheld.
PassageScreen = Callable[[str], bool]


class RagPipe(BasePipe):
    passage_screen: PassageScreen | None = None

    class Valves(CollectionValves, BasePipe.Valves):
        collections: list[str] = Field(
            default_factory=lambda: ["docs"],
            description="Collections to search, a list or comma-separated (create them with "
            "`pipekit ingest SOURCE --collection NAME`).",
        )
        use_vector_db: bool = Field(
            True, description="Off: skip retrieval and chat with the plain model."
        )
        top_k: int = Field(5, ge=1, le=50, description="Passages given to the model.")
        similarity_cutoff: float = Field(
            0.3,
            ge=-1.0,
            le=1.0,
            description="Passages less similar than this (cosine) and sharing under half the "
            "question's keywords are dropped; with none left the pipe says it found nothing.",
        )
        search_mode: Literal["hybrid", "dense", "bm25"] = Field(
            "hybrid", description="hybrid (vectors + BM25 keywords), dense or bm25."
        )
        embedder: str = Field(
            "",
            description="Must match the collection: `local` (offline MiniLM + bge-small for "
            "English, USE multilingual for Korean; follows a collection indexed with another "
            "offline model) or `ollama:MODEL` (e.g. ollama:bge-m3). Empty: $PIPEKIT_EMBEDDER, "
            "else `local`.",
        )
        milvus_uri: str = Field(
            "",
            description="Milvus server URI. Empty: $MILVUS_URI, else Milvus Lite in the data dir.",
        )
        milvus_token: str = Field("", description="Milvus token. Empty: $MILVUS_TOKEN.")
        index_type: Literal["", "HNSW", "IVF_FLAT", "FLAT"] = Field(
            "",
            description="Vector index of collections created from now on (chat uploads; "
            "`pipekit ingest --index-type` for shared ones). Empty: $MILVUS_INDEX_TYPE, else "
            f"{DEFAULT_MILVUS_INDEX_TYPE}.",
        )
        hnsw_m: int = Field(
            0,
            ge=0,
            le=2048,
            description="HNSW links per node, for new collections. 0: $MILVUS_HNSW_M, else "
            f"{DEFAULT_HNSW_M}.",
        )
        hnsw_ef_construction: int = Field(
            0,
            ge=0,
            le=4096,
            description="HNSW build breadth, for new collections. 0: "
            f"$MILVUS_HNSW_EF_CONSTRUCTION, else {DEFAULT_HNSW_EF_CONSTRUCTION}.",
        )
        hnsw_ef: int = Field(
            0,
            ge=0,
            le=4096,
            description=f"HNSW search breadth, for every search. 0: $MILVUS_HNSW_EF, else "
            f"{DEFAULT_HNSW_EF}.",
        )
        rerank_model: str = Field(
            "",
            description="A chat model on the same server that reorders the best passages by "
            "relevance (one short extra call per question), e.g. qwen2.5:7b. Empty: off.",
        )
        metadata_filters: str = Field(
            "",
            description="Only passages whose document matches, e.g. `type=md, source=runbooks/*`.",
        )
        condense_followups: bool = Field(
            True,
            description="Rewrite follow-up questions ('and how do I undo it?') into standalone "
            "searches using the chat history.",
        )
        prompt_template: str = Field(
            DEFAULT_PROMPT_TEMPLATE,
            description="Prompt with {context} (numbered passages) and {question}.",
        )
        citation_style: Literal["numbered", "footnotes", "none"] = Field(
            "numbered",
            description="numbered: [1] in the text and source chips; footnotes: also a "
            "source list under the answer; none: source chips only.",
        )
        openwebui_url: str = Field(
            "",
            description="Open WebUI URL, to read files attached in the chat (e.g. http://open-webui:8080).",
        )
        openwebui_api_key: str = Field(
            "", description="Open WebUI API key used to read attached files."
        )
        withhold_injected_passages: bool = Field(
            True,
            description="Leave out passages that carry instructions aimed at the assistant "
            "(prompt injection hidden in a document or upload) and tell the user which "
            "document was withheld.",
        )

    async def on_shutdown(self) -> None:
        close_all()

    def index(self) -> RagIndex:
        store = StoreConfig.from_env(
            self.valves.milvus_uri,
            self.valves.milvus_token,
            index_type=self.valves.index_type,
            hnsw_m=self.valves.hnsw_m,
            hnsw_ef_construction=self.valves.hnsw_ef_construction,
            hnsw_ef=self.valves.hnsw_ef,
        )
        return shared_index(None, store)

    def run(self, request: ChatRequest) -> Iterator[StreamItem]:
        if not self.valves.use_vector_db:
            yield from self.stream_model_answer(request.messages)
            return
        try:
            yield from self._answer(request)
        except (CollectionError, StoreError, EmbeddingError, UploadError, ValueError) as error:
            yield status("Search failed", done=True)
            yield f"⚠️ {error}"

    def _answer(self, request: ChatRequest) -> Iterator[StreamItem]:
        index = self.index()
        embedder = make_embedder(self.valves.embedder, self.valves.ollama_base_url or None)
        names = self.valves.collections
        collections = index.readable_collections(names, request.user_id, request.chat_id)
        files = uploaded_files(request.files)
        if not names and not files:
            raise CollectionError(
                "There is no collection to search: set the `collections` valve (e.g. docs) "
                "or attach a file to the chat."
            )
        if files:
            collections += yield from self._ingest_uploads(index, embedder, request, files)
        question = yield from self._search_question(request)
        searched = [", ".join(names)] if names else []
        where = " and ".join([*searched, "the attached files"] if files else searched)
        yield status(f"Searching {where}…")
        passages = yield from self._find_passages(index, collections, question, embedder)
        passages, withheld = self._screen(passages)
        if withheld:
            yield status(f"Withheld {len(withheld)} passage(s) that carried instructions")
        if not passages:
            yield status("Found no relevant passages", done=True)
            yield (
                f"I found nothing relevant to this question in {where}, so I will not guess. "
                "Try other words, or ask your admin whether these documents are indexed."
            )
            if withheld:
                yield withheld_note(withheld)
            return
        yield status(f"Found {len(passages)} passage{'s' if len(passages) != 1 else ''}", done=True)
        yield from passage_events(passages)
        yield from self.stream_model_answer(self._prompt(request, passages, question))
        if self.valves.citation_style == "footnotes":
            yield footnotes(passages)
        if withheld:
            yield withheld_note(withheld)

    def _ingest_uploads(
        self, index: RagIndex, embedder: Embedder, request: ChatRequest, files: list[UploadedFile]
    ) -> Generator[StreamItem, None, list[CollectionInfo]]:
        """This chat's attached files, read from Open WebUI into the chat's own collection."""
        yield status(f"Reading {len(files)} attached file(s)")
        chat_collection = chat_collection_name(request.user_id, request.chat_id)
        owner = request.user_id or ANONYMOUS
        summary = index.ingest(
            chat_collection,
            fetch_uploads(files, self.valves.openwebui_url, self.valves.openwebui_api_key),
            embedder,
            owner=owner,
            chat_id=request.chat_id,
            remove_missing=False,
            wait_s=15,
        )
        for doc_id, reason in summary.skipped:
            yield status(f"Skipped attached file {doc_id}: {reason}")
        return index.readable_collections([chat_collection], owner, request.chat_id)

    def _search_question(self, request: ChatRequest) -> Generator[StreamItem, None, str]:
        """The question to search with: a follow-up rewritten to stand on its own."""
        question = request.user_message
        if self.valves.condense_followups and _has_history(request.messages):
            yield status("Reading the conversation")
            question = self._condense(request.messages, question)
        return question

    def _find_passages(
        self,
        index: RagIndex,
        collections: list[CollectionInfo],
        question: str,
        embedder: Embedder,
    ) -> Generator[StreamItem, None, list[Passage]]:
        """Search, drop what is not relevant, rerank if a reranker is set, keep top_k."""
        reranking = bool(self.valves.rerank_model.strip())
        passages = index.search(
            collections,
            question,
            embedder,
            top_k=min(2 * self.valves.top_k, 20) if reranking else self.valves.top_k,
            mode=self.valves.search_mode,
            filters=parse_filters(self.valves.metadata_filters),
        )
        passages = [p for p in passages if is_relevant(p, question, self.valves.similarity_cutoff)]
        if reranking and len(passages) > 1:
            yield status(f"Reranking {len(passages)} passages")
            config = replace(self.valves.llm_config(), model=self.valves.rerank_model.strip())
            passages = rerank(chat_backend(config), passages, question)
        return passages[: self.valves.top_k]

    def _screen(self, passages: list[Passage]) -> tuple[list[Passage], list[Passage]]:
        """(kept, withheld): passages the screen flags never reach the prompt."""
        screen = self.passage_screen
        if screen is None or not self.valves.withhold_injected_passages:
            return passages, []
        flagged = [screen(passage.text) for passage in passages]
        withheld = [passage for passage, bad in zip(passages, flagged, strict=True) if bad]
        if withheld:
            log.warning(
                "withheld %d passage(s) with injected instructions: %s",
                len(withheld),
                ", ".join(f"{p.collection}/{p.doc_id}" for p in withheld),
            )
        return [p for p, bad in zip(passages, flagged, strict=True) if not bad], withheld

    def _prompt(self, request: ChatRequest, passages: list[Passage], question: str) -> list[dict]:
        """The conversation so far, its last message replaced by the passages and question."""
        template = self.valves.prompt_template
        if self.valves.citation_style == "none" and template == DEFAULT_PROMPT_TEMPLATE:
            template = UNCITED_PROMPT_TEMPLATE
        return [
            *[m for m in request.messages[:-1] if m.get("role") in ("system", "user", "assistant")],
            {"role": "user", "content": build_prompt(template, passages, question)},
        ]

    def _condense(self, messages: list[dict], question: str) -> str:
        history = "\n".join(
            f"{m.get('role')}: {text_of(m.get('content'))[:500]}"
            for m in messages[:-1][-_HISTORY_TURNS:]
            if m.get("role") in ("user", "assistant")
        )
        prompt = _CONDENSE_PROMPT.format(history=history, question=question)
        options = ChatOptions(temperature=0.0, max_tokens=128)
        try:
            rewritten = complete(
                self.backend(), [{"role": "user", "content": prompt}], options
            ).text
        except Exception as error:  # searching with the raw question beats failing
            log.warning("condensing the follow-up failed: %s", type(error).__name__)
            return question
        rewritten = rewritten.strip().strip('"').splitlines()[0] if rewritten.strip() else ""
        return rewritten or question


def withheld_note(withheld: list[Passage]) -> str:
    names = ", ".join(dict.fromkeys(label(passage) for passage in withheld))
    return (
        f"\n\n⚠️ Left out of this answer: {names}. It contains instructions aimed at the "
        "assistant (possible prompt injection); ask your admin to check the document."
    )


def _has_history(messages: list[dict]) -> bool:
    return sum(1 for m in messages if m.get("role") == "user") > 1
