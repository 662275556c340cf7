"""Records what the reference's own CSGO data source returns for the small CSGO dataset of
format_datasets.py, as Tests/Fixtures/formats/csgo_reference.json (see README.md, "Dataset
formats"). The reference is imported from the checkout given with --reference.

    .venv/bin/python Tests/Fixtures/make_format_fixtures.py --reference /tmp/nwm-ref --out Tests/Fixtures/formats
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import format_datasets  # noqa: E402

ACTION_ROWS = [0, 1, 500, 999]
CLIPS = [(0, 0, 4, 1), (1, 990, 1000, 3), (2, 100, 103, 1)]


def record(source):
    out = {"num_trajectories": source.get_num_trajectories(), "action_dim": source.action_dim,
           "state_dim": source.state_dim, "trajectories": [], "clips": []}
    for i in range(source.get_num_trajectories()):
        t = source.load_trajectory(i)
        out["trajectories"].append({
            "episode_id": t.meta["episode_id"], "seq_length": t.seq_length,
            "states_shape": list(t.states.shape), "actions_shape": list(t.actions.shape),
            "action_rows": {str(r): [float(v) for v in t.actions[r]] for r in ACTION_ROWS}})
    for traj, start, end, step in CLIPS:
        if traj < source.get_num_trajectories():
            frames = source.load_visual_frames(traj, start, end, step)
            out["clips"].append({"traj": traj, "start": start, "end": end, "step": step,
                                 "shape": list(frames.shape), "values": [float(v) for v in frames.flatten()]})
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True, help="checkout of simchowitzlabpublic/nano-world-model")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(args.reference, "src"))
    from wm_datasets.data_source.game.csgo_data_source import CSGODataSource
    with tempfile.TemporaryDirectory() as root:
        lists = format_datasets.write_csgo(root)
        result = {split: record(CSGODataSource(data_path=root, file_list=lists[split])) for split in ("train", "val")}
        result["scan"] = record(CSGODataSource(data_path=root, n_rollout=3))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "csgo_reference.json"), "w") as f:
        json.dump(result, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
