#!/usr/bin/env python3
"""Generate PyTorch parity fixtures for the Swift diffusion-forcing core.

The reference (simchowitzlabpublic/nano-world-model: src/diffusion/*,
src/sample/rollout.py, src/models/nanowm.py) is IMPORTED from a checkout given
with --reference; nothing of it is copied here. Packages the reference imports
but that are not installed (timm, einops, omegaconf, tqdm, the VAE/dataset
modules of rollout.py) are replaced by small stand-ins registered in
sys.modules (see `_install_sampler_standins`).

Usage (from the repository root):

    .venv/bin/python Tests/Fixtures/make_diffusion_fixtures.py \
        --reference /tmp/nwm-ref --out Tests/Fixtures/diffusion

See Tests/Fixtures/README.md ("Diffusion fixtures") for the file contents.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import types

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_nanowm_fixtures as nf  # noqa: E402  (sister script: stand-ins + writer)


T_STEPS = 1000
B, F, C, HW = 2, 3, 4, 4

# Tiny NanoWM used by the sampling / rollout / train-step fixtures.
# head_dim = 16/2 = 8 (divisible by 4 for 2-D RoPE), 4x4 latent, patch 2 -> 2x2 grid.
TINY_SAMPLER = dict(input_size=HW, patch_size=2, in_channels=C, hidden_size=16, depth=2,
                    num_heads=2, mlp_ratio=4.0, num_frames=F, num_classes=1000, extras=1,
                    use_action=True, action_dim=4, action_injection_type="additive",
                    causal=True)
TINY_SEED = 4242
# Action layout for rollout.py: model action_dim = spec.action_dim * frame_interval.
SPEC_ACTION_DIM, FRAME_INTERVAL = 2, 2


# ---------------------------------------------------------------------------
# Reference import
# ---------------------------------------------------------------------------

def _module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    m.__standin__ = True
    return m


class _Cfg(types.SimpleNamespace):
    """Attribute config (stand-in for an OmegaConf DictConfig)."""

    def get(self, k, d=None):
        return getattr(self, k, d)


def _to_container(cfg, resolve=True):
    if isinstance(cfg, types.SimpleNamespace):
        return {k: _to_container(v) for k, v in vars(cfg).items()}
    return cfg


class _Recorder:
    """Collects what the stubbed rollout.py I/O functions receive."""
    decoded = []
    model = None
    dataset = None


def _install_sampler_standins():
    """Stand-ins for the I/O modules rollout.py imports (VAE, dataset, video).
    They only move tensors around; all diffusion/sampling logic is the reference's."""
    if "omegaconf" not in sys.modules:
        try:
            import omegaconf  # noqa: F401
        except ImportError:
            oc = types.SimpleNamespace(to_container=_to_container)
            sys.modules["omegaconf"] = _module("omegaconf", OmegaConf=oc)
    try:
        import tqdm.auto  # noqa: F401
    except ImportError:
        sys.modules["tqdm"] = _module("tqdm")
        sys.modules["tqdm.auto"] = _module("tqdm.auto", tqdm=lambda it, **kw: it)
    sys.modules["latent_codecs"] = _module(
        "latent_codecs",
        get_model_latent_channels=lambda args: C,
        get_model_latent_size=lambda args: HW,
        load_autoencoder_kl=lambda path: nn.Identity(),
        resolve_latent_codec_config=lambda args: types.SimpleNamespace(has_decoder=True, model_path=None))
    sys.modules["models"] = _module("models", get_models=lambda args: _Recorder.model)
    sys.modules["utils"] = _module("utils")
    sys.modules["utils.nanowm_utils"] = _module("utils.nanowm_utils", find_model=None)
    sys.modules["wm_datasets"] = _module(
        "wm_datasets", create_train_val_datasets=lambda **kw: (None, _Recorder.dataset),
        create_world_model_dataset=None)

    def decode_latents(vae, latents, vae_precision="fp32"):
        _Recorder.decoded.append(latents.clone())
        return latents

    sys.modules["sampling_utils"] = _module(
        "sampling_utils",
        encode_frames=lambda vae, frames, device, vae_precision="fp32": frames.to(device),
        decode_latents=decode_latents,
        save_video=lambda *a, **k: None, save_comparison_video=lambda *a, **k: None,
        resize_frames=lambda frames, image_size, resize_mode: frames)


def _load_file(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def load_reference(ref_root):
    ref_model = nf.load_reference(ref_root)  # adds <ref>/src to sys.path, timm/einops stand-ins
    src = os.path.join(ref_root, "src")
    import diffusion  # the reference package <ref>/src/diffusion (torch/numpy only)
    import diffusion.df_sample as df_sample
    assert os.path.abspath(diffusion.__file__).startswith(os.path.abspath(src)), diffusion.__file__
    _install_sampler_standins()
    rollout = _load_file("rollout_reference", os.path.join(src, "sample", "rollout.py"))
    return types.SimpleNamespace(model=ref_model, diffusion=diffusion, gd=diffusion.gd,
                                 df=df_sample, rollout=rollout)


def create_diffusion(ref, pred_name, schedule="squaredcos_cap_v2", ztsnr=True, snr_gamma=5.0,
                     respacing=""):
    """Exactly as the training experiment (respacing "") or sample_dfot.py/rollout.py
    (respacing str(num_sampling_steps)) call it."""
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        return ref.diffusion.create_diffusion(
            timestep_respacing=respacing, noise_schedule=schedule, pred_name=pred_name,
            diffusion_steps=T_STEPS, snr_gamma=snr_gamma, zero_terminal_snr=ztsnr)


def tiny_model(ref):
    torch.manual_seed(TINY_SEED)
    model = ref.model.NanoWM(**TINY_SAMPLER).eval()
    nf.randomize_tiny(model, TINY_SEED)
    return model


def weights(model):
    return {f"weights.{k}": v.clone() for k, v in model.state_dict().items()}


TINY_META = {
    "config": json.dumps(TINY_SAMPLER, sort_keys=True),
    "weight_init": f"weights stored as weights.<state_dict key>; generated as: "
                   f"Generator().manual_seed({TINY_SEED}), state_dict order, "
                   "q_norm/k_norm 1+0.2*randn, others 0.2*randn (make_nanowm_fixtures.randomize_tiny)",
    "model_call": "model(x, t, y=None, [use_fp16=False,] action=action), eval(), no_grad",
}


def save(out, name, tensors, meta):
    path = os.path.join(out, name)
    nf.save_safetensors(path, tensors, meta)
    size = os.path.getsize(path)
    assert size < 500_000, (name, size)  # keep the repository small
    print(f"ok   {name:48s} {size:>7d} B")


# ---------------------------------------------------------------------------
# 1. Schedules
# ---------------------------------------------------------------------------

SCHEDULE_TABLES = ["betas", "alphas_cumprod", "alphas_cumprod_prev", "alphas_cumprod_next",
                   "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
                   "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod",
                   "sqrt_recipm1_alphas_cumprod", "posterior_variance",
                   "posterior_log_variance_clipped", "posterior_mean_coef1",
                   "posterior_mean_coef2"]


def run_schedules(ref, out):
    for sched in ("linear", "squaredcos_cap_v2"):
        for ztsnr in (False, True):
            d = create_diffusion(ref, "v", sched, ztsnr)
            tensors = {k: torch.from_numpy(np.asarray(getattr(d, k), dtype=np.float64))
                       for k in SCHEDULE_TABLES}
            meta = {"noise_schedule": sched, "zero_terminal_snr": str(ztsnr),
                    "diffusion_steps": str(T_STEPS),
                    "built_by": "create_diffusion(timestep_respacing='', noise_schedule, pred_name='v', "
                                "diffusion_steps=1000, snr_gamma=5.0, zero_terminal_snr) -> SpacedDiffusion "
                                "(all 1000 steps kept); tables are its float64 numpy attributes",
                    "dtype": "float64 (the reference casts to float32 only after indexing)"}
            save(out, f"schedule_{sched}_ztsnr{int(ztsnr)}.safetensors", tensors, meta)


# ---------------------------------------------------------------------------
# 2. Training losses
# ---------------------------------------------------------------------------

def toy_model(x, t, **kwargs):
    """Fixed 'model': out = 0.5*x_t + 1e-3*float32(t) (t broadcast per frame or per clip)."""
    tf = t.float().reshape(*t.shape, *([1] * (x.ndim - t.ndim)))
    return 0.5 * x + 1e-3 * tf


LOSS_T_FRAME = torch.tensor([[0, 999, 500], [37, 250, 998]], dtype=torch.int64)
LOSS_T_CLIP = torch.tensor([999, 3], dtype=torch.int64)


def run_losses(ref, out):
    torch.manual_seed(7)
    x0 = torch.randn(B, F, C, HW, HW)
    noise = torch.randn(B, F, C, HW, HW)
    tensors = {"x0": x0, "noise": noise, "t_frame": LOSS_T_FRAME, "t_clip": LOSS_T_CLIP}
    cases = []
    for pred in ("epsilon", "x", "v"):
        for sched in ("linear", "squaredcos_cap_v2"):
            for ztsnr in (False, True):
                for gamma in (0.0, 5.0):
                    cases.append((pred, sched, ztsnr, gamma))
    cases.append(("flow", "squaredcos_cap_v2", False, 0.0))
    names = []
    for pred, sched, ztsnr, gamma in cases:
        d = create_diffusion(ref, pred, sched, ztsnr, gamma)
        name = f"{pred}.{sched}.ztsnr{int(ztsnr)}.snr{int(gamma)}" if pred != "flow" else "flow"
        names.append(name)
        for tname, t in (("frame", LOSS_T_FRAME), ("clip", LOSS_T_CLIP)):
            x_t = d.q_sample(x0, t, noise=noise)
            terms = d.training_losses(toy_model, x0, t, model_kwargs={"y": None}, noise=noise)
            # float64 replay: same tables, same inputs widened (see make_nanowm_fixtures.widened)
            terms64 = d.training_losses(toy_model, x0.double(), t, model_kwargs={"y": None}, noise=noise.double())
            p = f"{name}.{tname}."
            tensors[p + "x_t"] = x_t
            tensors[p + "x_t.f64"] = d.q_sample(x0.double(), t, noise=noise.double())
            tensors[p + "mse.f64"] = terms64["mse"]
            tensors[p + "loss.f64"] = terms64["loss"]
            tensors[p + "model_output"] = toy_model(x_t, t)
            if pred == "flow":
                target = x0 - noise
            else:
                gd = ref.gd
                target = {gd.PredName.X: x0, gd.PredName.EPSILON: noise,
                          gd.PredName.V: d._predict_v(x0, t, noise)}[d.pred_name]
            tensors[p + "target"] = target
            tensors[p + "mse"] = terms["mse"]
            tensors[p + "loss"] = terms["loss"]
            tensors[p + "loss_mean"] = terms["loss"].mean()
    meta = {
        "cases": json.dumps(names),
        "case_key": "<pred_name>.<noise_schedule>.ztsnr<0|1>.snr<gamma>.<frame|clip>.<tensor>; 'flow.*' = pred_name 'flow'",
        "diffusion": "create_diffusion(timestep_respacing='', noise_schedule, pred_name, diffusion_steps=1000, "
                     "snr_gamma, zero_terminal_snr) exactly as TrainExperiment; pred_name in "
                     "{'epsilon','x','v','flow'} ('eps' is an alias of 'epsilon')",
        "call": "terms = diffusion.training_losses(model, x0, t, model_kwargs={'y': None}, noise=noise); "
                "loss = terms['loss'] [B]; train step uses terms['loss'].mean() (loss_mean)",
        "model": "toy: out = 0.5 * x_t + 1e-3 * float32(t) broadcast over [C,H,W] (per frame for t [B,F], "
                 "per sample for t [B]); t is the un-respaced timestep (timestep_map is identity)",
        "x0_noise": "torch.manual_seed(7); x0 = randn(2,3,4,4,4); noise = randn(2,3,4,4,4)",
        "t_frame": "diffusion_forcing mode, [B,F]", "t_clip": "full_seq_diffusion mode, [B]",
        "f64": "<key>.{x_t,mse,loss}.f64 = the same call with x0 and noise widened to float64",
    }
    save(out, "training_losses.safetensors", tensors, meta)


# ---------------------------------------------------------------------------
# 3. Training timestep sampling (+ one end-to-end seeded train step)
# ---------------------------------------------------------------------------

def run_timestep_sampling(ref, out):
    tensors, runs = {}, []
    specs = [("uniform", 0.0, 1.0, (8, 4), 3407), ("uniform", 0.0, 1.0, (2, 3), 11),
             ("uniform", 0.0, 1.0, (8,), 12), ("logit_normal", 0.0, 1.0, (8, 4), 3407),
             ("logit_normal", 0.0, 1.0, (2, 3), 11), ("logit_normal", 0.0, 1.0, (8,), 12),
             ("logit_normal", 0.5, 1.5, (4, 4), 13)]
    for i, (strategy, mean, std, shape, seed) in enumerate(specs):
        torch.manual_seed(seed)
        t = ref.diffusion.sample_training_timesteps(
            shape, T_STEPS, strategy=strategy, logit_normal_mean=mean, logit_normal_std=std)
        key = f"run{i}"
        tensors[key + ".t"] = t
        if strategy == "logit_normal":  # replay of the documented draw, for debugging
            torch.manual_seed(seed)
            tensors[key + ".u"] = torch.randn(shape) * std + mean
        runs.append(dict(key=key, strategy=strategy, mean=mean, std=std, shape=list(shape), seed=seed))
    meta = {
        "runs": json.dumps(runs),
        "calls": "torch.manual_seed(seed); then diffusion.sample_training_timesteps(shape, 1000, strategy, "
                 "logit_normal_mean, logit_normal_std): uniform = torch.randint(0, 1000, shape) (int64, "
                 "default CPU generator); logit_normal = u = torch.randn(shape) * std + mean (float32); "
                 "t = (torch.sigmoid(u) * 1000).long().clamp(max=999) (truncation toward zero). "
                 "<key>.u is u (replayed).",
        "shape": "training uses (B, F) in diffusion_forcing mode, (B,) in full_seq_diffusion mode",
    }
    save(out, "timestep_sampling.safetensors", tensors, meta)

    # End-to-end seeded training step with the tiny NanoWM (reference defaults:
    # v, squaredcos_cap_v2, ZTSNR, snr_gamma 5).
    model = tiny_model(ref)
    d = create_diffusion(ref, "v")
    torch.manual_seed(99)
    x = torch.randn(B, F, C, HW, HW)
    action = torch.randn(B, F, TINY_SAMPLER["action_dim"])
    tensors = dict(weights(model), x=x, action=action)
    for strategy, seed in (("logit_normal", 3407), ("uniform", 3408)):
        torch.manual_seed(seed)
        with torch.no_grad():
            t = ref.diffusion.sample_training_timesteps(
                (B, F), d.num_timesteps, strategy=strategy, logit_normal_mean=0.0, logit_normal_std=1.0)
            terms = d.training_losses(model, x, t, {"y": None, "action": action})
        torch.manual_seed(seed)  # replay the draws: t, then noise = randn_like(x)
        _ = torch.randn(B, F) if strategy == "logit_normal" else torch.randint(0, T_STEPS, (B, F))
        noise = torch.randn_like(x)
        with torch.no_grad():
            x_t = d.q_sample(x, t, noise=noise)
            mo = model(x_t, t, y=None, action=action)
            terms2 = d.training_losses(model, x, t, {"y": None, "action": action}, noise=noise)
        assert torch.equal(terms["loss"], terms2["loss"]), "draw-order replay mismatch"
        with torch.no_grad():
            twin = nf.Float64Twin(lambda: ref.model.NanoWM(**TINY_SAMPLER), model)
            loss64 = d.training_losses(twin, x.double(), t, {"y": None, "action": action}, noise=noise.double())["loss"]
        tensors[strategy + ".loss.f64"] = loss64
        p = strategy + "."
        tensors.update({p + "t": t, p + "noise": noise, p + "x_t": x_t, p + "model_output": mo,
                        p + "target": d._predict_v(x, t, noise), p + "mse": terms["mse"],
                        p + "loss": terms["loss"], p + "loss_mean": terms["loss"].mean()})
    meta = dict(TINY_META)
    meta.update({
        "diffusion": "create_diffusion('', noise_schedule='squaredcos_cap_v2', pred_name='v', "
                     "diffusion_steps=1000, snr_gamma=5.0, zero_terminal_snr=True)",
        "inputs": "torch.manual_seed(99); x = randn(2,3,4,4,4); action = randn(2,3,4)",
        "calls": "torch.manual_seed(3407 for logit_normal, 3408 for uniform); t = sample_training_timesteps((B,F), "
                 "1000, strategy, 0.0, 1.0); terms = diffusion.training_losses(model, x, t, {'y': None, "
                 "'action': action}) -> inside: noise = torch.randn_like(x) (drawn AFTER t), x_t = q_sample; "
                 "loss_mean = terms['loss'].mean()",
    })
    save(out, "train_step_tiny.safetensors", tensors, meta)


# ---------------------------------------------------------------------------
# 4. Respacing + scheduling matrices
# ---------------------------------------------------------------------------

def run_respacing(ref, out):
    df, tensors = ref.df, {}
    for S in (4, 5, 8, 10, 30, 50, 100, 250, 1000):
        d = create_diffusion(ref, "v", respacing=str(S))
        tensors[f"timestep_map.S{S}"] = torch.tensor(d.timestep_map, dtype=torch.int64)
    for s in ("ddim10", "ddim50"):
        tensors[f"timestep_map.{s}"] = torch.tensor(
            sorted(ref.diffusion.space_timesteps(T_STEPS, s)), dtype=torch.int64)
    pairs = [(1000, S) for S in (3, 4, 5, 7, 8, 10, 30, 50, 100, 250, 1000)]
    pairs += [(S, S) for S in (4, 5, 8, 30, 250)]
    for T, S in pairs:
        tensors[f"ddim_idx_to_timestep.T{T}.S{S}"] = df.ddim_idx_to_timestep(
            torch.arange(S + 1), T, S)
    for S, H in ((4, 3), (4, 4), (8, 2), (5, 1)):
        tensors[f"idx.full_sequence.S{S}.H{H}"] = torch.from_numpy(df.generate_full_sequence_schedule(S, H))
        tensors[f"idx.pyramid.S{S}.H{H}"] = torch.from_numpy(df.generate_pyramid_schedule(S, H))
        tensors[f"idx.sequential.S{S}.H{H}"] = torch.from_numpy(df.generate_sequential_schedule(S, H))
    settings = [(3, 1, 8, 1000), (3, 1, 8, 8), (4, 1, 4, 1000), (5, 2, 3, 1000), (3, 0, 5, 1000),
                (3, 1, 7, 1000), (4, 1, 250, 250), (16, 4, 10, 1000), (3, 2, 5, 5)]
    for nf_, ctx, S, T in settings:
        for mode in ("full_sequence", "pyramid", "sequential"):
            m = df.generate_scheduling_matrix(num_frames=nf_, num_timesteps=T, sampling_timesteps=S,
                                              mode=mode, n_context_frames=ctx)
            tensors[f"matrix.{mode}.F{nf_}.ctx{ctx}.S{S}.T{T}"] = m
    meta = {
        "timestep_map.S<S>": "SpacedDiffusion(space_timesteps(1000, str(S))).timestep_map: spaced index -> "
                             "original timestep (what create_diffusion(timestep_respacing=str(S)) builds for "
                             "sample_dfot.py / rollout.py)",
        "timestep_map.ddim<N>": "sorted(space_timesteps(1000, 'ddimN')) (not used by the CLIs)",
        "ddim_idx_to_timestep.T<T>.S<S>": "df_sample.ddim_idx_to_timestep(arange(S+1), T, S) = "
                                          "torch.linspace(-1, T-1, S+1) (float32) .long() (trunc)",
        "idx.<mode>.S<S>.H<H>": "generate_<mode>_schedule(S, H): DDIM index matrices (generated frames only)",
        "matrix.<mode>.F<F>.ctx<c>.S<S>.T<T>": "generate_scheduling_matrix(num_frames=F, num_timesteps=T, "
                                               "sampling_timesteps=S, mode, n_context_frames=c): timesteps, "
                                               "-1 = clean; T=S is the spaced (CLI) case",
    }
    save(out, "respacing.safetensors", tensors, meta)


# ---------------------------------------------------------------------------
# 5./6. dfot_sample runs
# ---------------------------------------------------------------------------

def instrument(diffusion, log):
    """Record, without changing anything, what the reference sampler loop receives
    and returns per step (instance attributes shadow the bound methods)."""
    loop, step = diffusion.dfot_sample_loop, diffusion.dfot_ddim_sample

    def rec_loop(*args, **kw):
        log.setdefault("schedule", []).append(kw["scheduling_matrix"].clone())
        ctx = kw.get("context")
        log.setdefault("context_in", []).append(None if ctx is None else ctx.clone())
        log.setdefault("action_in", []).append((kw.get("model_kwargs") or {}).get("action"))
        return loop(*args, **kw)

    def rec_step(model, x, curr_t, next_t, **kw):
        o = step(model, x, curr_t, next_t, **kw)
        log.setdefault("step_sample", []).append(o["sample"].clone())
        return o

    diffusion.dfot_sample_loop, diffusion.dfot_ddim_sample = rec_loop, rec_step


def sample_inputs(seed):
    torch.manual_seed(seed)
    context = torch.randn(B, 1, C, HW, HW)
    action = torch.randn(B, F, TINY_SAMPLER["action_dim"])
    return context, action


def run_dfot_group(ref, out, fname, runs, path_desc, respacing_of, seed_base, trajectories=True):
    """runs: list of (key, pred, schedule, ztsnr, mode, S, hsl)."""
    model = tiny_model(ref)
    context, action = sample_inputs(seed_base)
    tensors = dict(weights(model), context=context, action=action)
    desc = []
    for i, (key, pred, sched, ztsnr, mode, S, hsl) in enumerate(runs):
        d = create_diffusion(ref, pred, sched, ztsnr, 0.0 if pred == "flow" else 5.0, respacing=respacing_of(S))
        log = {}
        instrument(d, log)
        seed = seed_base + 1 + i
        torch.manual_seed(seed)
        samples = ref.df.dfot_sample(
            diffusion=d, model=model, shape=(B, F, C, HW, HW), context=context, n_context_frames=1,
            scheduling_mode=mode, num_sampling_steps=S,
            model_kwargs=dict(y=None, use_fp16=False, action=action), device="cpu", progress=False,
            eta=0.0, clip_denoised=False, history_stabilization_level=hsl)
        tensors[key + ".samples"] = samples
        tensors[key + ".samples.f64"] = float64_samples(ref, model, pred, sched, ztsnr, respacing_of(S), seed,
                                                        context, action, mode, S, hsl, log["schedule"][0])
        tensors[key + ".schedule"] = log["schedule"][0]
        tensors[key + ".context_in"] = log["context_in"][0]
        if trajectories and hsl > 0:
            tensors[key + ".step_sample"] = torch.stack(log["step_sample"])
        if respacing_of(S) and hasattr(d, "timestep_map"):  # identity when not respaced
            tensors[key + ".timestep_map"] = torch.tensor(d.timestep_map, dtype=torch.int64)
            tensors[key + ".alphas_cumprod"] = torch.from_numpy(d.alphas_cumprod.copy())
        t_stab = (int(round(hsl * (d.num_timesteps - 1))) if hsl > 0 else None)
        desc.append(dict(key=key, pred_name=pred, noise_schedule=sched, zero_terminal_snr=ztsnr,
                         scheduling_mode=mode, num_sampling_steps=S, history_stabilization_level=hsl,
                         respacing=respacing_of(S), num_timesteps=d.num_timesteps, t_stab_index=t_stab,
                         seed=seed, n_steps=len(log["step_sample"])))
        check_replay(ref, d, model, context, action, samples, seed, log["schedule"][0], hsl, pred)
    meta = dict(TINY_META)
    meta.update({
        "runs": json.dumps(desc),
        "path": path_desc,
        "inputs": f"torch.manual_seed({seed_base}); context = randn(2,1,4,4,4); action = randn(2,3,4)",
        "call": "torch.manual_seed(seed); dfot_sample(diffusion, model, shape=(2,3,4,4,4), context, "
                "n_context_frames=1, scheduling_mode, num_sampling_steps=S, model_kwargs=dict(y=None, "
                "use_fp16=False, action=action), device='cpu', progress=False, eta=0.0, clip_denoised=False, "
                "history_stabilization_level)",
        "keys": "<key>.samples [B,F,C,H,W]; <key>.schedule = matrix the loop got (after stabilisation "
                "overwrite); <key>.context_in = context the loop got (re-noised if stabilised); "
                "<key>.step_sample [n_steps,B,F,C,H,W] (only stabilised runs of dfot_train_path / "
                "dfot_preds_flow) = dfot_ddim_sample 'sample' outputs (before the loop restores context frames); <key>.timestep_map / alphas_cumprod (float64) "
                "of the spaced diffusion (dfot_cli_path only; identity / the 1000-step tables otherwise); "
                "<key>.samples.f64 = the same call replayed in float64 (float64 model twin, float32 draws widened)",
    })
    save(out, fname, tensors, meta)


def float64_samples(ref, model, pred, sched, ztsnr, respacing, seed, context, action, mode, S, hsl, schedule):
    """The same dfot_sample call in float64 (model twin, widened inputs, the float32 random
    stream widened): the scale of the float32 run's own error."""
    twin = nf.Float64Twin(lambda: ref.model.NanoWM(**TINY_SAMPLER), model)  # built before seeding
    d = create_diffusion(ref, pred, sched, ztsnr, 0.0 if pred == "flow" else 5.0, respacing=respacing)
    log = {}
    instrument(d, log)
    torch.manual_seed(seed)
    with nf.float64_draws(), torch.no_grad():
        samples = ref.df.dfot_sample(
            diffusion=d, model=twin, shape=(B, F, C, HW, HW), context=context.double(), n_context_frames=1,
            scheduling_mode=mode, num_sampling_steps=S,
            model_kwargs=dict(y=None, use_fp16=False, action=action), device="cpu", progress=False,
            eta=0.0, clip_denoised=False, history_stabilization_level=hsl)
    assert torch.equal(log["schedule"][0], schedule), "float64 replay took another schedule"
    assert samples.dtype == torch.float64, samples.dtype
    return samples


def check_replay(ref, d, model, context, action, samples, seed, schedule, hsl, pred):
    """Independent re-derivation of the documented algorithm (our code); asserts the
    README's description (draw order, formulas, float32 casts) reproduces the reference."""
    is_flow = pred == "flow"
    f32 = lambda arr, t: torch.from_numpy(arr)[t.flatten()].float().reshape(t.shape)[..., None, None, None]
    tmap = torch.tensor(getattr(d, "timestep_map", list(range(d.num_timesteps))))
    torch.manual_seed(seed)
    ctx = context.clone()
    if hsl > 0:
        ts = int(round(hsl * (d.num_timesteps - 1)))
        n = torch.randn_like(ctx)
        tt = torch.full((B, 1), ts)
        if is_flow:
            tau = (1.0 - (tt.float() + 1.0) / d.num_timesteps)[..., None, None, None]
            ctx = tau * ctx + (1.0 - tau) * n
        else:
            ctx = f32(d.sqrt_alphas_cumprod, tt) * ctx + f32(d.sqrt_one_minus_alphas_cumprod, tt) * n
    img = torch.randn(B, F, C, HW, HW)
    img[:, :1] = ctx
    for s in range(schedule.shape[0] - 1):
        cur = schedule[s].expand(B, -1)
        nxt = schedule[s + 1].expand(B, -1)
        cc = cur.clamp(min=0)
        with torch.no_grad():
            out = model(img, tmap[cc] if not is_flow else cc, y=None, use_fp16=False, action=action)
        if is_flow:
            tc = (1.0 - (cc.float() + 1.0) / d.num_timesteps)
            tn = (1.0 - (nxt.clamp(min=0).float() + 1.0) / d.num_timesteps).masked_fill(nxt < 0, 1.0)
            new = img + (tn - tc)[..., None, None, None] * out
        else:
            _ = torch.randn_like(img)  # per-step draw (unused: eta = 0)
            if pred == "v":
                x0 = f32(d.sqrt_alphas_cumprod, cc) * img - f32(d.sqrt_one_minus_alphas_cumprod, cc) * out
            elif pred == "x":
                x0 = out
            else:
                x0 = f32(d.sqrt_recip_alphas_cumprod, cc) * img - f32(d.sqrt_recipm1_alphas_cumprod, cc) * out
            eps = (f32(d.sqrt_recip_alphas_cumprod, cc) * img - x0) / f32(d.sqrt_recipm1_alphas_cumprod, cc)
            abn = f32(d.alphas_cumprod, nxt.clamp(min=0))
            abn = torch.where((nxt < 0)[..., None, None, None].expand_as(abn), torch.ones_like(abn), abn)
            new = x0 * torch.sqrt(abn) + torch.sqrt(1 - abn - 0.0 ** 2) * eps
        keep = ((cur == nxt) | (cur < 0))[..., None, None, None]
        new = torch.where(keep, img, new)
        new[:, :1] = img[:, :1]
        img = new
    if not torch.equal(img, samples):
        raise AssertionError(f"replay mismatch max {(img - samples).abs().max()}")


# ---------------------------------------------------------------------------
# 7. rollout.py (the reference's own main(), I/O stubbed)
# ---------------------------------------------------------------------------

class _FakeSource:
    def __init__(self, frames, actions):
        self.frames, self.actions = frames, actions  # [N,T,C,H,W] in [0,1]; [N,T*fi,d]

    def get_seq_length(self, traj_idx):
        return self.actions.shape[1]

    def load_visual_frames(self, index, start, end, step):
        return self.frames[index][start // step:end // step]

    def load_trajectory(self, idx):
        return types.SimpleNamespace(actions=self.actions[idx])


class _FakeDataset:
    """What rollout.py reads from its validation dataset (one slice per trajectory, start 0)."""
    slice_mode, resize_mode, normalize_action = "exhaustive", "stretch", False

    def __init__(self, source):
        self.data_source = source
        n = source.actions.shape[0]
        self.slice_indices = list(range(n))
        self.all_slices = [types.SimpleNamespace(traj_idx=i, start_frame=0) for i in range(n)]
        self.image_size = (HW, HW)

    def __len__(self):
        return len(self.slice_indices)


def run_rollout(ref, out, name, history, length, mode, S, hsl, seed):
    model = tiny_model(ref)
    torch.manual_seed(seed - 1)
    latents = 0.5 * torch.randn(B, length, C, HW, HW)
    frames01 = (latents + 1.0) / 2.0                       # what the fake data source returns
    raw_actions = torch.randn(B, length * FRAME_INTERVAL, SPEC_ACTION_DIM)
    ds = _FakeDataset(_FakeSource(frames01, raw_actions))
    generated, gt, log = _rollout_main(ref, model, ds, history, length, mode, S, hsl, seed)
    # float64 replay: the model's float64 twin, the float32 random stream widened
    twin = nf.Float64Twin(lambda: ref.model.NanoWM(**TINY_SAMPLER), model)
    with nf.float64_draws():
        generated64, _, log64 = _rollout_main(ref, twin, ds, history, length, mode, S, hsl, seed)
    assert generated64.dtype == torch.float64, generated64.dtype
    assert all(torch.equal(a, b) for a, b in zip(log["schedule"], log64["schedule"]))
    d = log["diffusion"]
    tensors = dict(weights(model), gt_latents=gt, raw_actions=raw_actions, generated=generated,
                   window_actions=torch.stack(log["action_in"]), context_in=torch.stack(log["context_in"]),
                   timestep_map=torch.tensor(d.timestep_map, dtype=torch.int64))
    tensors["generated.f64"] = generated64
    # schedules are identical every window; store the first and check
    assert all(torch.equal(s, log["schedule"][0]) for s in log["schedule"])
    tensors["schedule"] = log["schedule"][0]
    meta = dict(TINY_META)
    meta.update({
        "rollout_args": json.dumps(dict(history_length=history, rollout_length=length, scheduling_mode=mode,
                                        num_sampling_steps=S, eta=0.0, history_stabilization_level=hsl,
                                        frame_interval=FRAME_INTERVAL, spec_action_dim=SPEC_ACTION_DIM,
                                        batch_size=B, num_frames_per_inference=F, use_fp16=False)),
        "diffusion": f"create_diffusion(timestep_respacing='{S}', 'squaredcos_cap_v2', 'v', 1000, 5.0, True) "
                     "(SpacedDiffusion, num_timesteps = S)",
        "seed": str(seed),
        "call": f"torch.manual_seed({seed}); rollout.main(args) of the reference (VAE = identity, "
                "dataset/video I/O stubbed); no other RNG use inside main, so the stream runs through all "
                f"{length - history} dfot_sample calls back to back",
        "keys": "gt_latents [B,L,C,H,W] = frames*2-1 as rollout.py computes it (context = first history_length); "
                "raw_actions [B, L*frame_interval, spec_action_dim]; generated [B,L,C,H,W] (first history_length "
                "= gt); window_actions [L-h,B,F,spec*fi] = model action per window; context_in [L-h,B,h,C,H,W] "
                "= context the loop got (re-noised if stabilised); schedule = matrix per window (same each); "
                "generated.f64 = the same run replayed in float64 (float64 model twin, float32 draws widened)",
        "data": f"torch.manual_seed({seed - 1}); latents = 0.5*randn(B,L,C,H,W); frames = (latents+1)/2; "
                "raw_actions = randn(B, L*fi, d)",
    })
    save(out, name, tensors, meta)


def _rollout_main(ref, model, ds, history, length, mode, S, hsl, seed):
    """Runs the reference's rollout.main() on `model`; returns (generated, gt, log)."""
    _Recorder.model, _Recorder.dataset, _Recorder.decoded = model, ds, []
    log = {}
    real_create = ref.rollout.create_diffusion

    def create(**kw):
        d = real_create(**kw)
        instrument(d, log)
        log["diffusion"] = d
        return d

    ref.rollout.create_diffusion = create
    with tempfile.TemporaryDirectory() as tmp:
        args = _Cfg(
            save_path=tmp, ckpt=None, num_samples=B, batch_size=B, rollout_length=length,
            history_length=history, fps=8, eta=0.0, use_fp16=False,
            model=_Cfg(num_frames=F, use_action=True, scheduling_mode=mode, num_sampling_steps=S,
                       image_size=HW),
            dataset=_Cfg(name="fake", loader=_Cfg(), frame_interval=FRAME_INTERVAL,
                         spec=_Cfg(action_dim=SPEC_ACTION_DIM)),
            experiment=_Cfg(infra=_Cfg(vae_precision="fp32", num_workers=0), diffusion=_Cfg(
                noise_schedule="squaredcos_cap_v2", pred_name="v", diffusion_steps=T_STEPS, snr_gamma=5.0,
                zero_terminal_snr=True, history_stabilization_level=hsl)))
        torch.manual_seed(seed)
        import contextlib, io
        with contextlib.redirect_stdout(io.StringIO()):
            ref.rollout.main(args)
    ref.rollout.create_diffusion = real_create
    return _Recorder.decoded[0], _Recorder.decoded[1], log


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)
    os.makedirs(args.out, exist_ok=True)
    ref = load_reference(args.reference)
    run_schedules(ref, args.out)
    run_losses(ref, args.out)
    run_timestep_sampling(ref, args.out)
    run_respacing(ref, args.out)
    modes = ("full_sequence", "pyramid", "sequential")
    v = ("v", "squaredcos_cap_v2", True)
    run_dfot_group(ref, args.out, "dfot_train_path.safetensors",
                   [(f"{m}.hs{h}", *v, m, 8, h) for m in modes for h in (0.02, 0.0)],
                   "TrainExperiment.log_latents: create_diffusion(timestep_respacing='') -> 1000 steps; "
                   "scheduling matrix over T=1000; t_stab = round(0.02*999) = 20",
                   lambda S: "", 500)
    run_dfot_group(ref, args.out, "dfot_cli_path.safetensors",
                   [(f"{m}.hs{h}", *v, m, 8, h) for m in modes for h in (0.02, 0.0)]
                   + [("sequential.hs0.02.S30", *v, "sequential", 30, 0.02)],
                   "sample_dfot.py / rollout.py: create_diffusion(timestep_respacing=str(S)) -> SpacedDiffusion "
                   "with num_timesteps = S; matrix over T=S, model gets timestep_map[index]; "
                   "t_stab index = round(0.02*(S-1)) (0 for S=8, 1 for S=30)",
                   lambda S: str(S), 600, trajectories=False)
    run_dfot_group(ref, args.out, "dfot_preds_flow.safetensors",
                   [("epsilon_linear.pyramid.hs0.02", "epsilon", "linear", False, "pyramid", 6, 0.02),
                    ("x_cos_ztsnr.pyramid.hs0.02", "x", "squaredcos_cap_v2", True, "pyramid", 6, 0.02),
                    ("flow.pyramid.hs0.02", "flow", "squaredcos_cap_v2", False, "pyramid", 6, 0.02),
                    ("flow.sequential.hs0", "flow", "squaredcos_cap_v2", False, "sequential", 5, 0.0)],
                   "train path (timestep_respacing=''); for flow create_diffusion ignores respacing and "
                   "returns FlowMatching(1000, snr_gamma) whatever the path",
                   lambda S: "", 700)
    run_rollout(ref, args.out, "rollout_h2_L10_sequential.safetensors", 2, 10, "sequential", 5, 0.02, 800)
    run_rollout(ref, args.out, "rollout_h1_L6_pyramid_hs0.safetensors", 1, 6, "pyramid", 4, 0.0, 900)


if __name__ == "__main__":
    main()
