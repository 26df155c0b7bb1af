"""helpers.audio: every format decodes to mono float32 at the requested rate; bad input fails clearly."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from helpers.audio import AudioError, audio_files, info, is_silent, load
from tests import media


def test_two_second_sine_loads_at_the_requested_rate(tmp_path):
    path = media.write(tmp_path / "a440.wav", media.tone(440, 2.0, 44100), 44100)
    y = load(path, sr=16000)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 32000) <= 2
    assert abs(media.dominant_freq(y, 16000) - 440) < 2


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".mp3", ".m4a"])
def test_every_format_decodes(tmp_path, ext):
    path = media.write(tmp_path / f"tone{ext}", media.tone(660, 2.0, 44100, channels=2), 44100)
    y = load(path, sr=22050)
    assert abs(len(y) / 22050 - 2.0) < 0.12, f"{ext}: {len(y) / 22050:.3f} s"
    assert abs(media.dominant_freq(y, 22050) - 660) < 3
    assert info(path).channels == 2


def test_offset_and_duration(tmp_path):
    sr = 8000
    y = np.concatenate([media.tone(300, 1.0, sr), media.tone(900, 1.0, sr)])
    path = media.write(tmp_path / "two.flac", y, sr)
    part = load(path, sr=sr, offset=1.0, duration=0.5)
    assert len(part) == 4000
    assert abs(media.dominant_freq(part, sr) - 900) < 3


def test_long_files_are_capped_with_a_warning(tmp_path):
    path = media.write(tmp_path / "long.flac", media.tone(440, 30.0, 8000), 8000)
    with pytest.warns(UserWarning, match="only the first"):
        y = load(path, sr=8000, max_duration=10)
    assert len(y) == 80000


def test_eight_khz_mono_is_resampled(tmp_path):
    path = media.write(tmp_path / "phone.wav", media.tone(440, 3.0, 8000), 8000)
    y = load(path, sr=22050)
    assert abs(len(y) - 3 * 22050) <= 3
    assert abs(media.dominant_freq(y, 22050) - 440) < 2


def test_96khz_six_channels_is_downmixed(tmp_path):
    y6 = media.tone(440, 2.0, 96000, channels=6)
    y6[:, 3:] = 0.0  # half the channels silent: the mono mix is half as loud
    path = media.write(tmp_path / "surround.flac", y6, 96000)
    assert info(path).channels == 6 and info(path).samplerate == 96000
    y = load(path, sr=22050)
    assert abs(len(y) - 2 * 22050) <= 3
    assert 0.15 < np.max(np.abs(y)) < 0.25


def test_silent_file_loads_and_is_reported_silent(tmp_path):
    path = media.write(tmp_path / "silence.mp3", np.zeros(44100 * 3, np.float32), 44100)
    y = load(path)
    assert len(y) > 2 * 22050 and is_silent(y)
    assert not is_silent(media.tone())


@pytest.mark.parametrize(
    ("make", "cause"),
    [
        (lambda p: p.write_bytes(b""), "empty (0 bytes)"),
        (lambda p: p.write_text("this is not music\n" * 50), "not a decodable audio file"),
        (lambda p: p.write_bytes(media.png_bytes()), "not a decodable audio file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: os.symlink(p.parent / "nowhere.mp3", p), "broken symbolic link"),
    ],
    ids=["zero-byte", "text-as-mp3", "image-as-mp3", "directory", "broken-symlink"],
)
def test_bad_input_raises_one_clear_error(tmp_path, make, cause):
    path = tmp_path / "bad.mp3"
    make(path)
    with pytest.raises(AudioError) as err:
        load(path)
    assert err.value.path == str(path)
    assert cause in str(err.value)
    assert "Fix:" in str(err.value) and str(path) in str(err.value)


def test_truncated_mp3_decodes_what_is_there_and_warns(tmp_path, a_song):
    data = a_song.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 3])
    full_s = info(a_song).duration_s
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = load(cut)
    assert any("truncated" in str(w.message) for w in caught)
    assert 0.2 * full_s < len(y) / 22050 < 0.45 * full_s
    assert not is_silent(y)


def test_audio_files_lists_by_extension(tmp_path):
    for name in ("a.mp3", "b/c.FLAC", "b/d.txt", ".hidden.mp3", "e.m4a"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in audio_files(tmp_path)] == ["a.mp3", "c.FLAC", "e.m4a"]
    with pytest.raises(FileNotFoundError, match="not a folder"):
        audio_files(tmp_path / "missing")
