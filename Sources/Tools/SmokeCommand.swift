import ArgumentParser
import Foundation
import SwiftTorch

/// A tiny end-to-end exercise of the tensor layer: fit a linear map with AdamW and report the
/// loss falling. It proves the build, the libtorch link and autograd work on this machine.
struct SmokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smoke",
        abstract: "Fit a small linear regression with AdamW to check the installation end to end.")

    @Option(help: "Optimisation steps.") var steps = 200
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Learning rate.") var lr = 0.05

    func run() throws {
        try manualSeed(seed)
        let inputs = try Tensor.randn([256, 8])
        let truth = try Tensor.randn([8, 1])
        let targets = try inputs.matmul(truth)
        let model = try Linear(8, 1)
        let optimizer = try AdamW(model.parameters(), learningRate: lr, weightDecay: 0)
        var first = 0.0, last = 0.0
        for step in 0..<steps {
            try optimizer.zeroGrad()
            let loss = try model(inputs).mseLoss(targets)
            try loss.backward()
            try optimizer.step()
            last = try loss.item(Double.self)
            if step == 0 { first = last }
        }
        print(String(format: "smoke: linear regression, %d AdamW steps: loss %.4g -> %.4g", steps, first, last))
        guard last < first * 0.01 else {
            throw ValidationError("smoke run did not converge (loss \(first) -> \(last)): the libtorch build may be broken")
        }
        print("smoke: ok")
    }
}
