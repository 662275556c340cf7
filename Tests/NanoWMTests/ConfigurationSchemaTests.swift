import Foundation
import TestSupport
import XCTest
@testable import NanoWMConfiguration

/// Settings are decoded once, in the configuration target, and every key the decoders read is
/// one `KeyPolicy` says this build acts on (and every key it calls honoured is read).
final class ConfigurationSchemaTests: XCTestCase {
    /// A configuration key read by name: a ConfigNode accessor or subscript given a key of the
    /// configuration's sections, or a settings reader made outside the configuration target.
    static let keyRead = try! NSRegularExpression(pattern: [
        #"\.(int|double|string|bool|optionalInt|optionalDouble|optionalString|optionalBool|ifPresent|strings|value|contains)\("(experiment|model|dataset|latent_codec|planning|hydra|logger|wandb|ckpt_path)\b"#,
        #"\[\s*"(experiment|model|dataset|latent_codec|planning|hydra)\.[a-z_0-9.]+"\s*\]"#,
        #"SettingsReader\("#,
    ].joined(separator: "|"))

    func testNoKeyIsReadOutsideTheConfigurationTarget() throws {
        let root = PyTorchBaseline.repositoryRoot
        var readers: [String] = []
        for folder in ["Sources/NanoWMFormats", "Sources/NanoWMCore", "Sources/NanoWM", "Sources/Tools"] {
            let files = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)!
            for case let file as URL in files where file.pathExtension == "swift" {
                let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                for (number, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                    let text = String(line)
                    if Self.keyRead.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
                        readers.append("\(folder)/\(file.lastPathComponent):\(number + 1): \(text.trimmingCharacters(in: .whitespaces))")
                    }
                }
            }
        }
        XCTAssertEqual(readers, [], "keys are read by name outside Sources/NanoWMConfiguration; decode them into a settings struct there")
        // The pattern does catch a read.
        let sample = #"let lr = try config.double("experiment.training.optimizer.lr")"#
        XCTAssertNotNil(Self.keyRead.firstMatch(in: sample, range: NSRange(sample.startIndex..., in: sample)))
    }

    /// The keys the run's decoders read across every training and evaluation experiment.
    func keysReadByRuns() throws -> Set<String> {
        let composer = try ConfigComposer.locate()
        var keys: Set<String> = []
        for experiment in composer.options(in: "experiment") where experiment != "planning" {
            let config = try composer.composition(overrides: ["experiment=\(experiment)"]).resolved()
            keys.formUnion(try SettingsReader.keysRead { _ = try ExperimentSettings(config) })
        }
        return keys
    }

    func testEveryKeyTheDecodersReadIsOneThePolicyActsOn() throws {
        let keys = try keysReadByRuns()
        XCTAssertGreaterThan(keys.count, 60)
        for key in keys.sorted() {
            guard let rule = KeyPolicy.rule(for: key) else { XCTFail("\(key) is read but has no KeyPolicy rule"); continue }
            switch rule.treatment {
            case .honoured, .asReference, .inert: break
            case .interpolated, .ignored, .refused: XCTFail("\(key) is read, but KeyPolicy says: \(rule.explanation)")
            }
        }
    }

    func testEveryKeyThePolicyHonoursIsRead() throws {
        let keys = try keysReadByRuns()
        // Read by the composer itself rather than a settings struct.
        let composerKeys = ["hydra.run.dir"]
        for rule in KeyPolicy.table where rule.treatment == .honoured && !composerKeys.contains(rule.pattern) {
            let path = rule.pattern.hasSuffix(".*") ? String(rule.pattern.dropLast(2)) : rule.pattern
            XCTAssertTrue(keys.contains { $0 == path || $0.hasPrefix(path + ".") },
                          "KeyPolicy honours \(rule.pattern), but no settings decoder reads it")
        }
    }
}
