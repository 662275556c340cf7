#!/usr/bin/env python3
"""Small DINO-WM-format datasets and what the reference's own dataset classes return for them.

The reference (simchowitzlabpublic/nano-world-model, src/wm_datasets) is IMPORTED from the
folder given with --reference (its src/); nothing of it is copied here.

Usage (from the repository root):

    .venv/bin/python Tests/Fixtures/make_dataset_fixtures.py --reference /tmp/nwm-ref/src \
        --out Tests/Fixtures/datasets

Writes, laid out as upstream expects under ${DATASET_DIR}:
  point_maze/, wall_single/, pusht_noise/{train,val}/ (MP4 frames), deformable/{rope,granular}/
and, per dataset, reference/<name>.safetensors (items: video in [-1,1], action, state) and
reference/<name>.json (split orders, slice lists, item slices, statistics-cache name, the
fixed-subset JSON text, random-mode draws). The reference runs on a temporary copy, so its
statistics cache never lands in the committed folders; the cache file it wrote is kept as
reference/<name>_stats_cache.pt.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import save_file

NUM_FRAMES = 4
IMAGE_SIZE = 8
FRAME_H, FRAME_W = 6, 8  # native frames: not square, so the stretch resize is exercised

# The loader settings of our configs/dataset/dino_wm/*.yaml (upstream's keys and values).
BASE_LOADER = dict(n_rollout=None, data_path_train=None, data_path_val=None, split_ratio=0.9, validation_size=32,
                   normalize_state=False, normalize_action=True, train_slice_mode="exhaustive",
                   val_slice_mode="exhaustive", stride=1, random_seed=42, validation_fixed_subset_path=None,
                   validation_fixed_subset_size=None, validation_fixed_subset_seed=42, use_relative_actions=None,
                   action_scale=1.0, with_velocity=None, object_name=None)
DATASETS = {
    "point_maze": dict(fi=5, loader=dict(data_path="point_maze", normalize_action=True)),
    "wall": dict(fi=5, loader=dict(data_path="wall_single", normalize_action=False, resize_mode="pad")),
    "pusht": dict(fi=5, loader=dict(data_path_train="pusht_noise/train", data_path_val="pusht_noise/val",
                                    use_relative_actions=True, with_velocity=True, action_scale=100.0,
                                    normalize_action=True)),
    "rope": dict(fi=1, loader=dict(data_path="deformable", action_scale=1.0, object_name="rope", normalize_action=False)),
    "granular": dict(fi=1, loader=dict(data_path="deformable", action_scale=1.0, object_name="granular",
                                       normalize_action=False)),
}


def frames(rng, n):
    return torch.from_numpy(rng.integers(0, 256, size=(n, FRAME_H, FRAME_W, 3), dtype=np.uint8))


def write_pth_dataset(folder, rng, count, max_t, lengths, seq_file, numpy_episode):
    os.makedirs(os.path.join(folder, "obses"), exist_ok=True)
    torch.save(torch.from_numpy(rng.normal(size=(count, max_t, 4)).astype(np.float32)), os.path.join(folder, "states.pth"))
    torch.save(torch.from_numpy(rng.normal(0.3, 2.0, size=(count, max_t, 2)).astype(np.float32)), os.path.join(folder, "actions.pth"))
    torch.save(torch.from_numpy(rng.normal(size=(count, max_t, 2)).astype(np.float32)), os.path.join(folder, "velocities.pth"))
    if seq_file == "pkl":
        with open(os.path.join(folder, "seq_lengths.pkl"), "wb") as f:
            pickle.dump([int(x) for x in lengths], f)
    for i in range(count):
        video = frames(rng, lengths[i])
        # one episode as a NumPy array inside torch.save, as some DINO-WM files are
        torch.save(video.numpy() if i == numpy_episode else video, os.path.join(folder, "obses", f"episode_{i:03d}.pth"))


def write_mp4(path, video):
    import cv2
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 10, (video.shape[2], video.shape[1]))
    for frame in video:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


def write_pusht(folder, rng, count, lengths):
    os.makedirs(os.path.join(folder, "obses"), exist_ok=True)
    max_t = max(lengths)
    torch.save(torch.from_numpy(rng.normal(size=(count, max_t, 5)).astype(np.float32)), os.path.join(folder, "states.pth"))
    torch.save(torch.from_numpy(rng.normal(size=(count, max_t, 2)).astype(np.float32)), os.path.join(folder, "velocities.pth"))
    torch.save(torch.from_numpy(rng.normal(0, 40, size=(count, max_t, 2)).astype(np.float32)), os.path.join(folder, "rel_actions.pth"))
    torch.save(torch.from_numpy(rng.normal(200, 60, size=(count, max_t, 2)).astype(np.float32)), os.path.join(folder, "abs_actions.pth"))
    torch.save(torch.tensor(lengths), os.path.join(folder, "seq_lengths.pth"))
    with open(os.path.join(folder, "shapes.pkl"), "wb") as f:
        pickle.dump(["T" if i % 2 else "L" for i in range(count)], f)
    for i in range(count):
        # smooth content, so the lossy codec keeps it recognisable
        base = rng.integers(0, 256, size=(1, 2, 2, 3)).astype(np.float32)
        t = np.arange(lengths[i], dtype=np.float32)[:, None, None, None]
        video = np.clip(base + 3.0 * t, 0, 255).astype(np.uint8).repeat(16, axis=1).repeat(16, axis=2)
        write_mp4(os.path.join(folder, "obses", f"episode_{i:03d}.mp4"), video)


def write_deformable(folder, rng, count, steps):
    os.makedirs(folder, exist_ok=True)
    torch.save(torch.from_numpy(rng.normal(size=(count, steps, 3, 3)).astype(np.float32)), os.path.join(folder, "states.pth"))
    torch.save(torch.from_numpy(rng.normal(size=(count, steps, 4)).astype(np.float32)), os.path.join(folder, "actions.pth"))
    for i in range(count):
        os.makedirs(os.path.join(folder, f"{i:06d}"), exist_ok=True)
        torch.save(frames(rng, steps), os.path.join(folder, f"{i:06d}", "obses.pth"))


def write_datasets(root):
    rng = np.random.default_rng(20260)
    lengths = [int(x) for x in rng.integers(17, 27, size=20)]  # some shorter than a clip's 20 steps
    write_pth_dataset(os.path.join(root, "point_maze"), rng, 20, 26, lengths, "pkl", numpy_episode=1)
    write_pth_dataset(os.path.join(root, "wall_single"), rng, 12, 22, [22] * 12, None, numpy_episode=None)
    write_pusht(os.path.join(root, "pusht_noise", "train"), rng, 6, [20, 23, 21, 24, 22, 20])
    write_pusht(os.path.join(root, "pusht_noise", "val"), rng, 4, [22, 21, 24, 20])
    write_deformable(os.path.join(root, "deformable", "rope"), rng, 8, 8)
    write_deformable(os.path.join(root, "deformable", "granular"), rng, 8, 9)


def slices(dataset):
    return [[s.traj_idx, s.start_frame, s.end_frame] for s in (dataset.all_slices[i] for i in dataset.slice_indices)]


def record(name, spec, data_root, out, wm):
    loader = dict(BASE_LOADER)
    loader.update(spec["loader"])
    for key in ("data_path", "data_path_train", "data_path_val"):
        if loader.get(key):
            loader[key] = os.path.join(data_root, loader[key])
    kwargs = {k: v for k, v in loader.items() if k not in ("validation_size", "validation_fixed_subset_path",
                                                           "validation_fixed_subset_size", "validation_fixed_subset_seed")}
    train, val = wm.create_train_val_datasets(dataset_name=name, num_frames=NUM_FRAMES, frame_interval=spec["fi"],
                                              image_size=IMAGE_SIZE, **kwargs)
    tensors, items = {}, {}
    for split, dataset, picks in (("train", train, range(0, len(train), max(1, len(train) // 8))),
                                  ("val", val, range(min(len(val), 8)))):
        batch = [dataset[i] for i in picks]
        tensors[f"{split}.video"] = torch.stack([b["video"] for b in batch]).contiguous()
        tensors[f"{split}.action"] = torch.stack([b["action"] for b in batch]).contiguous()
        tensors[f"{split}.state"] = torch.stack([b["state"] for b in batch]).contiguous()
        items[split] = list(picks)
    info = {"train_order": [int(i) for i in train.traj_indices], "val_order": [int(i) for i in val.traj_indices],
            "train_slices": slices(train), "val_slices": slices(val), "items": items}
    if train.normalize_action:
        tensors["train.raw_mean"], tensors["train.raw_std"] = train._raw_action_mean, train._raw_action_std
        tensors["train.action_mean"], tensors["train.action_std"] = train.action_mean, train.action_std
        tensors["val.raw_mean"], tensors["val.raw_std"] = val._raw_action_mean, val._raw_action_std
        cache = wm.stats_cache.cache_path(train.data_source, "action", "train", train.traj_indices,
                                          train.num_trajectories, train.data_source.action_dim)
        info["cache_identity"] = f"data_path={train.data_source.data_path}"
        info["cache_name"] = cache.name
        shutil.copyfile(cache, os.path.join(out, "reference", f"{name}_stats_cache.pt"))
    # The fixed validation subset as the training experiment draws and writes it.
    size = min(4, len(val))
    specs = val.sample_fixed_slice_specs(size, seed=42)
    payload = {"dataset": {"name": name, "num_frames": NUM_FRAMES, "frame_interval": spec["fi"],
                           "split_ratio": loader["split_ratio"], "val_slice_mode": loader["val_slice_mode"],
                           "stride": loader["stride"], "random_seed": loader["random_seed"]},
               "slices": specs}
    info["subset_json"] = json.dumps(payload, indent=2)
    # Random slice mode: the dataset's own RandomState draws, item after item.
    random_train, _ = wm.create_train_val_datasets(dataset_name=name, num_frames=NUM_FRAMES, frame_interval=spec["fi"],
                                                   image_size=IMAGE_SIZE, **dict(kwargs, train_slice_mode="random"))
    draws = [random_train[i % len(random_train)]["meta_info"] for i in range(2 * len(random_train))]
    info["random_draws"] = [[int(d["traj_idx"]), int(d["start_idx"])] for d in draws]
    tensors = {k: v.detach().clone().contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(out, "reference", f"{name}.safetensors"))
    with open(os.path.join(out, "reference", f"{name}.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
    print(f"{name}: train {len(train)} clips, val {len(val)} clips")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True, help="the reference's src/ folder")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.reference))
    import wm_datasets
    import wm_datasets.stats_cache  # noqa: F401
    import wm_datasets.world_model_dataset as wm
    torch.set_num_threads(1)
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(os.path.join(args.out, "reference"))
    write_datasets(args.out)
    with tempfile.TemporaryDirectory() as scratch:
        data_root = os.path.join(scratch, "data")
        shutil.copytree(args.out, data_root, ignore=shutil.ignore_patterns("reference"))
        for name, spec in DATASETS.items():
            record(name, spec, data_root, args.out, wm)


if __name__ == "__main__":
    main()
