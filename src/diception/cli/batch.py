"""``diception batch``: run a manifest of (image, prompt) records, resumably.

The manifest is the published JSON list of ``{"input": image path relative to --data-root, "caption": prompt,
"target": optional}`` or JSON Lines with one such object per line (read by :mod:`diception.data.manifest`). A
record may carry ``"points"``: ``[[y, x], ...]`` normalised to [0, 1] (the published order) for point-prompted
segmentation. As in the published batch script, a record's ``target`` completes what its caption leaves open:
a segmentation record without points gets 5 random points on one region of its target (an SA-1B ``.json``, a
mask image or an inline RLE), the region chosen at random (``--go_through_all_seg_labels``: every region, one
prediction each); a semantic caption without a category takes the category of one annotation of its target.
These choices are seeded by ``--seed`` and the record itself, so a re-run makes the same ones.

Files per record, with ``<name> = <folder>/<image stem>_<caption>`` (``<image stem>_<region>_<caption>`` per
region; ``<folder>`` the image's folder relative to the data root, so equal stems in different folders do not
collide; ``--outputs`` writes only the named files, e.g. ``--outputs npy`` for a 100k-image pseudo-labelling job):
``<save-path>/images/<name>.png`` (input | output, as the published script), ``<save-path>/predictions/<name>...``
(the task's files, as ``diception predict`` writes them) and, with ``--save-npy``, ``<save-path>/npy/<name>.npy``
in the published float16 layout (depth ``(H, W)``, normals ``(3, H, W)``, other tasks the RGB output
``(3, H, W)``). Records whose files all exist are skipped, so a re-run resumes.

Large jobs split by record position: ``--shard INDEX/COUNT`` takes records ``j`` with ``j % COUNT == INDEX`` (one
SLURM array task, one machine), and under ``accelerate launch --num_processes N`` the processes split that
further, one device each. Each record's starting noise comes from ``--seed`` and the record itself, so a record
gives the same files whatever the batch size, shard or order.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

from .. import tasks
from ..data.manifest import ManifestSyntaxError, describe_error, read_records, record_samples
from ..data.sample import Sample
from ..errors import DiceptionInputError
from ..jobs import Job, RunSummary, existing_images, record_rng, run_jobs, sweep_output_folder
from ..jobs.shards import this_process_shard
from ..tasks.prediction_files import OutputFile, write_published_npy
from ..tasks.registry import TaskRequest
from .command import Command
from .inputs import add_outside_root_argument, output_help, parse_outputs
from .model_options import (
    add_model_arguments,
    add_sampling_arguments,
    add_shard_argument,
    check_prompt_available,
    load_pipeline,
    sampling_settings,
)

MAX_NAME_BYTES = 200  # leaves room for the longest file suffix (_depth_16bit.png) in 255 bytes


def output_name(image: Path, caption: str, region: int | None = None, data_root: Path | None = None) -> Path:
    """``<image stem>[_<region>]_<caption>`` as the published script names its pictures (separators and control
    characters in the caption replaced), under the image's folder relative to the data root, so equal stems in
    different folders do not collide. The name never leaves the output folder (an image outside the data root,
    or reached through ``..``, is named at its top) and fits a file system's 255 bytes (a long name is cut and
    given a hash of the whole)."""
    stem = image.stem if region is None else f"{image.stem}_{region}"
    name = re.sub(r"[/\\\x00-\x1f]", "_", f"{stem}_{caption}")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
        name = name.encode("utf-8")[: MAX_NAME_BYTES - 17].decode("utf-8", "ignore") + "_" + digest
    folder = Path()
    if data_root is not None:
        try:
            folder = image.resolve().parent.relative_to(Path(data_root).resolve())
        except ValueError:  # an image outside the data root
            folder = Path()
    return folder / name


class BatchCommand(Command):
    """Run every record of a manifest."""

    name = "batch"
    help = "run a JSON / JSON Lines manifest of (image, prompt) records, resumably"
    raw_description = True

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("manifest", nargs="?", metavar="MANIFEST", help="JSON list or JSON Lines file")
        parser.add_argument("--input_path", dest="manifest_option", metavar="MANIFEST",
                            help="the manifest (the published flag)")  # fmt: skip
        parser.add_argument("--data-root", "--data_root_path", dest="data_root", metavar="DIR",
                            help="folder the 'input' paths are relative to (default: the manifest's)")  # fmt: skip
        parser.add_argument("--save-path", "--save_path", dest="save_path", required=True, metavar="DIR",
                            help="output folder (images/, predictions/, npy/)")  # fmt: skip
        parser.add_argument("--save-npy", "--save_npy", dest="save_npy", action="store_true",
                            help="also write npy/<name>.npy in the published float16 layout")  # fmt: skip
        parser.add_argument("--go-through-all-seg-labels", "--go_through_all_seg_labels", dest="every_region",
                            action="store_true", help="segmentation records without points: one prediction per "
                            "region of the target file, instead of one region chosen at random")  # fmt: skip
        parser.add_argument("--outputs", metavar="NAME,NAME", help="write only these files (default all): "
                            + output_help())  # fmt: skip
        parser.add_argument("--overwrite", action="store_true", help="redo records whose files already exist")
        add_outside_root_argument(parser)
        add_shard_argument(parser)
        add_model_arguments(parser)
        add_sampling_arguments(parser)

    def record_jobs(self, samples: list[Sample], key: str, where: str, data_root: Path) -> list[Job]:
        """The jobs of one record's samples: prompt inputs completed from the target, files planned."""
        args = self.args
        save = Path(args.save_path)
        rng = record_rng(args.seed, key)
        outputs = parse_outputs(args.outputs)
        jobs = []
        for sample in samples:
            task = tasks.get(sample.task)
            for request in task.complete_request(sample, rng, args.every_region):
                region = request.region if args.every_region else None
                name = output_name(request.image_path, request.prompt, region, data_root)
                files = task.output_files(save / "predictions" / name, side_by_side=save / "images" / f"{name}.png",
                                          outputs=outputs)  # fmt: skip
                if not files:
                    raise DiceptionInputError(f"--outputs '{args.outputs}' names no file of task '{task.name}'")
                if args.save_npy:
                    files.append(OutputFile(save / "npy" / f"{name.as_posix()}.npy", write_published_npy))
                job_request = TaskRequest(task, request.prompt, tuple(request.points))
                region = "" if request.region is None else f"#{request.region}"
                jobs.append(Job(request.image_path, job_request, files, context=where, key=key + region))
        return jobs

    def plan(self, summary: RunSummary) -> list[Job]:
        """Jobs of the valid records; bad records are reported and counted as failed."""
        args = self.args
        manifest = args.manifest or args.manifest_option
        if not manifest:
            raise DiceptionInputError("no manifest given; pass MANIFEST (or --input_path FILE)")
        if args.manifest and args.manifest_option and args.manifest != args.manifest_option:
            raise DiceptionInputError("two manifests given; pass MANIFEST or --input_path, not both")
        manifest = Path(manifest)
        data_root = Path(args.data_root) if args.data_root else manifest.parent
        try:
            records = list(read_records(manifest))
        except ManifestSyntaxError as err:
            raise DiceptionInputError(
                f"manifest '{manifest}' is not valid JSON (line {err.line}: {err.detail}); fix it or use JSON Lines"
            ) from None
        if not records:
            raise DiceptionInputError(f"manifest '{manifest}' holds no records")
        shard = this_process_shard(args.shard)
        jobs: list[Job] = []
        owners: dict[Path, str] = {}
        for position, record in enumerate(records):
            if not shard.holds(position):
                continue
            where = f"manifest line {record.line}"
            try:
                samples = record_samples(
                    record, data_root, load_targets=False, allow_outside_root=args.allow_outside_root
                )
                key = json.dumps(record.value, sort_keys=True, default=str)
                planned = self.record_jobs(samples, key, where, data_root)
                for job in planned:
                    first = owners.setdefault(job.files[0].path, where)
                    if first != where:
                        raise DiceptionInputError(f"writes the same files as {first} ('{job.files[0].path}')")
            except (DiceptionInputError, OSError, ValueError, KeyError, TypeError) as err:
                summary.error(describe_error(err), where)
                continue
            jobs += planned
        return jobs

    def run(self) -> int:
        args = self.args
        settings = sampling_settings(args)
        summary = RunSummary()
        sweep_output_folder(args.save_path, args.quiet)
        jobs = existing_images(self.plan(summary), summary)
        pending = [job for job in jobs if args.overwrite or not job.is_done]
        pipe = None  # not needed when every job is done: each is skipped
        if pending:
            pipe = load_pipeline(args, prompts=list(dict.fromkeys(job.request.prompt for job in pending)))
            runnable = []
            for job in jobs:
                try:
                    check_prompt_available(pipe, job.request.prompt)
                    runnable.append(job)
                except DiceptionInputError as err:
                    summary.error(str(err), job.context)
            jobs = runnable
        run_jobs(pipe, jobs, settings, summary, args.quiet, skip_done=not args.overwrite)
        shard = this_process_shard(args.shard)
        print(summary.line() + ("" if str(shard) == "all records" else f" ({shard})"))
        return summary.exit_code
