"""Depth Anything 3 as its own package runs it, for tests of scripts/export_geometry.py and its users.

Import with Tests/Fixtures on sys.path, in the project venv (.venv/bin/python), which holds
depth-anything-3 0.1.1 installed without its dependencies (see scripts/setup):

    import da3_reference as ref
    api = ref.build("da3-small", seed=0)                  # the export's --random-init --seed 0 weights
    x = ref.package_preprocess(frames, process_res=56)    # [N, 3, H, W], what the network is fed
    out = ref.package_inference(api, frames, process_res=56)

frames: a list of H x W x 3 uint8 RGB numpy arrays (N >= 3 for the exported module's branch).

The stand-ins for torchvision, moviepy.editor, pycolmap and matplotlib come from
scripts/da3_stand_ins.py, the copy the export script uses; they are installed only for the
modules that do not import.
"""
from __future__ import annotations

import contextlib
import os
import sys
import types
import warnings
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DA3_LOG_LEVEL", "ERROR")

import numpy as np
import torch

_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(_SCRIPTS))
import da3_stand_ins  # noqa: E402

PROCESS_RES_METHOD = "upper_bound_resize"
REF_VIEW_STRATEGY = "saddle_balanced"


def install_stand_ins(quiet: bool = True) -> List[str]:
    """Register the stand-ins for whichever of the four modules cannot be imported; returns their names."""
    return da3_stand_ins.install(quiet=quiet, prefix="da3_reference")


def _api_module():
    install_stand_ins()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # omegaconf's deprecation notice about the package's resolver
        import depth_anything_3.api as api_module
    return api_module


def build(model_name: str = "da3-small", seed: int = 0):
    """DepthAnything3(model_name) with the package's random initialisation after torch.manual_seed(seed), eval mode.

    The same draw as `export_geometry.py --model NAME --random-init --seed SEED`.
    """
    api_module = _api_module()
    torch.manual_seed(seed)
    api = api_module.DepthAnything3(model_name=model_name)
    return api.eval()


class _TorchWithoutAutocast(types.ModuleType):
    """`torch` as depth_anything_3.api sees it, except that torch.autocast(...) is always disabled."""

    def __init__(self):
        super().__init__("torch")

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def autocast(device_type, dtype=None, enabled=True, cache_enabled=None):
        return torch.autocast(device_type=device_type, dtype=dtype, enabled=False)


@contextlib.contextmanager
def float32_forward():
    """Within it, the package's DepthAnything3.forward runs in float32.

    That forward wraps the network in torch.autocast (bfloat16 where CUDA supports it, else
    float16, also on CPU). The context swaps the `torch` that depth_anything_3.api's code looks
    up for a view of torch whose autocast is disabled; everything else (inference_mode,
    no_grad, the network and its own autocast(enabled=False) blocks) is the package's own.
    """
    api_module = _api_module()
    original = api_module.torch
    api_module.torch = _TorchWithoutAutocast()
    try:
        yield
    finally:
        api_module.torch = original


def _frames(frames: Sequence[np.ndarray]) -> List[np.ndarray]:
    checked = []
    for index, frame in enumerate(frames):
        array = np.asarray(frame)
        if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f"frame {index}: expected H x W x 3 uint8, got {array.shape} {array.dtype}")
        checked.append(np.ascontiguousarray(array))
    return checked


def package_inference(api, frames: Sequence[np.ndarray], process_res: int, fp32: bool = True) -> Dict[str, np.ndarray]:
    """api.inference(frames, process_res=..., upper_bound_resize, saddle_balanced), as numpy arrays.

    Returns depth [N,H,W], conf [N,H,W], extrinsics [N,3,4] world-to-camera, intrinsics [N,3,3]
    (all float32) and processed_images [N,H,W,3] uint8. fp32=True (default) runs the forward
    without the package's autocast (see float32_forward); fp32=False as the package ships it.
    """
    frames = _frames(frames)
    context = float32_forward() if fp32 else contextlib.nullcontext()
    with context:
        prediction = api.inference(
            frames,
            process_res=process_res,
            process_res_method=PROCESS_RES_METHOD,
            ref_view_strategy=REF_VIEW_STRATEGY,
        )
    return {
        "depth": np.asarray(prediction.depth),
        "conf": np.asarray(prediction.conf),
        "extrinsics": np.asarray(prediction.extrinsics),
        "intrinsics": np.asarray(prediction.intrinsics),
        "processed_images": np.asarray(prediction.processed_images),
    }


def package_preprocess(frames: Sequence[np.ndarray], process_res: int) -> torch.Tensor:
    """The float32 tensor [N, 3, H, W] the package's InputProcessor makes of frames (ImageNet-normalised)."""
    api_module = _api_module()
    tensor, _, _ = api_module.InputProcessor()(
        _frames(frames), None, None, process_res, PROCESS_RES_METHOD
    )
    return tensor.float().contiguous()


def package_processed_size(height: int, width: int, process_res: int) -> Tuple[int, int]:
    """(H, W) the package's preprocessing gives one height x width frame."""
    blank = np.zeros((height, width, 3), dtype=np.uint8)
    shape = package_preprocess([blank], process_res).shape
    return int(shape[-2]), int(shape[-1])
