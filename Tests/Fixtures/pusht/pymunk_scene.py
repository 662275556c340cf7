"""A re-statement of upstream's PushT scene (src/environments/pusht/pusht_env.py) on pymunk and
pygame alone, for the live tests on machines without a reference checkout (PushTLiveTests).

Written from the reference's definitions, not copied: the same bodies, shapes, builder quirks
(the T always at scale 30, the T's and "+"'s moments from the first box), wall segments, set-state
order, PD control expressions (kept in upstream's form so NumPy promotes float32 actions the
same way), goal zone, DrawOptions drawing and cv2 resize. The committed fixture made from the
reference itself (make_pusht_fixtures.py) is the authority; this file checks that the Swift
environment agrees with pymunk/pygame on the machine running the tests.
"""
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import cv2
import numpy as np
import pygame
import pymunk
from pymunk.space_debug_draw_options import SpaceDebugColor
from pymunk.vec2d import Vec2d

SIM_HZ, CONTROL_HZ, K_P, K_V, SCALE = 100, 10, 100, 20, 100


def _polygons(shape, s):
    if shape == "T":
        s = 30
        return [[(-2 * s, s), (2 * s, s), (2 * s, 0), (-2 * s, 0)],
                [(-s / 2, s), (-s / 2, 4 * s), (s / 2, 4 * s), (s / 2, s)]], [0, 0]
    if shape == "small_tee":
        return [[(-3 * s / 2, s), (3 * s / 2, s), (3 * s / 2, 0), (-3 * s / 2, 0)],
                [(-s / 2, s), (-s / 2, 2 * s), (s / 2, 2 * s), (s / 2, s)]], [0, 1]
    if shape == "+":
        return [[(-3 * s / 2, s / 2), (3 * s / 2, s / 2), (3 * s / 2, -s / 2), (-3 * s / 2, -s / 2)],
                [(-s / 2, s / 2), (-s / 2, 3 * s / 2), (s / 2, s / 2), (s / 2, 3 * s / 2)],
                [(-s / 2, -s / 2), (-s / 2, -3 * s / 2), (s / 2, -s / 2), (s / 2, -3 * s / 2)]], [0, 0, 0]
    if shape == "L":
        return [[(0, 0), (0, 2 * s), (s, 2 * s), (s, 0)], [(0, 0), (2 * s, 0), (2 * s, -s), (0, -s)]], [0, 1]
    if shape == "Z":
        return [[(0, 0), (0, s), (2 * s, s), (2 * s, 0)], [(-s, 0), (s, 0), (s, -s), (-s, -s)]], [0, 1]
    if shape == "square":
        return [[(-s, -s), (-s, s), (s, s), (s, -s)]], [0]
    if shape == "I":
        return [[(-s / 2, -2 * s), (-s / 2, 2 * s), (s / 2, 2 * s), (s / 2, -2 * s)]], [0]
    raise ValueError(shape)


class Scene:
    def __init__(self, shape="T"):
        self.space = space = pymunk.Space()
        space.gravity = 0, 0
        space.damping = 0
        walls = [pymunk.Segment(space.static_body, a, b, 2) for a, b in
                 [((5, 506), (5, 5)), ((5, 5), (506, 5)), ((506, 5), (506, 506)), ((5, 506), (506, 506))]]
        for w in walls:
            w.color = pygame.Color("LightGray")
        space.add(*walls)
        self.agent = pymunk.Body(body_type=pymunk.Body.KINEMATIC)
        self.agent.position = (256, 400)
        disc = pymunk.Circle(self.agent, 15)
        disc.color = pygame.Color("RoyalBlue")
        space.add(self.agent, disc)
        parts, moment_sources = _polygons(shape, 40)
        moment = 0
        for i, source in enumerate(moment_sources):
            m = pymunk.moment_for_poly(1, vertices=parts[source])
            moment = m if i == 0 else moment + m
        self.block = pymunk.Body(1, moment)
        self.shapes = [pymunk.Poly(self.block, p) for p in parts]
        for p in self.shapes:
            p.color = pygame.Color("LightSlateGray")
        cog = self.shapes[0].center_of_gravity
        for p in self.shapes[1:]:
            cog = cog + p.center_of_gravity
        self.block.center_of_gravity = cog if len(self.shapes) == 1 else cog / len(self.shapes)
        self.block.position = (256, 300)
        self.block.angle = 0
        space.add(self.block, *self.shapes)

    def set_state(self, state):
        state = list(state)
        self.agent.velocity = tuple(state[5:7]) if len(state) == 7 else (0, 0)
        self.agent.position = state[:2]
        self.block.angle = state[4]
        self.block.position = state[2:4]
        self.space.step(1.0 / SIM_HZ)

    def step(self, action):
        dt = 1.0 / SIM_HZ
        action = self.agent.position + np.array(action) * SCALE
        for _ in range(SIM_HZ // CONTROL_HZ):
            acceleration = K_P * (action - self.agent.position) + K_V * (Vec2d(0, 0) - self.agent.velocity)
            self.agent.velocity += acceleration * dt
            self.space.step(dt)

    def values(self):
        a, b, v = self.agent.position, self.block.position, self.agent.velocity
        return [a.x, a.y, b.x, b.y, self.block.angle, v.x, v.y]

    def render(self, size=224):
        canvas = pygame.Surface((512, 512))
        canvas.fill((255, 255, 255))
        goal = pymunk.Body(1, pymunk.moment_for_box(1, (50, 100)))
        goal.position = [256.0, 256.0]
        goal.angle = np.pi / 4
        for p in self.shapes:
            points = [_pixel(goal.local_to_world(v)) for v in p.get_vertices()]
            pygame.draw.polygon(canvas, pygame.Color("LightGreen"), points + [points[0]])
        self.space.debug_draw(_Draw(canvas))
        img = np.transpose(np.array(pygame.surfarray.pixels3d(canvas)), axes=(1, 0, 2))
        return cv2.resize(img, (size, size))


def _pixel(p):
    return round(p[0]), round(p[1])


def _light(c):
    c = np.minimum(1.2 * np.float32([c.r, c.g, c.b, c.a]), np.float32([255]))
    return SpaceDebugColor(*c)


class _Draw(pymunk.SpaceDebugDrawOptions):
    def __init__(self, surface):
        self.surface = surface
        super().__init__()

    def draw_circle(self, pos, angle, radius, outline_color, fill_color):
        p = _pixel(pos)
        pygame.draw.circle(self.surface, fill_color.as_int(), p, round(radius), 0)
        pygame.draw.circle(self.surface, _light(fill_color).as_int(), p, round(radius - 4), 0)

    def draw_segment(self, a, b, color):
        pygame.draw.aalines(self.surface, color.as_int(), False, [_pixel(a), _pixel(b)])

    def draw_fat_segment(self, a, b, radius, outline_color, fill_color):
        p1, p2 = _pixel(a), _pixel(b)
        r = round(max(1, radius * 2))
        pygame.draw.lines(self.surface, fill_color.as_int(), False, [p1, p2], r)
        if r <= 2:
            return
        n = [abs(p2[1] - p1[1]), abs(p2[0] - p1[0])]
        if n == [0, 0]:
            return
        k = radius / (n[0] * n[0] + n[1] * n[1]) ** 0.5
        n = [round(n[0] * k), round(n[1] * k)]
        pygame.draw.polygon(self.surface, fill_color.as_int(), [
            (p1[0] - n[0], p1[1] - n[1]), (p1[0] + n[0], p1[1] + n[1]),
            (p2[0] + n[0], p2[1] + n[1]), (p2[0] - n[0], p2[1] - n[1])])
        pygame.draw.circle(self.surface, fill_color.as_int(), p1, round(radius))
        pygame.draw.circle(self.surface, fill_color.as_int(), p2, round(radius))

    def draw_polygon(self, verts, radius, outline_color, fill_color):
        points = [_pixel(v) for v in verts]
        pygame.draw.polygon(self.surface, _light(fill_color).as_int(), points + [points[0]])
        for i in range(len(verts)):
            self.draw_fat_segment(verts[i], verts[(i + 1) % len(verts)], 2, fill_color, fill_color)

    def draw_dot(self, size, pos, color):
        pygame.draw.circle(self.surface, color.as_int(), _pixel(pos), round(size), 0)
