"""The Elasticsearch index: one document per song, its embedding in a ``dense_vector``.

Every mapping choice is explained in notebook 03. The embedder's name, dimensions and settings are
stored in the index ``_meta``, so that vectors from another embedder can never be mixed in.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 1

INDEX_OPTIONS: dict[str, dict[str, Any]] = {
    # graph search over full float32 vectors: the most accurate approximate search, 4 bytes per dimension
    "hnsw": {"type": "hnsw", "m": 16, "ef_construction": 100},
    # the same graph over vectors quantized to 1 byte per dimension (the float32 copy stays on disk for rescoring)
    "int8_hnsw": {"type": "int8_hnsw", "m": 16, "ef_construction": 100},
    # Better Binary Quantization: ~1 bit per dimension in memory, needs rescoring (oversample) for accuracy
    "bbq_hnsw": {"type": "bbq_hnsw", "m": 16, "ef_construction": 100},
    # no graph: every query compares against every vector. Exact, and linear in the number of songs
    "flat": {"type": "flat"},
}


class IndexMismatch(ValueError):
    """The index exists with another embedder or dimension; it was left untouched."""


def mapping(dims: int, index_options: str = "hnsw") -> dict[str, Any]:
    """The mapping of a song document. Notebook: 03_index_creation.ipynb."""
    if index_options not in INDEX_OPTIONS:
        raise ValueError(f"index_options must be one of {sorted(INDEX_OPTIONS)}, not {index_options!r}")
    keyword = {"type": "keyword", "ignore_above": 512}
    return {
        "dynamic": "strict",
        "properties": {
            "embedding": {
                "type": "dense_vector",
                "dims": dims,
                "index": True,
                "similarity": "dot_product",
                "index_options": dict(INDEX_OPTIONS[index_options]),
            },
            "title": {"type": "text", "fields": {"keyword": keyword}},
            "artist": keyword,
            "album": keyword,
            "genre": keyword,
            "year": {"type": "short"},
            "track": {"type": "short"},
            "duration_s": {"type": "float"},
            "path": keyword,
            "content_hash": keyword,
            "embedder": keyword,
            "indexed_at": {"type": "date"},
            # the song's melody contour (for re-ranking hums): kept in _source only, never indexed
            "melody": {"type": "object", "enabled": False},
        },
    }


def meta_for(embedder: Any, index_options: str, center: list[float] | None = None) -> dict[str, Any]:
    meta = {
        "schema_version": SCHEMA_VERSION,
        "embedder": embedder.name,
        "dims": embedder.dim,
        "embedder_settings": embedder.settings(),
        "index_options": index_options,
    }
    if center is not None:
        meta["center"] = center
    return meta


def index_meta(es: Any, index: str) -> dict[str, Any]:
    """The ``_meta`` of an index (embedder, dims, settings, centre). Notebook: 03_index_creation.ipynb."""
    from elasticsearch import NotFoundError

    try:
        m = es.indices.get_mapping(index=index)
    except NotFoundError:
        raise missing_index(index) from None
    return next(iter(m.values()))["mappings"].get("_meta", {})


def missing_index(index: str) -> LookupError:
    """The error for an index that does not exist, with the command that creates it."""
    return LookupError(
        f"Index '{index}' does not exist. Create and fill it with "
        f"`.venv/bin/python -m helpers ingest DIR --index {index}` (or notebook 04_ingestion)."
    )


def create_index(
    es: Any,
    index: str,
    embedder: Any,
    index_options: str = "hnsw",
    recreate: bool = False,
    shards: int = 1,
    replicas: int = 0,
) -> dict[str, Any]:
    """Create the index for an embedder; idempotent. Returns ``{"index", "created", "meta"}``.

    An existing index with the same embedder and dims is kept as is. One with another embedder or
    dims raises :class:`IndexMismatch` and is not touched, unless ``recreate=True`` (which deletes it).
    Notebook: 03_index_creation.ipynb.
    """
    if es.indices.exists(index=index):
        meta = index_meta(es, index)
        same = meta.get("embedder") == embedder.name and meta.get("dims") == embedder.dim
        if not recreate:
            if not same:
                raise IndexMismatch(
                    f"Index '{index}' holds {meta.get('dims')}-d vectors from embedder '{meta.get('embedder')}', "
                    f"not {embedder.dim}-d from '{embedder.name}'. It was left untouched. Use another index name "
                    f"(--index), or recreate it (recreate=True) to delete what it holds."
                )
            return {"index": index, "created": False, "meta": meta}
        es.indices.delete(index=index)
    body_mapping = mapping(embedder.dim, index_options)
    body_mapping["_meta"] = meta_for(embedder, index_options)
    es.indices.create(
        index=index,
        mappings=body_mapping,
        settings={"number_of_shards": shards, "number_of_replicas": replicas},
    )
    return {"index": index, "created": True, "meta": body_mapping["_meta"]}


def set_center(es: Any, index: str, center: list[float]) -> None:
    """Record the library's mean vector (for centring PANNs) in the index ``_meta``."""
    meta = index_meta(es, index)
    es.indices.put_mapping(index=index, meta={**meta, "center": center})


def delete_index(es: Any, index: str) -> bool:
    """Delete an index if it exists. Notebook: 03_index_creation.ipynb."""
    return bool(es.options(ignore_status=404).indices.delete(index=index).get("acknowledged"))


def vector_bytes(dims: int, index_options: str, m: int = 16) -> dict[str, float]:
    """Approximate memory a vector needs to be searched fast (page cache, off-heap), and disk.

    From Elasticsearch's sizing guidance: float vectors 4·d bytes, int8 d + 4, bbq d/8 + 14, plus the
    HNSW graph (about 4·m bytes per vector per layer-0 link list); the float32 originals are also kept
    on disk for rescoring by the quantized types. Notebook: 03_index_creation.ipynb.
    """
    graph = 0.0 if index_options == "flat" else 4 * m * 2
    hot = {"hnsw": 4 * dims, "flat": 4 * dims, "int8_hnsw": dims + 4, "bbq_hnsw": dims / 8 + 14}[index_options]
    disk = hot + (4 * dims if index_options in ("int8_hnsw", "bbq_hnsw") else 0) + graph
    return {"memory": hot + graph, "disk": disk}
