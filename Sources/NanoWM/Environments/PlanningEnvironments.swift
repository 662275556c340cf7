/// The environments `planning.env_name` can name, built for a model whose frames are
/// `imageSize`² (the wall renders at that size directly; others render at their own size and
/// frames are resized for the model).
public enum PlanningEnvironments {
    public static let names = ["builtin_wall"]

    public static func make(_ name: String, imageSize: Int) throws -> any PlanningEnvironment {
        switch name {
        case "builtin_wall":
            return WallEnvironment(resolution: imageSize, start: (x: 0.25, y: 0.5))
        // MERGE POINT (branch pusht): register PushT ("pusht") and point maze ("point_maze") here,
        // and add their names to `names`.
        default:
            throw ConfigError(.unsupported, "planning.env_name '\(name)' is not available in this build (available: \(names.joined(separator: ", ")))")
        }
    }
}
