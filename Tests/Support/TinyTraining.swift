import Foundation

/// The quickstart experiment shrunk to seconds: a 2-block model on 16×16 frames of 6 short
/// built-in episodes, 6 steps, validating and checkpointing every 3. Data goes to
/// `dataDirectory`, so tests never write into the repository.
public enum TinyTraining {
    public static func overrides(dataDirectory: URL, _ extra: [String] = []) -> [String] {
        ["experiment=quickstart", "wandb.enabled=false", "dataset_dir=\(dataDirectory.path)",
         "model.hidden_size=32", "model.depth=2", "model.num_heads=2", "model.patch_size=4", "model.num_frames=3",
         "model.latent_size=16", "model.image_size=16", "dataset.resolution=16", "dataset.num_trajectories=6",
         "dataset.trajectory_length=8", "experiment.training.batch_size=2", "experiment.training.max_steps=6",
         "experiment.training.log_every=1", "experiment.training.val_every_n_steps=3", "dataset.loader.validation_size=2",
         "dataset.loader.validation_fixed_subset_size=null",
         "experiment.training.checkpointing.latest.every_n_train_steps=3",
         "experiment.training.checkpointing.across_timesteps.every_n_train_steps=3",
         "experiment.training.optimizer.lr_warmup_steps=2", "experiment.training.gradient_clip_start_step=2",
         // Clipping as the keys intend: each step's own norm is logged (the data-parallel
         // comparisons check it) and clipping bites from step 2; the reference's rule has its own tests.
         "experiment.training.apply_gradient_clip=true",
         "experiment.evaluation.num_sampling_steps=2"] + extra
    }
}
