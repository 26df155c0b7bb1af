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
