#!/usr/bin/env python3
"""Record what the reference's evaluate task computes, for `nanowm evaluate` to reproduce.

The reference (simchowitzlabpublic/nano-world-model) is run from the `src/` folder given with
--reference, as its users run it: `main.py experiment=evaluate_only` under Hydra, through
`TrainExperiment.evaluate()` and a real Lightning `Trainer.validate()` (pytorch-lightning 1.9.5,
the version its environment.yml pins), on CPU. Nothing of the reference is copied here.

Each case evaluates a small NanoWM checkpoint on Tests/Fixtures/datasets/point_maze (DINO-WM's
layout): a fixed subset of 8 clips (seed 42), batch 4, 1 context + 3 generated frames, 4 DDIM
steps on the 1000-step process, sequential, history stabilisation 0.02, seed 3407.

- `pixel`: frames are the latents (the reference has no pixel codec; see the stand-ins).
- `sd_vae`: a random tiny diffusers AutoencoderKL (factor 2, 4 channels), saved beside the
  fixture with save_pretrained; the checkpoint holds its `vae.*` weights as a Lightning
  checkpoint of the reference's training module does.

Stand-ins, only for what cannot run here (each installed in the child process that runs main.py):
- the GPU accelerator: Lightning's Trainer gets accelerator="cpu", devices=1 instead of
  accelerator="gpu", devices=torch.cuda.device_count(); the metrics Evaluator gets device "cpu"
  instead of "cuda:0".
- torchvision (it cannot sit beside CPU torch here): Tests/Support/torchvision_standin.py, whose
  VGG-16 and Inception-v3 are built module for module as torchvision builds them, so building
  lpips's and pytorch-fid's networks draws what it draws with torchvision. Their pretrained
  weights (downloads) are not loaded: the networks keep their random construction values, so the
  recorded LPIPS and FID are not comparable with anything and the test does not use them.
- the model preset: `NanoWM-Tiny/2` (the reference's own NanoWM class with depth 2, hidden size
  32, 2 heads, patch 2) is added to the reference's preset table, whose smallest entry (S) would
  make a 100 MB checkpoint.
- the pixel codec (`latent_codec.kind=pixel`): identity encode/decode with no random draw.
- SciPy's `sqrtm(disp=False)`, which pytorch-fid 0.3.0 calls and newer SciPy dropped.

For each case the task runs twice, in child processes: natively and under
ATEN_CPU_CAPABILITY=default. The second run's distance from the first (E) is how much the
computation's float32 results move when other kernels run it; the test allows
max(1e-5, 4·(E + ε₃₂·max|v|)) on predictions and the like on metrics (Tests/Fixtures/README.md).

Writes <out>/<case>.safetensors: `pred`, `gt` [N, 3, T, H, W] in [0, 1] (the clips' raw_data.npz
in name order); metadata `clips` (names), `metrics` (what validate() returned: val_loss and
val_eval/*), `metrics_alt` (the same under ATEN_CPU_CAPABILITY=default), `pred_alt_distance` and
`gt_alt_distance` (E), `overrides` (the Hydra command line; @DATASETS, @CHECKPOINT and @VAE stand
for Tests/Fixtures/datasets, the case's checkpoint and the VAE folder). Also <out>/checkpoint_<case>.ckpt and <out>/sd_vae_tiny/.

Usage (from the repository root; pytorch-lightning 1.9.5, hydra-core and piqa installed to a
folder of their own, e.g. `.venv/bin/pip install --target /tmp/refpkgs --no-deps
pytorch-lightning==1.9.5 hydra-core omegaconf antlr4-python3-runtime==4.9.3 lightning-utilities
torchmetrics fsspec tqdm einops piqa`):

    PYTHONPATH=/tmp/refpkgs .venv/bin/python Tests/Fixtures/make_evaluate_fixtures.py \\
        --reference /tmp/nwm-ref/src --out Tests/Fixtures/evaluate
"""
import argparse
import json
import os
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "Tests" / "Support"))

TINY_PRESET = dict(depth=2, hidden_size=32, patch_size=2, num_heads=2)
IMAGE = 16
CASES = {
    "pixel": dict(latent=["latent_codec.kind=pixel", f"model.latent_size={IMAGE}", "model.latent_channels=3"]),
    "sd_vae": dict(latent=["latent_codec=sd_vae", "latent_codec.model_path=@VAE", f"model.latent_size={IMAGE // 2}",
                           "model.latent_channels=4"]),
}


def overrides(case, checkpoint, vae, run_dir):
    common = [
        "experiment=evaluate_only", "dataset=dino_wm/point_maze", "dataset_dir=@DATASETS",
        "dataset.loader.validation_fixed_subset_size=8", "dataset.loader.validation_fixed_subset_seed=42",
        "model=nanowm_s2", "model.arch=NanoWM-Tiny/2", "model.name=NanoWM-Tiny-2", f"model.image_size={IMAGE}",
        "model.num_frames=4", "model.n_context_frames=1", "model.scheduling_mode=sequential",
        "experiment.resume_from_checkpoint=@CHECKPOINT", "experiment.infra.seed=3407",
        "experiment.infra.mixed_precision=false", "experiment.infra.compile=false", "experiment.infra.num_workers=0",
        "experiment.evaluation.batch_size=4", "experiment.evaluation.num_sampling_steps=4",
        "experiment.diffusion.history_stabilization_level=0.02",
        "logger.name=none", "wandb.enabled=false",
    ] + CASES[case]["latent"]
    return common


def resolve(args, checkpoint, vae):
    table = {"@DATASETS": str(HERE / "datasets"), "@CHECKPOINT": str(checkpoint), "@VAE": str(vae)}
    out = []
    for a in args:
        for k, v in table.items():
            a = a.replace(k, v)
        out.append(a)
    return out


# ---------------------------------------------------------------------------
# The child: the reference's main.py with the stand-ins.
# ---------------------------------------------------------------------------

def model_standins(src):
    """timm/einops stand-ins of make_nanowm_fixtures.py, with a module spec each, since
    diffusers looks packages up with importlib.util.find_spec."""
    import importlib.machinery
    import make_nanowm_fixtures as nf
    nf._install_standins()
    for name in ("timm", "timm.models", "timm.models.vision_transformer", "einops"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__spec__", None) is None:
            module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    if src not in sys.path:
        sys.path.insert(0, src)


def install_standins(src):
    # Lightning and torchmetrics are imported first, so that they see no torchvision (as
    # where it is missing) rather than the stand-in's two networks.
    import pytorch_lightning as pl
    import torchvision_standin
    torchvision_standin.install()
    model_standins(src)

    original_init = pl.Trainer.__init__

    def cpu_trainer(self, *a, **k):
        k.update(accelerator="cpu", devices=1)
        return original_init(self, *a, **k)
    pl.Trainer.__init__ = cpu_trainer

    original_validate = pl.Trainer.validate

    def recording_validate(self, *a, **k):
        results = original_validate(self, *a, **k)
        with open(os.environ["NWM_RESULTS"], "w") as f:
            json.dump({k: float(v) for k, v in results[0].items()}, f, indent=1, sort_keys=True)
        return results
    pl.Trainer.validate = recording_validate

    import utils.metrics as metrics
    original_evaluator = metrics.Evaluator.__init__

    def cpu_evaluator(self, *a, **k):
        k["device"] = "cpu"
        return original_evaluator(self, *a, **k)
    metrics.Evaluator.__init__ = cpu_evaluator
    import pytorch_fid.inception as fid
    fid.load_state_dict_from_url = lambda *a, **k: None  # no FID weights here: construction values stay
    inception = sys.modules["torchvision.models.inception"].Inception3
    load = inception.load_state_dict
    inception.load_state_dict = lambda self, state, *a, **k: None if state is None else load(self, state, *a, **k)

    # pytorch-fid 0.3.0 calls scipy's sqrtm(disp=False) for a (root, error) pair that newer
    # SciPy no longer returns.
    import scipy.linalg
    sqrtm = scipy.linalg.sqrtm
    scipy.linalg.sqrtm = lambda a, disp=True, **k: (sqrtm(a, **k), 0.0) if disp is False else sqrtm(a, **k)

    import models
    from models.nanowm import NanoWM
    models.NanoWM_models["NanoWM-Tiny/2"] = lambda **k: NanoWM(**TINY_PRESET, **k)

    import experiments.train_experiment as te
    from latent_codecs.base import LatentCodecConfig, LatentShape
    resolve_config, build_codec = te.resolve_latent_codec_config, te.build_latent_codec

    class PixelCodec:
        kind, has_decoder, precision = "pixel", True, "fp32"

        def __init__(self, size):
            self.latent_shape = LatentShape(channels=3, height=size, width=size)

        def encode(self, frames):
            return frames.clone()

        def decode(self, latents):
            return latents.clone()

        def requires_grad_(self, flag):
            return self

        def eval(self):
            return self

        def to(self, device):
            return self

    def is_pixel(cfg):
        return cfg.latent_codec.get("kind") == "pixel"

    def pixel_config(cfg):
        if not is_pixel(cfg):
            return resolve_config(cfg)
        size = int(cfg.model.image_size)
        return LatentCodecConfig(kind="pixel", model_path="(none)", latent_shape=LatentShape(channels=3, height=size, width=size),
                                 precision="fp32", has_decoder=True, input_size=size, patch_size=1, repo_path=None,
                                 checkpoint_key=None)
    te.resolve_latent_codec_config = pixel_config
    te.build_latent_codec = lambda cfg: PixelCodec(int(cfg.model.image_size)) if is_pixel(cfg) else build_codec(cfg)


def child(src, argv):
    install_standins(src)
    torch.set_num_threads(1)
    sys.argv = [os.path.join(src, "main.py")] + argv
    runpy.run_path(sys.argv[0], run_name="__main__")


# ---------------------------------------------------------------------------
# The parent: inputs, two runs per case, the fixture files.
# ---------------------------------------------------------------------------

def make_vae(folder):
    from diffusers.models import AutoencoderKL
    torch.manual_seed(0)
    vae = AutoencoderKL(down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        block_out_channels=(8, 16), layers_per_block=1, latent_channels=4, norm_num_groups=4,
                        sample_size=IMAGE)
    vae.save_pretrained(folder)
    return vae


def make_checkpoint(src, case, path, vae):
    """The reference's model with every weight random (adaLN-Zero would otherwise make the
    output zero whatever the noise), saved as a Lightning checkpoint of the training module."""
    model_standins(src)
    from models.nanowm import NanoWM
    channels = 3 if case == "pixel" else 4
    size = IMAGE if case == "pixel" else IMAGE // 2
    model = NanoWM(**TINY_PRESET, input_size=size, in_channels=channels, num_classes=1000, num_frames=4, extras=1,
                   use_action=True, action_dim=2 * 5, action_injection_type="additive", causal=True)
    g = torch.Generator().manual_seed(17)
    with torch.no_grad():
        for k, v in model.state_dict().items():
            r = torch.randn(v.shape, generator=g)
            v.copy_(1.0 + 0.1 * r if k.endswith("norm.weight") else 0.1 * r)
    state = {"model." + k: v for k, v in model.state_dict().items()}
    if vae is not None:
        state.update({"vae." + k: v for k, v in vae.state_dict().items()})
    torch.save({"state_dict": state, "global_step": 0, "epoch": 0, "pytorch-lightning_version": "1.9.5"}, path)


def run_reference(script, src, argv, capability):
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NWM_RESULTS=os.path.join(tmp, "results.json"), OMP_NUM_THREADS="1")
        if capability:
            env["ATEN_CPU_CAPABILITY"] = capability
        run_dir = os.path.join(tmp, "run")
        subprocess.run([sys.executable, script, "--child", "--reference", src, "--", *argv, f"hydra.run.dir={run_dir}"],
                       env=env, check=True, cwd=tmp)
        results = json.load(open(env["NWM_RESULTS"]))
        videos = Path(run_dir) / "eval_videos" / "step_0000000"
        clips = sorted(p.name for p in videos.iterdir())
        raw = [np.load(videos / c / "raw_data.npz") for c in clips]
        pred = torch.from_numpy(np.stack([r["pred"] for r in raw]))
        gt = torch.from_numpy(np.stack([r["gt"] for r in raw]))
        return results, clips, pred, gt


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, help="the reference checkout's src/ folder")
    parser.add_argument("--out")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs="*")
    args = parser.parse_args()
    src = os.path.abspath(args.reference)
    if args.child:
        return child(src, args.rest)
    import make_nanowm_fixtures as nf
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        vae_folder = out / "sd_vae_tiny"
        vae = make_vae(vae_folder) if case == "sd_vae" else None
        checkpoint = out / f"checkpoint_{case}.ckpt"
        make_checkpoint(src, case, checkpoint, vae)
        argv = overrides(case, checkpoint, vae_folder, None)
        real = resolve(argv, checkpoint, vae_folder)
        results, clips, pred, gt = run_reference(__file__, src, real, None)
        alt_results, alt_clips, alt_pred, alt_gt = run_reference(__file__, src, real, "default")
        assert alt_clips == clips, (clips, alt_clips)
        print(case, results, alt_results, "E(pred) =", float((pred - alt_pred).abs().max()),
              "E(gt) =", float((gt - alt_gt).abs().max()))
        nf.save_safetensors(out / f"{case}.safetensors", {"pred": pred, "gt": gt}, {
            "clips": json.dumps(clips), "metrics": json.dumps(results, sort_keys=True),
            "metrics_alt": json.dumps(alt_results, sort_keys=True), "overrides": json.dumps(argv),
            "pred_alt_distance": repr(float((pred - alt_pred).abs().max())),
            "gt_alt_distance": repr(float((gt - alt_gt).abs().max())),
            "reference_commit": "2ee3c355a6e44d2254eba8a8c29f199adddf4a3e", "torch": torch.__version__,
            "lightning": "1.9.5",
        })


if __name__ == "__main__":
    main()
