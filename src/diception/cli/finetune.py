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
        parser.add_argument("--config", metavar="FILE.yaml",
                            help="a recipe (rank, targets, steps, lr, batch_size, seed, gradient_checkpointing), e.g. "
                            "configs/fewshot_sd3_medium.yaml; flags win")  # fmt: skip
        parser.add_argument("--rank", type=int, metavar="R", help="LoRA rank (default 128, or width/4 if smaller)")
        parser.add_argument("--targets", metavar="STREAMS",
                            help="attention streams whose Q, K, V get LoRA: image, context (default both)")  # fmt: skip
        parser.add_argument("--steps", type=int, metavar="N", help="optimizer steps (default 300)")
        parser.add_argument("--lr", type=float, help="AdamW learning rate (default 2e-5, the paper's)")
        parser.add_argument("--batch-size", type=int, metavar="B", help="pairs per step (default 8)")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--resolution", type=int, metavar="PX",
                            help="training and evaluation side in pixels (default: the model's own)")  # fmt: skip
        parser.add_argument("--gradient-checkpointing", action="store_true", default=None,
                            help="recompute transformer blocks in backward (less memory)")  # fmt: skip
        parser.add_argument("--eval-data", metavar="DATA", help="held-out pairs for the before/after metric "
                            "(default: the training pairs)")  # fmt: skip
        parser.add_argument("--init-prompt", metavar="PROMPT", help="cached prompt a learned prompt embedding "
                            "starts from (default: the nearest by name, else the empty prompt)")  # fmt: skip
        parser.add_argument("--out", required=True, metavar="DIR", help="the adapter folder to write")
        parser.set_defaults(sd3=None, checkpoint=None)

    def run(self) -> int:
        from ..training.finetune import FinetuneSettings, finetune, read_recipe

        args = self.args
        model = resolve_model_source(args).model_dir  # --model, or the bundled model
        recipe = {"targets": "image,context", "steps": 300, "lr": 2e-5, "batch_size": 8, "seed": 0,
                  "gradient_checkpointing": False} | (read_recipe(args.config) if args.config else {})  # fmt: skip
        given = {k: getattr(args, k) for k in recipe | {"rank": None, "resolution": None}
                 if getattr(args, k, None) is not None}  # fmt: skip
        recipe |= given
        result = finetune(FinetuneSettings(
            data=args.data, task_name=args.task_name, prompt=args.prompt or f"[[image2{args.task_name}]]",
            kind=args.kind, model=str(model), out=args.out, rank=recipe.get("rank"),
            targets=tuple(t.strip() for t in str(recipe["targets"]).split(",") if t.strip()),
            steps=int(recipe["steps"]), lr=float(recipe["lr"]), batch_size=int(recipe["batch_size"]),
            seed=int(recipe["seed"]), eval_data=args.eval_data, init_prompt=args.init_prompt,
            gradient_checkpointing=bool(recipe["gradient_checkpointing"]), resolution=recipe.get("resolution"),
        ))  # fmt: skip
        print(f"{result.metric}: {result.before:.4f} -> {result.after:.4f}; trainable "
              f"{100 * result.trainable_fraction:.2f} %; {result.seconds:.0f} s; adapter: {result.folder}")  # fmt: skip
        return 0
