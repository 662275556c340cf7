import Foundation
import NanoWM
import SwiftTorch
import NanoWMCore

/// Time of one MPC planning step (one CEM `plan` call: every iteration's samples rolled out
/// through the world model and scored) against upstream's `CEMPlanner.plan` with its
/// `DiffusionWorldModel`, on the same tiny model, start and goal (pixel latents, identity codec),
/// same threads. Upstream's planner settings: the 1000-step process sampled in `steps` DDIM steps,
/// full_sequence windows, history stabilisation 0.02, objective `last`/mse. Before timing, the
/// two plans for the same seed are compared once.
func benchPlanning(threads: Int, reference: String?, steps: Int) throws {
    guard let reference = try checkedReference(reference, suite: "plan") else { return }
    try Torch.setNumThreads(threads)
    let config = NanoWMConfig(inputSize: 16, patchSize: 4, inChannels: 3, hiddenSize: 64, depth: 2, numHeads: 4,
                              numFrames: 4, useAction: true, actionDim: 2, causal: true)
    let (samples, topK, iterations, horizon, seed): (Int, Int, Int, Int, UInt64) = (32, 8, 3, 3, 77)
    let bench = try BenchModel(config, seed: 500)
    bench.model.eval()
    try manualSeed(501)
    let start = try Tensor.rand([1, 1, 3, 16, 16]) * 2.0 - 1.0, goal = try Tensor.rand([1, 1, 3, 16, 16]) * 2.0 - 1.0
    let shared = try bench.write(inputs: ["start": start, "goal": goal], name: "plan")
    defer { removeBenchFiles(shared) }
    var setup = SamplingSetup()
    setup.respaced = false
    setup.options.mode = .fullSequence
    setup.options.steps = steps
    let (process, options) = try setup.make(device: .cpu)
    let world = try PlanningWorldModel(model: bench.model, codec: PixelCodec(), process: process, options: options)
    var settings = CEMPlanner.Settings()
    (settings.numSamples, settings.topK, settings.iterations) = (samples, topK, iterations)
    let objective = try PlanningObjective()
    let goalLatent = try goal.flatten(start: 2)
    let planner = try CEMPlanner(settings: settings, horizon: horizon, actionDimension: 2) { actions in
        try objective(try world.rollout(start: try start.expand([actions.shape[0], 1, 3, 16, 16]), actions: actions), goal: goalLatent)
    }
    let planPath = shared + ".samples.safetensors"
    // dfot_sample draws a tqdm bar on stderr every window; it is silenced on both the checked and the timed runs.
    let statement = """
    import contextlib, io
    torch.manual_seed(\(seed))
    with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
        mu, info = planner.plan({'visual': start}, {'visual': goal})
    """
    let torchSetup = referenceModelSetup(reference: reference, config: config, shared: shared) + """
    import make_planning_fixtures as mpf
    pref = mpf.load_planning(\(pythonString(reference)))
    model.eval()
    start, goal = data['start'], data['goal']
    cfg = mpf.mdf._Cfg(model=mpf.mdf._Cfg(num_frames=4, n_context_frames=1, scheduling_mode='full_sequence',
                                           num_sampling_steps=\(steps)),
                       experiment=mpf.mdf._Cfg(infra=mpf.mdf._Cfg(vae_precision='fp32'),
                                               diffusion=mpf.mdf._Cfg(history_stabilization_level=0.02)))
    world = pref.dwm.DiffusionWorldModel(model, mpf.IdentityCodec(), mpf.mdf.create_diffusion(pref, 'v'), cfg)
    planner = pref.cem.CEMPlanner(world_model=world, objective_fn=pref.objective.create_objective_fn(mode='last'),
                                  action_dim=2, horizon=\(horizon), num_samples=\(samples), topk=\(topK),
                                  opt_steps=\(iterations), eval_every=10**6, device='cpu')
    \(statement)
    save_file({'mu': mu[0].contiguous()}, \(pythonString(planPath)))

    """
    let name = "CEM \(samples) samples × \(iterations) iterations, horizon \(horizon), \(steps) DDIM steps"
    let torch = try runTorchBaseline([
        "threads": threads,
        "cases": [["name": name, "setup": "import types\n" + torchSetup, "stmt": statement, "iters": 1]],
    ])
    try manualSeed(seed)
    let ours = try withNoGrad { try planner.plan() }
    let diff = try maxAbsDifference(ours.actions, try SafeTensors.read(planPath).tensors["mu"]!)
    print(String(format: "plan: max|Swift - PyTorch| of the returned mean = %.3g (same seed)", diff))
    let oursSeconds = try secondsPerIteration(1) {
        try manualSeed(seed)
        _ = try withNoGrad { try planner.plan() }
    }
    guard let theirs = torch[name] as? Double else { throw BenchError("no PyTorch time for \(name)") }
    printComparison(title: "One MPC planning step (CEM plan), NanoWM D64×2 on 16×16×3 pixels, 4-frame window, "
                    + "\(threads) thread(s), best of 5", unit: "ms", rows: [(name, oursSeconds * 1000, theirs * 1000)], goal: 0.8)
}
