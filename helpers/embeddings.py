"""Embedders: one interface, three ways to turn a song into a vector.

- :class:`FeatureEmbedder` ("features"): standardized librosa statistics, 122-d, no weights needed.
- :class:`PannsEmbedder` ("panns"): PANNs Cnn14 through ``panns_inference``, 2048-d, fed 32 kHz audio
  in 10 s segments that are mean-pooled, so memory stays flat whatever the song's length.
- The melody representation for humming lives in :mod:`helpers.humming`.

Every embedder returns float32 unit-norm vectors. Raw (pre-normalisation) vectors are cached on
disk, keyed by the file's content hash, the embedder's name and its settings.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import audio, features
from .config import cache_dir

PANNS_URL = "https://zenodo.org/record/3987831/files/Cnn14_mAP%3D0.431.pth?download=1"
PANNS_FILE = "Cnn14_mAP=0.431.pth"
PANNS_MD5 = "541141fa2ee191a88f24a3219fff024e"  # published by Zenodo for this file
PANNS_MIN_BYTES = 300_000_000  # panns_inference re-downloads anything smaller
LABELS_CSV = Path(__file__).parent / "data" / "class_labels_indices.csv"


class EmbeddingError(RuntimeError):
    """An embedder cannot run (weights missing, download failed); the message says how to fix it."""


def content_hash(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes: the cache key and the Elasticsearch document id.

    Notebook: 04_ingestion.ipynb.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def segment_starts(duration: float, segment_s: float, max_segments: int) -> list[float]:
    """Start times of at most ``max_segments`` windows of ``segment_s`` spread evenly over the song."""
    if duration <= segment_s:
        return [0.0]
    n = min(max_segments, int(np.ceil(duration / segment_s)))
    return [float(s) for s in np.linspace(0.0, duration - segment_s, n)]


def unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if n == 0 or not np.isfinite(n):
        raise EmbeddingError("the vector is all zeros (silent audio?): nothing to compare")
    return (v / n).astype(np.float32)


class Embedder:
    """The interface every embedder implements. Notebook: 02_embeddings.ipynb."""

    name: str = ""
    dim: int = 0
    sr: int = 22050
    segment_s: float = 30.0
    max_segments: int = 3
    center: np.ndarray | None = None
    wants_center: bool = False  # subtract the library's mean vector before normalizing (set at ingest)

    def settings(self) -> dict[str, Any]:
        """What changes the vectors: part of the cache key and of the index ``_meta``."""
        return {"sr": self.sr, "segment_s": self.segment_s, "max_segments": self.max_segments}

    @property
    def key(self) -> str:
        digest = hashlib.sha256(json.dumps(self.settings(), sort_keys=True).encode()).hexdigest()[:12]
        return f"{self.name}-{digest}"

    # -- the maths ------------------------------------------------------------------------
    def raw(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def finalize(self, raw: np.ndarray) -> np.ndarray:
        """Raw → unit-norm vector (subtracting ``center`` first, if set)."""
        return unit(raw - self.center if self.center is not None else raw)

    def embed(self, y: np.ndarray) -> np.ndarray:
        """A waveform at ``self.sr`` → a unit-norm float32 vector, under the segment policy."""
        duration = len(y) / self.sr
        n = int(self.segment_s * self.sr)
        segs = [y[int(s * self.sr) : int(s * self.sr) + n] for s in segment_starts(duration, self.segment_s,
                                                                                     self.max_segments)]  # fmt: skip
        return self.finalize(self.raw(segs))

    # -- files ----------------------------------------------------------------------------
    def load_segments(self, path: str | os.PathLike) -> list[np.ndarray]:
        """Decode only the windows the segment policy needs (memory is flat in song length)."""
        info = audio.info(path)
        starts = segment_starts(info.duration_s, self.segment_s, self.max_segments)
        segs = [audio.load(path, sr=self.sr, offset=s, duration=self.segment_s) for s in starts]
        if all(audio.is_silent(s) for s in segs):
            raise audio.AudioError(path, "the audio is silent", "nothing to search for in it; remove the file")
        return segs

    def raw_file(self, path: str | os.PathLike, cache: EmbeddingCache | None = None) -> np.ndarray:
        digest = content_hash(path) if cache else ""
        if cache and (hit := cache.get(self, digest)) is not None:
            return hit
        raw = self.raw(self.load_segments(path))
        if cache:
            cache.put(self, digest, raw)
        return raw

    def embed_file(self, path: str | os.PathLike, cache: EmbeddingCache | None = None) -> np.ndarray:
        """One file → unit-norm vector (cached when ``cache`` is given). Notebook: 02_embeddings.ipynb."""
        return self.finalize(self.raw_file(path, cache))

    def embed_files(
        self,
        paths: Iterable[str | os.PathLike],
        cache: EmbeddingCache | None = None,
        progress: bool = True,
        workers: int = 2,
        digests: dict[Path, str] | None = None,
    ) -> Iterator[EmbedResult]:
        """Embed many files: decoding runs in threads, ahead of inference; failures are yielded, not raised.

        Yields raw vectors (call :meth:`finalize`), so that a library-wide centre can be fitted first.
        ``digests`` (path → SHA-256), when the caller already hashed the files, saves hashing them again.
        Notebook: 02_embeddings.ipynb, 04_ingestion.ipynb.
        """
        from tqdm.auto import tqdm

        paths = [Path(p) for p in paths]

        known = digests or {}

        def prepare(path: Path) -> tuple[str, np.ndarray | None, list[np.ndarray] | None]:
            digest = known.get(path) or content_hash(path)
            if cache and (hit := cache.get(self, digest)) is not None:
                return digest, hit, None
            return digest, None, self.load_segments(path)

        bar = tqdm(total=len(paths), desc=f"embedding ({self.name})", unit="song", disable=not progress,
                   file=sys.stderr)  # fmt: skip
        with ThreadPoolExecutor(max_workers=workers) as pool:
            window = 2 * workers
            futures = [pool.submit(prepare, p) for p in paths[:window]]
            for i, path in enumerate(paths):
                if i + window < len(paths):
                    futures.append(pool.submit(prepare, paths[i + window]))
                try:
                    digest, raw, segs = futures[i].result()
                    if raw is None:
                        raw = self.raw(segs)
                        if cache:
                            cache.put(self, digest, raw)
                    yield EmbedResult(path, digest, raw, None)
                except audio.AudioError as exc:
                    yield EmbedResult(path, None, None, str(exc))
                except Exception as exc:  # one bad file must never stop the others
                    yield EmbedResult(path, None, None, f"{path}: {type(exc).__name__}: {exc}")
                futures[i] = None  # free the decoded audio
                bar.update()
        bar.close()


@dataclass
class EmbedResult:
    path: Path
    digest: str | None
    raw: np.ndarray | None
    error: str | None


class EmbeddingCache:
    """Raw vectors on disk: ``<dir>/<embedder key>/<content sha256>.npy``. Notebook: 02_embeddings.ipynb."""

    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        self.dir = Path(directory) if directory else cache_dir() / "embeddings"
        self.hits = 0
        self.misses = 0

    def _path(self, embedder: Embedder, digest: str) -> Path:
        return self.dir / embedder.key / f"{digest}.npy"

    def get(self, embedder: Embedder, digest: str) -> np.ndarray | None:
        path = self._path(embedder, digest)
        try:
            v = np.load(path)
        except (OSError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return v

    def put(self, embedder: Embedder, digest: str, raw: np.ndarray) -> None:
        path = self._path(embedder, digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, raw.astype(np.float32))
        tmp.replace(path)


# ------------------------------------------------------------------------------ features


class FeatureEmbedder(Embedder):
    """Standardized MFCC, chroma, contrast, tonnetz, spectral and rhythm statistics (122-d).

    Needs no weights: the default when no PANNs checkpoint can be had. Notebook: 02_embeddings.ipynb.
    """

    name = "features"
    sr = features.SR
    segment_s = 30.0
    max_segments = 3

    def __init__(self) -> None:
        self.dim = sum(b.size for b in features.feature_blocks())
        self.stats = features.load_stats()

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "blocks": [b.size for b in features.feature_blocks()], "version": 1}

    def raw(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        return features.feature_vector(np.concatenate(segments), self.sr)

    def finalize(self, raw: np.ndarray) -> np.ndarray:
        v = features.standardize(raw, self.stats)
        if self.center is not None:
            v = v - self.center
        return unit(v)


# ------------------------------------------------------------------------------ PANNs


def panns_checkpoint_path() -> Path:
    """``PANNS_CHECKPOINT``, or ``~/panns_data/Cnn14_mAP=0.431.pth``."""
    env = os.environ.get("PANNS_CHECKPOINT")
    return Path(env).expanduser() if env else Path.home() / "panns_data" / PANNS_FILE


def _hashes(path: Path) -> tuple[str, str]:
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            md5.update(block)
            sha.update(block)
    return md5.hexdigest(), sha.hexdigest()


def download_checkpoint(
    dest: Path | None = None, url: str | None = None, md5: str | None = PANNS_MD5, sha256: str | None = None
) -> Path:
    """Download the Cnn14 weights with a progress bar, verify their checksum, then move them into place.

    The verified SHA-256 is written beside the file (``.sha256``), and checked on every later load.
    Notebook: 02_embeddings.ipynb.
    """
    from tqdm.auto import tqdm

    dest = dest or panns_checkpoint_path()
    url = url or os.environ.get("PANNS_URL", PANNS_URL)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=30) as resp, open(part, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {dest.name}", file=sys.stderr) as bar:
                while block := resp.read(1 << 20):
                    out.write(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        part.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise EmbeddingError(
            f"Could not download the PANNs Cnn14 weights ({reason}).\n"
            f"  file:    {dest.name} (about 327 MB)\n"
            f"  address: {url}\n"
            f"  fix:     download it on a machine with internet access and put it at {dest}\n"
            "           (or set PANNS_CHECKPOINT to where it is). Meanwhile EMBEDDER=features needs no weights."
        ) from None
    got_md5, got_sha = _hashes(part)
    if (md5 and got_md5 != md5) or (sha256 and got_sha != sha256):
        part.unlink(missing_ok=True)
        raise EmbeddingError(
            f"The download of {url} is corrupt (md5 {got_md5}, expected {md5}); it was deleted. Try again."
        )
    part.replace(dest)
    dest.with_name(dest.name + ".sha256").write_text(got_sha + "\n")
    return dest


def _ensure_labels() -> None:
    """panns_inference reads ~/panns_data/class_labels_indices.csv at import, or shells out to wget."""
    target = Path.home() / "panns_data" / "class_labels_indices.csv"
    if not target.exists() or target.stat().st_size < 10_000:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(LABELS_CSV, target)


def ensure_checkpoint(path: Path | None = None, download: bool = True) -> Path:
    """The checkpoint file, downloaded if missing; verified against its recorded SHA-256."""
    path = path or panns_checkpoint_path()
    if not path.exists():
        if not download:
            raise EmbeddingError(f"No PANNs checkpoint at {path}: set PANNS_CHECKPOINT, or allow the download.")
        download_checkpoint(path)
    if path.stat().st_size < PANNS_MIN_BYTES:
        raise EmbeddingError(
            f"{path} is {path.stat().st_size / 1e6:.0f} MB, too small to be Cnn14 (327 MB): a partial download? "
            "Delete it and run again."
        )
    want = os.environ.get("PANNS_CHECKPOINT_SHA256") or (
        (path.with_name(path.name + ".sha256")).read_text().strip()
        if path.with_name(path.name + ".sha256").exists()
        else None
    )
    if want and _hashes(path)[1] != want:
        raise EmbeddingError(f"{path} does not match its SHA-256 ({want[:12]}…): delete it and download again.")
    return path


class PannsEmbedder(Embedder):
    """PANNs Cnn14 (AudioSet), loaded through ``panns_inference.AudioTagging``: 2048-d embeddings.

    Segment policy: up to 3 windows of 10 s, evenly spread over the song, embedded as one batch and
    mean-pooled. Cnn14 was trained on 10 s clips at 32 kHz, and is fed exactly that.
    Notebook: 02_embeddings.ipynb.
    """

    name = "panns"
    dim = 2048
    sr = 32000
    wants_center = True

    def __init__(
        self,
        checkpoint: str | os.PathLike | None = None,
        device: str | None = None,
        segment_s: float = 10.0,
        max_segments: int = 3,
        download: bool = True,
    ) -> None:
        import torch

        self.segment_s, self.max_segments = segment_s, max_segments
        self.checkpoint = ensure_checkpoint(Path(checkpoint).expanduser() if checkpoint else None, download)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        _ensure_labels()
        from panns_inference import AudioTagging

        with contextlib.redirect_stdout(sys.stderr):  # it prints; stdout is for results (--json)
            self.tagger = AudioTagging(checkpoint_path=str(self.checkpoint), device=self.device)
        self.labels = list(self.tagger.labels)

    def settings(self) -> dict[str, Any]:
        stat = self.checkpoint.stat()
        return {**super().settings(), "checkpoint": self.checkpoint.name, "bytes": stat.st_size,
                "mtime": int(stat.st_mtime)}  # fmt: skip

    def _forward(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.tagger.inference(batch.astype(np.float32))

    def raw(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        n = max(len(s) for s in segments)
        batch = np.stack([np.pad(s, (0, n - len(s))) for s in segments])
        _, emb = self._forward(batch)
        return emb.mean(axis=0).astype(np.float32)

    def tags(self, y: np.ndarray, top: int = 5) -> list[tuple[str, float]]:
        """The top AudioSet labels of a clip at 32 kHz. Notebook: 02_embeddings.ipynb."""
        clipwise, _ = self._forward(y[None, :])
        order = np.argsort(-clipwise[0])[:top]
        return [(self.labels[i], float(clipwise[0][i])) for i in order]


def get_embedder(name: str | None = None, **kwargs: Any) -> Embedder:
    """``features``, ``panns``, or ``auto``: PANNs when its weights can be had, else features with a message.

    Notebook: 02_embeddings.ipynb (and ``EMBEDDER`` for the others).
    """
    name = (name or os.environ.get("EMBEDDER") or "auto").lower()
    if name == "features":
        return FeatureEmbedder()
    if name == "panns":
        return PannsEmbedder(**kwargs)
    if name != "auto":
        raise ValueError(f"unknown embedder {name!r}: use features, panns or auto")
    try:
        return PannsEmbedder(**kwargs)
    except EmbeddingError as exc:
        print(
            f"PANNs is not available, so the weights-free feature embedder is used instead.\n  ({exc})".replace(
                "\n", "\n  "
            ),
            file=sys.stderr,
        )
        return FeatureEmbedder()


def fit_center(raw_vectors: np.ndarray) -> np.ndarray:
    """The mean of a library's unit-normalized vectors, to subtract before normalizing again.

    Centring spreads cosine scores of non-negative embeddings (PANNs) over [-1, 1] instead of
    bunching them near 1. Notebook: 02_embeddings.ipynb.
    """
    X = raw_vectors / np.linalg.norm(raw_vectors, axis=1, keepdims=True)
    return X.mean(axis=0).astype(np.float32)


def genre_agreement(X: np.ndarray, genres: Sequence[str]) -> float:
    """Leave-one-out: the share of songs whose nearest other song has the same genre.

    A quick, label-based check of an embedding. Notebook: 02_embeddings.ipynb.
    """
    S = X @ X.T
    np.fill_diagonal(S, -np.inf)
    nearest = S.argmax(axis=1)
    return float(np.mean([genres[i] == genres[j] for i, j in enumerate(nearest)]))


def random_cnn14_checkpoint(path: Path, seed: int = 0) -> Path:
    """A checkpoint of the real Cnn14 architecture holding random weights (made once).

    For tests and benchmarks where the real weights cannot be downloaded: it exercises the real load
    path and costs the real compute, but its embeddings mean nothing.
    """
    if path.exists():
        return path
    import torch

    _ensure_labels()
    from panns_inference.models import Cnn14

    torch.manual_seed(seed)
    model = Cnn14(sample_rate=32000, window_size=1024, hop_size=320, mel_bins=64, fmin=50, fmax=14000, classes_num=527)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "iteration": 0}, tmp)
    tmp.replace(path)
    return path
