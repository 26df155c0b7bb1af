"""Search by humming: pitch, melody extraction, invariances, and the whole search on the real node."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from helpers import demo, humming
from helpers.ingest import ingest_folder
from tests import media


def notes_contour(notes, fps=humming.FPS):
    end = max(off for _, off, _ in notes)
    c = np.full(int(end * fps) + 1, np.nan, np.float32)
    for on, off, m in notes:
        c[int(on * fps) : int(off * fps)] = m
    return c


TUNE = [(0.5 * i, 0.5 * i + 0.45, m) for i, m in enumerate([60, 62, 64, 65, 67, 65, 64, 62, 60, 67, 72, 71, 69, 67])]


def test_hum_pitch_follows_the_notes():
    y = humming.synth_hum(TUNE, rng=np.random.default_rng(1), snr_db=25)
    est = humming.hum_pitch(y, humming.HUM_SR)
    truth = notes_contour(TUNE)[: len(est)]
    both = ~np.isnan(est[: len(truth)]) & ~np.isnan(truth)
    assert both.mean() > 0.6
    assert np.median(np.abs(est[: len(truth)][both] - truth[both])) < 0.5
    silence = humming.hum_pitch(np.zeros(humming.HUM_SR * 2, np.float32), humming.HUM_SR)
    assert np.isnan(silence).all()


def test_song_melody_finds_the_loud_top_voice():
    sr = humming.SONG_SR
    tune = [(on, off, m + 12) for on, off, m in TUNE]
    y = np.zeros(int(7.5 * sr), np.float32)
    for on, off, m in tune:
        a, b = int(on * sr), int(off * sr)
        y[a:b] += media.tone(440 * 2 ** ((m - 69) / 12), (b - a) / sr, sr, harmonics=4)
    bass = media.tone(110, 7.5, sr, harmonics=4)[: len(y)] * 0.5
    c = humming.song_melody(y + bass, sr)
    assert c.shape[1] == humming.VOICES
    truth = notes_contour(tune)[: len(c)]
    both = ~np.isnan(c[: len(truth), 0]) & ~np.isnan(truth)
    assert np.mean(np.abs(c[: len(truth), 0][both] - truth[both]) <= 0.5) > 0.8


def test_alignment_is_key_and_tempo_invariant_and_finds_the_place():
    rng = np.random.default_rng(3)
    song = notes_contour([(0.4 * i, 0.4 * i + 0.38, float(m)) for i, m in enumerate(rng.integers(55, 80, 120))])
    start, n = 200, 160  # 10 s into the song, 8 s long
    hum = humming.resample(song[start : start + n] + 5.0, int(n / 1.2))  # 5 semitones up, 1.2x faster
    cost, offset, ratio = humming.align(hum, song)
    assert cost < 0.6  # the ratio grid is ~8% apart, so some drift remains at 1.2
    assert abs(offset - start / humming.FPS) <= 0.5
    assert abs(ratio - 1.2) < 0.1
    other = notes_contour([(0.4 * i, 0.4 * i + 0.38, float(m)) for i, m in enumerate(rng.integers(55, 80, 120))])
    assert humming.align(hum, other)[0] > 2.5 * cost


def test_window_vectors_ignore_the_key():
    c = notes_contour(TUNE)
    a, b = humming.window_vector(c), humming.window_vector(c + 7)
    np.testing.assert_allclose(a, b, atol=1e-4)
    assert humming.window_vector(np.full(50, np.nan, np.float32)) is None


def test_generated_queries(small_library):
    song = sorted(small_library.rglob("*.mp3"))[2]
    q1 = humming.make_query(song, np.random.default_rng(9))
    q2 = humming.make_query(song, np.random.default_rng(9))
    np.testing.assert_array_equal(q1.y, q2.y)
    assert 8 * 0.7 <= len(q1.y) / q1.sr <= 15 + 1
    assert 0.75 <= q1.tempo <= 1.25 and -6 <= q1.transpose <= 6


@pytest.fixture(scope="module")
def hum_index(es, small_library):
    name = "test-hum"
    es.options(ignore_status=404).indices.delete(index=[name, humming.melody_index(name)])
    report = ingest_folder(es, small_library, index=name, embedder="features", progress=False)
    assert report.failed == [] and report.indexed == 12
    yield name
    es.options(ignore_status=404).indices.delete(index=[name, humming.melody_index(name)])


def test_ingest_indexes_melody_windows(es, hum_index):
    windows = es.count(index=humming.melody_index(hum_index))["count"]
    assert windows > 12 * 40  # 30–60 s songs, a window every 0.5 s
    doc = es.search(index=hum_index, size=1, source_includes=["melody"])["hits"]["hits"][0]["_source"]["melody"]
    assert doc["fps"] == humming.FPS and doc["voices"] == humming.VOICES and len(doc["contour"]) > 500


def test_hummed_queries_find_their_songs(es, hum_index, small_library):
    ids = {h["_source"]["path"]: h["_id"] for h in es.search(index=hum_index, size=20)["hits"]["hits"]}
    rng = np.random.default_rng(11)
    songs = sorted(small_library.rglob("*.mp3"))
    ranks, offsets = [], []
    for i in range(8):
        q = humming.make_query(songs[(3 * i) % len(songs)], rng)
        hits, _ = humming.search_hum(es, hum_index, q.y, q.sr, k=12)
        got = [h.id for h in hits]
        truth = ids[q.song]
        ranks.append(got.index(truth) + 1 if truth in got else 99)
        if got and got[0] == truth:
            offsets.append(abs(hits[0].offset_s - q.start_s))
    mrr = float(np.mean(1 / np.array(ranks)))
    assert mrr >= 0.75, ranks
    assert np.median(offsets) < 2.0, offsets


def test_silence_is_refused_with_advice(es, hum_index):
    with pytest.raises(humming.NoMelody, match="hum louder"):
        humming.search_hum(es, hum_index, np.zeros(16000 * 5, np.float32), 16000)


def test_cli_hum_contract(es_node, hum_index, small_library, tmp_path):
    song = sorted(small_library.rglob("*.mp3"))[5]
    q = humming.make_query(song, np.random.default_rng(4), error_rate=0.0)
    wav = tmp_path / "hum.wav"
    sf.write(wav, q.y, q.sr)
    env = {**os.environ, "ES_PORT": str(es_node.http_port)}
    out = subprocess.run([sys.executable, "-m", "helpers", "hum", str(wav), "--index", hum_index, "-k", "3", "--json"],
                         capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert list(data) == ["results"] and len(data["results"]) == 3
    assert set(data["results"][0]) == {"id", "title", "artist", "path", "score", "offset_s"}
    assert str(song) in [r["path"] for r in data["results"]]


def test_demo_melody_is_in_the_song(small_library):
    song = sorted(small_library.rglob("*.mp3"))[0]
    notes = demo.melody_of(song)
    est = humming.contour_of_file(song)
    truth = notes_contour(notes)[: len(est)]
    both = ~np.isnan(est[: len(truth), 0]) & ~np.isnan(truth)
    close = np.abs(est[: len(truth)][both] - truth[both][:, None]).min(axis=1) <= 0.5
    assert close.mean() > 0.5


def reference_align(hum, song, ratios=humming.RATIOS, step=1):
    """The re-ranker written plainly in NumPy (its first version): the compiled one must agree with it."""
    from numpy.lib.stride_tricks import sliding_window_view

    k = max(1, humming.FPS // humming.ALIGN_FPS)
    song = song.reshape(len(song), -1)[::k]
    h_full = humming.fill_gaps(hum[::k])
    best = (np.inf, 0.0, 1.0)
    for r in ratios:
        n = max(8, round(len(h_full) * r))
        h = humming.resample(h_full, n).astype(np.float64)
        padded = song if len(song) >= n else np.vstack([song, np.full((n - len(song), song.shape[1]), np.nan)])
        d = sliding_window_view(padded.astype(np.float64), n, axis=0)[::step] - h[None, None, :]
        ok = ~np.isnan(d)
        enough = ok[:, 0, :].mean(axis=1) >= 0.5
        if not enough.any():
            continue
        x = d - humming._key_shift(d, ok)[:, None, None]
        e = np.where(ok, np.abs(x - 12 * np.round(x / 12)), np.inf).min(axis=1)
        cost = np.minimum(e, humming.CAP).mean(axis=1)
        cost[~enough] = np.inf
        i = int(np.argmin(cost))
        if cost[i] < best[0]:
            best = (float(cost[i]), i * step / humming.ALIGN_FPS, float(r))
    return best


def test_compiled_alignment_agrees_with_the_numpy_reference(small_library):
    rng = np.random.default_rng(3)
    songs = sorted(small_library.rglob("*.mp3"))[:4]
    contours = [humming.contour_of_file(s) for s in songs]
    for s in songs[:2]:
        q = humming.make_query(s, rng)
        hum = humming.hum_pitch(q.y, q.sr)
        for c in contours:
            for step in (1, 2):
                got, want = humming.align(hum, c, step=step), reference_align(hum, c, step=step)
                assert got[1:] == want[1:] and got[0] == pytest.approx(want[0], abs=1e-9)
    short = contours[0][:50]  # a song shorter than the hum: one place, padded
    assert humming.align(hum, short) == pytest.approx(reference_align(hum, short))
