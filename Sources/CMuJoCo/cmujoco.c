// MuJoCo guards and EGL offscreen rendering behind cmujoco.h.
#include "cmujoco.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// MuJoCo reports fatal errors through mju_user_error and expects it not to return; a jump back
// to the guarded call turns them into error results instead of ending the process.
static _Thread_local jmp_buf *guard = NULL;
static _Thread_local char guard_message[512];

static void on_error(const char *message) {
  snprintf(guard_message, sizeof guard_message, "%s", message);
  if (guard) longjmp(*guard, 1);
  fprintf(stderr, "MuJoCo error outside a guarded call: %s\n", message);
  abort();
}

static void report(char *error, size_t size, const char *message) {
  if (error && size > 0) snprintf(error, size, "%s", message);
}

#define GUARDED(failure, body)                         \
  do {                                                 \
    jmp_buf here;                                      \
    jmp_buf *outer = guard;                            \
    mju_user_error = on_error;                         \
    if (setjmp(here)) {                                \
      guard = outer;                                   \
      report(error, error_size, guard_message);        \
      return failure;                                  \
    }                                                  \
    guard = &here;                                     \
    body;                                              \
    guard = outer;                                     \
  } while (0)

mjModel *cmujoco_load_xml(const char *path, char *error, size_t error_size) {
  mjModel *model = NULL;
  GUARDED(NULL, model = mj_loadXML(path, NULL, error, (int)error_size));
  return model;
}

int cmujoco_step(const mjModel *model, mjData *data, int count, char *error, size_t error_size) {
  GUARDED(1, for (int i = 0; i < count; i++) mj_step(model, data));
  return 0;
}

int cmujoco_forward(const mjModel *model, mjData *data, char *error, size_t error_size) {
  GUARDED(1, mj_forward(model, data));
  return 0;
}

// EGL is opened at the first renderer, not linked: `nanowm` then starts on machines without
// EGL, and only point-maze rendering needs it. RTLD_GLOBAL lets MuJoCo's GL loader find
// eglGetProcAddress.
static struct {
  int loaded;
  PFNEGLGETPROCADDRESSPROC GetProcAddress;
  PFNEGLGETDISPLAYPROC GetDisplay;
  PFNEGLINITIALIZEPROC Initialize;
  PFNEGLCHOOSECONFIGPROC ChooseConfig;
  PFNEGLBINDAPIPROC BindAPI;
  PFNEGLCREATECONTEXTPROC CreateContext;
  PFNEGLMAKECURRENTPROC MakeCurrent;
  PFNEGLDESTROYCONTEXTPROC DestroyContext;
} egl;

static int load_egl(char *error, size_t error_size) {
  if (egl.loaded) return 0;
  void *library = dlopen("libEGL.so.1", RTLD_NOW | RTLD_GLOBAL);
  if (!library) {
    report(error, error_size, "libEGL.so.1 is missing (install Debian's libegl1, libegl-mesa0 and libgl1-mesa-dri)");
    return 1;
  }
  egl.GetProcAddress = (PFNEGLGETPROCADDRESSPROC)dlsym(library, "eglGetProcAddress");
  egl.GetDisplay = (PFNEGLGETDISPLAYPROC)dlsym(library, "eglGetDisplay");
  egl.Initialize = (PFNEGLINITIALIZEPROC)dlsym(library, "eglInitialize");
  egl.ChooseConfig = (PFNEGLCHOOSECONFIGPROC)dlsym(library, "eglChooseConfig");
  egl.BindAPI = (PFNEGLBINDAPIPROC)dlsym(library, "eglBindAPI");
  egl.CreateContext = (PFNEGLCREATECONTEXTPROC)dlsym(library, "eglCreateContext");
  egl.MakeCurrent = (PFNEGLMAKECURRENTPROC)dlsym(library, "eglMakeCurrent");
  egl.DestroyContext = (PFNEGLDESTROYCONTEXTPROC)dlsym(library, "eglDestroyContext");
  if (!egl.GetProcAddress || !egl.GetDisplay || !egl.Initialize || !egl.ChooseConfig || !egl.BindAPI ||
      !egl.CreateContext || !egl.MakeCurrent || !egl.DestroyContext) {
    report(error, error_size, "libEGL.so.1 lacks an EGL 1.4 function");
    return 1;
  }
  egl.loaded = 1;
  return 0;
}

struct cmujoco_renderer {
  EGLDisplay display;
  EGLContext context;
  int width, height;
  mjvScene scene;
  mjvOption option;
  mjrContext render;
};

static int make_current(cmujoco_renderer_t r) {
  return egl.MakeCurrent(r->display, EGL_NO_SURFACE, EGL_NO_SURFACE, r->context) ? 0 : 1;
}

// A desktop-GL context with no surface: MuJoCo draws into its own offscreen framebuffer.
static int open_context(cmujoco_renderer_t r, char *error, size_t error_size) {
  if (load_egl(error, error_size)) return 1;
  PFNEGLGETPLATFORMDISPLAYEXTPROC platform_display =
      (PFNEGLGETPLATFORMDISPLAYEXTPROC)egl.GetProcAddress("eglGetPlatformDisplayEXT");
  r->display = EGL_NO_DISPLAY;
  if (platform_display) r->display = platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
  if (r->display == EGL_NO_DISPLAY) r->display = egl.GetDisplay(EGL_DEFAULT_DISPLAY);
  EGLint major, minor;
  if (r->display == EGL_NO_DISPLAY || !egl.Initialize(r->display, &major, &minor)) {
    report(error, error_size, "EGL could not be initialised (install Mesa's EGL: libegl-mesa0 and libgl1-mesa-dri)");
    return 1;
  }
  const EGLint attributes[] = {EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8,
                               EGL_DEPTH_SIZE, 24, EGL_STENCIL_SIZE, 8, EGL_SURFACE_TYPE, EGL_PBUFFER_BIT,
                               EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE};
  EGLConfig config;
  EGLint count = 0;
  if (!egl.ChooseConfig(r->display, attributes, &config, 1, &count) || count < 1) {
    report(error, error_size, "EGL offers no desktop OpenGL configuration with depth and stencil");
    return 1;
  }
  if (!egl.BindAPI(EGL_OPENGL_API)) {
    report(error, error_size, "EGL cannot bind desktop OpenGL");
    return 1;
  }
  r->context = egl.CreateContext(r->display, config, EGL_NO_CONTEXT, NULL);
  if (r->context == EGL_NO_CONTEXT || make_current(r)) {
    report(error, error_size, "EGL could not create or activate an OpenGL context");
    return 1;
  }
  return 0;
}

// MuJoCo's scene and GL resources, as mujoco-py makes them (font scale 150, offscreen buffer).
static int make_scene(cmujoco_renderer_t r, const mjModel *model, char *error, size_t error_size) {
  GUARDED(1, {
    mjv_makeScene(model, &r->scene, 1000);
    mjr_makeContext(model, &r->render, mjFONTSCALE_150);
    mjr_setBuffer(mjFB_OFFSCREEN, &r->render);
  });
  return 0;
}

cmujoco_renderer_t cmujoco_renderer_new(const mjModel *model, int width, int height, char *error,
                                        size_t error_size) {
  cmujoco_renderer_t r = calloc(1, sizeof *r);
  if (!r) { report(error, error_size, "out of memory for the renderer"); return NULL; }
  if (open_context(r, error, error_size)) { free(r); return NULL; }
  r->width = width;
  r->height = height;
  mjv_defaultScene(&r->scene);
  mjv_defaultOption(&r->option);
  mjr_defaultContext(&r->render);
  if (make_scene(r, model, error, error_size)) {
    cmujoco_renderer_free(r);
    return NULL;
  }
  if (r->render.offWidth < width || r->render.offHeight < height) {
    report(error, error_size, "the model's offscreen buffer is smaller than the requested frame");
    cmujoco_renderer_free(r);
    return NULL;
  }
  return r;
}

int cmujoco_render(cmujoco_renderer_t r, const mjModel *model, mjData *data, const double lookat[3],
                   double distance, double azimuth, double elevation, unsigned char *rgb, char *error,
                   size_t error_size) {
  if (make_current(r)) { report(error, error_size, "EGL could not activate the renderer's context"); return 1; }
  mjvCamera camera;
  mjv_defaultCamera(&camera);
  camera.type = mjCAMERA_FREE;
  camera.fixedcamid = -1;
  for (int i = 0; i < 3; i++) camera.lookat[i] = lookat[i];
  camera.distance = distance;
  camera.azimuth = azimuth;
  camera.elevation = elevation;
  mjrRect viewport = {0, 0, r->width, r->height};
  GUARDED(1, {
    mjr_setBuffer(mjFB_OFFSCREEN, &r->render);
    mjv_updateScene(model, data, &r->option, NULL, &camera, mjCAT_ALL, &r->scene);
    mjr_render(viewport, &r->scene, &r->render);
    mjr_readPixels(rgb, NULL, viewport, &r->render);
  });
  return 0;
}

void cmujoco_renderer_free(cmujoco_renderer_t r) {
  if (!r) return;
  if (r->context != EGL_NO_CONTEXT && r->context) {
    make_current(r);
    mjr_freeContext(&r->render);
    mjv_freeScene(&r->scene);
    egl.MakeCurrent(r->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    egl.DestroyContext(r->display, r->context);
  }
  free(r);
}
