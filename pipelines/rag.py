"""
title: Docs RAG
author: pipekit
description: Answers from team documents and chat uploads, with citations (Milvus hybrid search).
version: 0.1.0
license: Apache-2.0
"""

from pipekit.guards import carries_instructions
from pipekit.rag.pipe import RagPipe


class Pipeline(RagPipe):
    """Collections, retrieval, prompt and citation style are valves (RagPipe.Valves)."""

    # Passages with instructions aimed at the model are withheld (indirect prompt injection).
    passage_screen = staticmethod(carries_instructions)
