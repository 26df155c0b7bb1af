"""README command 1: start Elasticsearch, build the demo library, execute every notebook, summarise."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from .config import REPO_ROOT


def run_tutorial(out: str | os.PathLike = "results", names: list[str] | None = None, songs: int = 60) -> int:
    """Run the notebook series headless; write executed notebooks and HTML to ``out``.

    Returns the exit status: 0 when every notebook ran.
    """
    from .demo import ensure_library
    from .es import local_node
    from .notebooks import run_all, uses_remote_cluster

    start = time.perf_counter()
    out_dir = Path(out) if Path(out).is_absolute() else REPO_ROOT / out
    if uses_remote_cluster():
        print("Using the cluster configured in the environment/.env", file=sys.stderr)
    else:
        node = local_node()
        print(f"Starting the local Elasticsearch node on {node.url} ...", file=sys.stderr)
        status = node.start()
        print(f"Elasticsearch {status['version']}: {status['status']}", file=sys.stderr)
    library = ensure_library(songs=songs)
    os.environ.setdefault("MUSIC_DIR", str(library))
    runs = run_all(out_dir, names)
    total = time.perf_counter() - start
    print("\nSummary", file=sys.stderr)
    for r in runs:
        print(f"  {'ok    ' if r.ok else 'FAILED'} {r.name:<28} {r.seconds:7.1f} s   {r.html or ''}", file=sys.stderr)
    failed = [r.name for r in runs if not r.ok]
    print(
        f"{len(runs) - len(failed)}/{len(runs)} notebooks ran in {total / 60:.1f} min; results in {out_dir}",
        file=sys.stderr,
    )
    return 1 if failed or not runs else 0
