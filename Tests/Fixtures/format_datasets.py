"""Small on-disk datasets in CSGO's HDF5 layout and LeRobot's v2.0 layout, written the way the
real ones are (h5py; pyarrow parquet; MP4), with contents that follow from a formula so the
fixture script and the tests write the same values. Shared by make_format_fixtures.py and the
Swift tests (which run it through the project's Python environment)."""
import json
import os

import numpy as np

CSGO_NUMBERS = [3, 201, 5450, 1]    # folders 1-200, 201-400, the 5401-5500 fallback; unsorted
CSGO_FRAME = (6, 8, 3)              # real files hold 150×280×3; the readers do not depend on it
CSGO_STEPS = 1000


def csgo_action(n, step):
    # Exact float32 values (multiples of 1/8), different per file, step and dimension.
    k = np.arange(51, dtype=np.int64)
    return (((n * 7919 + step * 51 + k) % 977) / 8.0 - 40.0).astype(np.float32)


def csgo_frame(n, step):
    h, w, c = CSGO_FRAME
    y, x, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    return ((n * 31 + step * 3 + y * 17 + x * 5 + ch * 80) % 256).astype(np.uint8)


def write_csgo(root, numbers=CSGO_NUMBERS, steps=CSGO_STEPS):
    """One HDF5 file per number in its 200-file folder (5401..5500 in the '5401-5500' folder),
    and train/val file lists; returns the list paths."""
    import h5py
    for n in numbers:
        lo = ((n - 1) // 200) * 200 + 1
        folder = "5401-5500" if 5401 <= n <= 5500 else f"{lo}-{lo + 199}"
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        with h5py.File(os.path.join(root, folder, f"hdf5_dm_july2021_{n}.hdf5"), "w") as f:
            for step in range(steps):
                f[f"frame_{step}_x"] = csgo_frame(n, step)
                f[f"frame_{step}_y"] = csgo_action(n, step)
    lists = {}
    for name, chosen in (("train", numbers[:3]), ("val", numbers[3:] + numbers[:1])):
        lists[name] = os.path.join(root, f"{name}_split.txt")
        with open(lists[name], "w") as f:
            f.write("".join(f"hdf5_dm_july2021_{n}.hdf5\n" for n in chosen))
    return lists


# LeRobot v2.0: episode lengths, and per episode how its parquet file is written.
LEROBOT_LENGTHS = [5, 7, 4]
LEROBOT_WRITES = [
    dict(compression="snappy", use_dictionary=True, data_page_version="1.0"),
    dict(compression="zstd", use_dictionary=False, data_page_version="2.0"),
    dict(compression="none", use_dictionary=True, data_page_version="2.0"),
]
LEROBOT_FPS = 3
LEROBOT_FRAME = (16, 24)   # H, W
IMAGE_KEY = "observation.images.image"


def lerobot_state(episode, frame):
    return (np.arange(8) * 0.25 + episode * 10 + frame * 0.5).astype(np.float32)


def lerobot_action(episode, frame):
    return (np.sin(np.arange(7) + episode * 3.0 + frame * 0.7)).astype(np.float32)


def lerobot_image(episode, frame):
    h, w = LEROBOT_FRAME
    y, x = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    rgb = np.stack([(x * 10 + frame * 20) % 256, (y * 12 + episode * 60) % 256, np.full_like(x, 128)], axis=-1)
    return rgb.astype(np.uint8)


def write_lerobot(root, chunks_size=2):
    """A three-episode LeRobot v2.0 dataset (episode 2 in chunk-001) with 7-D actions, 8-D
    states and one camera stored as MP4 (H.264 through ffmpeg when available, else mp4v)."""
    import cv2
    import pyarrow as pa
    import pyarrow.parquet as pq
    os.makedirs(os.path.join(root, "meta"), exist_ok=True)
    info = {
        "codebase_version": "v2.0", "robot_type": "google_robot", "fps": LEROBOT_FPS,
        "total_episodes": len(LEROBOT_LENGTHS), "total_frames": sum(LEROBOT_LENGTHS), "chunks_size": chunks_size,
        "data_path": "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
        "video_path": "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4",
        "features": {
            IMAGE_KEY: {"dtype": "video", "shape": [LEROBOT_FRAME[0], LEROBOT_FRAME[1], 3], "names": ["height", "width", "rgb"]},
            "observation.state": {"dtype": "float32", "shape": [8]},
            "action": {"dtype": "float32", "shape": [7]},
            "timestamp": {"dtype": "float32", "shape": [1]},
            "frame_index": {"dtype": "int64", "shape": [1]},
            "episode_index": {"dtype": "int64", "shape": [1]},
            "index": {"dtype": "int64", "shape": [1]},
            "task_index": {"dtype": "int64", "shape": [1]},
        },
    }
    with open(os.path.join(root, "meta", "info.json"), "w") as f:
        json.dump(info, f, indent=2)
    with open(os.path.join(root, "meta", "episodes.jsonl"), "w") as f:
        for e in reversed(range(len(LEROBOT_LENGTHS))):  # out of order: readers sort by episode_index
            f.write(json.dumps({"episode_index": e, "tasks": ["pick"], "length": LEROBOT_LENGTHS[e]}) + "\n")
    actions = np.concatenate([[lerobot_action(e, t) for t in range(n)] for e, n in enumerate(LEROBOT_LENGTHS)])
    states = np.concatenate([[lerobot_state(e, t) for t in range(n)] for e, n in enumerate(LEROBOT_LENGTHS)])
    stats = {"action": {"mean": actions.mean(0).tolist(), "std": actions.std(0).tolist(),
                        "min": actions.min(0).tolist(), "max": actions.max(0).tolist()},
             "observation.state": {"mean": states.mean(0).tolist(), "std": states.std(0).tolist()}}
    with open(os.path.join(root, "meta", "stats.json"), "w") as f:
        json.dump(stats, f)
    start = 0
    for e, n in enumerate(LEROBOT_LENGTHS):
        chunk = e // chunks_size
        table = pa.table({
            "observation.state": pa.array([lerobot_state(e, t).tolist() for t in range(n)], type=pa.list_(pa.float32())),
            "action": pa.array([lerobot_action(e, t).tolist() for t in range(n)], type=pa.list_(pa.float32())),
            "timestamp": pa.array([t / LEROBOT_FPS for t in range(n)], type=pa.float32()),
            "frame_index": pa.array(range(n), type=pa.int64()),
            "episode_index": pa.array([e] * n, type=pa.int64()),
            "index": pa.array(range(start, start + n), type=pa.int64()),
            "task_index": pa.array([0] * n, type=pa.int64()),
        })
        path = os.path.join(root, "data", f"chunk-{chunk:03d}", f"episode_{e:06d}.parquet")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pq.write_table(table, path, **LEROBOT_WRITES[e])
        video = os.path.join(root, "videos", f"chunk-{chunk:03d}", IMAGE_KEY, f"episode_{e:06d}.mp4")
        os.makedirs(os.path.dirname(video), exist_ok=True)
        h, w = LEROBOT_FRAME
        writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*"mp4v"), LEROBOT_FPS, (w, h))
        for t in range(n):
            writer.write(cv2.cvtColor(lerobot_image(e, t), cv2.COLOR_RGB2BGR))
        writer.release()
        start += n
    return info
