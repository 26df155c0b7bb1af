"""Generators for test audio: clean tones in every format, and the bad-input corpus."""

from __future__ import annotations

import contextlib
import struct
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf


def tone(
    freq: float = 440.0, seconds: float = 2.0, sr: int = 44100, channels: int = 1, harmonics: int = 1
) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * freq * (k + 1) * t) / (k + 1) for k in range(harmonics))
    y = (0.4 * y / np.max(np.abs(y))).astype(np.float32)
    return np.repeat(y[:, None], channels, axis=1) if channels > 1 else y


def write(path: Path, y: np.ndarray, sr: int) -> Path:
    """Write with soundfile, or through ffmpeg for M4A."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".m4a":
        wav = path.with_suffix(".tmp.wav")
        sf.write(wav, y, sr)
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", str(path)], check=True
        )
        wav.unlink()
    elif path.suffix == ".mp3":
        sf.write(path, y, sr, format="MP3", subtype="MPEG_LAYER_III")
    else:
        sf.write(path, y, sr)
    return path


def dominant_freq(y: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[int(np.argmax(spectrum))])


def _synchsafe(n: int) -> bytes:
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def _id3_frame(fid: bytes, encoding: int, payload: bytes) -> bytes:
    body = bytes([encoding]) + payload
    return fid + _synchsafe(len(body)) + b"\x00\x00" + body


def with_raw_id3(mp3: Path, out: Path, frames: list[bytes]) -> Path:
    """Copy ``mp3`` with its ID3 tag replaced by hand-made frames (to make broken tags)."""
    import mutagen.id3

    data = mp3.read_bytes()
    with contextlib.suppress(mutagen.id3.ID3NoHeaderError):
        data = data[mutagen.id3.ID3(mp3).size :]
    body = b"".join(frames)
    out.write_bytes(b"ID3\x04\x00\x00" + _synchsafe(len(body)) + body + data)
    return out


def non_utf8_tags(mp3: Path, out: Path) -> Path:
    """Title declared UTF-8 but holding invalid bytes; artist in cp1252 declared latin-1."""
    return with_raw_id3(
        mp3,
        out,
        [
            _id3_frame(b"TIT2", 3, b"Caf\xe9 \xff\xfe broken"),
            _id3_frame(b"TPE1", 0, "Sigur Rós Ærø".encode("cp1252")),
            _id3_frame(b"TCON", 0, b"Folk\x00"),
        ],
    )


def png_bytes() -> bytes:
    import zlib

    raw = b"".join(b"\x00" + bytes([255, 0, 0] * 4) for _ in range(4))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def bad_corpus(folder: Path, good_mp3: Path) -> dict[str, str]:
    """The bad-input corpus (issue #7): every kind of file a messy music folder holds.

    Returns ``{file name: expectation}``: ``"indexed"`` for files that must be indexed anyway, or
    a phrase the failure reason must contain. The unreadable file is made here too; whether
    permissions bite depends on who reads it (root reads everything).
    """
    import mutagen.id3

    folder.mkdir(parents=True, exist_ok=True)
    expect: dict[str, str] = {}

    def put(name: str, outcome: str) -> Path:
        expect[name] = outcome
        return folder / name

    put("zero-byte.mp3", "empty (0 bytes)").write_bytes(b"")
    data = good_mp3.read_bytes()
    put("truncated-header-only.mp3", "not a decodable audio file").write_bytes(data[:3000])
    put("truncated-half.mp3", "indexed").write_bytes(data[: len(data) // 2])
    put("text.mp3", "not a decodable audio file").write_text("not music\n" * 100)
    put("image.mp3", "not a decodable audio file").write_bytes(png_bytes())
    write(put("silent.mp3", "silent"), np.zeros(44100 * 5, np.float32), 44100)
    hour = np.tile(tone(330.0, seconds=6.0, sr=8000, harmonics=3), 600)  # 1 hour at 8 kHz
    sf.write(put("one-hour.flac", "indexed"), hour, 8000)
    write(put("8khz-mono.wav", "indexed"), tone(440.0, seconds=12.0, sr=8000, harmonics=4), 8000)
    write(put("96khz-6ch.flac", "indexed"), tone(523.25, seconds=12.0, sr=96000, channels=6, harmonics=4), 96000)
    non_utf8_tags(good_mp3, put("non-utf8-tags.mp3", "indexed"))
    big = put("oversized-tags.mp3", "indexed")
    big.write_bytes(data)
    tags = mutagen.id3.ID3()
    tags.add(mutagen.id3.TIT2(encoding=3, text="T" * 100_000))
    tags.add(mutagen.id3.TPE1(encoding=3, text="A" * 100_000))
    tags.save(big)
    no_tags = put("missing-tags.mp3", "indexed")
    no_tags.write_bytes(data)
    mutagen.id3.delete(no_tags)
    locked = put("unreadable.mp3", "permission denied")
    locked.write_bytes(data)
    locked.chmod(0)
    (folder / put("broken-link.mp3", "broken symbolic link").name).symlink_to(folder / "gone.mp3")
    put("directory.mp3", "is a directory").mkdir()
    import os

    os.mkfifo(put("named-pipe.mp3", "not a regular file"))
    return expect
