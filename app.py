"""A Hugging Face Space entry: the same page as ``diception demo``, on the bundled model (or on the folder named
by the DICEPTION_MODEL variable). Requirements: ``diception[demo]``."""

import os

from diception import DiceptionPipeline
from diception.bundled import bundled_model_path
from diception.demo import DemoModel, describe_model
from diception.demo.app import build_demo

folder = os.environ.get("DICEPTION_MODEL") or str(bundled_model_path())
pipe = DiceptionPipeline.from_pretrained(folder)
demo = build_demo(DemoModel(pipe, describe_model(pipe, folder)))
demo.queue(default_concurrency_limit=1)

if __name__ == "__main__":
    demo.launch(ssr_mode=False)
