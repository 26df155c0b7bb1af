"""Peak memory of embedding and ingesting one 60-minute file (goal: under 2 GB RSS).

    .venv/bin/python bench/long_file.py [--minutes 60] [--port 9240]

Makes a 60-minute stereo 44.1 kHz MP3 (demo songs end to end), then runs the whole ingest of a folder
holding only that file, in a fresh process with an empty embedding cache, once per embedder:
decoding, PANNs (random-weight Cnn14: the same compute and memory as the real weights) or the feature
embedder, melody extraction, tags and the bulk request. Peak RSS is that process's (Elasticsearch runs
in its own process and is not counted: its heap is fixed by ``ES_HEAP``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, bench_node, machine, run_child, table


def child(args: argparse.Namespace) -> None:
    import os

    import torch

    torch.set_num_threads(2)
    from helpers.embeddings import EmbeddingCache, get_embedder
    from helpers.es import connect
    from helpers.ingest import ingest_folder

    es = connect(f"http://127.0.0.1:{args.port}", quiet=True)
    index = f"bench-long-{args.embedder}"
    for name in (index, f"{index}-melody"):
        es.options(ignore_status=404).indices.delete(index=name)
    kwargs = {"checkpoint": args.checkpoint, "device": "cpu"} if args.embedder == "panns" else {}
    emb = get_embedder(args.embedder, **kwargs)
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        report = ingest_folder(es, args.folder, index=index, embedder=emb, cache=EmbeddingCache(cache),
                               progress=False)  # fmt: skip
        wall = time.perf_counter() - start
    windows = es.count(index=f"{index}-melody")["count"]
    print(json.dumps({"indexed": report.indexed, "failed": report.failed, "warnings": report.warnings,
                      "wall_s": wall, "windows": windows, "pid": os.getpid()}))  # fmt: skip


def make_hour(minutes: float, out: Path) -> Path:
    import soundfile as sf

    from helpers import audio
    from helpers.demo import demo_songs, ensure_library

    if out.exists():
        return out
    songs = list(demo_songs(ensure_library()))[:12]
    y = np.concatenate([audio.load(p, sr=44100) for p in songs])
    total = int(minutes * 60 * 44100)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.mp3")
    with sf.SoundFile(tmp, "w", 44100, 2, format="MP3", subtype="MPEG_LAYER_III") as f:
        done = 0
        while done < total:
            block = y[: min(len(y), total - done)]
            f.write(np.stack([block, block * 0.9], axis=1))
            done += len(block)
    tmp.replace(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--port", type=int, default=9240)
    ap.add_argument("--embedder", default="panns")
    ap.add_argument("--folder", default="")
    ap.add_argument("--checkpoint", default=None)
    args = ap.parse_args()
    if args.child:
        return child(args)

    from bench.embed import random_checkpoint
    from helpers import audio

    folder = ROOT / ".cache" / "bench" / f"long-{args.minutes:g}min"
    f = make_hour(args.minutes, folder / f"long-{args.minutes:g}min.mp3")
    info = audio.info(f)
    bench_node(args.port)  # the children connect to it
    ckpt = str(args.checkpoint or random_checkpoint())
    rows = []
    for embedder in ("panns", "features"):
        r = run_child(Path(__file__), ["--embedder", embedder, "--folder", str(folder), "--port", str(args.port),
                                       "--checkpoint", ckpt])  # fmt: skip
        assert r["indexed"] == 1 and not r["failed"], r
        rows.append([embedder, f"{info.duration_s / 60:.0f} min, {info.channels} ch, {info.samplerate} Hz MP3",
                     r["wall_s"], r["windows"], r["peak_mib"], "yes" if r["peak_mib"] < 2048 else "NO"])  # fmt: skip
        print(rows[-1], r["warnings"], file=sys.stderr)
    print("## Embedding and ingesting one long file\n")
    print(table(["embedder", "file", "ingest s", "melody windows", "peak RSS (MiB)", "< 2 GB"], rows))
    print(f"\nMachine: {machine()}")


if __name__ == "__main__":
    main()
