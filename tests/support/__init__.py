"""Helpers the tests share: Open WebUI's request shapes, the fake cluster's fixture value."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
