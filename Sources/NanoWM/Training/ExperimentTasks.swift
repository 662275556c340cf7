import NanoWMConfiguration
import NanoWMCore
/// What a configuration asks to run, read as upstream's `main.py` reads it: `experiment.name`
/// picks the experiment (`train` and `evaluate` share one, `planning` has its own) and
/// `experiment.tasks` lists the tasks it runs, in order.
public struct ExperimentTasks: Equatable, Sendable {
    public enum Task: String, CaseIterable, Sendable {
        case training, evaluate, planning
    }

    /// The tasks this build can run.
    public static let available: [Task] = [.training, .evaluate, .planning]

    public let name: String
    public let tasks: [Task]
    /// The `experiment` option chosen on the command line, for messages (`evaluate_only`).
    public let choice: String

    /// Reads and checks `experiment.name` and `experiment.tasks` as upstream does, so a task
    /// that experiment lacks is an error here too.
    public init(_ settings: TaskSettings, choice: String? = nil) throws {
        let name = settings.name
        self.name = name
        self.choice = choice ?? name
        let offered: [Task]
        switch name {
        case "train", "evaluate": offered = [.training, .evaluate]
        case "planning": offered = [.planning]
        default:
            throw ConfigError(.unknownOption, "experiment.name: unknown experiment '\(name)' (use train, evaluate or planning)")
        }
        let names = settings.tasks
        guard !names.isEmpty else {
            throw ConfigError(.invalidValue, "experiment.tasks is empty (experiment=\(choice ?? name)); list what to run, e.g. experiment.tasks=[training]")
        }
        tasks = try names.map { task in
            guard let known = Task(rawValue: task), offered.contains(known) else {
                throw ConfigError(.unknownOption, "experiment.tasks: task '\(task)' is not one of experiment '\(name)' (its tasks: \(offered.map(\.rawValue).joined(separator: ", ")))")
            }
            return known
        }
    }

    /// Throws for the first task this build cannot run yet.
    public func requireAvailable() throws {
        for task in tasks where !Self.available.contains(task) {
            throw ConfigError(.unsupported, "task '\(task.rawValue)' (experiment=\(choice)) is not available in this build yet (available: \(Self.available.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    /// Throws unless training is among the tasks: `nanowm train` never runs an experiment that
    /// does not train (evaluate_only, planning).
    public func requireTraining() throws {
        guard !tasks.contains(.training) else { return }
        let listed = tasks.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        do { try requireAvailable() } catch let error as ConfigError {
            throw ConfigError(.unsupported, "experiment=\(choice) runs task \(listed), not training, so nanowm train refuses it; and \(error.message)")
        }
        throw ConfigError(.unsupported, "experiment=\(choice) runs task \(listed), not training, so nanowm train refuses it; use nanowm run")
    }
}
