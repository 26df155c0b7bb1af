"""Embedding speed and memory: ×realtime and peak RSS per embedder, against the seeds' way.

    .venv/bin/python bench/embed.py [--songs 12] [--checkpoint PATH]

The seeds' way: librosa.load at 44.1 kHz, the whole song through Cnn14 in one pass (no resampling to 32 kHz).
Ours: decode only the windows needed, at 32 kHz, up to N × 10 s segments as one batch, mean-pooled,
decoding in threads ahead of inference. Speed does not depend on the weights, so a Cnn14 checkpoint with
random weights (made here if none is given) measures the real compute. Each row runs in a fresh process,
so peak memory is that configuration's alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, machine, run_child, table


def child(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(2)
    from helpers import audio
    from helpers.embeddings import FeatureEmbedder, PannsEmbedder

    paths = [Path(p) for p in args.paths.split(",")]
    seconds = sum(audio.info(p).duration_s for p in paths)
    if args.mode == "features":
        emb = FeatureEmbedder()
    else:
        emb = PannsEmbedder(checkpoint=args.checkpoint, device="cpu", max_segments=args.max_segments)
    start = time.perf_counter()
    vectors = []
    if args.mode == "seeds":
        import librosa

        for p in paths:
            y, _ = librosa.load(p, sr=44100, mono=True)  # the seeds' loading: 44.1 kHz, fed as if 32 kHz
            _, e = emb.tagger.inference(y[None, :])
            vectors.append(e[0] / np.linalg.norm(e[0]))
    else:
        vectors = [emb.finalize(r.raw) for r in emb.embed_files(paths, progress=False)]
    wall = time.perf_counter() - start
    print(json.dumps({"songs": len(vectors), "audio_s": seconds, "wall_s": wall}))


def make_long(src: list[Path], minutes: float, out: Path) -> Path:
    import soundfile as sf

    from helpers import audio

    if out.exists():
        return out
    y = np.concatenate([audio.load(p, sr=44100) for p in src])
    reps = int(np.ceil(minutes * 60 * 44100 / len(y)))
    sf.write(out, np.tile(y, reps)[: int(minutes * 60 * 44100)], 44100, format="FLAC")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--mode", default="panns")
    ap.add_argument("--paths", default="")
    ap.add_argument("--songs", type=int, default=12)
    ap.add_argument("--max-segments", type=int, default=3)
    ap.add_argument("--checkpoint", default=None)
    args = ap.parse_args()
    if args.child:
        return child(args)

    from helpers.demo import demo_songs, ensure_library

    songs = list(demo_songs(ensure_library()))
    step = max(1, len(songs) // args.songs)
    subset = songs[::step][: args.songs]
    ckpt = args.checkpoint or str(random_checkpoint())
    rows = []
    configs = [("features", "FeatureEmbedder (122-d)", 3), ("panns", "PANNs pooled 10 s segments, 32 kHz", 3),
               ("seeds", "seeds' way: whole song at 44.1 kHz", 3)]  # fmt: skip
    results = {}
    for mode, label, segs in configs:
        r = run_child(Path(__file__), ["--mode", mode, "--paths", ",".join(map(str, subset)), "--checkpoint", ckpt,
                                       "--max-segments", str(segs)])  # fmt: skip
        results[mode] = r
        rows.append([label, r["songs"], r["audio_s"] / 60, r["audio_s"] / r["wall_s"], r["peak_mib"]])
        print(rows[-1], file=sys.stderr)
    speedup = results["panns"]["audio_s"] / results["panns"]["wall_s"] / (
        results["seeds"]["audio_s"] / results["seeds"]["wall_s"])  # fmt: skip
    print(f"## Embedding speed ({len(subset)} demo songs)\n")
    print(table(["embedder", "songs", "audio (min)", "× realtime", "peak RSS (MiB)"], rows))
    print(f"\nPANNs pipeline vs the seeds' way: {speedup:.2f}× faster\n")

    long_dir = ROOT / ".cache" / "bench"
    long_dir.mkdir(parents=True, exist_ok=True)
    mem_rows = []
    for minutes in (1, 5, 20):
        f = make_long(songs[:4], minutes, long_dir / f"long-{minutes}min.flac")
        ours = run_child(Path(__file__), ["--mode", "panns", "--paths", str(f), "--checkpoint", ckpt])
        seeds = (run_child(Path(__file__), ["--mode", "seeds", "--paths", str(f), "--checkpoint", ckpt])
                 if minutes <= 5 else None)  # fmt: skip
        mem_rows.append([f"{minutes} min", ours["peak_mib"], seeds["peak_mib"] if seeds else "not run (>5 min)"])
        print(mem_rows[-1], file=sys.stderr)
    print("## Peak memory against song length\n")
    print(table(["song length", "PANNs pooled: peak RSS (MiB)", "seeds' way: peak RSS (MiB)"], mem_rows))
    print(f"\nMachine: {machine()}")


def random_checkpoint() -> Path:
    from helpers.config import cache_dir
    from helpers.embeddings import random_cnn14_checkpoint

    return random_cnn14_checkpoint(cache_dir() / "test-panns" / "Cnn14_random.pth")


if __name__ == "__main__":
    main()
