// The quiet space constructor of cchipmunk.h.
#include "cchipmunk.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

cpSpace *cchipmunk_space_new(void) {
  // Only the first space of a process prints; later ones skip the redirection.
  static int banner_done = 0;
  if (banner_done) return cpSpaceNew();
  banner_done = 1;
  fflush(stdout);
  int saved = dup(STDOUT_FILENO);
  int null = open("/dev/null", O_WRONLY);
  if (saved < 0 || null < 0) {
    if (saved >= 0) close(saved);
    if (null >= 0) close(null);
    return cpSpaceNew();
  }
  dup2(null, STDOUT_FILENO);
  close(null);
  cpSpace *space = cpSpaceNew();
  fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved);
  return space;
}
