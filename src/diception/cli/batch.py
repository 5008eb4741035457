"""``diception batch``: run a manifest of (image, prompt) records, resumably.

The manifest is the published JSON list of ``{"input": image path relative to --data-root, "caption": prompt,
"target": optional, ignored}`` or JSON Lines with one such object per line. A record may carry ``"points"``:
``[[y, x], ...]`` normalised to [0, 1] (the published order) for point-prompted segmentation.

Files per record, with ``<name> = <image stem>_<caption>``:
``<save-path>/images/<name>.png`` (input | output, as the published script), ``<save-path>/predictions/<name>...``
(the per-kind files of ``diception predict``: ``.npy``/``_16bit.png``/``_color.png`` for depth, ``.npy`` for
normals, ``_mask.png`` for masks, ``_output.png`` otherwise) and, with ``--save-npy``,
``<save-path>/npy/<name>.npy`` in the published float16 layout (depth ``(H, W)``, normals ``(3, H, W)``, other
tasks the RGB output ``(3, H, W)``). Records whose files all exist are skipped, so a re-run resumes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import tasks
from ..errors import DiceptionInputError
from ..prediction_files import OutputFile, prediction_files, write_published_npy
from .command import Command
from .inputs import check_points
from .job_runner import Job, RunSummary, pending_jobs, report_error, run_jobs
from .model_options import (
    add_model_arguments,
    add_sampling_arguments,
    check_prompt_available,
    load_pipeline,
    sampling_settings,
)

Record = tuple[str, dict | DiceptionInputError]  # (where: "manifest line 3", the record or why it is bad)


def read_manifest(path: Path) -> list[Record]:
    """Records of a JSON-list or JSON-Lines manifest (``.jsonl``, or any file not starting with ``[``)."""
    if not path.is_file():
        raise DiceptionInputError(f"manifest '{path}' does not exist; pass a JSON or JSON Lines file")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() != ".jsonl" and text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as err:
            raise DiceptionInputError(
                f"manifest '{path}' is not valid JSON (line {err.lineno}: {err.msg}); fix it or use JSON Lines"
            ) from None
        return [(f"manifest record {i}", _as_record(item)) for i, item in enumerate(items)]
    records: list[Record] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            item = DiceptionInputError(f"invalid JSON ({err.msg}, column {err.colno})")
        records.append((f"manifest line {number}", _as_record(item)))
    return records


def _as_record(item: object) -> dict | DiceptionInputError:
    if isinstance(item, (dict, DiceptionInputError)):
        return item
    return DiceptionInputError(f"a record must be a JSON object, got {type(item).__name__}")


def output_name(image: str, caption: str) -> str:
    """``<image stem>_<caption>`` as the published script names its pictures (path separators replaced)."""
    return f"{Path(image).stem}_{caption}".replace("/", "_").replace("\\", "_")


def record_job(record: dict, where: str, data_root: Path, save_path: Path, save_npy: bool) -> Job:
    """Validate one manifest record and plan its files."""
    missing = [key for key in ("input", "caption") if key not in record]
    if missing:
        raise DiceptionInputError(
            f"missing {', '.join(repr(k) for k in missing)}; a record needs 'input' and 'caption'"
        )
    image, caption = record["input"], record["caption"]
    if not isinstance(image, str) or not isinstance(caption, str):
        raise DiceptionInputError("'input' and 'caption' must be strings")
    raw_points = record.get("points") or []
    if not isinstance(raw_points, list):
        raise DiceptionInputError("'points' must be a list of [y, x] pairs in [0, 1]")
    points = check_points(raw_points, "points")
    request = tasks.resolve_request(prompt=caption, points=[(x, y) for y, x in points])
    if not (data_root / image).is_file():
        raise DiceptionInputError(f"image '{data_root / image}' does not exist; check 'input' and --data-root")
    name = output_name(image, caption)
    files = prediction_files(request.task.prediction_kind, save_path / "predictions" / name,
                             side_by_side=save_path / "images" / f"{name}.png")  # fmt: skip
    if save_npy:
        files.append(OutputFile(save_path / "npy" / f"{name}.npy", write_published_npy))
    return Job(data_root / image, request.task, request.prompt, files, points, context=where)


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
        parser.add_argument("--overwrite", action="store_true", help="redo records whose files already exist")
        add_model_arguments(parser)
        add_sampling_arguments(parser)

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
        records = read_manifest(manifest)
        if not records:
            raise DiceptionInputError(f"manifest '{manifest}' holds no records")
        jobs: list[Job] = []
        owners: dict[Path, str] = {}
        for where, record in records:
            try:
                if isinstance(record, DiceptionInputError):
                    raise record
                job = record_job(record, where, data_root, Path(args.save_path), args.save_npy)
                first = owners.setdefault(job.files[0].path, where)
                if first != where:
                    raise DiceptionInputError(f"writes the same files as {first} ('{job.files[0].path}')")
            except DiceptionInputError as err:
                report_error(summary, str(err), where)
                continue
            jobs.append(job)
        return jobs

    def run(self) -> int:
        args = self.args
        settings = sampling_settings(args)
        summary = RunSummary()
        pending = pending_jobs(self.plan(summary), summary, args.overwrite, args.quiet)
        if pending:
            pipe = load_pipeline(args, prompts=list(dict.fromkeys(job.prompt for job in pending)))
            runnable = []
            for job in pending:
                try:
                    check_prompt_available(pipe, job.prompt)
                    runnable.append(job)
                except DiceptionInputError as err:
                    report_error(summary, str(err), job.context)
            run_jobs(pipe, runnable, settings, summary, args.quiet)
        print(summary.line())
        return summary.exit_code
