"""Search by humming: the melody of the hum against the melodies of the songs.

1. **Song melodies**, from the audio (no MIDI needed): a constant-Q transform, harmonic summation
   into a pitch salience, and per frame two candidates: the highest strong salience peak (the melody
   is usually the top voice) and the most salient peak, at 20 frames per second, in MIDI semitones.
2. **The hum's pitch**: YIN (fast) or torchcrepe, with voicing from loudness and stability.
3. **Candidates**: windows of every song's melody (6 s of song time, every 0.5 s), key-normalised
   (median subtracted) and resampled to 24 points, are ``dense_vector``\\ s in ``<index>-melody``.
   The hum gives one query vector per tempo ratio (0.72–1.32) and start; a kNN search per vector
   (one ``msearch``) collects candidate songs.
4. **Re-ranking**: the whole hum is slid along each candidate's melody at 9 tempo ratios; at each
   place the key offset is the most common rounded pitch difference, and the cost is the mean remaining
   difference to the nearer candidate, octave-folded and capped at 2 semitones, so wrong notes and
   octave slips cost little. The best place gives the score and ``offset_s``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numba  # a librosa dependency
import numpy as np

from .embeddings import Embedder

FPS = 20  # contour frames per second
SONG_SR = 22050
HUM_SR = 16000
MIDI_LO, MIDI_HI = 52, 92  # melody search band for songs (E3–G#6)
WINDOW_S = 6.0
WINDOW_HOP_S = 0.5
VEC_LEN = 24
RATIOS = np.geomspace(0.72, 1.32, 9)  # song seconds per hum second
QUERY_RATIOS = (0.78, 0.9, 1.0, 1.12, 1.26)
CAP = float(os.environ.get("HUM_CAP", 2.0))  # semitones a wrong note costs at most (2 beats 3: bench/README.md)
VOICES = 2  # melody candidates kept per frame
ALIGN_FPS = int(os.environ.get("HUM_ALIGN_FPS", 20))  # re-ranking resolution of the hum (frames per second)
PLACE_STEP = max(1, ALIGN_FPS // 10)  # re-ranking tries a place every PLACE_STEP frames: every 0.1 s
# candidates aligned at full resolution; beyond that, a coarse pass (5 ratios, every 0.2 s) ranks them first.
# 60 (exact for the demo library) is the accurate setting; 10 halves latency for ~0.03 MRR (bench/README.md)
REFINE = int(os.environ.get("HUM_REFINE", 60))
WINDOW_K = int(os.environ.get("HUM_WINDOW_K", 300))  # melody windows fetched per query vector


# ------------------------------------------------------------------------------ contours


def song_melody(y: np.ndarray, sr: int = SONG_SR, alpha: float = 0.6, voices: int | None = None) -> np.ndarray:
    """Melody candidates of polyphonic audio: ``(frames, voices)`` MIDI at :data:`FPS`, NaN where none.

    Column 0 is the highest strong salience peak (usually the tune), column 1 the most salient
    peak: matching a hum against any of them forgives a tracker that follows an
    inner voice for a while. Notebook: 06_search_by_humming.ipynb.
    """
    import librosa
    import scipy.ndimage as ndi

    voices = voices or VOICES
    bpo, n_oct, fmin_midi = 36, 6, 36
    hop = 1024 if sr >= 20000 else 512  # a multiple of 2**(octaves-1), so the CQT can downsample
    C = np.abs(librosa.cqt(y, sr=sr, hop_length=hop, fmin=librosa.midi_to_hz(fmin_midi), n_bins=bpo * n_oct,
                           bins_per_octave=bpo))  # fmt: skip
    loud = C.max(axis=0)
    C = C / (loud[None, :] + 1e-9)
    S = np.zeros_like(C)
    for h, w in zip((1, 2, 3, 4, 5), (1.0, 0.8, 0.6, 0.45, 0.35), strict=True):
        shift = round(bpo * np.log2(h))
        S[: C.shape[0] - shift] += w * C[shift:]
    midi = fmin_midi + np.arange(S.shape[0]) * 12 / bpo
    band = (midi >= MIDI_LO) & (midi <= MIDI_HI)
    m, Sb = midi[band], S[band]
    strong = (Sb == ndi.maximum_filter1d(Sb, 3, axis=0)) & (Sb >= alpha * Sb.max(axis=0, keepdims=True))
    rev = strong[::-1]
    top = rev & (np.cumsum(rev, axis=0) == 1)
    out = np.full((Sb.shape[1], 2), np.nan, np.float32)
    has = top.any(axis=0)
    out[has, 0] = m[::-1][np.argmax(top, axis=0)][has]
    out[:, 1] = m[np.argmax(Sb, axis=0)]
    out = out[:, :voices]
    out[loud < 10 ** (-50 / 20) * (loud.max() + 1e-12)] = np.nan
    frames = np.arange(int(len(out) * hop / sr * FPS))
    out = out[np.minimum(np.round(frames * sr / hop / FPS).astype(int), len(out) - 1)]  # to FPS frames
    out[:, 0] = _nan_median3(out[:, 0])
    return out


def _nan_median3(f0: np.ndarray) -> np.ndarray:
    """A 3-frame median that keeps NaN (unvoiced) frames unvoiced."""
    out = f0.astype(np.float32).copy()
    if len(f0) >= 3:
        stacked = np.stack([f0[:-2], f0[1:-1], f0[2:]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(stacked, axis=0)
        out[1:-1] = np.where(np.isnan(f0[1:-1]), np.nan, med)
    return out


def hum_pitch(y: np.ndarray, sr: int = HUM_SR, method: str | None = None) -> np.ndarray:
    """The pitch of a hum (monophonic voice), MIDI per frame at :data:`FPS`, NaN when unvoiced.

    ``method``: ``"yin"`` (default: fast, fine for a clean hum) or ``"crepe"`` (torchcrepe's tiny
    model, whose weights ship in its wheel: more robust to noise, slower on a CPU).
    Notebook: 06_search_by_humming.ipynb.
    """
    import librosa

    method = method or os.environ.get("HUM_PITCH", "yin")
    if sr != HUM_SR:
        y, sr = librosa.resample(y, orig_sr=sr, target_sr=HUM_SR, res_type="soxr_hq"), HUM_SR
    hop = sr // FPS
    y = y.astype(np.float32)
    if method == "crepe":
        import torch
        import torchcrepe

        pitch, periodicity = torchcrepe.predict(
            torch.from_numpy(y)[None],
            sr,
            hop_length=hop,
            fmin=65,
            fmax=1000,
            model="tiny",
            return_periodicity=True,
            batch_size=256,
            device="cpu",
        )
        f0 = pitch[0].numpy()
        voiced = periodicity[0].numpy() > 0.4
    else:
        f0 = librosa.yin(y, fmin=65, fmax=1000, sr=sr, frame_length=1024, hop_length=hop)
        rms = librosa.feature.rms(y=y, frame_length=1024, hop_length=hop)[0][: len(f0)]
        voiced = rms > max(10 ** (-35 / 20) * rms.max(), 1e-4)
    midi = librosa.hz_to_midi(np.maximum(f0, 1e-3)).astype(np.float32)
    stable = np.ones_like(voiced)
    if len(midi) >= 3:
        jump = np.abs(np.diff(midi))
        stable[1:-1] = (jump[:-1] < 1.0) | (jump[1:] < 1.0)
    midi[~(voiced & stable)] = np.nan
    return midi


def fill_gaps(c: np.ndarray) -> np.ndarray:
    """Unvoiced frames take the last voiced pitch (a hum's gaps between notes carry no melody)."""
    out = c.copy()
    idx = np.flatnonzero(~np.isnan(out))
    if len(idx) == 0:
        return out
    out[: idx[0]] = out[idx[0]]
    valid = np.where(~np.isnan(out), np.arange(len(out)), 0)
    np.maximum.accumulate(valid, out=valid)
    return out[valid]


def resample(c: np.ndarray, n: int) -> np.ndarray:
    x = np.linspace(0, len(c) - 1, n)
    return np.interp(x, np.arange(len(c)), c).astype(np.float32)


def window_vector(c: np.ndarray) -> np.ndarray | None:
    """A contour segment → key-normalised vector of :data:`VEC_LEN` semitone values (None if mostly silent)."""
    if np.mean(~np.isnan(c)) < 0.5:
        return None
    v = resample(fill_gaps(c), VEC_LEN)
    return v - np.median(v)


def song_windows(contour: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """(offset_s, vector) for every window of each melody candidate line. Notebook: 06_search_by_humming.ipynb."""
    contour = contour.reshape(len(contour), -1)
    w, hop = int(WINDOW_S * FPS), int(WINDOW_HOP_S * FPS)
    out = []
    for voice in range(contour.shape[1]):
        line = contour[:, voice]
        for start in range(0, max(1, len(line) - w + 1), hop):
            v = window_vector(line[start : start + w])
            if v is not None:
                out.append((start / FPS, v))
    return out


def query_vectors(hum: np.ndarray) -> list[np.ndarray]:
    """One vector per tempo ratio and start: the hum's first, middle and last 6 s of song time."""
    out = []
    for r in QUERY_RATIOS:
        n = round(WINDOW_S * FPS / r)  # hum frames covering WINDOW_S of song time
        starts = [0] if len(hum) <= n else [0, (len(hum) - n) // 2, len(hum) - n]
        for s in starts:
            v = window_vector(hum[s : s + n])
            if v is not None:
                out.append(v)
    return out


# ------------------------------------------------------------------------------ alignment


def _key_shift(d: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Per place (first axis), the most common rounded pitch difference (±48 semitones) over valid frames."""
    vals = np.clip(np.where(ok, np.round(d), 0).astype(np.int64) + 48, 0, 96)
    places = np.arange(d.shape[0]).reshape((-1,) + (1,) * (d.ndim - 1))
    counts = np.bincount((places * 97 + vals)[ok], minlength=d.shape[0] * 97).reshape(d.shape[0], 97)
    return (counts.argmax(axis=1) - 48).astype(np.float32)


@numba.njit(cache=True, nogil=True)
def _slide(song: np.ndarray, h: np.ndarray, step: int, cap: float) -> tuple[float, int]:
    """The hum ``h`` slid along ``song`` (frames × voices, NaN = none): (lowest cost, its place).

    At each place: the key shift is the most common rounded pitch difference (±48) over valid frames;
    a frame costs the octave-folded distance to its nearest voice, capped at ``cap`` (a missing frame
    costs ``cap``); places where voice 0 covers less than half the hum are skipped.
    """
    n, frames, voices = len(h), song.shape[0], song.shape[1]
    best, best_place = np.inf, 0
    counts = np.zeros(97, np.int64)
    for p in range(0, max(1, frames - n + 1), step):
        covered = 0
        counts[:] = 0
        for j in range(n):
            for v in range(voices):
                s = song[p + j, v] if p + j < frames else np.nan
                if not np.isnan(s) and not np.isnan(h[j]):
                    if v == 0:
                        covered += 1
                    b = int(np.rint(s - h[j])) + 48
                    counts[min(96, max(0, b))] += 1
        if covered < 0.5 * n:
            continue
        shift = float(np.argmax(counts) - 48)
        total = 0.0
        for j in range(n):
            e = np.inf
            for v in range(voices):
                s = song[p + j, v] if p + j < frames else np.nan
                if not np.isnan(s) and not np.isnan(h[j]):
                    x = s - h[j] - shift
                    e = min(e, abs(x - 12.0 * np.rint(x / 12.0)))
            total += min(e, cap)
        cost = total / n
        if cost < best:
            best, best_place = cost, p
    return best, best_place


def align(
    hum: np.ndarray, song: np.ndarray, ratios: np.ndarray = RATIOS, step: int = PLACE_STEP
) -> tuple[float, float, float]:
    """Best (cost, offset_s, ratio) of the hum along a song's melody candidates; lower cost is better.

    At each tempo ratio the hum is resampled to song time (:data:`ALIGN_FPS` frames/s) and slid along the
    song, trying a place every ``step`` frames (by default every 0.1 s). At each place the key offset is the
    most common rounded pitch difference; each frame then costs its octave-folded distance to the nearest
    melody candidate, capped at :data:`CAP` semitones. Compiled with numba (bench/humming.py: latency).
    Notebook: 06_search_by_humming.ipynb.
    """
    k = max(1, FPS // ALIGN_FPS)
    song = np.ascontiguousarray(song.reshape(len(song), -1)[::k], dtype=np.float64)
    h_full = fill_gaps(hum[::k])
    best = (np.inf, 0.0, 1.0)
    for r in ratios:
        n = max(8, round(len(h_full) * r))
        h = resample(h_full, n).astype(np.float64)
        cost, place = _slide(song, h, step, CAP)
        if cost < best[0]:
            best = (float(cost), place / ALIGN_FPS, float(r))
    return best


# ------------------------------------------------------------------------------ index and search


def melody_index(index: str) -> str:
    return f"{index}-melody"


def melody_mapping() -> dict[str, Any]:
    """Windows of song melodies: small vectors compared with Euclidean distance (l2_norm)."""
    return {
        "dynamic": "strict",
        "properties": {
            "song_id": {"type": "keyword"},
            "offset_s": {"type": "float"},
            "melody": {
                "type": "dense_vector",
                "dims": VEC_LEN,
                "index": True,
                "similarity": "l2_norm",
                "index_options": {"type": "hnsw", "m": 16, "ef_construction": 100},
            },
        },
        "_meta": {"fps": FPS, "window_s": WINDOW_S, "hop_s": WINDOW_HOP_S, "vec_len": VEC_LEN},
    }


def ensure_melody_index(es: Any, index: str, shards: int = 1, replicas: int = 0) -> str:
    name = melody_index(index)
    if not es.indices.exists(index=name):
        es.indices.create(index=name, mappings=melody_mapping(),
                          settings={"number_of_shards": shards, "number_of_replicas": replicas})  # fmt: skip
    return name


def melody_actions(index: str, song_id: str, contour: np.ndarray):
    """Bulk actions for a song's windows (ids ``<song_id>-<n>``)."""
    name = melody_index(index)
    for n, (offset, v) in enumerate(song_windows(contour)):
        yield {"_op_type": "index", "_index": name, "_id": f"{song_id}-{n}",
               "_source": {"song_id": song_id, "offset_s": offset, "melody": v.tolist()}}  # fmt: skip


def contour_of_file(path: str | os.PathLike) -> np.ndarray:
    """A song file's melody contour (the first 10 minutes at most)."""
    from .audio import load

    return song_melody(load(path, sr=SONG_SR, max_duration=600), SONG_SR)


@dataclass
class HumHit:
    id: str
    title: str
    artist: str
    path: str
    score: float
    offset_s: float

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"], d["offset_s"] = round(self.score, 4), round(self.offset_s, 2)
        return d


class NoMelody(ValueError):
    """The recording holds too little voiced sound to search with."""


def search_hum(
    es: Any, index: str, y: np.ndarray, sr: int, k: int = 10, candidates: int = 60, method: str | None = None
) -> tuple[list[HumHit], dict[str, Any]]:
    """Find songs by a hummed melody. Returns the hits and the intermediate steps (for plots).

    Notebook: 06_search_by_humming.ipynb (and ``python -m helpers hum FILE``).
    """
    hum = hum_pitch(y, sr, method)
    voiced_s = float(np.sum(~np.isnan(hum))) / FPS
    if voiced_s < 1.5:
        raise NoMelody(
            f"only {voiced_s:.1f} s of voiced sound found: hum louder, longer (5–15 s), or closer to the mic"
        )
    name = melody_index(index)
    searches: list[dict[str, Any]] = []
    for v in query_vectors(hum):
        searches.append({"index": name})
        knn = {"field": "melody", "query_vector": v.tolist(), "k": WINDOW_K, "num_candidates": max(1000, 2 * WINDOW_K)}
        searches.append({"knn": knn, "size": WINDOW_K, "_source": ["song_id"]})
    best: dict[str, float] = {}
    for resp in es.msearch(searches=searches)["responses"]:
        if "error" in resp:
            if resp["error"].get("type") == "index_not_found_exception":
                from .index import index_meta

                index_meta(es, index)  # says how to create the song index when that is missing too
                raise LookupError(f"Index '{index}' has no melody index '{name}': ingest again without --no-melody, "
                                  f"`.venv/bin/python -m helpers ingest DIR --index {index}`.")  # fmt: skip
            raise RuntimeError(f"melody search failed: {resp['error']}")
        for h in resp["hits"]["hits"]:
            sid = h["_source"]["song_id"]
            best[sid] = max(best.get(sid, 0.0), h["_score"])
    shortlist = sorted(best, key=best.get, reverse=True)[:candidates]
    if not shortlist:
        return [], {"hum": hum, "candidates": []}
    docs = es.mget(index=index, ids=shortlist, source_includes=["title", "artist", "path", "melody"])["docs"]
    songs = [(d, contour_from_json(d["_source"]["melody"])) for d in docs
             if d.get("found") and "melody" in d["_source"]]  # fmt: skip
    # with more candidates than REFINE: a coarse pass over all, then the best REFINE exactly.
    # The compiled aligner releases the GIL, so candidates are aligned on every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        if len(songs) > REFINE:
            coarse = list(pool.map(lambda sc: align(hum, sc[1], RATIOS[::2], step=2 * PLACE_STEP), songs))
        else:
            coarse = [(0.0, 0.0, 1.0)] * len(songs)
        order = sorted(range(len(songs)), key=lambda i: coarse[i][0])
        fine = list(pool.map(lambda i: align(hum, songs[i][1]), order[:REFINE]))
    ranked = [(*(fine[rank] if rank < REFINE else coarse[i]), songs[i][0]) for rank, i in enumerate(order)]
    ranked.sort(key=lambda t: t[0])
    hits = [HumHit(d["_id"], d["_source"].get("title", ""), d["_source"].get("artist", ""),
                   d["_source"].get("path", ""), float(np.exp(-cost)), offset)
            for cost, offset, _, d in ranked[:k]]  # fmt: skip
    steps = {"hum": hum, "candidates": shortlist, "ranked": [(c, o, r, d["_id"]) for c, o, r, d in ranked]}
    return hits, steps


def song_contour(es: Any, index: str, song_id: str) -> np.ndarray:
    doc = es.get(index=index, id=song_id, source_includes=["melody"])
    return contour_from_json(doc["_source"]["melody"])


# ------------------------------------------------------------------------------ generated queries


@dataclass
class HumQuery:
    song: str
    start_s: float
    seconds: float
    transpose: int
    tempo: float
    y: np.ndarray
    sr: int


def synth_hum(notes: list[tuple[float, float, float]], sr: int = HUM_SR, rng: np.random.Generator | None = None,
              vibrato_cents: float = 30.0, drift_cents: float = 25.0, snr_db: float = 20.0) -> np.ndarray:  # fmt: skip
    """Render notes ``(onset_s, offset_s, midi)`` as a hum: a voice-like tone with vibrato, drift, breath noise."""
    rng = rng or np.random.default_rng(0)
    total = max(off for _, off, _ in notes) + 0.3
    n = int(total * sr)
    t = np.arange(n) / sr
    f_midi = np.full(n, np.nan)
    amp = np.zeros(n)
    for on, off, m in notes:
        a, b = int(on * sr), int(off * sr)
        f_midi[a:b] = m
        env = np.ones(b - a)
        ramp = min(int(0.03 * sr), (b - a) // 3)
        if ramp:
            env[:ramp] = np.linspace(0, 1, ramp)
            env[-ramp:] = np.linspace(1, 0, ramp)
        amp[a:b] = env * rng.uniform(0.7, 1.0)
    f_midi = fill_gaps(f_midi.astype(np.float32)).astype(np.float64)
    f_midi += vibrato_cents / 100 * np.sin(2 * np.pi * rng.uniform(4.5, 6.5) * t)
    drift = np.cumsum(rng.normal(0, 1, n)) / np.sqrt(sr)
    f_midi += drift_cents / 100 * drift / (np.abs(drift).max() + 1e-9)
    phase = 2 * np.pi * np.cumsum(440.0 * 2 ** ((f_midi - 69) / 12)) / sr
    voice = sum(np.sin(k * phase) * w for k, w in ((1, 1.0), (2, 0.45), (3, 0.25), (4, 0.12), (5, 0.06)))
    y = amp * voice
    y /= np.max(np.abs(y)) + 1e-9
    noise = rng.normal(0, 1, n)
    y += noise * np.sqrt(np.mean(y**2) / 10 ** (snr_db / 10)) / (noise.std() + 1e-9)
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


def make_query(song: str | os.PathLike, rng: np.random.Generator, seconds: tuple[float, float] = (8.0, 15.0),
               tempo: tuple[float, float] = (0.75, 1.25), error_rate: float = 0.1) -> HumQuery:  # fmt: skip
    """A hummed query from a demo song's ground-truth melody: random start, key, tempo, errors, gaps, noise.

    Notebook: 06_search_by_humming.ipynb; bench/humming.py.
    """
    from .demo import melody_of

    notes = melody_of(song)
    last = max(off for _, off, _ in notes)
    tempo_f = float(rng.uniform(*tempo))  # >1: hummed faster than the song
    length = float(rng.uniform(*seconds))
    span = length * tempo_f  # song seconds covered
    for _ in range(50):  # a start whose span holds a tune, not a long rest
        start = float(rng.uniform(0, max(0.0, last - span)))
        picked = [(on, off, m) for on, off, m in notes if on >= start and on < start + span]
        if len({m for _, _, m in picked}) >= 3:
            break
    # monophonic: when notes overlap (chords in the melody part), keep the highest
    mono: dict[float, tuple[float, float, float]] = {}
    for on, off, m in picked:
        if on not in mono or m > mono[on][2]:
            mono[on] = (on, off, m)
    picked = sorted(mono.values())
    center = float(np.median([m for _, _, m in picked])) if picked else 60.0
    transpose = int(rng.integers(-6, 7))
    shift = transpose + round((60 - center) / 12) * 12  # into a comfortable humming range
    out = []
    for i, (on, off, m) in enumerate(picked):
        nxt = picked[i + 1][0] if i + 1 < len(picked) else off
        off = min(off, nxt)
        dur = (off - on) * rng.uniform(0.7, 0.95)  # gaps between notes
        pitch = m + shift + (rng.choice([-2, -1, 1, 2]) if rng.random() < error_rate else 0)
        a = (on - start) / tempo_f
        out.append((a, a + dur / tempo_f, float(pitch)))
    y = synth_hum(out, HUM_SR, rng)
    return HumQuery(str(song), start, length, transpose, tempo_f, y, HUM_SR)


def contour_to_json(c: np.ndarray) -> dict[str, Any]:
    """A contour as JSON (NaN → null), rounded to cents, for the song document's ``melody`` field."""
    c = c.reshape(len(c), -1)
    rows = [[None if np.isnan(x) else round(float(x), 2) for x in row] for row in c]
    return {"fps": FPS, "voices": c.shape[1], "contour": rows}


def contour_from_json(m: dict[str, Any]) -> np.ndarray:
    return np.array([[np.nan if x is None else x for x in row] for row in m["contour"]], dtype=np.float32)


class MelodyExtractor(Embedder):
    """Song melodies as an 'embedder', so the cache and threaded decoding of embeddings serve them too.

    ``raw`` is the ``(frames, voices)`` contour of the first 10 minutes of a song.
    """

    name = "melody"
    sr = SONG_SR
    segment_s = 600.0
    max_segments = 1

    def settings(self) -> dict[str, Any]:
        return {"sr": SONG_SR, "fps": FPS, "voices": VOICES, "version": 3}

    def raw(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        return song_melody(segments[0], self.sr)


def placed_hum(hum: np.ndarray, song: np.ndarray, offset_s: float, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """The hum as the re-ranker placed it on the song: (song times in s, transposed pitch).

    Notebook: 06_search_by_humming.ipynb.
    """
    song = song.reshape(len(song), -1)
    n = max(8, round(len(hum) * ratio))
    h = resample(fill_gaps(hum), n)
    start = round(offset_s * FPS)
    seg = song[start : start + n, :]
    d = seg - h[: len(seg), None]
    ok = ~np.isnan(d)
    shift = float(_key_shift(d[None], ok[None])[0]) if ok.any() else 0.0
    voiced = resample(np.where(np.isnan(hum), 0, 1).astype(np.float32), n) > 0.5
    return (start + np.arange(n)) / FPS, np.where(voiced, h + shift, np.nan)
