"""Audio I/O: decode any common format to mono float32 at the rate a stage needs.

soundfile (libsndfile) decodes MP3, FLAC, OGG/Vorbis/Opus and WAV; anything it refuses (M4A/AAC,
WMA, ...) goes through ffmpeg. Resampling uses soxr (high quality), streamed block by block so
that a long file never sits in memory at its native rate. Every failure raises
:class:`AudioError`, which names the file, the cause and the fix.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

AUDIO_EXTENSIONS = {".mp3", ".flac", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".aac", ".mp4", ".aif", ".aiff", ".wma"}
MAX_DURATION_S = float(os.environ.get("MAX_AUDIO_SECONDS", 20 * 60))
_BLOCK_S = 10.0


class AudioError(Exception):
    """A file could not be decoded. ``path``, ``cause`` and ``fix`` say which, why and what to do."""

    def __init__(self, path: str | os.PathLike, cause: str, fix: str) -> None:
        self.path, self.cause, self.fix = str(path), cause, fix
        super().__init__(f"{self.path}: {cause}. Fix: {fix}")


@dataclass(frozen=True)
class AudioInfo:
    duration_s: float
    samplerate: int
    channels: int
    decoder: str


def _check_file(path: Path) -> None:
    if path.is_symlink() and not path.exists():
        raise AudioError(path, "broken symbolic link", "point the link at an existing file, or delete it")
    if not path.exists():
        raise AudioError(path, "file not found", "check the path")
    if path.is_dir():
        raise AudioError(path, "is a directory, not an audio file", "rename the folder or point at the files inside")
    if not path.is_file():
        raise AudioError(path, "not a regular file (a pipe, socket or device)", "copy the audio into a regular file")
    if not os.access(path, os.R_OK):
        raise AudioError(path, "permission denied", f"make it readable: chmod a+r '{path}'")
    if path.stat().st_size == 0:
        raise AudioError(path, "the file is empty (0 bytes)", "copy or download it again")


def _undecodable(path: Path, detail: str) -> AudioError:
    detail = detail.replace(str(path), "").strip(": ") or "unknown format"
    return AudioError(
        path,
        f"not a decodable audio file ({detail})",
        "check that it plays in a media player; re-encode it with `ffmpeg -i IN OUT.mp3`, or remove it",
    )


def _ffprobe(path: Path) -> AudioInfo:
    if not shutil.which("ffprobe"):
        raise _undecodable(path, "soundfile cannot read it and ffmpeg is not installed: apt-get install ffmpeg")
    cmd = ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
           "stream=sample_rate,channels:format=duration", "-of", "default=noprint_wrappers=1", str(path)]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise _undecodable(path, "ffprobe timed out") from None
    fields = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    if proc.returncode != 0 or "sample_rate" not in fields:
        detail = (proc.stderr.strip().splitlines() or ["no audio stream"])[-1]
        raise _undecodable(path, detail[:200])
    try:
        duration = float(fields.get("duration", "nan"))
    except ValueError:
        duration = float("nan")
    return AudioInfo(duration, int(fields["sample_rate"]), int(fields.get("channels", 1)), "ffmpeg")


def info(path: str | os.PathLike) -> AudioInfo:
    """Duration, native sample rate and channels, without decoding the audio."""
    p = Path(path)
    _check_file(p)
    try:
        i = sf.info(str(p))
        if i.frames > 0:
            return AudioInfo(i.frames / i.samplerate, i.samplerate, i.channels, "soundfile")
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass  # not for libsndfile: ask ffprobe
    except OSError as exc:
        if exc.errno == errno.EACCES:
            raise AudioError(p, "permission denied", f"make it readable: chmod a+r '{p}'") from None
    return _ffprobe(p)


def _resample_blocks(blocks, sr_in: int, sr_out: int) -> np.ndarray:
    stream = None if sr_in == sr_out else soxr.ResampleStream(sr_in, sr_out, 1, dtype="float32", quality="HQ")
    out = []
    for block in blocks:
        mono = block.mean(axis=1) if block.ndim == 2 else block
        mono = np.ascontiguousarray(mono, dtype=np.float32)
        out.append(mono if stream is None else stream.resample_chunk(mono))
    if stream is not None:
        out.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def _read_blocks(f: sf.SoundFile, frames: int):
    """Blocks of at most ``_BLOCK_S`` seconds until ``frames`` are read or the data ends.

    Reading until the decoder stops (not until the header's frame count) is what makes a
    truncated MP3 come out short instead of padded.
    """
    block = int(_BLOCK_S * f.samplerate)
    remaining = frames
    while remaining != 0:
        n = block if remaining < 0 else min(block, remaining)
        data = f.read(n, dtype="float32", always_2d=True)
        if len(data) == 0:
            return
        yield data
        if remaining > 0:
            remaining -= len(data)
        if len(data) < n:
            return


def _load_soundfile(p: Path, sr: int, offset: float, duration: float | None) -> np.ndarray:
    with sf.SoundFile(str(p)) as f:
        start = round(offset * f.samplerate)
        if start:
            f.seek(min(start, f.frames))
        frames = -1 if duration is None else round(duration * f.samplerate)
        y = _resample_blocks(_read_blocks(f, frames), f.samplerate, sr)
        expected = (f.frames - start) if frames < 0 else min(frames, f.frames - start)
        if expected > 0 and len(y) < 0.9 * expected * sr / f.samplerate:
            warnings.warn(
                f"{p}: decoded {len(y) / sr:.1f} s of the {expected / f.samplerate:.1f} s its header announces; "
                "the file looks truncated (copy it again to get the rest)",
                stacklevel=3,
            )
        return y


def _load_ffmpeg(p: Path, sr: int, offset: float, duration: float | None) -> np.ndarray:
    if not shutil.which("ffmpeg"):
        raise _undecodable(p, "soundfile cannot read it and ffmpeg is not installed: apt-get install ffmpeg")
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{offset:.3f}", "-i", str(p)]
    if duration is not None:
        cmd += ["-t", f"{duration:.3f}"]
    cmd += ["-map", "0:a:0", "-ac", "1", "-ar", str(sr), "-f", "f32le", "-"]
    expected = (duration or MAX_DURATION_S) + 5
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=max(60.0, expected))
    except subprocess.TimeoutExpired:
        raise _undecodable(p, "ffmpeg timed out") from None
    if proc.returncode != 0:
        detail = (proc.stderr.decode(errors="replace").strip().splitlines() or ["ffmpeg failed"])[-1]
        raise _undecodable(p, detail[:200])
    return np.frombuffer(proc.stdout, dtype=np.float32).copy()


def load(
    path: str | os.PathLike,
    sr: int = 22050,
    offset: float = 0.0,
    duration: float | None = None,
    max_duration: float | None = MAX_DURATION_S,
) -> np.ndarray:
    """Decode ``path`` to mono float32 at ``sr`` Hz, from ``offset`` for ``duration`` seconds.

    Without ``duration``, at most ``max_duration`` seconds are read (20 min by default); longer
    files are cut there with a warning, so a stray audiobook cannot exhaust memory.

    Notebook: 01_audio_features.ipynb (and every stage that needs a waveform).
    """
    p = Path(path)
    meta = info(p)
    if duration is None and max_duration is not None and meta.duration_s - offset > max_duration:
        warnings.warn(
            f"{p}: {meta.duration_s / 60:.0f} min long; only the first {max_duration / 60:.0f} min are used "
            "(set MAX_AUDIO_SECONDS, or pass duration=, to change this)",
            stacklevel=2,
        )
        duration = max_duration
    if meta.decoder == "soundfile":
        try:
            y = _load_soundfile(p, sr, offset, duration)
        except (sf.LibsndfileError, RuntimeError) as exc:
            try:
                y = _load_ffmpeg(p, sr, offset, duration)
            except AudioError:
                raise _undecodable(p, str(exc)[:200]) from None
    else:
        y = _load_ffmpeg(p, sr, offset, duration)
    if y.size == 0:
        raise AudioError(p, f"no audio frames after {offset:.1f} s", "check the file, or use a smaller offset")
    if not np.all(np.isfinite(y)):
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    return y


def is_silent(y: np.ndarray, threshold_db: float = -60.0) -> bool:
    """True when the peak is below ``threshold_db`` dBFS."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return peak <= 10 ** (threshold_db / 20)


def audio_files(folder: str | os.PathLike) -> list[Path]:
    """Every file under ``folder`` with an audio extension, sorted (symlinks and oddities included,
    so that ingest can report them)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder. Fix: pass the folder that holds your music")
    found = [p for p in root.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith(".")]
    return sorted(found)
