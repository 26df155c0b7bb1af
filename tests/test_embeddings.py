"""Embedders: the real panns_inference load path, unit norms, determinism, pooling, cache, download."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from helpers import audio
from helpers.embeddings import (
    EmbeddingCache,
    EmbeddingError,
    FeatureEmbedder,
    PannsEmbedder,
    download_checkpoint,
    ensure_checkpoint,
    get_embedder,
    segment_starts,
)
from tests import media


def test_panns_loads_a_cnn14_checkpoint_through_panns_inference(panns, random_checkpoint):
    from panns_inference import AudioTagging
    from panns_inference.models import Cnn14

    assert isinstance(panns.tagger, AudioTagging)
    assert isinstance(panns.tagger.model, Cnn14)
    assert len(panns.labels) == 527 and panns.labels[0] == "Speech" and "Humming" in panns.labels
    assert (panns.name, panns.dim, panns.sr) == ("panns", 2048, 32000)
    import torch

    saved = torch.load(random_checkpoint, map_location="cpu")["model"]
    loaded = panns.tagger.model.state_dict()
    assert torch.equal(saved["fc1.weight"], loaded["fc1.weight"])


def test_panns_vectors_are_unit_norm_deterministic_2048(panns, a_song):
    a = panns.embed_file(a_song)
    b = panns.embed_file(a_song)
    assert a.shape == (2048,) and a.dtype == np.float32
    assert abs(np.linalg.norm(a) - 1) < 1e-5
    np.testing.assert_array_equal(a, b)
    assert np.all(a >= 0), "Cnn14's embedding is ReLU(fc1): non-negative"


def test_feature_vectors_are_unit_norm_and_deterministic(a_song, small_library):
    emb = FeatureEmbedder()
    a, b = emb.embed_file(a_song), emb.embed_file(a_song)
    assert a.shape == (emb.dim,) == (122,)
    assert abs(np.linalg.norm(a) - 1) < 1e-5
    np.testing.assert_array_equal(a, b)
    other = sorted(small_library.rglob("*.mp3"))[-1]
    assert float(a @ emb.embed_file(other)) < 0.99


def test_segment_policy():
    assert segment_starts(8.0, 10.0, 6) == [0.0]
    assert segment_starts(45.0, 10.0, 6) == [0.0, 8.75, 17.5, 26.25, 35.0]
    starts = segment_starts(3600.0, 10.0, 6)
    assert len(starts) == 6 and starts[0] == 0 and starts[-1] == 3590.0


def test_segments_are_pooled(panns, a_song):
    segs = panns.load_segments(a_song)
    assert 3 <= len(segs) <= 6 and all(len(s) == 320000 for s in segs)
    pooled = panns.finalize(panns.raw(segs))
    by_hand = np.mean([panns.raw([s]) for s in segs], axis=0)
    np.testing.assert_allclose(pooled, by_hand / np.linalg.norm(by_hand), atol=1e-4)
    whole = panns.finalize(panns.raw([audio.load(a_song, sr=32000)]))
    assert float(pooled @ whole) > 0.9


def test_cache_hit_and_miss(tmp_path, a_song):
    cache = EmbeddingCache(tmp_path / "cache")
    emb = FeatureEmbedder()
    first = emb.embed_file(a_song, cache)
    assert (cache.hits, cache.misses) == (0, 1)
    second = emb.embed_file(a_song, cache)
    assert (cache.hits, cache.misses) == (1, 1)
    np.testing.assert_array_equal(first, second)
    stored = list((tmp_path / "cache").rglob("*.npy"))
    digest = hashlib.sha256(a_song.read_bytes()).hexdigest()
    assert [p.stem for p in stored] == [digest]
    changed = tmp_path / "changed.mp3"
    changed.write_bytes(a_song.read_bytes()[:-4096])
    emb.embed_file(changed, cache)
    assert cache.misses == 2


def test_embed_files_reports_failures_and_keeps_going(tmp_path, small_library):
    good = sorted(small_library.rglob("*.mp3"))[:2]
    bad = tmp_path / "bad.mp3"
    bad.write_text("not audio")
    silent = media.write(tmp_path / "silent.wav", np.zeros(22050 * 5, np.float32), 22050)
    results = list(FeatureEmbedder().embed_files([good[0], bad, silent, good[1]], progress=False))
    assert [r.path for r in results] == [good[0], bad, silent, good[1]]
    assert results[0].raw is not None and results[3].raw is not None
    assert "not a decodable audio file" in results[1].error
    assert "silent" in results[2].error


def test_download_with_checksum_from_a_local_server(tmp_path):
    payload = np.random.default_rng(0).bytes(3_000_000)
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "w.pth").write_bytes(payload)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(tmp_path / "srv"), **k)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/w.pth"
    try:
        md5 = hashlib.md5(payload).hexdigest()
        dest = download_checkpoint(tmp_path / "out" / "w.pth", url=url, md5=md5)
        assert dest.read_bytes() == payload
        assert dest.with_name("w.pth.sha256").read_text().strip() == hashlib.sha256(payload).hexdigest()
        with pytest.raises(EmbeddingError, match="corrupt"):
            download_checkpoint(tmp_path / "out2" / "w.pth", url=url, md5="0" * 32)
        assert not (tmp_path / "out2" / "w.pth").exists() and not (tmp_path / "out2" / "w.pth.part").exists()
    finally:
        server.shutdown()


def test_offline_download_failure_names_file_address_and_fix(tmp_path, monkeypatch):
    dest = tmp_path / "panns" / "Cnn14_mAP=0.431.pth"
    with pytest.raises(EmbeddingError) as err:
        download_checkpoint(dest, url="http://127.0.0.1:9/Cnn14_mAP%3D0.431.pth")
    msg = str(err.value)
    assert "Cnn14_mAP=0.431.pth" in msg and "http://127.0.0.1:9/" in msg
    assert f"put it at {dest}" in msg and "PANNS_CHECKPOINT" in msg
    assert not dest.exists()


def test_small_or_tampered_checkpoints_are_refused(tmp_path, random_checkpoint):
    tiny = tmp_path / "tiny.pth"
    tiny.write_bytes(b"0" * 1000)
    with pytest.raises(EmbeddingError, match="too small"):
        ensure_checkpoint(tiny, download=False)
    link = tmp_path / "Cnn14.pth"
    link.symlink_to(random_checkpoint)
    (tmp_path / "Cnn14.pth.sha256").write_text("f" * 64)
    with pytest.raises(EmbeddingError, match="does not match its SHA-256"):
        ensure_checkpoint(link, download=False)


def test_auto_falls_back_to_features_with_a_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PANNS_CHECKPOINT", str(tmp_path / "missing.pth"))
    monkeypatch.setenv("PANNS_URL", "http://127.0.0.1:9/x.pth")
    emb = get_embedder("auto")
    assert isinstance(emb, FeatureEmbedder)
    assert "feature embedder is used instead" in capsys.readouterr().err


def test_cli_embed_contract(a_song, random_checkpoint):
    out = subprocess.run([sys.executable, "-m", "helpers", "embed", str(a_song), "--embedder", "features", "--json"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    data = json.loads(out.stdout)
    assert data["embedder"] == "features" and data["dim"] == len(data["vector"]) == 122
    assert abs(np.linalg.norm(data["vector"]) - 1) < 1e-5
    env = {**os.environ, "PANNS_CHECKPOINT": str(random_checkpoint)}
    out = subprocess.run([sys.executable, "-m", "helpers", "embed", str(a_song), "--embedder", "panns", "--json"],
                         capture_output=True, text=True, check=True, env=env)  # fmt: skip
    data = json.loads(out.stdout)
    assert data["embedder"] == "panns" and data["dim"] == len(data["vector"]) == 2048
    assert abs(np.linalg.norm(data["vector"]) - 1) < 1e-5


def test_panns_is_fed_32khz(panns, tmp_path):
    """A 1 kHz tone at 44.1 kHz, loaded for PANNs, is still a 1 kHz tone at 32 kHz (the seeds' bug shifted it)."""
    path = media.write(tmp_path / "tone.wav", media.tone(1000, 3.0, 44100), 44100)
    segs = panns.load_segments(path)
    assert abs(media.dominant_freq(segs[0], panns.sr) - 1000) < 3
    assert isinstance(panns, PannsEmbedder) and Path(panns.checkpoint).exists()
