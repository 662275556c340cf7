#!/usr/bin/env python3
"""Export a latent codec's network to one TorchScript file that `nanowm` loads without Python.

Run once, on a machine that has the weights (nanowm itself never needs Python):

    scripts/export_codec.py sd_vae   SRC OUT     SRC: Hugging Face id or local diffusers AutoencoderKL
                                                 folder (save_pretrained layout, or a pipeline
                                                 folder with vae/), e.g. stabilityai/sd-vae-ft-mse
    scripts/export_codec.py webdino  SRC OUT     SRC: transformers Dinov2Model folder or id, e.g.
                                                 facebook/webssl-dino300m-full2b-224
    scripts/export_codec.py vjepa2_1 CKPT OUT --repo VJEPA2_CLONE
                                                 CKPT: V-JEPA 2.1 checkpoint file (or a folder:
                                                 vjepa2_1_vitl_dist_vitG_384.pt preferred, else the
                                                 first *.pt), loaded as upstream does
                                                 (entry `ema_encoder`, prefixes module./backbone.
                                                 removed, strict) into the vjepa2 clone's
                                                 vjepa2_1_vit_large_384
    scripts/export_codec.py vjepa2_1 SRC OUT     SRC: a transformers VJEPA2Model folder instead

checkpoints/README.md says where the weights come from. OUT holds the network and everything
the codec needs, as attributes nanowm reads:

    codec_kind       "sd_vae" | "webdino" | "vjepa2_1"
    format_version   1
    latent_channels  4 (SD-VAE) or the encoder's width (1024 for the released models)
    scaling_factor   SD-VAE: the VAE config's scaling factor (0.18215 for sd-vae-ft-mse); else 1
    downsample       SD-VAE: pixels per latent cell (8); semantic: the patch size
    input_size       semantic: the square size frames are resized to (224 Web-DINO, 256 V-JEPA)
    patch_size       semantic: the encoder's patch size (14, 16)
    image_mean/std   semantic: ImageNet normalisation applied before the encoder

and methods (all float32, eval mode, no gradients):

    sd_vae    encode_moments(x [B,3,H,W] in [-1,1]) -> (mean, logvar) of the posterior, logvar
              clamped to [-30, 20] as diffusers' DiagonalGaussianDistribution does; nanowm draws
              the posterior sample mean + exp(logvar/2) * randn itself, from the global
              generator, exactly as posterior.sample() does, and multiplies by scaling_factor.
              decode(z [B,4,h,w], already divided by scaling_factor) -> frames (raw, unclamped)
    webdino   encode_tokens(x [B,3,S,S] preprocessed) -> patch tokens [B, N, C] (CLS dropped)
    vjepa2_1  encode_tokens(x [B,3,S,S] preprocessed) -> patch tokens [B, N, C] (image path: the
              encoder sees [B,3,1,S,S])

The value mapping ([-1,1] -> [0,1], clamp, bicubic resize, ImageNet normalisation) and the
token-to-grid reshape are done by nanowm, as upstream's codec does them, around these methods.
"""
import argparse
import json
import os
import sys
from pathlib import Path
from typing import List, Optional, Tuple

import torch
import torch.nn as nn

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
FORMAT_VERSION = 1


def fail(message: str) -> None:
    print(f"export_codec: {message}", file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------------------------------------
# SD-VAE
# ---------------------------------------------------------------------------------------------

def load_autoencoder(src: str):
    """diffusers AutoencoderKL the way upstream finds it: a folder with config.json, a pipeline
    folder with vae/, or a hub id (vae/ subfolder first, then the root)."""
    from diffusers.models import AutoencoderKL

    path = Path(src)
    if path.is_dir():
        if (path / "config.json").exists():
            return AutoencoderKL.from_pretrained(str(path))
        if (path / "vae").is_dir():
            return AutoencoderKL.from_pretrained(str(path), subfolder="vae")
        fail(f"{src}: neither an AutoencoderKL folder (config.json) nor a pipeline folder (vae/)")
    try:
        return AutoencoderKL.from_pretrained(src, subfolder="vae")
    except Exception:
        return AutoencoderKL.from_pretrained(src)


class _Moments(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, x):
        posterior = self.vae.encode(x).latent_dist
        return posterior.mean, posterior.logvar


class _Decoder(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, z):
        return self.vae.decode(z).sample


class SDVAECodec(nn.Module):
    codec_kind: str
    format_version: int
    latent_channels: int
    scaling_factor: float
    downsample: int

    def __init__(self, moments, decoder, latent_channels: int, scaling_factor: float, downsample: int):
        super().__init__()
        self.moments = moments
        self.decoder = decoder
        self.codec_kind = "sd_vae"
        self.format_version = FORMAT_VERSION
        self.latent_channels = latent_channels
        self.scaling_factor = scaling_factor
        self.downsample = downsample

    @torch.jit.export
    def encode_moments(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.moments(x)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.moments(x)


def export_sd_vae(src: str, image_size: int):
    vae = load_autoencoder(src).float().eval()
    config = vae.config
    downsample = 2 ** (len(config.block_out_channels) - 1)
    if image_size % downsample:
        fail(f"--image-size {image_size} is not a multiple of the VAE's downsampling factor {downsample}")
    latent_channels = int(config.latent_channels)
    x = torch.zeros(1, 3, image_size, image_size)
    z = torch.zeros(1, latent_channels, image_size // downsample, image_size // downsample)
    with torch.no_grad():
        moments = torch.jit.trace(_Moments(vae), x, check_trace=False)
        decoder = torch.jit.trace(_Decoder(vae), z, check_trace=False)
    return SDVAECodec(moments, decoder, latent_channels, float(config.scaling_factor), downsample)


# ---------------------------------------------------------------------------------------------
# Web-DINO and V-JEPA 2.1
# ---------------------------------------------------------------------------------------------

class SemanticCodec(nn.Module):
    codec_kind: str
    format_version: int
    latent_channels: int
    scaling_factor: float
    downsample: int
    input_size: int
    patch_size: int
    image_mean: List[float]
    image_std: List[float]

    def __init__(self, kind: str, tokens, latent_channels: int, input_size: int, patch_size: int):
        super().__init__()
        self.tokens = tokens
        self.codec_kind = kind
        self.format_version = FORMAT_VERSION
        self.latent_channels = latent_channels
        self.scaling_factor = 1.0
        self.downsample = patch_size
        self.input_size = input_size
        self.patch_size = patch_size
        self.image_mean = list(IMAGENET_MEAN)
        self.image_std = list(IMAGENET_STD)

    @torch.jit.export
    def encode_tokens(self, x: torch.Tensor) -> torch.Tensor:
        return self.tokens(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tokens(x)


class _DinoTokens(nn.Module):
    """Dinov2Model's last_hidden_state (after its final layer norm) without the CLS token."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(pixel_values=x).last_hidden_state[:, 1:]


def export_webdino(src: str, input_size: Optional[int]):
    from transformers import Dinov2Model

    model = Dinov2Model.from_pretrained(src).float().eval()
    patch = int(model.config.patch_size)
    size = input_size or 16 * patch  # upstream: latent_size (16) x patch_size
    with torch.no_grad():
        tokens = torch.jit.trace(_DinoTokens(model), torch.zeros(1, 3, size, size), check_trace=False)
    return SemanticCodec("webdino", tokens, int(model.config.hidden_size), size, patch)


class _VJEPATokens(nn.Module):
    """The vjepa2 repository's encoder on one frame: [B,3,S,S] -> [B,3,1,S,S] -> tokens."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, x):
        return self.encoder(x.unsqueeze(2))


class _HFVJEPATokens(nn.Module):
    """transformers' VJEPA2Model on one frame ([B,1,3,S,S]): its last hidden state."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(pixel_values_videos=x.unsqueeze(1), skip_predictor=True).last_hidden_state


def vjepa_checkpoint_file(path: Path) -> Path:
    if path.is_file():
        return path
    if path.is_dir():
        preferred = path / "vjepa2_1_vitl_dist_vitG_384.pt"
        if preferred.exists():
            return preferred
        candidates = sorted(path.glob("*.pt"))
        if candidates:
            return candidates[0]
    fail(f"{path}: no V-JEPA 2.1 checkpoint (a .pt file, or a folder holding one)")


def export_vjepa2_1(src: str, repo: Optional[str], key: str, input_size: Optional[int]):
    size = input_size or 256
    if repo is None:
        from transformers import VJEPA2Model

        if not (Path(src) / "config.json").exists():
            fail(f"{src}: give --repo VJEPA2_CLONE for a V-JEPA 2.1 checkpoint, or a transformers VJEPA2Model folder")
        model = VJEPA2Model.from_pretrained(src).float().eval()
        patch, width = int(model.config.patch_size), int(model.config.hidden_size)
        module = _HFVJEPATokens(model)
    else:
        sys.path.insert(0, str(Path(repo).resolve()))
        from src.hub.backbones import vjepa2_1_vit_large_384  # the vjepa2 clone's own code

        encoder, _ = vjepa2_1_vit_large_384(pretrained=False)
        checkpoint = torch.load(vjepa_checkpoint_file(Path(src)), map_location="cpu", weights_only=False)
        if key not in checkpoint:
            fail(f"{src}: no entry '{key}' (has: {', '.join(map(str, checkpoint))})")
        state = {k.replace("module.", "").replace("backbone.", ""): v for k, v in checkpoint[key].items()}
        encoder.load_state_dict(state, strict=True)
        encoder = encoder.float().eval()
        patch, width = int(encoder.patch_size), int(encoder.embed_dim)
        module = _VJEPATokens(encoder)
    with torch.no_grad():
        tokens = torch.jit.trace(module, torch.zeros(1, 3, size, size), check_trace=False)
    return SemanticCodec("vjepa2_1", tokens, width, size, patch)


# ---------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["sd_vae", "webdino", "vjepa2_1"])
    parser.add_argument("src", help="weights: a hub id, a local folder or a checkpoint file (see above)")
    parser.add_argument("out", help="the TorchScript file to write")
    parser.add_argument("--repo", help="vjepa2_1: a clone of facebookresearch/vjepa2 (for its encoder code)")
    parser.add_argument("--checkpoint-key", default="ema_encoder", help="vjepa2_1: the checkpoint entry (ema_encoder)")
    parser.add_argument("--image-size", type=int, default=256, help="sd_vae: frame size used for tracing (256)")
    parser.add_argument("--input-size", type=int, help="webdino/vjepa2_1: encoder input size (224 / 256)")
    args = parser.parse_args()

    torch.set_grad_enabled(False)
    if args.kind == "sd_vae":
        codec = export_sd_vae(args.src, args.image_size)
    elif args.kind == "webdino":
        codec = export_webdino(args.src, args.input_size)
    else:
        codec = export_vjepa2_1(args.src, args.repo, args.checkpoint_key, args.input_size)
    scripted = torch.jit.script(codec.eval())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    scripted.save(str(partial))
    os.replace(partial, out)  # never a half-written file under OUT's name
    summary = {name: getattr(scripted, name) for name in ("codec_kind", "latent_channels", "scaling_factor", "downsample")}
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {json.dumps(summary)}")


if __name__ == "__main__":
    main()
