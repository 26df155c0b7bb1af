"""helpers.features: analytic answers and well-formed vectors."""

from __future__ import annotations

import numpy as np

from helpers import features
from tests import media

PITCH_CLASSES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def test_a4_peaks_at_a_in_the_chroma():
    y = media.tone(440.0, 4.0, features.SR, harmonics=4)
    profile = features.chroma(y).mean(axis=1)
    assert PITCH_CLASSES[int(np.argmax(profile))] == "A"


def test_c_major_chord_lights_c_e_g():
    y = sum(media.tone(f, 4.0, features.SR) for f in (261.63, 329.63, 392.0))
    top3 = {PITCH_CLASSES[i] for i in np.argsort(features.chroma(y).mean(axis=1))[-3:]}
    assert top3 == {"C", "E", "G"}


def test_feature_vector_shape_and_standardization():
    y = media.tone(330.0, 5.0, features.SR, harmonics=3) + 0.01 * np.random.default_rng(0).normal(size=5 * features.SR)
    raw = features.feature_vector(y.astype(np.float32))
    assert raw.shape == (sum(b.size for b in features.feature_blocks()),)
    assert np.all(np.isfinite(raw))
    v = features.standardize(raw)
    assert abs(np.linalg.norm(v) - 1) < 1e-5


def test_seed_vector_has_39_numbers():
    assert features.seed_vector(media.tone(440.0, 3.0, features.SR)).shape == (39,)


def test_tempo_of_a_click_track():
    sr = features.SR
    y = np.zeros(10 * sr, np.float32)
    for t in np.arange(0, 10, 0.5):  # 120 BPM
        i = int(t * sr)
        y[i : i + 200] = np.hanning(200)
    assert abs(features.tempo(y) - 120) < 3
