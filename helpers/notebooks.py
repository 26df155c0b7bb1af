"""Execute the notebook series headless and write the executed notebooks and their HTML.

Used by ``python -m helpers tutorial`` (README command 1) and by the tests.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .config import REPO_ROOT, scrub

NOTEBOOK_DIR = REPO_ROOT / "notebooks"


@dataclass
class NotebookRun:
    name: str
    ok: bool
    seconds: float
    error: str = ""
    html: Path | None = None


def notebook_paths(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks, in order."""
    return sorted(p for p in directory.glob("[0-9][0-9]_*.ipynb"))


def run_notebook(path: Path, out_dir: Path | None = None, timeout: int = 1800) -> NotebookRun:
    """Execute one notebook in its own folder; save it (and HTML) to ``out_dir`` if given."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    error = ""
    try:
        client.execute()
    except CellExecutionError as exc:
        error = scrub(str(exc))[-3000:]
    seconds = time.perf_counter() - start
    html = None
    if out_dir is not None:
        from nbconvert import HTMLExporter

        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out_dir / path.name)
        body, _ = HTMLExporter().from_notebook_node(nb)
        html = out_dir / f"{path.stem}.html"
        html.write_text(scrub(body), encoding="utf-8")
    return NotebookRun(path.stem, not error, seconds, error, html)


def run_all(out_dir: Path, names: list[str] | None = None) -> list[NotebookRun]:
    """Execute every numbered notebook (or those named) in order; stop at nothing."""
    runs = []
    for path in notebook_paths():
        if names and path.stem not in names:
            continue
        print(f"▶ executing {path.name} ...", file=sys.stderr, flush=True)
        run = run_notebook(path, out_dir)
        status = "ok" if run.ok else "FAILED"
        print(f"  {status} in {run.seconds:.1f} s", file=sys.stderr, flush=True)
        if not run.ok:
            print(run.error, file=sys.stderr)
        runs.append(run)
    return runs


def uses_remote_cluster() -> bool:
    """True when `.env`/the environment point at a cluster other than the local node."""
    from .config import Settings

    s = Settings.from_env()
    return bool((s.cloud_id and s.api_key) or s.url or os.environ.get("ES_URL"))
