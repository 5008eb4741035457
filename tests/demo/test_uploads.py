"""What the served page takes from a caller and what it serves back: uploads over the size or pixel limit, a
decompression bomb, a corrupt file, server-side paths, URLs and inline data are refused with one message before
anything is decoded; the downloads are the files the demo wrote, and nothing else on the machine is served."""

from __future__ import annotations

import base64
import json
import resource
import struct
import tempfile
import time
import zlib
from pathlib import Path

import httpx
import numpy as np
import pytest

from diception.data.image_files import max_pixels

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "images" / "synthetic_2.png"
ARGS = ["depth", None, "", 1, 1.0, 42, 64]  # task, category, points, steps, guidance, seed, resolution
NOT_UPLOADED = "the demo takes a picture uploaded to it"


def png(width: int, height: int, rows: bytes | None = None) -> bytes:
    """A 1-bit greyscale PNG of ``width x height``, all black; ``rows`` replaces the compressed pixel data. A
    30000 x 30000 one is ~110 kB and decodes to 900 M pixels (3.6 GB as RGB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    if rows is None:
        packer, row = zlib.compressobj(9), bytes(1 + (width + 7) // 8)  # filter byte 0, then the bits
        rows = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def upload(served: str, name: str, data: bytes) -> dict:
    """``data`` uploaded as the page does; the payload that names it in a call."""
    response = httpx.post(served + "gradio_api/upload", files={"files": (name, data, "image/png")}, timeout=60)
    response.raise_for_status()
    return {"path": response.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def call_predict(served: str, image) -> tuple[str, object]:
    """``/predict`` over plain HTTP with ``image`` sent as given: the final event (``complete`` or ``error``) and
    its data."""
    event_id = httpx.post(served + "gradio_api/call/predict", json={"data": [image, *ARGS]}, timeout=60)
    stream = httpx.get(served + f"gradio_api/call/predict/{event_id.json()['event_id']}", timeout=120).text
    events = [line.removeprefix("event:").strip() for line in stream.splitlines() if line.startswith("event:")]
    data = [line.removeprefix("data:").strip() for line in stream.splitlines() if line.startswith("data:")]
    return events[-1], json.loads(data[-1])


def test_an_upload_over_the_size_limit_never_reaches_predict(served, tmp_path):
    """gradio_client reads the limit from the page and does not send the file; a client that sends it anyway gets
    413 from the server (``test_uploads_over_the_size_limit_are_refused``), and no other way in is left
    (``test_no_path_url_or_inline_data_is_taken_from_a_caller``)."""
    from gradio_client import Client, handle_file

    big = tmp_path / "big.png"
    big.write_bytes(png(64, 64) + bytes(21 * 1024 * 1024))  # a picture with 21 MB of trailing bytes
    with pytest.raises(ValueError, match="exceeds the maximum file size of 20971520 bytes"):
        Client(served, verbose=False).predict(handle_file(str(big)), *ARGS, api_name="/predict")


def test_the_pixel_limit_is_the_one_of_predict(served, monkeypatch):
    image = upload(served, "sample.png", SAMPLE.read_bytes())  # 128 x 128
    monkeypatch.setenv("DICEPTION_MAX_PIXELS", "16000")  # read by the server (this process) on every call
    assert max_pixels() == 16000
    assert call_predict(served, image) == ("error", {
        "error": "the picture is 128 x 128 = 0.0164 MP; the demo takes at most 0.016 MP, so downscale it first",
        "duration": 10, "visible": True, "title": "Error"})  # fmt: skip
    monkeypatch.setenv("DICEPTION_MAX_PIXELS", "16384")
    assert call_predict(served, image)[0] == "complete"


def test_a_decompression_bomb_is_refused_from_its_header_without_the_memory(served):
    bomb = png(30_000, 30_000)
    assert len(bomb) < 150_000
    image = upload(served, "bomb.png", bomb)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB; the server runs in this process
    started = time.perf_counter()
    event, data = call_predict(served, image)
    elapsed = time.perf_counter() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
    limit = f"{max_pixels() / 1e6:.3g} MP"  # 100 MP unless DICEPTION_MAX_PIXELS says otherwise
    refusal = f"the picture is 30000 x 30000 = 900 MP; the demo takes at most {limit}, so downscale it first"
    assert (event, data["error"]) == ("error", refusal)
    assert grown_mb < 300, f"the peak memory grew by {grown_mb:.0f} MB: the bomb was decoded"  # decoded: +10 GB
    assert elapsed < 20, f"refusing took {elapsed:.1f} s"  # decoding it took ~100 s on 2 cores


@pytest.mark.parametrize("data", [b"GIF89a but not a picture", png(64, 64, rows=zlib.compress(bytes(20)))],
                         ids=["not-a-picture", "truncated-png"])  # fmt: skip
def test_a_corrupt_upload_is_one_clear_message(served, data):
    event, answer = call_predict(served, upload(served, "broken.png", data))
    assert event == "error" and answer["error"].startswith("the upload cannot be read as a picture (")


SERVER_FILES = {  # gradio refuses these itself, naming no reason to the caller
    "etc-passwd": {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}},  # what handle_file sends unread
    "repo-picture": {"path": str(SAMPLE), "meta": {"_type": "gradio.FileData"}},
    "relative": {"path": "examples/images/synthetic_2.png", "meta": {"_type": "gradio.FileData"}},
    "traversal": {"path": tempfile.gettempdir() + "/gradio/../../etc/passwd", "meta": {"_type": "gradio.FileData"}},
}
DEMO_REFUSES = {  # gradio takes these (an unmarked path it decodes unchecked, a URL it fetches, inline data)
    "unmarked-repo-picture": {"path": str(SAMPLE)},
    "unmarked-etc-passwd": {"path": "/etc/passwd"},
    "url-to-this-machine": {"path": "http://127.0.0.1:9/picture.png", "meta": {"_type": "gradio.FileData"}},
    "url-field": {"path": None, "url": "https://example.com/picture.png", "meta": {"_type": "gradio.FileData"}},
    "inline-data": {"path": None, "url": "data:image/png;base64," + base64.b64encode(png(8, 8)).decode()},
}


@pytest.mark.parametrize("image", [*SERVER_FILES.values(), *DEMO_REFUSES.values()],
                         ids=[*SERVER_FILES, *DEMO_REFUSES])  # fmt: skip
def test_no_path_url_or_inline_data_is_taken_from_a_caller(served, image):
    event, data = call_predict(served, image)
    assert event == "error" and "root:" not in json.dumps(data)
    if image in DEMO_REFUSES.values():
        assert data["error"].startswith(NOT_UPLOADED)


def test_a_sample_picture_of_the_page_is_taken(served):
    config = httpx.get(served + "config", timeout=30).json()
    (examples,) = [c for c in config["components"] if c["type"] == "dataset"]
    assert call_predict(served, examples["props"]["samples"][0][0])[0] == "complete"  # what a click on it sends


def test_the_downloads_are_the_files_the_demo_wrote_and_nothing_else_is_served(served):
    from gradio.utils import get_upload_folder, is_in_or_equal

    event, outputs = call_predict(served, upload(served, "sample.png", SAMPLE.read_bytes()))
    assert event == "complete"
    files = outputs[4]
    assert sorted(Path(f["path"]).name for f in files) == ["prediction_depth.npy", "prediction_depth_16bit.png",
                                                           "prediction_depth_color.png"]  # fmt: skip
    for f in files:  # gradio's copies of them, under its upload folder
        assert is_in_or_equal(f["path"], get_upload_folder())
        assert httpx.get(f["url"], timeout=30).status_code == 200
    with tempfile.NamedTemporaryFile(suffix=".png", dir=tempfile.gettempdir()) as stranger:
        for path in ["/etc/passwd", str(REPO / "pyproject.toml"), str(SAMPLE), "pyproject.toml", stranger.name]:
            assert httpx.get(served + f"gradio_api/file={path}", timeout=30).status_code == 403, path


def test_each_run_replaces_the_pages_previous_downloads():
    from diception.bundled import bundled_model_path
    from diception.demo import DemoModel
    from diception.demo.app import build_demo
    from diception.pipelines import DiceptionPipeline

    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    pipe.set_progress_bar_config(disable=True)
    demo = build_demo(DemoModel(pipe, "the bundled model"), samples=[])
    (predict,) = [f.fn for f in demo.fns.values() if f.api_name == "predict"]
    picture = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    first = [Path(p) for p in predict(picture, "depth", None, "", 1, 1.0, 0, 32)[4]]
    second = [Path(p) for p in predict(picture, "normal", None, "", 1, 1.0, 0, 32)[4]]
    assert not any(p.exists() for p in first) and all(p.is_file() for p in second)
    assert first[0].parents[1] == second[0].parents[1]  # the page's own folder
    assert first[0].parents[1].name.startswith("diception-demo-")
