#!/usr/bin/env python3
"""Fixtures for the reference's optimizer-step semantics: learning rate and gradient clipping.

The reference (simchowitzlabpublic/nano-world-model) builds its learning-rate scheduler in
`NanoWMTrainingModule.configure_optimizers` (src/experiments/train_experiment.py) and calls
its `clip_grad_norm_` (src/utils/nanowm_utils.py) inside `training_step`. Both are taken from a
checkout given with --reference and run as they are: `configure_optimizers` and the clipping
`if` statement of `training_step` are cut out of the file with `ast` and executed (the rest of
the module needs the datasets, codecs and Hydra), inside a real PyTorch Lightning training
loop (`pytorch_lightning`, as the reference imports it), which decides when gradients are
cleared, accumulated and stepped. The model is a small MLP on random data, so the fixture
tests the update rule, not the world model.

Needs `pytorch-lightning` importable (not a test dependency), e.g.

    .venv/bin/python -m pip install --target /tmp/lightning-pkgs --no-deps \
        pytorch-lightning lightning-utilities torchmetrics fsspec tqdm
    PYTHONPATH=/tmp/lightning-pkgs .venv/bin/python Tests/Fixtures/make_training_fixtures.py \
        --reference /tmp/nwm-ref --out Tests/Fixtures/training

Each case is run in float32 and replayed in float64 (same initial weights and data, widened),
stored as `<key>` and `<key>.f64` (Tests/Fixtures/README.md, "Tolerances").
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import types
import warnings

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_nanowm_fixtures as nf  # noqa: E402  (the safetensors writer)

# (name, accumulate_grad_batches, steps, lr_warmup_steps, gradient_clip_norm, gradient_clip_start_step)
CASES = [
    ("single_microbatch", 1, 4, 3, 0.05, 0),
    ("accumulation", 3, 4, 3, 0.05, 1),
]
IN, HIDDEN, OUT, ROWS = 4, 8, 3, 5
LR, WEIGHT_DECAY = 0.05, 0.01


def reference_parts(root):
    """`configure_optimizers` and the clipping statement of `training_step`, as code objects."""
    path = os.path.join(root, "src", "experiments", "train_experiment.py")
    tree = ast.parse(open(path).read())
    module = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "NanoWMTrainingModule")
    methods = {n.name: n for n in module.body if isinstance(n, ast.FunctionDef)}
    configure = ast.Module(body=[methods["configure_optimizers"]], type_ignores=[])
    clipping = [n for n in ast.walk(methods["training_step"])
                if isinstance(n, ast.If) and "gradient_clip_start_step" in ast.unparse(n.test)]
    assert len(clipping) == 1, "training_step's clipping statement not found"
    src = os.path.join(root, "src")
    sys.path.insert(0, src)
    from utils.nanowm_utils import clip_grad_norm_  # the reference's own
    from diffusers.optimization import get_scheduler
    namespace = {"get_scheduler": get_scheduler}
    exec(compile(ast.fix_missing_locations(configure), path, "exec"), namespace)
    clip_code = compile(ast.fix_missing_locations(ast.Module(body=clipping, type_ignores=[])), path, "exec")
    return namespace["configure_optimizers"], clip_code, clip_grad_norm_


def run_case(parts, case, weights, batches, dtype):
    import pytorch_lightning as pl
    reference_configure_optimizers, clip_code, clip_grad_norm_ = parts
    name, accumulation, steps, warmup, clip_norm, clip_start = case
    args = types.SimpleNamespace(experiment=types.SimpleNamespace(training=types.SimpleNamespace(
        optimizer=types.SimpleNamespace(lr=LR, weight_decay=WEIGHT_DECAY, lr_warmup_steps=warmup),
        max_steps=steps, gradient_clip_norm=clip_norm, gradient_clip_start_step=clip_start)))

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.args = args
            self.model = nn.Sequential(nn.Linear(IN, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, OUT)).to(dtype)
            self.model.load_state_dict({k: v.to(dtype) for k, v in weights.items()})
            # As the reference's __init__: AdamW over the model's parameters, scheduler later.
            self.opt = torch.optim.AdamW(self.model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
            self.lr_scheduler = None
            self.norms, self.rates, self.params = [], [], []

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = ((self.model(x.to(dtype)) - y.to(dtype)) ** 2).mean()
            scope = {"self": self, "clip_grad_norm_": clip_grad_norm_}
            exec(clip_code, scope)  # the reference's statement: sets gradient_norm
            self.norms.append(float(scope["gradient_norm"]))
            return loss

        configure_optimizers = reference_configure_optimizers

        def on_before_optimizer_step(self, optimizer):
            self.rates.append(optimizer.param_groups[0]["lr"])

        def on_train_batch_end(self, outputs, batch, batch_idx):
            if (batch_idx + 1) % accumulation == 0:
                self.params.append({k: v.detach().clone() for k, v in self.model.state_dict().items()})

    module = Module()
    loader = torch.utils.data.DataLoader(batches, batch_size=None, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = pl.Trainer(accelerator="cpu", devices=1, max_steps=steps, accumulate_grad_batches=accumulation,
                             logger=False, enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, num_sanity_val_steps=0)
        trainer.fit(module, loader)
    assert len(module.rates) == steps and len(module.params) == steps, (len(module.rates), len(module.params))
    return module


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="checkout of nano-world-model (has src/experiments)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    parts = reference_parts(a.reference)
    for case in CASES:
        name, accumulation, steps, warmup, clip_norm, clip_start = case
        g = torch.Generator().manual_seed(20261203)
        init = nn.Sequential(nn.Linear(IN, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, OUT))
        with torch.no_grad():
            for p in init.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
        weights = {k: v.detach().clone() for k, v in init.state_dict().items()}
        batches = [(torch.randn(ROWS, IN, generator=g), torch.randn(ROWS, OUT, generator=g))
                   for _ in range(steps * accumulation)]
        f32 = run_case(parts, case, weights, batches, torch.float32)
        f64 = run_case(parts, case, weights, batches, torch.float64)
        assert f32.rates == f64.rates
        tensors = {f"weights.{k}": v for k, v in weights.items()}
        tensors["x"] = torch.stack([x for x, _ in batches])
        tensors["y"] = torch.stack([y for _, y in batches])
        tensors["norms"] = torch.tensor(f32.norms, dtype=torch.float32)
        tensors["norms.f64"] = torch.tensor(f64.norms, dtype=torch.float64)
        for s in range(steps):
            for k in weights:
                tensors[f"step{s}.{k}"] = f32.params[s][k]
                tensors[f"step{s}.{k}.f64"] = f64.params[s][k]
        meta = {"accumulate_grad_batches": accumulation, "steps": steps, "lr": LR, "weight_decay": WEIGHT_DECAY,
                "lr_warmup_steps": warmup, "gradient_clip_norm": clip_norm, "gradient_clip_start_step": clip_start,
                "learning_rates": json.dumps(f32.rates), "model": f"Linear({IN},{HIDDEN}) Tanh Linear({HIDDEN},{OUT})",
                "loss": "mean squared error", "lightning": __import__("pytorch_lightning").__version__}
        path = os.path.join(a.out, f"update_rule_{name}.safetensors")
        nf.save_safetensors(path, tensors, meta)
        print(f"ok   {name}: rates {f32.rates}  norms {[round(n, 5) for n in f32.norms]}")


if __name__ == "__main__":
    main()
