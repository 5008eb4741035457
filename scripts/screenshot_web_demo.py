"""Take the README's web-demo screenshot: the bundled model served locally, one sample scene, its largest person
clicked once in headless Chromium (or ``--point``), segmentation run (1 step), the page captured.

    python scripts/screenshot_web_demo.py [--out docs/images/web_demo.png]

Needs Chromium (``apt-get install chromium``) and the ``playwright`` package (never ``playwright install``).
The click is ``make demo``'s: the pixel of the person farthest from its edge, from the scene's ground truth.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from demo import choose_prompt, read_scenes  # scripts/demo.py, beside this file  # noqa: E402
from diception import DiceptionPipeline  # noqa: E402
from diception.bundled import bundled_model_path  # noqa: E402
from diception.data.synthetic import render_scene  # noqa: E402
from diception.demo.headless import CHROMIUM_FLAGS, find_chromium, serving  # noqa: E402

IMAGES = Path(__file__).resolve().parents[1] / "examples" / "images"


def shown_pixel(picture, fx: float, fy: float) -> tuple[float, float]:
    """Page coordinates of the point at fractions ``fx, fy`` of ``picture``, an ``<img>`` drawn letterboxed
    (object-fit: contain or scale-down) inside its box."""
    box = picture.bounding_box()
    width, height, fit = picture.evaluate(
        "img => [img.naturalWidth, img.naturalHeight, getComputedStyle(img).objectFit]"
    )
    scale = min(box["width"] / width, box["height"] / height)
    if fit in ("scale-down", "none"):  # never drawn larger than its own size
        scale = min(scale, 1.0)
    left = box["x"] + (box["width"] - width * scale) / 2
    top = box["y"] + (box["height"] - height * scale) / 2
    return left + fx * width * scale, top + fy * height * scale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picture", default="synthetic_1.png", help="a sample picture of examples/images")
    parser.add_argument("--out", type=Path, default=Path("docs/images/web_demo.png"))
    parser.add_argument("--point", help="fx,fy: click here (fractions of the picture) instead of make demo's point")
    parser.add_argument("--width", type=int, default=960, help="browser viewport width in pixels")
    parser.add_argument("--height", type=int, default=800, help="the screenshot's height (from the top)")
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        print("error: Chromium is not installed; apt-get install chromium")
        return 2
    from playwright.sync_api import sync_playwright

    seed, size = read_scenes(IMAGES)[args.picture]
    point = choose_prompt(render_scene(seed, size)).point
    if args.point:
        point = type(point)(*(float(v) for v in args.point.split(",")))
    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    with serving(pipe, bundled_model_path()) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": args.width, "height": 1400})
        page.goto(url, wait_until="load")
        page.wait_for_selector("#input-image", timeout=60_000)
        page.set_input_files("#input-image input[type=file]", str(IMAGES / args.picture))
        page.wait_for_selector("#input-image img", timeout=30_000)
        page.click("#task input")
        page.fill("#task input", "segmentation")
        page.keyboard.press("Enter")
        page.wait_for_selector("#points textarea", state="visible", timeout=30_000)
        picture = page.wait_for_selector("#input-image img")  # drawn again once the points box shows
        x, y = shown_pixel(picture, point.x, point.y)
        page.mouse.click(x, y)
        page.wait_for_function("() => document.querySelector('#points textarea').value !== ''", timeout=30_000)
        page.click("#run")
        page.wait_for_function("() => document.querySelector('#caption').innerText.includes('mask:')",
                               timeout=120_000)  # fmt: skip
        page.wait_for_selector("#downloads a[download='prediction_segmentation_mask.png']", timeout=30_000)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(1500)  # let the pictures finish fading in
        clip = {"x": 0, "y": 0, "width": args.width, "height": args.height}
        page.screenshot(path=str(args.out), clip=clip)  # the picture, the prediction, the model's picture
        browser.close()
    print(f"wrote {args.out} (clicked {point.x:.3f}, {point.y:.3f} of {args.picture})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
