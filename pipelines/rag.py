"""
title: Docs RAG
author: pipekit
description: Answers from your team's documents and the files attached in the chat, with citations (LlamaIndex + Milvus, hybrid search).
version: 0.1.0
license: Apache-2.0
"""

from pipekit.rag.pipe import RagPipe


class Pipeline(RagPipe):
    """Collections, retrieval, prompt and citation style are valves (RagPipe.Valves)."""
