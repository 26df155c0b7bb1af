"""Every numbered notebook executes top to bottom, on the small library and the test node."""

from __future__ import annotations

import pytest

from helpers.notebooks import notebook_paths, run_notebook


@pytest.mark.slow
@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_executes(path, small_library, es_node, monkeypatch, tmp_path):
    monkeypatch.setenv("MUSIC_DIR", str(small_library))
    monkeypatch.setenv("ES_PORT", str(es_node.http_port))
    monkeypatch.setenv("ES_INDEX", "nbtest")  # 03 creates it, 04 fills it, 05 and 06 search it
    for var in ("ES_URL", "ES_CLOUD_ID", "ES_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    run = run_notebook(path, tmp_path)
    assert run.ok, run.error
    assert (tmp_path / path.name).exists() and run.html and run.html.stat().st_size > 10_000


def test_notebooks_are_committed_without_outputs():
    import nbformat

    for path in notebook_paths():
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} carries outputs"
