// The portable build's CHDF5Shim (NANOWM_PORTABLE=1, made by scripts/bundle for machines that may
// lack Debian's libhdf5): opening a file fails with one line saying so, and nothing links libhdf5.
// A normal build compiles hdf5.c and reader.c instead and this file is empty.
#ifdef NANOWM_PORTABLE
#include "chdf5.h"

#include <stdio.h>

static int unavailable(char *error, size_t error_size) {
  if (error && error_size > 0)
    snprintf(error, error_size, "reading HDF5 files needs libhdf5, which this portable nanowm leaves out: "
             "run it with a full build (scripts/setup and swift build)");
  return 1;
}

chdf5_file_t chdf5_open(const char *path, char *error, size_t error_size) {
  (void)path;
  unavailable(error, error_size);
  return NULL;
}
void chdf5_close(chdf5_file_t file) { (void)file; }
int chdf5_dataset_info(chdf5_file_t file, const char *name, int *rank, int64_t *dims, int *type,
                       char *error, size_t error_size) {
  (void)file; (void)name; (void)rank; (void)dims; (void)type;
  return unavailable(error, error_size);
}
int chdf5_read(chdf5_file_t file, const char *name, int type, void *out, size_t capacity,
               char *error, size_t error_size) {
  (void)file; (void)name; (void)type; (void)out; (void)capacity;
  return unavailable(error, error_size);
}
pid_t chdf5_reader_pid(void) { return 0; }
#else
typedef int chdf5_full_build;
#endif
