"""Basics for the notebooks: players, feature plots and result tables with audio.

Players embed short MP3 clips (not WAV), so executed notebooks stay small.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _mp3_bytes(y: np.ndarray, sr: int) -> bytes:
    import soundfile as sf

    if sr not in (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000):
        import librosa

        y, sr = librosa.resample(y, orig_sr=sr, target_sr=22050), 22050
    buf = io.BytesIO()
    sf.write(buf, np.clip(y, -1, 1), sr, format="MP3", subtype="MPEG_LAYER_III")
    return buf.getvalue()


def player(y: np.ndarray, sr: int) -> Any:
    """An audio player for a waveform (embedded as MP3). Notebook: 01_audio_features.ipynb."""
    from IPython.display import Audio

    audio = Audio(data=_mp3_bytes(y, sr), autoplay=False)
    audio.mimetype = "audio/mpeg"  # IPython labels raw bytes as WAV otherwise
    return audio


def clip_player(path: str | Path, offset: float = 0.0, seconds: float = 15.0) -> Any:
    """A player for ``seconds`` of a file from ``offset``. Notebook: 05_similar_songs.ipynb."""
    from .audio import load

    return player(load(path, sr=22050, offset=offset, duration=seconds), 22050)


def _audio_tag(path: str | Path, offset: float = 0.0, seconds: float = 12.0) -> str:
    from .audio import load

    data = base64.b64encode(_mp3_bytes(load(path, sr=22050, offset=offset, duration=seconds), 22050)).decode()
    return f'<audio controls preload="none" src="data:audio/mpeg;base64,{data}"></audio>'


def results_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], audio: bool = True) -> Any:
    """An HTML table of hits (or songs) with a player per row. Notebook: 05_similar_songs.ipynb."""
    from IPython.display import HTML

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns) + ("<th>listen</th>" if audio else "")
    body = []
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c, "")
            cells.append(f"<td>{v:.3f}</td>" if isinstance(v, float) else f"<td>{html.escape(str(v))}</td>")
        if audio and r.get("path"):
            cells.append(f"<td>{_audio_tag(r['path'], r.get('offset_s', 0.0) or 0.0)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def waveform(y: np.ndarray, sr: int, ax=None, title: str = ""):
    """Plot a waveform against time. Notebook: 01_audio_features.ipynb."""
    import librosa.display
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(10, 2.5))[1]
    librosa.display.waveshow(y, sr=sr, ax=ax, alpha=0.8)
    ax.set(title=title, xlabel="time (s)", ylabel="amplitude")
    return ax


def spec(S: np.ndarray, sr: int, y_axis: str, ax=None, title: str = "", hop_length: int = 512, colorbar: str = ""):
    """Show any time-frequency matrix with the right axes. Notebook: 01_audio_features.ipynb."""
    import librosa.display
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(10, 3.5))[1]
    img = librosa.display.specshow(S, sr=sr, hop_length=hop_length, x_axis="time", y_axis=y_axis, ax=ax)
    ax.set(title=title)
    if colorbar:
        ax.figure.colorbar(img, ax=ax, format=colorbar)
    return ax


def features_overview(y: np.ndarray, sr: int, title: str = ""):
    """Waveform, mel spectrogram, MFCC and chroma of one clip, stacked. Notebook: 01_audio_features.ipynb."""
    import matplotlib.pyplot as plt

    from . import features

    fig, axes = plt.subplots(4, 1, figsize=(7, 9), constrained_layout=True)
    waveform(y, sr, ax=axes[0], title=title)
    spec(features.mel_db(y, sr), sr, "mel", ax=axes[1], title="mel spectrogram (dB)")
    spec(features.mfcc(y, sr), sr, None, ax=axes[2], title="MFCC")
    spec(features.chroma(y, sr), sr, "chroma", ax=axes[3], title="chroma")
    return fig


def compare(clips: Sequence[tuple[str, np.ndarray]], sr: int):
    """Mel spectrogram, chroma and spectral contrast of several clips side by side.

    Notebook: 01_audio_features.ipynb.
    """
    import matplotlib.pyplot as plt

    from . import features

    fig, axes = plt.subplots(3, len(clips), figsize=(5 * len(clips), 8), constrained_layout=True, squeeze=False)
    for j, (name, y) in enumerate(clips):
        spec(features.mel_db(y, sr), sr, "mel", ax=axes[0, j], title=f"{name}: mel (dB)")
        spec(features.chroma(y, sr), sr, "chroma", ax=axes[1, j], title="chroma")
        spec(features.spectral_contrast(y, sr), sr, None, ax=axes[2, j], title="spectral contrast (bands)")
    return fig


def similarity_heatmap(X: np.ndarray, labels: Sequence[str], title: str = "cosine similarity"):
    """Pairwise cosine similarity of unit vectors, rows labelled. Notebook: 02_embeddings.ipynb."""
    import matplotlib.pyplot as plt

    S = X @ X.T
    fig, ax = plt.subplots(figsize=(7, 6))
    img = ax.imshow(S, cmap="magma", vmin=min(0.0, float(S.min())), vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_title(title)
    fig.colorbar(img, ax=ax)
    return fig


def genre_map(X: np.ndarray, genres: Sequence[str], title: str = "", ax=None, method: str = "pca"):
    """A 2-D projection of vectors (PCA or t-SNE), one colour per genre. Notebook: 02_embeddings.ipynb."""
    import matplotlib.pyplot as plt

    if method == "tsne":
        from sklearn.manifold import TSNE

        P = TSNE(n_components=2, perplexity=min(30, max(2, len(X) // 4)), random_state=0).fit_transform(X)
    else:
        from sklearn.decomposition import PCA

        P = PCA(n_components=2, random_state=0).fit_transform(X)
    ax = ax or plt.subplots(figsize=(7, 5))[1]
    for g in sorted(set(genres)):
        idx = [i for i, x in enumerate(genres) if x == g]
        ax.scatter(P[idx, 0], P[idx, 1], label=g, s=30, alpha=0.8)
    ax.set(title=title or f"{method.upper()} of the embeddings", xticks=[], yticks=[])
    ax.legend(fontsize=7, loc="best")
    return ax


def neighbours_map(X: np.ndarray, docs: Sequence[dict], seed_id: str, hit_ids: Sequence[str], title: str = ""):
    """The library in 2-D (PCA), coloured by genre, with the seed and its hits marked.

    Notebook: 05_similar_songs.ipynb.
    """
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    P = PCA(n_components=2, random_state=0).fit_transform(X)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    genres = [d.get("genre", "") for d in docs]
    for g in sorted(set(genres)):
        idx = [i for i, x in enumerate(genres) if x == g]
        ax.scatter(P[idx, 0], P[idx, 1], s=25, alpha=0.45, label=g)
    ids = [d["_id"] for d in docs]
    s = ids.index(seed_id)
    for rank, h in enumerate(hit_ids, 1):
        j = ids.index(h)
        ax.annotate(str(rank), P[j], xytext=(4, 4), textcoords="offset points", fontsize=9, weight="bold")
        ax.plot([P[s, 0], P[j, 0]], [P[s, 1], P[j, 1]], "k-", lw=0.8, alpha=0.6)
    ax.scatter(P[s, 0], P[s, 1], marker="*", s=300, c="black", label="seed")
    ax.set(title=title or "the seed (★) and its nearest songs (1, 2, 3…)", xticks=[], yticks=[])
    ax.legend(fontsize=7)
    return fig


def hum_match(hum: np.ndarray, song: np.ndarray, offset_s: float, ratio: float, title: str = "",
              truth: Sequence[tuple[float, float, float]] | None = None):  # fmt: skip
    """The song's melody candidates, and the hum placed where the re-ranker matched it.

    Notebook: 06_search_by_humming.ipynb.
    """
    import matplotlib.pyplot as plt

    from .humming import FPS, placed_hum

    song = song.reshape(len(song), -1)
    t = np.arange(len(song)) / FPS
    fig, ax = plt.subplots(figsize=(11, 3.8))
    for v in range(song.shape[1] - 1, -1, -1):
        ax.plot(t, song[:, v], ".", ms=2.5, alpha=0.35 if v else 0.8, label="song melody" if v == 0 else None,
                color="tab:blue" if v == 0 else "tab:gray")  # fmt: skip
    if truth:
        for on, off, m in truth:
            ax.plot([on, off], [m, m], color="tab:green", lw=2, alpha=0.5)
    ht, hp = placed_hum(hum, song, offset_s, ratio)
    ax.plot(ht, hp, color="tab:red", lw=2, label="hum (placed)")
    lo, hi = offset_s - 3, offset_s + len(ht) / FPS + 3
    ax.set(xlim=(max(0, lo), hi), xlabel="song time (s)", ylabel="MIDI pitch", title=title)
    ax.legend(loc="upper right", fontsize=8)
    return fig
