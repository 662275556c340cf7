#!/usr/bin/env python3
"""Export the networks behind LPIPS and FID to TorchScript files that `nanowm metrics` and
`nanowm evaluate` load without Python.

Run once, on a machine that has the weight files (checkpoints/README.md says where they come
from). torchvision cannot be installed next to the CPU build of torch here, so this script
defines both architectures itself, with torchvision's parameter names, and loads the files
strictly (every parameter present, nothing left over):

    scripts/export_metric_nets.py lpips --vgg vgg16-397923af.pth --lin vgg.pth OUT
        VGG-16 ImageNet features (torchvision's weights file) and the LPIPS v0.1 linear heads
        (the lpips package's weights/v0.1/vgg.pth)
    scripts/export_metric_nets.py inception --weights pt_inception-2015-12-05-6726825d.pth OUT
        pytorch-fid's FID Inception (the TF Inception port with its own InceptionA/C/E blocks)

`--random-init SEED` builds the same network with seeded random weights instead of files (the
test suite uses it: no weights can be downloaded there).

OUT holds, as attributes nanowm checks: `metric_kind` ("lpips_vgg_v0.1" | "fid_inception_pool3")
and `format_version` (1); and one method, float32, eval mode:

    lpips      forward(x, y [N,3,H,W] in [-1,1]) -> [N] distances, as lpips.LPIPS(net='vgg')
               (scaling layer, channel-unit normalisation, squared difference, 1x1 heads, spatial
               mean, sum over the five layers)
    inception  forward(x [N,3,299,299] in [0,1]) -> [N,2048] pool3 features, as pytorch-fid's
               InceptionV3([3]) with resize_input and normalize_input (x -> 2x-1 inside)

Resizing to 299 and the [-1,1] -> [0,1] mapping upstream applies before Inception are done by
nanowm, around these networks.
"""
import argparse
import sys
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT_VERSION = 1

# ---------------------------------------------------------------------------------------------
# LPIPS (VGG-16, v0.1)

# torchvision's vgg16 "D" configuration: channels of each 3x3 conv, "M" for a 2x2 max pool.
VGG16_LAYOUT = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
LPIPS_CHANNELS = [64, 128, 256, 512, 512]


def vgg16_features() -> nn.Sequential:
    layers: List[nn.Module] = []
    channels = 3
    for entry in VGG16_LAYOUT:
        if entry == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, entry, kernel_size=3, padding=1), nn.ReLU(inplace=False)]
            channels = entry
    return nn.Sequential(*layers)


def unit(x):
    # lpips' normalize_tensor: divide by the channel norm plus 1e-10.
    return x / (torch.sqrt(torch.sum(x * x, dim=1, keepdim=True)) + 1e-10)


class LinearHead(nn.Module):
    """lpips' NetLinLayer: (dropout, 1x1 conv without bias); the dropout is inert in eval mode
    but keeps the key `model.1.weight` the weight file uses. Called on one layer's features of
    both images, it returns that layer's term of the distance, per image."""

    def __init__(self, channels: int):
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(channels, 1, kernel_size=1, bias=False))

    def forward(self, fx, fy):
        return self.model((unit(fx) - unit(fy)) ** 2).mean(dim=[2, 3]).flatten()


class LPIPSVGG(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = vgg16_features()
        self.lin0 = LinearHead(LPIPS_CHANNELS[0])
        self.lin1 = LinearHead(LPIPS_CHANNELS[1])
        self.lin2 = LinearHead(LPIPS_CHANNELS[2])
        self.lin3 = LinearHead(LPIPS_CHANNELS[3])
        self.lin4 = LinearHead(LPIPS_CHANNELS[4])
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))
        self.metric_kind = "lpips_vgg_v0.1"
        self.format_version = FORMAT_VERSION

    def taps(self, x) -> List[torch.Tensor]:
        out: List[torch.Tensor] = []
        for index, layer in enumerate(self.features):
            # Layers 0..29 (the final max pool is not used); taps after relu1_2 … relu5_3.
            if index < 30:
                x = layer(x)
                if index == 3 or index == 8 or index == 15 or index == 22 or index == 29:
                    out.append(x)
        return out

    def forward(self, x, y):
        fx = self.taps((x - self.shift) / self.scale)
        fy = self.taps((y - self.shift) / self.scale)
        return (self.lin0(fx[0], fy[0]) + self.lin1(fx[1], fy[1]) + self.lin2(fx[2], fy[2])
                + self.lin3(fx[3], fy[3]) + self.lin4(fx[4], fy[4]))


# ---------------------------------------------------------------------------------------------
# FID Inception (pytorch-fid's port of the 2015-12-05 TF Inception)

class BasicConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def average3(x):
    # The FID blocks pool without counting the padding (TF's behaviour); torchvision counts it.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x):
        a = self.branch1x1(x)
        b = self.branch5x5_2(self.branch5x5_1(x))
        c = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        d = self.branch_pool(average3(x))
        return torch.cat([a, b, c, d], 1)


class InceptionB(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x):
        a = self.branch3x3(x)
        b = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([a, b, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class FIDInceptionC(nn.Module):
    def __init__(self, cin: int, channels_7x7: int):
        super().__init__()
        c = channels_7x7
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c, c, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c, c, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c, c, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c, c, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        a = self.branch1x1(x)
        b = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        c = self.branch7x7dbl_1(x)
        c = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(self.branch7x7dbl_2(c))))
        d = self.branch_pool(average3(x))
        return torch.cat([a, b, c, d], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x):
        a = self.branch3x3_2(self.branch3x3_1(x))
        b = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([a, b, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class FIDInceptionE(nn.Module):
    """Mixed_7b pools by average (without padding), Mixed_7c by max: the TF graph's quirk."""

    def __init__(self, cin: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x):
        a = self.branch1x1(x)
        b = self.branch3x3_1(x)
        b = torch.cat([self.branch3x3_2a(b), self.branch3x3_2b(b)], 1)
        c = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        c = torch.cat([self.branch3x3dbl_3a(c), self.branch3x3dbl_3b(c)], 1)
        if self.max_pool:
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            pooled = average3(x)
        return torch.cat([a, b, c, self.branch_pool(pooled)], 1)


class FIDInception(nn.Module):
    # The weight file also holds the 1008-way classifier `fc`, which pool3 features never use.
    UNUSED_KEYS = ("fc.weight", "fc.bias")

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = FIDInceptionA(192, pool_features=32)
        self.Mixed_5c = FIDInceptionA(256, pool_features=64)
        self.Mixed_5d = FIDInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        self.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        self.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = FIDInceptionE(1280, max_pool=False)
        self.Mixed_7c = FIDInceptionE(2048, max_pool=True)
        self.metric_kind = "fid_inception_pool3"
        self.format_version = FORMAT_VERSION

    def forward(self, x):
        # pytorch-fid's resize_input (a no-op at 299) and normalize_input.
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x)))
        x = self.Mixed_6a(x)
        x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(x))))
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))
        return F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)


# ---------------------------------------------------------------------------------------------

def fail(message: str) -> None:
    print(f"export_metric_nets.py: {message}", file=sys.stderr)
    sys.exit(2)


def read_state(path: str) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 -- one line for any unreadable file
        fail(f"{path}: not a readable torch weight file ({str(error).splitlines()[0]})")
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        fail(f"{path}: holds a {type(state).__name__}, not a state dict")
    return state


def load_strict(module: nn.Module, state: dict, what: str, path: str, ignore=()) -> None:
    """Copies `state` into `module`; any missing, unexpected or misshapen entry is an error."""
    own = module.state_dict()
    wanted = {k for k in own if not k.endswith("num_batches_tracked")}
    given = {k for k in state if k not in ignore and not k.endswith("num_batches_tracked")}
    missing, unexpected = sorted(wanted - given), sorted(given - wanted)
    if missing or unexpected:
        fail(f"{path} is not {what}: missing {missing[:3]}{'…' if len(missing) > 3 else ''}, "
             f"unexpected {unexpected[:3]}{'…' if len(unexpected) > 3 else ''}")
    for key in wanted:
        if tuple(state[key].shape) != tuple(own[key].shape):
            fail(f"{path}: {key} has shape {tuple(state[key].shape)}, {what} needs {tuple(own[key].shape)}")
        own[key].copy_(state[key].to(own[key].dtype))


def randomize(module: nn.Module, seed: int) -> None:
    """Seeded random weights with realistic statistics (batch-norm running stats included), so
    tests exercise every parameter."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point() or name in ("shift", "scale"):
                continue  # counters, and LPIPS' fixed input scaling
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            elif name.endswith("running_mean") or name.endswith("bias"):
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.1)
            elif name.endswith("bn.weight"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            elif tensor.dim() == 4:
                fan_in = tensor.shape[1] * tensor.shape[2] * tensor.shape[3]
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
                if name.startswith("lin"):
                    tensor.abs_()  # lpips' heads are non-negative


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("network", choices=["lpips", "inception"])
    parser.add_argument("output", help="the TorchScript file to write (e.g. checkpoints/lpips_vgg.pt)")
    parser.add_argument("--vgg", help="lpips: torchvision's VGG-16 weights (vgg16-397923af.pth)")
    parser.add_argument("--lin", help="lpips: the lpips package's weights/v0.1/vgg.pth")
    parser.add_argument("--weights", help="inception: pt_inception-2015-12-05-6726825d.pth")
    parser.add_argument("--random-init", type=int, metavar="SEED",
                        help="seeded random weights instead of files (for tests)")
    args = parser.parse_args()

    if args.network == "lpips":
        net = LPIPSVGG()
        if args.random_init is not None:
            randomize(net, args.random_init)
        else:
            if not args.vgg or not args.lin:
                fail("lpips needs --vgg VGG16_WEIGHTS and --lin LPIPS_VGG_HEADS (checkpoints/README.md)")
            vgg = read_state(args.vgg)
            features = {k[len("features."):]: v for k, v in vgg.items() if k.startswith("features.")}
            load_strict(net.features, features, "torchvision's VGG-16 weights", args.vgg)
            heads = read_state(args.lin)
            lin_module = nn.ModuleDict({f"lin{i}": getattr(net, f"lin{i}") for i in range(5)})
            load_strict(lin_module, heads, "the lpips v0.1 VGG heads", args.lin)
    else:
        net = FIDInception()
        if args.random_init is not None:
            randomize(net, args.random_init)
        else:
            if not args.weights:
                fail("inception needs --weights pt_inception-2015-12-05-6726825d.pth (checkpoints/README.md)")
            load_strict(net, read_state(args.weights), "pytorch-fid's FID Inception weights", args.weights,
                        ignore=FIDInception.UNUSED_KEYS)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    scripted = torch.jit.script(net)
    scripted.save(args.output)
    print(f"wrote {args.output} ({net.metric_kind}, {sum(p.numel() for p in net.parameters())} parameters)")


if __name__ == "__main__":
    main()
