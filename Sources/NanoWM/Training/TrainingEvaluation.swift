import Foundation
import SwiftTorch
import NanoWMFormats
import NanoWMCore

/// The reference's metrics callback during training: at each validation whose step is a
/// multiple of experiment.evaluation.metrics.log_every_n_train_steps, the validation clips are
/// sampled and scored as the evaluate task scores a checkpoint of that step, with the same
/// random draws (`EvaluationDraws`), so the numbers equal `nanowm evaluate` on the checkpoint
/// saved at that step. They are logged as `val_eval/<metric>` (`val_eval/latent_*` for an
/// encoder-only codec); the first 4 clips of each batch as `val_vis/<clip>/{context_frame,
/// x_gt, x_reconst, x_pred}` at 4 fps; and every clip is saved under eval_videos/step_<step>
/// when experiment.evaluation.save_videos is set.
///
/// The reference draws this from the training run's generator, so evaluating changes its
/// training; here every default generator (CPU and each CUDA device's) is put back afterwards,
/// and a run's weights are the same with evaluation on or off. Rank 0 alone evaluates, on every validation clip.
final class TrainingEvaluation: TrainingCallback {
    static let shownClips = 4
    static let fps = 4.0

    private let job: EvaluationJob
    private let trainer: Trainer
    private let validation: ClipDataset
    private let codec: LatentCodec
    private let networks: MetricNetworks
    private let notes: [String]

    /// - Parameters:
    ///   - validation: the validation clips as frames (not a latent cache's).
    ///   - codec: the run's codec, with its encoder.
    ///   - log: where the evaluation's own lines go (the run's text log).
    init(trainer: Trainer, configuration: RunConfiguration, validation: ClipDataset, codec: LatentCodec, folder: URL,
         log: @escaping (String) -> Void, notes: inout [String]) throws {
        job = EvaluationJob(configuration: configuration, checkpoint: "the training run's model", folder: folder,
                            device: trainer.device, log: log)
        networks = codec.hasDecoder ? try job.networks(notes: &notes) : MetricNetworks()
        (self.trainer, self.validation, self.codec, self.notes) = (trainer, validation, codec, notes)
    }

    func validated(at step: Int) throws -> [String: Double] {
        let configuration = job.configuration
        guard step % configuration.experiment.evaluation.evaluateEvery == 0, validation.count > 0 else { return [:] }
        // manualSeed reseeds every device's default generator, and the sampling draws on the
        // model's: all of them are put back.
        let summary = try GeneratorStates.preserving {
            // The evaluate task's first draws: the seed, then the model's initialisation, which the
            // checkpoint's weights replace (here: the model as trained so far).
            try manualSeed(configuration.settings.seed)
            _ = try NanoWMModel(configuration.model)
            trainer.model.eval()
            let clips = Swift.min(configuration.settings.validationSize ?? validation.count, validation.count)
            return try job.score(model: trainer.model, codec: codec, validation: validation, clips: clips,
                                 networks: networks, notes: notes, progress: false, step: step) { batch in
                try self.show(batch, step: step)
            }.summary
        }
        // val_loss is the trainer's own (its fixed noise); this one's draws only keep the
        // sampling's in the evaluate task's order.
        return Dictionary(uniqueKeysWithValues: summary.metrics.filter { $0.name != "val_loss" }.map { ("val_eval/\($0.name)", $0.value) })
    }

    /// The first clips of a batch, as the reference's callback logs them: ground truth, the
    /// codec's reconstruction of it, the prediction, and the context (an image for one frame).
    private func show(_ batch: EvaluationJob.ScoredBatch, step: Int) throws {
        guard let logger = trainer.logger else { return }
        let count = Swift.min(batch.names.count, Self.shownClips)
        let reconstruction = try ClipCodec(codec).decode(try batch.latents.narrow(dim: 0, start: 0, length: count))
        let contextFrames = job.configuration.settings.contextFrames
        func frames(_ clips: Tensor, _ i: Int) throws -> [RGBImage] {
            try RGBImage.frames(from: try ((clips.select(dim: 0, index: i) + 1.0) / 2.0).to(.cpu))
        }
        for i in 0..<count {
            let tag = "val_vis/\(batch.names[i])"
            let truth = try frames(batch.truth, i)
            if contextFrames == 1 {
                try logger.image("\(tag)/context_frame", truth[0], step: step)
            } else {
                try logger.video("\(tag)/context_frame", frames: Array(truth.prefix(contextFrames)), fps: Self.fps, step: step)
            }
            try logger.video("\(tag)/x_gt", frames: truth, fps: Self.fps, step: step)
            try logger.video("\(tag)/x_reconst", frames: try frames(reconstruction, i), fps: Self.fps, step: step)
            try logger.video("\(tag)/x_pred", frames: try frames(batch.prediction, i), fps: Self.fps, step: step)
        }
    }
}
