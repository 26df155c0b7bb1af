"""The humming recorder: record from the browser microphone (or upload a file), then search.

Built with anywidget, so it runs in JupyterLab 4 and Notebook 7 without a build step. The browser
captures raw PCM through the Web Audio API, downsamples it to 16 kHz and hands it to Python as a
base64 WAV; Python shows the waveform and detected pitch, a player, and the results with players.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import anywidget
import numpy as np
import traitlets

_ESM = r"""
function wavBase64(samples, rate) {
  const buf = new ArrayBuffer(44 + samples.length * 2), v = new DataView(buf);
  const w = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  w(0, "RIFF"); v.setUint32(4, 36 + samples.length * 2, true); w(8, "WAVE"); w(12, "fmt ");
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true);
  v.setUint16(34, 16, true); w(36, "data"); v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    v.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  let bin = ""; const bytes = new Uint8Array(buf);
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
function downsample(chunks, from, to) {
  const n = chunks.reduce((a, c) => a + c.length, 0), all = new Float32Array(n);
  let o = 0; for (const c of chunks) { all.set(c, o); o += c.length; }
  const ratio = from / to, out = new Float32Array(Math.floor(n / ratio));
  for (let i = 0; i < out.length; i++) {
    const a = Math.floor(i * ratio), b = Math.min(n, Math.floor((i + 1) * ratio));
    let s = 0; for (let j = a; j < b; j++) s += all[j]; out[i] = s / Math.max(1, b - a);
  }
  return out;
}
function render({ model, el }) {
  el.classList.add("hum-recorder");
  const button = document.createElement("button");
  const status = document.createElement("span");
  const canvas = document.createElement("canvas");
  canvas.width = 480; canvas.height = 60;
  button.textContent = "● Record";
  button.className = "hum-record";
  status.className = "hum-status";
  el.append(button, status, canvas);
  let ctx = null, stream = null, node = null, chunks = [], timer = null;
  const draw = (data) => {
    const g = canvas.getContext("2d"); g.clearRect(0, 0, canvas.width, canvas.height);
    g.beginPath(); const step = Math.max(1, Math.floor(data.length / canvas.width));
    for (let x = 0; x < canvas.width; x++) {
      let m = 0; for (let j = x * step; j < (x + 1) * step && j < data.length; j++) m = Math.max(m, Math.abs(data[j]));
      g.moveTo(x, 30 - m * 30); g.lineTo(x, 30 + m * 30);
    }
    g.strokeStyle = "#c0392b"; g.stroke();
  };
  const stop = () => {
    if (!ctx) return;
    clearTimeout(timer);
    node.disconnect(); stream.getTracks().forEach((t) => t.stop());
    const rate = ctx.sampleRate; ctx.close(); ctx = null;
    const pcm = downsample(chunks, rate, 16000);
    draw(pcm);
    button.textContent = "● Record";
    status.textContent = ` ${(pcm.length / 16000).toFixed(1)} s recorded, searching…`;
    model.set("wav_b64", wavBase64(pcm, 16000));
    model.set("recordings", model.get("recordings") + 1);
    model.save_changes();
  };
  button.addEventListener("click", async () => {
    if (ctx) { stop(); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false } });
    } catch (e) {
      status.textContent = " microphone unavailable (" + e.name + "): use the upload button instead";
      return;
    }
    ctx = new AudioContext(); chunks = [];
    const src = ctx.createMediaStreamSource(stream);
    node = ctx.createScriptProcessor(4096, 1, 1);
    node.onaudioprocess = (ev) => { const d = new Float32Array(ev.inputBuffer.getChannelData(0)); chunks.push(d); draw(d); };
    src.connect(node); node.connect(ctx.destination);
    button.textContent = "■ Stop";
    status.textContent = " recording… hum 5–15 s of the tune";
    timer = setTimeout(stop, model.get("max_seconds") * 1000);
  });
  model.on("change:status", () => { status.textContent = " " + model.get("status"); });
}
export default { render };
"""

_CSS = """
.hum-recorder { display: flex; align-items: center; gap: 8px; font-family: sans-serif; }
.hum-recorder button { font-size: 14px; padding: 4px 12px; cursor: pointer; }
.hum-recorder canvas { border: 1px solid #ddd; border-radius: 4px; }
"""


class HumRecorder(anywidget.AnyWidget):
    """A record button: microphone → 16 kHz WAV (base64) in ``wav_b64``. Notebook: 06_search_by_humming.ipynb."""

    _esm = _ESM
    _css = _CSS
    wav_b64 = traitlets.Unicode("").tag(sync=True)
    recordings = traitlets.Int(0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    max_seconds = traitlets.Float(15.0).tag(sync=True)

    def audio(self) -> tuple[np.ndarray, int]:
        """The last recording as (waveform, sample rate)."""
        import soundfile as sf

        y, sr = sf.read(io.BytesIO(base64.b64decode(self.wav_b64)), dtype="float32")
        return y, sr


def hum_search_ui(es: Any, index: str, k: int = 5) -> Any:
    """Recorder + upload fallback + results, wired to :func:`helpers.humming.search_hum`.

    Notebook: 06_search_by_humming.ipynb.
    """
    import ipywidgets as W
    import matplotlib.pyplot as plt
    from IPython.display import display

    from . import humming, plots

    recorder = HumRecorder()
    upload = W.FileUpload(accept="audio/*,.wav,.mp3,.ogg,.flac,.m4a,.webm", multiple=False,
                          description="or upload a hum")  # fmt: skip
    out = W.Output()

    def run(y: np.ndarray, sr: int) -> None:
        out.clear_output()
        with out:
            try:
                hits, steps = humming.search_hum(es, index, y, sr, k=k)
            except humming.NoMelody as exc:
                recorder.status = str(exc)
                print(exc)
                return
            recorder.status = f"best match: {hits[0].title}" if hits else "no match"
            _fig, axes = plt.subplots(2, 1, figsize=(9, 4), constrained_layout=True)
            t = np.arange(len(y)) / sr
            axes[0].plot(t, y, lw=0.5)
            axes[0].set(title="your recording", xlabel="s")
            axes[1].plot(np.arange(len(steps["hum"])) / humming.FPS, steps["hum"], ".", ms=3)
            axes[1].set(title="detected pitch (MIDI)", xlabel="s")
            plt.show()
            display(plots.player(y, sr))
            display(plots.results_table([h.as_dict() for h in hits], ["title", "artist", "score", "offset_s"]))

    def on_record(change: dict) -> None:
        y, sr = recorder.audio()
        run(y, sr)

    def on_upload(change: dict) -> None:
        import tempfile
        from pathlib import Path

        from .audio import load

        files = upload.value
        if not files:
            return
        item = files[0]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / item["name"]
            path.write_bytes(bytes(item["content"]))
            y = load(path, sr=humming.HUM_SR)
        run(y, humming.HUM_SR)

    recorder.observe(on_record, names="recordings")
    upload.observe(on_upload, names="value")
    return W.VBox([recorder, upload, out])
