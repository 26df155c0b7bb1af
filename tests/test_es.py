"""The local node, connect(), and secrets, against a real Elasticsearch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import numpy as np
import pytest
from elasticsearch import helpers as es_helpers

from helpers.config import Secret, Settings
from helpers.es import ES_VERSION, ElasticsearchUnavailable, LocalNode, connect, server_info

FAKE_KEY = "FAKEKEY-d0n0tl3ak-" + "x7" * 12


def test_start_status_stop_on_a_second_node():
    node = LocalNode(http_port=9261, name="test-lifecycle", heap="512m")
    node.stop()
    assert node.status()["status"] == "stopped"
    started = node.start()
    assert started["status"] in ("green", "yellow")
    assert started["version"] == ES_VERSION
    pid = node.pid()
    assert pid is not None
    # start() reuses a node that is already running
    assert node.start()["version"] == ES_VERSION
    assert node.pid() == pid
    assert node.stop() is True
    assert node.status()["status"] == "stopped"
    assert node.pid() is None
    assert node.stop() is False


def test_node_listens_on_loopback_only(es_node):
    with urllib.request.urlopen(f"{es_node.url}/_nodes/_local/http") as resp:
        info = next(iter(json.loads(resp.read())["nodes"].values()))
    assert info["http"]["bound_address"], "node reports no bound address"
    for address in info["http"]["bound_address"]:
        assert address.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")), address
    assert info["http"]["publish_address"].startswith("127.0.0.1:")


def test_connect_reports_version_and_product_check(es_node, capsys):
    es = connect(es_node.url)
    out = capsys.readouterr().out
    assert f"Elasticsearch {ES_VERSION}" in out and "music-search" in out
    # the client checks X-Elastic-Product on every response: a successful call means it passed
    resp = es.perform_request("GET", "/_cluster/health", headers={"accept": "application/json"})
    assert resp.meta.headers.get("x-elastic-product") == "Elasticsearch"
    assert server_info(es)["version"] == ES_VERSION


def test_dense_vector_knn_returns_the_nearest_document(es, index_name):
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(20, 2048)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    es.indices.create(
        index=index_name,
        mappings={
            "properties": {
                "v": {
                    "type": "dense_vector",
                    "dims": 2048,
                    "similarity": "dot_product",
                    "index_options": {"type": "hnsw"},
                }
            }
        },
    )
    ok, errors = es_helpers.bulk(
        es, ({"_index": index_name, "_id": str(i), "v": v.tolist()} for i, v in enumerate(vectors)), refresh=True
    )
    assert ok == 20 and not errors
    query = vectors[13] + 0.05 * rng.normal(size=2048).astype(np.float32)
    query /= np.linalg.norm(query)
    expected = np.argsort(-(vectors @ query))[:3]
    hits = es.search(
        index=index_name, knn={"field": "v", "query_vector": query.tolist(), "k": 3, "num_candidates": 20}
    )["hits"]["hits"]
    assert [int(h["_id"]) for h in hits] == expected.tolist()
    assert hits[0]["_id"] == "13"


def test_error_names_both_fixes_when_nothing_listens(clean_env):
    clean_env.setenv("ES_PORT", "9299")
    with pytest.raises(ElasticsearchUnavailable) as err:
        connect()
    msg = str(err.value)
    assert "127.0.0.1:9299" in msg
    assert "python -m helpers es start" in msg
    assert ".env" in msg and "ES_CLOUD_ID" in msg


def test_settings_mask_secrets(clean_env):
    clean_env.setenv("ES_API_KEY", FAKE_KEY)
    clean_env.setenv("ES_PASSWORD", FAKE_KEY)
    s = Settings.from_env()
    assert FAKE_KEY not in repr(s) and FAKE_KEY not in str(s)
    assert FAKE_KEY not in repr(Secret(FAKE_KEY))
    assert s.api_key.reveal() == FAKE_KEY


@pytest.mark.parametrize("reachable", [True, False])
def test_fake_api_key_never_appears_in_output_or_logs(es_node, tmp_path, reachable):
    url = es_node.url if reachable else "http://127.0.0.1:9299"
    script = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
        "from helpers.es import connect\n"
        "es = connect()\n"
        "print(es.cluster.health()['status'])\n"
    )
    env = {**os.environ, "ES_URL": url, "ES_API_KEY": FAKE_KEY, "ES_PASSWORD": FAKE_KEY}
    proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True)
    cli = subprocess.run(
        [sys.executable, "-m", "helpers", "es", "status", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    text = proc.stdout + proc.stderr + cli.stdout + cli.stderr
    assert FAKE_KEY not in text
    assert FAKE_KEY[:20] not in text
    if reachable:
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "Connected to Elasticsearch" in proc.stdout
    else:
        assert proc.returncode != 0 and "Could not reach Elasticsearch" in proc.stderr
    logs = "".join(p.read_text(errors="replace") for p in (es_node.dir / "logs").glob("*.log"))
    assert FAKE_KEY not in logs
