"""Similar songs: kNN over the song embeddings, with filters, never returning the query itself.

``k`` equals the number of hits returned: every hit comes from the vector search (no filler hits
with a score of 0), and the filters run *inside* the kNN search, so filtering never leaves fewer
than ``k`` hits when ``k`` matching songs exist.
"""

from __future__ import annotations

import random as _random
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

SOURCE = ["title", "artist", "album", "genre", "path", "duration_s"]


@dataclass
class Hit:
    id: str
    title: str
    artist: str
    album: str
    genre: str
    path: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = round(self.score, 4)
        return d


def num_candidates_for(k: int) -> int:
    """How many graph candidates each shard examines: max(100, 10·k), capped at 10 000.

    bench/knn.py measures recall@10 ≥ 0.98 at 100k songs with this setting; more candidates cost
    latency for little recall. Notebook: 05_similar_songs.ipynb.
    """
    return min(10_000, max(100, 10 * k))


def _hits(resp: dict[str, Any]) -> list[Hit]:
    fields = ("title", "artist", "album", "genre", "path")
    return [
        Hit(h["_id"], **{f: h["_source"].get(f, "") for f in fields}, score=float(h["_score"]))
        for h in resp["hits"]["hits"]
    ]


def get_song(es: Any, index: str, song_id: str, with_vector: bool = True) -> dict[str, Any]:
    """A song document by id (``_id`` included). Notebook: 05_similar_songs.ipynb."""
    from elasticsearch import NotFoundError

    from .index import missing_index

    fields = [*SOURCE, "embedding"] if with_vector else SOURCE
    try:
        doc = es.get(index=index, id=song_id, source_includes=fields)
    except NotFoundError as exc:
        if exc.error == "index_not_found_exception":
            raise missing_index(index) from None
        raise LookupError(f"No song with id {song_id!r} in index '{index}'.") from None
    return {"_id": doc["_id"], **doc["_source"]}


def find_song(
    es: Any, index: str, title: str | None = None, path: str | None = None, random: bool = False,
    seed: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A seed song: by title (best text match), by path, or at random. Notebook: 05_similar_songs.ipynb."""
    from .index import index_meta

    index_meta(es, index)  # a clear message when the index does not exist
    if random:
        query = {"function_score": {"query": {"match_all": {}},
                                    "random_score": {"seed": seed if seed is not None else _random.randrange(1 << 30),
                                                     "field": "_seq_no"}}}  # fmt: skip
    elif title:
        query = {"bool": {"should": [{"term": {"title.keyword": {"value": title, "boost": 10}}},
                                     {"match": {"title": {"query": title, "operator": "and"}}}],
                          "minimum_should_match": 1}}  # fmt: skip
    elif path:
        query = {"term": {"path": str(path)}}
    else:
        raise ValueError("give a title, a path, or random=True")
    hits = es.search(index=index, query=query, size=1, source_includes=[*SOURCE, "embedding"])["hits"]["hits"]
    if not hits:
        what = f"title {title!r}" if title else f"path {path!r}" if path else "any song"
        raise LookupError(f"No song with {what} in index '{index}'.")
    return {"_id": hits[0]["_id"], **hits[0]["_source"]}


def _filters(genre: str | None, artist: str | None, exclude_album: str | None, exclude_ids: list[str]) -> dict:
    must, must_not = [], []
    if genre:
        must.append({"term": {"genre": genre}})
    if artist:
        must.append({"term": {"artist": artist}})
    if exclude_album:
        must_not.append({"term": {"album": exclude_album}})
    if exclude_ids:
        must_not.append({"ids": {"values": list(exclude_ids)}})
    return {"bool": {"filter": must, "must_not": must_not}}


def knn(
    es: Any,
    index: str,
    vector: np.ndarray | list[float],
    k: int = 10,
    num_candidates: int | None = None,
    genre: str | None = None,
    artist: str | None = None,
    exclude_album: str | None = None,
    exclude_ids: list[str] | None = None,
    field: str = "embedding",
) -> list[Hit]:
    """The ``k`` nearest songs to a vector, filters applied inside the search. Notebook: 05_similar_songs.ipynb."""
    body = {
        "field": field,
        "query_vector": [float(x) for x in vector],
        "k": k,
        "num_candidates": max(k, num_candidates or num_candidates_for(k)),
        "filter": _filters(genre, artist, exclude_album, exclude_ids or []),
    }
    from elasticsearch import NotFoundError

    from .index import missing_index

    try:
        resp = es.search(index=index, knn=body, size=k, source_includes=SOURCE)
    except NotFoundError:
        raise missing_index(index) from None
    return _hits(resp)


def similar(
    es: Any,
    index: str,
    song: dict[str, Any] | str,
    k: int = 10,
    genre: str | None = None,
    artist: str | None = None,
    exclude_same_album: bool = False,
    num_candidates: int | None = None,
) -> list[Hit]:
    """Songs most similar to a song of the index (a document or its id), never the song itself.

    Notebook: 05_similar_songs.ipynb (and ``python -m helpers similar``).
    """
    doc = get_song(es, index, song) if isinstance(song, str) else song
    if "embedding" not in doc:
        doc = get_song(es, index, doc["_id"])
    return knn(es, index, doc["embedding"], k=k, num_candidates=num_candidates, genre=genre, artist=artist,
               exclude_album=doc.get("album") if exclude_same_album else None,
               exclude_ids=[doc["_id"]])  # fmt: skip


def more_like_these(es: Any, index: str, song_ids: list[str], k: int = 10, **filters: Any) -> list[Hit]:
    """Songs close to several seeds at once: the normalized mean of their vectors, seeds excluded.

    Notebook: 05_similar_songs.ipynb.
    """
    vectors = np.array([get_song(es, index, i)["embedding"] for i in song_ids], dtype=np.float32)
    mean = vectors.mean(axis=0)
    mean /= np.linalg.norm(mean)
    return knn(es, index, mean, k=k, exclude_ids=list(song_ids), **filters)


def similar_to_file(es: Any, index: str, path: str, k: int = 10, **filters: Any) -> tuple[dict, list[Hit]]:
    """Embed a file that may not be in the index, with the index's embedder, and search with it."""
    from .embeddings import EmbeddingCache, content_hash, get_embedder
    from .index import index_meta

    meta = index_meta(es, index)
    emb = get_embedder(meta.get("embedder", "features"))
    if "center" in meta:
        emb.center = np.asarray(meta["center"], np.float32)
    vector = emb.embed_file(path, EmbeddingCache())
    digest = content_hash(path)
    hits = knn(es, index, vector, k=k, exclude_ids=[digest], **filters)
    return {"_id": digest, "path": str(path)}, hits


# ------------------------------------------------------------------------------ exact vs approximate


def copy_to_flat(es: Any, index: str, target: str | None = None) -> str:
    """Copy an index's songs into ``<index>-exact``, whose vectors use ``flat`` (brute-force, exact) search.

    Notebook: 05_similar_songs.ipynb.
    """
    from elasticsearch.helpers import bulk, scan

    from .index import index_meta, mapping

    target = target or f"{index}-exact"
    meta = index_meta(es, index)
    es.options(ignore_status=404).indices.delete(index=target)
    m = mapping(meta["dims"], "flat")
    m["_meta"] = {**meta, "index_options": "flat"}
    es.indices.create(index=target, mappings=m, settings={"number_of_shards": 1, "number_of_replicas": 0})
    docs = scan(es, index=index, query={"query": {"match_all": {}}})
    bulk(es, ({"_index": target, "_id": d["_id"], "_source": d["_source"]} for d in docs), chunk_size=200)
    es.indices.refresh(index=target)
    return target


def recall_at_k(approx: list[list[str]], exact: list[list[str]]) -> float:
    """Mean share of the exact top-k ids that the approximate search also returned."""
    return float(np.mean([len(set(a) & set(e)) / max(1, len(e)) for a, e in zip(approx, exact, strict=True)]))


def compare_exact(es: Any, index: str, exact_index: str, k: int = 10, queries: int = 50, seed: int = 0,
                  num_candidates: int | None = None) -> dict[str, float]:  # fmt: skip
    """Recall@k and median latency of approximate (HNSW) against exact (flat) search, on songs as queries.

    Notebook: 05_similar_songs.ipynb.
    """
    from elasticsearch.helpers import scan

    docs = [(d["_id"], d["_source"]["embedding"]) for d in scan(es, index=index, _source=["embedding"])]
    rng = _random.Random(seed)
    picks = rng.sample(docs, min(queries, len(docs)))
    approx, exact, t_a, t_e = [], [], [], []
    for doc_id, vec in picks:
        t = time.perf_counter()
        approx.append([h.id for h in knn(es, index, vec, k=k, exclude_ids=[doc_id], num_candidates=num_candidates)])
        t_a.append(time.perf_counter() - t)
        t = time.perf_counter()
        exact.append([h.id for h in knn(es, exact_index, vec, k=k, exclude_ids=[doc_id])])
        t_e.append(time.perf_counter() - t)
    return {"recall": recall_at_k(approx, exact), "approx_ms": 1000 * float(np.median(t_a)),
            "exact_ms": 1000 * float(np.median(t_e)), "queries": len(picks)}  # fmt: skip


def all_vectors(es: Any, index: str) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Every song's fields and its vector, for maps and exact checks. Notebook: 05_similar_songs.ipynb."""
    from elasticsearch.helpers import scan

    docs, vectors = [], []
    for d in scan(es, index=index, _source=[*SOURCE, "embedding"]):
        vectors.append(d["_source"].pop("embedding"))
        docs.append({"_id": d["_id"], **d["_source"]})
    return docs, np.asarray(vectors, dtype=np.float32)
