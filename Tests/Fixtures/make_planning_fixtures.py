#!/usr/bin/env python3
"""Generate PyTorch parity fixtures for the Swift planner (CEM, objectives, world-model rollout).

The reference planner (simchowitzlabpublic/nano-world-model: src/planning/cem_planner.py,
objective.py, diffusion_world_model.py, with src/diffusion and src/models/nanowm.py) is
IMPORTED from a checkout given with --reference; nothing of it is copied here. The latent
codec is the identity (the pixel codec), so the start and goal "frames" are latents.

Usage (from the repository root):

    .venv/bin/python Tests/Fixtures/make_planning_fixtures.py \
        --reference /tmp/nwm-ref --out Tests/Fixtures/planning

See Tests/Fixtures/README.md ("Planning fixtures") for the file contents.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_nanowm_fixtures as nf  # noqa: E402  (writer, float64 replay helpers)
import make_diffusion_fixtures as mdf  # noqa: E402  (reference import, tiny sampler model)

B, F, C, HW, A = mdf.B, mdf.F, mdf.C, mdf.HW, mdf.TINY_SAMPLER["action_dim"]
D = C * HW * HW
HORIZON = 5          # two chunks with num_frames 3 / one context frame: 2 + 2 + 1 kept frames
STEPS = 4            # planning.num_sampling_steps (small: the fixture needs only the path)
HSL = 0.02


class IdentityCodec(torch.nn.Module):
    """The pixel codec: latents are the frames."""

    def encode(self, frames):
        return frames


def load_planning(ref_root):
    ref = mdf.load_reference(ref_root)
    sys.modules["latent_codecs"].LatentCodec = object  # diffusion_world_model imports the name
    import planning.cem_planner as cem
    import planning.diffusion_world_model as dwm
    import planning.objective as objective
    src = os.path.abspath(os.path.join(ref_root, "src"))
    for m in (cem, dwm, objective):
        assert os.path.abspath(m.__file__).startswith(src), m.__file__
    ref.cem, ref.dwm, ref.objective = cem, dwm, objective
    return ref


def world_model(ref, model, mode):
    args = mdf._Cfg(
        model=mdf._Cfg(num_frames=F, n_context_frames=1, scheduling_mode=mode, num_sampling_steps=STEPS),
        experiment=mdf._Cfg(infra=mdf._Cfg(vae_precision="fp32"),
                            diffusion=mdf._Cfg(history_stabilization_level=HSL)))
    # planning_experiment.py: create_diffusion(timestep_respacing="") -> every training step
    return ref.dwm.DiffusionWorldModel(model, IdentityCodec(), mdf.create_diffusion(ref, "v"), args)


def twin(ref, model):
    return nf.Float64Twin(lambda: ref.model.NanoWM(**mdf.TINY_SAMPLER), model)


# ---------------------------------------------------------------------------
# 1. Objectives
# ---------------------------------------------------------------------------

OBJECTIVES = [("last", "mse", None), ("all", "mse", None), ("last", "cosine", 4), ("all", "cosine", 4)]


def run_objectives(ref, out):
    torch.manual_seed(1100)
    pred = torch.randn(6, 1 + HORIZON, D)
    goal = torch.randn(1, 1, D).expand(6, 1, D)  # the planner expands one goal over the samples
    tensors = {"pred": pred, "goal": goal.contiguous()}
    for mode, metric, token_dim in OBJECTIVES:
        fn = ref.objective.create_objective_fn(alpha=1.0, base=2.0, mode=mode, visual_metric=metric, token_dim=token_dim)
        key = f"{mode}.{metric}"
        tensors[key] = fn({"visual": pred, "proprio": None}, {"visual": goal, "proprio": None})
        tensors[key + ".f64"] = fn({"visual": pred.double(), "proprio": None}, {"visual": goal.double(), "proprio": None})
        assert tensors[key + ".f64"].dtype == torch.float64
    meta = {"inputs": "torch.manual_seed(1100); pred = randn(6, 6, 64); goal = randn(1, 1, 64).expand(6, 1, 64)",
            "call": "create_objective_fn(alpha=1.0, base=2.0, mode, visual_metric, token_dim)({'visual': pred, "
                    "'proprio': None}, {'visual': goal, 'proprio': None}); token_dim 4 for cosine",
            "keys": "<mode>.<metric> [6] losses; .f64 the same with float64 inputs"}
    mdf.save(out, "objectives.safetensors", tensors, meta)


# ---------------------------------------------------------------------------
# 2. World-model rollout
# ---------------------------------------------------------------------------

def rollout_inputs(seed):
    torch.manual_seed(seed)
    start = 0.5 * torch.randn(1, 1, C, HW, HW)
    actions = torch.randn(B, HORIZON, A)
    return start, actions


def run_rollouts(ref, out):
    model = mdf.tiny_model(ref)
    wide = twin(ref, model)
    tensors = dict(mdf.weights(model))
    start, actions = rollout_inputs(1200)
    tensors.update(start=start, actions=actions)
    for i, mode in enumerate(("full_sequence", "sequential")):
        seed = 1201 + i
        obs = {"visual": start.expand(B, *start.shape[1:])}
        torch.manual_seed(seed)
        z, _ = world_model(ref, model, mode).rollout(obs_0=obs, act=actions)
        torch.manual_seed(seed)
        with nf.float64_draws(), torch.no_grad():
            z64, _ = world_model(ref, wide, mode).rollout(obs_0={"visual": obs["visual"].double()}, act=actions.double())
        assert z64["visual"].dtype == torch.float64, z64["visual"].dtype
        tensors[f"{mode}.latents"], tensors[f"{mode}.latents.f64"] = z["visual"], z64["visual"]
    meta = dict(mdf.TINY_META)
    meta.update({
        "inputs": "torch.manual_seed(1200); start = 0.5*randn(1,1,4,4,4); actions = randn(2,5,4)",
        "call": "torch.manual_seed(1201 full_sequence | 1202 sequential); DiffusionWorldModel(model, identity codec, "
                "create_diffusion(timestep_respacing='', squaredcos_cap_v2, v, 1000, 5.0, True), cfg: num_frames 3, "
                f"n_context_frames 1, num_sampling_steps {STEPS}, history_stabilization_level {HSL})"
                ".rollout(obs_0={'visual': start.expand(2,1,4,4,4)}, act=actions)",
        "keys": "<mode>.latents [2, 6, 64] (start first); .f64 the same run with the float64 model twin and the "
                "float32 draws widened",
    })
    mdf.save(out, "rollout.safetensors", tensors, meta)


# ---------------------------------------------------------------------------
# 3. CEM
# ---------------------------------------------------------------------------

CEM = dict(num_samples=8, topk=3, opt_steps=3, var_scale=1.0, sigma_min=1e-3, rollout_batch_size=5)
CEM_CASES = [  # key, objective mode, action bounds, warm start rows
    ("plain", "last", None, 0),
    ("all_clamped_warm", "all", (-0.8, 0.8), 2),
]


class Float64CEM:
    """The reference's CEMPlanner with its μ/σ created in float64, so that the replay's
    mean and spread stay float64 between iterations (the reference makes them float32)."""

    @staticmethod
    def make(cls):
        class Wide(cls):
            def init_mu_sigma(self, batch_size, actions=None):
                mu, sigma = super().init_mu_sigma(batch_size, actions)
                return mu.double(), sigma.double()
        return Wide


def run_cem(ref, out):
    model = mdf.tiny_model(ref)
    wide = twin(ref, model)
    tensors = dict(mdf.weights(model))
    torch.manual_seed(1300)
    start = 0.5 * torch.randn(1, 1, C, HW, HW)
    goal = 0.5 * torch.randn(1, 1, C, HW, HW)
    tensors.update(start=start, goal=goal)
    desc = []
    for i, (key, mode, bounds, warm_rows) in enumerate(CEM_CASES):
        seed = 1301 + i
        warm = torch.randn(1, warm_rows, A, generator=torch.Generator().manual_seed(seed + 50)) if warm_rows else None
        if warm is not None:
            tensors[key + ".warm_start"] = warm
        results = {}
        for width in ("f32", "f64"):
            log = []
            objective = ref.objective.create_objective_fn(alpha=1.0, base=2.0, mode=mode)

            def recorded(z, g, objective=objective, log=log):
                loss = objective(z, g)
                log.append(loss.clone())
                return loss

            cls = ref.cem.CEMPlanner if width == "f32" else Float64CEM.make(ref.cem.CEMPlanner)
            wm = world_model(ref, model if width == "f32" else wide, "full_sequence")
            planner = cls(world_model=wm, objective_fn=recorded, action_dim=A, horizon=HORIZON,
                          num_samples=CEM["num_samples"], topk=CEM["topk"], opt_steps=CEM["opt_steps"],
                          var_scale=CEM["var_scale"], eval_every=10 ** 6, sigma_min=CEM["sigma_min"],
                          action_low=bounds[0] if bounds else None, action_high=bounds[1] if bounds else None,
                          rollout_batch_size=CEM["rollout_batch_size"], device="cpu")
            obs0, obsg = {"visual": start}, {"visual": goal}
            ws = warm
            if width == "f64":
                obs0, obsg = {"visual": start.double()}, {"visual": goal.double()}
                ws = None if warm is None else warm.double()
            torch.manual_seed(seed)
            with (nf.float64_draws() if width == "f64" else _null()), torch.no_grad():
                mu, info = planner.plan(obs0, obsg, actions=ws)
            losses = torch.cat([torch.cat(log[j:j + 2]) for j in range(0, len(log), 2)]).reshape(CEM["opt_steps"], -1)
            results[width] = (mu, info, losses)
        (mu, info, losses), (mu64, info64, losses64) = results["f32"], results["f64"]
        assert mu64.dtype == torch.float64, mu64.dtype
        # The replay must pick the same elites, or it is not the same computation.
        for it in range(CEM["opt_steps"]):
            a = torch.argsort(losses[it])[:CEM["topk"]].tolist()
            b = torch.argsort(losses64[it])[:CEM["topk"]].tolist()
            assert a == b, (key, it, a, b)
        tensors[key + ".mu"], tensors[key + ".mu.f64"] = mu[0], mu64[0]
        tensors[key + ".iteration_losses"] = losses
        tensors[key + ".iteration_losses.f64"] = losses64
        tensors[key + ".best_loss"] = torch.tensor(info["losses"], dtype=torch.float32)
        tensors[key + ".best_loss.f64"] = torch.tensor(info64["losses"], dtype=torch.float64)
        desc.append(dict(key=key, seed=seed, objective_mode=mode, action_low=bounds and bounds[0],
                         action_high=bounds and bounds[1], warm_start_rows=warm_rows))
    meta = dict(mdf.TINY_META)
    meta.update({
        "inputs": "torch.manual_seed(1300); start = 0.5*randn(1,1,4,4,4); goal = 0.5*randn(1,1,4,4,4); warm_start = "
                  "randn(1, rows, 4, generator=Generator().manual_seed(seed+50))",
        "cem": json.dumps(dict(CEM, horizon=HORIZON, action_dim=A)),
        "cases": json.dumps(desc),
        "world_model": f"as rollout.safetensors, scheduling_mode full_sequence, {STEPS} steps, stabilisation {HSL}",
        "call": "torch.manual_seed(seed); CEMPlanner(...).plan({'visual': start}, {'visual': goal}, actions=warm_start)",
        "keys": "<case>.mu [5,4] returned mean; <case>.iteration_losses [3,8] every sample's loss per iteration; "
                "<case>.best_loss [3] info['losses']; .f64 = replay with float64 model twin, float64 mu/sigma and "
                "the float32 draws widened (the script asserts it picks the same elites)",
    })
    mdf.save(out, "cem.safetensors", tensors, meta)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="checkout of the reference (holds src/)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    ref = load_planning(args.reference)
    run_objectives(ref, args.out)
    run_rollouts(ref, args.out)
    run_cem(ref, args.out)


if __name__ == "__main__":
    main()
