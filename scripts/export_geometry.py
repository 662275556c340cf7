#!/usr/bin/env python3
"""Export Depth Anything 3 (depth + camera poses) to one TorchScript file that nanowm loads without Python.

Run once, where the weights are (nothing is downloaded):

    scripts/export_geometry.py --weights DA3-LARGE-1.1/model.safetensors \\
        --video-size 256 256 --process-res 504 --output checkpoints/geometry.pt

The network comes from the `depth-anything-3` package (0.1.1, `DepthAnything3(model_name=...)`);
--weights is the model.safetensors of a Hugging Face release folder (e.g. DA3-LARGE-1.1 for
--model da3-large, the default), loaded into the network before tracing. --random-init --seed S
instead keeps the package's random initialisation drawn after torch.manual_seed(S) (tests).

The saved module has one method, traced for a fixed frame size H x W:

    forward(frames: Tensor[N, 3, H, W] float32) -> (depth        [N, H, W],
                                                    confidence   [N, H, W],
                                                    extrinsics   [N, 3, 4]  world-to-camera,
                                                    intrinsics   [N, 3, 3]  in pixels of H x W)

    frames: RGB already resized to H x W (H, W multiples of the patch size 14), scaled to [0, 1]
    and ImageNet-normalised ((x - mean) / std). All N frames form one multi-view batch (the
    package's [1, N, 3, H, W]); N >= 3 (with N <= 2 the package skips its reference-view
    selection, a branch the trace does not hold). Float32 throughout: the package's own
    forward runs its backbone under float16/bfloat16 autocast, the export does not.

H x W is either given (--height/--width) or computed from a video's frame size exactly as the
package's `inference(..., process_res=R, process_res_method="upper_bound_resize")` sizes it:
the longest side scaled to R (round half to even, only when it differs from R), then each side
rounded to the nearest multiple of 14 (a tie goes up). The script prints the size it uses.

The archive also holds `nanowm_geometry.json` (torch.jit.load(..., _extra_files=...)): format
version, model name, height, width, patch size, ImageNet mean/std, process_res and the video
size (when given), the package and torch versions, the traced frame count, the input and output
layout, and "weights": the weights file's absolute path or "random(SEED)".

Before the file is written, the traced module (saved and loaded back) and the eager network
are run on the trace input; a difference above 1e-4 on any output fails the export (relative to
the value where it exceeds 1 in magnitude: focal lengths are hundreds of pixels, where float32's
own spacing is already ~3e-5). Errors
are one line on stderr with a non-zero exit status, and OUT is never left half-written.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import List, Optional, Tuple

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never fetch anything
os.environ.setdefault("DA3_LOG_LEVEL", "ERROR")  # the package logs every step, and a gsplat notice at import

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import da3_stand_ins  # noqa: E402

PROG = "export_geometry"
FORMAT_VERSION = 1
PATCH_SIZE = 14
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
REF_VIEW_STRATEGY = "saddle_balanced"
TOLERANCE = 1e-4
METADATA_NAME = "nanowm_geometry.json"
OUTPUT_NAMES = ("depth", "confidence", "extrinsics", "intrinsics")


class ExportError(Exception):
    """Reported as one line on stderr, exit status 1."""


def fail(message: str, status: int = 1) -> None:
    print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(status)


# ----------------------------------------------------------------------------- sizes


def nearest_multiple(x: int, patch: int = PATCH_SIZE) -> int:
    """The multiple of `patch` nearest to x; a tie goes up (as the package's InputProcessor)."""
    down = (x // patch) * patch
    up = down + patch
    return up if abs(up - x) <= abs(x - down) else down


def processed_size(height: int, width: int, process_res: int, patch: int = PATCH_SIZE) -> Tuple[int, int]:
    """(H, W) the package's upper_bound_resize gives a height x width frame for process_res.

    Step 1 scales the longest side to process_res (skipped when it already is), each side
    max(1, int(round(side * scale))) with Python's round (half to even); step 2 moves each side
    to the nearest multiple of patch (tie up), at least 1.
    """
    if height < 1 or width < 1 or process_res < 1:
        raise ExportError(f"sizes must be positive (video {height}x{width}, process_res {process_res})")
    video = f"{height}x{width}"
    longest = max(height, width)
    if longest != process_res:
        scale = process_res / float(longest)
        width = max(1, int(round(width * scale)))
        height = max(1, int(round(height * scale)))
    out_h = max(1, nearest_multiple(height, patch))
    out_w = max(1, nearest_multiple(width, patch))
    if out_h % patch or out_w % patch:
        raise ExportError(
            f"a {video} frame is too small for process_res {process_res}: the package would resize it to "
            f"{out_h}x{out_w}, not a multiple of the patch size {patch}"
        )
    return out_h, out_w


# ----------------------------------------------------------------------------- network


class GeometryModule(nn.Module):
    """frames [N, 3, H, W] -> depth [N, H, W], confidence [N, H, W], w2c [N, 3, 4], K [N, 3, 3]."""

    def __init__(self, net: nn.Module, ref_view_strategy: str = REF_VIEW_STRATEGY):
        super().__init__()
        self.net = net
        self.ref_view_strategy = ref_view_strategy

    def forward(self, frames: torch.Tensor):
        # The package's call: (x, extrinsics, intrinsics, export_feat_layers, infer_gs, use_ray_pose, strategy).
        out = self.net(frames.unsqueeze(0), None, None, [], False, False, self.ref_view_strategy)
        return out["depth"][0], out["depth_conf"][0], out["extrinsics"][0], out["intrinsics"][0]


def import_package():
    da3_stand_ins.install(prefix=PROG)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # omegaconf's deprecation notice about the package's resolver
            from depth_anything_3.api import DepthAnything3
            from depth_anything_3.registry import MODEL_REGISTRY
    except Exception as error:  # noqa: BLE001
        raise ExportError(
            f"cannot import depth_anything_3.api ({type(error).__name__}: {error}); "
            "install depth-anything-3==0.1.1 and its import-time dependencies (see scripts/setup)"
        )
    return DepthAnything3, MODEL_REGISTRY


def package_version() -> str:
    try:
        from importlib.metadata import version

        return version("depth-anything-3")
    except Exception:  # noqa: BLE001
        return "unknown"


def load_weights(net: nn.Module, path: Path, model_name: str) -> List[str]:
    """Load a release model.safetensors into the network; returns the ignored (unexpected) keys."""
    if not path.is_file():
        raise ExportError(f"--weights {path}: no such file")
    config = path.parent / "config.json"
    if config.is_file():
        try:
            declared = json.loads(config.read_text()).get("model_name")
        except Exception:  # noqa: BLE001
            declared = None
        if isinstance(declared, str) and declared != model_name:
            raise ExportError(f"{config} declares model_name '{declared}', but --model is '{model_name}'; pass --model {declared}")
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise ExportError("--weights needs the safetensors package")
    try:
        state = load_file(str(path), device="cpu")
    except Exception as error:  # noqa: BLE001
        raise ExportError(f"cannot read {path} as safetensors ({type(error).__name__}: {error})")
    own = net.state_dict()
    # The release file is the API object's state dict (the network sits under `model.`).
    dropped: List[str] = []
    if not any(key in own for key in state) and any(key.startswith("model.") for key in state):
        dropped = sorted(key for key in state if not key.startswith("model."))
        state = {key[len("model."):]: value for key, value in state.items() if key.startswith("model.")}
    # Tied tensors (the head's four aux output convolutions share one) are stored under one of
    # their names only, as safetensors' save_model writes them; fill in the other names.
    aliases: dict = {}
    for key, tensor in own.items():
        if tensor.numel():
            identity = (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape), tuple(tensor.stride()))
            aliases.setdefault(identity, []).append(key)
    for group in aliases.values():
        present = [key for key in group if key in state]
        for key in group:
            if key not in state and present:
                state[key] = state[present[0]]
    missing = sorted(key for key in own if key not in state)
    unexpected = dropped + sorted(key for key in state if key not in own)
    if missing:
        raise ExportError(
            f"{path} lacks {len(missing)} of the {len(own)} tensors of {model_name} (e.g. {', '.join(missing[:3])}); "
            "is it the release for this --model?"
        )
    wrong = [key for key in own if tuple(state[key].shape) != tuple(own[key].shape)]
    if wrong:
        key = wrong[0]
        raise ExportError(
            f"{path}: {len(wrong)} tensors have other shapes than {model_name}'s, e.g. {key} "
            f"{tuple(state[key].shape)} vs {tuple(own[key].shape)}"
        )
    net.load_state_dict({key: state[key] for key in own}, strict=True)
    return unexpected


def max_differences(traced, eager) -> Tuple[List[float], List[float]]:
    """Per output: max |traced - eager|, and max |traced - eager| / max(1, |eager|)."""
    absolute, scaled = [], []
    for name, a, b in zip(OUTPUT_NAMES, traced, eager):
        if a.shape != b.shape:
            raise ExportError(f"traced {name} has shape {tuple(a.shape)}, eager {tuple(b.shape)}")
        nan_a, nan_b = torch.isnan(a), torch.isnan(b)
        if not torch.equal(nan_a, nan_b):
            absolute.append(math.inf)
            scaled.append(math.inf)
            continue
        keep = ~nan_a
        if not bool(keep.any()):
            absolute.append(0.0)
            scaled.append(0.0)
            continue
        difference = (a[keep] - b[keep]).abs()
        absolute.append(float(difference.max()))
        scaled.append(float((difference / b[keep].abs().clamp(min=1.0)).max()))
    return absolute, scaled


# ----------------------------------------------------------------------------- command line


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message
        fail(f"{message} (see --help)", status=2)


def parse_arguments(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = OneLineParser(
        prog="export_geometry.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", default="da3-large", help="package model name (da3-small, da3-base, da3-large, da3-giant; default da3-large, the network of DA3-LARGE-1.1)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--weights", type=Path, metavar="PATH", help="local model.safetensors of the Hugging Face release folder (a config.json beside it must name --model)")
    source.add_argument("--random-init", action="store_true", help="keep the package's random initialisation (tests); see --seed")
    parser.add_argument("--seed", type=int, default=0, help="torch.manual_seed before building the network (random init) and for the trace input (default 0)")
    parser.add_argument("--height", type=int, help="processed frame height H (multiple of 14)")
    parser.add_argument("--width", type=int, help="processed frame width W (multiple of 14)")
    parser.add_argument("--video-size", type=int, nargs=2, metavar=("H", "W"), help="the video's frame size; H x W is then what the package's upper_bound_resize makes of it for --process-res")
    parser.add_argument("--process-res", type=int, metavar="R", help="the package's process_res, with --video-size (default 504)")
    parser.add_argument("--frames", type=int, default=3, help="number of frames N in the trace input (>= 3, default 3); the module accepts any N >= 3")
    parser.add_argument("--output", type=Path, default=Path("geometry.pt"), help="TorchScript file to write (default geometry.pt)")
    args = parser.parse_args(argv)

    if args.video_size is not None:
        if args.height is not None or args.width is not None:
            parser.error("give either --height/--width or --video-size, not both")
        args.process_res = 504 if args.process_res is None else args.process_res
    else:
        if args.height is None or args.width is None:
            parser.error("give --height and --width (the processed size), or --video-size H W [--process-res R]")
        if args.process_res is not None:
            parser.error("--process-res goes with --video-size (with --height/--width the size is already processed)")
        for name in ("height", "width"):
            value = getattr(args, name)
            if value < PATCH_SIZE or value % PATCH_SIZE:
                parser.error(f"--{name} {value} is not a positive multiple of {PATCH_SIZE}")
    if args.frames < 3:
        parser.error(f"--frames {args.frames}: the traced module needs N >= 3")
    return args


def export(args: argparse.Namespace) -> None:
    started = time.time()
    if args.video_size is not None:
        height, width = processed_size(args.video_size[0], args.video_size[1], args.process_res)
        print(f"processed size: {height}x{width} (video {args.video_size[0]}x{args.video_size[1]}, process_res {args.process_res}, upper_bound_resize)")
    else:
        height, width = args.height, args.width
        print(f"processed size: {height}x{width}")

    DepthAnything3, registry = import_package()
    if args.model not in registry:
        raise ExportError(f"unknown --model '{args.model}'; the package has {', '.join(registry)}")
    output = args.output.resolve()
    if not output.parent.is_dir():
        raise ExportError(f"{output.parent}: no such directory")

    torch.manual_seed(args.seed)
    api = DepthAnything3(model_name=args.model)
    net = api.model
    if type(net).__name__ != "DepthAnything3Net" or getattr(net, "cam_dec", None) is None:
        raise ExportError(f"--model {args.model} has no camera decoder (mono, metric and nested models give no poses); use da3-small/base/large/giant")
    if args.weights is not None:
        weights = args.weights.resolve()
        ignored = load_weights(net, weights, args.model)
        if ignored:
            print(f"{PROG}: ignored {len(ignored)} tensors of {weights.name} the network does not have (e.g. {ignored[0]})", file=sys.stderr)
        weights_note = str(weights)
    else:
        weights_note = f"random({args.seed})"
    net = net.float().eval()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    module = GeometryModule(net).eval()

    generator = torch.Generator().manual_seed(args.seed)
    example = torch.randn(args.frames, 3, height, width, generator=generator)
    with torch.no_grad():
        eager = module(example)
        names = [n for n, t in zip(OUTPUT_NAMES, eager) if not isinstance(t, torch.Tensor)]
        if names:
            raise ExportError(f"the network returned no {', '.join(names)}")
        expected = [(args.frames, height, width)] * 2 + [(args.frames, 3, 4), (args.frames, 3, 3)]
        for name, tensor, shape in zip(OUTPUT_NAMES, eager, expected):
            if tuple(tensor.shape) != shape or tensor.dtype != torch.float32:
                raise ExportError(f"eager {name} is {tuple(tensor.shape)} {tensor.dtype}, expected {shape} float32")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TracerWarnings about shape-dependent Python values (fixed H, W)
            traced = torch.jit.trace(module, (example,), check_trace=False)

    metadata = {
        "format_version": FORMAT_VERSION,
        "kind": "depth_anything_3",
        "model": args.model,
        "height": height,
        "width": width,
        "patch_size": PATCH_SIZE,
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "process_res": args.process_res,
        "process_res_method": "upper_bound_resize" if args.process_res is not None else None,
        "video_size": list(args.video_size) if args.video_size is not None else None,
        "package": "depth-anything-3",
        "package_version": package_version(),
        "torch_version": torch.__version__,
        "weights": weights_note,
        "ref_view_strategy": REF_VIEW_STRATEGY,
        "trace_frames": args.frames,
        "min_frames": 3,
        "dtype": "float32",
        "input": "frames [N,3,H,W] float32: RGB resized to HxW, /255, (x - mean) / std",
        "outputs": [
            "depth [N,H,W]",
            "confidence [N,H,W]",
            "extrinsics [N,3,4] world-to-camera",
            "intrinsics [N,3,3] pixels of HxW",
        ],
    }

    descriptor, partial = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".partial", dir=output.parent)
    os.close(descriptor)
    try:
        torch.jit.save(traced, partial, _extra_files={METADATA_NAME: json.dumps(metadata, indent=1)})
        extra = {METADATA_NAME: ""}
        loaded = torch.jit.load(partial, map_location="cpu", _extra_files=extra)
        if json.loads(extra[METADATA_NAME]) != metadata:
            raise ExportError("the metadata read back differs from what was written")
        with torch.no_grad():
            replay = loaded(example)
        absolute, scaled = max_differences(replay, eager)
        report = ", ".join(f"{n} {d:.3g}" for n, d in zip(OUTPUT_NAMES, absolute))
        if max(scaled) > TOLERANCE:
            worst = ", ".join(f"{n} {d:.3g}" for n, d in zip(OUTPUT_NAMES, scaled))
            raise ExportError(
                f"traced and eager outputs differ by more than {TOLERANCE:g} (max |diff| / max(1, |eager|): {worst}; "
                f"max |diff|: {report})"
            )
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # mkstemp makes it private; give it an ordinary file's mode
        os.replace(partial, output)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise
    print(f"traced vs eager, max |diff|: {report}")
    print(
        f"wrote {output} ({output.stat().st_size / 2**20:.1f} MiB; {args.model}, {height}x{width}, "
        f"weights {weights_note}) in {time.time() - started:.1f} s"
    )


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_arguments(argv)
    try:
        export(args)
    except ExportError as error:
        fail(str(error))
    except KeyboardInterrupt:
        fail("interrupted", status=130)
    except Exception as error:  # noqa: BLE001 - anything else is still one line
        fail(f"{type(error).__name__}: {error}")


if __name__ == "__main__":
    main()
