#include "direct.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct chdf5_direct {
    hid_t id;
    // For checking object headers before libhdf5 decodes them: the file's descriptor, its
    // base address, and whether it has no shared-message table.
    int fd;
    haddr_t base;
    int unshared;
};

// Takes the most specific message of HDF5's error stack (the first one walking upward).
static herr_t first_message(unsigned n, const H5E_error2_t *entry, void *data) {
    char *text = (char *)data;
    if (n == 0 && entry->desc) snprintf(text, 256, "%s", entry->desc);
    return 0;
}

static void report(const char *what, char *error, size_t error_size) {
    char detail[256] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_message, detail);
    H5Eclear2(H5E_DEFAULT);
    if (detail[0]) snprintf(error, error_size, "%s (HDF5: %s)", what, detail);
    else snprintf(error, error_size, "%s", what);
}

static void quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

chdf5_direct_t chdf5_direct_open(const char *path, char *error, size_t error_size) {
    quiet();
    chdf5_direct_t file = NULL;
    if (H5Fis_hdf5(path) <= 0) {
        report("not an HDF5 file, or truncated", error, error_size);
    } else {
        hid_t id = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (id < 0) {
            report("cannot open the HDF5 file", error, error_size);
        } else {
            file = malloc(sizeof *file);
            file->id = id;
            file->fd = -1;
            file->base = 0;
            file->unshared = 0;
            void *handle = NULL;
            hid_t fcpl = H5Fget_create_plist(id);
            unsigned indexes = 1;
            hsize_t userblock = 0;
            if (fcpl >= 0 && H5Pget_shared_mesg_nindexes(fcpl, &indexes) >= 0 && H5Pget_userblock(fcpl, &userblock) >= 0 &&
                H5Fget_vfd_handle(id, H5P_DEFAULT, &handle) >= 0 && handle) {
                file->fd = *(int *)handle;
                file->base = (haddr_t)userblock;
                file->unshared = indexes == 0;
            }
            if (fcpl >= 0) H5Pclose(fcpl);
        }
    }
    return file;
}

void chdf5_direct_close(chdf5_direct_t file) {
    if (!file) return;
    H5Fclose(file->id);
    free(file);
}

static int classify(hid_t datatype) {
    H5T_class_t kind = H5Tget_class(datatype);
    size_t size = H5Tget_size(datatype);
    if (kind == H5T_INTEGER && size == 1 && H5Tget_sign(datatype) == H5T_SGN_NONE) return CHDF5_UINT8;
    if (kind == H5T_FLOAT && size == 4) return CHDF5_FLOAT32;
    return CHDF5_OTHER;
}

// Reads `size` bytes at file offset `at` (relative to the base address) into `out`.
static int read_at(int fd, haddr_t base, uint64_t at, void *out, size_t size) {
    return pread(fd, out, size, (off_t)(base + at)) == (ssize_t)size ? 0 : -1;
}

static uint64_t le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

// Whether a version-1 object header's messages, continuation blocks followed, include one
// that says it lives in the shared-message heap (a shared message of version 2 or 3, type 1).
// libhdf5 1.10.8 dereferences the file's shared-message table for such a message without
// checking that the file has one, and crashes when it has none (found by fuzzing); a file
// without the table is refused by us first. Returns 1 for such a message, 0 for none, -1
// when the header cannot be walked (libhdf5 then says what is wrong).
static int has_heap_shared_message(int fd, haddr_t base, uint64_t address) {
    unsigned char prefix[16];
    if (read_at(fd, base, address, prefix, sizeof prefix) < 0 || prefix[0] != 1) return -1;  // v2 headers: left to libhdf5
    uint64_t blocks[16][2] = {{address + 16, le(prefix + 8, 4)}};
    int count = 1;
    for (int b = 0; b < count; b++) {
        uint64_t at = blocks[b][0], end = blocks[b][0] + blocks[b][1];
        if (blocks[b][1] > (1u << 20)) return -1;
        while (at + 8 <= end) {
            unsigned char head[8], body[16] = {0};
            if (read_at(fd, base, at, head, 8) < 0) return -1;
            uint64_t type = le(head, 2), size = le(head + 2, 2);
            unsigned flags = head[4];
            if (at + 8 + size > end) return -1;
            size_t wanted = size < sizeof body ? (size_t)size : sizeof body;
            if (wanted && read_at(fd, base, at + 8, body, wanted) < 0) return -1;
            if ((flags & 0x02) && size >= 2 && (body[0] == 2 || body[0] == 3) && body[1] == 1) return 1;
            if (type == 0x10 && size >= 16 && count < 16) {  // continuation: offset, length
                blocks[count][0] = le(body, 8);
                blocks[count][1] = le(body + 8, 8);
                count++;
            }
            at += 8 + size;
        }
    }
    return 0;
}

// Opens dataset `name`, or returns a negative id with the status to give (2: absent, 1: broken).
static hid_t open_dataset(chdf5_direct_t file, const char *name, int *status, char *error, size_t error_size) {
    htri_t exists = H5Lexists(file->id, name, H5P_DEFAULT);
    if (exists <= 0) {
        *status = exists == 0 ? 2 : 1;
        report(exists == 0 ? "no such dataset" : "cannot look up the dataset", error, error_size);
        return -1;
    }
    if (file->unshared) {
        H5L_info_t link;
        if (H5Lget_info(file->id, name, &link, H5P_DEFAULT) >= 0 && link.type == H5L_TYPE_HARD &&
            has_heap_shared_message(file->fd, file->base, link.u.address) == 1) {
            *status = 1;
            snprintf(error, error_size, "the dataset's header refers to a shared-message table the file does not have (corrupt file)");
            return -1;
        }
    }
    hid_t dataset = H5Dopen2(file->id, name, H5P_DEFAULT);
    if (dataset < 0) {
        *status = 1;
        report("cannot open the dataset", error, error_size);
    }
    return dataset;
}

int chdf5_direct_dataset_info(chdf5_direct_t file, const char *name, int *rank, int64_t *dims, int *type,
                       char *error, size_t error_size) {
    quiet();
    int status = 0;
    hid_t dataset = open_dataset(file, name, &status, error, error_size);
    if (dataset >= 0) {
        hid_t space = H5Dget_space(dataset), datatype = H5Dget_type(dataset);
        int n = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
        hsize_t extent[CHDF5_MAX_RANK];
        if (n < 0 || n > CHDF5_MAX_RANK || datatype < 0 || H5Sget_simple_extent_dims(space, extent, NULL) < 0) {
            status = 1;
            report(n > CHDF5_MAX_RANK ? "dataset has too many dimensions" : "cannot read the dataset's shape", error, error_size);
        } else {
            *rank = n;
            for (int i = 0; i < n; i++) dims[i] = (int64_t)extent[i];
            *type = classify(datatype);
        }
        if (datatype >= 0) H5Tclose(datatype);
        if (space >= 0) H5Sclose(space);
        H5Dclose(dataset);
    }
    return status;
}

// Whether an unfiltered (contiguous or compact) dataset stores exactly `count` elements of its
// own type; chunked datasets may be compressed, so their size says nothing.
static int storage_fits(hid_t dataset, hsize_t count) {
    hid_t plist = H5Dget_create_plist(dataset), datatype = H5Dget_type(dataset);
    H5D_layout_t layout = plist >= 0 ? H5Pget_layout(plist) : H5D_LAYOUT_ERROR;
    size_t size = datatype >= 0 ? H5Tget_size(datatype) : 0;
    int fits = layout == H5D_CHUNKED ||
               ((layout == H5D_CONTIGUOUS || layout == H5D_COMPACT) && size > 0 &&
                H5Dget_storage_size(dataset) == count * size);
    if (datatype >= 0) H5Tclose(datatype);
    if (plist >= 0) H5Pclose(plist);
    return fits;
}

int chdf5_direct_read(chdf5_direct_t file, const char *name, int type, void *out, size_t capacity,
               char *error, size_t error_size) {
    quiet();
    int status = 0;
    hid_t dataset = open_dataset(file, name, &status, error, error_size);
    if (dataset >= 0) {
        hid_t space = H5Dget_space(dataset);
        hssize_t count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
        size_t element = type == CHDF5_UINT8 ? 1 : 4;
        hid_t memory = type == CHDF5_UINT8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT;
        if (count < 0 || (size_t)count * element != capacity) {
            status = 1;
            snprintf(error, error_size, "dataset holds %lld elements, expected %zu", (long long)count, capacity / element);
        } else if (!storage_fits(dataset, (hsize_t)count)) {
            // libhdf5 1.10 reads through a NULL buffer for some corrupt contiguous layouts
            // (found by fuzzing); a stored size that disagrees with the shape is refused first.
            status = 1;
            report("the dataset's stored size disagrees with its shape (truncated or corrupt file)", error, error_size);
        } else if (H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
            status = 1;
            report("cannot read the dataset (truncated or corrupt file)", error, error_size);
        }
        if (space >= 0) H5Sclose(space);
        H5Dclose(dataset);
    }
    return status;
}
