"""Shared fixtures: a real local Elasticsearch node for the whole session (never a mock)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.es import LocalNode, connect

TEST_PORT = int(os.environ.get("ES_TEST_PORT", "9250"))


@pytest.fixture(scope="session")
def es_node() -> Iterator[LocalNode]:
    """One real node for the test session, on its own port and data directory."""
    node = LocalNode(http_port=TEST_PORT, name=f"test-{TEST_PORT}", heap="1g")
    already = node.health() is not None
    node.start()
    yield node
    if not already:
        node.stop()


@pytest.fixture(scope="session")
def es(es_node: LocalNode):
    return connect(es_node.url, quiet=True)


@pytest.fixture()
def index_name(es) -> Iterator[str]:
    """A fresh index name, deleted after the test."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    es.options(ignore_status=404).indices.delete(index=name)


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    """No connection settings from the developer's environment or .env leak into a test."""
    for var in ("ES_CLOUD_ID", "ES_URL", "ES_API_KEY", "ES_USERNAME", "ES_PASSWORD", "ES_PORT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("helpers.config.REPO_ROOT", tmp_path)
    return monkeypatch


@pytest.fixture(scope="session")
def small_library() -> Path:
    """A 12-song demo library (2 per genre), built once and reused across runs."""
    from helpers.config import cache_dir
    from helpers.demo import build_demo

    out = cache_dir() / "test-library"
    build_demo(out, songs=12, seed=7)
    return out


@pytest.fixture(scope="session")
def a_song(small_library: Path) -> Path:
    return sorted(small_library.rglob("*.mp3"))[0]


@pytest.fixture(scope="session")
def random_checkpoint() -> Path:
    """A Cnn14 checkpoint of the real architecture holding random weights (made once, reused)."""
    from helpers.config import cache_dir
    from helpers.embeddings import random_cnn14_checkpoint

    return random_cnn14_checkpoint(cache_dir() / "test-panns" / "Cnn14_random.pth")


@pytest.fixture(scope="session")
def panns(random_checkpoint):
    from helpers.embeddings import PannsEmbedder

    return PannsEmbedder(checkpoint=random_checkpoint, device="cpu")
