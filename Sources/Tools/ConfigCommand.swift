import ArgumentParser
import Foundation
import NanoWM
import NanoWMConfiguration
import NanoWMCore

/// `nanowm config`: composes the configuration a run would use and prints it as YAML.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the composed configuration (configs/ plus overrides) as YAML.",
        discussion: """
        Composes configs/ the way the reference project's Hydra setup composes \
        src/configs, so its command lines work unchanged.

        Overrides:
          group=option     choose an option of a config group: model=nanowm_s2
                           (options may sit in sub-folders: dataset=dino_wm/pusht)
          key=value        change an existing key: experiment.training.batch_size=4
          +key=value       add a key that does not exist yet: +experiment.note=hi
          +group=option    add a group the defaults list lacks: +planning/planner=cem
          ++key=value      set a key, adding it when missing: ++wandb.enabled=false
          ~key             delete a key, or drop a group: ~logger

        Values are typed like Hydra's: 42, 1e-4, true, null, [1,2], {a: 1}, \
        'quoted text'. ${a.b} refers to another key, ${oc.env:VAR,default} to an \
        environment variable. Unknown keys and options are errors that name the \
        closest valid ones.

        Examples:
          nanowm config
          nanowm config experiment=quickstart
          nanowm config experiment=dino_wm_pusht \\
              dataset=dino_wm/pusht model=nanowm_b2 \\
              experiment.diffusion.pred_name=x
          nanowm config --groups

        The config folder is --config-dir, else $NANOWM_CONFIG_DIR, else the \
        configs/ folder above the current directory or the nanowm binary.
        """)

    @Argument(help: "Overrides: group=option, key=value, +key=value, ++key=value, ~key.")
    var overrides: [String] = []

    @Option(name: .customLong("config-dir"), help: "The folder holding config.yaml (default: the repository's configs/).")
    var configDir: String?

    @Flag(help: "Print interpolations such as ${dataset_dir} as written instead of their values.")
    var unresolved = false

    @Flag(name: .customLong("hydra"), help: "Include the hydra section (run folder settings).")
    var includeHydra = false

    @Flag(help: "List the config groups and their options instead.")
    var groups = false

    @Flag(help: "Say, for each key, whether a run honours it, ignores it here (and why) or refuses other values.")
    var keys = false

    func run() throws {
        let composer = try ConfigComposer.locate(configDir: configDir)
        if groups {
            for group in composer.groups where !group.contains("/") {
                let options = composer.options(in: group)
                guard !options.isEmpty else { continue }
                print("\(group): \(options.joined(separator: ", "))")
            }
            return
        }
        let composition = try composer.composition(overrides: overrides)
        if keys {
            let config = try composition.resolved()
            let rules = KeyPolicy.rules(covering: config)
            let width = rules.map(\.pattern.count).max() ?? 0
            for rule in rules { print(rule.pattern.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + rule.explanation) }
            return
        }
        var config = unresolved ? composition.config : try composition.resolved()
        if !includeHydra { config = config.removingHydra }
        print(config.yaml, terminator: "")
    }
}
