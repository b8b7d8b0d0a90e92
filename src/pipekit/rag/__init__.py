"""RAG: readers, chunking, embedders, the Milvus store, hybrid retrieval, citations.

`pipekit.rag.pipe.RagPipe` is the pipe, `pipekit.rag.retriever.Retriever` what other callers
(the agents' `rag_search` tool) search with, `pipekit.rag.index.RagIndex` the collections,
`pipekit ingest` the command.
"""
