"""The web demo in a real browser: headless Chromium (the system's, through Playwright) uploads a picture,
clicks twice to segment, runs, finds the mask overlay and a downloadable file, then runs depth.

Skipped without Chromium (install: ``apt-get install chromium``) unless ``DICEPTION_REQUIRE_BROWSER=1``, which
CI sets so that a missing browser fails instead.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from diception.demo.headless import CHROMIUM_FLAGS, find_chromium

CHROMIUM = find_chromium()
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "images" / "synthetic_1.png"


def _browser_or_skip() -> str:
    missing = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright package (pip install playwright; never `playwright install`)"
    if CHROMIUM is None:
        missing = "Chromium (apt-get install chromium)"
    if missing:
        if os.environ.get("DICEPTION_REQUIRE_BROWSER") == "1":
            pytest.fail(f"DICEPTION_REQUIRE_BROWSER=1 but {missing} is not installed")
        pytest.skip(f"the browser test needs {missing}")
    return CHROMIUM


def test_click_to_segment_then_depth_in_a_real_browser(served, tmp_path):
    chromium = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(served, wait_until="load")  # gradio holds a connection open: never "networkidle"
        page.wait_for_selector("#input-image", timeout=60_000)
        assert "bundled toy model" in page.inner_text("#model-line")

        page.set_input_files("#input-image input[type=file]", str(SAMPLE))
        picture = page.wait_for_selector("#input-image img", timeout=30_000)
        page.click("#task input")
        page.fill("#task input", "segmentation")
        page.keyboard.press("Enter")
        page.wait_for_selector("#points textarea", state="visible", timeout=30_000)

        box = picture.bounding_box()
        started = time.perf_counter()
        for fx, fy in ((0.45, 0.6), (0.5, 0.65)):
            before = page.input_value("#points textarea")
            page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            page.wait_for_function("([sel, old]) => document.querySelector(sel).value !== old",
                                   arg=["#points textarea", before], timeout=30_000)  # fmt: skip
            picture = page.wait_for_selector("#input-image img")
            box = picture.bounding_box()
        assert page.input_value("#points textarea").count(",") == 2  # two pixel points

        started = time.perf_counter()
        page.click("#run")
        page.wait_for_function("() => document.querySelector('#caption').innerText.includes('mask:')",
                               timeout=120_000)  # fmt: skip
        segmentation_s = time.perf_counter() - started
        assert page.query_selector("#prediction img") is not None
        link = page.wait_for_selector("#downloads a[download='prediction_segmentation_mask.png']", timeout=30_000)
        mask_png = page.request.get(link.get_attribute("href")).body()
        assert mask_png.startswith(b"\x89PNG")  # the file predict writes, served for download
        page.screenshot(path=str(tmp_path / "segmentation.png"), full_page=True)

        page.click("#task input")
        page.fill("#task input", "depth")
        page.keyboard.press("Enter")
        page.click("#run")
        page.wait_for_function("() => document.querySelector('#caption').innerText.includes('relative depth')",
                               timeout=120_000)  # fmt: skip
        page.wait_for_selector("#downloads a[download='prediction_depth.npy']", timeout=30_000)
        shown = page.query_selector("#prediction img").get_attribute("src")
        colours = np.asarray(Image.open(io.BytesIO(page.request.get(shown).body())).convert("RGB"), np.float32)
        assert colours.std(axis=-1).mean() > 10  # a colour map, not the grey picture the model draws
        page.screenshot(path=str(tmp_path / "depth.png"), full_page=True)
        browser.close()
    print(f"segmentation: click to result {segmentation_s:.2f} s; screenshots in {tmp_path}")
