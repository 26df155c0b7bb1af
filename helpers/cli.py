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


def _index_name(args: argparse.Namespace) -> str:
    from .config import Settings

    return args.index or Settings.from_env().index


def cmd_ingest(args: argparse.Namespace) -> int:
    from .es import connect
    from .ingest import ingest_folder

    es = connect(quiet=args.json)
    report = ingest_folder(es, args.dir, index=_index_name(args), embedder=args.embedder,
                           index_options=args.index_options, progress=not args.no_progress,
                           melody=not args.no_melody, shards=args.shards, replicas=args.replicas)  # fmt: skip
    result = {k: v for k, v in report.as_dict().items() if k not in ("embedder", "warnings")}  # the contract
    human = report.summary() + "".join(f"\n  FAILED {f['path']}: {f['error']}" for f in report.failed)
    notes = "".join(f"\n  warning {w['path']}: {w['warning']}" for w in report.warnings)
    if args.json and notes:
        print(notes.lstrip("\n"), file=sys.stderr)  # stdout holds exactly the contracted JSON
    _emit(args, result, human + notes)
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from .es import connect
    from .search import find_song, similar, similar_to_file

    es = connect(quiet=args.json)
    index = _index_name(args)
    filters = {"genre": args.genre, "artist": args.artist}
    if args.file:
        seed, hits = similar_to_file(es, index, args.file, k=args.k, **filters)
    else:
        seed = find_song(es, index, title=args.title, random=args.random, seed=args.seed)
        hits = similar(es, index, seed, k=args.k, exclude_same_album=args.exclude_album, **filters)
    query = {"id": seed["_id"], **{f: seed.get(f) for f in ("title", "artist", "album", "genre", "path")}}
    result = {"query": query, "results": [h.as_dict() for h in hits]}
    lines = [f"Seed: {query.get('title')} · {query.get('artist')} [{query.get('genre')}]"]
    lines += [f"{i + 1:>3}. {h.score:.3f}  {h.title} · {h.artist} [{h.genre}]" for i, h in enumerate(hits)]
    _emit(args, result, "\n".join(lines))
    return 0


def cmd_hum(args: argparse.Namespace) -> int:
    from .audio import load
    from .es import connect
    from .humming import HUM_SR, search_hum

    es = connect(quiet=args.json)
    y = load(args.file, sr=HUM_SR, max_duration=60)
    hits, _ = search_hum(es, _index_name(args), y, HUM_SR, k=args.k)
    result = {"results": [h.as_dict() for h in hits]}
    lines = [f"{i + 1:>3}. {h.score:.3f}  {h.title} · {h.artist}  (at {h.offset_s:.1f} s)" for i, h in enumerate(hits)]
    _emit(args, result, "\n".join(lines) or "no match")
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

    p = sub.add_parser("ingest", parents=[common], help="index a music folder in Elasticsearch")
    p.add_argument("dir")
    p.add_argument("--index", default=None, help="default: ES_INDEX or music")
    p.add_argument("--embedder", choices=["features", "panns", "auto"], default=None)
    p.add_argument("--index-options", choices=["hnsw", "int8_hnsw", "bbq_hnsw", "flat"], default="hnsw")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--no-melody", action="store_true", help="skip melody extraction (no search by humming)")
    p.add_argument("--shards", type=int, default=1, help="primary shards of a new index (default 1)")
    p.add_argument("--replicas", type=int, default=0, help="replicas of a new index (default 0; 1 on a cluster)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("similar", parents=[common], help="songs similar to a seed song")
    seed = p.add_mutually_exclusive_group(required=True)
    seed.add_argument("--random", action="store_true", help="a random seed song")
    seed.add_argument("--title", help="the seed song's title")
    seed.add_argument("--file", help="an audio file (need not be in the index)")
    p.add_argument("--index", default=None)
    p.add_argument("-k", type=int, default=3)
    p.add_argument("--genre", default=None)
    p.add_argument("--artist", default=None)
    p.add_argument("--exclude-album", action="store_true", help="skip songs from the seed's album")
    p.add_argument("--seed", type=int, default=None, help="random seed for --random")
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("hum", parents=[common], help="find a song from a hummed recording")
    p.add_argument("file")
    p.add_argument("--index", default=None)
    p.add_argument("-k", type=int, default=10)
    p.set_defaults(func=cmd_hum)

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
