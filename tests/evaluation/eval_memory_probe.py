"""Peak RSS of an entity evaluation over N generated 256 x 256 samples, run in its own process by
``test_runner.test_eval_memory_does_not_grow_with_the_dataset``: ``python eval_memory_probe.py N`` prints
``<peak RSS in kB> <samples scored>``."""

from __future__ import annotations

import resource
import sys
from collections.abc import Iterator

import numpy as np

from diception import tasks
from diception.bundled import bundled_model_path
from diception.data.sample import Sample
from diception.evaluation.runner import evaluate
from diception.pipelines import DiceptionPipeline

SIZE = 256


def entity_samples(count: int) -> Iterator[Sample]:
    """Samples made one at a time: random pixels and three rectangles as instances."""
    for k in range(count):
        rng = np.random.default_rng(k)
        instances = np.zeros((SIZE, SIZE), np.int32)
        for i in range(1, 4):
            y, x = rng.integers(0, SIZE - 64, 2)
            instances[y : y + 64, x : x + 64] = i
        image = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
        yield Sample(task="entity", prompt=tasks.get("entity").full_prompt(), sample_id=f"s{k}", image=image,
                     instances=instances)  # fmt: skip


def main(count: int) -> None:
    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    pipe.set_progress_bar_config(disable=True)
    result = evaluate(entity_samples(count), "entity", pipe=pipe, batch_size=4)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(result.rows))


if __name__ == "__main__":
    main(int(sys.argv[1]))
