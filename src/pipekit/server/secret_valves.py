"""Secrets in valves, shown as `••••` and their last four characters.

A valve is secret when a word of its name is key, token, secret or password (`openai_api_key`,
`milvus_token`, upstream examples' `OPENAI_API_KEY`; not `max_tokens`), when it is typed
SecretStr, or when its Field says `json_schema_extra={"secret": True}` (`False` opts out).
In any string valve, a password inside a URL (`redis://:password@redis:6379/0`) is masked too.

The admin panel posts every valve back as it was shown, so a value posted back exactly as
masked means "keep the stored secret"; any other value holding the mask is refused, or the
mask itself would become the key.
"""

from __future__ import annotations

import re
from typing import Any, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

MASK = "••••"
SECRET_WORDS = frozenset({"key", "apikey", "token", "secret", "password", "passwd"})
# Below this length the last four characters would give away too much of the secret.
SHOW_TAIL_FROM = 16


def is_secret(name: str, field: FieldInfo) -> bool:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "secret" in extra:
        return bool(extra["secret"])
    if SecretStr in (field.annotation, *get_args(field.annotation)):
        return True
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().split("_")
    return not SECRET_WORDS.isdisjoint(words)


def plain_values(valves: BaseModel) -> dict[str, Any]:
    """The valves as stored and merged: `model_dump()` with SecretStr values revealed."""
    return {
        key: value.get_secret_value() if isinstance(value, SecretStr) else value
        for key, value in valves.model_dump().items()
    }


def masked_values(valves: BaseModel) -> dict[str, Any]:
    fields = type(valves).model_fields
    return {key: shown(key, fields[key], value) for key, value in plain_values(valves).items()}


def masked_schema(valves: BaseModel) -> dict[str, Any]:
    """The JSON schema with secret defaults masked: upstream's examples read them from the
    environment (`Field(os.getenv("OPENAI_API_KEY"))`)."""
    schema = type(valves).model_json_schema()
    for name, field in type(valves).model_fields.items():
        spec = schema.get("properties", {}).get(field.alias or name, {})
        if "default" in spec:
            spec["default"] = shown(name, field, spec["default"])
    return schema


def shown(name: str, field: FieldInfo, value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value
    if is_secret(name, field):
        return _masked(value)
    return _with_url_password_masked(value)


def restore_unchanged(
    valves: BaseModel, changes: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """`changes` with each value posted back as shown replaced by the stored one, and a
    problem for each other value that still holds the mask."""
    fields = type(valves).model_fields
    stored = plain_values(valves)
    restored, problems = dict(changes), []
    for key, value in changes.items():
        if key not in fields or not isinstance(value, str) or MASK not in value:
            continue
        if value == shown(key, fields[key], stored[key]):
            restored[key] = stored[key]
        elif is_secret(key, fields[key]) or "://" in value:
            problems.append(
                {
                    "field": key,
                    "message": f"holds the mask {MASK} but does not match the stored secret; "
                    "send the full new value, or the masked one unchanged to keep it",
                }
            )
    return restored, problems


def _masked(secret: str) -> str:
    return MASK + secret[-4:] if len(secret) >= SHOW_TAIL_FROM else MASK


def _with_url_password_masked(value: str) -> str:
    if "://" not in value or "@" not in value:
        return value
    try:
        password = urlsplit(value).password
    except ValueError:
        return value
    if not password:
        return value
    return value.replace(f":{password}@", f":{_masked(password)}@", 1)
