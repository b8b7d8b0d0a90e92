"""RAG: readers, chunking, the Milvus store, ingestion, hybrid search, citations.

`pipekit.rag.pipe.RagPipe` is the pipe, `pipekit.rag.retriever.Retriever` what other callers
(the agents' `rag_search` tool) search with, `pipekit.rag.index.RagIndex` the collections
(ingestion in `ingestion`, ranking in `search`), `pipekit ingest` the command. The embedders
are `pipekit.embeddings`.
"""
