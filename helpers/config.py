"""Paths and settings shared by every stage: where the cache, the dataset and `.env` live.

Settings come only from the environment or `.env` (python-dotenv). Secrets are wrapped in
:class:`Secret`, whose ``repr`` and ``str`` never show the value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

REPO_ROOT = Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    """Root of everything generated: the Elasticsearch distribution, node data, embeddings."""
    return Path(os.environ.get("MUSIC_SEARCH_CACHE", REPO_ROOT / ".cache")).resolve()


def dataset_dir() -> Path:
    """Where users put their music (git-ignored)."""
    return Path(os.environ.get("MUSIC_SEARCH_DATASET", REPO_ROOT / "dataset")).resolve()


def demo_dir() -> Path:
    """The demo library the notebooks use unless ``MUSIC_DIR`` says otherwise."""
    return Path(os.environ.get("MUSIC_DIR", dataset_dir() / "demo")).resolve()


def load_env() -> None:
    """Read ``.env`` from the repository root (or the working directory); the environment wins."""
    for candidate in (Path.cwd() / ".env", REPO_ROOT / ".env"):
        if candidate.is_file():
            load_dotenv(candidate, override=False)
            return


class Secret:
    """A string that refuses to be printed: ``repr`` and ``str`` show ``'***'``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def _secret(name: str) -> Secret | None:
    value = os.environ.get(name, "").strip()
    return Secret(value) if value else None


@dataclass(frozen=True)
class Settings:
    """Connection settings, read from the environment and `.env`."""

    cloud_id: Secret | None = None
    url: str | None = None
    api_key: Secret | None = None
    username: str | None = None
    password: Secret | None = None
    local_port: int = 9200
    index: str = "music"
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        load_env()
        return cls(
            cloud_id=_secret("ES_CLOUD_ID"),
            url=os.environ.get("ES_URL", "").strip() or None,
            api_key=_secret("ES_API_KEY"),
            username=os.environ.get("ES_USERNAME", "").strip() or None,
            password=_secret("ES_PASSWORD"),
            local_port=int(os.environ.get("ES_PORT", "9200")),
            index=os.environ.get("ES_INDEX", "music"),
        )

    @property
    def secrets(self) -> list[str]:
        """The raw secret values, for scrubbing text before it is shown."""
        return [s.reveal() for s in (self.cloud_id, self.api_key, self.password) if s]


def scrub(text: str, secrets: list[str] | None = None) -> str:
    """Replace every known secret value in ``text`` with ``***``."""
    if secrets is None:
        secrets = Settings.from_env().secrets
    for value in secrets:
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text
