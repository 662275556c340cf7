// MuJoCo's C library (Debian libmujoco-dev 2.2.2) for the point-maze environment, plus headless
// offscreen rendering through EGL (Mesa's surfaceless platform: no display, no X server). Swift
// calls MuJoCo's own API through this module; the additions guard MuJoCo's error handler (which
// would otherwise end the process) and own the GL context. Failures return non-zero or NULL and
// fill `error`.
#ifndef CMUJOCO_H
#define CMUJOCO_H

#include <stddef.h>
#include <mujoco/mujoco.h>

#ifdef __cplusplus
extern "C" {
#endif

/// mj_loadXML with MuJoCo's fatal errors turned into a NULL result and a message.
mjModel *cmujoco_load_xml(const char *path, char *error, size_t error_size);

/// `count` calls of mj_step; non-zero with a message if MuJoCo raised an error.
int cmujoco_step(const mjModel *model, mjData *data, int count, char *error, size_t error_size);

/// mj_forward, guarded like cmujoco_step.
int cmujoco_forward(const mjModel *model, mjData *data, char *error, size_t error_size);

typedef struct cmujoco_renderer *cmujoco_renderer_t;

/// An offscreen renderer of `width`×`height` for `model`: an EGL context (surfaceless), MuJoCo's
/// scene and render context (font scale 150, as mujoco-py makes it).
cmujoco_renderer_t cmujoco_renderer_new(const mjModel *model, int width, int height, char *error,
                                        size_t error_size);

/// Renders `data` from a free camera (lookat, distance, azimuth, elevation in degrees) and
/// copies the RGB pixels as glReadPixels returns them (bottom row first) into `rgb`
/// (width·height·3 bytes). Returns 0 on success.
int cmujoco_render(cmujoco_renderer_t renderer, const mjModel *model, mjData *data, const double lookat[3],
                   double distance, double azimuth, double elevation, unsigned char *rgb, char *error,
                   size_t error_size);

void cmujoco_renderer_free(cmujoco_renderer_t renderer);

#ifdef __cplusplus
}
#endif

#endif
