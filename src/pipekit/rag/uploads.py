"""Files attached in Open WebUI, indexed into a collection private to the user and chat.

Open WebUI gives the pipe only file ids (in the inlet metadata); the text comes from Open
WebUI's file API, `GET /api/v1/files/{id}/data/content`, which needs its URL and an API key
(Settings → Account → API keys; the admin must allow API keys).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from .sources import Skipped, SourceDocument, SourceItem

log = logging.getLogger(__name__)

# Open WebUI names files with uuid4(). Ids come from the request body: any other shape (such
# as `../../chats/all/db?x=`) could send the pipe's key to another Open WebUI endpoint.
_FILE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


class UploadError(RuntimeError):
    """Open WebUI could not be asked for the files: the message says what to set."""


@dataclass(frozen=True)
class UploadedFile:
    file_id: str
    name: str


def uploaded_files(files: list[dict]) -> list[UploadedFile]:
    """The file attachments among Open WebUI's `files` (collections and URLs are not files)."""
    found = []
    for entry in files or []:
        if not isinstance(entry, dict):
            continue
        kind = entry.get("type", "file")
        file_id = entry.get("id") or (entry.get("file") or {}).get("id")
        if kind == "file" and file_id:
            name = entry.get("name") or (entry.get("file") or {}).get("filename") or file_id
            found.append(UploadedFile(str(file_id), str(name)))
    return found


def chat_collection_name(user_id: str | None, chat_id: str | None) -> str:
    """One collection per user and chat; the name alone grants nothing (owner is checked)."""
    digest = hashlib.sha256(f"{user_id}\0{chat_id}".encode()).hexdigest()[:20]
    return f"upload-{digest}"


def fetch_uploads(
    files: list[UploadedFile], base_url: str, api_key: str, timeout_s: float = 30.0
) -> list[SourceItem]:
    if not base_url or not api_key:
        raise UploadError(
            "Files are attached, but this pipe cannot read them: set its `openwebui_url` and "
            "`openwebui_api_key` valves (an Open WebUI API key, Settings → Account)."
        )
    origin = "upload"
    items: list[SourceItem] = []
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s) as client:
        for upload in files:
            if not _FILE_ID.fullmatch(upload.file_id):
                items.append(Skipped(upload.name, origin, "its id is not an Open WebUI file id"))
                continue
            path = f"/api/v1/files/{quote(upload.file_id, safe='')}/data/content"
            try:
                response = client.get(path)
            except httpx.HTTPError as error:
                raise UploadError(
                    f"Open WebUI at {base_url} is not reachable for attached files: {error}"
                ) from error
            if response.status_code in (401, 403):
                raise UploadError(
                    f"Open WebUI at {base_url} refused the `openwebui_api_key` valve "
                    f"(HTTP {response.status_code}) when reading {upload.name}."
                )
            if response.status_code >= 400:
                items.append(Skipped(upload.name, origin, f"HTTP {response.status_code}"))
                continue
            text = str((response.json() or {}).get("content") or "")
            if not text.strip():
                items.append(Skipped(upload.name, origin, "no text could be extracted"))
                continue
            items.append(
                SourceDocument(
                    doc_id=upload.file_id,
                    title=upload.name,
                    text=text,
                    origin=origin,
                    metadata={"source": upload.name, "type": "upload"},
                )
            )
    return items
