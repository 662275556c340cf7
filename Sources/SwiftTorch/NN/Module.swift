import CTorchShim

/// A neural-network building block, the Swift counterpart of `torch.nn.Module`.
///
/// Parameters, buffers and submodules are found by reflection over stored properties, so a
/// property's name *is* its state-dict name: a model that must load PyTorch checkpoints
/// names its properties as the PyTorch module does (`x_embedder`, `blocks`, `mlp`), and the
/// keys come out dotted the same way (`blocks.3.attn.qkv.weight`). Arrays of modules are
/// numbered like `nn.ModuleList`; `Sequential` numbers its layers like `nn.Sequential`.
open class Module {
    public private(set) var isTraining = true

    public init() {}

    /// Direct submodules with their names, in declaration order. Override only for
    /// containers whose PyTorch names are not property names (e.g. `Sequential`).
    open var namedChildren: [(String, Module)] {
        var result: [(String, Module)] = []
        forEachStoredProperty { name, value in
            if let module = value as? Module {
                result.append((name, module))
            } else if let modules = value as? [Module] {
                for (i, module) in modules.enumerated() { result.append(("\(name).\(i)", module)) }
            }
        }
        return result
    }

    /// This module's own parameter and buffer slots (not its children's).
    var localSlots: [(name: String, slot: TensorSlot)] {
        var result: [(String, TensorSlot)] = []
        forEachStoredProperty { name, value in
            if let slot = value as? TensorSlot { result.append((name, slot)) }
        }
        return result
    }

    private func forEachStoredProperty(_ body: (String, Any) -> Void) {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror {
            mirrors.append(m)
            mirror = m.superclassMirror
        }
        // Base-class properties first, as PyTorch registers a parent's members first.
        for m in mirrors.reversed() {
            for child in m.children {
                guard var name = child.label else { continue }
                // Property wrappers are stored as `_name`.
                if name.hasPrefix("_") { name.removeFirst() }
                body(name, child.value)
            }
        }
    }

    // MARK: Traversal

    /// Every module in the tree with its dotted path ("" for self), parents before children.
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var result = [(prefix, self)]
        for (name, child) in namedChildren {
            result += child.namedModules(prefix: prefix.isEmpty ? name : prefix + "." + name)
        }
        return result
    }

    private func namedSlots(where include: (TensorSlot) -> Bool) -> [(String, Tensor)] {
        var result: [(String, Tensor)] = []
        var seen = Set<ObjectIdentifier>()
        for (path, module) in namedModules() {
            for (name, slot) in module.localSlots where include(slot) {
                guard let tensor = slot.tensor, seen.insert(ObjectIdentifier(slot)).inserted else { continue }
                result.append((path.isEmpty ? name : path + "." + name, tensor))
            }
        }
        return result
    }

    public func namedParameters() -> [(String, Tensor)] {
        namedSlots { $0 is AnyParameter }
    }

    public func parameters() -> [Tensor] { namedParameters().map { $0.1 } }

    public func namedBuffers(includeNonPersistent: Bool = true) -> [(String, Tensor)] {
        namedSlots { slot in
            guard let buffer = slot as? AnyBuffer else { return false }
            return includeNonPersistent || buffer.isPersistent
        }
    }

    /// Number of scalars in all parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Parameters and persistent buffers under their PyTorch keys, in PyTorch's order
    /// (each module's own parameters, then its buffers, then its children).
    public func stateDict() -> [(String, Tensor)] {
        namedSlots { slot in
            if slot is AnyParameter { return true }
            return (slot as? AnyBuffer)?.isPersistent ?? false
        }
    }

    // MARK: Modes

    /// Sets training mode on this module and every descendant (`module.train(mode)`).
    public func train(_ on: Bool = true) {
        for (_, module) in namedModules() { module.isTraining = on }
    }

    /// Inference mode (`module.eval()`): dropout off.
    public func eval() { train(false) }

    /// Calls `body` on every module, children before parents (`module.apply(fn)`).
    public func apply(_ body: (Module) throws -> Void) rethrows {
        for (_, child) in namedChildren { try child.apply(body) }
        try body(self)
    }

    /// Moves every parameter and buffer; floating-point ones also change to `dtype` if given.
    public func to(_ device: Device, dtype: DType? = nil) throws {
        try device.ensureAvailable()
        for (_, module) in namedModules() {
            for (_, slot) in module.localSlots {
                guard let tensor = slot.tensor else { continue }
                let target = (dtype != nil && tensor.dtype.isFloatingPoint) ? dtype! : tensor.dtype
                if tensor.device == device && tensor.dtype == target { continue }
                try slot.replace(with: try tensor.to(device, target))
            }
        }
    }
}

/// Marker protocols so traversal can tell parameters from buffers without their generic type.
protocol AnyParameter {}
protocol AnyBuffer { var isPersistent: Bool { get } }
extension Parameter: AnyParameter {}
extension Buffer: AnyBuffer { var isPersistent: Bool { persistent } }

/// A module with one input and one output, composable in `Sequential`.
public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) throws -> Tensor
}
