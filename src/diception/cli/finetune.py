"""``diception finetune``: teach a model a new task from example pairs with LoRA, into an adapter folder.

DATA is a folder with images/<stem>.<ext> and targets/<stem>.png (the picture the model should draw), or a JSON
/ JSONL manifest of {"input", "target"}. --kind says how the picture is read: grey (an (H, W) map), rgb, or
mask. The paper's recipe is the default: rank-128 LoRA (or a quarter of a small model's width) on the
attention Q, K and V projections of both streams, lr 2e-5, batch 8. Then:

  diception predict img.jpg --task NAME --adapter OUT
  diception eval --task NAME --data HELD_OUT --adapter OUT
"""

from __future__ import annotations

import argparse

from ..tasks.user_tasks import KINDS
from .command import Command
from .model_options import resolve_model_source


class FinetuneCommand(Command):
    """Teach a new task with LoRA."""

    name = "finetune"
    help = "teach a model a new task from ~50 example pairs with LoRA (an adapter folder)"
    raw_description = True

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--data", required=True, metavar="DATA",
                            help="pairs folder (images/, targets/) or manifest")  # fmt: skip
        parser.add_argument("--task-name", required=True, metavar="NAME", help="the new task's name, e.g. floor_mask")
        parser.add_argument("--prompt", metavar="PROMPT", help="its prompt (default: [[image2NAME]])")
        parser.add_argument("--kind", required=True, choices=KINDS, help="how the target picture is read")
        parser.add_argument("--model", metavar="DIR", help="base model folder (default: the bundled model)")
        parser.add_argument("--rank", type=int, metavar="R", help="LoRA rank (default 128, or width/4 if smaller)")
        parser.add_argument("--targets", default="image,context", metavar="STREAMS",
                            help="attention streams whose Q, K, V get LoRA: image, context (default both)")  # fmt: skip
        parser.add_argument("--steps", type=int, default=300, metavar="N", help="optimizer steps (default 300)")
        parser.add_argument("--lr", type=float, default=2e-5, help="AdamW learning rate (default 2e-5, the paper's)")
        parser.add_argument("--batch-size", type=int, default=8, metavar="B", help="pairs per step (default 8)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--eval-data", metavar="DATA", help="held-out pairs for the before/after metric "
                            "(default: the training pairs)")  # fmt: skip
        parser.add_argument("--init-prompt", metavar="PROMPT", help="cached prompt a learned prompt embedding "
                            "starts from (default: the nearest by name, else the empty prompt)")  # fmt: skip
        parser.add_argument("--out", required=True, metavar="DIR", help="the adapter folder to write")
        parser.set_defaults(sd3=None, checkpoint=None)

    def run(self) -> int:
        from ..training.finetune import FinetuneSettings, finetune

        args = self.args
        model = resolve_model_source(args).model_dir  # --model, or the bundled model
        result = finetune(FinetuneSettings(
            data=args.data, task_name=args.task_name, prompt=args.prompt or f"[[image2{args.task_name}]]",
            kind=args.kind, model=str(model), out=args.out, rank=args.rank,
            targets=tuple(t.strip() for t in args.targets.split(",") if t.strip()), steps=args.steps, lr=args.lr,
            batch_size=args.batch_size, seed=args.seed, eval_data=args.eval_data, init_prompt=args.init_prompt,
        ))  # fmt: skip
        print(f"{result.metric}: {result.before:.4f} -> {result.after:.4f}; trainable "
              f"{100 * result.trainable_fraction:.2f} %; {result.seconds:.0f} s; adapter: {result.folder}")  # fmt: skip
        return 0
