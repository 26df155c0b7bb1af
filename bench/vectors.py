"""Synthetic 2048-d embeddings shaped like real ones: clustered, low intrinsic dimension, plus noise.

Uniform random vectors in 2048-d are all nearly orthogonal, which no real embedding is, and which
makes approximate search look worse than it is; these are a fairer stand-in.
"""

from __future__ import annotations

import numpy as np


def synthetic(n: int, dims: int = 2048, rank: int = 64, clusters: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(rank, dims)).astype(np.float32) / np.sqrt(rank)
    centers = rng.normal(size=(clusters, rank)).astype(np.float32)
    out = np.empty((n, dims), np.float32)
    for start in range(0, n, 10_000):
        m = min(10_000, n - start)
        z = centers[rng.integers(0, clusters, m)] + 0.6 * rng.normal(size=(m, rank)).astype(np.float32)
        x = z @ basis + 0.05 * rng.normal(size=(m, dims)).astype(np.float32)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out
