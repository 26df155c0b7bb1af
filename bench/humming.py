"""Search by humming: MRR, top-1 and top-10 over generated hums, and latency, against the seeds' way.

    .venv/bin/python bench/humming.py [--queries 300] [--port 9292]

Queries come from helpers.humming.make_query: 8–15 s of a demo song's ground-truth melody, from a
random start, in a random key (±6 semitones, moved into a humming range), at a tempo of ±25%, with
10% wrong notes, vibrato, pitch drift, gaps between notes and breath noise at 20 dB SNR, rendered as
a voice-like tone. Ground truth is used only to make queries and to score: song melodies are
extracted from the MP3s. The seeds' way, in the same run: embed the hum with the song embedder
(the feature embedder, since PANNs weights cannot be had here) and run kNN over song embeddings.
Latency: from the recorded waveform to ranked results (pitch tracking, ES candidate search, re-ranking).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_node, machine, table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--port", type=int, default=9292)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--candidates", type=int, default=60, help="songs re-ranked per query")
    ap.add_argument("--refine", type=int, default=None, help="HUM_REFINE: songs aligned exactly after a coarse pass")
    ap.add_argument("--no-seeds", action="store_true", help="skip the seeds' way")
    ap.add_argument("--cap", type=float, default=None, help="HUM_CAP: semitones a wrong note costs at most")
    args = ap.parse_args()

    import librosa

    if args.cap is not None:
        import os

        os.environ["HUM_CAP"] = str(args.cap)
    if args.refine is not None:
        import os

        os.environ["HUM_REFINE"] = str(args.refine)
    from helpers import humming
    from helpers.demo import demo_songs, ensure_library
    from helpers.embeddings import FeatureEmbedder
    from helpers.ingest import ingest_folder
    from helpers.search import knn

    library = ensure_library()
    songs = list(demo_songs(library))
    node, es = bench_node(args.port, heap="2g")
    index = "bench-hum"
    try:
        es.options(ignore_status=404).indices.delete(index=[index, humming.melody_index(index)])
        report = ingest_folder(es, library, index=index, embedder="features", melody=True)
        print(report.summary(), file=sys.stderr)
        docs = es.search(index=index, size=1000, source_includes=["path"])["hits"]["hits"]
        ids = {h["_source"]["path"]: h["_id"] for h in docs}
        rng = np.random.default_rng(args.seed)
        feat = FeatureEmbedder()
        ours, seeds, lat, lat_seeds = [], [], [], []
        for i in range(args.queries):
            song = songs[int(rng.integers(len(songs)))]
            q = humming.make_query(song, rng)
            truth = ids[str(song)]
            t = time.perf_counter()
            hits, _ = humming.search_hum(es, index, q.y, q.sr, k=len(songs), candidates=args.candidates)
            lat.append(time.perf_counter() - t)
            ranked = [h.id for h in hits]
            ours.append(ranked.index(truth) + 1 if truth in ranked else np.inf)
            if args.no_seeds:
                continue
            t = time.perf_counter()
            v = feat.embed(librosa.resample(q.y, orig_sr=q.sr, target_sr=feat.sr))
            ranked = [h.id for h in knn(es, index, v, k=len(songs))]
            lat_seeds.append(time.perf_counter() - t)
            seeds.append(ranked.index(truth) + 1 if truth in ranked else np.inf)
            if (i + 1) % 50 == 0:
                r = np.array(ours)
                print(f"{i + 1} queries: MRR {np.mean(1 / r):.3f}", file=sys.stderr, flush=True)
    finally:
        node.stop()

    def row(name: str, ranks: list[float], latency: list[float]) -> list:
        r = np.array(ranks, dtype=float)
        return [name, len(r), float(np.mean(1 / r)), float(np.mean(r == 1)), float(np.mean(r <= 10)),
                1000 * float(np.median(latency)), 1000 * float(np.percentile(latency, 95))]  # fmt: skip

    print(f"## Search by humming ({args.queries} generated queries, {len(songs)} songs)\n")
    settings = (
        f"{args.candidates} candidates, refine {humming.REFINE}, cap {humming.CAP:g}, "
        f"{humming.WINDOW_K} windows a query vector, align at {humming.ALIGN_FPS} fps"
    )
    label = f"melody: windows kNN + re-rank ({settings})"
    rows = [row(label, ours, lat)]
    if not args.no_seeds:
        rows.append(row("seeds' way: hum embedding kNN (features)", seeds, lat_seeds))
    print(table(["method", "queries", "MRR", "top-1", "top-10", "p50 ms", "p95 ms"], rows))
    print(f"\nMachine: {machine()}")


if __name__ == "__main__":
    main()
