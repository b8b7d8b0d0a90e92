"""Attached-file ids come from the request: only Open WebUI's own (UUIDs) reach its file API."""

from __future__ import annotations

import pytest

from pipekit.rag.sources import Skipped
from pipekit.rag.uploads import UploadedFile, UploadError, fetch_uploads

# Nothing listens there: a request would raise UploadError ("not reachable").
NOWHERE = "http://127.0.0.1:9"


@pytest.mark.parametrize(
    "file_id",
    ["../../chats/all/db?x=", "..", "a/b", "file-1", "3f1c9a52-8d4e-4b7a-9c61-2e5d0f7a8b13/x"],
)
def test_an_id_of_another_shape_is_skipped_without_a_request(file_id):
    items = fetch_uploads([UploadedFile(file_id, "probe.txt")], NOWHERE, "sk-key", timeout_s=2)
    assert items == [Skipped("probe.txt", "upload", "its id is not an Open WebUI file id")]


def test_a_uuid_is_requested():
    upload = UploadedFile("3F1C9A52-8D4E-4B7A-9C61-2E5D0F7A8B13", "notes.txt")
    with pytest.raises(UploadError, match="not reachable"):
        fetch_uploads([upload], NOWHERE, "sk-key", timeout_s=2)
