"""Audio features with librosa: spectrograms, MFCC, chroma, spectral contrast, tonnetz, tempo,
and the fixed-length feature vectors built from them.

Vocabulary (as in librosa): ``y`` waveform, ``sr`` sample rate, ``n_fft``, ``hop_length``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np

SR = 22050
N_FFT = 2048
HOP_LENGTH = 512
N_MFCC = 20
STATS_FILE = Path(__file__).parent / "data" / "feature_stats.json"


def stft_db(y: np.ndarray, sr: int = SR, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH) -> np.ndarray:
    """Magnitude STFT in dB (relative to the loudest bin). Notebook: 01_audio_features.ipynb."""
    return librosa.amplitude_to_db(np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length)), ref=np.max)


def mel_db(y: np.ndarray, sr: int = SR, n_mels: int = 128, hop_length: int = HOP_LENGTH) -> np.ndarray:
    """Mel spectrogram in dB. Notebook: 01_audio_features.ipynb."""
    S = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=N_FFT, hop_length=hop_length, n_mels=n_mels)
    return librosa.power_to_db(S, ref=np.max)


def mfcc(y: np.ndarray, sr: int = SR, n_mfcc: int = N_MFCC) -> np.ndarray:
    """MFCCs, ``(n_mfcc, frames)``. Notebook: 01_audio_features.ipynb."""
    return librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, n_fft=N_FFT, hop_length=HOP_LENGTH)


def chroma(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """Chroma from the constant-Q transform, ``(12, frames)``, C first. Notebook: 01_audio_features.ipynb."""
    return librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=HOP_LENGTH)


def spectral_contrast(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """Peak-to-valley contrast in 7 octave bands, ``(7, frames)``. Notebook: 01_audio_features.ipynb."""
    S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH))
    return librosa.feature.spectral_contrast(S=S, sr=sr)


def tonnetz(y: np.ndarray, sr: int = SR, chroma_: np.ndarray | None = None) -> np.ndarray:
    """Tonal centroids (fifths, minor and major thirds), ``(6, frames)``. Notebook: 01_audio_features.ipynb."""
    return librosa.feature.tonnetz(y=y, sr=sr, chroma=chroma_ if chroma_ is not None else chroma(y, sr))


def tempo(y: np.ndarray, sr: int = SR) -> float:
    """Global tempo estimate in BPM. Notebook: 01_audio_features.ipynb."""
    onset_env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=HOP_LENGTH)
    return float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset_env, sr=sr, hop_length=HOP_LENGTH))[0])


def seed_vector(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """The seed article's vector: time-averaged MFCC (20), chroma (12) and contrast (7), 39 numbers.

    Notebook: 01_audio_features.ipynb.
    """
    parts = [mfcc(y, sr), librosa.feature.chroma_stft(y=y, sr=sr), spectral_contrast(y, sr)]
    return np.concatenate([p.mean(axis=1) for p in parts]).astype(np.float32)


@dataclass(frozen=True)
class FeatureBlock:
    name: str
    size: int


def _summary(m: np.ndarray) -> np.ndarray:
    return np.concatenate([m.mean(axis=1), m.std(axis=1)])


def feature_blocks() -> list[FeatureBlock]:
    """The named blocks of :func:`feature_vector`, in order."""
    return [
        FeatureBlock("mfcc", 2 * N_MFCC),
        FeatureBlock("mfcc_delta", N_MFCC),
        FeatureBlock("chroma", 2 * 12),
        FeatureBlock("contrast", 2 * 7),
        FeatureBlock("tonnetz", 2 * 6),
        FeatureBlock("spectral", 2 * 5),
        FeatureBlock("rhythm", 2),
    ]


def feature_vector(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """Raw (unscaled) statistics of the features above: 122 numbers describing timbre, harmony, rhythm.

    Notebook: 02_embeddings.ipynb (the FeatureEmbedder standardizes it).
    """
    if sr != SR:
        y, sr = librosa.resample(y, orig_sr=sr, target_sr=SR, res_type="soxr_hq"), SR
    S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH))
    mel = librosa.feature.melspectrogram(S=S**2, sr=sr, n_mels=128)
    m = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=N_MFCC)
    c = librosa.feature.chroma_stft(S=S**2, sr=sr)
    spectral = np.vstack(
        [
            librosa.feature.spectral_centroid(S=S, sr=sr) / (sr / 2),
            librosa.feature.spectral_bandwidth(S=S, sr=sr) / (sr / 2),
            librosa.feature.spectral_rolloff(S=S, sr=sr) / (sr / 2),
            librosa.feature.spectral_flatness(S=S),
            librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP_LENGTH)[:, : S.shape[1]],
        ]
    )
    onset_env = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=sr)
    bpm = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset_env, sr=sr))[0])
    rhythm = np.array([np.log2(max(bpm, 30.0) / 120.0), float(onset_env.mean())])
    vec = np.concatenate(
        [
            _summary(m),
            np.abs(librosa.feature.delta(m)).mean(axis=1),
            _summary(c),
            _summary(librosa.feature.spectral_contrast(S=S, sr=sr)),
            _summary(librosa.feature.tonnetz(chroma=c, sr=sr)),
            _summary(spectral),
            rhythm,
        ]
    )
    return np.nan_to_num(vec.astype(np.float32))


def load_stats() -> tuple[np.ndarray, np.ndarray] | None:
    """Mean and standard deviation of :func:`feature_vector` over a reference library, if shipped."""
    if not STATS_FILE.exists():
        return None
    data = json.loads(STATS_FILE.read_text())
    return np.asarray(data["mean"], np.float32), np.asarray(data["std"], np.float32)


def standardize(raw: np.ndarray, stats: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """z-score each feature, weight each block equally, and scale to unit length.

    Without reference statistics each block is only centred on its own mean. Notebook: 02_embeddings.ipynb.
    """
    stats = stats if stats is not None else load_stats()
    x = raw.astype(np.float64)
    if stats is not None:
        mean, std = stats
        x = (x - mean) / np.maximum(std, 1e-6)
    out, start = [], 0
    for block in feature_blocks():
        part = x[start : start + block.size]
        if stats is None:
            part = part - part.mean()
        norm = np.linalg.norm(part)
        out.append(part / norm if norm > 0 else part)
        start += block.size
    v = np.concatenate(out)
    n = np.linalg.norm(v)
    return (v / n if n > 0 else v).astype(np.float32)


def fit_stats(raw_vectors: np.ndarray) -> dict[str, list[float]]:
    """Reference statistics for :func:`standardize`, from raw vectors of a library."""
    return {"mean": raw_vectors.mean(axis=0).tolist(), "std": raw_vectors.std(axis=0).tolist()}
