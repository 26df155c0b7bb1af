"""helpers.metadata: tags read back as written; broken, missing and huge tags never break a read."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers.metadata import MAX_TAG_CHARS, read_tags, write_tags
from tests import media


def test_demo_tags_read_back_unchanged(small_library):
    written = json.loads((small_library / ".demo.json").read_text())["tags"]
    assert len(written) == 12
    for row in written:
        t = read_tags(small_library / row["path"])
        assert (t.title, t.artist, t.album, t.genre) == (row["title"], row["artist"], row["album"], row["genre"])
        assert t.track == int(row["tracknumber"])
        assert t.from_tags == ("title", "artist", "album", "genre")
        assert 30 <= t.duration_s <= 60


def test_non_utf8_tags_do_not_break_the_read(tmp_path, a_song):
    (tmp_path / "Album X").mkdir()
    bad = media.non_utf8_tags(a_song, tmp_path / "Album X" / "07 - Broken Title.mp3")
    t = read_tags(bad)
    assert t.artist == "Sigur Rós Ærø"  # latin-1 text is decoded
    assert t.title == "Broken Title"  # the undecodable UTF-8 frame falls back to the file name
    assert t.album == "Album X"
    assert t.duration_s and t.duration_s > 20


def test_missing_tags_fall_back_to_folders(tmp_path):
    path = media.write(tmp_path / "Jazz" / "Miles" / "Kind of Blue" / "02 - So What.flac", media.tone(), 44100)
    t = read_tags(path, root=tmp_path)
    assert (t.title, t.artist, t.album, t.genre) == ("So What", "Miles", "Kind of Blue", "Jazz")
    assert t.from_tags == ()
    t2 = read_tags(path)
    assert t2.album == "Kind of Blue" and t2.genre == "Unknown"


def test_artist_dash_title_file_names(tmp_path):
    path = media.write(tmp_path / "Nina Simone - Sinnerman.wav", media.tone(), 44100)
    t = read_tags(path)
    assert (t.artist, t.title) == ("Nina Simone", "Sinnerman")


def test_oversized_tags_are_truncated(tmp_path):
    path = media.write(tmp_path / "big.mp3", media.tone(), 44100)
    write_tags(path, title="A" * 200_000, artist="B" * 50_000, genre="Rock")
    t = read_tags(path)
    assert len(t.title) == MAX_TAG_CHARS and len(t.artist) == MAX_TAG_CHARS and t.genre == "Rock"


@pytest.mark.parametrize("ext", [".mp3", ".flac", ".ogg", ".m4a"])
def test_write_then_read_in_every_tag_format(tmp_path, ext):
    path = media.write(tmp_path / f"t{ext}", media.tone(), 44100)
    write_tags(path, title="Título ♫", artist="Ärtist", album="Albüm", genre="Folk", date="1999", tracknumber="3")
    t = read_tags(path)
    assert (t.title, t.artist, t.album, t.genre, t.year, t.track) == ("Título ♫", "Ärtist", "Albüm", "Folk", 1999, 3)


def test_cli_tags_json_contract(a_song):
    proc = subprocess.run([sys.executable, "-m", "helpers", "tags", str(a_song), "--json"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    data = json.loads(proc.stdout)
    assert set(data) == {"title", "artist", "album", "genre", "duration_s"}
    assert data["genre"] and 30 <= data["duration_s"] <= 60


def test_cli_tags_on_a_missing_file_fails_clearly(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "helpers", "tags", str(tmp_path / "nope.mp3"), "--json"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 1 and proc.stdout == ""
    assert "nope.mp3" in proc.stderr
