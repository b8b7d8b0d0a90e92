"""RAG: readers, chunking, embedders, the Milvus store, hybrid retrieval, citations."""
