"""``diception eval``: run a task on a dataset (or read saved predictions) and score it by the task's protocol.

Writes ``per_sample.csv``, ``summary.json`` and, when a model runs, the prediction files under
``predictions/`` in ``--output-dir``; prints the summary table.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from pathlib import Path

from .. import tasks
from ..data.layouts import LAYOUTS, iter_dataset
from ..errors import DiceptionInputError
from ..jobs import sweep_output_folder
from ..jobs.shards import Shard, this_process_shard, wait_for_all_processes
from .command import Command
from .inputs import add_outside_root_argument
from .model_options import (
    add_model_arguments,
    add_sampling_arguments,
    add_shard_argument,
    load_pipeline,
    resolve_model_source,
    sampling_settings,
)


class EvalCommand(Command):
    """Score a task on a dataset."""

    name = "eval"
    help = "score a task on a dataset (depth/normal folders, SA-1B, COCO, published manifests)"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--task", required=True, choices=tasks.task_names())
        parser.add_argument("--data", required=True, metavar="DIR_OR_FILE",
                            help="dataset: a folder with rgb/ + depth/ or normal/, a folder of SA-1B jsons, a COCO "
                            "json, or a published manifest (.json / .jsonl)")  # fmt: skip
        parser.add_argument("--layout", choices=LAYOUTS, default="auto", help="dataset layout (default: detected)")
        parser.add_argument("--images", metavar="DIR", help="image folder of a COCO json; data root of a manifest")
        add_outside_root_argument(parser)
        parser.add_argument("--depth-scale", type=float, metavar="S", help="metres per unit of 16-bit depth PNGs")
        parser.add_argument("--limit", type=int, metavar="N", help="score only the first N samples")
        parser.add_argument("--num-points", type=int, default=1, metavar="N",
                            help="segmentation objects without points: 1 = SAM's farthest-from-boundary point, "
                            "N > 1 = N random in-mask points (default 1)")  # fmt: skip
        parser.add_argument("--predictions", metavar="DIR", nargs="+",
                            help="score the prediction files in DIR instead of running a model; several folders "
                            "(one per shard) are scored together")  # fmt: skip
        parser.add_argument("--merge", metavar="REPORT_DIR", nargs="+",
                            help="score the shards of one dataset together: the --output-dir of every "
                            "`diception eval --shard I/N` run (checked to be shards 0..N-1, each once)")  # fmt: skip
        parser.add_argument("--output-dir", metavar="DIR", help="where reports go (default eval_results/<task>)")
        parser.add_argument("--overwrite", action="store_true",
                            help="predict every sample again; by default a sample whose prediction files are "
                            "in OUTPUT_DIR/predictions is scored from them (an interrupted run resumes)")  # fmt: skip
        add_shard_argument(parser)
        add_model_arguments(parser)
        add_sampling_arguments(parser)

    def run(self) -> int:
        from tqdm.auto import tqdm

        from ..evaluation.runner import evaluate, format_table, shard_prediction_folders, write_report

        args = self.args
        if args.merge and (args.predictions or args.shard):
            raise DiceptionInputError("--merge scores finished shards; drop --predictions and --shard")
        if args.merge:
            args.predictions = shard_prediction_folders(args.merge, args.task)
        out = Path(args.output_dir or Path("eval_results") / args.task)
        shard = this_process_shard(args.shard)
        machine = Shard(shard.index, shard.count)
        settings = sampling_settings(args)
        if shard.is_main:
            sweep_output_folder(out, args.quiet)

        def samples(share: Shard = machine) -> Iterator:
            """This machine's (or process's) samples, read as they are scored, not held in a list; the first is
            read at once, so a wrong --data fails before a model loads."""
            dataset = iter_dataset(
                args.data, args.task, args.layout, args.images, args.depth_scale, args.limit, args.allow_outside_root
            )
            mine = (s for j, s in enumerate(dataset) if share.holds(j))
            first = next(mine, None)
            return itertools.chain([first] if first is not None else [], mine)

        def prompts() -> list[str]:
            """The prompts to encode when converting the published weights: a category task's come from a pass
            over the dataset's labels (a converted folder needs none: it answers for its own cache)."""
            task = tasks.get(args.task)
            if resolve_model_source(args).model_dir is not None:
                return []
            return sorted({s.prompt for s in samples()}) if task.needs_category else [task.full_prompt()]

        def score(chosen: Iterator, **source) -> object:
            with tqdm(total=args.limit, desc=f"eval {args.task}", disable=args.quiet, leave=False) as bar:
                return evaluate(
                    chosen, args.task, num_inference_steps=settings.num_inference_steps,
                    guidance_scale=settings.guidance_scale, processing_resolution=settings.processing_resolution,
                    batch_size=settings.batch_size, seed=settings.seed, num_points=args.num_points,
                    progress=bar.update, overwrite=args.overwrite, **source,
                )  # fmt: skip

        if args.predictions:
            result = score(samples(), predictions_dir=args.predictions)
        elif shard.processes > 1:  # each process predicts its share; the main one scores the files of all
            chosen = samples(shard)
            pipe = load_pipeline(args, prompts=prompts())
            predicted = score(chosen, pipe=pipe, save_dir=out / "predictions", allow_empty=True)
            for failure in predicted.failed:
                print(f"error: {failure}")
            wait_for_all_processes()
            if not shard.is_main:
                return 1 if predicted.failed else 0
            result = score(samples(), predictions_dir=[out / "predictions"])
        else:
            chosen = samples()
            pipe = load_pipeline(args, prompts=prompts())
            result = score(chosen, pipe=pipe, save_dir=out / "predictions")
        result.shard = "" if machine.count == 1 else str(machine)
        csv_path, json_path = write_report(result, out)
        print(format_table(result))
        for failure in result.failed:
            print(f"error: {failure}")
        what = f" ({machine}: score all shards with --merge REPORT_DIR ...)" if machine.count > 1 else ""
        reused = f" ({result.resumed} from existing prediction files; --overwrite to redo)" if result.resumed else ""
        print(f"{len(result.rows)} samples scored{reused}, {len(result.failed)} failed; wrote {csv_path} and "
              f"{json_path}{what}")  # fmt: skip
        return 1 if result.failed else 0
