import NanoWMConfiguration
/// The environments `planning.env_name` can name, built for a model whose frames are
/// `imageSize`² (the wall renders at that size directly; others render at their own size and
/// frames are resized for the model).
public enum PlanningEnvironments {
    public static let names = ["builtin_wall", "pusht", "point_maze"]

    public static func make(_ name: String, imageSize: Int) throws -> any PlanningEnvironment {
        switch name {
        case "builtin_wall":
            return WallEnvironment(resolution: imageSize, start: (x: 0.25, y: 0.5))
        case "pusht":
            // Upstream's registry: PushTWrapper(with_velocity=True, with_target=True), 224×224 frames.
            return PushTEnvironment()
        case "point_maze":
            // Upstream's registry: the U-maze, sparse reward, no target reset, 224×224 frames.
            return try PointMazeEnvironment()
        default:
            throw ConfigError(.unsupported, "planning.env_name '\(name)' is not available in this build (available: \(names.joined(separator: ", ")))")
        }
    }
}
