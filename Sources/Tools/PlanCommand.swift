import ArgumentParser
import Foundation
import NanoWM
import SwiftTorch
import NanoWMConfiguration
import NanoWMCore

/// `nanowm plan`: `nanowm run experiment=planning` in short.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan with a trained world model: CEM model-predictive control toward goal images.",
        discussion: """
        The short form of `nanowm run experiment=planning OVERRIDES…` (upstream's planning experiment). \
        Each episode starts the environment at a start state, renders the goal, and repeatedly plans \
        planning.horizon actions with CEM on the world model's latent rollouts, executing the first \
        planning.replan_every of them, until the goal is reached (success is checked after each chunk) or \
        planning.max_episode_steps run out. Goals: planning.goal_source=random_state (the environment's own \
        draw) or dset (as upstream: the start state of a recorded validation trajectory and where replaying \
        its next frame_interval × goal_H actions leads; from the training run's recorded dataset, or the \
        built-in wall's held-out episodes).

        The model, codec, diffusion and frame interval come from the checkpoint's training config.yaml \
        (found in the checkpoint's folder or above). The run folder (hydra.run.dir, or --run-dir) receives \
        planning_results/planning_targets.json, planning_results.json (success rate, per-episode distances \
        and their statistics, in upstream's schema) and episode_NNN.mp4 for the first planning.n_plot_samples \
        episodes (executed frames beside the goal). The same planning.seed gives the same plans.

        Examples:
          nanowm plan planning=builtin_wall ckpt_path=runs/quickstart/checkpoints/latest/latest-epoch=0-step=2800.ckpt
          nanowm plan planning=builtin_wall ckpt_path=… planning.goal_source=dset planning.n_evals=20 \\
              planning.cem.num_samples=32 planning.cem.opt_steps=5

        Presets: planning=base (upstream's defaults), planning=builtin_wall (a CPU budget), \
        planning=dino_wm_pusht (DINO-WM's PushT budget). Environments: \(PlanningEnvironments.names.joined(separator: ", ")).
        """)

    @OptionGroup var options: RunOptions

    func run() throws {
        var options = self.options
        if !options.overrides.contains(where: { $0.hasPrefix("experiment=") }) { options.overrides.insert("experiment=planning", at: 0) }
        try options.runner().plan()
    }
}
