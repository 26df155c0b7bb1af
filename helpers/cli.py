"""Command-line interface: a thin layer over ``helpers``; the contract is in README §CLI.

With ``--json`` every command prints exactly one JSON object on stdout; progress goes to stderr.
Exit status: 0 on success, 1 on a handled error (message on stderr), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from .config import scrub

Handler = Callable[[argparse.Namespace], dict[str, Any]]


def _emit(args: argparse.Namespace, result: dict[str, Any], human: str | None = None) -> None:
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(human if human is not None else json.dumps(result, indent=2, ensure_ascii=False))


def cmd_es(args: argparse.Namespace) -> int:
    from .es import LocalNode, local_node

    node = LocalNode(args.port) if args.port else local_node()
    if args.action == "start":
        print(f"Starting Elasticsearch on {node.url} (reused if already running) ...", file=sys.stderr)
        status = node.start()
    elif args.action == "stop":
        stopped = node.stop()
        status = node.status()
        print("stopped" if stopped else "no node was running", file=sys.stderr)
    else:
        status = node.status()
    result = {k: status[k] for k in ("url", "version", "status")}
    _emit(args, result, f"Elasticsearch {result['version'] or '-'} at {result['url']}: {result['status']}")
    return 0 if (args.action == "stop" or status["status"] != "stopped") else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers", description="Search music by sound with Elasticsearch.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("es", parents=[common], help="start, stop or query the local Elasticsearch node")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--port", type=int, default=None, help="HTTP port (default: ES_PORT or 9200)")
    p.set_defaults(func=cmd_es)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 (the CLI's last line of defence: a clear message, no trace)
        print(f"error: {scrub(str(exc))}", file=sys.stderr)
        return 1
