#!/usr/bin/env python3
"""Generate PyTorch parity fixtures for the Swift NanoWM re-implementation.

The reference model (simchowitzlabpublic/nano-world-model, src/models/nanowm.py)
is IMPORTED from a checkout given with --reference; nothing of it is copied here.

Usage (from the repository root):

    .venv/bin/python Tests/Fixtures/make_nanowm_fixtures.py \
        --reference /tmp/nwm-ref --out Tests/Fixtures/nanowm

Outputs (see Tests/Fixtures/README.md):
  <out>/tiny_<case>.safetensors  small models, full weights + x, t, action, out
  <out>/deep_<case>.safetensors  same, depth 4 / 4 heads / mlp_ratio 1.0
  <out>/s2_full.safetensors      NanoWM-S/2, weights NOT stored (regenerated from a
                                 seeded torch.randn stream), only x, t, action, out
  <out>/seeded_init_<injection>.safetensors  the reference's own seeded initialisation
  <out>/failures.json            combinations that raise inside the reference
  <out>/param_counts.json        reference parameter counts for standard configs

The reference imports `timm` (PatchEmbed) and `einops` (rearrange/repeat). When
these packages are not installed, minimal stand-ins written here are registered
in sys.modules before the reference is imported (nothing is installed).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import os
import struct
import sys
import types

import torch
import torch.nn as nn


# ---------------------------------------------------------------------------
# Stand-ins for missing third-party modules (only used if the real ones are
# not importable). Semantics match what the reference relies on.
# ---------------------------------------------------------------------------

class _PatchEmbed(nn.Module):
    """Minimal timm.models.vision_transformer.PatchEmbed.

    timm semantics for the reference's call PatchEmbed(img_size, patch_size,
    in_chans, embed_dim): Conv2d(kernel=stride=patch) named `proj`, then
    flatten(2).transpose(1, 2) -> [N, (H/p)*(W/p), D] (row-major patch grid),
    norm = Identity (no parameters). Attributes patch_size (tuple), grid_size,
    num_patches as in timm. State-dict keys: proj.weight, proj.bias.
    """

    def __init__(self, img_size=224, patch_size=16, in_chans=3, embed_dim=768, bias=True):
        super().__init__()
        self.img_size = (img_size, img_size)
        self.patch_size = (patch_size, patch_size)
        self.grid_size = (img_size // patch_size, img_size // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.flatten = True
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size, bias=bias)
        self.norm = nn.Identity()

    def forward(self, x):
        _, _, H, W = x.shape
        assert (H, W) == self.img_size, f"input size {(H, W)} != {self.img_size}"
        x = self.proj(x)
        x = x.flatten(2).transpose(1, 2)
        return self.norm(x)


class _Mlp(nn.Module):  # imported by the reference but never used
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Mlp stand-in is not implemented (unused by NanoWM)")


def _parse_side(side):
    """'(b f) 1 d' -> [['b','f'], [], ['d']] (a literal 1 is an empty group)."""
    groups, cur, depth = [], None, 0
    for tok in side.replace("(", " ( ").replace(")", " ) ").split():
        if tok == "(":
            cur = []
        elif tok == ")":
            groups.append(cur)
            cur = None
        else:
            names = [] if tok == "1" else [tok]
            if cur is None:
                groups.append(names)
            else:
                cur.extend(names)
    return groups


def _einops_apply(tensor, pattern, sizes, allow_new):
    lhs, rhs = (s.strip() for s in pattern.split("->"))
    lg, rg = _parse_side(lhs), _parse_side(rhs)
    assert len(lg) == tensor.ndim, (pattern, tensor.shape)
    sizes = dict(sizes)
    # Infer the sizes of the elementary input axes.
    for g, dim in zip(lg, tensor.shape):
        unknown = [n for n in g if n not in sizes]
        known = math.prod(sizes[n] for n in g if n in sizes)
        if len(unknown) == 1:
            sizes[unknown[0]] = dim // known
        assert not unknown or len(unknown) == 1, pattern
        assert math.prod(sizes[n] for n in g) == dim, (pattern, tensor.shape)
    in_names = [n for g in lg for n in g]
    out_names = [n for g in rg for n in g]
    x = tensor.reshape([sizes[n] for n in in_names])
    new = [n for n in out_names if n not in in_names]
    assert allow_new or not new, pattern
    # Order: existing axes permuted to output order; new axes broadcast in.
    kept = [n for n in out_names if n in in_names]
    x = x.permute([in_names.index(n) for n in kept])
    view_shape, expand_shape, k = [], [], 0
    for n in out_names:
        if n in new:
            view_shape.append(1)
        else:
            view_shape.append(sizes[n])
        expand_shape.append(sizes[n])
    x = x.reshape(view_shape).expand(expand_shape)
    return x.reshape([math.prod(sizes[n] for n in g) for g in rg])


def _install_standins():
    try:
        import einops  # noqa: F401
    except ImportError:
        m = types.ModuleType("einops")
        def rearrange(tensor, pattern, /, **axes):
            return _einops_apply(tensor, pattern, axes, allow_new=False)

        def repeat(tensor, pattern, /, **axes):
            return _einops_apply(tensor, pattern, axes, allow_new=True)

        m.rearrange, m.repeat = rearrange, repeat
        m.__standin__ = True
        sys.modules["einops"] = m
    try:
        from timm.models.vision_transformer import PatchEmbed  # noqa: F401
    except ImportError:
        timm = types.ModuleType("timm")
        models = types.ModuleType("timm.models")
        vt = types.ModuleType("timm.models.vision_transformer")
        vt.PatchEmbed, vt.Mlp = _PatchEmbed, _Mlp
        timm.models, models.vision_transformer = models, vt
        timm.__standin__ = True
        sys.modules.update({"timm": timm, "timm.models": models,
                            "timm.models.vision_transformer": vt})


def load_reference(ref_root):
    """Import <ref>/src/models/nanowm.py without running models/__init__.py
    (which pulls in diffusers/omegaconf through latent_codecs)."""
    src = os.path.join(ref_root, "src")
    sys.path.insert(0, src)
    _install_standins()
    path = os.path.join(src, "models", "nanowm.py")
    spec = importlib.util.spec_from_file_location("nanowm_reference", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---------------------------------------------------------------------------
# safetensors writer. Our own (not safetensors.save_file, whose __metadata__
# is a Rust HashMap serialised in random order -> non-reproducible bytes):
# u64 little-endian header length + JSON header (keys sorted, padded with
# spaces to a multiple of 8) + raw little-endian tensor bytes in header order.
# ---------------------------------------------------------------------------

_DT = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def save_safetensors(path, tensors, metadata):
    assert sys.byteorder == "little"
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    header = {"__metadata__": {k: str(v) for k, v in sorted(metadata.items())}}
    blobs, off = [], 0
    for k in sorted(tensors):
        b = tensors[k].numpy().tobytes()
        header[k] = {"dtype": _DT[tensors[k].dtype], "shape": list(tensors[k].shape),
                     "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------------------
# Float64 replay. A float32 result differs from one CPU to another (MKL/oneDNN and
# ATen pick kernels per instruction set), so a fixture alone cannot say how close is
# close enough. Each case is therefore run a second time in float64 -- the same
# computation, same weights, same random draws -- and stored as `<key>.f64`. The
# distance between the float32 fixture and its float64 replay is the computation's
# own float32 error; tests accept a small multiple of it (Tests/Fixtures/README.md).
# ---------------------------------------------------------------------------

@contextlib.contextmanager
def _patched(owner, name, replacement):
    original = getattr(owner, name)
    setattr(owner, name, replacement(original))
    try:
        yield
    finally:
        setattr(owner, name, original)


@contextlib.contextmanager
def widened():
    """While active, the reference computes in float64 where it asks for float32:
    `Tensor.float()` and `arange(dtype=float32)` give float64 (RMSNorm, timestep and
    RoPE frequencies). Used around the model only; the diffusion code keeps its
    explicit float32 table casts, which are exact and the same on every CPU."""
    def to_float(original):
        return lambda self, *a, **k: self.double(*a, **k)

    def arange(original):
        def wide(*a, dtype=None, **k):
            return original(*a, dtype=torch.float64 if dtype == torch.float32 else dtype, **k)
        return wide

    with _patched(torch.Tensor, "float", to_float), _patched(torch, "arange", arange):
        yield


@contextlib.contextmanager
def float64_draws():
    """While active, `torch.randn`/`randn_like` draw exactly the float32 values a float32
    run draws (same generator, same stream) and hand them out as float64."""
    def randn(original):
        def draw(*size, dtype=None, **k):
            return original(*size, dtype=torch.float32, **k).to(torch.float64)
        return draw

    def randn_like(original):
        def draw(x, dtype=None, **k):
            return original(x, dtype=torch.float32, **k).to(torch.float64)
        return draw

    with _patched(torch, "randn", randn), _patched(torch, "randn_like", randn_like):
        yield


class Float64Twin(nn.Module):
    """The reference model in float64 with the weights of a float32 one. `build` makes a
    fresh reference model; it is built under `widened()` so that its non-persistent
    RoPE buffers are computed in float64 too. Call it before seeding: building draws
    the reference's random init."""

    def __init__(self, build, model):
        super().__init__()
        with widened():
            twin = build()
        twin = twin.double().eval()
        twin.load_state_dict(model.state_dict(), strict=True)
        self.inner = twin

    def forward(self, x, t, *args, **kwargs):
        def wide(v):
            return v.double() if torch.is_tensor(v) and v.is_floating_point() else v
        with widened():
            return self.inner(wide(x), t, *map(wide, args), **{k: wide(v) for k, v in kwargs.items()})


def float32_error(f32, f64):
    """max |float32 result - its float64 replay|, the scale tests derive tolerances from."""
    assert f64.dtype == torch.float64, f64.dtype
    return float((f32.double() - f64).abs().max())


# ---------------------------------------------------------------------------
# Fixture cases
# ---------------------------------------------------------------------------

INJECTIONS = ["additive", "adaln", "adaln_fuse", "film", "cross_attention"]

# Tiny configuration (full matrix): head_dim = 32/2 = 16 (divisible by 4 for
# 2-D RoPE), depth 2 (one spatial + one temporal block), 8x8 latent with patch 2
# -> 4x4 = 16 patches, 3 frames (non-power-of-two; causal mask non-trivial).
# Depth 2 and mlp_ratio 3.0 (SwiGLU hidden = int(32*3.0) = 96) keep every file
# small (the default 4.0 is covered by the S/2 case).
TINY = dict(input_size=8, patch_size=2, in_channels=4, hidden_size=32, depth=2,
            num_heads=2, mlp_ratio=3.0, num_frames=3, num_classes=1000, extras=1)
# "Deep" extra cases: depth 4 (two spatial/temporal pairs, so "temp_embed is
# added only before the FIRST temporal block" is exercised), 4 heads (head_dim
# 8), mlp_ratio 1.0 (hidden = int(32*1.0) = 32) to keep the files small.
DEEP = dict(TINY, depth=4, num_heads=4, mlp_ratio=1.0)
DEEP_CASES = [(True, "additive", True, "frame"), (True, "adaln_fuse", True, "clip"),
              (False, "additive", False, "clip")]
TINY_ACTION_DIM = 3
BATCH = 2


def randomize_tiny(model, seed):
    """Overwrite EVERY state-dict tensor (zero-initialised ones included) with
    seeded random values so every path matters. RMSNorm weights get 1 + 0.2*randn
    (keeps attention logits O(1) so RoPE/causal errors are visible); everything
    else 0.2*randn. Iterates state_dict() keys in order with one generator."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for k, v in model.state_dict().items():
            r = torch.randn(v.shape, generator=g, dtype=torch.float32)
            if k.endswith("q_norm.weight") or k.endswith("k_norm.weight"):
                v.copy_(1.0 + 0.2 * r)
            else:
                v.copy_(0.2 * r)


def case_name(use_action, inj, causal, t_shape, prefix="tiny"):
    a = f"act_{inj}" if use_action else "noact"
    return f"{prefix}_{a}_{'causal' if causal else 'bidir'}_t{t_shape}"


def make_inputs(seed, F, C, S, A, t_shape, use_action):
    torch.manual_seed(seed)
    x = torch.randn(BATCH, F, C, S, S, dtype=torch.float32)
    t = torch.randint(0, 1000, (BATCH,) if t_shape == "clip" else (BATCH, F), dtype=torch.int64)
    action = torch.randn(BATCH, F, A, dtype=torch.float32) if use_action else None
    return x, t, action


def run_tiny(ref, out_dir):
    cases = []
    for use_action in (True, False):
        for inj in (INJECTIONS if use_action else ["additive"]):
            for causal in (True, False):
                for t_shape in ("clip", "frame"):
                    cases.append(("tiny", TINY) + (use_action, inj, causal, t_shape))
    cases += [("deep", DEEP) + c for c in DEEP_CASES]
    failures, written = {}, []
    for idx, (prefix, base, use_action, inj, causal, t_shape) in enumerate(cases):
        name = case_name(use_action, inj, causal, t_shape, prefix)
        seed = 1000 + idx
        kwargs = dict(base, use_action=use_action,
                      action_dim=TINY_ACTION_DIM if use_action else None,
                      action_injection_type=inj, causal=causal)
        torch.manual_seed(seed)
        model = ref.NanoWM(**kwargs).eval()
        randomize_tiny(model, seed)
        x, t, action = make_inputs(seed + 500, base["num_frames"], base["in_channels"],
                                   base["input_size"], TINY_ACTION_DIM, t_shape, use_action)
        try:
            with torch.no_grad():
                out = model(x, t, action=action)
        except Exception as e:  # record reference failures instead of a fixture
            failures[name] = {"config": kwargs, "t_shape": t_shape,
                              "exception": f"{type(e).__name__}: {e}"}
            print(f"FAIL {name}: {type(e).__name__}: {e}")
            continue
        twin = Float64Twin(lambda: ref.NanoWM(**kwargs), model)
        with torch.no_grad():
            out64 = twin(x, t, action=action)
        tensors = {f"weights.{k}": v for k, v in model.state_dict().items()}
        tensors.update({"x": x, "t": t, "out": out, "out.f64": out64})
        if action is not None:
            tensors["action"] = action
        cfg = dict(kwargs, t_shape=t_shape)  # `causal` already a ctor arg
        meta = {"config": json.dumps(cfg, sort_keys=True),
                "weight_init": f"state_dict order, Generator().manual_seed({seed}); "
                               "q_norm/k_norm: 1+0.2*randn, others 0.2*randn",
                "batch": str(BATCH), "out.float32_error": repr(float32_error(out, out64))}
        path = os.path.join(out_dir, name + ".safetensors")
        save_safetensors(path, tensors, meta)
        written.append(name)
        print(f"ok   {name}  out|mean|={out.abs().mean():.4f}  f32 error {float32_error(out, out64):.3g}"
              f"  {os.path.getsize(path)} B")
    with open(os.path.join(out_dir, "failures.json"), "w") as f:
        json.dump(failures, f, indent=2, sort_keys=True)
    return written, failures


# Standard setting = reference defaults: config.yaml picks model nanowm_b2 and
# dataset dino_wm/point_maze; models/__init__.get_models builds
# NanoWM_models[arch](input_size=latent_size 32, in_channels=latent_channels 4,
# num_classes=1000, num_frames=4, extras=1, use_action=True,
# action_dim=spec.action_dim * frame_interval = 2*5 = 10,
# action_injection_type='additive', causal=True).
STANDARD = dict(input_size=32, in_channels=4, num_classes=1000, num_frames=4, extras=1,
                use_action=True, action_dim=10, action_injection_type="additive", causal=True)
# RT-1 (docs/training.md ablations): action_dim = 7 * frame_interval 1 = 7.
RT1 = dict(STANDARD, action_dim=7)

S2_SEED = 20261125


def run_s2(ref, out_dir):
    arch = "NanoWM-S/2"
    kwargs = dict(STANDARD)
    torch.manual_seed(0)
    model = ref.NanoWM_models[arch](**kwargs).eval()
    # One generator, state_dict() keys in order, each tensor drawn fresh: w = randn*0.02.
    g = torch.Generator().manual_seed(S2_SEED)
    keys = []
    with torch.no_grad():
        for k, v in model.state_dict().items():
            v.copy_(torch.randn(v.shape, generator=g, dtype=torch.float32) * 0.02)
            keys.append([k, list(v.shape)])
    x, t, action = make_inputs(S2_SEED + 1, kwargs["num_frames"], kwargs["in_channels"],
                               kwargs["input_size"], kwargs["action_dim"], "frame", True)
    x, t, action = x[:1].contiguous(), t[:1].contiguous(), action[:1].contiguous()  # B = 1
    with torch.no_grad():
        out = model(x, t, action=action)
        out64 = Float64Twin(lambda: ref.NanoWM_models[arch](**kwargs), model)(x, t, action=action)
    ctor = dict(kwargs, depth=12, hidden_size=384, patch_size=2, num_heads=6, mlp_ratio=4.0)
    meta = {"arch": arch,
            "config": json.dumps(dict(ctor, t_shape="frame"), sort_keys=True),
            "keys": json.dumps(keys),
            "weight_init": f"g = torch.Generator().manual_seed({S2_SEED}); for k in state_dict() "
                           "order: w = torch.randn(shape, generator=g, dtype=float32) * 0.02",
            "batch": "1", "out.float32_error": repr(float32_error(out, out64))}
    path = os.path.join(out_dir, "s2_full.safetensors")
    save_safetensors(path, {"x": x, "t": t, "action": action, "out": out, "out.f64": out64}, meta)
    print(f"ok   s2_full  out|mean|={out.abs().mean():.4f}  f32 error {float32_error(out, out64):.3g}"
          f"  {os.path.getsize(path)} B")


# Seeded construction: the state dict the reference's constructor leaves after
# torch.manual_seed(SEEDED_INIT_SEED) (its default init: module constructors' draws, then
# initialize_weights' xavier_uniform_/normal_/constant_), one file per action injection.
SEEDED_INIT = dict(input_size=8, patch_size=2, in_channels=4, hidden_size=32, depth=4, num_heads=2,
                   mlp_ratio=4.0, num_frames=3, use_action=True, action_dim=3, causal=True)
SEEDED_INIT_SEED = 1234


def run_seeded_init(ref, out_dir):
    for inj in INJECTIONS:
        kwargs = dict(SEEDED_INIT, action_injection_type=inj)
        torch.manual_seed(SEEDED_INIT_SEED)
        model = ref.NanoWM(**kwargs)
        tensors = {f"weights.{k}": v for k, v in model.state_dict().items()}
        meta = {"config": json.dumps(kwargs, sort_keys=True), "seed": str(SEEDED_INIT_SEED),
                "weight_init": "torch.manual_seed(seed); NanoWM(**config) (the reference's own init)"}
        path = os.path.join(out_dir, f"seeded_init_{inj}.safetensors")
        save_safetensors(path, tensors, meta)
        print(f"ok   seeded_init_{inj}  {len(tensors)} tensors  {os.path.getsize(path)} B")


# Published counts (docs/training.md, RT-1 ablations; docs/config_system.md).
PAPER = {("NanoWM-S/2", "additive", 7): "39.8M", ("NanoWM-B/2", "additive", 7): "158.6M",
         ("NanoWM-B/2", "adaln", 7): "158.6M (table; actual count differs, see README)",
         ("NanoWM-B/2", "adaln_fuse", 7): "158.6M", ("NanoWM-B/2", "film", 7): "172.8M",
         ("NanoWM-B/2", "cross_attention", 7): "187.0M",
         ("NanoWM-L/2", "additive", 7): "~460M (see README)"}


def run_param_counts(ref, out_dir):
    specs = [("NanoWM-S/2", STANDARD), ("NanoWM-B/2", STANDARD), ("NanoWM-L/2", STANDARD),
             ("NanoWM-XL/2", STANDARD)]
    specs += [(a, dict(RT1, action_injection_type=i)) for a in ("NanoWM-S/2", "NanoWM-B/2")
              for i in INJECTIONS]
    specs += [("NanoWM-L/2", RT1)]
    specs += [("NanoWM-B/2", dict(STANDARD, action_injection_type=i))
              for i in ("film", "cross_attention")]
    rows = []
    for arch, kw in specs:
        with torch.device("meta"):  # no memory/compute for the large models
            m = ref.NanoWM_models[arch](**kw)
        n = sum(p.numel() for p in m.parameters())
        row = {"arch": arch, "kwargs": kw, "params": n, "params_M": round(n / 1e6, 2),
               "setting": "rt1" if kw["action_dim"] == 7 else "default(point_maze)"}
        paper = PAPER.get((arch, kw["action_injection_type"], kw["action_dim"]))
        if paper:
            row["paper"] = paper
        rows.append(row)
        print(f"{arch:12s} {kw['action_injection_type']:16s} A={kw['action_dim']:2d} {n:>12,d}")
    with open(os.path.join(out_dir, "param_counts.json"), "w") as f:
        json.dump(rows, f, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="checkout of nano-world-model (has src/models/nanowm.py)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--skip-s2", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)  # single thread: stable reduction order on CPU
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)
    os.makedirs(args.out, exist_ok=True)
    ref = load_reference(args.reference)
    print("stand-ins:", {m: getattr(sys.modules[m], "__standin__", False) for m in ("einops", "timm")})
    run_tiny(ref, args.out)
    run_seeded_init(ref, args.out)
    if not args.skip_s2:
        run_s2(ref, args.out)
    run_param_counts(ref, args.out)


if __name__ == "__main__":
    main()
