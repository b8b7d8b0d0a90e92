"""Ingesting a folder follows no link out of it (issue 17): docs/passwd.txt -> /etc/passwd
was indexed into a shared collection."""

from __future__ import annotations

from pathlib import Path

from pipekit.rag.sources import Skipped, SourceDocument, read_sources
from tests.rag.test_ingest import DOCS, write_corpus


def read(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(text by document id, reason by skipped id)."""
    items = list(read_sources([str(root)]))
    texts = {item.doc_id: item.text for item in items if isinstance(item, SourceDocument)}
    return texts, {item.doc_id: item.reason for item in items if isinstance(item, Skipped)}


def test_links_out_of_the_folder_are_skipped_with_the_reason(tmp_path):
    docs = write_corpus(tmp_path / "docs", DOCS)
    (docs / "passwd.txt").symlink_to("/etc/passwd")
    outside = write_corpus(tmp_path / "elsewhere", {"secret.md": "# Secret\n\nNot for the index."})
    (docs / "ko" / "secret.md").symlink_to("../../elsewhere/secret.md")
    (docs / "etc").symlink_to("/etc", target_is_directory=True)
    (docs / "elsewhere").symlink_to(outside, target_is_directory=True)
    texts, skipped = read(docs)
    assert sorted(texts) == sorted(DOCS)
    assert skipped == {
        "passwd.txt": "a link to /etc/passwd, outside the folder",
        "ko/secret.md": f"a link to {outside.resolve()}/secret.md, outside the folder",
        "etc": "a link to /etc, outside the folder",
        "elsewhere": f"a link to {outside.resolve()}, outside the folder",
    }


def test_links_inside_the_folder_are_read_and_link_cycles_end(tmp_path):
    docs = write_corpus(tmp_path / "docs", DOCS)
    (docs / "restart-again.md").symlink_to("restart.md")
    (docs / "ko" / "loop").symlink_to("..", target_is_directory=True)
    (docs / "all-of-it").symlink_to(docs, target_is_directory=True)
    texts, skipped = read(docs)
    # Links to folders inside are not walked: what they hold is read where it really is.
    assert sorted(texts) == sorted([*DOCS, "restart-again.md"]) and skipped == {}
    assert texts["restart-again.md"] == texts["restart.md"]
