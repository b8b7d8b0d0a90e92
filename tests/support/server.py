"""`pipekit serve` as a real subprocess: the same helper the benchmarks use."""

from pathlib import Path

from pipekit.testing.server import PIPEKIT, TEST_KEY, PipekitServer, free_port

REPO = Path(__file__).resolve().parents[2]

__all__ = ["PIPEKIT", "REPO", "TEST_KEY", "PipekitServer", "free_port"]
