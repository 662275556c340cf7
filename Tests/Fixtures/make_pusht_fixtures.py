#!/usr/bin/env python3
"""Record the reference's PushT environment (pymunk + pygame) for the Swift PushT tests.

The reference (simchowitzlabpublic/nano-world-model) is IMPORTED from the `src/` folder given
with --reference: its `PushTWrapper` (planning registry's construction: with_velocity=True,
with_target=True) runs the physics and draws the frames. Nothing of it is copied here.

Usage (from the repository root):

    .venv/bin/python Tests/Fixtures/make_pusht_fixtures.py \
        --reference /tmp/nwm-ref/src --out Tests/Fixtures/pusht/reference.safetensors

The reference module imports `matplotlib.cm` for its keypoint colours (unused by PushTWrapper);
when matplotlib is missing an empty stand-in module is registered first (nothing installed).
See Tests/Fixtures/README.md ("PushT") for what the file holds.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import types

import numpy as np
import torch
from safetensors.torch import save_file

STEPS = 100


def import_reference(src):
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    try:
        import matplotlib.cm  # noqa: F401
    except ImportError:
        mpl = types.ModuleType("matplotlib")
        mpl.cm = types.ModuleType("matplotlib.cm")
        sys.modules["matplotlib"] = mpl
        sys.modules["matplotlib.cm"] = mpl.cm
    sys.path.insert(0, src)
    from environments.pusht.pusht_wrapper import PushTWrapper
    return PushTWrapper


def body_values(env):
    a, b, v = env.agent.position, env.block.position, env.agent.velocity
    return [a.x, a.y, b.x, b.y, env.block.angle, v.x, v.y]


def record(env, init, policy):
    """Reset like planning does (prepare), then 100 steps of `policy(env, t)` actions."""
    _, state = env.prepare(0, init)
    bodies, states, actions, frames = [body_values(env)], [state], [], [env._render_frame("rgb_array")]
    for t in range(STEPS):
        action = policy(env, t)
        obs, _, _, info = env.step(action)
        actions.append(np.asarray(action, dtype=np.float64))
        bodies.append(body_values(env))
        states.append(info["state"])
        frames.append(obs["visual"])
    return np.array(bodies), np.array(states, dtype=np.float32), np.array(actions), frames


def first_contact(bodies):
    moved = np.abs(bodies[:, 2:5] - bodies[0, 2:5]).max(axis=1) > 0
    return int(np.argmax(moved)) if moved.any() else -1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="the reference checkout's src/ folder")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    PushTWrapper = import_reference(args.reference)
    env = PushTWrapper(with_velocity=True, with_target=True)

    # Three trajectories: seeded uniform float64 actions from a random start; float32 pushes
    # aimed at the block (as planning sends float32 actions); seeded float32 random actions
    # from a start touching the block.
    rng = np.random.default_rng(7)
    random64 = rng.uniform(-1, 1, size=(STEPS, 2))
    random32 = rng.uniform(-1, 1, size=(STEPS, 2)).astype(np.float32)
    noise = rng.normal(0, 0.15, size=(STEPS, 2))

    def push(env, t):
        d = np.array(env.block.position) - np.array(env.agent.position)
        return (d / max(np.linalg.norm(d), 1e-9) * 0.6 + noise[t]).astype(np.float32)

    init_random, _ = env.sample_random_init_goal_states(3)
    # Two more environments for upstream's other switches: `legacy` (block position set before
    # its angle) without velocity in the state, and absolute (non-relative) targets.
    legacy = PushTWrapper(with_velocity=False, with_target=True)
    legacy.legacy = True
    absolute = PushTWrapper(with_velocity=True, with_target=True)
    absolute.relative = False
    targets = rng.uniform(1.0, 4.0, size=(STEPS, 2))
    cases = [
        ("random_float64", env, init_random.astype(np.float64), lambda env, t: random64[t]),
        ("push_float32", env, np.array([256.0, 420.0, 256.0, 300.0, 0.4, 0.0, 0.0]), push),
        ("random_float32", env, np.array([200.0, 330.0, 250.0, 280.0, 2.0, 0.0, 0.0]), lambda env, t: random32[t]),
        ("legacy_no_velocity", legacy, np.array([256.0, 420.0, 256.0, 300.0, 0.4]), push),
        ("absolute_targets", absolute, np.array([200.0, 330.0, 250.0, 280.0, 2.0, 0.0, 0.0]), lambda env, t: targets[t]),
    ]
    tensors, meta = {}, {}
    all_frames = {}
    for i, (name, case_env, init, policy) in enumerate(cases):
        bodies, states, actions, frames = record(case_env, init, policy)
        tensors[f"init.{i}"] = torch.from_numpy(np.asarray(init, dtype=np.float64))
        tensors[f"actions.{i}"] = torch.from_numpy(actions)
        tensors[f"bodies.{i}"] = torch.from_numpy(bodies)
        tensors[f"states.{i}"] = torch.from_numpy(states)
        meta[f"case.{i}"] = json.dumps({"name": name, "float32_actions": policy is push or "float32" in name,
                                        "legacy": case_env.legacy, "with_velocity": case_env.with_velocity,
                                        "relative": case_env.relative,
                                        "first_block_motion_step": first_contact(bodies)})
        all_frames[i] = frames
    # Two frames (kept small): the pushing trajectory at a step with contact points drawn,
    # and the float32 random trajectory's last frame.
    picks = [(1, 30), (2, STEPS)]
    tensors["frames"] = torch.from_numpy(np.stack([all_frames[c][s] for c, s in picks]).astype(np.uint8))
    meta["frames"] = json.dumps([{"case": c, "step": s} for c, s in picks])

    seeds = [0, 1, 42, 12345]
    tensors["random_states"] = torch.from_numpy(np.stack(
        [np.stack(env.sample_random_init_goal_states(s)).astype(np.float64) for s in seeds]))
    meta["random_state_seeds"] = json.dumps(seeds)
    meta["reference"] = "src/environments/pusht/pusht_wrapper.py PushTWrapper(with_velocity=True, with_target=True)"
    meta["versions"] = json.dumps({"pymunk": __import__("pymunk").version, "numpy": np.__version__,
                                   "pygame": __import__("pygame").version.ver, "cv2": __import__("cv2").__version__})
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, args.out, metadata=meta)
    for i in range(len(cases)):
        print(cases[i][0], json.loads(meta[f"case.{i}"]))
    print("wrote", args.out, os.path.getsize(args.out), "bytes")


if __name__ == "__main__":
    main()
