#!/usr/bin/env python3
"""Write the MuJoCo XML of the reference's point-maze U-maze for the Swift point-maze tests.

The reference (simchowitzlabpublic/nano-world-model) is IMPORTED from the `src/` folder given
with --reference: its `point_maze(U_MAZE)` builds the model and its MJCModel writes the XML that
`PointMazeWrapper` hands mujoco-py. Nothing of it is copied here. `maze_model.py` also imports
gym's MuJoCo base class and D4RL's `offline_env`, which this script never uses; when D4RL is
missing an empty stand-in module is registered first (nothing installed).

Usage (from the repository root):

    .venv/bin/python Tests/Fixtures/make_pointmaze_fixtures.py \
        --reference /tmp/nwm-ref/src --out Tests/Fixtures/pointmaze/u_maze.xml
"""
import argparse
import sys
import types


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="the reference checkout's src/ folder")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        import d4rl.offline_env  # noqa: F401
    except ImportError:
        d4rl = types.ModuleType("d4rl")
        d4rl.offline_env = types.ModuleType("d4rl.offline_env")
        d4rl.offline_env.OfflineEnv = object
        sys.modules["d4rl"] = d4rl
        sys.modules["d4rl.offline_env"] = d4rl.offline_env
    sys.path.insert(0, args.reference)
    from environments.pointmaze.maze_model import U_MAZE, point_maze
    with point_maze(U_MAZE).asfile() as f:
        xml = f.read()
    with open(args.out, "w") as out:
        out.write(xml)
    print("wrote", args.out, len(xml), "characters")


if __name__ == "__main__":
    main()
