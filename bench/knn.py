"""kNN latency (p50, p95) and recall@10 against exact search, at 10k and 100k 2048-d vectors.

    .venv/bin/python bench/knn.py [--sizes 10000 100000] [--queries 200] [--port 9291] [--force-merge]

For each size and each index_options type (hnsw, int8_hnsw, bbq_hnsw), the synthetic vectors of
bench/vectors.py are bulk-loaded into a fresh index on a dedicated local node; queries are held-out
vectors of the same distribution. Recall@10 is measured against the exact top 10 (brute force over
all vectors with numpy, which is what a `flat` index returns). Latency is the client-side wall time of
`search` with k=10 and num_candidates = helpers.search.num_candidates_for(10), after warm-up.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_node, machine, table
from bench.vectors import synthetic


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--port", type=int, default=9291)
    ap.add_argument("--types", nargs="*", default=["hnsw", "int8_hnsw", "bbq_hnsw"])
    ap.add_argument("--force-merge", action="store_true", help="merge each index to one segment before querying")
    args = ap.parse_args()

    from elasticsearch.helpers import parallel_bulk

    from helpers.index import mapping
    from helpers.search import num_candidates_for

    node, es = bench_node(args.port, heap="4g")
    k, nc = 10, num_candidates_for(10)
    rows = []
    try:
        for n in args.sizes:
            data = synthetic(n + args.queries, seed=2)
            X, Q = data[:n], data[n:]
            truth = np.argsort(-(Q @ X.T), axis=1)[:, :k]
            for kind in args.types:
                index = f"bench-knn-{kind}-{n}".replace("_", "-")
                es.options(ignore_status=404).indices.delete(index=index)
                vector_field = mapping(2048, kind)["properties"]["embedding"]
                settings = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"}
                es.indices.create(index=index, mappings={"properties": {"embedding": vector_field}}, settings=settings)
                t = time.perf_counter()
                actions = ({"_index": index, "_id": str(i), "_source": {"embedding": v}} for i, v in enumerate(X))
                for ok, item in parallel_bulk(es, actions, thread_count=2, chunk_size=500):
                    if not ok:
                        raise RuntimeError(item)
                es.indices.refresh(index=index)
                load_s = time.perf_counter() - t
                if args.force_merge:  # a library that is loaded once and then searched: one graph, not ten
                    es.options(request_timeout=3600).indices.forcemerge(index=index, max_num_segments=1)
                    es.indices.refresh(index=index)
                segments = len(es.cat.segments(index=index, format="json"))
                size_mb = es.indices.stats(index=index)["indices"][index]["total"]["store"]["size_in_bytes"] / 2**20

                def query(q: np.ndarray, index: str = index) -> list[int]:
                    r = es.search(index=index, knn={"field": "embedding", "query_vector": q, "k": k,
                                                    "num_candidates": nc}, size=k, source=False)  # fmt: skip
                    return [int(h["_id"]) for h in r["hits"]["hits"]]

                for q in Q[:20]:
                    query(q)  # warm-up: load the graph and vectors into the page cache
                lat, recalls = [], []
                for qi, q in enumerate(Q):
                    t = time.perf_counter()
                    got = query(q)
                    lat.append(1000 * (time.perf_counter() - t))
                    recalls.append(len(set(got) & set(truth[qi].tolist())) / k)
                rows.append([n, kind, float(np.percentile(lat, 50)), float(np.percentile(lat, 95)),
                             float(np.mean(recalls)), n / load_s, segments, size_mb])  # fmt: skip
                print(rows[-1], file=sys.stderr, flush=True)
                es.indices.delete(index=index)
    finally:
        node.stop()
    merged = ", force-merged to 1 segment" if args.force_merge else ", as bulk-loaded"
    print(f"## kNN search on 2048-d vectors (k={k}, num_candidates={nc}, {args.queries} queries{merged})\n")
    print(table(["vectors", "index_options", "p50 ms", "p95 ms", "recall@10", "load docs/s", "segments",
                 "store MiB"], rows))  # fmt: skip
    print(f"\nMachine: {machine()}")


if __name__ == "__main__":
    main()
