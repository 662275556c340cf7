import Foundation
import NanoWMConfiguration
import NanoWMCore

/// A run checked before it starts: everything that can be known from the configuration alone
/// (the tasks, the dataset reader, the codec, the shapes the model, codec and frames must
/// share, every key's treatment) is checked here, before a run folder is created or any data
/// generated, so a failed start leaves nothing behind.
public struct RunPlan {
    public let composition: ConfigComposition
    /// The run folder it will use (not yet created).
    public let folder: URL
    public let resolved: ConfigNode
    public let configuration: RunConfiguration
    public let tasks: ExperimentTasks
    /// Keys (or key groups) that compose but cannot apply in this build, to be named once.
    public let ignoredKeys: [String]
    /// Tasks of experiment.tasks that this run leaves out (`nanowm train` runs training only).
    public let tasksNotRun: [ExperimentTasks.Task]
    /// The latent codec, loaded and probed (on the CPU).
    public let codec: LatentCodec
    /// A recorded dataset's splits as the checks opened them, for the tasks to complete.
    public let recordedSplits: RecordedDatasets.CheckedSplits?
    /// `experiment.resume_from_checkpoint` as a path; `latest` names the run folder's newest
    /// checkpoint (nil while it has none).
    public let requestedCheckpoint: String?
    /// The run folder's newest checkpoint when the run starts, if any.
    public let folderCheckpoint: String?

    /// Where training continues from: the requested checkpoint, else the run folder's newest,
    /// so that a job started again in its run folder (a preempted, requeued job) continues by
    /// itself; nil to start from step 0.
    public var trainingResume: String? { requestedCheckpoint ?? folderCheckpoint }

    /// - Parameters:
    ///   - runDirectory: where to write; default is the configuration's `hydra.run.dir`.
    ///   - allTasks: require every task of `experiment.tasks` to be available (`nanowm run`);
    ///     otherwise only the training task is required (`nanowm train`).
    public init(composition: ConfigComposition, runDirectory: URL? = nil, allTasks: Bool = false) throws {
        self.composition = composition
        folder = try runDirectory?.standardizedFileURL ?? composition.runDirectory()
        var context = composition.resolveContext
        context.outputDirectory = folder.path
        resolved = try composition.config.resolved(context)
        tasks = try ExperimentTasks(try TaskSettings(resolved), choice: composition.choiceMap["experiment"])
        if allTasks { try tasks.requireAvailable() } else { try tasks.requireTraining() }
        tasksNotRun = allTasks ? [] : tasks.tasks.filter { $0 != .training }
        configuration = try RunConfiguration(resolved)
        let experiment = configuration.experiment
        folderCheckpoint = try RunDirectory(folder, create: false).latestCheckpoint?.path
        requestedCheckpoint = experiment.resumeFrom == ExperimentSettings.resumeLatest ? folderCheckpoint : experiment.resumeFrom
        for (key, value) in [(ExperimentSettings.pretrainedKey, experiment.pretrained), (ExperimentSettings.resumeKey, requestedCheckpoint)] {
            if let path = value, !FileManager.default.fileExists(atPath: path) {
                throw ConfigError(.invalidValue, "\(key): no file at \(path); give the path of a checkpoint (or latest: the run folder's newest)")
            }
        }
        (codec, recordedSplits) = try configuration.checkParts()
        ignoredKeys = try KeyPolicy.review(resolved)
        try configuration.settings.validate()
    }

    /// `not run: task 'evaluate' (only training is)`, when a task is left out.
    public var tasksNotRunLine: String? {
        guard !tasksNotRun.isEmpty else { return nil }
        return "not run: task " + tasksNotRun.map { "'\($0.rawValue)'" }.joined(separator: ", ") + " (this command runs the training task only)"
    }

    /// The ignored keys as one short line, keys under the same parent folded together:
    /// `ignored here: wandb.*, experiment.infra.{num_workers, compile}`.
    public var ignoredLine: String? {
        guard !ignoredKeys.isEmpty else { return nil }
        var parents: [String] = [], children: [String: [String]] = [:]
        for key in ignoredKeys {
            let parts = key.split(separator: ".")
            let (parent, child) = parts.count > 2 && !key.hasSuffix(".*")
                ? (parts.dropLast().joined(separator: "."), String(parts.last!)) : (key, "")
            if children[parent] == nil { parents.append(parent) }
            children[parent, default: []].append(child)
        }
        let items = parents.map { parent -> String in
            let names = children[parent]!.filter { !$0.isEmpty }
            return names.count > 1 ? "\(parent).{\(names.joined(separator: ", "))}" : names.first.map { "\(parent).\($0)" } ?? parent
        }
        return "ignored here: " + items.joined(separator: ", ") + " (`nanowm config --keys` says why)"
    }
}
