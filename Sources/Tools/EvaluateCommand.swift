import ArgumentParser
import Foundation
import NanoWM

/// `nanowm evaluate`: the evaluate task alone, the short form of
/// `nanowm run experiment=evaluate_only …`.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a checkpoint on the validation clips as upstream's evaluate_only experiment, into a metrics file.",
        discussion: """
        The same as `nanowm run OVERRIDES… experiment.name=evaluate experiment.tasks=[evaluate]`, \
        i.e. upstream's `main.py experiment=evaluate_only`, with the run's model, dataset and \
        codec from the overrides. The checkpoint is experiment.resume_from_checkpoint (its vae.* \
        weights go into the SD-VAE). The validation clips are chosen as training validates: \
        the fixed subset when dataset.loader.validation_fixed_subset_size (or _path) is set, \
        else the first dataset.loader.validation_size clips (all with null). Each is sampled from its first \
        model.n_context_frames frames with experiment.evaluation.num_sampling_steps (else \
        model.num_sampling_steps) DDIM steps on the full diffusion process, as upstream's \
        evaluation; then scored on the predicted frames: \
        mse, psnr, ssim, and lpips / fid / fvd when their networks exist \
        (experiment.evaluation.metrics.{lpips,inception,i3d}_model_path; checkpoints/README.md), \
        and the validation loss (val_loss). Encoder-only codecs get upstream's latent metrics.

        Every random draw is upstream's, in its order, from experiment.infra.seed (model \
        initialisation, codec probe, metric networks, DataLoader seed, then per batch the \
        validation loss before sampling), so the same checkpoint and data give upstream's \
        predictions and numbers. With experiment.evaluation.metrics.evaluate=false only val_loss \
        is computed, as upstream.

        The run folder receives metrics.json (metrics, every setting behind them, counts, notes, \
        per-frame means), metrics_per_frame.png, config.yaml and eval_videos/step_0000000/<clip>/ \
        {pred_video.mp4, gt_video.mp4, raw_data.npz} as upstream writes them \
        (experiment.evaluation.save_videos=false skips them). `nanowm compare` puts two metrics \
        files side by side.

        Across processes: `--nproc-per-node N` (or torchrun --no-python, or srun) splits the \
        batches of clips across N workers in consecutive blocks. Each worker first makes the \
        random draws of the batches before its block, so every clip gets the noise one process \
        gives it, and the scores and FID/FVD features are gathered in order: metrics.json holds \
        one process's numbers. Each worker saves its own clips' videos.

        Example:
          nanowm evaluate experiment=dino_wm_wall experiment.resume_from_checkpoint=wall.ckpt \\
              dataset.loader.validation_fixed_subset_size=256 dataset.loader.validation_fixed_subset_seed=42
        """)

    @OptionGroup var options: RunOptions

    func run() throws {
        var evaluate = options
        evaluate.overrides += ["experiment.name=evaluate", "experiment.tasks=[evaluate]"]
        try evaluate.runner().run(.allTasks)
    }
}
