"""PANNs segment pooling and centring, measured on the demo library.

    .venv/bin/python bench/pooling.py [--songs 60] [--checkpoint PATH]

1. How close is the pooled embedding (N x 10 s windows spread over the song, mean-pooled) to the
   embedding of the whole song in one pass (both at 32 kHz)? Cosine per song, and whether each song's
   pooled vector finds its own whole-song vector first among all songs.
2. How bunched are the cosine scores Elasticsearch reports, ``(1 + cos) / 2``, between songs, with and
   without centring by the library mean (``helpers.embeddings.fit_center``)?

Without a checkpoint this runs on a Cnn14 with random weights (the real ones cannot be downloaded on the
benchmark machine). A random Cnn14 is still a fixed, non-negative (ReLU) feature extractor, so both
questions are meaningful for the plumbing, but the figures are not those of the trained model: rerun with
``--checkpoint ~/panns_data/Cnn14_mAP=0.431.pth`` where the real weights are available.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, table


def es_scores(X: np.ndarray) -> np.ndarray:
    """Elasticsearch's cosine score between every pair of different rows."""
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = (1 + X @ X.T) / 2
    return S[~np.eye(len(X), dtype=bool)]


def top_gap(X: np.ndarray, k: int = 10) -> float:
    """Mean score difference between a song's 1st and k-th neighbour: how well the list is ordered apart."""
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = (1 + X @ X.T) / 2
    np.fill_diagonal(S, -np.inf)
    top = -np.sort(-S, axis=1)[:, :k]
    return float(np.mean(top[:, 0] - top[:, -1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--songs", type=int, default=60)
    ap.add_argument("--checkpoint", default=None)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(2)
    from bench.embed import random_checkpoint
    from helpers import audio
    from helpers.demo import demo_songs, ensure_library
    from helpers.embeddings import PannsEmbedder, fit_center, genre_agreement
    from helpers.metadata import read_tags

    songs = list(demo_songs(ensure_library()))[: args.songs]
    weights = "real" if args.checkpoint else "random (not the trained model)"
    emb = PannsEmbedder(checkpoint=args.checkpoint or random_checkpoint(), device="cpu")
    genres = [read_tags(p).genre for p in songs]

    start = time.perf_counter()
    whole, pooled = [], {1: [], 3: [], 5: []}
    for p in songs:
        y = audio.load(p, sr=emb.sr)
        _, e = emb.tagger.inference(y[None, :].astype(np.float32))
        whole.append(e[0])
        for n in pooled:
            emb.max_segments = n
            pooled[n].append(emb.raw(emb.load_segments(p)))
    wall = time.perf_counter() - start
    W = np.array(whole)
    Wn = W / np.linalg.norm(W, axis=1, keepdims=True)

    def unit_rows(X: np.ndarray) -> np.ndarray:
        return X / np.linalg.norm(X, axis=1, keepdims=True)

    rows = []
    mu = Wn.mean(axis=0)
    for n, vecs in pooled.items():
        Pn = unit_rows(np.array(vecs))
        row = [f"{n} x 10 s", len(songs)]
        # raw cosines are inflated by the component all songs share; centred ones are what search ranks by
        for A, B in ((Pn, Wn), (unit_rows(Pn - mu), unit_rows(Wn - mu))):
            cos = np.sum(A * B, axis=1)
            own_first = np.mean((A @ B.T).argmax(axis=1) == np.arange(len(songs)))
            row += [float(cos.mean()), float(cos.min()), float(own_first)]
        rows.append(row)
    print(f"## Pooled against whole-song embeddings ({weights} weights)\n")
    print(table(["segments pooled", "songs", "cosine", "min cosine", "own song nearest", "centred cosine",
                 "min centred cosine", "own song nearest (centred)"], rows))  # fmt: skip

    P = np.array(pooled[3])
    center = fit_center(P)
    Pn = P / np.linalg.norm(P, axis=1, keepdims=True)
    C = Pn - center
    spread = []
    for label, X in (("raw (as the seeds index it)", P), ("centred on the library mean", C)):
        s = es_scores(X)
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        spread.append([label, float(s.min()), float(np.percentile(s, 5)), float(np.median(s)),
                       float(np.percentile(s, 95)), float(s.max()), top_gap(X),
                       genre_agreement(Xn, genres)])  # fmt: skip
    print(f"\n## Score spread between songs, Elasticsearch cosine score (1 + cos) / 2 ({weights} weights)\n")
    print(table(["vectors", "min", "p5", "median", "p95", "max", "1st - 10th neighbour", "genre agreement"], spread))
    print(f"\n{len(songs)} songs, {wall:.0f} s. Machine: {machine()}")


if __name__ == "__main__":
    main()
