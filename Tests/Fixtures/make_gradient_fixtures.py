#!/usr/bin/env python3
"""Gradient fixtures for `nanowm forward --gradients` (issue #24): the reference model's
parameter gradients of (out * probe).sum(), with their float64 replay.

The reference model is IMPORTED from a checkout given with --reference (through
make_nanowm_fixtures.load_reference and its stand-ins); nothing of it is copied here.

Usage (from the repository root):

    .venv/bin/python Tests/Fixtures/make_gradient_fixtures.py \
        --reference /tmp/nwm-ref --out Tests/Fixtures/nanowm

Each <out>/grad_<case>.safetensors holds the weights (`weights.<key>`), `x`, `t`, `action`,
`probe` (randn, the shape of out), `out` and, for every parameter the pass reaches,
`grad.<key>` (float32) and `grad.<key>.f64` (the same pass and backward in float64 on the
same weights, Float64Twin), so a test judges them as it judges `out` (README, "Tolerances").
The model runs in eval() with autograd on, as `nanowm forward --gradients` runs it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_nanowm_fixtures as nf  # noqa: E402  (sister script: stand-ins, writer, float64 twin)

# The deep configuration (two spatial/temporal pairs) with actions, so every kind of block,
# the action path and the causal mask carry a gradient. One case keeps the file near 1 MB.
CASES = [("grad_act_additive_causal_tframe", dict(nf.DEEP, use_action=True, action_dim=nf.TINY_ACTION_DIM,
                                                   action_injection_type="additive", causal=True), "frame", 3100)]


def gradients(model, x, t, action, probe):
    model.zero_grad(set_to_none=True)
    out = model(x, t, action=action)
    (out * probe.to(out.dtype)).sum().backward()
    return out.detach(), {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="checkout of nano-world-model (has src/models/nanowm.py)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    ref = nf.load_reference(args.reference)
    os.makedirs(args.out, exist_ok=True)
    for name, kwargs, t_shape, seed in CASES:
        torch.manual_seed(seed)
        model = ref.NanoWM(**kwargs).eval()
        nf.randomize_tiny(model, seed)
        x, t, action = nf.make_inputs(seed + 500, kwargs["num_frames"], kwargs["in_channels"], kwargs["input_size"],
                                      kwargs["action_dim"], t_shape, True)
        probe = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed + 700))
        out, grads = gradients(model, x, t, action, probe)
        twin = nf.Float64Twin(lambda: ref.NanoWM(**kwargs), model)
        with nf.widened():
            out64, grads64 = gradients(twin.inner, x.double(), t, action.double(), probe)
        assert set(grads) == set(grads64), set(grads) ^ set(grads64)
        tensors = {f"weights.{k}": v for k, v in model.state_dict().items()}
        tensors.update({"x": x, "t": t, "action": action, "probe": probe, "out": out, "out.f64": out64})
        for k in grads:
            tensors[f"grad.{k}"], tensors[f"grad.{k}.f64"] = grads[k], grads64[k]
        errors = {k: nf.float32_error(grads[k], grads64[k]) for k in grads}
        meta = {"config": json.dumps(dict(kwargs, t_shape=t_shape), sort_keys=True),
                "weight_init": f"state_dict order, Generator().manual_seed({seed}); q_norm/k_norm: 1+0.2*randn, others 0.2*randn",
                "probe": f"torch.randn(out.shape, generator=Generator().manual_seed({seed + 700}))",
                "model_call": "model.eval(); (model(x, t, action=action) * probe).sum().backward(); grad.<key> = p.grad",
                "no_grad_parameters": json.dumps(sorted(k for k, _ in model.named_parameters() if k not in grads)),
                "grad.max_float32_error": repr(max(errors.values()))}
        path = os.path.join(args.out, name + ".safetensors")
        nf.save_safetensors(path, tensors, meta)
        print(f"ok   {name}  {len(grads)} gradients, largest f32 error {max(errors.values()):.3g}  {os.path.getsize(path)} B")


if __name__ == "__main__":
    main()
