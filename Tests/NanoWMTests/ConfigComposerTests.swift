import Foundation
import TestSupport
import XCTest
@testable import NanoWM
@testable import NanoWMConfiguration
@testable import NanoWMCore

/// The configuration composer against the shipped `configs/` tree.
///
/// How the tree was checked against the reference: a one-off script (not kept in the
/// repository) installed hydra-core 1.3.8 / omegaconf 2.3.1 into a scratch virtualenv, composed
/// the reference's `src/configs` with Hydra's `compose()` for 29 command lines (the default,
/// `experiment=dino_wm_pusht dataset=dino_wm/pusht model=nanowm_b2 experiment.diffusion.pred_name=x`,
/// every experiment, dataset, model and latent_codec option, `planning=dino_wm_pusht
/// experiment=planning ckpt_path=…`, `+planning/planner=cem`, and a mix with `++`, `+` and `~`),
/// and compared each with `nanowm config --unresolved` (key order included) and, after
/// OmegaConf resolution of everything except the two `${hydra:…}` keys, with `nanowm config`.
/// All 29 matched exactly over 4,423 upstream key paths; a deliberately changed override was
/// reported as a mismatch (so the comparison is not vacuous). The same script run with Hydra on
/// this repository's `configs/` (33 command lines including `experiment=quickstart`, the
/// built-in options and `~planning`) matched over 5,029 key paths. Hydra is not needed by the tests.
final class ConfigComposerTests: XCTestCase {
    static let configRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("configs")

    /// A composer whose environment is empty, so `${oc.env:…}` takes the defaults.
    func composer(_ environment: [String: String] = [:]) -> ConfigComposer {
        ConfigComposer(root: Self.configRoot, environment: environment)
    }

    func compose(_ overrides: [String] = [], environment: [String: String] = [:]) throws -> ConfigNode {
        try composer(environment).compose(overrides: overrides)
    }

    func assertError(_ kind: ConfigError.Kind, _ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line,
                     _ check: (String) -> Void = { _ in }) {
        guard let error = assertOneLineError(body, file: file, line: line) else { return }
        guard let e = error as? ConfigError else { return XCTFail("not a ConfigError: \(error)", file: file, line: line) }
        XCTAssertEqual(e.kind, kind, e.message, file: file, line: line)
        check(e.message)
    }

    // MARK: Shipped configs

    func testDefaultComposition() throws {
        let composition = try composer().composition()
        XCTAssertEqual(composition.choices.map(\.group), ["model", "latent_codec", "dataset", "experiment", "planning"])
        XCTAssertEqual(composition.choiceMap["dataset"], "dino_wm/point_maze")
        let cfg = try composition.resolved()
        XCTAssertEqual(cfg.keys, ["model", "latent_codec", "dataset", "experiment", "planning", "dataset_dir",
                                  "csgo_data_dir", "vae_model_path", "webdino_model_path", "vjepa21_model_path",
                                  "vjepa2_repo_path", "results_dir", "ckpt_path", "logger", "wandb", "hydra"])
        XCTAssertEqual(try cfg.string("model.arch"), "NanoWM-B/2")
        XCTAssertEqual(try cfg.int("model.num_frames"), 4)
        XCTAssertEqual(try cfg.int("model.latent_size"), 32)
        XCTAssertEqual(try cfg.string("model.action_injection.type"), "additive")
        XCTAssertEqual(try cfg.string("dataset.name"), "point_maze")
        XCTAssertEqual(try cfg.int("dataset.frame_interval"), 5)
        XCTAssertEqual(try cfg.string("dataset.loader.data_path"), "./data/point_maze")
        XCTAssertEqual(try cfg.double("dataset.loader.split_ratio"), 0.9)
        XCTAssertEqual(try cfg.int("dataset.spec.action_dim"), 2)
        XCTAssertEqual(try cfg.double("experiment.training.optimizer.lr"), 1e-4)
        XCTAssertEqual(try cfg.int("experiment.training.max_steps"), 1_000_000)
        XCTAssertEqual(try cfg.strings("experiment.tasks"), ["training"])
        XCTAssertEqual(try cfg.string("experiment.diffusion.pred_name"), "v")
        XCTAssertEqual(try cfg.double("experiment.diffusion.history_stabilization_level"), 0.02)
        XCTAssertNil(try cfg.optionalInt("experiment.evaluation.batch_size"))
        // Interpolations across groups keep the referenced type.
        XCTAssertEqual(cfg["latent_codec.latent_channels"], .int(4))
        XCTAssertEqual(cfg["latent_codec.precision"], .string("fp32"))
        XCTAssertEqual(cfg["latent_codec.model_path"], .string("stabilityai/sd-vae-ft-mse"))
        XCTAssertEqual(cfg["vjepa21_model_path"], .null)
        XCTAssertEqual(try cfg.double("planning.cem.sigma_min"), 1e-3)
        XCTAssertEqual(try cfg.string("experiment.training.checkpointing.latest.filename"), "latest-{epoch}-{step}")
    }

    func testUpstreamExampleCommandLine() throws {
        let cfg = try compose(["experiment=dino_wm_pusht", "dataset=dino_wm/pusht", "model=nanowm_b2",
                               "experiment.diffusion.pred_name=x"])
        XCTAssertEqual(try cfg.string("experiment.diffusion.pred_name"), "x")
        XCTAssertEqual(try cfg.int("experiment.training.max_steps"), 100_000)
        XCTAssertEqual(try cfg.int("experiment.training.batch_size"), 8)
        XCTAssertEqual(try cfg.double("experiment.training.optimizer.lr"), 1e-4)  // from experiment/default
        XCTAssertEqual(try cfg.string("dataset.name"), "pusht")
        XCTAssertEqual(try cfg.double("dataset.loader.action_scale"), 100.0)
        XCTAssertEqual(try cfg.bool("dataset.loader.use_relative_actions"), true)
        XCTAssertEqual(try cfg.string("dataset.loader.data_path_train"), "./data/pusht_noise/train")
        XCTAssertEqual(try cfg.int("dataset.loader.validation_size"), 32)  // from dino_wm/base
        XCTAssertEqual(try cfg.string("model.name"), "NanoWM-B-2")
    }

    func testExperiments() throws {
        let flow = try compose(["experiment=dino_wm_pusht_flow"])
        XCTAssertEqual(try flow.string("experiment.diffusion.pred_name"), "flow")
        XCTAssertEqual(try flow.double("experiment.diffusion.snr_gamma"), 0.0)
        XCTAssertEqual(try flow.bool("experiment.diffusion.zero_terminal_snr"), false)
        XCTAssertEqual(try flow.string("experiment.name"), "train")

        let evaluate = try compose(["experiment=evaluate_only"])
        XCTAssertEqual(try evaluate.string("experiment.name"), "evaluate")
        XCTAssertEqual(try evaluate.strings("experiment.tasks"), ["evaluate"])
        XCTAssertNil(try evaluate.optionalInt("experiment.evaluation.validation_size"))

        let csgo = try compose(["experiment=csgo", "dataset=game/csgo", "model=nanowm_l2_csgo"])
        XCTAssertEqual(try csgo.double("experiment.training.optimizer.lr"), 1e-5)
        XCTAssertEqual(try csgo.int("experiment.training.batch_size"), 6)
        XCTAssertEqual(try csgo.int("experiment.infra.num_workers"), 16)
        XCTAssertEqual(try csgo.int("dataset.spec.action_dim"), 51)
        XCTAssertEqual(try csgo.string("dataset.loader.data_path"), "./data/csgo")
        XCTAssertEqual(try csgo.int("model.num_frames"), 16)
        XCTAssertEqual(try csgo.int("model.n_context_frames"), 4)
        XCTAssertEqual(try csgo.string("model.arch"), "NanoWM-L/2")

        let planning = try compose(["experiment=planning", "planning=dino_wm_pusht", "ckpt_path=/runs/x/last.ckpt"])
        XCTAssertEqual(try planning.strings("experiment.tasks"), ["planning"])
        XCTAssertEqual(try planning.int("planning.cem.num_samples"), 300)
        XCTAssertEqual(try planning.string("ckpt_path"), "/runs/x/last.ckpt")
        XCTAssertTrue(try planning.string("planning.output_dir").hasSuffix("/planning_results"))

        let semantic = try compose(["model=nanowm_s1_semantic", "latent_codec=webdino"])
        XCTAssertEqual(try semantic.string("model.arch"), "NanoWM-S/1")
        XCTAssertEqual(try semantic.int("latent_codec.latent_channels"), 1024)
        XCTAssertEqual(try semantic.int("model.num_sampling_steps"), 250)  // inherited from nanowm_s2
    }

    func testQuickstartSelectsItsModelDatasetAndCodec() throws {
        let composition = try composer().composition(overrides: ["experiment=quickstart"])
        XCTAssertEqual(composition.choiceMap["model"], "nanowm_tiny")
        XCTAssertEqual(composition.choiceMap["dataset"], "builtin/wall")
        XCTAssertEqual(composition.choiceMap["latent_codec"], "pixel")
        let cfg = try composition.resolved()
        XCTAssertEqual(try cfg.int("experiment.training.max_steps"), 5000)
        XCTAssertEqual(try cfg.int("model.patch_size"), 8)  // 16 tokens a 32×32 frame
        XCTAssertEqual(try cfg.bool("experiment.infra.compile"), false)
        XCTAssertEqual(try cfg.int("model.hidden_size"), 128)
        // The global experiment file overrides keys of the model and dataset it selects.
        XCTAssertEqual(try cfg.int("model.image_size"), 32)
        XCTAssertEqual(try cfg.int("dataset.resolution"), 32)
        XCTAssertEqual(try cfg.string("experiment.diffusion.pred_name"), "x")
        XCTAssertEqual(try cfg.int("latent_codec.latent_channels"), try cfg.int("model.latent_channels"))
        XCTAssertEqual(try cfg.string("dataset.name"), "builtin_wall")
        XCTAssertEqual(try cfg.string("dataset.loader.data_path"), "./data/builtin_wall")
        XCTAssertEqual(try cfg.int("dataset.num_trajectories"), 200)
        XCTAssertEqual(try cfg.int("dataset.spec.action_dim"), 2)
        // The command line still wins over the experiment's own choices.
        let other = try compose(["experiment=quickstart", "model=nanowm_s2"])
        XCTAssertEqual(try other.string("model.name"), "NanoWM-S-2")
        XCTAssertEqual(try other.string("dataset.name"), "builtin_wall")
    }

    // MARK: Overrides

    func testGroupOverride() throws {
        let cfg = try compose(["model=nanowm_l2_csgo", "latent_codec=vjepa2_1"])
        XCTAssertEqual(try cfg.int("model.num_frames"), 16)
        XCTAssertEqual(try cfg.string("latent_codec.kind"), "vjepa2_1")
        XCTAssertEqual(try cfg.string("latent_codec.checkpoint_key"), "ema_encoder")
        XCTAssertNil(try cfg.optionalString("latent_codec.model_path"))
        // Dropping a group removes its package.
        let without = try compose(["~planning"])
        XCTAssertNil(without["planning"])
    }

    func testValueOverridesAreTypedLikeHydra() throws {
        let cfg = try compose([
            "experiment.training.batch_size=4", "experiment.training.optimizer.lr=3e-4",
            "wandb.enabled=false", "ckpt_path=null", "experiment.tasks=[training,evaluate]",
            "model.name='123'", "dataset.loader.n_rollout=10", "experiment.evaluation.batch_size=1_000",
            "logger={name: tensorboard}", "results_dir=elsewhere/results",
        ])
        XCTAssertEqual(cfg["experiment.training.batch_size"], .int(4))
        XCTAssertEqual(cfg["experiment.training.optimizer.lr"], .double(3e-4))
        XCTAssertEqual(cfg["wandb.enabled"], .bool(false))
        XCTAssertEqual(cfg["ckpt_path"], .null)
        XCTAssertEqual(cfg["experiment.tasks"], ["training", "evaluate"])
        XCTAssertEqual(cfg["model.name"], .string("123"))
        XCTAssertEqual(cfg["dataset.loader.n_rollout"], .int(10))
        XCTAssertEqual(cfg["experiment.evaluation.batch_size"], .int(1000))
        // A mapping value merges into the existing mapping.
        XCTAssertEqual(cfg["logger.name"], .string("tensorboard"))
        XCTAssertEqual(cfg["logger.logger_name"], .string("nanowm"))
        // Interpolations see overridden values.
        XCTAssertTrue(try cfg.string("hydra.run.dir").hasPrefix("elsewhere/results/"))
    }

    func testAddForceAndDelete() throws {
        let cfg = try compose(["+experiment.training.note=hello", "+extra.nested.list=[1,2.5]",
                               "++wandb.enabled=false", "++wandb.group=abc", "~logger"])
        XCTAssertEqual(try cfg.string("experiment.training.note"), "hello")
        XCTAssertEqual(cfg["extra.nested.list"], [1, 2.5])
        XCTAssertEqual(cfg["wandb.enabled"], false)
        XCTAssertEqual(cfg["wandb.group"], "abc")
        XCTAssertNil(cfg["logger"])
        assertError(.keyExists, { try self.compose(["+experiment.training.batch_size=2"]) }) {
            XCTAssertTrue($0.contains("++experiment.training.batch_size=2"), $0)
        }
        assertError(.unknownKey, { try self.compose(["~experiment.nothing"]) })
        // `+group=option` adds a group that the defaults list does not name.
        let planner = try compose(["+planning/planner=cem"])
        XCTAssertEqual(try planner.string("planning.planner.name"), "CEM")
        XCTAssertEqual(try planner.int("planning.planner.opt_steps"), 5)
        // Hydra has no force-add for groups.
        assertError(.invalidOverride, { try self.compose(["++model=nanowm_s2"]) })
    }

    // MARK: Errors

    func testUnknownKeySuggestsClosest() {
        assertError(.unknownKey, { try self.compose(["experiment.trainig.max_steps=3"]) }) {
            XCTAssertTrue($0.hasPrefix("unknown config key 'experiment.trainig.max_steps'; did you mean 'experiment.training.max_steps'"), $0)
        }
        // A key that lives elsewhere is found by its last name.
        assertError(.unknownKey, { try self.compose(["experiment.training.lr=1e-3"]) }) {
            XCTAssertTrue($0.contains("did you mean 'experiment.training.optimizer.lr'"), $0)
        }
        assertError(.unknownKey, { try self.compose(["modle=nanowm_s2"]) }) {
            XCTAssertTrue($0.contains("did you mean 'model'"), $0)
        }
        assertError(.unknownKey, { try self.compose().double("experiment.training.optimizer.learning_rate") }) {
            XCTAssertTrue($0.contains("'experiment.training.optimizer.lr'"), $0)
        }
        assertError(.typeMismatch, { try self.compose().int("model.name") }) {
            XCTAssertEqual($0, "config key 'model.name' should be an int, but it is a string (NanoWM-B-2)")
        }
    }

    func testUnknownOptionListsAvailable() {
        assertError(.unknownOption, { try self.compose(["model=nanowm_b3"]) }) {
            XCTAssertTrue($0.hasPrefix("unknown option 'model=nanowm_b3' (available: nanowm_b1_semantic, nanowm_b2, "), $0)
            XCTAssertTrue($0.contains("did you mean 'nanowm_b2'"), $0)
        }
        assertError(.unknownOption, { try self.compose(["dataset=dino_wm/pusht2"]) }) {
            XCTAssertTrue($0.contains("did you mean 'dino_wm/pusht'"), $0)
        }
        assertError(.unknownGroup, { try self.compose(["local=paths"]) }) {
            XCTAssertTrue($0.contains("+local=paths"), $0)
        }
        assertError(.invalidOverride, { try self.compose(["model.name=a,b"]) })
        assertError(.invalidOverride, { try self.compose(["justakey"]) })
    }

    func testDefaultsListSemanticsOnAScratchTree() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-tree-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ path: String, _ text: String) throws {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: false, encoding: .utf8)
        }
        try write("config.yaml", "defaults:\n  - db: small\n  - exp: base\n  - optional extra: missing\n  - _self_\nname: top\n")
        try write("db/small.yaml", "size: 1\nhost: ${name}-db\n")
        try write("db/big.yaml", "defaults:\n  - small\nsize: 100\n")
        try write("exp/base.yaml", "steps: 10\n")
        // Overriding another group from a non-global config targets a package that does not
        // exist (Hydra's rule), which is an error; a global one works.
        try write("exp/local.yaml", "defaults:\n  - base\n  - override /db: big\nsteps: 20\n")
        try write("exp/global.yaml", "# @package _global_\ndefaults:\n  - base@exp\n  - override /db: big\n  - _self_\nexp:\n  steps: 30\n")
        let composer = ConfigComposer(root: dir, environment: [:])
        let base = try composer.compose()
        XCTAssertEqual(base["db"], ["size": 1, "host": "top-db"])
        XCTAssertEqual(base["exp.steps"], 10)
        XCTAssertEqual(try composer.compose(overrides: ["db=big"])["db.size"], 100)
        let global = try composer.compose(overrides: ["exp=global"])
        XCTAssertEqual(global["db.size"], 100)
        XCTAssertEqual(global["exp.steps"], 30)
        XCTAssertEqual(try composer.compose(overrides: ["exp=global", "db=small"])["db.size"], 1)  // command line wins
        assertError(.defaultsList, { try composer.compose(overrides: ["exp=local"]) }) {
            XCTAssertTrue($0.contains("db@exp.db"), $0)
        }
    }

    // MARK: Interpolation

    func testEnvironmentInterpolation() throws {
        let cfg = try compose(environment: ["DATASET_DIR": "/datasets", "WANDB_MODE": "offline"])
        XCTAssertEqual(try cfg.string("dataset.loader.data_path"), "/datasets/point_maze")
        XCTAssertEqual(try cfg.string("wandb.mode"), "offline")
        XCTAssertNil(try cfg.optionalString("wandb.entity"))  // default `null` is null

        let tree = try ConfigNode(yaml: """
            a: ${oc.env:NWM_TEST_VAR,fallback}
            b: ${oc.env:NWM_TEST_VAR}
            c: x-${oc.env:NWM_TEST_NUMBER,7}-y
            d: ${oc.env:NWM_TEST_NUMBER,'007'}
            """)
        let set = try tree.resolved(ResolveContext(environment: ["NWM_TEST_VAR": "hello"]))
        XCTAssertEqual(set["a"], "hello")
        XCTAssertEqual(set["b"], "hello")
        XCTAssertEqual(set["c"], "x-7-y")
        XCTAssertEqual(set["d"], "007")
        var unset = tree
        unset["b"] = nil
        XCTAssertEqual(try unset.resolved(ResolveContext(environment: [:]))["a"], "fallback")
        assertError(.missingEnvironmentVariable, { try tree.resolved(ResolveContext(environment: [:])) }) {
            XCTAssertTrue($0.hasPrefix("environment variable 'NWM_TEST_VAR' is not set"), $0)
            XCTAssertTrue($0.contains("at 'b'"), $0)
        }
    }

    func testNodeInterpolation() throws {
        let tree = try ConfigNode(yaml: """
            model: {size: 32, name: m}
            data:
              size: ${model.size}
              label: "${model.name}-${model.size}"
              sibling: ${.size}
              parent: ${..model.name}
              copy: ${model}
              escaped: \\${model.size}
              list: ["${model.size}", 2]
            """)
        let r = try tree.resolved(ResolveContext(environment: [:]))
        XCTAssertEqual(r["data.size"], .int(32))
        XCTAssertEqual(r["data.label"], "m-32")
        XCTAssertEqual(r["data.sibling"], .int(32))
        XCTAssertEqual(r["data.parent"], "m")
        XCTAssertEqual(r["data.copy"], ["size": 32, "name": "m"])
        XCTAssertEqual(r["data.escaped"], "${model.size}")
        XCTAssertEqual(r["data.list"], [32, 2])
        assertError(.unknownKey, { try ConfigNode(yaml: "a: ${modle.size}\nmodel: {size: 1}").resolved() }) {
            XCTAssertTrue($0.contains("in interpolation '${modle.size}' at 'a'"), $0)
            XCTAssertTrue($0.contains("did you mean 'model.size'"), $0)
        }
        assertError(.interpolation, { try ConfigNode(yaml: "a: ${oc.evn:X}").resolved() }) {
            XCTAssertTrue($0.contains("did you mean 'oc.env'"), $0)
        }
    }

    func testInterpolationCycleIsReported() {
        assertError(.interpolationCycle, { try ConfigNode(yaml: "a: ${b}\nb: ${c}\nc: ${a}").resolved() }) {
            XCTAssertEqual($0, "interpolation cycle: a -> b -> c -> a")
        }
        assertError(.interpolationCycle, { try ConfigNode(yaml: "a: {x: '${a}'}").resolved() })
    }

    func testRunDirectoryAndHydraResolver() throws {
        var composition = try composer().composition(overrides: ["dataset=dino_wm/wall", "results_dir=/runs"])
        composition.now = Date(timeIntervalSince1970: 0)
        let cfg = try composition.resolved()
        let dir = try cfg.string("hydra.run.dir")
        let stamp = InterpolationResolver.strftime("%Y%m%d_%H%M%S", composition.now)
        XCTAssertEqual(dir, "/runs/\(stamp)-NanoWM-B-2-F4S5-wall")
        XCTAssertEqual(try cfg.string("logger.save_dir"), dir + "/tb")
        XCTAssertEqual(try cfg.string("planning.output_dir"), dir + "/planning_results")
        XCTAssertNil(cfg.removingHydra["hydra"])
    }

    // MARK: YAML

    func testYAMLRoundTrip() throws {
        let composed = try composer().composition(overrides: ["experiment=quickstart"]).config
        XCTAssertEqual(try ConfigNode(yaml: composed.yaml), composed)
        let resolved = try compose(["experiment=dino_wm_pusht"])
        XCTAssertEqual(try ConfigNode(yaml: resolved.yaml), resolved)

        let tricky: ConfigNode = [
            "strings": ["1e-4", "true", "null", "", "a: b", "{epoch}", "two\nlines", " padded", "#hash", "-dash",
                        "~", "0x10", "it's", "${x}", "yes", "NO", "3.0", "/abs/path", "ünïcödé"],
            "numbers": [0, -7, 1e-5, 0.1, 3.0, 1e16, -2.5e-8, 123456789012],
            "flags": [true, false, nil],
            "empty": ["list": [], "map": [:]],
            "nested": [["a": 1, "b": [1, [2, 3]]], [[4], ["c": nil]]],
            "with space": "ok",
        ]
        let text = tricky.yaml
        XCTAssertEqual(try ConfigNode(yaml: text), tricky, text)
    }

    func testSaveAndRunFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nanowm-config-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let composition = try composer().composition(overrides: ["model=nanowm_s2", "experiment.training.batch_size=2"])
        try composition.saveRunFiles(in: dir)
        let saved = try ConfigNode(contentsOf: dir.appendingPathComponent("config.yaml"))
        XCTAssertEqual(saved, composition.config.removingHydra)
        XCTAssertEqual(try saved.string("latent_codec.latent_channels"), "${model.latent_channels}")  // unresolved, as upstream
        let overrides = try ConfigNode(contentsOf: dir.appendingPathComponent(".hydra/overrides.yaml"))
        XCTAssertEqual(overrides, ["model=nanowm_s2", "experiment.training.batch_size=2"])
        let hydra = try ConfigNode(contentsOf: dir.appendingPathComponent(".hydra/hydra.yaml"))
        XCTAssertEqual(hydra["hydra.runtime.choices.model"], "nanowm_s2")
        // A saved run config resolves on its own; `${hydra:runtime.output_dir}` becomes the run folder.
        let resolved = try saved.resolved(ResolveContext(environment: [:], outputDirectory: dir.path))
        XCTAssertEqual(try resolved.int("latent_codec.latent_channels"), 4)
        XCTAssertEqual(try resolved.string("logger.save_dir"), dir.standardizedFileURL.path + "/tb")
    }

    func testLocateConfigRoot() throws {
        let explicit = try ConfigComposer.locate(configDir: Self.configRoot.path, environment: [:])
        XCTAssertEqual(explicit.root.path, Self.configRoot.standardizedFileURL.path)
        let fromEnvironment = try ConfigComposer.locate(environment: [ConfigComposer.environmentVariable: Self.configRoot.path])
        XCTAssertEqual(fromEnvironment.root.path, Self.configRoot.standardizedFileURL.path)
        let repository = Self.configRoot.deletingLastPathComponent()
        let fromCheckout = try ConfigComposer.locate(environment: [:], currentDirectory: repository.appendingPathComponent("Sources").path,
                                                     executablePath: "/nonexistent/nanowm")
        XCTAssertEqual(fromCheckout.root.path, Self.configRoot.standardizedFileURL.path)
        let fromBinary = try ConfigComposer.locate(environment: [:], currentDirectory: "/",
                                                   executablePath: repository.appendingPathComponent(".build/release/nanowm").path)
        XCTAssertEqual(fromBinary.root.path, Self.configRoot.standardizedFileURL.path)
        assertError(.configRootNotFound, { try ConfigComposer.locate(configDir: "/nonexistent-config-dir", environment: [:]) })
        XCTAssertTrue(composer().options(in: "dataset").contains("dino_wm/pusht"))
        XCTAssertTrue(composer().groups.contains("experiment"))
    }
}
