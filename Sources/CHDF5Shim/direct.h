// libhdf5 called in this process. Only the HDF5 reader process (reader.c) calls these: libhdf5
// 1.10 crashes on some damaged files, and there a crash ends the reader, not the program.
// The reader is single-threaded, so these take no lock.
#ifndef CHDF5_DIRECT_H
#define CHDF5_DIRECT_H

#include "chdf5.h"

typedef struct chdf5_direct *chdf5_direct_t;

chdf5_direct_t chdf5_direct_open(const char *path, char *error, size_t error_size);
void chdf5_direct_close(chdf5_direct_t file);
int chdf5_direct_dataset_info(chdf5_direct_t file, const char *name, int *rank, int64_t *dims, int *type,
                              char *error, size_t error_size);
int chdf5_direct_read(chdf5_direct_t file, const char *name, int type, void *out, size_t capacity,
                      char *error, size_t error_size);

#endif
