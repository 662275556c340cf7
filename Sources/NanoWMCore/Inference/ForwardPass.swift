import SwiftTorch
import NanoWMFormats

/// `nanowm forward`: one pass of the model on `x` [B, F, C, H, W], `t` [B] or [B, F] (and
/// `action` [B, F, A]) from a safetensors file, `out` written to another. This file contract
/// is how NanoWM in Swift is compared with PyTorch from outside, so inputs are checked (and
/// floating types converted to float32) and a non-finite result is refused, never written.
///
/// With a gradients file, the pass also runs backward, for comparing training's arithmetic
/// from outside: the input file then holds `probe` (the shape of `out`), and the gradients of
/// `(out · probe).sum()` with respect to every parameter are written under the parameter's
/// state-dict key, as PyTorch's `p.grad` after the same call. A parameter the pass does not
/// reach (PyTorch's `grad` None) is left out of the file.
public enum ForwardPass {
    @discardableResult
    public static func run(_ model: NanoWMModel, device: Device, input: String, output: String,
                           gradients: String? = nil) throws -> [Int] {
        let file = try InputFile(input)
        let config = model.config
        let layout = "[B, F, \(config.inChannels), \(config.inputSize), \(config.inputSize)]"
        let x = try file.values("x", layout: layout)
        guard x.shape.count == 5, Array(x.shape[2...]) == [config.inChannels, config.inputSize, config.inputSize] else {
            throw DataError("\(input): x has shape \(x.shape); the model takes \(layout)")
        }
        let t = try file.timesteps("t", layout: "[B] or [B, F]")
        var action: Tensor?
        if config.useAction {
            action = try file.values("action", layout: "[B, F, \(config.actionDim ?? 0)]").to(device)
        }
        let probe = try gradients.map { _ in try file.values("probe", layout: "the shape of out, \(x.shape)") }
        if let probe, probe.shape != x.shape {
            throw DataError("\(input): probe has shape \(probe.shape); it weights out, whose shape is \(x.shape)")
        }
        let forward = { try model(try x.to(device), t: try t.to(device), action: action) }
        let out = try probe == nil ? withNoGrad(forward) : withGradMode(true, forward)
        let bad = try InputFile.nonFiniteCount(out)
        guard bad == 0 else {
            throw DiffusionError("the output holds \(bad) NaN/Inf value(s) of \(out.count), so nothing was written to \(output); the checkpoint's weights are likely not finite")
        }
        if let probe, let gradients {
            try SafeTensors.write(try parameterGradients(model, out: out, probe: try probe.to(device)), to: gradients)
        }
        try SafeTensors.write(["out": try out.detach().to(.cpu)], to: output)
        return out.shape
    }

    /// The gradients of `(out · probe).sum()` for every parameter the pass reached, on the CPU.
    static func parameterGradients(_ model: NanoWMModel, out: Tensor, probe: Tensor) throws -> [String: Tensor] {
        let parameters = model.namedParameters()
        for (_, parameter) in parameters { try parameter.zeroGrad() }
        try (out * probe).sum().backward()
        var result: [String: Tensor] = [:]
        for (name, parameter) in parameters {
            guard let gradient = parameter.grad else { continue }
            let bad = try InputFile.nonFiniteCount(gradient)
            guard bad == 0 else {
                throw DiffusionError("the gradient of \(name) holds \(bad) NaN/Inf value(s), so no gradients were written")
            }
            result[name] = try gradient.to(.cpu)
        }
        return result
    }
}
