import Foundation

/// The MuJoCo model of D4RL's point maze as upstream builds it (`maze_model.point_maze`): a
/// sphere of radius 0.1 on two slide joints (damping 1) driven by two motors (gear 100, control
/// range ±1), 1×1×0.4 wall boxes at (row+1, column+1) for every '#' of the maze, Euler at 10 ms,
/// 20 solver iterations, no gravity, and upstream's textures, materials and lighting.
public enum PointMazeModel {
    /// D4RL's U-maze (rows separated by backslashes, as upstream writes it).
    public static let uMaze = "#####\\#GOO#\\###O#\\#OOO#\\#####"

    /// The maze's rows; '#' is a wall, 'O', '0', ' ' and 'G' are free.
    static func rows(_ maze: String) throws -> [[Character]] {
        let rows = maze.split(separator: "\\", omittingEmptySubsequences: false).map(Array.init)
        for (r, row) in rows.enumerated() {
            if let bad = row.first(where: { !"#OG0 ".contains($0) }) {
                throw PointMazeError("maze row \(r) has tile '\(bad)': use '#' for walls and 'O', '0', ' ' or 'G' for free cells")
            }
        }
        return rows
    }

    /// The model's XML.
    public static func xml(maze: String = uMaze) throws -> String {
        var walls = ""
        for (r, row) in try rows(maze).enumerated() {
            for (c, tile) in row.enumerated() where tile == "#" {
                walls += "    <geom conaffinity=\"1\" type=\"box\" name=\"wall_\(r)_\(c)\" material=\"wall\" "
                    + "pos=\"\(Double(r + 1)) \(Double(c + 1)) 0\" size=\"0.5 0.5 0.2\"/>\n"
            }
        }
        return """
        <mujoco model="point_maze">
          <compiler inertiafromgeom="true" angle="radian" coordinate="local"/>
          <option timestep="0.01" gravity="0 0 0" iterations="20" integrator="Euler"/>
          <default>
            <joint damping="1" limited="false"/>
            <geom friction=".5 .1 .1" density="1000" margin="0.002" condim="1" contype="2" conaffinity="1"/>
          </default>
          <asset>
            <texture type="2d" name="groundplane" builtin="checker" rgb1="0.2 0.3 0.4" rgb2="0.1 0.2 0.3" width="100" height="100"/>
            <texture name="skybox" type="skybox" builtin="gradient" rgb1=".4 .6 .8" rgb2="0 0 0" width="800" height="800" mark="random" markrgb="1 1 1"/>
            <material name="groundplane" texture="groundplane" texrepeat="20 20"/>
            <material name="wall" rgba=".7 .5 .3 1"/>
            <material name="target" rgba=".6 .3 .3 1"/>
          </asset>
          <visual>
            <headlight ambient=".4 .4 .4" diffuse=".8 .8 .8" specular="0.1 0.1 0.1"/>
            <map znear="0.01"/>
            <quality shadowsize="2048"/>
          </visual>
          <worldbody>
            <geom name="ground" size="40 40 0.25" pos="0 0 -0.1" type="plane" contype="1" conaffinity="0" material="groundplane"/>
            <body name="particle" pos="1.2 1.2 0">
              <geom name="particle_geom" type="sphere" size="0.1" rgba="0 0 1 0" contype="1"/>
              <site name="particle_site" pos="0 0 0" size="0.2" rgba="0.3 0.6 0.3 1"/>
              <joint name="ball_x" type="slide" pos="0 0 0" axis="1 0 0"/>
              <joint name="ball_y" type="slide" pos="0 0 0" axis="0 1 0"/>
            </body>
            <site name="target_site" pos="0 0 0" size="0.2" material="target"/>
        \(walls)  </worldbody>
          <actuator>
            <motor joint="ball_x" ctrlrange="-1.0 1.0" ctrllimited="true" gear="100"/>
            <motor joint="ball_y" ctrlrange="-1.0 1.0" ctrllimited="true" gear="100"/>
          </actuator>
        </mujoco>
        """
    }
}

/// A point-maze environment error: one line naming what is wrong and how to fix it.
public struct PointMazeError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}
