"""Ingest a music folder into Elasticsearch: tags + embedding per file, in bulk, idempotently.

The document id is the SHA-256 of the file's bytes, so re-ingesting creates no duplicates, a
changed file replaces its old document, and a renamed file keeps its single document. A file that
fails (decoding, tags, or a bulk item error) goes into the report with its reason; the rest are
still indexed.
"""

from __future__ import annotations

import functools
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import audio
from .embeddings import Embedder, EmbeddingCache, content_hash, fit_center, get_embedder
from .humming import MelodyExtractor, contour_to_json, ensure_melody_index, melody_actions, melody_index
from .index import create_index, index_meta, set_center
from .metadata import read_tags


class IngestInterrupted(RuntimeError):
    """Elasticsearch went away mid-ingest; re-running the same ingest resumes it."""


@dataclass
class IngestReport:
    index: str
    indexed: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    embedder: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 2)
        return d

    def summary(self) -> str:
        total = self.indexed + self.updated + self.unchanged + len(self.failed)
        rate = total / self.seconds if self.seconds else 0.0
        return (
            f"{self.index}: {self.indexed} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.failed)} failed ({total} files in {self.seconds:.1f} s, {rate:.1f} files/s)"
            + (f", {len(self.warnings)} warnings" if self.warnings else "")
        )


def _existing(es: Any, index: str) -> tuple[dict[str, str], dict[str, str]]:
    """(id → path, path → id) of the documents already in the index."""
    from elasticsearch.helpers import scan

    by_id, by_path = {}, {}
    for hit in scan(es, index=index, query={"query": {"match_all": {}}}, _source=["path"], size=1000):
        path = hit["_source"].get("path", "")
        by_id[hit["_id"]] = path
        by_path[path] = hit["_id"]
    return by_id, by_path


def _document(path: Path, root: Path, digest: str, vector: np.ndarray, embedder: Embedder) -> dict[str, Any]:
    tags = read_tags(path, root=root)
    return {
        "title": tags.title,
        "artist": tags.artist,
        "album": tags.album,
        "genre": tags.genre,
        "year": tags.year if tags.year and 0 < tags.year < 32767 else None,
        "track": tags.track if tags.track and 0 < tags.track < 32767 else None,
        "duration_s": tags.duration_s or audio.info(path).duration_s,
        "path": str(path),
        "content_hash": digest,
        "embedder": embedder.name,
        "indexed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "embedding": vector.tolist(),
    }


def _delete_windows(es: Any, index: str, song_id: str, path: str):
    name = melody_index(index)
    hits = es.search(index=name, query={"term": {"song_id": song_id}}, size=10_000, source=False)["hits"]["hits"]
    for h in hits:
        yield {"_op_type": "delete", "_index": name, "_id": h["_id"], "_path": path}


def _file_warnings_into_report(fn: Callable[..., IngestReport]) -> Callable[..., IngestReport]:
    """Decoder warnings about a file (they start with its absolute path) go into ``report.warnings``."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> IngestReport:
        show = warnings.showwarning
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = fn(*args, **kwargs)
        seen: set[tuple[type, str]] = set()
        for w in caught:
            text = str(w.message)
            if (w.category, text) in seen:
                continue
            seen.add((w.category, text))
            path, _, rest = text.partition(": ")
            if issubclass(w.category, UserWarning) and Path(path).is_absolute():
                report.warnings.append({"path": path, "warning": rest})
            else:
                show(w.message, w.category, w.filename, w.lineno)
        return report

    return wrapper


@_file_warnings_into_report
def ingest_folder(
    es: Any,
    folder: str | Path,
    index: str = "music",
    embedder: Embedder | str | None = None,
    cache: EmbeddingCache | None = None,
    index_options: str = "hnsw",
    chunk_size: int = 64,
    progress: bool = True,
    melody: bool = True,
    shards: int = 1,
    replicas: int = 0,
) -> IngestReport:
    """Index every audio file under ``folder``; return counts, failures, warnings and time.

    With ``melody`` (the default) each song's melody is extracted too: stored in the song document
    and indexed as windows in ``<index>-melody`` for search by humming. Decoder warnings about a
    file (a truncated MP3, say) land in ``report.warnings`` with its path instead of on stderr.

    Notebook: 04_ingestion.ipynb (and ``python -m helpers ingest DIR``).
    """
    from elastic_transport import TransportError
    from tqdm.auto import tqdm

    start = time.perf_counter()
    root = Path(folder).resolve()
    emb = embedder if isinstance(embedder, Embedder) else get_embedder(embedder)
    cache = cache or EmbeddingCache()
    create_index(es, index, emb, index_options=index_options, shards=shards, replicas=replicas)
    meta = index_meta(es, index)
    report = IngestReport(index=index, embedder=emb.name)

    files = audio.audio_files(root)
    by_id, by_path = _existing(es, index)
    to_embed: list[tuple[Path, str]] = []
    renames: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for path in tqdm(files, desc="hashing", unit="file", disable=not progress, file=sys.stderr):
        try:
            info = audio.info(path)  # cheap: catches empty, unreadable, undecodable files and oddities early
            digest = content_hash(path)
            if melody and info.duration_s > MelodyExtractor.segment_s:
                report.warnings.append({"path": str(path), "warning": (
                    f"{info.duration_s / 60:.0f} min long: search by humming covers its first "
                    f"{MelodyExtractor.segment_s / 60:.0f} min only")})  # fmt: skip
        except (audio.AudioError, OSError) as exc:
            report.failed.append({"path": str(path), "error": str(exc)})
            continue
        if digest in seen:
            report.unchanged += 1  # the same bytes twice in the folder: one song, one document
            continue
        seen.add(digest)
        if digest in by_id:
            if by_id[digest] == str(path):
                report.unchanged += 1
            else:
                renames.append((path, digest))
        else:
            to_embed.append((path, digest))

    raw: dict[str, np.ndarray] = {}
    digests = {p: d for p, d in to_embed}
    for r in emb.embed_files([p for p, _ in to_embed], cache=cache, progress=progress, digests=digests):
        if r.error:
            report.failed.append({"path": str(r.path), "error": r.error})
        else:
            raw[r.digest] = r.raw

    contours: dict[str, np.ndarray] = {}
    if melody:
        ensure_melody_index(es, index, shards=shards, replicas=replicas)
        todo = [p for p, d in to_embed if d in raw]
        for r in MelodyExtractor().embed_files(todo, cache=cache, progress=progress, digests=digests):
            if r.error:
                report.failed.append({"path": str(r.path), "error": f"melody: {r.error}"})
                if r.digest:
                    raw.pop(r.digest, None)
            else:
                contours[r.digest] = r.raw

    if getattr(emb, "wants_center", False):
        if "center" not in meta and raw:
            center = fit_center(np.stack(list(raw.values())))
            set_center(es, index, center.tolist())
            meta["center"] = center.tolist()
        if "center" in meta:
            emb.center = np.asarray(meta["center"], np.float32)

    def actions():
        for path, digest in to_embed:
            if digest not in raw:
                continue
            try:
                doc = _document(path, root, digest, emb.finalize(raw[digest]), emb)
            except Exception as exc:
                report.failed.append({"path": str(path), "error": f"{type(exc).__name__}: {exc}"})
                continue
            old = by_path.get(str(path))
            if old and old != digest:
                yield {"_op_type": "delete", "_index": index, "_id": old, "_path": str(path)}
                if melody:
                    yield from _delete_windows(es, index, old, str(path))
            if digest in contours:
                doc["melody"] = contour_to_json(contours[digest])
                for action in melody_actions(index, digest, contours[digest]):
                    action["_path"] = str(path)
                    yield action
            yield {"_op_type": "index", "_index": index, "_id": digest, "_source": doc, "_path": str(path),
                   "_replaces": old}  # fmt: skip
        for path, digest in renames:
            doc = {"path": str(path), "indexed_at": datetime.now(UTC).isoformat(timespec="seconds")}
            yield {"_op_type": "update", "_index": index, "_id": digest, "_path": str(path), "doc": doc}

    pending: dict[tuple[str, str], dict[str, Any]] = {}

    def tracked():
        for a in actions():
            pending[(a["_op_type"], a["_id"])] = {"path": a.pop("_path"), "replaces": a.pop("_replaces", None)}
            yield a

    try:
        _send(es, tracked(), pending, report, index, chunk_size)
        es.indices.refresh(index=index)
        if melody:
            es.indices.refresh(index=melody_index(index))
    except TransportError as exc:
        done = report.indexed + report.updated
        raise IngestInterrupted(
            f"Lost Elasticsearch during the ingest into '{index}' ({type(exc).__name__}) after {done} songs were "
            f"stored. Nothing is lost and nothing will be doubled: start Elasticsearch again (`.venv/bin/python -m "
            f"helpers es start`), then re-run the same ingest; it skips the songs already stored."
        ) from exc
    report.seconds = time.perf_counter() - start
    return report


def _send(es: Any, actions: Any, pending: dict, report: IngestReport, index: str, chunk_size: int) -> None:
    """Stream the actions in bulk requests; count each song's outcome in ``report``.

    Items rejected with 429 (a busy node) are retried with exponential backoff (1, 2, 4, 8, 16 s).
    A song's melody windows are sent before the song itself, so a song that is stored always has
    its windows: an interrupted ingest can resume by skipping the songs already stored.
    """
    from elasticsearch.helpers import streaming_bulk

    for ok, item in streaming_bulk(
        es, actions, chunk_size=chunk_size, raise_on_error=False, raise_on_exception=False, max_retries=5,
        initial_backoff=1, max_backoff=30,
    ):  # fmt: skip
        op, result = next(iter(item.items()))
        info = pending.pop((op, result.get("_id")), {"path": "?", "replaces": None})
        if result.get("_index") != index:  # melody windows: failures count, successes are not songs
            if not ok and op != "delete":
                report.failed.append({"path": info["path"], "error": f"melody window rejected: {result.get('error')}"})
            continue
        if not ok:
            if op == "delete" and result.get("status") == 404:
                continue
            reason = result.get("error", result)
            if isinstance(reason, dict):
                reason = f"{reason.get('type')}: {reason.get('reason')}"
            report.failed.append({"path": info["path"], "error": f"Elasticsearch rejected it ({reason})"})
        elif op == "index":
            if info["replaces"] or result.get("result") == "updated":
                report.updated += 1
            else:
                report.indexed += 1
        elif op == "update":
            report.updated += 1
