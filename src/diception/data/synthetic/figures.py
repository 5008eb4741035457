"""Articulated stick people: capsules for the torso and limbs, a sphere for the head, COCO-17 keypoints.

A figure is posed in its own frame (facing +z, its left side at +x, feet near y = 0), turned about the
vertical by its heading and moved to its place on the floor. Poses are drawn from a few plausible families
(standing, walking, reaching up, arms out); limb angles vary inside each. The COCO keypoints are the joints
(shoulders, elbows, wrists, hips, knees, ankles: on the capsules' axes) and five points on the head sphere's
surface (nose, eyes, ears) placed by where the head faces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...tasks.pose import KEYPOINT_NAMES
from .shapes import Capsule, Sphere

HEIGHT_RANGE = (1.5, 1.9)  # metres
POSES = ("stand", "walk", "reach", "arms_out")
FACE_KEYPOINTS = 5  # nose, eyes and ears: the first five COCO keypoints lie on the head's surface


@dataclass(frozen=True)
class Figure:
    """One posed person in world coordinates.

    Attributes:
        parts: the capsules and the head sphere, with a part name each (``"torso"``, ``"left_forearm"``, ...).
        keypoints: ``(17, 3)`` world positions in COCO-17 order (:data:`~diception.tasks.pose.KEYPOINT_NAMES`).
        keypoint_depth_slack: ``(17,)`` metres a keypoint may lie behind the visible surface and still count as
            visible: the radius of the part it sits inside (joints) or a small margin (face points).
        footprint: ``(x, z, radius)`` on the floor, for placing figures without overlap.
    """

    parts: tuple[tuple[str, Capsule | Sphere], ...]
    keypoints: np.ndarray
    keypoint_depth_slack: np.ndarray
    footprint: tuple[float, float, float]


def _limb_direction(flexion: float, abduction: float, side: float) -> np.ndarray:
    """Unit direction of a limb hanging down, swung forward by ``flexion`` and outward by ``abduction``."""
    return np.array(
        [side * np.sin(abduction), -np.cos(abduction) * np.cos(flexion), np.cos(abduction) * np.sin(flexion)]
    )


def _sample_angles(rng: np.random.Generator, pose: str) -> dict[str, np.ndarray]:
    """Joint angles (radians) per side ``[left, right]`` for one pose family."""
    u = rng.uniform
    legs = np.full(2, u(-0.05, 0.1))
    knees = u(0.0, 0.15, 2)
    arms, arm_out, elbows = u(-0.2, 0.3, 2), u(0.05, 0.3, 2), u(0.05, 0.6, 2)
    if pose == "walk":
        swing = u(0.2, 0.5) * rng.choice([-1, 1])
        legs = np.array([swing, -swing])
        knees = np.where(legs < 0, u(0.3, 0.8), u(0.0, 0.2))
        arms = -0.8 * legs + u(-0.1, 0.1, 2)
    elif pose == "reach":
        side = rng.integers(2)
        arms[side], arm_out[side], elbows[side] = u(2.2, 3.0), u(0.0, 0.4), u(0.0, 0.5)
        if rng.random() < 0.4:
            arms[1 - side], elbows[1 - side] = u(0.8, 1.6), u(0.0, 1.8)
    elif pose == "arms_out":
        arm_out, arms, elbows = u(1.1, 1.6, 2), u(-0.2, 0.5, 2), u(0.0, 1.2, 2)
    return {"legs": legs, "leg_out": u(0.0, 0.15, 2), "knees": knees, "arms": arms, "arm_out": arm_out,
            "elbows": elbows}  # fmt: skip


def sample_figure(rng: np.random.Generator, position: tuple[float, float], heading: float) -> Figure:
    """A random person standing at floor point ``position`` ``(x, z)``, facing ``heading`` radians (0 = +z)."""
    height = rng.uniform(*HEIGHT_RANGE)
    s = height / 1.75  # proportions below are for a 1.75 m person
    pose = POSES[int(rng.choice(len(POSES), p=[0.3, 0.35, 0.2, 0.15]))]
    a = _sample_angles(rng, pose)
    r_torso, r_bar, r_thigh, r_shin, r_upper, r_fore = (v * s for v in (0.12, 0.06, 0.07, 0.055, 0.05, 0.042))
    head_r = 0.11 * s
    thigh, shin, upper, fore = 0.43 * s, 0.43 * s, 0.29 * s, 0.27 * s
    lean = rng.uniform(-0.08, 0.2)

    # 1. skeleton in the figure's frame, pelvis at the origin
    sides = (1.0, -1.0)  # left at +x, right at -x
    hips = [np.array([side * 0.095 * s, 0.0, 0.0]) for side in sides]
    knees = [h + thigh * _limb_direction(a["legs"][i], a["leg_out"][i], sides[i]) for i, h in enumerate(hips)]
    ankles = [
        k + shin * _limb_direction(a["legs"][i] - a["knees"][i], a["leg_out"][i], sides[i]) for i, k in enumerate(knees)
    ]
    neck = 0.52 * s * np.array([0.0, np.cos(lean), np.sin(lean)])
    shoulders = [neck + np.array([side * 0.19 * s, -0.03 * s, 0.0]) for side in sides]
    elbows = [sh + upper * _limb_direction(a["arms"][i], a["arm_out"][i], sides[i]) for i, sh in enumerate(shoulders)]
    wrists = [
        e + fore * _limb_direction(a["arms"][i] + a["elbows"][i], a["arm_out"][i], sides[i])
        for i, e in enumerate(elbows)
    ]
    head = neck + np.array([0.0, 0.05 * s + head_r, 0.02 * s])

    # 2. where the head looks: face keypoints on the head sphere
    yaw, pitch = rng.uniform(-0.7, 0.7), rng.uniform(-0.25, 0.3)
    face = np.array([np.sin(yaw) * np.cos(pitch), -np.sin(pitch), np.cos(yaw) * np.cos(pitch)])
    left = np.cross([0.0, 1.0, 0.0], face)
    left /= np.linalg.norm(left)
    up = np.cross(face, left)

    def on_head(v: np.ndarray) -> np.ndarray:
        return head + head_r * v / np.linalg.norm(v)

    face_points = [
        on_head(face - 0.15 * up),  # nose
        on_head(face + 0.3 * up + 0.45 * left),  # left eye
        on_head(face + 0.3 * up - 0.45 * left),  # right eye
        on_head(left - 0.2 * face + 0.1 * up),  # left ear
        on_head(-left - 0.2 * face + 0.1 * up),  # right ear
    ]
    local = np.array([*face_points, *shoulders, *elbows, *wrists, *hips, *knees, *ankles])  # COCO-17 order

    # 3. stand on the floor, turn to the heading, move into place
    lowest = min(ankles[0][1], ankles[1][1]) - r_shin
    c, sn = np.cos(heading), np.sin(heading)
    rotation = np.array([[c, 0.0, sn], [0.0, 1.0, 0.0], [-sn, 0.0, c]])
    shift = np.array([position[0], -lowest, position[1]])

    def world(p: np.ndarray) -> np.ndarray:
        return p @ rotation.T + shift

    kp = world(local)
    k = {name: kp[i] for i, name in enumerate(KEYPOINT_NAMES)}
    pelvis, neck_w, head_w = world(np.zeros(3)), world(neck), world(head)
    parts: list[tuple[str, Capsule | Sphere]] = [
        ("torso", Capsule(pelvis + (neck_w - pelvis) * 0.1, neck_w - (neck_w - pelvis) * 0.12, r_torso)),
        ("shoulders", Capsule(k["left_shoulder"], k["right_shoulder"], r_bar)),
        ("hips", Capsule(k["left_hip"], k["right_hip"], r_bar * 1.3)),
        ("neck", Capsule(neck_w, head_w, 0.045 * s)),
        ("head", Sphere(head_w, head_r)),
    ]
    for side in ("left", "right"):
        parts += [
            (f"{side}_upper_arm", Capsule(k[f"{side}_shoulder"], k[f"{side}_elbow"], r_upper)),
            (f"{side}_forearm", Capsule(k[f"{side}_elbow"], k[f"{side}_wrist"], r_fore)),
            (f"{side}_thigh", Capsule(k[f"{side}_hip"], k[f"{side}_knee"], r_thigh)),
            (f"{side}_shin", Capsule(k[f"{side}_knee"], k[f"{side}_ankle"], r_shin)),
        ]
    face_slack = 0.3 * head_r
    joint_radius = [r_bar, r_bar, r_upper, r_upper, r_fore, r_fore, r_torso, r_torso, r_thigh, r_thigh, r_shin, r_shin]
    slack = np.array([face_slack] * FACE_KEYPOINTS + [r + face_slack for r in joint_radius])
    reach = float(np.max(np.hypot(kp[:, 0] - position[0], kp[:, 2] - position[1]))) + r_torso
    return Figure(tuple(parts), kp, slack, (float(position[0]), float(position[1]), reach))
