"""Reliability: a messy music folder, Elasticsearch faults, and a real three-node cluster (issue #7).

Everything here runs against real Elasticsearch nodes: the session node, a second node of our own
that the tests kill, freeze and restart, and a three-node cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from helpers.embeddings import FeatureEmbedder, PannsEmbedder
from helpers.es import LocalCluster, LocalNode, connect
from helpers.humming import contour_from_json, melody_index, song_windows
from helpers.index import IndexMismatch, create_index, index_meta
from helpers.ingest import IngestInterrupted, ingest_folder
from helpers.search import find_song, knn, similar
from tests import media

FAULT_PORT = 9261


def run_cli(args: list[str], env: dict[str, str], timeout: float = 600, drop_root: bool = False):
    """``python -m helpers ARGS``; as root with ``drop_root``, without the power to read any file.

    Root reads files whatever their permissions, so the unreadable-file case would not be one. Dropping
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH makes root obey permissions like every other user.
    """
    cmd = [sys.executable, "-m", "helpers", *args]
    if drop_root and os.geteuid() == 0:
        cmd = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *cmd]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ES_", "MUSIC_"))}
    return subprocess.run(cmd, env={**clean, **env}, capture_output=True, text=True, timeout=timeout)


def count(es, index: str) -> int:
    es.indices.refresh(index=index)
    return es.count(index=index)["count"]


def windows_are_complete(es, index: str) -> None:
    """Every song has exactly the melody windows its stored contour gives: none missing, none doubled."""
    name = melody_index(index)
    es.indices.refresh(index=name)
    for hit in es.search(index=index, size=100, source_includes=["melody"])["hits"]["hits"]:
        want = len(list(song_windows(contour_from_json(hit["_source"]["melody"]))))
        have = es.count(index=name, query={"term": {"song_id": hit["_id"]}})["count"]
        assert have == want, f"{hit['_id']}: {have} windows, expected {want}"


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.slow
def test_messy_folder_every_good_song_indexed_every_bad_file_reported(es_node, es, index_name, small_library,
                                                                     tmp_path):  # fmt: skip
    songs = sorted(small_library.rglob("*.mp3"))
    folder = tmp_path / "messy"
    folder.mkdir()
    for s in songs[1:5]:
        shutil.copy(s, folder / s.name)
    expect = media.bad_corpus(folder / "bad", songs[0])
    assert len(expect) >= 14
    good = 4 + sum(v == "indexed" for v in expect.values())
    env = {"ES_URL": es_node.url, "MUSIC_SEARCH_CACHE": str(tmp_path / "cache")}  # a cold cache: real decoding
    args = ["ingest", str(folder), "--index", index_name, "--embedder", "features", "--json", "--no-progress"]

    start = time.monotonic()
    proc = run_cli(args, env, drop_root=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert time.monotonic() - start < 600
    report = json.loads(proc.stdout)
    failed = {f["path"].rsplit("/", 1)[-1]: f["error"] for f in report["failed"]}
    for name, outcome in expect.items():
        path = str(folder / "bad" / name)
        if outcome == "indexed":
            assert name not in failed, f"{name} should be indexed: {failed.get(name)}"
            hits = es.search(index=index_name, query={"term": {"path": path}})["hits"]["hits"]
            assert len(hits) == 1, f"{name} is not in the index"
        else:
            assert outcome in failed.get(name, ""), f"{name}: expected '{outcome}', got {failed.get(name)!r}"
            assert path in failed[name] and "Fix:" in failed[name], failed[name]
    assert set(failed) == {n for n, o in expect.items() if o != "indexed"}
    assert report["indexed"] == good and count(es, index_name) == good
    warned = {line.split(": ", 1)[0].rsplit("/", 1)[-1]: line for line in proc.stderr.splitlines()
              if line.startswith("  warning ")}  # fmt: skip
    assert "truncated" in warned["truncated-half.mp3"] and "first 10 min" in warned["one-hour.flac"]

    def doc(name: str) -> dict:
        q = {"term": {"path": str(folder / "bad" / name)}}
        return es.search(index=index_name, query=q)["hits"]["hits"][0]["_source"]

    assert doc("one-hour.flac")["duration_s"] == pytest.approx(3600, abs=1)
    assert len(doc("oversized-tags.mp3")["title"]) <= 300 and len(doc("oversized-tags.mp3")["artist"]) <= 300
    assert doc("non-utf8-tags.mp3")["artist"] == "Sigur Rós Ærø"  # latin-1 decoded; broken UTF-8 title → name
    assert doc("non-utf8-tags.mp3")["title"] == "non-utf8-tags"
    assert doc("missing-tags.mp3")["title"] == "missing-tags"
    windows_are_complete(es, index_name)

    again = run_cli(args, env, drop_root=True)
    assert again.returncode == 0, again.stderr[-3000:]
    second = json.loads(again.stdout)
    assert (second["indexed"], second["updated"], second["unchanged"]) == (0, 0, good)
    assert {f["path"] for f in second["failed"]} == {f["path"] for f in report["failed"]}
    assert count(es, index_name) == good


# ---------------------------------------------------------------------------------- faults


@pytest.fixture(scope="module")
def fault_node():
    """A node of our own, to kill, freeze and restart without disturbing the other tests."""
    node = LocalNode(http_port=FAULT_PORT, name=f"test-faults-{FAULT_PORT}", heap="512m")
    node.stop()
    shutil.rmtree(node.dir, ignore_errors=True)
    node.start()
    yield node
    if node.pid():
        os.kill(node.pid(), signal.SIGCONT)
    node.stop()
    shutil.rmtree(node.dir, ignore_errors=True)


@pytest.mark.slow
def test_node_killed_during_ingest_then_rerun_resumes_without_loss_or_duplicates(fault_node, small_library,
                                                                               monkeypatch):  # fmt: skip
    import elasticsearch.helpers

    es = connect(fault_node.url, quiet=True)
    index = "killed-mid-ingest"
    real = elasticsearch.helpers.streaming_bulk
    stored = []

    def kill_after_three_songs(*args, **kwargs):
        for ok, item in real(*args, **kwargs):
            result = next(iter(item.values()))
            if ok and result["_index"] == index:
                stored.append(result["_id"])
                if len(stored) == 3:
                    fault_node.kill()  # SIGKILL, mid-stream: the next bulk request finds no one
            yield ok, item

    monkeypatch.setattr(elasticsearch.helpers, "streaming_bulk", kill_after_three_songs)
    with pytest.raises(IngestInterrupted, match="re-run the same ingest") as err:
        ingest_folder(es, small_library, index=index, embedder="features", progress=False, chunk_size=16)
    assert "after 3 songs were stored" in str(err.value)
    assert fault_node.health() is None
    monkeypatch.setattr(elasticsearch.helpers, "streaming_bulk", real)

    fault_node.start()
    report = ingest_folder(es, small_library, index=index, embedder="features", progress=False)
    assert report.failed == []
    assert report.unchanged >= 3 and report.indexed + report.unchanged == 12
    assert count(es, index) == 12
    ids = {h["_id"] for h in es.search(index=index, size=100, source=False)["hits"]["hits"]}
    assert set(stored) <= ids and len(ids) == 12
    windows_are_complete(es, index)


@pytest.mark.slow
def test_busy_node_429s_are_retried_with_backoff(es, index_name, small_library):
    """A real 429: the flood-stage block rejects every write with TOO_MANY_REQUESTS until it is lifted."""
    create_index(es, index_name, FeatureEmbedder())
    es.indices.put_settings(index=index_name, settings={"index.blocks.read_only_allow_delete": True})
    rejected = es.options(max_retries=0).bulk(operations=[{"index": {"_index": index_name}}, {"title": "x"}])
    assert rejected["items"][0]["index"]["status"] == 429
    lift = threading.Timer(4.0, lambda: es.indices.put_settings(
        index=index_name, settings={"index.blocks.read_only_allow_delete": None}))  # fmt: skip
    start = time.monotonic()
    lift.start()
    report = ingest_folder(es, small_library, index=index_name, embedder="features", progress=False)
    lift.join()
    assert time.monotonic() - start >= 4.0
    assert report.failed == [] and report.indexed == 12 and count(es, index_name) == 12


@pytest.mark.slow
def test_frozen_node_timeouts_are_retried(fault_node):
    """SIGSTOP freezes the node (like a long GC pause): requests time out, are retried, then succeed."""
    from elasticsearch import ConnectionTimeout

    es = connect(fault_node.url, quiet=True).options(request_timeout=1.0)
    es.indices.create(index="frozen", settings={"number_of_replicas": 0})
    es.index(index="frozen", id="1", document={"title": "still here"}, refresh=True)

    def freeze(seconds: float) -> threading.Thread:
        os.kill(fault_node.pid(), signal.SIGSTOP)
        t = threading.Timer(seconds, lambda: os.kill(fault_node.pid(), signal.SIGCONT))
        t.start()
        return t

    t = freeze(3.0)
    start = time.monotonic()
    assert es.get(index="frozen", id="1")["_source"]["title"] == "still here"  # retried until the node woke
    assert time.monotonic() - start >= 2.5
    t.join()

    t = freeze(3.0)
    with pytest.raises(ConnectionTimeout):
        es.options(retry_on_timeout=False).get(index="frozen", id="1")  # the same request without retries
    t.join()


@pytest.mark.slow
def test_mapping_conflict_is_refused_and_the_index_left_untouched(es_node, es, index_name, small_library,
                                                                  random_checkpoint, tmp_path):  # fmt: skip
    ingest_folder(es, small_library, index=index_name, embedder="features", progress=False)
    before = es.indices.get_mapping(index=index_name)
    with pytest.raises(IndexMismatch, match="left untouched"):
        ingest_folder(es, small_library, index=index_name,
                      embedder=PannsEmbedder(checkpoint=random_checkpoint, device="cpu"), progress=False)  # fmt: skip
    proc = run_cli(["ingest", str(small_library), "--index", index_name, "--embedder", "panns", "--json"],
                   {"ES_URL": es_node.url, "PANNS_CHECKPOINT": str(random_checkpoint)})  # fmt: skip
    assert proc.returncode == 1 and proc.stdout == ""
    assert "122-d vectors from embedder 'features'" in proc.stderr and "left untouched" in proc.stderr
    assert es.indices.get_mapping(index=index_name) == before
    assert count(es, index_name) == 12 and index_meta(es, index_name)["dims"] == 122


def test_searching_a_missing_index_says_how_to_create_it(es_node, es, a_song):
    missing = "no-such-index"
    for call in (lambda: knn(es, missing, np.ones(122) / np.sqrt(122)), lambda: similar(es, missing, "abc"),
                 lambda: find_song(es, missing, random=True)):  # fmt: skip
        with pytest.raises(LookupError, match=f"Index '{missing}' does not exist.*helpers ingest DIR --index"):
            call()
    env = {"ES_URL": es_node.url}
    for args in (["similar", "--random"], ["hum", str(a_song)]):
        proc = run_cli([*args, "--index", missing, "--json"], env, timeout=300)
        assert proc.returncode == 1 and proc.stdout == "", proc.stdout
        assert f"Index '{missing}' does not exist" in proc.stderr and "helpers ingest DIR" in proc.stderr
        assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------------- a real cluster


@pytest.mark.slow
def test_three_node_cluster_with_one_replica_survives_losing_a_node(small_library):
    cluster = LocalCluster(size=3, base_port=9270, heap="512m", cluster_name="test-cluster")
    cluster.wipe()
    try:
        health = cluster.start()
        assert health["number_of_nodes"] == 3
        es = connect(cluster.urls[0], quiet=True)
        index = "songs"
        report = ingest_folder(es, small_library, index=index, embedder="features", progress=False, shards=2,
                               replicas=1)  # fmt: skip
        assert report.indexed == 12
        es.cluster.health(wait_for_status="green", timeout="60s")
        shards = es.cat.shards(index=index, format="json")
        assert len(shards) == 4 and len({s["node"] for s in shards}) >= 2
        before = {h.id: [x.id for x in similar(es, index, h.id, k=11)] for h in knn(es, index, _any(es, index), k=12)}

        cluster.nodes[2].kill()
        deadline = time.monotonic() + 60
        while es.cluster.health()["number_of_nodes"] != 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        health = es.cluster.health(wait_for_status="yellow", timeout="60s")
        assert health["number_of_nodes"] == 2 and health["status"] in ("yellow", "green")
        assert count(es, index) == 12
        after = {h.id: [x.id for x in similar(es, index, h.id, k=11)] for h in knn(es, index, _any(es, index), k=12)}
        assert after == before  # complete: every song, every neighbour, in the same order
        windows_are_complete(es, index)
    finally:
        cluster.wipe()


def _any(es, index: str) -> list[float]:
    doc = es.search(index=index, size=1, source_includes=["embedding"])["hits"]["hits"][0]
    return doc["_source"]["embedding"]
