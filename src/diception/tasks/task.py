"""What a task is: one object holding everything the package needs to know about one perception task.

Every caller (pipeline, command line, data readers, evaluation, training, demos) goes through this interface
and never tests a task's name. A new task is a subclass in one module, registered with
:func:`diception.tasks.register`:

==========================  =======================================================================================
prompt                      :attr:`Task.prompt`, :meth:`Task.full_prompt` (with a category when it takes one)
ground truth -> picture     :meth:`Task.target_picture` (a :class:`~diception.data.Sample`'s ground truth),
                            :meth:`Task.draw_example` (a training example, with the task's random choices)
ground-truth files          :meth:`Task.read_ground_truth` / :meth:`Task.write_ground_truth` (manifest layout)
picture -> prediction       :meth:`Task.decode`
prediction files            :attr:`Task.files`, :meth:`Task.output_files`, :meth:`Task.read_prediction`
scoring                     :meth:`Task.scorer`, :meth:`Task.baseline`, :meth:`Task.picture_metrics`
points                      :attr:`Task.accepts_points`, :meth:`Task.eval_points`, :meth:`Task.training_points`
==========================  =======================================================================================

The defaults make a task whose answer is the picture itself (an RGB map, its ground truth a target picture
given as ``Sample.target`` or an image file); the six DICEPTION tasks override what differs.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np

from ..atomic_files import write_atomically
from ..data.array_files import load_npy
from ..errors import DiceptionInputError
from . import prediction_files as files
from .points import Points

if TYPE_CHECKING:
    from ..data.sample import Sample

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg")
SIDE_BY_SIDE = "side"  # the output name of the input | output picture every task writes


class TaskExample(NamedTuple):
    """One task asked of one image: the target picture ``(H, W, 3)`` float32 in [0, 1], the exact prompt, and
    the point prompts (normalised ``(x, y)``)."""

    target: np.ndarray
    prompt: str
    points: Points


@dataclass(frozen=True)
class GroundTruthOptions:
    """How ground-truth files are read: ``depth_scale`` (metres per unit of 16-bit depth PNGs) and
    ``counts_encoding`` of inline RLE targets (``"auto"``, ``"coco"`` or ``"base64"``)."""

    depth_scale: float | None = None
    counts_encoding: str = "auto"


class Scorer(Protocol):
    """Scores one task on a dataset: ``add`` returns one sample's CSV row, ``summary`` the dataset's metrics."""

    def add(self, sample: Sample, prediction: Any) -> dict: ...

    def summary(self) -> dict[str, float]: ...


def load_picture(path: str | Path) -> np.ndarray:
    """An image file as ``(H, W, 3)`` float32 in [0, 1]."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


class Task:
    """One perception task. Subclasses set the class attributes and override the methods that differ.

    Attributes:
        name: short name used by the API and the command line (``"depth"``).
        prompt: the text prompt the model was trained with (``"[[image2depth]]"``).
        description: one line for help texts.
        output: what the model's RGB picture encodes, for the docs.
        prediction_kind: what :meth:`decode` returns, for the docs (``"rgb"``: the picture itself).
        needs_category: the prompt takes a category (``[[image2semantic]] person``).
        accepts_points: the task reads point prompts.
        fast_preset_ok: one step without guidance gives near-full quality (paper, Sec. 4).
        files: ``(name, suffix, writer)`` of the files a prediction writes beside ``<base>.png`` (the side-by-side
            picture, named ``side``); a job may ask for some of them by name (``--outputs npy,side``).
    """

    name: str = ""
    prompt: str = ""
    description: str = ""
    output: str = "an RGB picture"
    prediction_kind: str = "rgb"
    needs_category: bool = False
    accepts_points: bool = False
    fast_preset_ok: bool = False
    files: tuple[tuple[str, str, files.Writer], ...] = (
        ("picture", "_output.png", files.write_rgb_png),
        ("npy", ".npy", files.write_float32_npy),
    )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, prompt={self.prompt!r})"

    # -------------------------------------------------------------------------------------------------- prompt
    def full_prompt(self, category: str | None = None) -> str:
        """The exact prompt string (with the category appended for a task that takes one)."""
        if self.needs_category:
            if not category or not category.strip():
                raise DiceptionInputError(
                    f"task '{self.name}' needs a category, e.g. category='person' (CLI: --category person)"
                )
            return f"{self.prompt} {category.strip()}"
        if category:
            raise DiceptionInputError(f"task '{self.name}' takes no category; drop category='{category}'")
        return self.prompt

    # ------------------------------------------------------------------------------- ground truth -> picture
    def has_ground_truth(self, sample: Sample) -> bool:
        """Whether :meth:`target_picture` can draw ``sample``'s target."""
        return sample.target is not None or _is_picture_file(sample.target_path)

    def target_picture(self, sample: Sample, rng: np.random.Generator | None = None) -> np.ndarray:
        """The ``(H, W, 3)`` float32 picture in [0, 1] the model is trained to draw for ``sample``.

        ``rng`` makes the task's free choices (the instance tasks' colours); without it they are fixed.
        """
        if sample.target is not None:
            return np.clip(np.asarray(sample.target, dtype=np.float32), 0.0, 1.0)
        if _is_picture_file(sample.target_path):
            return load_picture(sample.target_path)
        raise DiceptionInputError(f"sample {sample.sample_id or sample.image_path} ({self.name}) has no ground truth")

    def draw_example(self, sample: Sample, rng: np.random.Generator) -> TaskExample:
        """A training example from ``sample``, making the task's random choices with ``rng`` where the sample
        leaves them open (which object to segment and where its points go, which category to name)."""
        return TaskExample(self.target_picture(sample, rng), self.full_prompt(sample.category), tuple(sample.points))

    def training_points(self, given: Points, target: np.ndarray, rng: np.random.Generator, min_points: int,
                        max_points: int) -> Points:  # fmt: skip
        """The points a training example feeds the model (``()`` for a task without points)."""
        return ()

    # ---------------------------------------------------------------------------------- ground-truth files
    def read_ground_truth(self, sample: Sample, path: Path, options: GroundTruthOptions) -> list[Sample]:
        """The samples a manifest record with target file ``path`` gives (``sample`` has the image and prompt).

        The default keeps a picture file as the target picture; other files are refused.
        """
        if not _is_picture_file(path):
            raise DiceptionInputError(
                f"task '{self.name}' reads a target picture ({', '.join(PICTURE_SUFFIXES)}), not {path.name}"
            )
        return [replace(sample, target_path=path)]

    def ground_truth_from_mask(self, sample: Sample, mask: np.ndarray) -> list[Sample]:
        """The samples of a record whose target is an inline RLE mask; only mask tasks take one."""
        from .registry import TASKS

        takers = [t.name for t in TASKS.values() if type(t).ground_truth_from_mask is not Task.ground_truth_from_mask]
        raise DiceptionInputError(f"an inline RLE target fits {', '.join(takers)}, not task '{self.name}'")

    def write_ground_truth(self, sample: Sample, folder: Path, stem: str, rng: np.random.Generator
                           ) -> list[tuple[str, str]]:  # fmt: skip
        """Write ``sample``'s ground truth into ``folder`` (files named ``<stem>_...``) in the layout
        :meth:`read_ground_truth` reads; returns ``(prompt, file name)`` per manifest record."""
        name = f"{stem}_{self.name}.png"
        write_atomically(folder / name, lambda s: files.png_bytes(files.to_uint8(self.target_picture(sample)), s))
        return [(self.full_prompt(), name)]

    def complete_request(self, sample: Sample, rng: np.random.Generator, every_region: bool = False
                         ) -> list[Sample]:  # fmt: skip
        """The runnable requests of a batch record: its missing prompt inputs (a category, points) taken from
        its ground truth (``rng`` seeded per record); ``every_region`` asks for one request per region."""
        self.full_prompt(sample.category)  # a missing category is an error here
        return [sample]

    # ------------------------------------------------------------------------------ picture -> prediction
    def decode(self, picture: np.ndarray) -> Any:
        """The structured prediction read from the model's ``(H, W, 3)`` picture in [0, 1]."""
        return np.clip(np.asarray(picture, dtype=np.float32), 0.0, 1.0)

    def output_names(self) -> list[str]:
        """The names :meth:`output_files` takes: ``side`` and those of :attr:`files`."""
        return [SIDE_BY_SIDE] + [name for name, _, _ in self.files]

    def output_files(self, base: Path, side_by_side: Path | None = None, outputs: Collection[str] | None = None
                     ) -> list[files.OutputFile]:  # fmt: skip
        """The side-by-side picture (default ``<base>.png``) and ``<base><suffix>`` for each of :attr:`files`; only
        those named in ``outputs`` when given (names this task does not have are skipped)."""
        wanted = set(self.output_names() if outputs is None else outputs)
        out = []
        if SIDE_BY_SIDE in wanted:
            out.append(files.OutputFile(side_by_side or files.with_suffix(base, ".png"), files.write_side_by_side))
        return out + [files.OutputFile(files.with_suffix(base, suffix), writer)
                      for name, suffix, writer in self.files if name in wanted]  # fmt: skip

    def read_prediction(self, base: Path) -> Any:
        """What :meth:`decode` returned, read back from the files :meth:`output_files` wrote at ``base``."""
        return load_npy(files.existing_file(base, ".npy")).astype(np.float32)

    def display_picture(self, prediction: files.Prediction) -> np.ndarray:
        """The output half of the side-by-side picture, ``(H, W, 3)`` in [0, 1]."""
        return prediction.picture

    def published_array(self, prediction: files.Prediction) -> np.ndarray:
        """What the published batch script saves as ``.npy`` (channels last here; written channels first)."""
        return prediction.picture

    # ------------------------------------------------------------------------------------------- scoring
    def scorer(self) -> Scorer:
        """A fresh scorer for a dataset of this task (default: picture L1 and PSNR against the target)."""
        from ..evaluation.scorers import PerImageScorer, picture_metrics

        return PerImageScorer(lambda prediction, sample: picture_metrics(prediction, self.target_picture(sample)))

    def baseline(self, sample: Sample) -> Any:
        """A trivial prediction any model must beat (default: mid-grey)."""
        height, width = sample.image_size()
        return np.full((height, width, 3), 0.5, dtype=np.float32)

    def picture_metrics(self, predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
        """Training-validation metrics of a predicted picture against its target picture (beyond picture L1)."""
        return {}

    def eval_points(self, sample: Sample, num_points: int, rng: np.random.Generator) -> Points:
        """The points an evaluation feeds the model for ``sample`` (``()`` for a task without points)."""
        return ()


def _is_picture_file(path: Path | None) -> bool:
    return path is not None and Path(path).suffix.lower() in PICTURE_SUFFIXES and Path(path).is_file()
