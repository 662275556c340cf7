#!/usr/bin/env python3
"""Point clouds as the reference's video_to_pointcloud.py makes them from Depth Anything 3's
outputs, on random outputs made here: its own `unproject_frame`, the subsampling lines of its
`main` (default_rng(42).choice), `save_ply` and `save_viewer_data`, IMPORTED from a checkout
given with --reference (nothing of it is copied here).

Usage (from the repository root):

    .venv/bin/python Tests/Fixtures/make_pointcloud_fixtures.py \
        --reference /path/to/nano-world-model --out Tests/Fixtures/geometry

Writes, per case (`small`: 3 frames of 20×28, 700 points kept of ~1000, NumPy's Floyd branch;
`medium`: 3 frames of 80×96, 5000 of ~12800, its tail-shuffle branch; `all`: the small inputs
with max_points above the count, no subsampling):
- `pointcloud_<case>.npz`: the inputs (depth, conf, intrinsics, extrinsics, processed_images,
  conf_threshold, max_points) and the reference's outputs (points, colors, per_frame_counts);
- `pointcloud_<case>.ply`: the reference's save_ply file;
- `pointcloud_<case>_viewer.npz`: the reference's save_viewer_data file.
"""
import argparse
import importlib.util
import os
import types

import numpy as np


def load_reference(root):
    path = os.path.join(root, "src", "scripts", "video_to_pointcloud.py")
    spec = importlib.util.spec_from_file_location("video_to_pointcloud", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def random_outputs(rng, frames, height, width):
    depth = (rng.random((frames, height, width)) * 5 + 0.1).astype(np.float32)
    depth[rng.random(depth.shape) < 0.05] = 0.0      # the reference drops depth <= 0
    depth[rng.random(depth.shape) < 0.02] = -1.0
    conf = (1 + rng.random((frames, height, width)) * 3).astype(np.float32)
    intrinsics = np.zeros((frames, 3, 3), np.float32)
    for i in range(frames):
        intrinsics[i] = [[width * (0.8 + 0.4 * rng.random()), 0, width / 2 + rng.random()],
                         [0, width * (0.8 + 0.4 * rng.random()), height / 2 + rng.random()],
                         [0, 0, 1]]
    extrinsics = np.zeros((frames, 3, 4), np.float32)
    for i in range(frames):
        q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
        if np.linalg.det(q) < 0:
            q[:, 0] = -q[:, 0]
        extrinsics[i, :, :3] = q
        extrinsics[i, :, 3] = rng.standard_normal(3) * 2
    images = rng.integers(0, 256, (frames, height, width, 3), dtype=np.uint8)
    return depth, conf, intrinsics, extrinsics, images


def make_case(reference, out, name, rng, frames, height, width, max_points, conf_threshold=40.0):
    depth, conf, intrinsics, extrinsics, images = random_outputs(rng, frames, height, width)
    points, colors, counts = [], [], []
    for i in range(frames):
        p, c = reference.unproject_frame(depth[i], conf[i], intrinsics[i], extrinsics[i], images[i], conf_threshold)
        points.append(p)
        colors.append(c)
        counts.append(len(p))
    all_points, all_colors = np.concatenate(points), np.concatenate(colors)
    # The reference's main(), as it subsamples.
    if len(all_points) > max_points:
        choice = np.random.default_rng(42).choice(len(all_points), size=max_points, replace=False)
        all_points, all_colors = all_points[choice], all_colors[choice]
    reference.save_ply(os.path.join(out, f"pointcloud_{name}.ply"), all_points, all_colors)
    prediction = types.SimpleNamespace(depth=depth, conf=conf, intrinsics=intrinsics, extrinsics=extrinsics,
                                       processed_images=images)
    reference.save_viewer_data(os.path.join(out, f"pointcloud_{name}_viewer.npz"), prediction, conf_threshold)
    np.savez(os.path.join(out, f"pointcloud_{name}.npz"), depth=depth, conf=conf, intrinsics=intrinsics,
             extrinsics=extrinsics, processed_images=images, conf_threshold=np.array(conf_threshold),
             max_points=np.array(max_points, np.int64), points=all_points, colors=all_colors,
             per_frame_counts=np.array(counts, np.int64))
    print(f"{name}: {sum(counts)} points, kept {len(all_points)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="checkout of simchowitzlabpublic/nano-world-model")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "geometry"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    reference = load_reference(args.reference)
    make_case(reference, args.out, "small", np.random.default_rng(0), 3, 20, 28, 700)
    make_case(reference, args.out, "medium", np.random.default_rng(1), 3, 80, 96, 5000)
    make_case(reference, args.out, "all", np.random.default_rng(0), 3, 20, 28, 10_000)


if __name__ == "__main__":
    main()
