extension ConfigNode {
    /// `dataset.frame_interval`: the raw steps from one frame of a clip to the next (the
    /// reference also widens each action to this many steps' actions). 1 when the key is absent
    /// or null, as the reference's loaders default it; it must be positive. The one place the
    /// key is read.
    public func frameInterval() throws -> Int {
        let interval = try ifPresent("dataset.frame_interval", optionalInt) ?? 1
        guard interval > 0 else { throw ConfigError(.invalidValue, "dataset.frame_interval must be positive, got \(interval)") }
        return interval
    }
}
