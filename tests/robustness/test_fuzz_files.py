"""Property tests of the files users hand over: image files (valid in many modes, truncated, mislabelled, bombs,
random bytes) and COCO / SA-1B annotation files (bad RLE, bad polygons, wrong sizes, random JSON, non-UTF-8)
give a correct result or one clear ``DiceptionInputError``, never another exception, a crash or a hang. The
number of inputs tried is printed (``pytest -s``).

Decisions the tests pin down: an EXIF orientation is applied (the pixels come upright, a 90-degree tag swaps
height and width); alpha is dropped, keeping the colours; 16-bit greyscale is scaled to 8 bits; an animated
GIF or PNG gives its first frame; polygons of fewer than 3 points cover no pixel.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from diception import tasks  # noqa: E402
from diception.bundled import bundled_model_path  # noqa: E402
from diception.cli.main import main  # noqa: E402
from diception.data.coco import iter_coco_entity, iter_coco_pose, iter_coco_semantic  # noqa: E402
from diception.data.image_files import load_image  # noqa: E402
from diception.data.rle import decode_rle, decode_segmentation, encode_mask  # noqa: E402
from diception.data.sa1b import iter_sa1b  # noqa: E402
from diception.data.sample import Sample  # noqa: E402
from diception.errors import DiceptionInputError  # noqa: E402
from diception.tasks.task import GroundTruthOptions  # noqa: E402

from ..data.data_files import uncompressed_rle  # noqa: E402
from .stress import scaled  # noqa: E402

EXAMPLES = scaled(150, 1500)  # make stress: ten times more
TRIED: dict[str, int] = {}
FUNCTION_TMP = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


def _count(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


@contextlib.contextmanager
def within(seconds: float):
    """Fail instead of hanging: SIGALRM after ``seconds``."""

    def expire(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def one_line(err: DiceptionInputError) -> str:
    """The error's message, checked to be one line; counted as a refused input in hypothesis' statistics."""
    event("refused")
    message = str(err)
    assert message and "\n" not in message and "Traceback" not in message, message
    return message


# ------------------------------------------------------------------------------------------------ image files
FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif"}
MODES = ("RGB", "L", "LA", "RGBA", "P", "1", "I;16", "CMYK", "F")
SAVES = {"CMYK": ("JPEG", "TIFF"), "F": ("TIFF",), "I;16": ("PNG", "TIFF"), "LA": ("PNG", "TIFF", "WEBP"),
         "RGBA": ("PNG", "TIFF", "WEBP"), "1": ("PNG", "BMP", "TIFF", "GIF"),
         "P": ("PNG", "GIF", "BMP", "TIFF", "WEBP")}  # fmt: skip


def picture(mode: str, height: int, width: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    if mode == "F":
        return Image.fromarray(rng.random((height, width), dtype=np.float32))
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).convert(mode)


def image_bytes(img: Image.Image, fmt: str, **options) -> bytes:
    stream = io.BytesIO()
    img.save(stream, format=fmt, **options)
    return stream.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A valid-looking PNG header for ``width x height`` with almost no pixel data (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))  # fmt: skip


@st.composite
def image_files(draw) -> tuple[bytes, str, tuple[int, int] | None]:
    """``(bytes, suffix, (height, width) when the file is intact)``: a small picture in a random mode and format,
    then perhaps cut at a random byte, overwritten at random bytes, or named with another format's suffix."""
    mode = draw(st.sampled_from(MODES))
    fmt = draw(st.sampled_from(SAVES.get(mode, tuple(FORMATS))))
    height, width = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    data = image_bytes(picture(mode, height, width, draw(st.integers(0, 99))), fmt)
    suffix = draw(st.sampled_from([FORMATS[fmt], *FORMATS.values()]))  # usually right, sometimes another
    damage = draw(st.sampled_from(["none", "cut", "overwrite"]))
    if damage == "cut":
        return data[: draw(st.integers(0, len(data) - 1))], suffix, None
    if damage == "overwrite":
        data = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data), suffix, None
    return data, suffix, (height, width)


MAGIC = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b"II*\x00", b"BM"]
BOMBS = [png_claiming(50_000, 50_000), png_claiming(0, 0), png_claiming(2**31 - 1, 1)]
other_bytes = st.one_of(st.binary(max_size=300), st.text(max_size=100).map(str.encode), st.sampled_from(BOMBS),
                        st.tuples(st.sampled_from(MAGIC), st.binary(max_size=200)).map(b"".join))  # fmt: skip


def check_image_file(path: Path, size: tuple[int, int] | None) -> None:
    """The property: an (H, W, 3) uint8 RGB picture (of ``size`` when known) or one clear error naming the file."""
    try:
        with within(10):
            img = load_image(path)
    except DiceptionInputError as err:
        assert str(path) in one_line(err)
        assert size is None, f"an intact file was refused: {err}"
        return
    event("read")
    pixels = np.asarray(img)
    assert img.mode == "RGB" and pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3
    if size is not None:
        assert pixels.shape[:2] == size


@settings(max_examples=EXAMPLES, **FUNCTION_TMP)
@given(st.one_of(image_files(), other_bytes.map(lambda b: (b, ".png", None))))
@example((b"", ".png", None))  # zero bytes
@example((b"not an image at all\n", ".png", None))  # text named .png
@example((png_claiming(50_000, 50_000), ".png", None))  # a 2.5 G pixel bomb in ~100 bytes
@example((image_bytes(picture("RGB", 3, 5, 0), "PNG"), ".jpg", (3, 5)))  # PNG bytes named .jpg: read by content
@example((image_bytes(picture("I;16", 1, 1, 0), "PNG"), ".png", (1, 1)))  # 1x1, 16 bit
def test_any_image_file_is_an_rgb_picture_or_one_clear_error(tmp_path, case):
    _count("image files")
    data, suffix, size = case
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    check_image_file(path, size)


def test_sixteen_bit_greyscale_is_scaled_to_eight_bits_not_clipped(tmp_path):
    _count("image files")
    values = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "depthish.png")
    assert Image.open(tmp_path / "depthish.png").mode == "I;16"
    pixels = np.asarray(load_image(tmp_path / "depthish.png"))
    np.testing.assert_array_equal(pixels[0, :, 0], [0, 1, 128, 255])  # Pillow alone gives 0, 255, 255, 255
    assert (pixels == pixels[..., :1]).all()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_an_exif_rotated_picture_loads_upright(tmp_path, fmt):
    _count("image files")
    rows, cols = np.mgrid[0:6, 0:10]
    stored = Image.fromarray(np.stack([rows * 40, cols * 25, np.full_like(rows, 100)], -1).astype(np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / f"phone{FORMATS[fmt]}"
    lossless = {"JPEG": {"quality": 100, "subsampling": 0}, "WEBP": {"lossless": True}}.get(fmt, {})
    stored.save(path, format=fmt, exif=exif, **lossless)
    pixels = np.asarray(load_image(path))
    assert pixels.shape == (10, 6, 3)  # height and width swapped
    upright = np.rot90(np.asarray(stored), k=-1)
    assert np.abs(pixels.astype(int) - upright).max() <= (8 if fmt == "JPEG" else 0)
    assert Sample(image_path=path, task="depth", prompt="[[image2depth]]", sample_id="x").image_size() == (10, 6)


def test_palette_alpha_and_cmyk_pictures_keep_their_colours(tmp_path):
    _count("image files")
    colours = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    rgb = Image.fromarray(colours)
    rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(tmp_path / "p.png", transparency=0)
    rgba = rgb.convert("RGBA")
    rgba.putalpha(0)  # fully transparent: the colours stay (the published loader's convert("RGB") keeps them)
    rgba.save(tmp_path / "rgba.png")
    rgb.convert("LA").save(tmp_path / "la.png")
    rgb.convert("CMYK").save(tmp_path / "cmyk.jpg", quality=100)
    np.testing.assert_array_equal(np.asarray(load_image(tmp_path / "p.png")), colours)
    np.testing.assert_array_equal(np.asarray(load_image(tmp_path / "rgba.png")), colours)
    grey = np.asarray(rgb.convert("L"))
    np.testing.assert_array_equal(np.asarray(load_image(tmp_path / "la.png")), np.repeat(grey[..., None], 3, 2))
    assert np.abs(np.asarray(load_image(tmp_path / "cmyk.jpg")).astype(int) - colours).max() < 40


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_an_animated_picture_gives_its_first_frame(tmp_path, suffix):
    _count("image files")
    frames = [Image.fromarray(np.full((4, 6, 3), value, np.uint8)) for value in (40, 200, 90)]
    frames[0].save(tmp_path / f"anim{suffix}", save_all=True, append_images=frames[1:], duration=50)
    assert Image.open(tmp_path / f"anim{suffix}").n_frames == 3
    pixels = np.asarray(load_image(tmp_path / f"anim{suffix}"))
    assert pixels.shape == (4, 6, 3) and (np.abs(pixels.astype(int) - 40) <= 2).all()


def test_a_bomb_is_refused_before_decoding_whatever_its_format(tmp_path, monkeypatch):
    _count("image files")
    monkeypatch.setenv("DICEPTION_MAX_PIXELS", "100")
    for fmt in ("PNG", "JPEG", "GIF", "WEBP", "TIFF"):
        path = tmp_path / f"big{FORMATS[fmt]}"
        path.write_bytes(image_bytes(picture("RGB", 20, 20, 0), fmt))
        with pytest.raises(DiceptionInputError, match="claims 20 x 20 = 0 MP, over the limit"):
            load_image(path)


IMAGE_CASES = {  # name -> (bytes, suffix, output size (height, width) or None for a failed image)
    "truncated_png": (image_bytes(picture("RGB", 12, 16, 0), "PNG")[:60], ".png", None),
    "truncated_jpeg": (image_bytes(picture("RGB", 12, 16, 0), "JPEG")[:300], ".jpg", None),
    "zero_bytes": (b"", ".png", None),
    "text_named_png": (b"hello\n", ".png", None),
    "bomb": (png_claiming(50_000, 50_000), ".png", None),
    "sixteen_bit": (image_bytes(picture("I;16", 12, 16, 0), "PNG"), ".png", (12, 16)),
    "png_named_jpg": (image_bytes(picture("RGBA", 12, 16, 0), "PNG"), ".jpg", (12, 16)),
}


@pytest.mark.parametrize("case", sorted(IMAGE_CASES))
def test_predict_on_a_bad_or_unusual_image_file_is_one_line_or_a_result(case, tmp_path, capsys):
    _count("image files via `diception predict`")
    data, suffix, size = IMAGE_CASES[case]
    image = tmp_path / f"{case}{suffix}"
    image.write_bytes(data)
    out = tmp_path / "out"
    code = main(["predict", str(image), "--task", "depth", "--model", str(bundled_model_path()), "--output-dir",
                 str(out), "--steps", "1", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if size is None:
        assert code == 1 and image.name in err
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    else:
        assert code == 0, err
        assert np.load(out / f"{case}_depth.npy").shape == size


# ------------------------------------------------------------------------------------------- annotation files
H, W = 5, 7
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.floats(), st.integers(-(10**20), 10**20),
                                     st.text(max_size=8)),
                           lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                           max_leaves=10)  # fmt: skip
masks = st.builds(lambda seed, p: np.random.default_rng(seed).random((H, W)) < p, st.integers(0, 999), st.floats(0, 1))
rle_chars = st.text(alphabet=[chr(c) for c in range(40, 120)], max_size=30)
sizes = st.one_of(st.just([H, W]), st.lists(st.integers(-3, 9), max_size=3), json_values)
counts = st.one_of(rle_chars, st.lists(st.integers(-5, 40), max_size=12), st.binary(max_size=20), json_values,
                   masks.map(lambda m: encode_mask(m)["counts"]))  # fmt: skip


@st.composite
def damaged_rle(draw) -> dict:
    """A real RLE of a random mask with one character changed, removed or added."""
    counts = list(encode_mask(draw(masks))["counts"])
    at = draw(st.integers(0, len(counts)))
    what = draw(st.sampled_from(["change", "remove", "add"]))
    char = draw(st.sampled_from([chr(c) for c in range(48, 112)]))
    if what == "change" and at < len(counts):
        counts[at] = char
    elif what == "remove" and at < len(counts):
        del counts[at]
    else:
        counts.insert(at, char)
    return {"size": [H, W], "counts": "".join(counts)}


rles = st.one_of(st.fixed_dictionaries({"size": sizes, "counts": counts}), damaged_rle(), json_values)
coordinates = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**30), 10**30),
                        st.floats(-2 * W, 2 * W), st.text(max_size=2), st.none())  # fmt: skip
polygons = st.one_of(
    st.lists(st.lists(coordinates, max_size=9), max_size=3),
    st.lists(st.lists(st.floats(-1, W + 1), min_size=6, max_size=12), min_size=1, max_size=3),
)
segmentations = st.one_of(rles, polygons)


def to_json(value) -> bytes:
    """``value`` as a JSON file's bytes (``bytes`` RLE counts written as text)."""
    return json.dumps(value, default=lambda b: b.decode("latin-1")).encode()


def check_mask(mask: np.ndarray, shape: tuple[int, int]) -> None:
    assert mask.dtype == bool and mask.shape == shape


@settings(max_examples=2 * EXAMPLES, deadline=None)
@given(rles)
@example({"size": [H, W], "counts": "0"})  # runs adding up to 0, not 35: pycocotools decoded it as empty
@example({"size": [H, W], "counts": [1, 2]})  # uncompressed, too short: silently wrong before
@example({"size": [H, W], "counts": [-5, 40]})  # negative run: OverflowError from numpy before
@example({"size": [-4, 4], "counts": "04"})  # OverflowError from pycocotools before
@example({"size": [4], "counts": "04"})  # IndexError before
@example({"size": [100_000, 100_000], "counts": "04"})  # a 10 GB mask before
def test_any_rle_is_its_mask_or_one_clear_error(rle):
    _count("RLE masks")
    try:
        mask = decode_rle(rle)
    except DiceptionInputError as err:
        one_line(err)
        return
    event("read")
    check_mask(mask, tuple(rle["size"]))


@settings(max_examples=EXAMPLES, deadline=None)
@given(masks, st.sampled_from(["compressed", "uncompressed", "bytes"]))
def test_a_valid_rle_decodes_to_its_mask(mask, form):
    _count("RLE masks")
    rle = encode_mask(mask)
    if form == "bytes":
        rle["counts"] = rle["counts"].encode()
    if form == "uncompressed":
        rle = uncompressed_rle(mask)
    np.testing.assert_array_equal(decode_segmentation(rle, H, W), mask)


@settings(max_examples=2 * EXAMPLES, deadline=None)
@given(segmentations)
@example([[1, 2, 3]])  # odd count
@example([[1, 2, float("nan"), 4, 5, 6]])  # NaN
@example([[1e7, 2, 3, 4, 5, 6]])  # 800 MB in pycocotools before; 1e300 had the process killed
@example([[1, 2, 3, 4]])  # 2 points: pycocotools took it for a box; no area, so no pixel
@example({"size": [4, 4], "counts": "04"})  # an RLE of another size than the image's: a 4x4 mask before
def test_any_segmentation_is_a_mask_of_the_image_size_or_one_clear_error(segmentation):
    _count("segmentations (polygons and RLE)")
    try:
        mask = decode_segmentation(segmentation, H, W)
    except DiceptionInputError as err:
        one_line(err)
        return
    event("read")
    check_mask(mask, (H, W))


def test_polygons_that_made_pycocotools_allocate_until_killed_are_refused_in_a_memory_capped_process():
    """Run in a child limited to 1 GiB of address space: before the checks, these ended the process."""
    _count("segmentations (polygons and RLE)")
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from diception.data.rle import decode_segmentation\n"
        "from diception.errors import DiceptionInputError\n"
        "for polygon in ([1e300, 2, 3, 4, 5, 6], [-1e30, 2, 3, 4, 5, 6], [float('nan'), 2, 3, 4, 5, 6]):\n"
        "    try:\n"
        "        decode_segmentation([polygon], 4, 4)\n"
        "        sys.exit('decoded')\n"
        "    except DiceptionInputError as err:\n"
        "        print(err)\n"
    )  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("polygon 0") == 3


def image_records(draw, n: int) -> list:
    return [draw(st.one_of(st.fixed_dictionaries({"id": st.just(k + 1), "file_name": st.just("a.png"),
                                                  "height": st.just(H), "width": st.just(W)}),
                           st.fixed_dictionaries({"id": st.one_of(st.integers(0, 3), json_values),
                                                  "file_name": st.one_of(st.just("a.png"), json_values),
                                                  "height": st.one_of(st.integers(-2, 9), json_values),
                                                  "width": st.one_of(st.integers(-2, 9), json_values)})))
            for k in range(n)]  # fmt: skip


@st.composite
def coco_files(draw) -> bytes:
    """A COCO instances / keypoints file: mostly well formed with random fields, random JSON, or raw bytes."""
    kind = draw(st.sampled_from(["coco", "coco", "coco", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.one_of(st.binary(max_size=60), st.just(b'{"images": [], "caption": "\xff\xfe"}')))
    if kind == "json":
        return to_json(draw(json_values))
    annotation = st.fixed_dictionaries(
        {"id": st.integers(0, 9), "image_id": st.one_of(st.integers(1, 3), json_values),
         "category_id": st.one_of(st.integers(1, 2), json_values), "segmentation": segmentations},
        optional={"iscrowd": st.sampled_from([0, 1]), "bbox": st.lists(st.floats(-100, 100), max_size=5),
                  "keypoints": st.one_of(st.lists(st.floats(-5, 20), min_size=51, max_size=51), json_values)},
    )  # fmt: skip
    data = {
        "images": image_records(draw, draw(st.integers(0, 2))),
        "annotations": draw(st.lists(annotation, max_size=3)),
        "categories": draw(st.one_of(st.just([{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]), json_values)),
    }
    for key in draw(st.lists(st.sampled_from(sorted(data)), max_size=1)):  # sometimes one part is missing
        del data[key]
    return to_json(data)


@settings(max_examples=EXAMPLES, **FUNCTION_TMP)
@given(coco_files(), st.sampled_from([iter_coco_entity, iter_coco_semantic, iter_coco_pose]))
def test_any_coco_file_gives_samples_or_one_error_naming_the_file(tmp_path, data, reader):
    _count("COCO files")
    path = tmp_path / "instances.json"
    path.write_bytes(data)
    try:
        samples = list(reader(path, tmp_path))
    except DiceptionInputError as err:
        assert str(path) in one_line(err)
        return
    event("read")
    for sample in samples:
        for array in (sample.instances, sample.ignore_mask):
            assert array is None or array.shape == (H, W)


@st.composite
def sa1b_files(draw) -> bytes:
    """An SA-1B file: two annotations of random RLE, point_coords and boxes (also outside the image)."""
    kind = draw(st.sampled_from(["sa1b", "sa1b", "sa1b", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=60))
    if kind == "json":
        return to_json(draw(json_values))
    good = {"image_id": 1, "height": H, "width": W, "file_name": "sa_1.png"}
    damaged = st.fixed_dictionaries({"height": sizes, "width": sizes, "file_name": json_values})
    info = draw(st.one_of(st.just(good), st.just(good), st.just(good), json_values, damaged))
    pixels = st.lists(st.tuples(st.floats(-1, W), st.floats(-1, H)).map(list), max_size=2)  # a few outside the image
    points = st.one_of(pixels, pixels, json_values)
    annotation = st.fixed_dictionaries(
        {"id": st.integers(0, 99), "segmentation": st.one_of(masks.map(encode_mask), rles)},
        optional={"point_coords": points, "bbox": st.lists(st.floats(-1e6, 1e6), max_size=4), "area": json_values},
    )  # fmt: skip
    annotations = draw(st.one_of(st.lists(annotation, max_size=2), json_values))
    return to_json({"image": info, "annotations": annotations})


@settings(max_examples=EXAMPLES, **FUNCTION_TMP)
@given(st.data())
def test_any_sa1b_file_gives_samples_or_one_error_naming_the_file(tmp_path, data):
    _count("SA-1B files")
    path = tmp_path / "sa_1.json"
    path.write_bytes(data.draw(sa1b_files()))
    try:
        samples = list(iter_sa1b(path))
    except DiceptionInputError as err:
        assert str(path) in one_line(err)
        return
    event("read")
    for sample in samples:
        assert sample.mask.dtype == bool and sample.mask.ndim == 2
        assert all(0 <= p.x <= 1 and 0 <= p.y <= 1 for p in sample.points)


annotation_lists = st.one_of(
    st.lists(st.fixed_dictionaries({}, optional={"segmentation": segmentations, "prompt": json_values,
                                                 "keypoints": st.one_of(st.lists(st.floats(-5, 20), min_size=51,
                                                                                 max_size=51), json_values),
                                                 "bbox": json_values}), max_size=3),
    json_values,
)  # fmt: skip


@settings(max_examples=EXAMPLES, **FUNCTION_TMP)
@given(st.one_of(annotation_lists.map(to_json), st.binary(max_size=40)),
       st.sampled_from(["entity", "semantic", "pose"]))  # fmt: skip
def test_any_annotation_list_target_gives_samples_or_one_error_naming_the_file(tmp_path, data, task_name):
    _count("annotation-list targets")
    image = tmp_path / "a.png"
    if not image.exists():
        Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(image)
    target = tmp_path / "target.json"
    target.write_bytes(data)
    task = tasks.get(task_name)
    sample = Sample(image_path=image, task=task_name, prompt=task.full_prompt("cat" if task.needs_category else None),
                    sample_id="1", category="cat" if task.needs_category else None)  # fmt: skip
    try:
        samples = task.read_ground_truth(sample, target, GroundTruthOptions())
    except DiceptionInputError as err:
        assert str(target) in one_line(err)
        return
    event("read")
    for s in samples:
        assert s.instances is None or s.instances.shape == (H, W)
        assert s.keypoints is None or all(k.shape == (17, 3) for k in s.keypoints)


def test_report_how_many_inputs_were_tried():
    print("inputs tried: " + ", ".join(f"{name} {count}" for name, count in sorted(TRIED.items())))
