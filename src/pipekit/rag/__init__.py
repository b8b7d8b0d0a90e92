"""RAG: readers, chunking, embedders, the Milvus store, hybrid retrieval, citations.

`pipekit.rag.pipe.RagPipe` is the pipe, `pipekit.rag.tool.rag_search_tool` the agents' tool,
`pipekit.rag.index.RagIndex` the collections, `pipekit ingest` the command.
"""
