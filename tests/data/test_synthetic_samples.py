"""Synthetic training samples: every task's target decodes back to the scene's ground truth through the
registry codecs; the dataset is deterministic and honours its task weights; the manifest writer's output
reads back through the published-manifest reader."""

import numpy as np
import pytest
from scipy import ndimage

from diception.data.manifest import read_manifest
from diception.data.synthetic import SyntheticTaskDataset, make_sample, render_scene, write_synthetic_dataset
from diception.errors import DiceptionInputError
from diception.tasks import pose, registry
from diception.tasks.pose import KEYPOINT_COLOUR

SIZE = 64


@pytest.fixture(scope="module")
def scene():
    return render_scene(1, SIZE)  # boxes, balls, a cone and two people


def test_make_sample_depth_decodes_to_disparity_affine_in_ground_truth(scene):
    example = make_sample(scene, "depth", np.random.default_rng(0))
    assert example.prompt == "[[image2depth]]" and example.points == ()
    disparity = registry.get("depth").decode(example.target)
    design = np.stack([1.0 / scene.depth.ravel(), np.ones(scene.depth.size)], axis=1)
    fit, *_ = np.linalg.lstsq(design, disparity.ravel(), rcond=None)
    assert np.abs(design @ fit - disparity.ravel()).max() < 1e-3
    assert disparity.min() == 0.0 and disparity.max() == 1.0


def test_make_sample_normal_decodes_to_ground_truth(scene):
    example = make_sample(scene, "normal", np.random.default_rng(0))
    assert example.prompt == "[[image2normal]]"
    np.testing.assert_allclose(registry.get("normal").decode(example.target), scene.normals, atol=1e-5)


def test_make_sample_segmentation_points_lie_on_the_decoded_object(scene):
    rng = np.random.default_rng(3)
    counts = set()
    for _ in range(10):
        example = make_sample(scene, "segmentation", rng)
        assert example.prompt == "[[image2segmentation]]" and 1 <= len(example.points) <= 5
        counts.add(len(example.points))
        pixels = [(int(y * SIZE), int(x * SIZE)) for x, y in example.points]  # (row, col); centres at +0.5
        ids = {int(scene.instance_ids[r, c]) for r, c in pixels}
        assert len(ids) == 1 and 0 not in ids
        decoded = registry.get("segmentation").decode(example.target)
        np.testing.assert_array_equal(decoded.mask, scene.instance_ids == ids.pop())  # IoU 1
        assert decoded.score == 1.0
    assert len(counts) > 1


def _matched_iou(decoded, mask):
    return max(((inst.mask & mask).sum() / (inst.mask | mask).sum() for inst in decoded), default=0.0)


def _solid(mask):
    """Big and thick enough that the instance decoder keeps it (it drops tiny pieces and thin blends)."""
    return mask.sum() >= 32 and ndimage.distance_transform_edt(np.pad(mask, 1)).max() > 3.5


def _decodable(ids, instance):
    """One solid connected piece whose neighbours are solid too (the decoder may hand a dropped neighbour's
    pixels to it)."""
    mask = ids == instance
    around = np.unique(ids[ndimage.binary_dilation(mask, iterations=2) & ~mask])
    return _solid(mask) and ndimage.label(mask)[1] == 1 and all(_solid(ids == n) for n in around if n > 0)


@pytest.mark.parametrize("task", ["semantic", "entity"])
def test_make_sample_instances_decode_to_ground_truth(task):
    scene = render_scene(5, 96)  # big boxes and balls, a person, small things beside them
    rng = np.random.default_rng(5)
    prompts, checked = set(), 0
    for _ in range(6):
        example = make_sample(scene, task, rng)
        prompts.add(example.prompt)
        spec = registry.get(task)
        if task == "semantic":
            category = example.prompt.removeprefix(spec.prompt + " ")
            assert category in scene.instance_categories.values()
            wanted = [i for i, c in scene.instance_categories.items() if c == category]
        else:
            assert example.prompt == "[[image2entity]]"
            wanted = list(scene.instance_categories)
        decoded = spec.decode(example.target)
        for inst in decoded:  # mostly one asked instance (the decoder fills holes and absorbs tiny neighbours)
            ids, counts = np.unique(scene.instance_ids[inst.mask], return_counts=True)
            assert ids[counts.argmax()] in wanted and counts.max() > 0.5 * inst.area
        for i in wanted:
            mask = scene.instance_ids == i
            if scene.instance_categories[i] != "person" and _decodable(scene.instance_ids, i):
                assert _matched_iou(decoded, mask) == 1.0
                checked += 1
    assert checked >= 1
    if task == "semantic":
        assert len(prompts) > 1


def test_make_sample_pose_draws_each_labelled_keypoint_where_it_is(scene):
    example = make_sample(scene, "pose", np.random.default_rng(0))
    assert example.prompt == "[[image2pose]]" and len(scene.keypoints) >= 1
    np.testing.assert_array_equal(example.target, pose.encode(list(scene.keypoints.values()), scene.size))
    red = np.asarray(KEYPOINT_COLOUR, dtype=np.float32) / 255
    labelled = np.concatenate(list(scene.keypoints.values()))
    labelled = labelled[labelled[:, 2] > 0]
    for x, y, _ in labelled:
        np.testing.assert_array_equal(example.target[round(float(y)), round(float(x))], red)


def test_make_sample_pose_decodes_to_ground_truth_keypoints_for_a_large_person():
    scene = render_scene(4, 128)  # a person close to the camera: keypoint discs do not merge
    example = make_sample(scene, "pose", np.random.default_rng(0))
    truth = list(scene.keypoints.values())
    best = 0
    for person in registry.get("pose").decode(example.target):
        found = np.nonzero(person.keypoints[:, 2] > 0)[0]
        for kp in truth:
            error = np.hypot(*(person.keypoints[found, :2] - kp[found, :2]).T)
            if (kp[found, 2] > 0).all() and error.max() < 1.0:
                best = max(best, len(found))
    assert best >= 10


def test_make_sample_rejects_unknown_task(scene):
    with pytest.raises(DiceptionInputError, match="unknown task 'flow'"):
        make_sample(scene, "flow", np.random.default_rng(0))


def test_dataset_is_deterministic_and_follows_task_weights():
    data = SyntheticTaskDataset("validation", size=48, task_weights={"depth": 1.0, "pose": 3.0}, num_scenes=6)
    assert len(data) == 6 and data.tasks == tuple(registry.task_names())
    items = list(data)
    again = data[2]
    np.testing.assert_array_equal(items[2].image, again.image)
    np.testing.assert_array_equal(items[2].target, again.target)
    assert {item.task for item in items} <= {"depth", "pose"}
    first = items[0]
    assert first.image.shape == (48, 48, 3) and first.image.dtype == np.float32 and first.image.min() >= 0
    assert first.target.shape == (48, 48, 3) and first.image.max() <= 1
    data.set_epoch(1)
    assert [d.task for d in data] != [item.task for item in items]  # fresh draws, same scenes
    np.testing.assert_array_equal(data[0].image, first.image)
    only = SyntheticTaskDataset("test", size=48, tasks=["segmentation"], num_scenes=2)
    assert all(item.prompt == "[[image2segmentation]]" and item.points for item in only)


def test_dataset_rejects_bad_arguments():
    with pytest.raises(DiceptionInputError, match="task_weights has 1 entries for 2 tasks"):
        SyntheticTaskDataset(tasks=["depth", "pose"], task_weights=[1.0])
    with pytest.raises(DiceptionInputError, match="not in tasks: entity"):
        SyntheticTaskDataset(tasks=["depth"], task_weights={"entity": 1.0})
    with pytest.raises(DiceptionInputError, match="positive sum"):
        SyntheticTaskDataset(tasks=["depth"], task_weights=[0.0])
    with pytest.raises(DiceptionInputError, match="unknown split"):
        SyntheticTaskDataset(split="dev")


def test_written_dataset_reads_back_through_the_manifest_reader(tmp_path):
    manifest = write_synthetic_dataset(tmp_path / "synth", count=2, split="test", size=48)
    samples, errors = read_manifest(manifest)
    assert errors == []
    scenes = {f"test_{seed:08d}": render_scene(seed, 48) for seed in (20_000_000, 20_000_001)}
    tasks_seen = set()
    for sample in samples:
        tasks_seen.add(sample.task)
        s = scenes[sample.image_path.stem]
        if sample.task == "depth":
            np.testing.assert_array_equal(sample.depth, s.depth)
            assert sample.valid_mask.all()
        elif sample.task == "normal":
            np.testing.assert_allclose(sample.normals, s.normals, atol=1e-6)
        elif sample.task == "segmentation":
            instance = int(sample.sample_id.split("#")[1])
            np.testing.assert_array_equal(sample.mask, s.instance_ids == instance)
            for x, y in sample.points:
                assert s.instance_ids[int(y * 48), int(x * 48)] == instance
        elif sample.task == "entity":
            assert sorted(sample.instance_categories.values()) == sorted(s.instance_categories.values())
            np.testing.assert_array_equal(sample.instances > 0, s.instance_ids > 0)
        elif sample.task == "semantic":
            np.testing.assert_array_equal(sample.instances > 0, s.category_mask(sample.category))
        else:
            assert len(sample.keypoints) == len(s.keypoints)
            for got, want in zip(sample.keypoints, s.keypoints.values()):
                np.testing.assert_allclose(got, want, atol=1e-3)
    assert tasks_seen == set(registry.task_names())
