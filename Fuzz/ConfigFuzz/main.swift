import Foundation
import NanoWMConfiguration

// libFuzzer target for the configuration parsers, built and run only by scripts/fuzz. Each
// input is read twice: as a YAML document (parsed, resolved, written back) and as command-line
// overrides, one per line, composed over a small tree with a group, defaults and
// interpolations. Config errors are the expected outcome; a crash or a hang is a finding.

private let context = ResolveContext(environment: ["HOME": "/home/fuzz"], now: Date(timeIntervalSince1970: 0),
                                     currentDirectory: "/fuzz")

/// The tree the overrides apply to, written once per process.
private let composer: ConfigComposer = {
    let base = ProcessInfo.processInfo.environment["NANOWM_FUZZ_SCRATCH"] ?? NSTemporaryDirectory()
    let root = URL(fileURLWithPath: base).appendingPathComponent("config-tree-\(getpid())")
    let files = [
        "config.yaml": "defaults:\n  - model: small\n  - _self_\nseed: 1\nrun:\n  name: ${model.name}_${seed}\n  dir: ${oc.env:HOME,/tmp}/runs\n  tags: [a, ${seed}]\nhydra:\n  run:\n    dir: out/${now:%Y}\n",
        "model/small.yaml": "name: small\nwidth: 64\nlayers: [1, 2, {depth: ${.width}}]\n",
        "model/large.yaml": "# @package model\nname: large\nwidth: 1024\n",
    ]
    for (path, text) in files {
        let url = root.appendingPathComponent(path)
        try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try! text.write(to: url, atomically: true, encoding: .utf8)
    }
    return ConfigComposer(root: root, environment: [:])
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func configFuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let tree = try? ConfigYAML.parse(text, source: "fuzz.yaml") {
        _ = try? tree.resolved(context)
        _ = tree.yaml
    }
    let overrides = text.split(separator: "\n").map(String.init)
    if let composition = try? composer.composition(overrides: overrides) {
        _ = try? composition.config.resolved(context)
        _ = composition.config.yaml
    }
    return 0
}
