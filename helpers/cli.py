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

import numpy as np

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


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import build_demo

    result = build_demo(args.out, songs=args.songs, seed=args.seed, force=args.force)
    _emit(
        args,
        {"out": result["out"], "songs": result["songs"]},
        f"{result['songs']} songs in {result['out']}" + ("" if result["built"] else " (already built)"),
    )
    return 0


def cmd_tags(args: argparse.Namespace) -> int:
    from .audio import info
    from .metadata import read_tags

    t = read_tags(args.file)
    duration = t.duration_s
    if duration is None:
        duration = round(info(args.file).duration_s, 3)
    result = {"title": t.title, "artist": t.artist, "album": t.album, "genre": t.genre, "duration_s": duration}
    _emit(args, result, "\n".join(f"{k:>10}: {v}" for k, v in result.items()))
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    from .embeddings import get_embedder

    emb = get_embedder(args.embedder)
    v = emb.embed_file(args.file)
    result = {"embedder": emb.name, "dim": int(v.shape[0]), "vector": [round(float(x), 7) for x in v]}
    _emit(args, result, f"{emb.name}: {v.shape[0]}-d unit vector, first values {np.round(v[:6], 4).tolist()}")
    return 0


def cmd_tutorial(args: argparse.Namespace) -> int:
    from .tutorial import run_tutorial

    return run_tutorial(args.out, names=args.only, songs=args.songs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers", description="Search music by sound with Elasticsearch.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("es", parents=[common], help="start, stop or query the local Elasticsearch node")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--port", type=int, default=None, help="HTTP port (default: ES_PORT or 9200)")
    p.set_defaults(func=cmd_es)

    p = sub.add_parser("demo", parents=[common], help="build the demo music library")
    p.add_argument("--out", default=None, help="folder (default: dataset/demo)")
    p.add_argument("--songs", type=int, default=60)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--force", action="store_true", help="rebuild even if complete")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("tags", parents=[common], help="read a file's tags")
    p.add_argument("file")
    p.set_defaults(func=cmd_tags)

    p = sub.add_parser("embed", parents=[common], help="embed one audio file")
    p.add_argument("file")
    p.add_argument(
        "--embedder",
        choices=["features", "panns", "auto"],
        default=None,
        help="default: EMBEDDER or auto (PANNs if its weights can be had, else features)",
    )
    p.set_defaults(func=cmd_embed)

    p = sub.add_parser("tutorial", parents=[common], help="run the whole notebook series headless (README command 1)")
    p.add_argument("--out", default="results", help="where executed notebooks and HTML go")
    p.add_argument("--only", nargs="*", default=None, help="notebook names to run (default: all)")
    p.add_argument("--songs", type=int, default=60, help="size of the demo library")
    p.set_defaults(func=cmd_tutorial)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        print(f"error: {scrub(str(exc))}", file=sys.stderr)
        return 1
