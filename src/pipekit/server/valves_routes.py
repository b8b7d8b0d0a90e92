"""Valve routes: secrets masked, and updates that keep the fields a request leaves out.

Upstream returns valves (API keys included) in clear, builds the valves from the request
body alone, so a partial update resets every omitted valve to its default, and answers a bad
value with HTTP 500. These routes mask secrets (see secret_valves), merge the request over the
live valves, validate, report each bad or unknown field with 422, and change nothing unless
every field is valid. A null value (the admin panel's "Default") resets that valve to its
default; a masked secret posted back unchanged keeps the stored one. An update is stored
(valves.json, or the shared database) before it takes effect: if the database does not
answer, it is refused with 503 and nothing changes.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from pipekit.stores import StoreUnavailable
from pipekit.valves import with_current_names

from .secret_valves import masked_schema, masked_values, plain_values, restore_unchanged
from .valve_store import ValveStore


def install(app: FastAPI, upstream: ModuleType, store: ValveStore) -> None:
    def live_valves(pipeline_id: str) -> tuple[Any, BaseModel]:
        pipeline = upstream.PIPELINE_MODULES.get(pipeline_id)
        valves = getattr(pipeline, "valves", None)
        if not isinstance(valves, BaseModel):
            raise HTTPException(404, f"Pipeline {pipeline_id} not found or has no valves")
        return pipeline, valves

    async def get_valves(pipeline_id: str) -> dict[str, Any]:
        return masked_values(live_valves(pipeline_id)[1])

    async def get_valves_spec(pipeline_id: str) -> dict[str, Any]:
        return masked_schema(live_valves(pipeline_id)[1])

    async def update_valves(pipeline_id: str, request: Request) -> Any:
        pipeline, valves = live_valves(pipeline_id)
        try:
            changes = json.loads(await request.body() or b"{}")
        except ValueError as error:
            raise HTTPException(400, f"The request body is not JSON: {error}") from error
        if not isinstance(changes, dict):
            raise HTTPException(422, "Send a JSON object of valve names and values.")
        try:
            updated = validated(valves, changes)
        except InvalidValves as error:
            return JSONResponse({"detail": str(error), "errors": error.problems}, status_code=422)
        module = upstream.PIPELINE_NAMES[pipeline_id]
        try:
            await anyio.to_thread.run_sync(store.save, module, plain_values(updated))
        except StoreUnavailable as error:
            raise HTTPException(503, f"Valves not changed. {error}") from error
        pipeline.valves = updated
        if hasattr(pipeline, "on_valves_updated"):
            await pipeline.on_valves_updated()
        return masked_values(updated)

    # Ahead of upstream's routes of the same paths, which would otherwise match first.
    for prefix in ("", "/v1"):
        for path, endpoint, method in (
            ("/{pipeline_id}/valves", get_valves, "GET"),
            ("/{pipeline_id}/valves/spec", get_valves_spec, "GET"),
            ("/{pipeline_id}/valves/update", update_valves, "POST"),
        ):
            app.router.routes.insert(0, APIRoute(prefix + path, endpoint, methods=[method]))


class InvalidValves(ValueError):
    def __init__(self, problems: list[dict[str, str]]) -> None:
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        super().__init__(f"Valves not changed. {summary}")
        self.problems = problems


def validated(valves: BaseModel, changes: dict[str, Any]) -> BaseModel:
    """The live valves with `changes` applied; InvalidValves names every bad field."""
    model = type(valves)
    changes, problems = restore_unchanged(valves, with_current_names(model, changes))
    problems += [
        {"field": key, "message": "unknown valve"}
        for key in changes
        if key not in model.model_fields
    ]
    # Open WebUI's admin panel sends null for a valve switched to "Default": reset it.
    changes = {
        key: model.model_fields[key].get_default(call_default_factory=True)
        if value is None and key in model.model_fields
        else value
        for key, value in changes.items()
    }
    merged = {**plain_values(valves), **changes}
    try:
        updated = model(**merged)
    except ValidationError as error:
        problems += [
            {"field": ".".join(str(part) for part in problem["loc"]), "message": problem["msg"]}
            for problem in error.errors()
        ]
        updated = None
    if problems:
        raise InvalidValves(problems)
    return updated
