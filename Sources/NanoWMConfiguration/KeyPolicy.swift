/// What this build does with each configuration key upstream reads, so that no key composes
/// and then silently does nothing. Every key is one of:
///
/// - honoured: read and acted on as upstream does;
/// - interpolated: read only through `${…}` in other keys (a path variable), which are
///   classified themselves;
/// - as the reference: read and acted on as the reference's code does, which is not what the
///   key's name promises (its warmup and clipping keys); a key of ours asks for the intent;
/// - inert: upstream reads it but, with the rest of its configuration, it does nothing there
///   either (`model.num_classes` unless `extras` is 2), so this build behaves the same;
/// - ignored here: cannot apply in this build and does not change the trained model (worker
///   processes, trackers, the planning task's settings); named once when a run starts, unless
///   it is null (then it asks for nothing);
/// - refused unless at the value this build's behaviour equals: a key whose other values would
///   change results in a way not implemented here.
///
/// A rule covers its key and everything below it; the longest matching rule wins. A key no
/// rule covers (one added with `+key=…`) is named as ignored: nothing reads it. The settings
/// decoders (`ExperimentSettings`) read only keys this table acts on, and read every key it
/// calls honoured (`ConfigurationSchemaTests`).
public struct KeyPolicy: Sendable {
    public enum Treatment: Equatable, Sendable {
        case honoured
        /// Acted on as the reference's code does, which differs from what the key promises.
        case asReference(what: String)
        case interpolated
        case inert(why: String)
        case ignored(why: String)
        /// Refused unless the value is one of `allowed`; `instead` says what to use instead.
        case refused(unless: [ConfigNode], instead: String)
    }

    /// A dotted key path; a trailing `.*` marks a whole subtree (display only: every rule
    /// covers what lies below it).
    public let pattern: String
    public let treatment: Treatment

    var path: String { pattern.hasSuffix(".*") ? String(pattern.dropLast(2)) : pattern }

    func covers(_ key: String) -> Bool { key == path || key.hasPrefix(path + ".") }

    /// The rule for a key, if any.
    public static func rule(for key: String) -> KeyPolicy? {
        table.filter { $0.covers(key) }.max { $0.path.count < $1.path.count }
    }

    /// The rules that cover a configuration's keys, in table order.
    public static func rules(covering config: ConfigNode) -> [KeyPolicy] {
        let keys = config.leafPaths
        return table.filter { rule in keys.contains { rule.covers($0) && Self.rule(for: $0)?.pattern == rule.pattern } }
    }

    /// `honoured`, `ignored here: why`, `refused unless 1: why`.
    public var explanation: String {
        switch treatment {
        case .honoured: return "honoured"
        case .asReference(let what): return "as the reference's code does: \(what)"
        case .interpolated: return "read through ${…} in other keys"
        case .inert(let why): return "no effect, upstream neither: \(why)"
        case .ignored(let why): return "ignored here: \(why)"
        case .refused(let allowed, let instead):
            return "refused unless \(allowed.map { ConfigYAML.flowText($0) }.joined(separator: " or ")): \(instead)"
        }
    }

    /// Checks a resolved configuration: throws for the first refused key whose value this build
    /// cannot honour; returns the ignored rules' patterns (and uncovered keys), in table order,
    /// each once.
    public static func review(_ config: ConfigNode) throws -> [String] {
        var ignored: [String] = [], unread: [String] = []
        for key in config.leafPaths {
            guard let rule = rule(for: key) else { unread.append(key); continue }
            switch rule.treatment {
            case .honoured, .asReference, .interpolated, .inert: break
            case .ignored:
                if config[key]?.isNull != true && !ignored.contains(rule.pattern) { ignored.append(rule.pattern) }
            case .refused(let allowed, let instead):
                let value = config[key] ?? .null
                if !allowed.contains(where: { sameValue($0, value) }) {
                    let shown = allowed.map { ConfigYAML.flowText($0) }.joined(separator: " or ")
                    throw ConfigError(.unsupported, "\(key)=\(ConfigYAML.flowText(value)) is not supported in this build (only \(shown)); \(instead)")
                }
            }
        }
        let order = Dictionary(table.enumerated().map { ($1.pattern, $0) }, uniquingKeysWith: { a, _ in a })
        return ignored.sorted { order[$0, default: 0] < order[$1, default: 0] } + unread
    }

    /// Equal values, with 1 and 1.0 the same (YAML types numbers by how they are written).
    public static func sameValue(_ a: ConfigNode, _ b: ConfigNode) -> Bool {
        if a.isScalar, b.isScalar, let x = a.double, let y = b.double, a.bool == nil, b.bool == nil { return x == y }
        return a == b
    }

    private static func honoured(_ patterns: String...) -> [KeyPolicy] {
        patterns.map { KeyPolicy(pattern: $0, treatment: .honoured) }
    }

    private static func asReference(_ what: String, _ patterns: String...) -> [KeyPolicy] {
        patterns.map { KeyPolicy(pattern: $0, treatment: .asReference(what: what)) }
    }

    private static func ignored(_ why: String, _ patterns: String...) -> [KeyPolicy] {
        patterns.map { KeyPolicy(pattern: $0, treatment: .ignored(why: why)) }
    }

    private static func inert(_ why: String, _ patterns: String...) -> [KeyPolicy] {
        patterns.map { KeyPolicy(pattern: $0, treatment: .inert(why: why)) }
    }

    private static func refused(_ pattern: String, unless allowed: ConfigNode..., instead: String) -> KeyPolicy {
        KeyPolicy(pattern: pattern, treatment: .refused(unless: allowed, instead: instead))
    }


    /// Every key of upstream's configuration tree (and of the built-in dataset's).
    public static let table: [KeyPolicy] =
        // What runs: upstream's build_experiment and exec.
        honoured("experiment.name", "experiment.tasks", "experiment.resume_from_checkpoint", "experiment.pretrained",
                 "experiment.training.optimizer.*", "experiment.training.max_steps", "experiment.training.batch_size",
                 "experiment.training.gradient_accumulation", "experiment.training.log_every",
                 "experiment.training.val_every_n_steps",
                 "experiment.training.checkpointing.latest.every_n_train_steps",
                 "experiment.training.checkpointing.across_timesteps.every_n_train_steps",
                 "experiment.evaluation.num_sampling_steps", "experiment.evaluation.metrics.evaluate",
                 "experiment.evaluation.scheduling_mode", "experiment.evaluation.metrics.i3d_model_path",
                 "experiment.evaluation.metrics.lpips_model_path", "experiment.evaluation.metrics.inception_model_path",
                 "experiment.diffusion.*", "experiment.infra.mixed_precision", "experiment.infra.seed",
                 "experiment.training.optimizer.apply_lr_warmup", "experiment.training.apply_gradient_clip",
                 "experiment.training.skip_nonfinite_steps", "experiment.evaluation.cached_sampling")
        + asReference("its constant schedule ignores it, so the rate is constant from step 0; "
                      + "experiment.training.optimizer.apply_lr_warmup=true (ours) ramps it up linearly",
                      "experiment.training.optimizer.lr_warmup_steps")
        + asReference("measured inside training_step, before Lightning clears the gradients: the logged norm is the "
                      + "previous step's and only partial sums of an accumulation window are ever clipped; "
                      + "experiment.training.apply_gradient_clip=true (ours) clips each step's gradient",
                      "experiment.training.gradient_clip_norm", "experiment.training.gradient_clip_start_step")
        + [refused("experiment.training.checkpointing.latest.save_top_k", unless: 1,
                   instead: "only the newest 'latest' checkpoint is kept"),
           refused("experiment.training.checkpointing.across_timesteps.save_top_k", unless: -1,
                   instead: "every periodic checkpoint is kept"),
           refused("experiment.training.checkpointing.latest.filename", unless: "latest-{epoch}-{step}",
                   instead: "checkpoint names follow Lightning's defaults"),
           refused("experiment.training.checkpointing.across_timesteps.filename", unless: "{epoch}-{step}",
                   instead: "checkpoint names follow Lightning's defaults"),
           refused("experiment.training.checkpointing.latest.save_weights_only", unless: false,
                   instead: "checkpoints always hold the optimizer state"),
           refused("experiment.training.checkpointing.across_timesteps.save_weights_only", unless: false,
                   instead: "checkpoints always hold the optimizer state"),
           refused("experiment.infra.num_nodes", unless: 1,
                   instead: "the launcher sets the processes and nodes (nanowm train --nproc-per-node, torchrun --nnodes, srun); leave it at 1")]
        + inert("checkpoints are saved every_n_train_steps; with that set, Lightning saves none at epoch ends",
                  "experiment.training.checkpointing.latest.save_on_train_epoch_end",
                  "experiment.training.checkpointing.across_timesteps.save_on_train_epoch_end")
        + inert("upstream reads dataset.loader.validation_size", "experiment.evaluation.validation_size")
        + honoured("experiment.evaluation.batch_size", "experiment.evaluation.save_videos")
        + honoured("experiment.evaluation.metrics.log_every_n_train_steps", "experiment.evaluation.metrics.max_batchsize")
        + inert("the reference's MetricsLogger stores it and never reads it: every validation clip is scored",
                "experiment.evaluation.metrics.buffer_size")
        + ignored("no data-loading worker processes here", "experiment.infra.num_workers")
        + ignored("no torch.compile here; it does not change results", "experiment.infra.compile")
        + ignored("activations are kept; it does not change results", "experiment.infra.gradient_checkpointing")
        + [refused("experiment.infra.vae_precision", unless: "fp32", instead: "codecs run in float32, upstream's default"),
           refused("latent_codec.precision", unless: "fp32", nil, instead: "codecs run in float32, upstream's default")]
        + ignored("the codec's weights come from its exported file, latent_codec.torchscript (scripts/export_codec.py reads these)",
                  "latent_codec.model_path", "latent_codec.checkpoint_key", "latent_codec.repo_path")
        // The model.
        + honoured("model.name", "model.arch", "model.num_frames", "model.n_context_frames", "model.scheduling_mode",
                   "model.num_sampling_steps", "model.use_action", "model.action_injection.*", "model.causal",
                   "model.latent_size", "model.latent_channels", "model.image_size", "model.patch_size",
                   "model.hidden_size", "model.depth", "model.num_heads", "model.mlp_ratio")
        + [refused("model.extras", unless: 1, instead: "class conditioning (extras=2) is not implemented")]
        + inert("read only when model.extras is 2, which is refused", "model.num_classes")
        // The latent codec: pixels, or a network exported to TorchScript.
        + honoured("latent_codec.kind", "latent_codec.name", "latent_codec.latent_channels", "latent_codec.torchscript",
                   "latent_codec.input_size", "latent_codec.patch_size")
        // The dataset (DatasetSettings): the built-in wall's generator and every recorded dataset's keys.
        + honoured("dataset.name", "dataset.frame_interval", "dataset.spec.*", "dataset.data_dir", "dataset.num_trajectories", "dataset.latent_cache",
                   "dataset.trajectory_length", "dataset.resolution", "dataset.seed",
                   "dataset.loader.validation_size", "dataset.loader.split_ratio")
        // Read by the recorded datasets' readers; the built-in dataset refuses values it cannot honour.
        + honoured("dataset.loader.normalize_action", "dataset.loader.stride", "dataset.loader.train_slice_mode",
                   "dataset.loader.val_slice_mode", "dataset.loader.action_scale", "dataset.loader.use_relative_actions",
                   "dataset.loader.n_rollout", "dataset.loader.validation_fixed_subset_size",
                   "dataset.loader.validation_fixed_subset_path", "dataset.loader.validation_fixed_subset_seed",
                   "dataset.loader.random_seed", "dataset.loader.data_path_train", "dataset.loader.data_path_val",
                   "dataset.loader.object_name", "dataset.loader.resize_mode")
        + inert("upstream's factory never passes it on: PushT appends velocities.pth whenever it exists", "dataset.loader.with_velocity")
        + inert("only the batch's state is normalised, and the model never sees it", "dataset.loader.normalize_state")
        + honoured("dataset.loader.data_path")
        + inert("nothing reads it", "dataset.split_mode")
        // The CSGO and RT-1 readers' keys.
        + honoured("dataset.loader.train_file_list", "dataset.loader.val_file_list", "dataset.loader.val_start_indices",
                   "dataset.loader.image_key", "dataset.loader.repo_id", "dataset.loader.root",
                   "dataset.loader.use_auxiliary_state", "dataset.loader.pad_action_dim",
                   "dataset.loader.preload_trajectories")
        + [refused("dataset.loader.file_list", unless: nil,
                   instead: "CSGO reads train_file_list and val_file_list, or every episode under data_path")]
        // Trackers, planning, the run folder, path variables.
        + ignored("TensorBoard events always go to <run>/tensorboard", "logger.*")
        + honoured("wandb.enabled", "wandb.project", "wandb.entity", "wandb.mode", "wandb.python")
        + ignored("read only by the planning task (nanowm plan, experiment=planning), which checks each itself", "planning.*", "ckpt_path")
        + ignored("upstream never reads configs/planning/planner (nanowm plan names it as ignored too)", "planning.planner.*")
        + honoured("hydra.run.dir")
        + ignored("nanowm does not change directory; relative paths stay relative to where it runs", "hydra.job.chdir")
        + ["dataset_dir", "results_dir", "csgo_data_dir", "vae_model_path", "webdino_model_path", "vjepa21_model_path",
           "vjepa2_repo_path"].map { KeyPolicy(pattern: $0, treatment: .interpolated) }
}
