"""Bulk ingest throughput of 2048-d song documents, against the seeds' one request per document.

    .venv/bin/python bench/bulk.py [--docs 20000] [--port 9290]

Runs on its own local node (started and stopped here). Documents carry a 2048-d unit vector and song
metadata, like helpers.ingest's. Ours: elasticsearch.helpers.parallel_bulk (2 threads, 500 docs a
request, orjson), refresh disabled during the load, one refresh at the end (included in the time).
The seeds': es.index() per document, same data, same index settings, in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_node, machine, table
from bench.vectors import synthetic


def docs(X, index: str, start: int = 0):
    genres = ("Folk", "Classical", "Jazz", "Rock")
    for i, v in enumerate(X):
        n = start + i
        source = {
            "title": f"Song {n}",
            "artist": f"Artist {n % 500}",
            "album": f"Album {n % 2000}",
            "genre": genres[n % 4],
            "duration_s": 180.0,
            "path": f"/music/{n}.mp3",
            "content_hash": f"{n:064d}",
            "embedder": "panns",
            "embedding": v,
        }
        yield {"_index": index, "_id": f"song-{n}", "_source": source}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--seed-docs", type=int, default=1000, help="documents for the one-per-request baseline")
    ap.add_argument("--port", type=int, default=9290)
    ap.add_argument("--index-options", nargs="*", default=["hnsw", "int8_hnsw", "bbq_hnsw", "flat"])
    args = ap.parse_args()

    from elasticsearch.helpers import parallel_bulk

    from helpers.index import mapping

    node, es = bench_node(args.port, heap="4g")
    X = synthetic(args.docs + args.seed_docs, seed=1)
    rows = []
    try:
        for kind in args.index_options:
            for way in ("bulk", "one-per-request"):
                index = f"bench-bulk-{kind}-{way}".lower()
                es.options(ignore_status=404).indices.delete(index=index)
                settings = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"}
                es.indices.create(index=index, mappings=mapping(2048, kind), settings=settings)
                t = time.perf_counter()
                if way == "bulk":
                    n = args.docs
                    for ok, item in parallel_bulk(es, docs(X[:n], index), thread_count=2, chunk_size=500,
                                                  queue_size=4):  # fmt: skip
                        if not ok:
                            raise RuntimeError(item)
                else:
                    n = args.seed_docs
                    for action in docs(X[args.docs : args.docs + n], index, start=args.docs):
                        es.index(index=index, id=action["_id"], document=action["_source"])
                es.indices.refresh(index=index)
                seconds = time.perf_counter() - t
                assert es.count(index=index)["count"] == n
                rows.append([kind, way, n, seconds, n / seconds])
                print(rows[-1], file=sys.stderr)
                es.indices.delete(index=index)
    finally:
        node.stop()
    print(f"## Bulk ingest of 2048-d documents ({args.docs} bulk, {args.seed_docs} one-per-request)\n")
    print(table(["index_options", "way", "docs", "seconds", "docs/s"], rows))
    by = {(r[0], r[1]): r[4] for r in rows}
    for kind in args.index_options:
        print(f"\n{kind}: bulk is {by[(kind, 'bulk')] / by[(kind, 'one-per-request')]:.1f}× the seeds' way", end="")
    print(f"\n\nMachine: {machine()}")


if __name__ == "__main__":
    main()
