"""Tags: title, artist, album, genre, year, track number and duration, read with mutagen.

Works for ID3 (MP3), Vorbis comments (FLAC, OGG, Opus) and MP4 atoms (M4A). Broken or oddly
encoded tags never raise: what cannot be read falls back to the file and folder names.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mutagen

MAX_TAG_CHARS = 300  # Elasticsearch keyword terms must stay well under 32 kB


@dataclass
class Tags:
    title: str
    artist: str
    album: str
    genre: str
    year: int | None = None
    track: int | None = None
    duration_s: float | None = None
    from_tags: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["from_tags"] = list(self.from_tags)
        return d


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = next((v for v in value if str(v).strip()), None)
        if value is None:
            return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).replace("\x00", " ").strip()
    text = re.sub(r"\s+", " ", text)
    return text[:MAX_TAG_CHARS] or None


def _first_int(value: str | None) -> int | None:
    m = re.match(r"\s*(\d{1,4})", value or "")
    return int(m.group(1)) if m else None


def _from_path(path: Path, root: Path | None) -> dict[str, str]:
    """Artist/album/genre from the folders (``Genre/Artist/Album/file`` at most), title from the name."""
    stem = re.sub(r"^\d{1,3}\s*[-_. ]\s*", "", path.stem).replace("_", " ").strip() or path.stem
    guess = {"title": stem}
    if " - " in stem:
        artist, title = stem.split(" - ", 1)
        guess.update(artist=artist.strip(), title=title.strip())
    try:
        folders = path.parent.relative_to(root).parts if root else (path.parent.name,)
    except ValueError:
        folders = (path.parent.name,)
    folders = tuple(f for f in folders if f)
    if folders:
        guess.setdefault("album", folders[-1])
    if len(folders) >= 2:
        guess.setdefault("artist", folders[-2])
    if len(folders) >= 3:
        guess.setdefault("genre", folders[-3])
    return guess


def read_tags(path: str | os.PathLike, root: str | os.PathLike | None = None) -> Tags:
    """Read a file's tags; fall back to its name and folders (relative to ``root``) for gaps.

    Notebook: 04_ingestion.ipynb (and ``python -m helpers tags FILE``).
    """
    p = Path(path)
    raw: dict[str, Any] = {}
    duration = None
    try:
        f = mutagen.File(p, easy=True)
        if f is not None:
            duration = float(getattr(f.info, "length", 0) or 0) or None
            for key in ("title", "artist", "album", "genre", "date", "tracknumber", "albumartist"):
                try:
                    raw[key] = _clean(f.get(key))
                except Exception:
                    raw[key] = None
    except Exception:
        raw = {}
    guess = _from_path(p, Path(root) if root else None)
    found = tuple(k for k in ("title", "artist", "album", "genre") if raw.get(k))
    return Tags(
        title=raw.get("title") or guess["title"],
        artist=raw.get("artist") or raw.get("albumartist") or guess.get("artist") or "Unknown artist",
        album=raw.get("album") or guess.get("album") or "Unknown album",
        genre=raw.get("genre") or guess.get("genre") or "Unknown",
        year=_first_int(raw.get("date")),
        track=_first_int(raw.get("tracknumber")),
        duration_s=round(duration, 3) if duration else None,
        from_tags=found,
    )


def write_tags(path: str | os.PathLike, **tags: Any) -> None:
    """Write tags (title, artist, album, genre, date, tracknumber) in the file's native format."""
    f = mutagen.File(Path(path), easy=True)
    if f is None:
        raise ValueError(f"{path}: mutagen does not recognise this file type")
    if f.tags is None:
        f.add_tags()
    for key, value in tags.items():
        if value is not None:
            f[key] = str(value)
    f.save()
