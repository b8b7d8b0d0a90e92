"""`pipekit valves show|apply`: read and set valves on a running pipelines server."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from pipekit import settings

from .presets import PresetError, ValvesClient, apply, load_preset

log = logging.getLogger("pipekit.valves")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("valves", help="Show valves or apply a valve preset.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    show = actions.add_parser("show", help="Print the live valves as JSON.")
    show.add_argument("pipeline", nargs="*", help="Pipeline ids (default: all with valves).")
    _connection_arguments(show)
    show.set_defaults(handler=_show)

    apply_parser = actions.add_parser(
        "apply", help="Merge a preset file into the live valves (omitted valves are kept)."
    )
    apply_parser.add_argument("file", type=Path, help="Preset, YAML or JSON (see valves/).")
    apply_parser.add_argument(
        "--dry-run", action="store_true", help="Check and show the changes, change nothing."
    )
    _connection_arguments(apply_parser)
    apply_parser.set_defaults(handler=_apply)


def _connection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=settings.pipelines_url(),
        help=f"Pipelines server URL (default: $PIPELINES_URL or {settings.DEFAULT_PIPELINES_URL}).",
    )
    parser.add_argument(
        "--key",
        default=settings.pipelines_api_key() or settings.WELL_KNOWN_API_KEY,
        help="API key (default: $PIPELINES_API_KEY).",
    )


def _show(args: argparse.Namespace) -> int:
    try:
        with ValvesClient(args.url, args.key) as client:
            ids = args.pipeline or client.pipelines_with_valves()
            result = {pipeline_id: client.valves(pipeline_id) for pipeline_id in ids}
    except PresetError as error:
        log.error("%s", error)
        return 1
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _apply(args: argparse.Namespace) -> int:
    try:
        preset = load_preset(args.file)
        with ValvesClient(args.url, args.key) as client:
            result = apply(client, preset, dry_run=args.dry_run)
    except PresetError as error:
        log.error("%s", error)
        return 1
    verb = "would change" if args.dry_run else "changed"
    for update in result.updates:
        changed = update.changed
        if not changed:
            log.info("%s: already as in the preset", update.pipeline_id)
        for key, (old, new) in changed.items():
            shown_old, shown_new = (_mask(key, old), _mask(key, new))
            log.info("%s: %s %s: %r -> %r", update.pipeline_id, verb, key, shown_old, shown_new)
    return 0


def _mask(key: str, value: object) -> object:
    """Keys and tokens in valves are not echoed to terminals and CI logs."""
    secret = any(word in key.lower() for word in ("key", "token", "secret", "password"))
    return "***" if secret and value else value
