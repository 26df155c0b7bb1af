"""The demo library: public-domain scores from music21's corpus, rendered to tagged MP3s.

Six styles, each its own genre, with several instrumentations per style so that a genre is not
one timbre. Monophonic folk tunes get a bass line and chords from a small I–IV–V harmoniser.
Beside every ``song.mp3`` lies ``song.melody.json``: the melody's notes (onset, offset in
seconds, MIDI pitch), the ground truth the humming evaluation needs. Seeded: the same command
gives the same library.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sys
import warnings
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SOUNDFONT_CANDIDATES = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2")
RENDER_SR = 44100
BUILDER_VERSION = 2
MAX_SCORE_BYTES = 60_000


@dataclass(frozen=True)
class Style:
    genre: str
    slug: str
    sources: tuple[str, ...]  # corpus path prefixes
    artist: str | None  # None: the composer named in the corpus path
    album: str
    bpm: tuple[int, int]
    # instrumentations: GM programs, melody first, then the other voices (or chords, bass)
    palettes: tuple[tuple[str, tuple[int, ...]], ...]
    monophonic: bool = False
    year: int | None = None
    licence: str = ""


STYLES: tuple[Style, ...] = (
    Style(
        "Baroque Chorale",
        "chorale",
        ("bach/",),
        "Johann Sebastian Bach",
        "Chorales",
        (60, 84),
        (
            ("Organ", (19, 19, 19, 19)),
            ("Strings", (40, 40, 41, 42)),
            ("Brass", (56, 56, 60, 58)),
            ("Winds", (73, 68, 71, 70)),
            ("Choir", (52, 52, 52, 53)),
        ),
    ),
    Style(
        "Renaissance Polyphony",
        "renaissance",
        ("palestrina/",),
        "Giovanni Pierluigi da Palestrina",
        "Masses",
        (112, 150),
        (
            ("Recorders", (74, 74, 74, 74, 74)),
            ("Viols", (40, 41, 42, 42, 43)),
            ("Voices", (53, 52, 52, 52, 52)),
            ("Organ", (20, 19, 19, 19, 19)),
        ),
    ),
    Style(
        "Classical String Quartet",
        "quartet",
        ("haydn/", "mozart/", "beethoven/"),
        None,
        "String Quartets",
        (96, 132),
        (
            ("String Quartet", (40, 40, 41, 42)),
            ("Piano", (0, 0, 0, 0)),
            ("Wind Quartet", (73, 71, 60, 70)),
            ("Harpsichord & Strings", (40, 6, 41, 42)),
        ),
    ),
    Style(
        "Irish Traditional",
        "irish",
        ("oneills1850/",),
        "Traditional (O'Neill's collection)",
        "The Music of Ireland (1850)",
        (96, 126),
        (
            ("Fiddle & Guitar", (110, 25, 32)),
            ("Flute & Harp", (73, 46, 42)),
            ("Whistle & Piano", (72, 0, 32)),
            ("Accordion & Guitar", (21, 24, 43)),
        ),
        monophonic=True,
        year=1850,
    ),
    Style(
        "Fiddle Tunes",
        "fiddle",
        ("ryansMammoth/",),
        "Traditional (Ryan's Mammoth Collection)",
        "Ryan's Mammoth Collection (1883)",
        (100, 132),
        (
            ("Fiddle & Banjo", (110, 105, 32)),
            ("Violin & Piano", (40, 0, 43)),
            ("Harmonica & Guitar", (22, 25, 32)),
            ("Mandolin & Guitar", (25, 24, 32)),
        ),
        monophonic=True,
        year=1883,
    ),
    Style(
        "German Folk Song",
        "folksong",
        ("essenFolksong/",),
        "Traditional (Essen collection)",
        "Essen Folksong Collection",
        (72, 108),
        (
            ("Clarinet & Guitar", (71, 24, 32)),
            ("Oboe & Harp", (68, 46, 42)),
            ("Voice & Piano", (53, 0, 32)),
            ("Flute & Accordion", (73, 21, 43)),
        ),
        monophonic=True,
    ),
)

COMPOSERS = {"haydn": "Joseph Haydn", "mozart": "Wolfgang Amadeus Mozart", "beethoven": "Ludwig van Beethoven"}
LICENCES = {
    "bach/": "Bach chorales: compositions in the public domain; encodings from music21's corpus.",
    "palestrina/": "Palestrina masses: compositions in the public domain; Humdrum encodings from music21's corpus.",
    "haydn/": "Haydn quartets: public domain; encodings from music21's corpus.",
    "mozart/": "Mozart quartets: public domain; encodings from music21's corpus.",
    "beethoven/": "Beethoven quartets: public domain; encodings from music21's corpus.",
    "oneills1850/": "O'Neill's Music of Ireland (1850): public domain; ABC transcriptions from music21's corpus.",
    "ryansMammoth/": "Ryan's Mammoth Collection (1883): public domain; ABC transcriptions from music21's corpus.",
    "essenFolksong/": "Essen Folksong Collection: traditional melodies; EsAC/ABC encodings from music21's corpus.",
}


@dataclass
class Note:
    onset: float  # seconds
    offset: float
    pitch: int
    velocity: int = 80


@dataclass
class Piece:
    title: str
    composer_key: str
    source: str
    parts: list[list[tuple[float, float, int]]]  # per part: (onset_q, dur_q, midi), melody first
    length_q: float
    chords: list[tuple[float, float, tuple[int, ...]]] = field(default_factory=list)


# --------------------------------------------------------------------------- scores


def _corpus_files(prefix: str) -> list[str]:
    from music21 import corpus

    files = sorted(str(p) for p in corpus.getPaths() if f"/corpus/{prefix}" in str(p).replace(os.sep, "/"))
    if prefix == "beethoven/":  # the .krn and .mxl of opus 18 no 1 are the same music
        files = [f for f in files if not f.endswith(".krn")]
    if prefix == "mozart/":  # K. 545 is a piano sonata, not a quartet
        files = [f for f in files if "k545" not in f]
    if prefix in ("haydn/", "mozart/", "beethoven/"):  # whole quartets take minutes to parse; 60 s are used
        files = [f for f in files if os.path.getsize(f) <= MAX_SCORE_BYTES]
    return files


def _notes_of(part) -> list[tuple[float, float, int]]:
    notes = []
    for n in part.stripTies().recurse().notes:
        dur = float(n.quarterLength)
        if dur <= 0:
            continue
        onset = float(n.getOffsetInHierarchy(part))
        pitches = [n.pitch] if hasattr(n, "pitch") else list(n.pitches)
        for p in pitches:
            notes.append((onset, dur, int(p.midi)))
    return sorted(notes)


def _piece_from_score(score, source: str, composer_key: str) -> Piece | None:
    parts = [_notes_of(p) for p in score.parts] if score.parts else [_notes_of(score)]
    parts = [p for p in parts if len(p) >= 8]
    if not parts:
        return None
    # the melody is the part with the highest mean pitch (soprano, cantus, first violin, the tune)
    parts.sort(key=lambda ns: -float(np.mean([m for _, _, m in ns])))
    length = max(o + d for ns in parts for o, d, _ in ns)
    meta_title = score.metadata.title if score.metadata and score.metadata.title else ""
    title = _title_for(source, re.sub(r"\s+", " ", str(meta_title)).strip())
    return Piece(title=title[:120], composer_key=composer_key, source=source, parts=parts, length_q=length)


ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
MASS_PARTS = {"agnus": "Agnus Dei", "kyrie": "Kyrie", "gloria": "Gloria", "credo": "Credo", "sanctus": "Sanctus",
              "benedictus": "Benedictus", "hosanna": "Hosanna", "christe": "Christe"}  # fmt: skip


def _title_for(source: str, meta_title: str) -> str:
    """A readable title: chorales by BWV, quartets by opus and movement, mass sections by name."""
    rel = source.replace(os.sep, "/").split("/corpus/")[-1]
    stem = Path(rel).stem
    if rel.startswith("bach/"):
        bwv = re.search(r"bwv([\d.]+?)\.?(?:-|$)", stem)
        return f"Chorale BWV {bwv.group(1)}" if bwv else meta_title or stem
    if rel.startswith(("haydn/", "mozart/", "beethoven/")):
        work = re.search(r"(opus\d+(?:no\d+)?|k\d+)", rel)
        label = work.group(1) if work else stem
        label = re.sub(r"opus(\d+)", r"Op. \1", label).replace("no", " No. ")
        label = re.sub(r"^k(\d+)", r"K. \1", label)
        mv = re.search(r"movement(\d+)", stem)
        return f"String Quartet {label}" + (f": {ROMAN[int(mv.group(1)) - 1]}" if mv and int(mv.group(1)) <= 8 else "")
    if rel.startswith("palestrina/"):
        name, _, num = stem.partition("_")
        section = MASS_PARTS.get(name.lower(), name)
        return f"{section} {int(num) + 1}" if num.isdigit() else section
    return meta_title or stem


def _harmonise(piece: Piece, key_tonic: int, minor: bool, bar_q: float) -> None:
    """Add chords (I, IV, V or i, iv, V) per bar, chosen by the melody's pitch classes."""
    steps = (0, 5, 7)
    qualities = ((0, 3, 7), (0, 3, 7), (0, 4, 7)) if minor else ((0, 4, 7), (0, 4, 7), (0, 4, 7))
    melody = piece.parts[0]
    bars = int(np.ceil(piece.length_q / bar_q))
    for b in range(bars):
        start, end = b * bar_q, (b + 1) * bar_q
        weight = np.zeros(12)
        for o, d, m in melody:
            overlap = min(o + d, end) - max(o, start)
            if overlap > 0:
                weight[m % 12] += overlap
        scores = [sum(weight[(key_tonic + s + q) % 12] for q in qual) for s, qual in zip(steps, qualities, strict=True)]
        i = int(np.argmax(scores)) if any(scores) else 0
        root = key_tonic + steps[i]
        piece.chords.append((start, bar_q, tuple((root + q) % 12 for q in qualities[i])))


def _load_pieces(style: Style, count: int, rng: random.Random) -> list[Piece]:
    from music21 import converter

    files = [f for prefix in style.sources for f in _corpus_files(prefix)]
    if not files:
        raise RuntimeError(f"music21's corpus has no files for {style.sources}: reinstall music21")
    rng.shuffle(files)
    pieces: list[Piece] = []
    for path in files:
        if len(pieces) >= count:
            break
        composer_key = next(
            (k for k in ("bach", "palestrina", "haydn", "mozart", "beethoven") if f"/{k}/" in path), "trad"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                parsed = converter.parse(path)
            except Exception:
                continue
        scores = list(parsed.scores) if hasattr(parsed, "scores") else [parsed]
        rng.shuffle(scores)
        for score in scores[: max(1, min(3, count - len(pieces)))]:
            piece = _piece_from_score(score, path, composer_key)
            if piece is None or (style.monophonic and len(piece.parts) != 1):
                continue
            if style.monophonic:
                try:
                    k = score.analyze("key")
                    tonic, minor = k.tonic.pitchClass, k.mode == "minor"
                except Exception:
                    tonic, minor = 0, False
                ts = score.recurse().getElementsByClass("TimeSignature").first()
                bar_q = float(ts.barDuration.quarterLength) if ts else 4.0
                _harmonise(piece, tonic, minor, bar_q)
            pieces.append(piece)
    return pieces


# --------------------------------------------------------------------------- rendering


def soundfont() -> str:
    for path in (os.environ.get("SOUNDFONT"), *SOUNDFONT_CANDIDATES):
        if path and Path(path).is_file():
            return path
    raise RuntimeError("No General MIDI soundfont found: apt-get install fluid-soundfont-gm (or set SOUNDFONT)")


def _arrange(piece: Piece, style: Style, palette: tuple[int, ...], bpm: float, seconds: float, rng: random.Random):
    """Timed notes per (program, part), looping the piece until it lasts ``seconds``."""
    spq = 60.0 / bpm
    loop_s = piece.length_q * spq
    loops = int(np.ceil(seconds / loop_s))
    voices: list[tuple[int, list[Note]]] = []
    if style.monophonic:
        bass, chords = [], []
        for o, d, pcs in piece.chords:
            root = pcs[0]
            bass.append((o, d, 36 + (root - 36) % 12 + (12 if root < 4 else 0)))
            for pc in pcs:
                chords.append((o, d, 55 + (pc - 55) % 12))
        layout = [(palette[0], piece.parts[0], 100), (palette[1], chords, 58), (palette[2], bass, 70)]
    else:
        layout = [
            (palette[min(i, len(palette) - 1)], part, 100 if i == 0 else 66)
            for i, part in enumerate(piece.parts[: len(palette)])
        ]
    for program, notes, vel in layout:
        timed = []
        for k in range(loops):
            for o, d, m in notes:
                on = (o + k * piece.length_q) * spq
                if on >= seconds:
                    continue
                v = int(np.clip(vel + rng.randint(-6, 6), 30, 127))
                timed.append(Note(on, min(on + d * spq * 0.97, seconds), m, v))
        voices.append((program, timed))
    return voices


def _render(voices, seconds: float, sf2: str) -> np.ndarray:
    import fluidsynth

    synth = fluidsynth.Synth(gain=0.35, samplerate=float(RENDER_SR))
    sfid = synth.sfload(sf2)
    events = []
    for ch, (program, notes) in enumerate(voices):
        channel = ch if ch < 9 else ch + 1
        synth.program_select(channel, sfid, 0, program)
        synth.cc(channel, 10, [64, 40, 88, 52, 76][ch % 5])
        for n in notes:
            events.append((n.onset, 1, channel, n.pitch, n.velocity))
            events.append((n.offset, 0, channel, n.pitch, 0))
    events.sort()
    total = int(seconds * RENDER_SR)
    chunks, pos = [], 0
    for t, kind, channel, pitch, vel in events:
        frame = min(int(t * RENDER_SR), total)
        if frame > pos:
            chunks.append(synth.get_samples(frame - pos))
            pos = frame
        if kind:
            synth.noteon(channel, pitch, vel)
        else:
            synth.noteoff(channel, pitch)
    tail = total + int(1.0 * RENDER_SR)
    chunks.append(synth.get_samples(tail - pos))
    synth.delete()
    audio = np.concatenate(chunks).astype(np.float32).reshape(-1, 2) / 32768.0
    fade = int(1.5 * RENDER_SR)
    audio[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)[:, None]
    peak = float(np.max(np.abs(audio))) or 1.0
    return audio * (0.89 / peak)


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s[:48] or "untitled"


@dataclass
class SongSpec:
    index: int
    style: Style
    piece: Piece
    palette: tuple[str, tuple[int, ...]]
    bpm: float
    seconds: float
    seed: int


def _write_song(spec: SongSpec, out: Path, sf2: str) -> dict:
    import soundfile as sf

    from .metadata import write_tags

    rng = random.Random(spec.seed)
    voices = _arrange(spec.piece, spec.style, spec.palette[1], spec.bpm, spec.seconds, rng)
    audio = _render(voices, spec.seconds, sf2)
    folder = out / spec.style.slug
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{spec.index:03d}-{_slug(spec.piece.title)}"
    mp3 = folder / f"{stem}.mp3"
    sf.write(str(mp3), audio, RENDER_SR, format="MP3", subtype="MPEG_LAYER_III")
    artist = spec.style.artist or COMPOSERS.get(spec.piece.composer_key, "Unknown")
    album = f"{spec.style.album} ({spec.palette[0]})"
    tags = {"title": spec.piece.title, "artist": artist, "album": album, "genre": spec.style.genre,
            "tracknumber": str(spec.index)}  # fmt: skip
    if spec.style.year:
        tags["date"] = str(spec.style.year)
    write_tags(mp3, **tags)
    melody = [[round(n.onset, 4), round(n.offset, 4), n.pitch] for n in voices[0][1]]
    (folder / f"{stem}.melody.json").write_text(
        json.dumps({"song": mp3.name, "source": spec.piece.source.split("/corpus/")[-1], "bpm": round(spec.bpm, 2),
                    "instrumentation": spec.palette[0], "duration_s": round(spec.seconds, 3), "notes": melody})
    )  # fmt: skip
    return {"path": str(mp3.relative_to(out)), **tags}


def _plan_style(job: tuple[Style, int, int]) -> tuple[random.Random, list[Piece]]:
    style, count, seed = job
    rng = random.Random(f"{seed}-{style.slug}")
    return rng, _load_pieces(style, count, rng)


def plan(songs: int = 60, seed: int = 1234) -> list[SongSpec]:
    """Choose pieces, instrumentations, tempi and lengths (deterministic for a seed)."""
    per_style = [songs // len(STYLES) + (1 if i < songs % len(STYLES) else 0) for i in range(len(STYLES))]
    jobs = [(style, count, seed) for style, count in zip(STYLES, per_style, strict=True) if count]
    workers = min(len(jobs), os.cpu_count() or 1, 2)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            loaded = list(pool.map(_plan_style, jobs))
    else:
        loaded = [_plan_style(job) for job in jobs]
    specs: list[SongSpec] = []
    index = 1
    for (style, _, _), (rng, pieces) in zip(jobs, loaded, strict=True):
        for j, piece in enumerate(pieces):
            palette = style.palettes[j % len(style.palettes)]
            bpm = rng.uniform(*style.bpm)
            natural = piece.length_q * 60 / bpm
            seconds = float(np.clip(max(natural, rng.uniform(32, 55)), 30, 58.5))
            specs.append(SongSpec(index, style, piece, palette, bpm, seconds, rng.randrange(2**31)))
            index += 1
    return specs


def _write_readme(out: Path, rows: list[dict], seed: int) -> None:
    used = sorted({prefix for s in STYLES for prefix in s.sources})
    lines = [
        "# The demo library",
        "",
        f"Built by `python -m helpers demo` (seed {seed}, builder v{BUILDER_VERSION}): {len(rows)} songs,"
        " public-domain scores rendered with FluidSynth and the FluidR3 General MIDI soundfont, encoded to MP3",
        "and tagged (title, artist, album, genre). `*.melody.json` beside each song holds its melody",
        "(onset and offset in seconds, MIDI pitch): the ground truth for the humming evaluation.",
        "",
        "## Licences",
        "",
        *[f"- {LICENCES[p]}" for p in used],
        "- music21 itself (the corpus's distributor) is BSD-3-Clause licensed; its corpus files are",
        "  public-domain music distributed with it (see music21's documentation, 'About the corpus').",
        "- FluidR3_GM soundfont (Debian package fluid-soundfont-gm): MIT licence, by Frank Wen.",
        "- The rendered MP3s and melody files: public domain (CC0), like the music they render.",
        "",
        "## Songs",
        "",
        "| # | genre | artist | title | album |",
        "|---|---|---|---|---|",
        *[f"| {r['tracknumber']} | {r['genre']} | {r['artist']} | {r['title']} | {r['album']} |" for r in rows],
    ]
    (out / "README.md").write_text("\n".join(lines) + "\n")


def build_demo(out: str | os.PathLike | None = None, songs: int = 60, seed: int = 1234, workers: int | None = None,
               force: bool = False) -> dict:  # fmt: skip
    """Build the demo library (``dataset/demo`` by default); skip it when it is already complete.

    Notebook: 01_audio_features.ipynb (and ``python -m helpers demo``).
    """
    from tqdm.auto import tqdm

    from .config import demo_dir

    out = Path(out) if out else demo_dir()
    stamp = out / ".demo.json"
    want = {"songs": songs, "seed": seed, "version": BUILDER_VERSION}
    if not force and stamp.exists() and json.loads(stamp.read_text()).get("build") == want:
        return {"out": str(out), "songs": len(list(out.rglob("*.mp3"))), "built": False}
    if out.exists():
        for child in out.iterdir():
            if child.is_dir() and any(child.glob("*.melody.json")):
                shutil.rmtree(child)
    out.mkdir(parents=True, exist_ok=True)
    sf2 = soundfont()
    print(f"Building the demo library: {songs} songs into {out}", file=sys.stderr)
    specs = plan(songs, seed)
    workers = workers or min(2, os.cpu_count() or 1)
    rows: list[dict] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_write_song, s, out, sf2) for s in specs]
        for fut in tqdm(futures, desc="rendering", unit="song", file=sys.stderr):
            rows.append(fut.result())
    _write_readme(out, rows, seed)
    rows.sort(key=lambda r: r["path"])
    stamp.write_text(json.dumps({"build": want, "songs": len(rows), "tags": rows}, ensure_ascii=False, indent=1))
    return {"out": str(out), "songs": len(rows), "built": True}


def melody_of(song: str | os.PathLike) -> list[tuple[float, float, int]]:
    """The ground-truth melody stored beside a demo song: ``[(onset_s, offset_s, midi), ...]``."""
    p = Path(song)
    data = json.loads(p.with_name(p.stem + ".melody.json").read_text())
    return [tuple(n) for n in data["notes"]]


def demo_songs(out: str | os.PathLike | None = None) -> Iterable[Path]:
    from .config import demo_dir

    return sorted(Path(out or demo_dir()).rglob("*.mp3"))


def ensure_library(out: str | os.PathLike | None = None, songs: int | None = None) -> Path:
    """The music folder the notebooks use: ``MUSIC_DIR`` or ``dataset/demo``, built when empty.

    Notebook: 01_audio_features.ipynb (every notebook starts here).
    """
    from .config import demo_dir

    folder = Path(out) if out else demo_dir()
    if not folder.exists() or not any(folder.rglob("*.mp3")):
        build_demo(folder, songs=songs or int(os.environ.get("DEMO_SONGS", 60)))
    return folder


def song_table(folder: str | os.PathLike) -> list[dict]:
    """One row per song of a folder: path and tags. Notebook: 01_audio_features.ipynb."""
    from .audio import audio_files
    from .metadata import read_tags

    rows = []
    for p in audio_files(folder):
        t = read_tags(p, root=folder)
        rows.append({"path": str(p), "title": t.title, "artist": t.artist, "album": t.album, "genre": t.genre,
                     "duration_s": t.duration_s})  # fmt: skip
    return rows


def pick(rows: list[dict], genre: str | None = None, title: str | None = None) -> dict:
    """The first song of a genre (or whose title contains ``title``). Notebook: 01_audio_features.ipynb."""
    for r in rows:
        if (genre is None or r["genre"] == genre) and (title is None or title.lower() in r["title"].lower()):
            return r
    raise LookupError(
        f"no song with genre={genre!r} title={title!r}; genres here: {sorted({r['genre'] for r in rows})}"
    )
