#!/usr/bin/env python3
"""The device check (issue #24): one prepared run of `nanowm` against the PyTorch reference on
the same device, writing every number to <out>/device-check.json and everything every command
printed to <out>/device-check.log. Run it through scripts/device-check (README, "The device check").

Steps (GPU sizes; --cpu: toy sizes on the CPU, fp32, so that the script is tested before a GPU
is lent):
  build-shim  optional: the bundle's build-shim (--build-shim "COMMAND ARGS"), timed
  doctor      `nanowm doctor` and `nanowm smoke`
  parity      forward and forward+backward of NanoWM-S/2 and -B/2 (random weights) against the
              reference's own NanoWM on the same device, judged against its float64 replay
  sampling    `nanowm sample --seed` against the reference's dfot_sample after torch.manual_seed
  training    B/2 on the built-in wall's 32×32 frames: 200 steps (bf16), validation every 50, a
              checkpoint at 100, then a run resumed from it to 200, compared with the straight run
  group       a process group of one under torchrun (NCCL on GPU, Gloo on CPU)
  throughput  training s/step and sampling frames/s, nanowm against the reference in eager
              PyTorch, with model FLOP utilisation
  play        frames/s generated as `nanowm play` generates them (issue #25 item 4): one clip,
              NanoWM-B/2 on 32×32×4 (SD-VAE) latents, a sliding 3-frame history in its 4-frame
              window, 10 sequential DDIM steps a frame (4 and 20 as time allows), cached and
              uncached, against the 30 frames/s target and the reference's rollout loop in eager
              PyTorch; the model only (no SD-VAE decoding)
  compile-training, compile-sampling
              the reference's training step and sampling under torch.compile (GPU only)
Every step has a time limit, shortened to what is left of --budget-seconds; a step that fails
is recorded and the next one runs; the exit status is 1 when any step failed or was left out for
want of time.

The reference (simchowitzlabpublic/nano-world-model) is imported from the checkout given with
--reference, through Tests/Fixtures/make_nanowm_fixtures.py (which stands in for timm's
PatchEmbed and einops only where they are not installed); nothing of it is copied here. The
script needs torch and numpy; it reads and writes safetensors itself.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import glob
import hashlib
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")

# H200 (and H100 SXM) dense bf16 tensor-core peak, NVIDIA's data sheet: 989.4 TFLOP/s.
GPU_BF16_PEAK = 989e12
# ReferenceAgreement's factor (Tests/Support/FixtureFile.swift, Tests/Fixtures/README.md).
AGREEMENT_FACTOR = 4.0
FLOAT32_EPSILON = 2.0 ** -23


# ---------------------------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------------------------

STANDARD = dict(input_size=32, in_channels=4, num_classes=1000, num_frames=4, extras=1,
                use_action=True, action_dim=10, action_injection_type="additive", causal=True)


def plan(cpu):
    """Everything the steps run, by mode. GPU: the issue's sizes; CPU: toys that run the same
    code paths in seconds on 2 cores."""
    if not cpu:
        return dict(
            device="cuda",
            parity=[dict(label="NanoWM-S/2", arch="NanoWM-S/2", kwargs=STANDARD, batch=2),
                    dict(label="NanoWM-B/2", arch="NanoWM-B/2", kwargs=STANDARD, batch=2)],
            sampling=dict(label="NanoWM-S/2", arch="NanoWM-S/2", kwargs=STANDARD, batch=2, context=1, steps=10, seed=1234),
            training=dict(arch="nanowm_b2", steps=200, val_every=50, checkpoint_at=100, batch=8, frames=4,
                          size=32, patch=2, overrides=["model=nanowm_b2"], mixed_precision=True),
            group=dict(steps=5, overrides=["model=nanowm_s2"]),
            throughput=dict(arch="NanoWM-B/2", train_steps=60, batch=8, frames=4, size=32, channels=3, action_dim=2,
                            sample_batch=8, sample_steps=50, compile=True, warmup=5, timed=20),
            # 256² frames through SD-VAE's 8× encoder: 32×32×4 latents, 256 tokens a frame at patch 2.
            play=dict(label="NanoWM-B/2", arch="NanoWM-B/2", kwargs=STANDARD, history=3, steps=[10, 4, 20], frames=60,
                      reference_frames=20, reference_warmup=2),
        )
    toy = dict(input_size=8, patch_size=2, in_channels=4, hidden_size=64, depth=4, num_heads=4, mlp_ratio=4.0,
               num_frames=4, num_classes=1000, extras=1, use_action=True, action_dim=10,
               action_injection_type="additive", causal=True)
    wide = dict(toy, hidden_size=96, depth=2, num_heads=2)
    tiny = ["model.hidden_size=32", "model.depth=2", "model.num_heads=2"]
    return dict(
        device="cpu",
        parity=[dict(label="toy D64x4 (stands for S/2)", arch=None, kwargs=toy, batch=2),
                dict(label="toy D96x2 (stands for B/2)", arch=None, kwargs=wide, batch=2)],
        sampling=dict(label="toy D64x4", arch=None, kwargs=toy, batch=2, context=1, steps=4, seed=1234),
        training=dict(arch="tiny D32x2", steps=8, val_every=2, checkpoint_at=4, batch=2, frames=3, size=32, patch=8,
                      overrides=tiny, mixed_precision=False, trajectories=12, length=12),
        group=dict(steps=2, overrides=tiny),
        throughput=dict(arch=None, hidden=32, depth=2, heads=2, patch=8, train_steps=20, batch=2, frames=3, size=32,
                        channels=3, action_dim=2, sample_batch=2, sample_steps=10, compile=False, warmup=2, timed=5),
        play=dict(label="toy D64x4 (stands for B/2)", arch=None, kwargs=toy, history=3, steps=[10, 4, 20], frames=10,
                  reference_frames=3, reference_warmup=1),
    )


# Seconds each step may take at most (GPU, CPU); the budget may shorten them.
LIMITS = {"build-shim": (240, 240), "doctor": (60, 60), "parity": (120, 120), "sampling": (75, 60),
          "training": (150, 90), "group": (45, 45), "throughput": (120, 60), "play": (120, 40),
          "compile-training": (120, 10),
          "compile-sampling": (90, 10)}


# ---------------------------------------------------------------------------------------------
# Logging and commands
# ---------------------------------------------------------------------------------------------

class Log:
    def __init__(self, path):
        self.file = open(path, "w", encoding="utf-8", buffering=1)
        self.start = time.monotonic()
        self.lock = threading.Lock()

    def __call__(self, text, echo=True):
        stamp = f"[{time.monotonic() - self.start:8.2f}s] "
        with self.lock:
            for line in str(text).splitlines() or [""]:
                self.file.write(stamp + line + "\n")
                if echo:
                    print(stamp + line, flush=True)

    def close(self):
        self.file.close()


class CommandResult:
    def __init__(self, argv, rc, lines, seconds, timed_out):
        self.argv, self.rc, self.lines, self.seconds, self.timed_out = argv, rc, lines, seconds, timed_out

    @property
    def output(self):
        return "\n".join(line for _, _, line in self.lines)

    def stream(self, name):
        return [(t, line) for t, s, line in self.lines if s == name]

    def summary(self):
        return dict(argv=self.argv, rc=self.rc, seconds=round(self.seconds, 3), timed_out=self.timed_out)


def run_command(log, argv, timeout, env=None, cwd=None, label="", echo=False):
    """Runs argv in a session of its own, logging every line with the time it arrived; on
    timeout the whole session is stopped (SIGTERM, then SIGKILL after 5 s)."""
    argv = [str(a) for a in argv]
    log(f"{label}$ {' '.join(argv)}" + (f"   (limit {timeout:.0f} s)" if timeout else ""))
    merged = dict(os.environ)
    merged.update(env or {})
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=merged, cwd=cwd,
                                start_new_session=True)
    except OSError as e:
        log(f"{label}  could not start: {e}")
        return CommandResult(argv, 127, [(0.0, "stderr", str(e))], 0.0, False)
    lines = []

    def pump(stream, name):
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", "replace").rstrip("\n").replace("\r", "")
            now = time.monotonic() - start
            lines.append((now, name, text))
            log(f"{label}  {'!' if name == 'stderr' else '|'} {text}", echo=echo)
        stream.close()

    threads = [threading.Thread(target=pump, args=(proc.stdout, "stdout"), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, "stderr"), daemon=True)]
    for t in threads:
        t.start()
    timed_out = False
    try:
        proc.wait(timeout=max(timeout, 1) if timeout else None)
    except subprocess.TimeoutExpired:
        timed_out = True
        log(f"{label}  time limit of {timeout:.0f} s reached: stopping pid {proc.pid} and its session")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    for t in threads:
        t.join(timeout=5)
    seconds = time.monotonic() - start
    log(f"{label}  exit {proc.returncode} after {seconds:.2f} s")
    return CommandResult(argv, proc.returncode, lines, seconds, timed_out)


class StepFailed(Exception):
    pass


def require(result, what):
    if result.timed_out:
        raise StepFailed(f"{what}: time limit reached after {result.seconds:.0f} s")
    if result.rc != 0:
        tail = [line for _, _, line in result.lines if line.strip()][-3:]
        raise StepFailed(f"{what}: exit {result.rc}: " + " / ".join(tail))
    return result


# ---------------------------------------------------------------------------------------------
# safetensors, read and written here (no dependency on the safetensors package)
# ---------------------------------------------------------------------------------------------

def read_safetensors(path):
    import torch
    dtypes = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
              "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool}
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = dtypes[entry["dtype"]]
        if end > begin:
            flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype)
        else:
            flat = torch.empty(0, dtype=dtype)
        tensors[key] = flat.reshape(entry["shape"]).clone()
    return tensors


def write_safetensors(path, tensors, metadata=None):
    import torch
    names = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.float16: "F16",
             torch.bfloat16: "BF16", torch.int32: "I32"}
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for key in sorted(tensors):
        t = tensors[key].detach().contiguous().cpu()
        blob = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[key] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    temporary = path + ".partial"
    with open(temporary, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)
    os.replace(temporary, path)


# ---------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------

def agreement(ours, f32, f64):
    """The fixtures' rule (Tests/Fixtures/README.md, "Tolerances"), on this device: ours must be
    as close to the float64 replay as the reference's float32 result is, within a factor of 4,
    plus one float32 rounding of the result's magnitude: max|ours − f64| ≤ 4·(E + ε·max|f64|),
    E = max|f32 − f64|."""
    ours, f32, f64 = ours.double().cpu(), f32.double().cpu(), f64.double().cpu()
    if ours.shape != f64.shape:
        return dict(holds=False, error=f"shape {list(ours.shape)}, reference {list(f64.shape)}")
    if not bool(ours.isfinite().all()):
        return dict(holds=False, error="NaN/Inf in nanowm's result")
    scale = float(f64.abs().max()) if f64.numel() else 0.0
    reference_error = float((f32 - f64).abs().max()) if f64.numel() else 0.0
    distance = float((ours - f64).abs().max()) if f64.numel() else 0.0
    to_reference = (ours - f32).abs()
    tolerance = AGREEMENT_FACTOR * (reference_error + FLOAT32_EPSILON * scale)
    return dict(holds=distance <= tolerance, distance_to_f64=distance, reference_f32_error=reference_error,
                tolerance=tolerance, max_abs_vs_reference=float(to_reference.max()) if f64.numel() else 0.0,
                max_rel_vs_reference=float((to_reference / f32.abs().clamp_min(1e-6 * max(scale, 1e-30))).max()) if f64.numel() else 0.0,
                scale=scale, bitwise_equal=bool(torch_equal(ours, f32)))


def torch_equal(a, b):
    import torch
    return a.shape == b.shape and torch.equal(a, b)


def worst(agreements):
    """The worst of several agreements, by distance/tolerance."""
    def ratio(a):
        return a.get("distance_to_f64", math.inf) / max(a.get("tolerance", 0.0), 1e-300)
    return max(agreements.items(), key=lambda item: ratio(item[1]))


# ---------------------------------------------------------------------------------------------
# The reference, run in worker processes (python device_check.py --worker JOB.json)
# ---------------------------------------------------------------------------------------------

def load_reference(path):
    sys.path.insert(0, FIXTURES)
    import make_nanowm_fixtures as nf
    model_module = nf.load_reference(path)  # puts <ref>/src on sys.path
    import diffusion
    import diffusion.df_sample as df
    if not os.path.abspath(diffusion.__file__).startswith(os.path.abspath(os.path.join(path, "src"))):
        raise RuntimeError(f"imported diffusion from {diffusion.__file__}, not from the reference")
    return nf, model_module, diffusion, df


def build_reference(model_module, spec):
    if spec.get("arch"):
        return model_module.NanoWM_models[spec["arch"]](**spec["kwargs"])
    return model_module.NanoWM(**spec["kwargs"])


def randomize(model, seed):
    """Every state-dict tensor drawn from one CPU generator in state-dict order, so that every
    path carries signal and activations stay O(1) at any width: matrices randn/√fan-in, vectors
    0.02·randn, the RMSNorm gains of q and k 1 + 0.2·randn."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, value in model.state_dict().items():
            r = torch.randn(value.shape, generator=g, dtype=torch.float32)
            if key.endswith("q_norm.weight") or key.endswith("k_norm.weight"):
                value.copy_(1.0 + 0.2 * r)
            elif value.dim() >= 2:
                value.copy_(r / math.sqrt(max(1, value[0].numel())))
            else:
                value.copy_(0.02 * r)


def inputs_for(spec, seed, device):
    import torch
    k = spec["kwargs"]
    g = torch.Generator().manual_seed(seed)
    shape = (spec["batch"], k["num_frames"], k["in_channels"], k["input_size"], k["input_size"])
    x = torch.randn(shape, generator=g)
    t = torch.randint(0, 1000, shape[:2], generator=g)
    action = torch.randn(shape[0], shape[1], k["action_dim"], generator=g)
    probe = torch.randn(shape, generator=g)
    return x, t, action, probe


def worker_parity(job):
    """Reference forward (eval, no grad) and gradients of (out·probe).sum(), float32 and the
    float64 replay, on the job's device; writes the weights and inputs nanowm reads."""
    import torch
    nf, model_module, _, _ = load_reference(job["reference"])
    device = torch.device(job["device"])
    results = {}
    for index, spec in enumerate(job["specs"]):
        seed = 2400 + index
        torch.manual_seed(seed)
        model = build_reference(model_module, spec)
        randomize(model, seed)
        twin = nf.Float64Twin(lambda: build_reference(model_module, spec), model)
        model, twin = model.to(device).eval(), twin.to(device)
        x, t, action, probe = inputs_for(spec, seed + 1, device)
        write_safetensors(spec["weights"], {k: v for k, v in model.state_dict().items()})
        write_safetensors(spec["input"], {"x": x, "t": t, "action": action, "probe": probe})
        x, t, action, probe = x.to(device), t.to(device), action.to(device), probe.to(device)

        def pass_(m, wide):
            m.zero_grad(set_to_none=True)
            context = nf.widened() if wide else contextlib.nullcontext()
            with context:
                out = m(x.double() if wide else x, t, action=action.double() if wide else action)
                (out * probe.to(out.dtype)).sum().backward()
            return out.detach().cpu(), {k: p.grad.detach().cpu() for k, p in m.named_parameters() if p.grad is not None}

        out32, grads32 = pass_(model, False)
        out64, grads64 = pass_(twin.inner, True)
        saved = {"out": out32, "out.f64": out64}
        for key in grads32:
            saved["grad." + key], saved["grad." + key + ".f64"] = grads32[key], grads64[key]
        torch.save(saved, spec["expected"])
        results[spec["label"]] = dict(parameters=sum(p.numel() for p in model.parameters()),
                                      gradients=len(grads32), no_gradient=sorted(k for k, _ in model.named_parameters() if k not in grads32))
        del model, twin
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return results


def sampling_call(df, d, model, spec, context, action, device, wide=False):
    k = spec["kwargs"]
    shape = (spec["batch"], k["num_frames"], k["in_channels"], k["input_size"], k["input_size"])
    return df.dfot_sample(diffusion=d, model=model, shape=shape, context=context.double() if wide else context,
                          n_context_frames=spec["context"], scheduling_mode="sequential", num_sampling_steps=spec["steps"],
                          model_kwargs=dict(y=None, use_fp16=False, action=action), device=device, progress=False,
                          eta=0.0, clip_denoised=False, history_stabilization_level=0.02)


def make_diffusion(diffusion, steps):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return diffusion.create_diffusion(timestep_respacing=str(steps) if steps else "", noise_schedule="squaredcos_cap_v2",
                                          pred_name="v", diffusion_steps=1000, snr_gamma=5.0, zero_terminal_snr=True)


def worker_sampling(job):
    """Seeded sequential sampling as the reference's sampling script sets it up (v-prediction,
    cosine schedule with zero terminal SNR respaced to the steps, DDIM η 0, history
    stabilisation 0.02), float32 and its float64 replay (same draws, widened)."""
    import torch
    nf, model_module, diffusion, df = load_reference(job["reference"])
    device = torch.device(job["device"])
    spec = job["spec"]
    torch.manual_seed(2600)
    model = build_reference(model_module, spec)
    randomize(model, 2600)
    twin = nf.Float64Twin(lambda: build_reference(model_module, spec), model)
    model, twin = model.to(device).eval(), twin.to(device)
    k = spec["kwargs"]
    g = torch.Generator().manual_seed(2601)
    context = torch.randn(spec["batch"], spec["context"], k["in_channels"], k["input_size"], k["input_size"], generator=g)
    action = torch.randn(spec["batch"], k["num_frames"], k["action_dim"], generator=g)
    write_safetensors(spec["weights"], dict(model.state_dict()))
    write_safetensors(spec["input"], {"context": context, "action": action})
    context, action = context.to(device), action.to(device)
    d = make_diffusion(diffusion, spec["steps"])
    torch.manual_seed(spec["seed"])
    with torch.no_grad():
        samples = sampling_call(df, d, model, spec, context, action, device)
    torch.manual_seed(spec["seed"])
    with nf.float64_draws(), torch.no_grad():
        samples64 = sampling_call(df, d, twin, spec, context, action, device, wide=True)
    torch.save({"samples": samples.cpu(), "samples.f64": samples64.cpu()}, spec["expected"])
    return dict(shape=list(samples.shape))


def worker_train_bench(job):
    """Reference training steps as its training_step runs them (diffusion-forcing loss with
    per-frame timesteps, backward, gradient clipping, AdamW), under bf16 autocast when asked
    (Lightning's bf16-mixed), eager or under torch.compile as its experiment.infra.compile does."""
    import torch
    _, model_module, diffusion, _ = load_reference(job["reference"])
    device = torch.device(job["device"])
    spec = job["spec"]
    torch.manual_seed(2700)
    model = build_reference(model_module, spec).to(device).train()
    runner = torch.compile(model) if job.get("compile") else model
    d = make_diffusion(diffusion, 0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    k = spec["kwargs"]
    x = torch.randn(spec["batch"], k["num_frames"], k["in_channels"], k["input_size"], k["input_size"], device=device)
    action = torch.randn(spec["batch"], k["num_frames"], k["action_dim"], device=device)
    bf16 = bool(job.get("bf16")) and device.type == "cuda"

    def step():
        t = diffusion.sample_training_timesteps((x.shape[0], x.shape[1]), 1000, strategy="uniform", logit_normal_mean=0.0,
                                                logit_normal_std=1.0, device=device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = d.training_losses(runner, x, t, dict(y=None, action=action))["loss"].mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    start = time.perf_counter()
    for _ in range(job["warmup"]):
        loss = step()
    sync()
    warmup_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(job["timed"]):
        loss = step()
    sync()
    seconds = (time.perf_counter() - start) / job["timed"]
    return dict(seconds_per_step=seconds, warmup_seconds=warmup_seconds, warmup_steps=job["warmup"], timed_steps=job["timed"],
                final_loss=float(loss.detach()), parameters=sum(p.numel() for p in model.parameters()), bf16_autocast=bf16,
                compiled=bool(job.get("compile")))


def worker_sample_bench(job):
    """Generated frames/s of the reference's dfot_sample (float32, as its sampling scripts run
    it), eager or with the model under torch.compile; the first call warms up (and compiles)."""
    import torch
    _, model_module, diffusion, df = load_reference(job["reference"])
    device = torch.device(job["device"])
    spec = job["spec"]
    torch.manual_seed(2800)
    model = build_reference(model_module, spec).to(device).eval()
    randomize(model, 2800)
    runner = torch.compile(model) if job.get("compile") else model
    k = spec["kwargs"]
    context = torch.randn(spec["batch"], spec["context"], k["in_channels"], k["input_size"], k["input_size"], device=device)
    action = torch.randn(spec["batch"], k["num_frames"], k["action_dim"], device=device)
    d = make_diffusion(diffusion, spec["steps"])

    def once():
        with torch.no_grad():
            out = sampling_call(df, d, runner, spec, context, action, device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return out

    start = time.perf_counter()
    once()
    warmup_seconds = time.perf_counter() - start
    start = time.perf_counter()
    runs = job.get("runs", 2)
    for _ in range(runs):
        once()
    seconds = (time.perf_counter() - start) / runs
    generated = spec["batch"] * (k["num_frames"] - spec["context"])
    return dict(seconds_per_call=seconds, generated_frames=generated, frames_per_second=generated / seconds,
                warmup_seconds=warmup_seconds, runs=runs, compiled=bool(job.get("compile")))


def worker_play_bench(job):
    """Frames/s of the reference's own frame-by-frame generation, the loop of its
    src/sample/rollout.py: for each new frame, dfot_sample over the model's window with the last
    `history` frames as context, sequential, n_generate_frames=1, η 0, history stabilisation
    0.02, keeping the first generated frame (uncached: the reference has no cache). One clip,
    float32; with "tf32" TF32 matrix products as rollout.py allows them on CUDA, else PyTorch's
    default, none (as in nanowm, whose libtorch has the same default). Each steps count first runs `warmup` frames untimed; a
    steps count after the first runs only if its estimate fits before soft_deadline (epoch s)."""
    import torch
    _, model_module, diffusion, df = load_reference(job["reference"])
    device = torch.device(job["device"])
    spec = job["spec"]
    k = spec["kwargs"]
    torch.manual_seed(3000)
    model = build_reference(model_module, spec).to(device).eval()
    randomize(model, 3000)
    history, window, frames, warmup = spec["history"], k["num_frames"], spec["reference_frames"], spec["reference_warmup"]
    context = torch.randn(1, history, k["in_channels"], k["input_size"], k["input_size"], device=device)
    actions = torch.randn(1, history + warmup + frames + window, k["action_dim"], device=device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def generate(d, steps, count):
        generated = context
        for t in range(count):
            with torch.no_grad():
                out = df.dfot_sample(diffusion=d, model=model.forward, shape=(1, window) + tuple(context.shape[2:]),
                                     context=generated[:, -history:], n_context_frames=history, scheduling_mode="sequential",
                                     num_sampling_steps=steps, model_kwargs=dict(y=None, use_fp16=False, action=actions[:, t:t + window]),
                                     device=device, progress=False, eta=0.0, clip_denoised=False, n_generate_frames=1,
                                     history_stabilization_level=0.02)
            generated = torch.cat([generated, out[:, history:history + 1]], dim=1)
        sync()
        return generated

    results, per_frame_at = {}, {}
    for tf32, steps in job["runs"]:
        if device.type == "cuda":
            # PyTorch's defaults (libtorch's, so nanowm's) are False and True; rollout.py sets both True.
            torch.backends.cuda.matmul.allow_tf32 = tf32
            torch.backends.cudnn.allow_tf32 = True
        key = f"{steps}" + (" tf32" if tf32 else "")
        if results and per_frame_at:
            nearest = min(per_frame_at, key=lambda s: abs(s - steps))
            estimate = per_frame_at[nearest] * steps / nearest * (warmup + frames)
            if time.time() + estimate > job["soft_deadline"]:
                results[key] = dict(skipped=f"left out: about {estimate:.1f} s needed, the step's time is nearly spent")
                continue
        try:  # one steps count failing leaves the others' numbers
            d = make_diffusion(diffusion, steps)
            start = time.perf_counter()
            generate(d, steps, warmup)
            warmup_seconds = time.perf_counter() - start
            start = time.perf_counter()
            out = generate(d, steps, frames)
            seconds = time.perf_counter() - start
            if not bool(out.isfinite().all()):
                raise RuntimeError(f"non-finite frames from the reference at {steps} steps")
        except Exception as e:
            traceback.print_exc()
            results[key] = dict(error=f"{type(e).__name__}: {e}")
            continue
        per_frame_at.setdefault(steps, seconds / frames)
        results[key] = dict(frames_per_second=frames / seconds, ms_per_frame=1000 * seconds / frames, timed_frames=frames,
                            warmup_frames=warmup, warmup_seconds=warmup_seconds, steps=steps, tf32=bool(tf32 and device.type == "cuda"))
    return dict(results=results, parameters=sum(p.numel() for p in model.parameters()))


WORKERS = {"parity": worker_parity, "sampling": worker_sampling, "train_bench": worker_train_bench,
           "sample_bench": worker_sample_bench, "play_bench": worker_play_bench}


def worker_main(path):
    with open(path) as f:
        job = json.load(f)
    import torch
    if job.get("threads"):
        torch.set_num_threads(job["threads"])
    result = WORKERS[job["task"]](job)
    with open(job["result"], "w") as f:
        json.dump(result, f)


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------

class Check:
    def __init__(self, args):
        self.args = args
        self.cpu = args.cpu
        self.plan = plan(args.cpu)
        self.device = self.plan["device"]
        self.out = os.path.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.log = Log(os.path.join(self.out, "device-check.log"))
        self.work = tempfile.mkdtemp(prefix="nanowm-device-check-")
        self.nanowm = os.path.abspath(args.nanowm)
        self.reference = os.path.abspath(args.reference)
        # Commands run in the work folder: a relative interpreter path is resolved here.
        self.python = os.path.abspath(args.python) if os.sep in args.python else (shutil.which(args.python) or args.python)
        self.start = time.monotonic()
        self.steps = {}
        self.report = dict(
            schema=1, issue="#24 item 5", mode="cpu (toy sizes)" if self.cpu else "gpu", device=self.device,
            started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            budget_seconds=args.budget_seconds, nanowm=self.nanowm, reference=self.reference, python=self.python,
            steps=self.steps,
            precision=("CPU: float32 everywhere; bf16 autocast on a CPU is neither fast nor what the GPU run measures, so "
                       "training runs with experiment.infra.mixed_precision=false and the reference's benchmark without autocast"
                       if self.cpu else
                       "parity and sampling: float32 on both sides with NVIDIA_TF32_OVERRIDE=0 (no TF32 in cuBLAS or cuDNN); "
                       "training and training throughput: bf16 autocast (experiment.infra.mixed_precision=true, the "
                       "reference under torch.autocast(bfloat16) as Lightning's bf16-mixed); sampling throughput: float32"))
        # Parity and sampling compare float32 arithmetic: no TF32 in either process.
        self.exact_env = {"NVIDIA_TF32_OVERRIDE": "0"}

    # -- plumbing -------------------------------------------------------------------------------

    def remaining(self):
        return self.args.budget_seconds - (time.monotonic() - self.start)

    def path(self, name):
        return os.path.join(self.work, name)

    def nanowm_run(self, arguments, timeout, env=None, label=""):
        return run_command(self.log, [self.nanowm] + arguments, timeout, env=env, cwd=self.work, label=label)

    def worker(self, task, job, timeout, label, env=None):
        job = dict(job, task=task, reference=self.reference, device=self.device, result=self.path(f"{label}-{task}.result.json"))
        if self.cpu:
            job.setdefault("threads", os.cpu_count() or 1)
        job_file = self.path(f"{label}-{task}.job.json")
        with open(job_file, "w") as f:
            json.dump(job, f)
        result = run_command(self.log, [self.python, os.path.abspath(__file__), "--worker", job_file], timeout, env=env,
                             cwd=self.work, label=label)
        require(result, f"reference {task}")
        with open(job["result"]) as f:
            return json.load(f)

    def step(self, name, function, limit_key=None):
        limit = LIMITS[limit_key or name][1 if self.cpu else 0]
        entry = dict(status="skipped", seconds=0.0)
        self.steps[name] = entry
        left = self.remaining()
        if left < min(20.0, limit):
            entry["reason"] = f"budget: {left:.0f} s left of {self.args.budget_seconds:.0f} s"
            self.log(f"== {name}: skipped ({entry['reason']})")
            return
        limit = min(limit, left)
        entry["limit_seconds"] = round(limit, 1)
        self.log(f"== {name} (at most {limit:.0f} s)")
        begin = time.monotonic()
        deadline = begin + limit
        try:
            outcome = function(entry, lambda: max(1.0, deadline - time.monotonic()))
            entry["status"] = outcome or "passed"
        except StepFailed as e:
            entry["status"], entry["error"] = "failed", str(e)
        except Exception as e:  # a bug or an unreadable result: recorded, the next step runs
            entry["status"], entry["error"] = "failed", f"{type(e).__name__}: {e}"
            self.log(traceback.format_exc(), echo=False)
        entry["seconds"] = round(time.monotonic() - begin, 2)
        self.log(f"== {name}: {entry['status']} in {entry['seconds']:.1f} s" + (f": {entry['error']}" if "error" in entry else ""))

    # -- environment ----------------------------------------------------------------------------

    def environment(self):
        env = dict(platform=platform.platform(), machine=platform.machine(), host=socket.gethostname(),
                   cpu_count=os.cpu_count(), python_version=platform.python_version())
        try:
            import torch
            env.update(torch=torch.__version__, torch_cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                       cuda_available=torch.cuda.is_available())
            if torch.cuda.is_available():
                env["device_name"] = torch.cuda.get_device_name(0)
                env["device_capability"] = list(torch.cuda.get_device_capability(0))
                env["device_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2 ** 30, 1)
            env["numpy"] = __import__("numpy").__version__
        except Exception as e:
            env["torch_error"] = f"{type(e).__name__}: {e}"
        env["tree_commit"] = git(ROOT, "rev-parse", "HEAD")
        env["tree_dirty"] = bool(git(ROOT, "status", "--porcelain", "--untracked-files=no"))
        env["reference_commit"] = git(self.reference, "rev-parse", "HEAD")
        digest = hashlib.sha256()
        for name in sorted(glob.glob(os.path.join(self.reference, "src", "models", "nanowm.py"))
                           + glob.glob(os.path.join(self.reference, "src", "diffusion", "*.py"))):
            with open(name, "rb") as f:
                digest.update(os.path.relpath(name, self.reference).encode() + b"\0" + f.read())
        env["reference_model_and_diffusion_sha256"] = digest.hexdigest()
        for module in ("timm", "einops"):
            try:
                env[module] = __import__(module).__version__
            except Exception:
                env[module] = None  # make_nanowm_fixtures stands in for it
        self.report["environment"] = env
        self.log("environment: " + json.dumps(env))

    # -- steps ----------------------------------------------------------------------------------

    def build_shim(self, entry, left):
        result = require(run_command(self.log, shlex.split(self.args.build_shim), left(), label="build-shim"), "build-shim")
        entry["command"] = result.summary()

    def doctor(self, entry, left):
        result = require(self.nanowm_run(["doctor"], left(), label="doctor"), "nanowm doctor")
        text = result.output
        entry["doctor"] = [line for _, _, line in result.lines]
        match = re.search(r"CUDA devices: (\d+)", text)
        entry["cuda_devices"] = int(match.group(1)) if match else 0
        backends = re.search(r"distributed backends: ([^(]*)", text)
        entry["backends"] = [b.strip() for b in backends.group(1).split(",")] if backends else []
        libtorch = re.search(r"^libtorch (\S+)", text, re.M)
        entry["libtorch"] = libtorch.group(1) if libtorch else None
        self.report.setdefault("environment", {})["nanowm_libtorch"] = entry["libtorch"]
        smoke = require(self.nanowm_run(["smoke"], left(), label="smoke"), "nanowm smoke")
        entry["smoke"] = [line for _, _, line in smoke.lines if line.startswith("smoke")]
        entry["smoke_device"] = "cpu (nanowm smoke has no --device option)"
        if not self.cpu:
            if entry["cuda_devices"] < 1:
                raise StepFailed("nanowm doctor sees no CUDA device: the binary's libtorch is a CPU build")
            if "nccl" not in entry["backends"]:
                raise StepFailed("nanowm doctor lists no NCCL backend")

    def parity(self, entry, left):
        specs = []
        for index, spec in enumerate(self.plan["parity"]):
            specs.append(dict(spec, weights=self.path(f"parity{index}.safetensors"), input=self.path(f"parity{index}.in.safetensors"),
                              expected=self.path(f"parity{index}.expected.pt")))
        info = self.worker("parity", dict(specs=specs), left(), "parity", env=self.exact_env)
        import torch
        failures = []
        entry["tolerance_rule"] = ("max|nanowm − f64| ≤ 4·(E + 2⁻²³·max|f64|), E = max|reference float32 − f64|, the float64 replay "
                                   "being the reference's own model in float64 on the same device (Tests/Fixtures/README.md, "
                                   "'Tolerances'); float32 with no TF32 on both sides")
        entry["models"] = {}
        for spec in specs:
            label = spec["label"]
            out_file, grads_file = self.path(label.replace("/", "_").replace(" ", "_") + ".out.safetensors"), None
            grads_file = out_file.replace(".out.", ".grads.")
            result = self.nanowm_run(["forward", "--checkpoint", spec["weights"], "--causal", "true", "--device", self.device,
                                      "--input", spec["input"], "--output", out_file, "--gradients", grads_file], left(),
                                     env=self.exact_env, label="parity")
            require(result, f"nanowm forward ({label})")
            expected = torch.load(spec["expected"], map_location="cpu", weights_only=True)
            out = read_safetensors(out_file)["out"]
            grads = read_safetensors(grads_file)
            forward = agreement(out, expected["out"], expected["out.f64"])
            names = sorted(k[5:] for k in expected if k.startswith("grad.") and not k.endswith(".f64"))
            per_grad = {name: agreement(grads[name], expected["grad." + name], expected["grad." + name + ".f64"])
                        for name in names if name in grads}
            missing, extra = sorted(set(names) - set(grads)), sorted(set(grads) - set(names))
            bad = sorted(name for name, a in per_grad.items() if not a["holds"])
            worst_name, worst_grad = worst(per_grad) if per_grad else (None, {})
            entry["models"][label] = dict(
                reference=info[label], forward=forward, forward_seconds=round(result.seconds, 2),
                gradients=dict(count=len(per_grad), failing=bad, missing=missing, unexpected=extra,
                               worst=dict(parameter=worst_name, **worst_grad),
                               max_abs_vs_reference=max((a["max_abs_vs_reference"] for a in per_grad.values()), default=None),
                               max_rel_vs_reference=max((a["max_rel_vs_reference"] for a in per_grad.values()), default=None)))
            self.log(f"parity {label}: forward {fmt(forward)}; {len(per_grad)} gradients, worst {worst_name}: {fmt(worst_grad)}")
            if not forward["holds"]:
                failures.append(f"{label} forward")
            if bad or missing or extra:
                failures.append(f"{label} gradients ({len(bad)} outside the tolerance, {len(missing)} missing, {len(extra)} unexpected)")
        if failures:
            raise StepFailed("outside the tolerance: " + "; ".join(failures))

    def sampling(self, entry, left):
        spec = dict(self.plan["sampling"], weights=self.path("sampling.safetensors"), input=self.path("sampling.in.safetensors"),
                    expected=self.path("sampling.expected.pt"))
        self.worker("sampling", dict(spec=spec), left(), "sampling", env=self.exact_env)
        import torch
        expected = torch.load(spec["expected"], map_location="cpu", weights_only=True)
        entry["setup"] = dict(model=spec["label"], batch=spec["batch"], context_frames=spec["context"], steps=spec["steps"],
                              seed=spec["seed"], mode="sequential", prediction="v", schedule="squaredcos_cap_v2, zero terminal SNR",
                              history_stabilization=0.02, eta=0.0, precision="float32, no TF32")
        entry["tolerance_rule"] = "as parity, against the reference's dfot_sample replayed in float64 with the same (widened) draws"
        failures = []
        for label, extra in [("uncached", ["--no-cache"]), ("cached", [])]:
            output = self.path(f"sampling.{label}.safetensors")
            result = self.nanowm_run(["sample", "--checkpoint", spec["weights"], "--causal", "true", "--device", self.device,
                                      "--input", spec["input"], "--output", output, "--steps", str(spec["steps"]), "--mode", "sequential",
                                      "--seed", str(spec["seed"]), "--pred", "v", "--schedule", "squaredcos_cap_v2", "--ztsnr", "true",
                                      "--history-stabilization", "0.02"] + extra, left(), env=self.exact_env, label="sampling")
            require(result, f"nanowm sample ({label})")
            samples = read_safetensors(output)["samples"]
            entry[label] = agreement(samples, expected["samples"], expected["samples.f64"])
            self.log(f"sampling {label}: {fmt(entry[label])}")
            if not entry[label]["holds"]:
                failures.append(label)
        if failures:
            raise StepFailed("seeded samples outside the tolerance: " + ", ".join(failures))

    def training_overrides(self, spec, run_steps, extra=()):
        data = self.path("data")
        overrides = ["experiment=quickstart", "wandb.enabled=false", f"dataset_dir={data}",
                     f"model.patch_size={spec['patch']}", f"model.num_frames={spec['frames']}", "model.latent_channels=3",
                     f"model.image_size={spec['size']}", f"model.latent_size={spec['size']}", f"dataset.resolution={spec['size']}",
                     f"experiment.training.batch_size={spec['batch']}", f"experiment.training.max_steps={run_steps}",
                     "experiment.training.log_every=1", "experiment.evaluation.metrics.evaluate=false",
                     # The portable nanowm writes no MP4 and refuses a run that asks for videos.
                     "experiment.evaluation.save_videos=false",
                     f"experiment.infra.mixed_precision={'true' if spec.get('mixed_precision') else 'false'}"]
        overrides += list(spec.get("overrides", []))
        if spec.get("trajectories"):
            overrides += [f"dataset.num_trajectories={spec['trajectories']}", f"dataset.trajectory_length={spec['length']}",
                          "dataset.loader.validation_size=4", "dataset.loader.validation_fixed_subset_size=null"]
        return overrides + list(extra)

    def training(self, entry, left):
        spec = self.plan["training"]
        steps, at = spec["steps"], spec["checkpoint_at"]
        every = ["experiment.training.val_every_n_steps=%d" % spec["val_every"],
                 f"experiment.training.checkpointing.across_timesteps.every_n_train_steps={at}",
                 f"experiment.training.checkpointing.latest.every_n_train_steps={at}"]
        entry["trained"] = dict(
            model=spec["arch"], steps=steps, validation_every=spec["val_every"], checkpoint_at=at, batch=spec["batch"],
            frames=spec["frames"], data=f"the built-in wall environment's {spec['size']}×{spec['size']} RGB frames as pixel "
            f"latents (latent_codec=pixel, 3 channels, patch {spec['patch']})",
            mixed_precision=bool(spec.get("mixed_precision")),
            instead_of=("the issue's 32×32×4 SD-VAE latents: encoding needs an exported SD-VAE (~335 MB of weights, "
                        "checkpoints/README.md), which does not travel with the tree; the pixel frames give the same 256 "
                        "tokens a frame at patch 2 (3 input channels instead of 4)") if not self.cpu else
                       "the toy stands for B/2 on 32×32 latents")
        device = ["--device", self.device]
        straight = self.path("train-straight")
        first = require(self.nanowm_run(["train", "--run-dir", straight] + device + self.training_overrides(spec, steps, every),
                                        left(), label="train"), "straight training run")
        checkpoint = one_file(os.path.join(straight, "checkpoints", "across_timesteps"), f"*step={at}.ckpt")
        resumed = self.path("train-resumed")
        second = require(self.nanowm_run(["train", "--run-dir", resumed] + device + self.training_overrides(
            spec, steps, every + [f"experiment.resume_from_checkpoint={checkpoint}"]), left(), label="train"), "resumed training run")
        a, b = read_scalars(os.path.join(straight, "train.log")), read_scalars(os.path.join(resumed, "train.log"))
        entry["straight_seconds"], entry["resumed_seconds"] = round(first.seconds, 2), round(second.seconds, 2)
        validations = sorted(s for s, v in a.items() if "val_loss" in v)
        entry["validation_steps"] = validations
        entry["losses"] = {str(s): a[s] for s in sorted(a) if s in (1, at, steps) or s in validations}
        import torch
        final_a = one_file(os.path.join(straight, "checkpoints", "across_timesteps"), f"*step={steps}.ckpt")
        final_b = one_file(os.path.join(resumed, "checkpoints", "across_timesteps"), f"*step={steps}.ckpt")
        ca = torch.load(final_a, map_location="cpu", weights_only=True)
        cb = torch.load(final_b, map_location="cpu", weights_only=True)
        weights = compare_tensors(ca["state_dict"], cb["state_dict"])
        optimizer = compare_tensors(flatten(ca.get("optimizer_states")), flatten(cb.get("optimizer_states")))
        resumed_steps = [s for s in range(at + 1, steps + 1)]
        loss_diff = max((abs(a[s]["train_loss"] - b[s]["train_loss"]) for s in resumed_steps if s in a and s in b), default=None)
        entry["resumed_vs_straight"] = dict(
            final_weights=weights, optimizer_state=optimizer, logged_steps_compared=sum(1 for s in resumed_steps if s in a and s in b),
            max_train_loss_difference=loss_diff,
            note="train_loss as train.log prints it (6 significant digits); weights and optimizer state from the step-%d checkpoints" % steps)
        self.log(f"training: resumed vs straight: weights {weights}, optimizer {optimizer}, train_loss Δ ≤ {loss_diff}")
        problems = []
        if validations != list(range(spec["val_every"], steps + 1, spec["val_every"])):
            problems.append(f"validation at steps {validations}")
        if any(not math.isfinite(v.get("train_loss", math.nan)) for v in a.values()):
            problems.append("a non-finite loss")
        if weights["keys_differ"] or not weights["finite"]:
            problems.append("the checkpoints' weights do not match key for key, or are not finite")
        if self.cpu:
            entry["expectation"] = "CPU: the resumed run equals the straight one bit for bit"
            if not (weights["bitwise_equal"] and optimizer["bitwise_equal"] and loss_diff == 0):
                problems.append("the resumed run differs from the straight one on the CPU")
        else:
            entry["expectation"] = ("GPU: reported, not required equal (cuDNN and atomics may reorder sums); a relative weight "
                                    "difference above 1e-2 is taken for a broken resume")
            if weights["max_rel_difference"] > 1e-2:
                problems.append(f"the resumed weights are {weights['max_rel_difference']:.3g} away (relative) from the straight run's")
        if problems:
            raise StepFailed("; ".join(problems))

    def group(self, entry, left):
        spec = dict(self.plan["training"], overrides=self.plan["group"]["overrides"], mixed_precision=False)
        steps = self.plan["group"]["steps"]
        run = self.path("group")
        expected = "gloo" if self.cpu else "nccl"
        argv = [self.python, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1", "--no-python", self.nanowm,
                "train", "--run-dir", run, "--device", self.device, "--dist-timeout", "60"] + self.training_overrides(
            spec, steps, ["experiment.training.val_every_n_steps=1000", "experiment.training.checkpointing.latest.every_n_train_steps=1000"])
        result = require(run_command(self.log, argv, left(), cwd=self.work, label="group"), "torchrun --nproc-per-node 1 nanowm train")
        match = re.search(r"data-parallel: (\d+) process(?:es)? \((\w+)\)", result.output)
        entry["launcher"] = "torchrun --standalone --nproc-per-node 1 --no-python nanowm train"
        entry["world_size"], entry["backend"] = (int(match.group(1)), match.group(2)) if match else (None, None)
        entry["expected_backend"] = expected
        scalars = read_scalars(os.path.join(run, "train.log"))
        entry["steps_logged"] = len(scalars)
        if entry["backend"] != expected or entry["world_size"] != 1:
            raise StepFailed(f"expected a group of one over {expected}; the run said {match.group(0) if match else 'nothing about a group'}")
        if len(scalars) != steps:
            raise StepFailed(f"{len(scalars)} of {steps} steps logged")

    def throughput(self, entry, left):
        spec = self.plan["throughput"]
        if spec["arch"]:
            kwargs = dict(STANDARD, in_channels=spec["channels"], action_dim=spec["action_dim"], num_frames=spec["frames"],
                          input_size=spec["size"])
            reference = dict(arch=spec["arch"], kwargs=kwargs)
            variant = dict(B="nanowm_b2", S="nanowm_s2")[spec["arch"].split("-")[1][0]]
            overrides = [f"model={variant}"]
            patch = int(spec["arch"].split("/")[1])
        else:
            kwargs = dict(input_size=spec["size"], patch_size=spec["patch"], in_channels=spec["channels"], hidden_size=spec["hidden"],
                          depth=spec["depth"], num_heads=spec["heads"], mlp_ratio=4.0, num_frames=spec["frames"], num_classes=1000,
                          extras=1, use_action=True, action_dim=spec["action_dim"], action_injection_type="additive", causal=True)
            reference = dict(arch=None, kwargs=kwargs)
            overrides = [f"model.hidden_size={spec['hidden']}", f"model.depth={spec['depth']}", f"model.num_heads={spec['heads']}"]
            patch = spec["patch"]
        bf16 = not self.cpu
        entry["setup"] = dict(model=spec["arch"] or f"toy D{spec['hidden']}x{spec['depth']}", batch=spec["batch"], frames=spec["frames"],
                              input=f"{spec['size']}×{spec['size']}×{spec['channels']}", patch=patch, bf16=bf16,
                              sampling=dict(batch=spec["sample_batch"], context_frames=1, steps=spec["sample_steps"], precision="float32"))
        # nanowm: a training run without validation, its step time read from the progress lines'
        # arrival times between 20 % and 90 % of the run (warm-up and the final save left out).
        train_spec = dict(self.plan["training"], patch=patch, batch=spec["batch"], frames=spec["frames"], size=spec["size"],
                          overrides=overrides, mixed_precision=bf16)
        steps = spec["train_steps"]
        result = require(self.nanowm_run(["train", "--run-dir", self.path("throughput-train"), "--device", self.device]
                                         + self.training_overrides(train_spec, steps, [
                                             f"experiment.training.val_every_n_steps={steps * 10}",
                                             f"experiment.training.checkpointing.latest.every_n_train_steps={steps * 10}",
                                             f"experiment.training.checkpointing.across_timesteps.every_n_train_steps={steps * 10}"]),
                                         left(), label="throughput"), "nanowm train (throughput)")
        progress = [(t, int(m.group(1))) for t, line in result.stream("stderr")
                    for m in [re.match(r"train \[[#-]+\] (\d+)/%d" % steps, line)] if m]
        window = [(t, d) for t, d in progress if steps * 0.2 <= d <= steps * 0.9]
        if len(window) < 2:
            raise StepFailed(f"too few progress lines to time nanowm's steps: {progress}")
        (t0, d0), (t1, d1) = window[0], window[-1]
        nanowm_step = (t1 - t0) / (d1 - d0)
        intervals = sorted((tb - ta) / (db - da) for (ta, da), (tb, db) in zip(window, window[1:]) if db > da)
        median_step = intervals[len(intervals) // 2]
        parameters = model_parameters(self, spec, kwargs, patch, left)
        flops = training_flops(parameters, spec["batch"], spec["frames"], (spec["size"] // patch) ** 2,
                               kwargs.get("hidden_size") or dict(S=384, B=768)[spec["arch"].split("-")[1][0]],
                               kwargs.get("depth") or 12)
        entry["flops"] = flops
        peak = None if self.cpu else GPU_BF16_PEAK
        entry["peak_flops"] = peak
        entry["peak_note"] = ("no peak for a CPU: FLOP/s are reported, utilisation is not" if self.cpu else
                              "H200 dense bf16 tensor-core peak, 989 TFLOP/s (NVIDIA data sheet)")

        def rate(seconds):
            achieved = flops["per_step"] / seconds
            return dict(seconds_per_step=seconds, flops_per_second=achieved, mfu=(achieved / peak) if peak else None)

        entry["training"] = {"nanowm": dict(rate(nanowm_step), timed_steps=d1 - d0, median_interval_seconds_per_step=median_step,
                                            measured="arrival of the progress lines at steps %d→%d (mean; the median of "
                                                     "the intervals between lines beside it)" % (d0, d1))}
        reference_spec = dict(reference, batch=spec["batch"], context=1)
        eager = self.worker("train_bench", dict(spec=reference_spec, bf16=bf16, warmup=spec["warmup"], timed=spec["timed"]), left(),
                            "throughput")
        entry["training"]["reference_eager"] = dict(rate(eager["seconds_per_step"]), **eager)
        entry["training"]["nanowm_over_reference_eager"] = nanowm_step / eager["seconds_per_step"]
        # Sampling: nanowm's frames/s from the arrival times of its progress lines (one line a
        # denoising row, or every 10 %), from the first to the last, scaled to the whole call:
        # start-up and loading fall outside; on a GPU the last line may precede the last kernels
        # by the launch queue's depth (a forward pass or two).
        sample_spec = dict(reference, batch=spec["sample_batch"], context=1, steps=spec["sample_steps"],
                           weights=self.path("throughput.weights.safetensors"), input=self.path("throughput.clip.safetensors"))
        write_random_model(self, sample_spec, left)
        generated = spec["sample_batch"] * (spec["frames"] - 1)
        entry["sampling"] = {}
        for label, extra in [("nanowm_cached", []), ("nanowm_uncached", ["--no-cache"])]:
            r = require(self.nanowm_run(["sample", "--checkpoint", sample_spec["weights"], "--causal", "true", "--device", self.device,
                                         "--input", sample_spec["input"], "--output", self.path("throughput.samples.safetensors"),
                                         "--steps", str(spec["sample_steps"]), "--mode", "sequential", "--seed", "1", "--pred", "v",
                                         "--schedule", "squaredcos_cap_v2", "--ztsnr", "true", "--history-stabilization", "0.02"]
                                        + extra, left(), label="throughput"), "nanowm sample (throughput)")
            rows = [(t, int(m.group(1)), int(m.group(2))) for t, line in r.stream("stderr")
                    for m in [re.match(r"sample \[[#-]+\] (\d+)/(\d+)", line)] if m]
            if len(rows) < 2:
                raise StepFailed(f"too few progress lines to time nanowm's sampling: {rows}")
            (t0, d0, total), (t1, d1, _) = rows[0], rows[-1]
            per_call = (t1 - t0) * total / (d1 - d0)
            entry["sampling"][label] = dict(frames_per_second=generated / per_call, seconds_per_call=per_call, process_seconds=r.seconds,
                                            measured=f"progress lines at rows {d0}→{d1} of {total}, scaled to {total}")
        ref_sampling = self.worker("sample_bench", dict(spec=sample_spec, runs=2), left(), "throughput")
        entry["sampling"]["reference_eager"] = ref_sampling
        entry["sampling"]["generated_frames_per_call"] = generated
        self.log("throughput: " + json.dumps({k: entry[k] for k in ("training", "sampling")}, default=str))

    def play(self, entry, left):
        """`nanowm play`'s generation speed (issue #25 item 4), measured through `nanowm rollout`,
        which samples frame by frame exactly as play does (the same sliding-window sampler, one
        clip, `--history` frames of context in the model's window, cached unless --no-cache)."""
        import torch
        spec = self.plan["play"]
        k = spec["kwargs"]
        history, window, generated = spec["history"], k["num_frames"], spec["frames"]
        patch = k.get("patch_size") or int(spec["arch"].split("/")[1])
        tokens = (k["input_size"] // patch) ** 2
        weights, clip = self.path("play.weights.safetensors"), self.path("play.clip.safetensors")
        _, model_module, _, _ = load_reference(self.reference)
        torch.manual_seed(2950)
        model = build_reference(model_module, spec)
        randomize(model, 2950)
        parameters = sum(p.numel() for p in model.parameters())
        write_safetensors(weights, dict(model.state_dict()))
        del model
        g = torch.Generator().manual_seed(2951)
        write_safetensors(clip, {"context": torch.randn(1, history, k["in_channels"], k["input_size"], k["input_size"], generator=g),
                                 "action": torch.randn(1, history + generated, k["action_dim"], generator=g)})
        target = 30.0
        entry["issue"] = "#25 item 4: B/2 in SD-VAE latents at 256² playable at ≥ 30 frames/s on one H200"
        entry["setup"] = dict(
            model=spec["label"], parameters=parameters, latents=f"{k['input_size']}×{k['input_size']}×{k['in_channels']}",
            tokens_a_frame=tokens, batch=1, window=window, history=history, generated_frames=generated,
            sampler="sequential DDIM, η 0, v-prediction, squaredcos_cap_v2 with zero terminal SNR, history stabilisation 0.02",
            causal=True, actions=f"{k['action_dim']}-d additive", random_weights=True,
            command=f"nanowm rollout --frames {history + generated} --history {history} --steps S [--no-cache] (play's sampler, "
                    "frame by frame, one clip)",
            precision=("float32 with TF32 matrix products on CUDA (nanowm sets set_float32_matmul_precision('high') for a "
                       "model on CUDA, as the reference's rollout.py and main.py do)" if not self.cpu else "float32"),
            stands_for=None if not self.cpu else "B/2 on 32×32×4 latents; toy sizes on the CPU, so the target does not apply")
        entry["target_frames_per_second"] = target
        entry["excluded"] = ("model only: decoding each 256² frame with the SD-VAE decoder is not included (the 198 MB decoder "
                             "export and diffusers do not travel to the GPU machine), nor play's PNG encoding and WebSocket; "
                             "the frame rate a player sees, with decoding, is lower than these numbers")
        entry["measured"] = ("nanowm: arrival times of `rollout` progress lines (one every 10 % of the frames) from the first to "
                             "the last, so start-up, loading and the first ~10 % of frames (warm-up) fall outside; on a GPU the "
                             "last line may precede the last frame's kernels by the launch queue's depth. Reference: "
                             "perf_counter around its loop after warm-up frames, with a device synchronisation at the end")
        entry["comparison"] = "open-oasis reaches about 2 frames/s on an H100 (the issue's figure, not measured here)"
        entry["nanowm"], failures = {}, []
        startup = {}
        # On a CPU, play gives the model all cores but one (the server's); so do both sides here.
        # (Two OpenMP threads on 2 busy cores spin: 2-14 frames/s where one thread makes 60.)
        threads = max(1, (os.cpu_count() or 1) - 1) if self.cpu else None
        if threads:
            entry["setup"]["cpu_threads"] = threads

        def gen_flops(steps, cached):
            # 2·N per token of each forward pass; attention's own products are left out (under 2 % here).
            passes = (history + steps) * tokens if cached else steps * window * tokens
            return 2 * parameters * passes

        def nanowm_rate(steps, cached):
            path = "cached" if cached else "uncached"
            output = self.path(f"play.{steps}.{path}.safetensors")
            r = self.nanowm_run(["rollout", "--checkpoint", weights, "--causal", "true", "--device", self.device, "--input", clip,
                                 "--output", output, "--frames", str(history + generated), "--history", str(history),
                                 "--steps", str(steps), "--mode", "sequential", "--seed", "1", "--pred", "v",
                                 "--schedule", "squaredcos_cap_v2", "--ztsnr", "true", "--history-stabilization", "0.02"]
                                + ([] if cached else ["--no-cache"]), left(),
                                env={"OMP_NUM_THREADS": str(threads)} if threads else None, label="play")
            require(r, f"nanowm rollout ({steps} steps, {path})")
            rows = [(t, int(m.group(1))) for t, line in r.stream("stderr")
                    for m in [re.match(r"rollout \[[#-]+\] (\d+)/%d" % generated, line)] if m]
            if len(rows) < 2 or rows[-1][1] <= rows[0][1]:
                raise StepFailed(f"too few progress lines to time nanowm rollout ({steps} steps, {path}): {rows}")
            (t0, d0), (t1, d1) = rows[0], rows[-1]
            samples = read_safetensors(output)["samples"]
            if list(samples.shape) != [1, history + generated, k["in_channels"], k["input_size"], k["input_size"]] \
                    or not bool(samples.isfinite().all()):
                raise StepFailed(f"nanowm rollout ({steps} steps, {path}) wrote {list(samples.shape)} samples, or non-finite ones")
            fps = (d1 - d0) / (t1 - t0)
            startup[path] = max(0.0, r.seconds - generated / fps)
            flops = gen_flops(steps, cached)
            return dict(frames_per_second=fps, ms_per_frame=1000 / fps, timed_frames=d1 - d0, process_seconds=round(r.seconds, 2),
                        approx_flops_per_frame=flops, approx_flops_per_second=flops * fps,
                        meets_target=(fps >= target) if not self.cpu else None,
                        measured=f"progress lines at frames {d0}→{d1} of {generated}")

        def record(steps, cached):
            path = "cached" if cached else "uncached"
            try:
                entry["nanowm"].setdefault(str(steps), {})[path] = result = nanowm_rate(steps, cached)
                self.log(f"play: nanowm {steps} steps {path}: {result['frames_per_second']:.1f} frames/s "
                         f"({result['ms_per_frame']:.1f} ms a frame)")
            except StepFailed as e:
                entry["nanowm"].setdefault(str(steps), {})[path] = dict(error=str(e))
                failures.append(str(e))

        def estimate(steps, cached):
            """Seconds a nanowm run at `steps` should take, from the first steps count's run."""
            first = entry["nanowm"].get(str(spec["steps"][0]), {}).get("cached" if cached else "uncached", {})
            if "ms_per_frame" not in first:
                return math.inf
            return startup["cached" if cached else "uncached"] + generated * first["ms_per_frame"] / 1000 * steps / spec["steps"][0]

        main, optional = spec["steps"][0], spec["steps"][1:]
        record(main, True)
        record(main, False)
        # The reference, given what the optional nanowm runs should leave it (they run after it).
        reserve = sum(1.3 * estimate(s, c) for s in optional for c in (True, False))
        reserve = reserve if math.isfinite(reserve) else 0.0
        runs = [(False, main)] + ([(True, main)] if not self.cpu else []) + [(False, s) for s in optional]
        try:
            job = dict(spec=spec, runs=runs, soft_deadline=time.time() + left() - reserve)
            if threads:
                job["threads"] = threads
            ref = self.worker("play_bench", job, left(), "play")
            failures += [f"reference at {key} steps: {r['error']}" for key, r in ref["results"].items() if "error" in r]
            entry["reference_eager"] = dict(ref["results"], setup=(
                "the loop of the reference's src/sample/rollout.py: dfot_sample over the window for each frame, "
                "n_generate_frames=1 (uncached; the reference has no cache), eager PyTorch, float32; 'S tf32' with TF32 "
                "matrix products, as rollout.py allows them, the others with PyTorch's default, none (nanowm's arithmetic)"))
        except StepFailed as e:
            entry["reference_eager"] = dict(error=str(e))
            failures.append(str(e))
        for steps in optional:
            for cached in (True, False):
                need = estimate(steps, cached)
                if not math.isfinite(need):
                    entry["nanowm"].setdefault(str(steps), {})["cached" if cached else "uncached"] = dict(
                        skipped=f"left out: the {main}-step run, which sizes it, failed")
                    continue
                if left() < 1.3 * need + 2:
                    entry["nanowm"].setdefault(str(steps), {})["cached" if cached else "uncached"] = dict(
                        skipped=f"left out: about {need:.0f} s needed, {left():.0f} s of the step's time left")
                    continue
                record(steps, cached)
        ratios, cache_gain = {}, {}
        for steps, paths in entry["nanowm"].items():
            # Like against like: on CUDA nanowm runs TF32 matmuls, so its ratio is to the reference's TF32 run.
            timed = entry.get("reference_eager", {})
            reference = (timed.get(f"{steps} tf32") or timed.get(steps) or {}).get("frames_per_second")
            for path, result in paths.items():
                if reference and "frames_per_second" in result:
                    ratios[f"{steps} steps {path}"] = result["frames_per_second"] / reference
            if "frames_per_second" in paths.get("cached", {}) and "frames_per_second" in paths.get("uncached", {}):
                cache_gain[f"{steps} steps"] = paths["cached"]["frames_per_second"] / paths["uncached"]["frames_per_second"]
        entry["nanowm_over_reference_eager"] = ratios
        entry["cached_over_uncached"] = cache_gain
        main_rate = entry["nanowm"].get(str(main), {}).get("cached", {}).get("frames_per_second")
        entry["verdict"] = ("toy sizes on the CPU: no verdict on the target" if self.cpu else
                            None if main_rate is None else
                            f"{main_rate:.1f} frames/s cached at {main} steps: "
                            + ("meets" if main_rate >= target else "misses") + f" the {target:.0f} frames/s target (model only)")
        entry["target_note"] = "reported, not required: the step fails only when a run fails, not for a missed target"
        self.log("play: " + json.dumps({"nanowm": entry["nanowm"], "reference_eager": entry.get("reference_eager"),
                                        "over_reference": ratios, "cached_over_uncached": cache_gain}, default=str))
        if failures:
            raise StepFailed("; ".join(failures))

    def compiled_reference(self):
        spec = self.plan["throughput"]
        kwargs = dict(STANDARD, in_channels=spec["channels"], action_dim=spec["action_dim"], num_frames=spec["frames"], input_size=spec["size"])
        return spec, dict(arch=spec["arch"], kwargs=kwargs)

    def compile_training(self, entry, left):
        if self.cpu:
            entry["reason"] = "torch.compile is measured on the GPU only (on 2 CPU cores it compiles for minutes and says nothing about the GPU)"
            return "skipped"
        spec, reference = self.compiled_reference()
        base = self.steps.get("throughput", {})
        flops = base.get("flops", {}).get("per_step")
        compiled = self.worker("train_bench", dict(spec=dict(reference, batch=spec["batch"], context=1), bf16=True, compile=True,
                                                   warmup=spec["warmup"], timed=spec["timed"]), left(), "compile")
        entry["reference_compiled"] = dict(compiled, flops_per_second=(flops / compiled["seconds_per_step"]) if flops else None,
                                           mfu=(flops / compiled["seconds_per_step"] / GPU_BF16_PEAK) if flops else None)
        nanowm = base.get("training", {}).get("nanowm", {}).get("seconds_per_step")
        if nanowm:
            entry["nanowm_over_reference_compiled"] = nanowm / compiled["seconds_per_step"]

    def compile_sampling(self, entry, left):
        if self.cpu:
            entry["reason"] = "torch.compile is measured on the GPU only"
            return "skipped"
        spec, reference = self.compiled_reference()
        sample_spec = dict(reference, batch=spec["sample_batch"], context=1, steps=spec["sample_steps"])
        entry["reference_compiled"] = self.worker("sample_bench", dict(spec=sample_spec, compile=True, runs=2), left(), "compile")

    # -- the run --------------------------------------------------------------------------------

    def run(self):
        self.log(f"device check: {self.report['mode']}, nanowm {self.nanowm}, reference {self.reference}, work folder {self.work}")
        try:
            self.environment()
            if self.args.build_shim:
                self.step("build-shim", self.build_shim)
            self.step("doctor", self.doctor)
            self.step("parity", self.parity)
            self.step("sampling", self.sampling)
            self.step("training", self.training)
            self.step("group", self.group)
            self.step("throughput", self.throughput)
            self.step("play", self.play)
            self.step("compile-training", self.compile_training)
            self.step("compile-sampling", self.compile_sampling)
        finally:
            failed = [name for name, s in self.steps.items() if s["status"] == "failed"]
            skipped = [name for name, s in self.steps.items() if s["status"] == "skipped"]
            # A step the budget left out did not pass: the check is incomplete.
            unrun = [name for name in skipped if self.steps[name].get("reason", "").startswith("budget")]
            self.report.update(
                finished=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                seconds=round(time.monotonic() - self.start, 1), failed_steps=failed, skipped_steps=skipped,
                steps_left_out_by_the_budget=unrun, passed=not failed and not unrun and bool(self.steps), summary=self.summary())
            with open(os.path.join(self.out, "device-check.json.partial"), "w") as f:
                json.dump(self.report, f, indent=2, default=str)
            os.replace(os.path.join(self.out, "device-check.json.partial"), os.path.join(self.out, "device-check.json"))
            self.log("summary: " + json.dumps(self.report["summary"], default=str))
            self.log(f"device check {'passed' if self.report['passed'] else 'FAILED: ' + ', '.join(failed + unrun)} in "
                     f"{self.report['seconds']:.0f} s; {os.path.join(self.out, 'device-check.json')}")
            self.log.close()
            if not self.args.keep_work:
                shutil.rmtree(self.work, ignore_errors=True)
        return 0 if self.report["passed"] else 1

    def summary(self):
        s = {name: step["status"] for name, step in self.steps.items()}
        with contextlib.suppress(Exception):
            for label, model in self.steps["parity"]["models"].items():
                s[f"parity {label}"] = dict(forward_max_abs=model["forward"]["max_abs_vs_reference"],
                                            forward_ratio_to_tolerance=model["forward"]["distance_to_f64"] / model["forward"]["tolerance"],
                                            grad_worst_ratio_to_tolerance=model["gradients"]["worst"]["distance_to_f64"] / model["gradients"]["worst"]["tolerance"])
        with contextlib.suppress(Exception):
            s["sampling max_abs (uncached, cached)"] = [self.steps["sampling"][k]["max_abs_vs_reference"] for k in ("uncached", "cached")]
        with contextlib.suppress(Exception):
            r = self.steps["training"]["resumed_vs_straight"]
            s["resume: weights max_abs, bitwise"] = [r["final_weights"]["max_abs_difference"], r["final_weights"]["bitwise_equal"]]
        with contextlib.suppress(Exception):
            t = self.steps["throughput"]
            s["train s/step nanowm, reference eager"] = [t["training"]["nanowm"]["seconds_per_step"], t["training"]["reference_eager"]["seconds_per_step"]]
            s["mfu nanowm, reference eager"] = [t["training"]["nanowm"]["mfu"], t["training"]["reference_eager"]["mfu"]]
            s["sample frames/s nanowm cached, uncached, reference eager"] = [
                t["sampling"]["nanowm_cached"]["frames_per_second"], t["sampling"]["nanowm_uncached"]["frames_per_second"],
                t["sampling"]["reference_eager"]["frames_per_second"]]
        with contextlib.suppress(Exception):
            p = self.steps["play"]
            main = str(self.plan["play"]["steps"][0])
            s[f"play frames/s at {main} steps nanowm cached, uncached, reference eager (target 30, model only)"] = [
                p["nanowm"][main].get("cached", {}).get("frames_per_second"), p["nanowm"][main].get("uncached", {}).get("frames_per_second"),
                p.get("reference_eager", {}).get(main, {}).get("frames_per_second")]
        with contextlib.suppress(Exception):
            c = self.steps["compile-training"]["reference_compiled"]
            s["reference compiled: train s/step, mfu"] = [c["seconds_per_step"], c["mfu"]]
        with contextlib.suppress(Exception):
            s["reference compiled: sample frames/s"] = self.steps["compile-sampling"]["reference_compiled"]["frames_per_second"]
        return s


# ---------------------------------------------------------------------------------------------
# Helpers of the steps
# ---------------------------------------------------------------------------------------------

def fmt(a):
    if "distance_to_f64" not in a:
        return a.get("error", "?")
    return ("%s: max|Δ f64| %.3g (reference's own %.3g, allowed %.3g), max|Δ reference| %.3g%s" % (
        "ok" if a["holds"] else "OUTSIDE", a["distance_to_f64"], a["reference_f32_error"], a["tolerance"],
        a["max_abs_vs_reference"], ", bitwise equal" if a["bitwise_equal"] else ""))


def git(folder, *arguments):
    try:
        out = subprocess.run(["git", "-C", folder] + list(arguments), capture_output=True, text=True, timeout=20)
        return out.stdout.strip() if out.returncode == 0 else None
    except Exception:
        return None


def one_file(folder, pattern):
    found = sorted(glob.glob(os.path.join(folder, pattern)))
    if len(found) != 1:
        raise StepFailed(f"expected one {pattern} in {folder}, found {[os.path.basename(f) for f in found]}")
    return found[0]


def read_scalars(path):
    """train.log's per-step scalars: {step: {name: value}}."""
    scalars = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.search(r"\bstep (\d+): (.*)$", line)
            if not m:
                continue
            values = {}
            for name, value in re.findall(r"(\S+) (-?[0-9.]+(?:e[-+]?\d+)?|nan|inf|-inf)", m.group(2)):
                with contextlib.suppress(ValueError):
                    values[name] = float(value)
            scalars[int(m.group(1))] = values
    return scalars


def flatten(value, prefix=""):
    """The tensors of a nested checkpoint entry, by path."""
    import torch
    out = {}
    if isinstance(value, torch.Tensor):
        out[prefix] = value
    elif isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}.{i}" if prefix else str(i)))
    return out


def compare_tensors(a, b):
    import torch
    a, b = a or {}, b or {}
    common = sorted(set(a) & set(b))
    max_abs, max_rel, equal, finite = 0.0, 0.0, True, True
    for k in common:
        x, y = a[k], b[k]
        if x.shape != y.shape or x.dtype != y.dtype:
            equal = False
            continue
        if not torch.equal(x, y):
            equal = False
        if x.is_floating_point():
            d = (x.double() - y.double()).abs()
            finite = finite and bool(x.isfinite().all()) and bool(y.isfinite().all())
            if d.numel():
                max_abs = max(max_abs, float(d.max()))
                max_rel = max(max_rel, float(d.max()) / max(float(x.double().abs().max()), 1e-12))
    return dict(tensors=len(common), keys_differ=set(a) != set(b), bitwise_equal=equal and set(a) == set(b),
                max_abs_difference=max_abs, max_rel_difference=max_rel, finite=finite)


def model_parameters(check, spec, kwargs, patch, left):
    """The model's parameter count from `nanowm model info` (a named variant) or the toy's
    reference construction on the meta device."""
    if spec["arch"]:
        result = require(check.nanowm_run(["model", "info", spec["arch"], "--input-size", str(spec["size"]), "--channels",
                                           str(spec["channels"]), "--frames", str(spec["frames"]), "--action-dim", str(spec["action_dim"])],
                                          left(), label="throughput"), "nanowm model info")
        m = re.search(r"parameters: (\d+)", result.output)
        if not m:
            raise StepFailed("nanowm model info printed no parameter count")
        return int(m.group(1))
    import torch
    _, model_module, _, _ = load_reference(check.reference)
    with torch.device("meta"):
        model = model_module.NanoWM(**kwargs)
    return sum(p.numel() for p in model.parameters())


def training_flops(parameters, batch, frames, tokens_per_frame, hidden, depth):
    """FLOPs of one training step (forward + backward = 3 × forward), analytically:
    6·N·T for the parameters' matrix products (N parameters, T = B·F·L tokens), plus attention's
    two products QKᵀ and AV at 3·4·D per query-key pair: spatial blocks (depth/2) attend within a
    frame (L² pairs for each of B·F frames), temporal blocks (depth/2) across frames (F² pairs for
    each of B·L positions; causal masking is not subtracted)."""
    tokens = batch * frames * tokens_per_frame
    dense = 6 * parameters * tokens
    spatial = 3 * (depth // 2) * 4 * hidden * tokens_per_frame ** 2 * batch * frames
    temporal = 3 * (depth - depth // 2) * 4 * hidden * frames ** 2 * batch * tokens_per_frame
    return dict(per_step=dense + spatial + temporal, dense=dense, attention=spatial + temporal, parameters=parameters, tokens=tokens,
                formula="6·N·T + 12·D·(depth/2)·(B·F·L² + B·L·F²); N parameters, T = B·F·L tokens, L tokens a frame, D width")


def write_random_model(check, spec, left):
    """Weights and a context clip for nanowm's throughput sampling runs."""
    import torch
    _, model_module, _, _ = load_reference(check.reference)
    torch.manual_seed(2900)
    model = build_reference(model_module, spec)
    randomize(model, 2900)
    write_safetensors(spec["weights"], dict(model.state_dict()))
    k = spec["kwargs"]
    g = torch.Generator().manual_seed(2901)
    write_safetensors(spec["input"], {
        "context": torch.randn(spec["batch"], 1, k["in_channels"], k["input_size"], k["input_size"], generator=g),
        "action": torch.randn(spec["batch"], k["num_frames"], k["action_dim"], generator=g)})


# ---------------------------------------------------------------------------------------------

def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu", action="store_true", help="toy sizes on this machine's CPU")
    parser.add_argument("--nanowm", required=True, help="the nanowm binary (e.g. BUNDLE/bin/nanowm)")
    parser.add_argument("--reference", required=True, help="a checkout of simchowitzlabpublic/nano-world-model")
    parser.add_argument("--out", default=os.environ.get("OUT") or "device-check-out",
                        help="where device-check.json and device-check.log go (default: $OUT, else ./device-check-out)")
    parser.add_argument("--python", default=sys.executable, help="the Python with torch that runs the reference (default: this one)")
    parser.add_argument("--budget-seconds", type=float, default=480.0, help="the whole run's time (default 480)")
    parser.add_argument("--build-shim", metavar="COMMAND",
                        help="run this command first, as a timed step (e.g. \".bundle/nanowm/build-shim NCCL=1\")")
    parser.add_argument("--keep-work", action="store_true", help="keep the work folder (weights, runs) instead of deleting it")
    args = parser.parse_args()
    if not os.access(args.nanowm, os.X_OK):
        parser.error(f"--nanowm {args.nanowm} is not an executable")
    if not os.path.isfile(os.path.join(args.reference, "src", "models", "nanowm.py")):
        parser.error(f"--reference {args.reference} is not a nano-world-model checkout (no src/models/nanowm.py)")
    return Check(args).run()


if __name__ == "__main__":
    sys.exit(main())
