"""The web demo: a Gradio page for the six tasks (and any registered one), click to segment.

:func:`build_demo` lays out the page around a loaded :class:`~.callbacks.DemoModel`; every event calls a plain
function of :mod:`.callbacks`. :func:`launch` serves it on 127.0.0.1 by default, one request at a time on the
model, with no share link, no analytics and nothing fetched from the internet. The prediction is also an HTTP
endpoint (``/predict``), so ``gradio_client`` can call it; the picture it takes must be uploaded to the page, and
is checked before it is decoded (:func:`only_uploaded_pictures`).
"""

import functools
import os
import shutil
import sys
import tempfile
import weakref
from pathlib import Path

import numpy as np
from PIL import Image

from .. import tasks
from ..errors import DiceptionInputError
from . import callbacks
from .callbacks import FAST, PRESETS, QUALITY, Clicks, DemoModel

SAMPLES = Path(__file__).resolve().parents[3] / "examples" / "images"
MAX_UPLOAD = "20mb"
HEIGHT = 400  # px on the page; pictures are scaled to fit


def _gradio():
    """gradio, imported with its analytics and hub lookups off (they would reach the internet)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gradio as gr
    except ImportError:
        raise DiceptionInputError("the web demo needs gradio: pip install 'diception[demo]'") from None
    return gr


def _visitor_error(message: str):
    """``message`` as the page's error (and one line in the server's log), not a traceback."""
    print(f"error: {message}", file=sys.stderr)
    return _gradio().Error(message, print_exception=False)


def only_uploaded_pictures(image):
    """``image`` (a ``gr.Image``) taking only a picture uploaded to the page, checked before gradio decodes it.

    Refused, each with one clear message: a server-side path (gradio decodes a path sent without its
    ``gradio.FileData`` marker unchecked), a URL for the server to fetch or inline base64 data (both escape the
    upload size limit; the demo fetches nothing), a picture over the pixel limit of ``diception predict`` (read
    from the file's header, so a decompression bomb never reaches memory) and a file that is not a picture.

    The checks sit on this instance (a ``gr.Image`` subclass would make gradio write a ``.pyi`` stub beside this
    file); gradio rebuilds a component from its class only for a property update, which the page never sends to
    its input picture.
    """
    from gradio.utils import is_in_or_equal
    from gradio_client.utils import is_http_url_like

    decode, move = image.preprocess, image.async_move_resource_to_block_cache
    not_uploaded = ("the demo takes a picture uploaded to it (the page's upload, or gradio_client.handle_file), "
                    "not a path on the server, a URL or inline data")  # fmt: skip

    def preprocess(payload):
        if payload is None:
            return None
        inline = bool(payload.url) and payload.url.startswith("data:")
        if inline or payload.path is None or not is_in_or_equal(payload.path, image.GRADIO_CACHE):
            raise _visitor_error(not_uploaded)
        try:
            with Image.open(payload.path) as header:  # reads the size; no pixel is decoded yet
                callbacks.check_size(*header.size)
            return decode(payload)
        except DiceptionInputError as err:
            raise _visitor_error(str(err)) from None
        except (OSError, ValueError, SyntaxError) as err:  # what PIL raises for a corrupt or truncated file
            raise _visitor_error(f"the upload cannot be read as a picture ({type(err).__name__}); it is corrupt or "
                                 "not an image: upload a PNG or JPEG") from None  # fmt: skip

    async def move_to_cache(url_or_file_path):
        if is_http_url_like(str(url_or_file_path)):  # gradio would download it before preprocess runs
            raise _visitor_error(not_uploaded)
        return await move(url_or_file_path)

    image.preprocess, image.async_move_resource_to_block_cache = preprocess, move_to_cache
    return image


def sample_pictures() -> list[Path]:
    """The pictures the page offers as examples (the repository's examples/images), if present."""
    if not SAMPLES.is_dir():
        return []
    return sorted(p for p in SAMPLES.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))


def build_demo(model: DemoModel, samples: list[Path] | None = None):
    """The page (a ``gradio.Blocks``) for ``model``."""
    gr = _gradio()
    samples = sample_pictures() if samples is None else samples
    names = tasks.task_names()
    categories = model.categories
    category_note = ("any category (text encoders loaded)" if model.can_encode
                     else f"{len(categories)} cached categories")  # fmt: skip

    downloads = Path(tempfile.mkdtemp(prefix="diception-demo-"))  # this page's downloads: the last run's only

    def failing_as_page_error(fn):
        """A user error becomes the page's error message, not a traceback."""

        @functools.wraps(fn)  # gradio reads the signature (event data, progress) through __wrapped__
        def wrapped(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except DiceptionInputError as err:
                raise _visitor_error(str(err)) from None

        return wrapped

    @failing_as_page_error
    def on_select(clicks: Clicks | None, shown: np.ndarray | None, evt: gr.SelectData):
        x, y = evt.index[:2]
        return callbacks.add_point(clicks, shown, x, y)

    @failing_as_page_error
    def on_undo(clicks, shown):
        return callbacks.undo_point(clicks, shown)

    @failing_as_page_error
    def on_clear(clicks, shown):
        return callbacks.clear_points(clicks, shown)

    def on_task(task: str):
        spec = tasks.get(task)
        return (gr.update(visible=spec.needs_category), gr.update(visible=spec.accepts_points),
                gr.update(visible=spec.prediction_kind in ("depth", "normal", "grey")))  # fmt: skip

    def on_preset(preset: str):
        steps, guidance = PRESETS[preset]
        return steps, guidance

    tracker = gr.Progress()

    @failing_as_page_error
    def predict(image, task, category, points, steps, guidance, seed, resolution, clicks=None, progress=tracker):
        state = callbacks.current(clicks, image) if image is not None else Clicks()
        picture = state.original if state.original is not None else image
        progress(0, desc="denoising")
        for previous in downloads.iterdir():  # one run at a time, and gradio has copied what it served
            shutil.rmtree(previous, ignore_errors=True)
        result = callbacks.run(model, picture, task, category or None, callbacks.parse_points_text(points), steps,
                               guidance, seed, resolution, out_dir=downloads,
                               step_callback=lambda k: progress(k / max(int(steps), 1), desc="denoising"))  # fmt: skip
        slider = result.view.slider
        return (result.view.picture, slider, result.picture, result.view.caption, [str(p) for p in result.files])

    # uploads and served files older than an hour are deleted every hour, and all of them at shutdown
    with gr.Blocks(title="DICEPTION", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("## DICEPTION: one diffusion model, six perception tasks")
        gr.Markdown(f"**Model:** {model.description}", elem_id="model-line")
        clicks = gr.State(None)
        with gr.Row():
            with gr.Column():
                image = gr.Image(label="input: upload or paste a picture; for segmentation click on the object",
                                 type="numpy", sources=["upload", "clipboard"], format="png", height=HEIGHT,
                                 elem_id="input-image")  # fmt: skip
                only_uploaded_pictures(image)
                if samples:
                    gr.Examples([[str(p)] for p in samples], inputs=[image], label="sample pictures")
                task = gr.Dropdown(names, value="depth", label="task", elem_id="task")
                category = gr.Dropdown(categories, value=categories[0] if categories else None, label="category "
                                       f"({category_note})", allow_custom_value=model.can_encode, visible=False,
                                       elem_id="category")  # fmt: skip
                with gr.Group(visible=False) as point_box:
                    points = gr.Textbox(label="points (pixel x,y; click the picture to add, up to 5)",
                                        elem_id="points")  # fmt: skip
                    message = gr.Markdown("", elem_id="point-message")
                    with gr.Row():
                        undo = gr.Button("undo point", size="sm")
                        clear = gr.Button("clear points", size="sm")
                preset = gr.Radio([QUALITY, FAST], value=FAST, label="preset")
                with gr.Accordion("settings", open=False):
                    steps = gr.Slider(1, 50, value=PRESETS[FAST][0], step=1, label="steps")
                    guidance = gr.Slider(1.0, 7.0, value=PRESETS[FAST][1], step=0.5, label="guidance (1 = off)")
                    seed = gr.Number(42, precision=0, minimum=0, label="seed")
                    resolution = gr.Number(model.pipe.config.default_processing_resolution, precision=0, minimum=0,
                                           label="processing resolution (0 = the input's size)")  # fmt: skip
                run = gr.Button("run", variant="primary", elem_id="run")
            with gr.Column():
                shown = gr.Image(label="prediction", type="numpy", format="png", interactive=False, height=HEIGHT,
                                 elem_id="prediction")  # fmt: skip
                caption = gr.Markdown("", elem_id="caption")
                slider = gr.ImageSlider(label="before / after", type="numpy", visible=True, elem_id="slider")
                raw = gr.Image(label="the model's picture", type="numpy", format="png", interactive=False,
                               height=HEIGHT // 2)  # fmt: skip
                files = gr.File(label="downloads (the files `diception predict` writes)", file_count="multiple",
                                interactive=False, elem_id="downloads")  # fmt: skip

        edits = [clicks, image, points, message]
        image.select(on_select, [clicks, image], edits, api_visibility="private")
        undo.click(on_undo, [clicks, image], edits, api_visibility="private")
        clear.click(on_clear, [clicks, image], edits, api_visibility="private")
        task.change(on_task, [task], [category, point_box, slider], api_visibility="private")
        preset.change(on_preset, [preset], [steps, guidance], api_visibility="private")
        run.click(predict, [image, task, category, points, steps, guidance, seed, resolution, clicks],
                  [shown, slider, raw, caption, files], api_name="predict", concurrency_limit=1)  # fmt: skip
        demo.load(on_task, [task], [category, point_box, slider], api_visibility="private")
    weakref.finalize(demo, shutil.rmtree, downloads, ignore_errors=True)  # with the page, or at exit
    return demo


def launch(model: DemoModel, host: str = "127.0.0.1", port: int = 7860, **kwargs):
    """Serve the page until interrupted; with ``prevent_thread_lock=True`` return the running ``gradio.Blocks``
    at once (``.close()`` stops it)."""
    demo = build_demo(model)
    demo.queue(default_concurrency_limit=1)
    demo.launch(server_name=host, server_port=port, share=False, ssr_mode=False, max_file_size=MAX_UPLOAD,
                footer_links=["api"], **kwargs)  # fmt: skip
    return demo
