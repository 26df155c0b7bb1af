"""Every numbered notebook executes top to bottom, on the small library and the test node."""

from __future__ import annotations

import pytest

from helpers.notebooks import notebook_paths, run_notebook
from tests.test_es import FAKE_KEY


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_executes(path, small_library, es_node, monkeypatch, tmp_path):
    monkeypatch.setenv("MUSIC_DIR", str(small_library))
    monkeypatch.setenv("ES_PORT", str(es_node.http_port))
    monkeypatch.setenv("ES_INDEX", "nbtest")  # 03 creates it, 04 fills it, 05 and 06 search it
    monkeypatch.delenv("ES_CLOUD_ID", raising=False)
    # a recognisable fake key: the node (security off, loopback only) ignores it; no output may show it
    monkeypatch.setenv("ES_URL", es_node.url)
    monkeypatch.setenv("ES_API_KEY", FAKE_KEY)
    run = run_notebook(path, tmp_path)
    assert run.ok, run.error
    assert (tmp_path / path.name).exists() and run.html and run.html.stat().st_size > 10_000
    for out in (tmp_path / path.name, run.html):
        text = out.read_text(errors="replace")
        assert FAKE_KEY not in text and FAKE_KEY[:20] not in text, f"{out.name} shows the API key"


def test_notebooks_are_committed_without_outputs():
    import nbformat

    for path in notebook_paths():
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} carries outputs"


def test_env_file_is_git_ignored():
    import subprocess

    from helpers.config import REPO_ROOT

    if not (REPO_ROOT / ".git").exists():
        pytest.fail("the tests run from a git checkout")
    for name in (".env", "notebooks/.env", ".cache/x", ".venv/x"):
        proc = subprocess.run(["git", "check-ignore", "-q", name], cwd=REPO_ROOT)
        assert proc.returncode == 0, f"{name} is not git-ignored"
    assert subprocess.run(["git", "check-ignore", "-q", ".env.example"], cwd=REPO_ROOT).returncode == 1
