"""helpers.demo: a deterministic, tagged library with melody ground truth."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from helpers import demo
from helpers.audio import info


def test_small_library_is_complete(small_library):
    songs = sorted(small_library.rglob("*.mp3"))
    assert len(songs) == 12
    genres = {json.loads((small_library / ".demo.json").read_text())["tags"][i]["genre"] for i in range(12)}
    assert genres == {s.genre for s in demo.STYLES}
    for song in songs:
        d = info(song).duration_s
        assert 30 <= d <= 60, (song, d)
        notes = demo.melody_of(song)
        assert len(notes) >= 8
        onsets = np.array([n[0] for n in notes])
        assert np.all(np.diff(onsets) >= 0) and onsets[-1] < d
        assert all(40 <= n[2] <= 100 and n[1] > n[0] for n in notes)
    readme = (small_library / "README.md").read_text()
    assert "Licences" in readme and "public domain" in readme and "MIT" in readme


def test_plan_is_deterministic():
    a = [(s.piece.title, round(s.bpm, 6), s.palette[0], round(s.seconds, 6)) for s in demo.plan(6, seed=3)]
    b = [(s.piece.title, round(s.bpm, 6), s.palette[0], round(s.seconds, 6)) for s in demo.plan(6, seed=3)]
    assert a == b and len(a) == 6


def test_rendering_is_deterministic(tmp_path):
    spec = demo.plan(1, seed=5)[0]
    sf2 = demo.soundfont()
    one = demo._write_song(spec, tmp_path / "a", sf2)
    two = demo._write_song(spec, tmp_path / "b", sf2)
    assert one == two
    a = (tmp_path / "a" / one["path"]).read_bytes()
    b = (tmp_path / "b" / two["path"]).read_bytes()
    assert a == b


def test_cli_demo_reuses_a_complete_library(small_library):
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "demo", "--out", str(small_library), "--songs", "12", "--seed", "7",
         "--json"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert json.loads(proc.stdout) == {"out": str(small_library), "songs": 12}
