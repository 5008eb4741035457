"""The web demo as a local HTTP service: ``/predict`` from ``gradio_client`` (as the README shows), the upload
size limit, the page bound to this machine only, and ``diception demo``'s clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from diception.cli.main import main

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "images" / "synthetic_2.png"


def test_predict_is_an_http_endpoint_for_gradio_client(served):
    from gradio_client import Client, handle_file

    client = Client(served, verbose=False)
    shown, slider, picture, caption, files = client.predict(handle_file(str(SAMPLE)), "depth", None, "", 1, 1.0, 42,
                                                            64, api_name="/predict")  # fmt: skip
    assert "relative depth" in caption and Path(shown).is_file() and Path(picture).is_file()
    names = sorted(Path(f).name for f in files)
    assert names == ["prediction_depth.npy", "prediction_depth_16bit.png", "prediction_depth_color.png"]
    disparity = np.load(next(f for f in files if f.endswith(".npy")), allow_pickle=False)
    assert disparity.ndim == 2 and 0.0 <= disparity.min() <= disparity.max() <= 1.0
    _, _, _, caption, _ = client.predict(handle_file(str(SAMPLE)), "segmentation", None, "40,30; 44,33", 1, 1.0, 42,
                                         64, api_name="/predict")  # fmt: skip
    assert caption.startswith("mask:")


def test_a_user_error_reaches_the_client_as_its_message(served):
    from gradio_client import Client, handle_file

    client = Client(served, verbose=False)
    with pytest.raises(Exception, match="click on the object to segment"):
        client.predict(handle_file(str(SAMPLE)), "segmentation", None, "", 1, 1.0, 42, 64, api_name="/predict")


def test_uploads_over_the_size_limit_are_refused(served):
    import httpx

    big = b"\x89PNG\r\n\x1a\n" + bytes(21 * 1024 * 1024)
    response = httpx.post(served + "gradio_api/upload", files={"files": ("big.png", big, "image/png")}, timeout=60)
    assert response.status_code == 413


def test_the_page_listens_on_this_machine_only_by_default():
    from diception.cli.demo import DemoCommand
    from diception.cli.main import build_parser

    args = build_parser().parse_args(["demo"])
    assert args.command is DemoCommand and args.host == "127.0.0.1" and args.port == 7860


def test_a_folder_that_is_not_a_model_is_one_clear_line(tmp_path, capsys):
    assert main(["demo", "--model", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1
