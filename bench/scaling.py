"""What a million songs cost: disk and memory per index_options type, measured from Lucene's files.

    .venv/bin/python bench/scaling.py [--docs 20000] [--dims 2048] [--port 9292]

Loads ``--docs`` song documents (the real mapping of helpers.index, synthetic 2048-d vectors from
bench/vectors.py, realistic tags) into one index per type, force-merges it to one segment, then sums
the index's files on disk by extension:

- ``.vec``: the float32 vectors (every type keeps them: exact rescoring, merges, reindexing);
- ``.veq`` / ``.veb``: the int8 / binary (bbq) quantized copies that int8_hnsw / bbq_hnsw search;
- ``.vex``: the HNSW graph;
- everything else: ``_source`` (which holds the vector too, as JSON-ish binary), tags, ids.

"Memory for fast kNN" is what has to sit in the page cache (off-heap) for searches not to touch the
disk: the vectors the graph walk reads (``.vec`` for hnsw and flat, ``.veq``/``.veb`` for the
quantized types) plus the graph. The figures are per million songs, scaled linearly from ``--docs``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_node, machine, table
from bench.vectors import synthetic

HOT = {"hnsw": {".vec", ".vex"}, "flat": {".vec"}, "int8_hnsw": {".veq", ".vex"}, "bbq_hnsw": {".veb", ".vex"}}


def files_by_extension(node, es, index: str) -> dict[str, int]:
    uuid = es.indices.get_settings(index=index)[index]["settings"]["index"]["uuid"]
    sizes: dict[str, int] = defaultdict(int)
    for f in (node.dir / "data" / "indices" / uuid).rglob("*"):
        if f.is_file() and "/index/" in str(f):
            sizes[f.suffix or f.name] += f.stat().st_size
    return dict(sizes)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--dims", type=int, default=2048)
    ap.add_argument("--port", type=int, default=9292)
    ap.add_argument("--types", nargs="*", default=["hnsw", "int8_hnsw", "bbq_hnsw", "flat"])
    args = ap.parse_args()

    from elasticsearch.helpers import parallel_bulk

    from helpers.index import mapping

    node, es = bench_node(args.port, heap="2g")
    X = synthetic(args.docs, dims=args.dims, seed=5)
    genres = ["Baroque Chorale", "Irish Traditional", "German Folk Song", "Fiddle Tunes", "Jazz", "Rock"]
    per_million = 1_000_000 / args.docs
    rows, detail = [], []
    try:
        for kind in args.types:
            index = f"bench-scale-{kind}".replace("_", "-")
            es.options(ignore_status=404).indices.delete(index=index)
            settings = {
                "number_of_shards": 1,
                "number_of_replicas": 0,
                "refresh_interval": "-1",
                "index.compound_format": False,
            }  # one file per Lucene part, to measure each
            es.indices.create(index=index, mappings=mapping(args.dims, kind), settings=settings)
            t = time.perf_counter()
            actions = ({"_index": index, "_id": f"{i:064x}", "_source": {
                "title": f"Song number {i}", "artist": f"Artist {i % 997}", "album": f"Album {i % 4001}",
                "genre": genres[i % len(genres)], "duration_s": 180.0 + i % 120,
                "path": f"/music/{i % 997}/{i}.mp3", "content_hash": f"{i:064x}", "embedder": "panns",
                "embedding": v}} for i, v in enumerate(X))  # fmt: skip
            for ok, item in parallel_bulk(es, actions, thread_count=2, chunk_size=500):
                if not ok:
                    raise RuntimeError(item)
            es.indices.refresh(index=index)
            es.options(request_timeout=3600).indices.forcemerge(index=index, max_num_segments=1)
            load_s = time.perf_counter() - t
            sizes = files_by_extension(node, es, index)
            total = sum(sizes.values())
            hot = sum(v for k, v in sizes.items() if k in HOT[kind])
            gib = per_million / 2**30
            rows.append([kind, total * gib, hot * gib, 2 * hot * gib, total / args.docs / 1024, load_s])
            vec_files = [sizes.get(e, 0) for e in (".vec", ".veq", ".veb", ".vex")]
            detail.append([kind] + [b / args.docs for b in vec_files] + [(total - sum(vec_files)) / args.docs])
            print(rows[-1], sorted(sizes.items()), file=sys.stderr, flush=True)
            es.indices.delete(index=index)
    finally:
        node.stop()
    print(f"## Per million songs ({args.dims}-d, measured on {args.docs:,} documents, one segment)\n")
    print(table(["index_options", "disk GiB", "memory for fast kNN GiB", "same with 1 replica GiB",
                 "KiB per song on disk", f"load + merge s ({args.docs:,})"], rows))  # fmt: skip
    print("\n## Bytes per song, by Lucene file\n")
    print(table(["index_options", ".vec (float32)", ".veq (int8)", ".veb (bbq)", ".vex (graph)",
                 "rest (_source, tags)"], detail))  # fmt: skip
    print(f"\nMachine: {machine()}")


if __name__ == "__main__":
    main()
