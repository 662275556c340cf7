// Debian's Chipmunk2D 7.0.3 (libchipmunk-dev), the engine pymunk wraps, for the PushT environment.
// Swift calls Chipmunk's own API through this module; the one addition is a quiet space constructor.
#ifndef CCHIPMUNK_H
#define CCHIPMUNK_H

#include <chipmunk/chipmunk.h>

#ifdef __cplusplus
extern "C" {
#endif

/// cpSpaceNew without the banner Debian's debug build prints to stdout on the first space of a
/// process ("Initializing cpSpace - Chipmunk v7.0.3 (Debug Enabled)"), which would corrupt a
/// command's standard output. Physics are untouched.
cpSpace *cchipmunk_space_new(void);

#ifdef __cplusplus
}
#endif

#endif
