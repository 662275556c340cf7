#!/usr/bin/env python3
"""Record the reference's dataset goals (`planning.goal_source: dset`) on the test datasets.

The reference (simchowitzlabpublic/nano-world-model) is taken from the `src/` folder given with
--reference: `PlanningExperiment._sample_dset_goals` (src/experiments/planning_experiment.py) is
cut out of the file with `ast` and run as it is (the rest of the module needs the model, codec
and Hydra), on Tests/Fixtures/datasets in DINO-WM's layout:

- PushT (pusht_noise, the dino_wm/pusht loader: val folder, relative actions / 100, velocities):
  the reference's own PushTWrapper replays the goals, so goal states are the reference's.
- point maze (point_maze, the dino_wm/point_maze loader): the reference's point-maze wrapper
  needs mujoco-py, which cannot be installed here; a recording stand-in environment takes its
  place, so the file holds the selection (trajectory, offset), start state and replayed actions.

Usage (from the repository root):

    .venv/bin/python Tests/Fixtures/make_goal_fixtures.py --reference /tmp/nwm-ref/src --out Tests/Fixtures/planning/dset_goals.json
"""
import argparse
import ast
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_pusht_fixtures as pf  # noqa: E402  (imports the reference's PushTWrapper)

DATASETS = Path(__file__).resolve().parent / "datasets"
# (name, loader, goal_H, frame_interval, n_evals, seed)
CASES = [
    ("pusht", {"data_path_val": str(DATASETS / "pusht_noise" / "val"), "use_relative_actions": True,
               "with_velocity": True, "action_scale": 100.0}, 3, 5, 6, 42),
    ("point_maze", {"data_path": str(DATASETS / "point_maze")}, 3, 5, 6, 7),
]


def sample_dset_goals(src):
    path = os.path.join(src, "experiments", "planning_experiment.py")
    tree = ast.parse(open(path).read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "PlanningExperiment")
    method = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "_sample_dset_goals")
    goal = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "PlanningGoal")
    module = ast.Module(body=[ast.ImportFrom(module="dataclasses", names=[ast.alias("dataclass")], level=0),
                              ast.ImportFrom(module="typing", names=[ast.alias("Dict"), ast.alias("Any"), ast.alias("Optional")], level=0),
                              goal, method], type_ignores=[])
    namespace = {"torch": torch, "np": np, "Path": Path}
    exec(compile(ast.fix_missing_locations(module), path, "exec"), namespace)
    return namespace["_sample_dset_goals"]


class Recorder:
    """Stands in for an environment the reference cannot build here: records the replay."""

    def __init__(self):
        self.actions = []

    def prepare(self, seed, state):
        self.actions.append([])
        return None, state

    def step(self, action):
        self.actions[-1].append([float(a) for a in action])
        return None, 0.0, False, {}


class Self:
    @staticmethod
    def _copy_obs_dict(obs):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="the reference checkout's src/ folder")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    sample = sample_dset_goals(args.reference)
    PushTWrapper = pf.import_reference(args.reference)
    result = {}
    for name, loader, goal_h, frame_interval, n_evals, seed in CASES:
        env = PushTWrapper(with_velocity=True, with_target=True) if name == "pusht" else Recorder()
        cfg = OmegaConf.create({"dataset": {"loader": loader}})
        goals = sample(Self(), env, cfg, n_evals, goal_h, frame_interval, seed)
        result[name] = {
            "loader": {k: (os.path.relpath(v, DATASETS.parent.parent.parent) if k.startswith("data_path") else v) for k, v in loader.items()},
            "goal_H": goal_h, "frame_interval": frame_interval, "n_evals": n_evals, "seed": seed,
            "goals": [{"traj_id": g.goal_meta["traj_id"], "offset": g.goal_meta["offset"],
                       "init_state": [float(v) for v in g.init_state],
                       "goal_state": [float(v) for v in g.goal_state] if name == "pusht" else None,
                       "env_info": {k: str(v) for k, v in (g.env_info or {}).items()},
                       "actions": env.actions[i] if name != "pusht" else None}
                      for i, g in enumerate(goals)],
        }
        print(name, [(g.goal_meta["traj_id"], g.goal_meta["offset"]) for g in goals])
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
