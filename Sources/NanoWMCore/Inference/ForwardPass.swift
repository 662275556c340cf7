import SwiftTorch
import NanoWMFormats

/// `nanowm forward`: one pass of the model on `x` [B, F, C, H, W], `t` [B] or [B, F] (and
/// `action` [B, F, A]) from a safetensors file, `out` written to another. This file contract
/// is how NanoWM in Swift is compared with PyTorch from outside, so inputs are checked (and
/// floating types converted to float32) and a non-finite result is refused, never written.
public enum ForwardPass {
    @discardableResult
    public static func run(_ model: NanoWMModel, device: Device, input: String, output: String) throws -> [Int] {
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
        let out = try withNoGrad { try model(try x.to(device), t: try t.to(device), action: action) }
        let bad = try InputFile.nonFiniteCount(out)
        guard bad == 0 else {
            throw DiffusionError("the output holds \(bad) NaN/Inf value(s) of \(out.count), so nothing was written to \(output); the checkpoint's weights are likely not finite")
        }
        try SafeTensors.write(["out": try out.to(.cpu)], to: output)
        return out.shape
    }
}
