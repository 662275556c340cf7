"""Stand-ins for the few modules that `depth_anything_3.api` imports but geometry export never runs.

depth-anything-3 0.1.1 imports, when `depth_anything_3.api` is loaded:

    torchvision.transforms   used: ToTensor, Normalize, CenterCrop (the input processor)
    moviepy.editor           only for the Gaussian-splat video export
    pycolmap                 only for the COLMAP export
    matplotlib               only for depth colour maps

The real torchvision wheel must match torch's own build, and one built for another torch
(the usual case beside torch 2.13.0+cpu) fails to import; the other three are large and never
used on the depth/pose path. `install()` tries each real module first and registers a small
stand-in only for those that cannot be imported, so the same code runs unchanged where the
full package and its dependencies are installed.

The transforms behave as torchvision's do on what the input processor hands them (an RGB PIL
image, a float32 CHW tensor): ToTensor divides uint8 by 255 in float32, Normalize computes
(x - mean) / std in the tensor's dtype, CenterCrop cuts the centred window with
round((size - crop) / 2) as the offset. Every other attribute of the export-only stand-ins
raises AttributeError naming the missing package.

Used by scripts/export_geometry.py and Tests/Fixtures/da3_reference.py.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
from typing import List

import numpy as np
import torch

# The modules the package imports, in the order it imports them.
STAND_IN_MODULES = ("torchvision", "moviepy.editor", "pycolmap", "matplotlib")


# ----------------------------------------------------------------------------- transforms


class ToTensor:
    """PIL image or HxW(xC) array -> CxHxW tensor; uint8 becomes float32 in [0, 1]."""

    def __call__(self, picture):
        array = np.asarray(picture)
        if array.ndim == 2:
            array = array[:, :, None]
        tensor = torch.from_numpy(np.array(array, copy=True)).permute(2, 0, 1).contiguous()
        if tensor.dtype == torch.uint8:
            return tensor.to(torch.float32).div(255)
        return tensor


class Normalize:
    """(x - mean) / std per channel, in the input's dtype."""

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = list(mean)
        self.std = list(std)

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        mean = torch.as_tensor(self.mean, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
        return (tensor - mean) / std


class CenterCrop:
    """The centred (h, w) window of a tensor [..., H, W] or a PIL image (no padding)."""

    def __init__(self, size):
        if isinstance(size, int):
            size = (size, size)
        self.height, self.width = int(size[0]), int(size[1])

    def __call__(self, image):
        if isinstance(image, torch.Tensor):
            full_h, full_w = image.shape[-2], image.shape[-1]
        else:
            full_w, full_h = image.size
        if self.height > full_h or self.width > full_w:
            raise ValueError(
                f"CenterCrop stand-in: crop {self.height}x{self.width} is larger than the image {full_h}x{full_w}"
            )
        top = int(round((full_h - self.height) / 2.0))
        left = int(round((full_w - self.width) / 2.0))
        if isinstance(image, torch.Tensor):
            return image[..., top : top + self.height, left : left + self.width]
        return image.crop((left, top, left + self.width, top + self.height))


# ----------------------------------------------------------------------------- modules


def _module(name: str, doc: str, missing: str | None = None) -> types.ModuleType:
    module = types.ModuleType(name, doc)
    module.__spec__ = importlib.machinery.ModuleSpec(name, loader=None)
    module.__file__ = __file__
    module.__nanowm_stand_in__ = True
    if missing is not None:

        def __getattr__(attribute: str):
            raise AttributeError(
                f"{name}.{attribute}: '{missing}' is not installed here (stand-in from {__name__}; "
                "install the real package for the export formats that need it)"
            )

        module.__getattr__ = __getattr__
    return module


def _torchvision() -> dict:
    root = _module("torchvision", "Stand-in for torchvision: transforms.ToTensor/Normalize/CenterCrop only.")
    root.__version__ = "0.0+nanowm-stand-in"
    root.__path__ = []  # a package, so `import torchvision.transforms` resolves from sys.modules
    transforms = _module("torchvision.transforms", "Stand-in transforms (ToTensor, Normalize, CenterCrop).")
    transforms.ToTensor = ToTensor
    transforms.Normalize = Normalize
    transforms.CenterCrop = CenterCrop
    root.transforms = transforms
    return {"torchvision": root, "torchvision.transforms": transforms}


def _moviepy() -> dict:
    root = _module("moviepy", "Stand-in for moviepy (Gaussian-splat video export only).", missing="moviepy")
    root.__path__ = []
    editor = _module("moviepy.editor", "Stand-in for moviepy.editor.", missing="moviepy")
    root.editor = editor
    return {"moviepy": root, "moviepy.editor": editor}


def _pycolmap() -> dict:
    return {"pycolmap": _module("pycolmap", "Stand-in for pycolmap (COLMAP export only).", missing="pycolmap")}


def _matplotlib() -> dict:
    root = _module("matplotlib", "Stand-in for matplotlib (depth colour maps only).", missing="matplotlib")
    root.__path__ = []
    return {"matplotlib": root}


_BUILDERS = {
    "torchvision": _torchvision,
    "moviepy.editor": _moviepy,
    "pycolmap": _pycolmap,
    "matplotlib": _matplotlib,
}


def _importable(name: str) -> bool:
    """Whether the real module imports; a failed attempt leaves nothing of it in sys.modules."""
    module = sys.modules.get(name)
    if module is not None:
        return True
    before = set(sys.modules)
    try:
        importlib.import_module(name)
        return True
    except Exception:  # ImportError, or e.g. RuntimeError from a torchvision built for another torch
        top = name.split(".")[0]
        for key in set(sys.modules) - before:
            if key == top or key.startswith(top + "."):
                del sys.modules[key]
        return False


def _has_transforms() -> bool:
    """Whether the torchvision in place has the transforms the input processor uses."""
    try:
        transforms = importlib.import_module("torchvision.transforms")
    except Exception:
        return False
    return all(hasattr(transforms, name) for name in ("ToTensor", "Normalize", "CenterCrop"))


def install(quiet: bool = False, prefix: str = "da3_stand_ins") -> List[str]:
    """Register stand-ins for the modules in STAND_IN_MODULES that cannot be imported.

    Returns the names replaced (empty when every real module imports). Unless quiet, says
    so on stderr in one line. Calling it again is harmless.
    """
    replaced = []
    for name in STAND_IN_MODULES:
        if _importable(name):
            if name == "torchvision" and not _has_transforms():
                # Another stand-in (a test's, holding other parts of torchvision) is in place:
                # the transforms are added to it rather than replacing it.
                transforms = _torchvision()["torchvision.transforms"]
                sys.modules["torchvision.transforms"] = transforms
                sys.modules["torchvision"].transforms = transforms
                replaced.append("torchvision.transforms")
            continue
        sys.modules.update(_BUILDERS[name]())
        replaced.append(name)
    if replaced and not quiet:
        print(
            f"{prefix}: using stand-ins for {', '.join(replaced)} (not importable here; "
            "depth/pose export needs only torchvision's ToTensor/Normalize/CenterCrop)",
            file=sys.stderr,
        )
    return replaced


def is_stand_in(name: str) -> bool:
    """Whether sys.modules[name] is one of ours."""
    return bool(getattr(sys.modules.get(name), "__nanowm_stand_in__", False))
