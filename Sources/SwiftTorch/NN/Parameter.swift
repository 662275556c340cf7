/// A tensor slot a `Module` finds by reflection. Property wrappers below conform to it so
/// that `@Parameter var weight: Tensor` is named `weight` in the state dict.
public protocol TensorSlot: AnyObject {
    var tensor: Tensor? { get }
    /// Puts a new tensor in the slot (used by dtype/device moves).
    func replace(with tensor: Tensor) throws
}

/// Types a slot can hold: a tensor, or an optional one (`bias` may be absent).
public protocol TensorSlotValue {
    var slotTensor: Tensor? { get }
    static func fromSlot(_ tensor: Tensor) -> Self
}

extension Tensor: TensorSlotValue {
    public var slotTensor: Tensor? { self }
    public static func fromSlot(_ tensor: Tensor) -> Tensor { tensor }
}

extension Optional: TensorSlotValue where Wrapped == Tensor {
    public var slotTensor: Tensor? { self }
    public static func fromSlot(_ tensor: Tensor) -> Tensor? { tensor }
}

/// A learnable tensor of a module: part of `parameters()` and of the state dict.
/// Assigning a tensor marks it as requiring gradients, as `nn.Parameter` does.
@propertyWrapper
public final class Parameter<Value: TensorSlotValue>: TensorSlot {
    public var wrappedValue: Value {
        didSet { markLeaf() }
    }

    public init(wrappedValue: Value) {
        self.wrappedValue = wrappedValue
        markLeaf()
    }

    private func markLeaf() {
        if let t = wrappedValue.slotTensor, t.dtype.isFloatingPoint, !t.requiresGrad {
            _ = try? t.requiresGrad_(true)
        }
    }

    public var tensor: Tensor? { wrappedValue.slotTensor }

    public func replace(with tensor: Tensor) throws {
        wrappedValue = Value.fromSlot(try tensor.detach())
    }
}

/// A non-learnable tensor of a module. Persistent buffers are saved in the state dict;
/// non-persistent ones (e.g. RoPE tables recomputed at construction) are not.
@propertyWrapper
public final class Buffer<Value: TensorSlotValue>: TensorSlot {
    public var wrappedValue: Value
    public let persistent: Bool

    public init(wrappedValue: Value, persistent: Bool = true) {
        self.wrappedValue = wrappedValue
        self.persistent = persistent
    }

    public var tensor: Tensor? { wrappedValue.slotTensor }

    public func replace(with tensor: Tensor) throws {
        wrappedValue = Value.fromSlot(tensor)
    }
}
