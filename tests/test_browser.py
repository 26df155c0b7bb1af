"""Search by humming end to end in a real browser: JupyterLab, headless Chromium, a fake microphone.

Chromium plays a generated hum WAV as its microphone (``--use-file-for-fake-audio-capture``); the test
clicks the widget's record button, stops after the hum, and reads the best match the widget shows.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import numpy as np
import pytest
import soundfile as sf
import soxr

from helpers.embeddings import content_hash
from helpers.humming import make_query, search_hum
from helpers.ingest import ingest_folder

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
INDEX = "browser-hum"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def jupyter_lab(es_node, tmp_path):
    """A JupyterLab server on loopback whose kernels talk to the test node."""
    port, token = free_port(), secrets.token_hex(16)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        f"from helpers.es import connect\nfrom helpers.widgets import hum_search_ui\n"
        f"hum_search_ui(connect(quiet=True), {INDEX!r})")]  # fmt: skip
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "hum.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ES_")}
    env.update(ES_URL=es_node.url, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))  # fmt: skip
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]  # fmt: skip
    log = open(tmp_path / "jupyter.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            assert proc.poll() is None, (tmp_path / "jupyter.log").read_text()[-3000:]
            time.sleep(0.5)
    yield f"{url}/lab/tree/hum.ipynb?token={token}"
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.mark.slow
def test_humming_into_the_browser_microphone_finds_the_song(es, small_library, jupyter_lab, tmp_path):
    from playwright.sync_api import sync_playwright

    ingest_folder(es, small_library, index=INDEX, embedder="features", progress=False)
    song = sorted(small_library.rglob("*.mp3"))[3]
    query = make_query(song, np.random.default_rng(11))
    expected = es.get(index=INDEX, id=content_hash(song))["_source"]["title"]
    hits, _ = search_hum(es, INDEX, query.y, query.sr)
    assert hits[0].title == expected, "the hum itself should find its song (before any browser is involved)"

    wav = tmp_path / "hum.wav"  # the fake microphone: 48 kHz 16-bit PCM, a second of silence on each side
    pad = np.zeros(48000, np.float32)
    sf.write(wav, np.concatenate([pad, soxr.resample(query.y, query.sr, 48000), pad]), 48000, subtype="PCM_16")
    record_s = len(query.y) / query.sr + 1.5

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}", "--autoplay-policy=no-user-gesture-required",
            "--disable-gpu", "--disable-background-networking", "--no-first-run"])  # fmt: skip
        try:
            page = browser.new_context(permissions=["microphone"]).new_page()
            page.goto(jupyter_lab)
            page.locator(".jp-Notebook").wait_for(timeout=90_000)
            page.wait_for_timeout(2000)
            dialog = page.locator(".jp-Dialog .jp-mod-accept")  # e.g. a kernel choice: take the default
            if dialog.count():
                dialog.first.click()
            page.locator(".jp-Notebook .jp-Cell .cm-content").first.click(timeout=90_000)
            page.keyboard.press("Shift+Enter")
            button = page.locator("button.hum-record")
            button.wait_for(timeout=180_000)
            button.click()
            page.wait_for_function(
                "document.querySelector('button.hum-record').textContent.includes('Stop')", timeout=10_000
            )
            page.wait_for_timeout(record_s * 1000)
            button.click()
            status = page.locator(".hum-status")
            page.wait_for_function(
                "/best match|no match|voiced/.test(document.querySelector('.hum-status').textContent)",
                timeout=120_000)  # fmt: skip
            shown = status.text_content().strip()
            first_row = page.locator(".jp-OutputArea table tbody tr").first.text_content()
        finally:
            browser.close()
    assert shown == f"best match: {expected}", shown
    assert expected in first_row
