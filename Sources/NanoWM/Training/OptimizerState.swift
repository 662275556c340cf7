import SwiftTorch

/// AdamW's state in `torch.optim.AdamW.state_dict()` layout, so optimizer state moves between
/// our checkpoints and upstream's Lightning checkpoints in both directions.
enum OptimizerState {
    static func pickle(_ optimizer: AdamW) throws -> PickleValue {
        let state = PickleDict()
        for (i, entry) in optimizer.state.enumerated() {
            guard let entry else { continue }
            let record = PickleDict()
            // torch keeps `step` as a float32 scalar tensor.
            record["step"] = .tensor(TensorRef(try Tensor.full([], .double(Double(entry.step)))))
            record["exp_avg"] = .tensor(TensorRef(entry.expAvg))
            record["exp_avg_sq"] = .tensor(TensorRef(entry.expAvgSq))
            state.set(.int(i), .dict(record))
        }
        let group = PickleDict([
            ("lr", .float(optimizer.learningRate)),
            ("betas", .tuple([.float(optimizer.betas.0), .float(optimizer.betas.1)])),
            ("eps", .float(optimizer.eps)),
            ("weight_decay", .float(optimizer.weightDecay)),
            ("amsgrad", .bool(false)), ("foreach", .none), ("maximize", .bool(false)),
            ("capturable", .bool(false)), ("differentiable", .bool(false)), ("fused", .none),
            ("decoupled_weight_decay", .bool(true)),
            ("params", .list(PickleList(optimizer.parameters.indices.map { .int($0) }))),
        ])
        return .dict(PickleDict([("state", .dict(state)), ("param_groups", .list(PickleList([.dict(group)])))]))
    }

    /// Restores moments and step counts; shapes must match the optimizer's parameters.
    static func restore(_ optimizer: AdamW, from value: PickleValue, source: String) throws {
        guard case .dict(let state)? = value["state"] else { throw CheckpointError(source, "optimizer state has no 'state' dict") }
        for (key, record) in state.entries {
            guard let index = key.int, index >= 0, index < optimizer.parameters.count else {
                throw CheckpointError(source, "optimizer state names parameter \(key) but the model has \(optimizer.parameters.count)")
            }
            guard let stepRef = record["step"], let avg = record["exp_avg"]?.tensor, let avgSq = record["exp_avg_sq"]?.tensor else {
                throw CheckpointError(source, "optimizer state of parameter \(index) lacks step, exp_avg or exp_avg_sq")
            }
            let step: Int
            if let ref = stepRef.tensor { step = Int(try ref.load().item(Double.self)) } else { step = stepRef.int ?? 0 }
            let parameter = optimizer.parameters[index]
            guard avg.shape == parameter.shape, avgSq.shape == parameter.shape else {
                throw CheckpointError(source, "optimizer moments of parameter \(index) have shape \(avg.shape), the parameter \(parameter.shape)")
            }
            try optimizer.setState(AdamW.State(step: step, expAvg: try avg.load().to(parameter.device, parameter.dtype).clone(),
                                               expAvgSq: try avgSq.load().to(parameter.device, parameter.dtype).clone()),
                                   forParameter: index)
        }
    }
}
