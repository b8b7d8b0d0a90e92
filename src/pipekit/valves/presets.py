"""Valve presets: files naming pipelines and the valves to set on a running server.

A preset is YAML or JSON: `{pipeline_id: {valve: value, ...}, ...}`. Applying one reads the
live valves and their schema, checks every field of every pipeline first, and only then
posts each pipeline's complete valves object, so omitted valves keep their live values and
a mistake anywhere changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import yaml


class PresetError(ValueError):
    """The preset cannot be applied; the message lists every problem found."""


@dataclass
class PlannedUpdate:
    pipeline_id: str
    live: dict[str, Any]
    merged: dict[str, Any]

    @property
    def changed(self) -> dict[str, tuple[Any, Any]]:
        return {
            key: (self.live.get(key), value)
            for key, value in self.merged.items()
            if self.live.get(key) != value
        }


@dataclass
class ApplyResult:
    updates: list[PlannedUpdate] = field(default_factory=list)
    applied: bool = False


def load_preset(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PresetError(f"Cannot read preset {path}: {error}") from error
    except yaml.YAMLError as error:
        raise PresetError(f"{path} is not valid YAML/JSON: {error}") from error
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise PresetError(
            f"{path} must map pipeline ids to objects of valves, e.g.\nchat:\n  temperature: 0.3"
        )
    return data


class ValvesClient:
    """The pipelines server's valve endpoints."""

    def __init__(self, url: str, api_key: str, timeout_s: float = 15.0) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_s,
        )

    def __enter__(self) -> ValvesClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.close()

    def pipelines_with_valves(self) -> list[str]:
        listing = self._get("/pipelines")
        return [item["id"] for item in listing.get("data", []) if item.get("valves")]

    def valves(self, pipeline_id: str) -> dict[str, Any]:
        return self._get(f"/{pipeline_id}/valves")

    def spec(self, pipeline_id: str) -> dict[str, Any]:
        return self._get(f"/{pipeline_id}/valves/spec")

    def update(self, pipeline_id: str, valves: dict[str, Any]) -> dict[str, Any]:
        response = self._request("POST", f"/{pipeline_id}/valves/update", json=valves)
        return response.json()

    def _get(self, path: str) -> Any:
        return self._request("GET", path).json()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise PresetError(
                f"Cannot reach the pipelines server at {self._http.base_url}: {error}"
            ) from error
        if response.status_code == 401:
            raise PresetError(
                f"The pipelines server at {self._http.base_url} refused the API key "
                "(pass --key or set PIPELINES_API_KEY)."
            )
        if response.status_code == 404:
            raise PresetError(f"Not found on the server: {path} ({_detail(response)})")
        if response.status_code >= 400:
            raise PresetError(
                f"{method} {path} failed with HTTP {response.status_code}: {_detail(response)}"
            )
        return response


def plan(client: ValvesClient, preset: dict[str, dict[str, Any]]) -> list[PlannedUpdate]:
    """Check every field of every pipeline against the live schema; raise with all problems."""
    problems: list[str] = []
    updates: list[PlannedUpdate] = []
    available = set(client.pipelines_with_valves())
    for pipeline_id, changes in preset.items():
        if pipeline_id not in available:
            names = ", ".join(sorted(available)) or "none"
            problems.append(f"{pipeline_id}: no such pipeline with valves (available: {names})")
            continue
        live = client.valves(pipeline_id)
        schema = client.spec(pipeline_id)
        merged = {**live, **changes}
        problems += [f"{pipeline_id}.{p}" for p in field_problems(schema, changes, merged)]
        updates.append(PlannedUpdate(pipeline_id, live, merged))
    if problems:
        raise PresetError("Nothing was changed. Problems:\n  " + "\n  ".join(problems))
    return updates


def field_problems(schema: dict[str, Any], changes: dict[str, Any], merged: dict) -> list[str]:
    known = schema.get("properties", {})
    problems = [f"{key}: unknown valve" for key in changes if key not in known]
    validator = jsonschema.Draft202012Validator(schema)
    for error in validator.iter_errors(merged):
        name = str(error.absolute_path[0]) if error.absolute_path else "(object)"
        problems.append(f"{name}: {error.message}")
    return sorted(set(problems))


def apply(client: ValvesClient, preset: dict[str, dict[str, Any]], dry_run: bool) -> ApplyResult:
    updates = plan(client, preset)
    if not dry_run:
        for update in updates:
            client.update(update.pipeline_id, update.merged)
    return ApplyResult(updates=updates, applied=not dry_run)


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:300]
