"""The run-and-write loop: every job's files written, answers handed over, a failing job reported alone."""

from __future__ import annotations

import numpy as np

from diception import tasks
from diception.jobs import Job, RunSummary, SamplingSettings, existing_images, record_rng, run_jobs
from diception.tasks.registry import TaskRequest

FAST = SamplingSettings(num_inference_steps=1, guidance_scale=1.0, processing_resolution=32, batch_size=3)


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (24, 40, 3), dtype=np.uint8)


def test_jobs_write_their_files_and_a_bad_one_fails_alone(pipe, tmp_path):
    depth = tasks.resolve_request(task="depth")
    unknown = TaskRequest(tasks.SEMANTIC, tasks.SEMANTIC.full_prompt("unicorn"))  # not in the prompt cache
    jobs = [
        Job(_image(0), depth, tasks.DEPTH.output_files(tmp_path / "a"), image_id="a"),
        Job(tmp_path / "missing.png", depth, tasks.DEPTH.output_files(tmp_path / "b"), context="job b"),
        Job(_image(1), unknown, tasks.SEMANTIC.output_files(tmp_path / "c"), context="job c"),
        Job(_image(2), depth, [], image_id="d"),
    ]
    seen = []
    summary = RunSummary(echo=False)
    run_jobs(pipe, jobs, FAST, summary, quiet=True, on_result=lambda job, p: seen.append((job.image_id, p.value.shape)))
    assert (summary.done, summary.failed) == (2, 2)
    assert seen == [("a", (24, 40)), ("d", (24, 40))]
    assert summary.errors[0].startswith("job b: image") and "does not exist" in summary.errors[0]
    assert summary.errors[1].startswith("job c:") and "prompt cache" in summary.errors[1]
    assert {p.name for p in tmp_path.iterdir()} == {f.path.name for f in jobs[0].files}


def test_finished_jobs_are_skipped_and_missing_images_reported(tmp_path):
    depth = tasks.resolve_request(task="depth")
    done = Job(tmp_path / "x.png", depth, tasks.DEPTH.output_files(tmp_path / "x"))
    for file in done.files:
        file.path.write_bytes(b"")
    missing = Job(tmp_path / "y.png", depth, tasks.DEPTH.output_files(tmp_path / "y"))
    summary = RunSummary(echo=False)
    jobs = existing_images([done, missing], summary)
    assert jobs == [done]
    run_jobs(None, jobs, SamplingSettings(), summary, quiet=True, skip_done=True)  # no model needed
    assert (summary.done, summary.skipped, summary.failed) == (0, 1, 1) and "y.png' does not exist" in summary.errors[0]


def test_record_choices_depend_on_the_seed_and_the_record_only():
    draws = {key: record_rng(7, key).random(3).tolist() for key in ("line-a", "line-b")}
    assert record_rng(7, "line-a").random(3).tolist() == draws["line-a"]  # asked again, in another order
    assert draws["line-a"] != draws["line-b"] and record_rng(8, "line-a").random(3).tolist() != draws["line-a"]


def test_jobs_stream_from_a_generator_and_answers_on_disk_are_read_back_not_predicted(pipe, tmp_path):
    depth = tasks.resolve_request(task="depth")
    names = ["a", "b", "c", "d", "e"]

    def jobs():  # a generator: no length, taken as the run goes
        for i, name in enumerate(names):
            yield Job(_image(i), depth, tasks.DEPTH.output_files(tmp_path / name), image_id=name)

    first: dict[str, np.ndarray] = {}
    run_jobs(pipe, jobs(), FAST, RunSummary(echo=False), quiet=True, total=5,
             on_result=lambda job, p: first.update({job.image_id: p.value}))  # fmt: skip
    for file in tasks.DEPTH.output_files(tmp_path / "c"):
        file.path.unlink()

    order, summary = [], RunSummary(echo=False)
    run_jobs(pipe, jobs(), FAST, summary, quiet=True, read_existing=lambda job: np.load(_npy(job)),
             on_result=lambda job, p: order.append((job.image_id, p.image is None, p.value)))  # fmt: skip
    assert (summary.done, summary.skipped) == (1, 4)
    assert [(name, from_disk) for name, from_disk, _ in order] == [(n, n != "c") for n in names]  # in job order
    for name, _, value in order:
        np.testing.assert_allclose(value, first[name], atol=1e-6)


def test_a_file_that_cannot_be_written_stops_the_run_with_its_error(pipe, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    depth = tasks.resolve_request(task="depth")
    jobs = [Job(_image(0), depth, tasks.DEPTH.output_files(blocker / "a"))]
    try:
        run_jobs(pipe, jobs, FAST, RunSummary(echo=False), quiet=True)
    except OSError as err:
        assert "not_a_folder" in str(err)
    else:
        raise AssertionError("the write error was swallowed")


def test_a_model_error_stops_the_run_even_when_the_loader_is_waiting_on_a_full_queue(tmp_path):
    import threading
    import time

    def broken_pipe(*args, **kwargs):
        time.sleep(0.3)  # the loader meanwhile fills its queue and waits to queue its end marker
        raise RuntimeError("model bug")

    depth = tasks.resolve_request(task="depth")
    jobs = [Job(_image(i), depth, []) for i in range(3)]  # one taken, two queued: the queue is full
    settings = SamplingSettings(num_inference_steps=1, guidance_scale=1.0, processing_resolution=32, batch_size=1)
    raised: list[BaseException] = []

    def run() -> None:
        try:
            run_jobs(broken_pipe, jobs, settings, RunSummary(echo=False), quiet=True)
        except RuntimeError as err:
            raised.append(err)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive(), "the run hung after the model's error"
    assert [str(err) for err in raised] == ["model bug"]


def _npy(job: Job):
    return next(file.path for file in job.files if file.path.suffix == ".npy")


def test_a_batch_out_of_memory_is_retried_in_halves_and_a_job_too_big_alone_is_reported(pipe, tmp_path):
    import torch

    calls: list[int] = []

    def tight_pipe(images, **kwargs):
        calls.append(len(images))
        if len(images) > 2 or images[0].shape[0] > 40:  # more than 2 images, or one big image, "does not fit"
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return pipe(images, **kwargs)

    depth = tasks.resolve_request(task="depth")
    big = np.zeros((64, 40, 3), np.uint8)
    jobs = [Job(_image(i), depth, tasks.DEPTH.output_files(tmp_path / f"j{i}"), image_id=f"j{i}") for i in range(4)]
    jobs.insert(2, Job(big, depth, tasks.DEPTH.output_files(tmp_path / "big"), context="job big"))
    summary = RunSummary(echo=False)
    settings = SamplingSettings(num_inference_steps=1, guidance_scale=1.0, processing_resolution=32, batch_size=5)
    run_jobs(tight_pipe, jobs, settings, summary, quiet=True)
    assert (summary.done, summary.failed) == (4, 1)
    assert summary.errors == ["job big: <image in memory>: out of memory even alone; lower --processing-resolution "
                              "or free the device"]  # fmt: skip
    assert calls == [5, 2, 3, 1, 2]  # the whole batch, its halves, the failing half's halves
    assert all(f.path.is_file() for job in jobs if job.context != "job big" for f in job.files)
    assert not any(f.path.exists() for f in jobs[2].files)
