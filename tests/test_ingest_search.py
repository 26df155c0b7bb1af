"""Index, ingest and search against the real node."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from helpers.embeddings import FeatureEmbedder
from helpers.index import IndexMismatch, create_index, index_meta, mapping
from helpers.ingest import ingest_folder
from helpers.search import compare_exact, copy_to_flat, find_song, knn, more_like_these, similar
from tests import media


@pytest.fixture()
def library_copy(tmp_path, small_library):
    dest = tmp_path / "music"
    shutil.copytree(small_library, dest, ignore=shutil.ignore_patterns("*.json", "*.md"))
    return dest


def count(es, index):
    return es.count(index=index)["count"]


def test_mapping_explains_itself():
    m = mapping(2048, "int8_hnsw")
    vec = m["properties"]["embedding"]
    assert vec["dims"] == 2048 and vec["similarity"] == "dot_product" and vec["index_options"]["type"] == "int8_hnsw"
    assert m["properties"]["genre"]["type"] == "keyword"
    assert m["properties"]["title"]["fields"]["keyword"]["type"] == "keyword"
    with pytest.raises(ValueError, match="index_options"):
        mapping(8, "ivf")


def test_create_is_idempotent_and_refuses_other_embedders(es, index_name):
    emb = FeatureEmbedder()
    assert create_index(es, index_name, emb)["created"] is True
    assert create_index(es, index_name, emb)["created"] is False
    meta = index_meta(es, index_name)
    assert meta["embedder"] == "features" and meta["dims"] == 122 and meta["index_options"] == "hnsw"

    class Other:
        name, dim = "panns", 2048

        def settings(self):
            return {}

    es.index(index=index_name, id="x", document={"title": "keep me", "embedding": [0.0] * 121 + [1.0]},
             refresh=True)  # fmt: skip
    with pytest.raises(IndexMismatch, match="left untouched"):
        create_index(es, index_name, Other())
    assert count(es, index_name) == 1 and index_meta(es, index_name)["dims"] == 122


def test_ingest_twice_counts_stay_the_same(es, index_name, library_copy):
    first = ingest_folder(es, library_copy, index=index_name, embedder="features", progress=False)
    assert (first.indexed, first.updated, first.unchanged, first.failed) == (12, 0, 0, [])
    assert count(es, index_name) == 12
    second = ingest_folder(es, library_copy, index=index_name, embedder="features", progress=False)
    assert (second.indexed, second.updated, second.unchanged) == (0, 0, 12)
    assert count(es, index_name) == 12
    doc = es.search(index=index_name, size=1)["hits"]["hits"][0]
    assert doc["_id"] == doc["_source"]["content_hash"] and len(doc["_id"]) == 64


def test_changed_file_is_updated_and_renamed_file_keeps_one_document(es, index_name, library_copy):
    ingest_folder(es, library_copy, index=index_name, embedder="features", progress=False)
    songs = sorted(library_copy.rglob("*.mp3"))
    changed, renamed = songs[0], songs[1]
    old_ids = {h["_source"]["path"]: h["_id"] for h in es.search(index=index_name, size=50)["hits"]["hits"]}
    data = changed.read_bytes()
    changed.write_bytes(data[: len(data) * 2 // 3])  # a different, shorter recording at the same path
    new_name = renamed.with_name("renamed-" + renamed.name)
    renamed.rename(new_name)
    report = ingest_folder(es, library_copy, index=index_name, embedder="features", progress=False)
    assert (report.indexed, report.updated, report.unchanged, report.failed) == (0, 2, 10, [])
    assert count(es, index_name) == 12
    by_path = {h["_source"]["path"]: h["_id"] for h in es.search(index=index_name, size=50)["hits"]["hits"]}
    assert by_path[str(changed)] != old_ids[str(changed)]
    assert str(renamed) not in by_path and by_path[str(new_name)] == old_ids[str(renamed)]


def test_broken_files_are_reported_and_every_good_file_is_indexed(es, index_name, library_copy, a_song):
    bad = library_copy / "broken"
    bad.mkdir()
    (bad / "empty.mp3").write_bytes(b"")
    (bad / "notes.mp3").write_text("this is a text file")
    (bad / "image.mp3").write_bytes(media.png_bytes())
    (bad / "cut.mp3").write_bytes(a_song.read_bytes()[:3000])
    media.write(bad / "silence.wav", np.zeros(22050 * 4, np.float32), 22050)
    report = ingest_folder(es, library_copy, index=index_name, embedder="features", progress=False)
    failed = {f["path"].rsplit("/", 1)[-1]: f["error"] for f in report.failed}
    assert set(failed) == {"empty.mp3", "notes.mp3", "image.mp3", "cut.mp3", "silence.wav"}, failed
    assert "empty" in failed["empty.mp3"] and "not a decodable" in failed["notes.mp3"]
    assert "silent" in failed["silence.wav"]
    assert report.indexed == 12 and count(es, index_name) == 12


def test_bulk_item_errors_land_in_the_report(es, index_name, library_copy):
    """A bulk item the server rejects is reported with its path; the others are indexed."""
    emb = FeatureEmbedder()
    create_index(es, index_name, emb)
    es.indices.put_settings(index=index_name, settings={"index.blocks.write": True})
    try:
        report = ingest_folder(es, library_copy, index=index_name, embedder=emb, progress=False)
    finally:
        es.indices.put_settings(index=index_name, settings={"index.blocks.write": False})
    assert len(report.failed) == 12 and report.indexed == 0
    assert all("Elasticsearch rejected it" in f["error"] for f in report.failed)
    again = ingest_folder(es, library_copy, index=index_name, embedder=emb, progress=False)
    assert again.indexed == 12 and again.failed == []


@pytest.fixture()
def filled(es, index_name, small_library):
    ingest_folder(es, small_library, index=index_name, embedder="features", progress=False)
    return index_name


def test_query_song_never_in_its_own_results(es, filled):
    ids = [h["_id"] for h in es.search(index=filled, size=50)["hits"]["hits"]]
    for song_id in ids:
        hits = similar(es, filled, song_id, k=11)
        assert song_id not in [h.id for h in hits]
        assert len(hits) == 11
        assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_genre_filter_holds(es, filled):
    seed = find_song(es, filled, random=True, seed=1)
    for genre in ("Fiddle Tunes", "Baroque Chorale"):
        hits = similar(es, filled, seed, k=5, genre=genre)
        assert hits and all(h.genre == genre for h in hits)
        assert len(hits) == (1 if genre == seed["genre"] else 2)


def test_exclude_same_album_and_more_like_these(es, filled):
    seed = find_song(es, filled, random=True, seed=3)
    hits = similar(es, filled, seed, k=11, exclude_same_album=True)
    assert all(h.album != seed["album"] for h in hits)
    ids = [h["_id"] for h in es.search(index=filled, size=3)["hits"]["hits"]]
    mlt = more_like_these(es, filled, ids, k=5)
    assert len(mlt) == 5 and not set(ids) & {h.id for h in mlt}


def test_knn_returns_true_nearest_neighbours(es, filled):
    from elasticsearch.helpers import scan

    docs = [(d["_id"], np.array(d["_source"]["embedding"])) for d in scan(es, index=filled)]
    ids, X = [d[0] for d in docs], np.stack([d[1] for d in docs])
    q = X[4]
    expected = [ids[i] for i in np.argsort(-(X @ q)) if ids[i] != ids[4]][:5]
    assert [h.id for h in knn(es, filled, q, k=5, exclude_ids=[ids[4]])] == expected


def test_exact_against_approximate(es, filled):
    exact = copy_to_flat(es, filled)
    try:
        assert index_meta(es, exact)["index_options"] == "flat"
        result = compare_exact(es, filled, exact, k=5, queries=12)
        assert result["recall"] == 1.0 and result["queries"] == 12
    finally:
        es.indices.delete(index=exact)


def test_cli_contracts(es_node, es, filled, small_library):
    env = {**os.environ, "ES_PORT": str(es_node.http_port)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "helpers", *args, "--json"], capture_output=True, text=True,
                              env=env, timeout=300)  # fmt: skip

    out = run("ingest", str(small_library), "--index", filled, "--embedder", "features", "--no-progress")
    data = json.loads(out.stdout)
    assert set(data) == {"index", "indexed", "updated", "unchanged", "failed", "seconds"}
    assert data["unchanged"] == 12 and data["failed"] == []
    out = run("similar", "--random", "-k", "3", "--index", filled)
    data = json.loads(out.stdout)
    assert set(data) == {"query", "results"} and len(data["results"]) == 3
    assert set(data["results"][0]) == {"id", "title", "artist", "album", "genre", "path", "score"}
    assert data["query"]["id"] not in {r["id"] for r in data["results"]}
    out = run("similar", "--random", "--index", "does-not-exist")
    assert out.returncode == 1 and "does not exist" in out.stderr and "ingest" in out.stderr
