// The HDF5 reader process and the requests the public API (chdf5.h) sends it.
//
// The reader is this executable started again from /proc/self/exe as "nanowm-hdf5-reader",
// with NANOWM_HDF5_READER set to "<parent pid>" and its end of a socket pair as descriptor 3.
// A constructor recognises it before `main` (Swift, XCTest or libFuzzer) would run. The reader
// is a small fork server: it never calls libhdf5 itself, but forks a worker that does and
// answers requests on the socket. When libhdf5 crashes the worker, the reader tells the caller
// which signal ended it and forks the next worker, which takes a millisecond where starting the
// executable again takes most of a second.
//
// Each request is a header, the file's path and the dataset's name; each answer is a header,
// an error text and, for a read, the dataset's bytes. Requests are numbered, sent in one piece
// and taken from the socket whole. A worker records in a page shared with the reader the number
// of the request it takes, so that the reader's notice of a worker's death says whether a
// request died with it; one that was never taken stays in the socket for the next worker.
#define _GNU_SOURCE
#include "direct.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define READER_VARIABLE "NANOWM_HDF5_READER"
#define READER_NAME "nanowm-hdf5-reader"
enum { READER_FD = 3 };
enum { OP_OPEN = 1, OP_INFO = 2, OP_READ = 3, OP_CLOSE = 4 };
// Answer statuses beyond the public 0 (done), 1 (failed) and 2 (no such dataset).
enum { WORKER_ENDED = 3 };
// The reader's exit status when a worker died while sending an answer: this plus its signal.
enum { ANSWER_CUT = 64 };
enum { MAX_TEXT = 4096, ERROR_TEXT = 512 };
static const uint32_t answer_magic = 0x35464448;  // "HDF5"
static const uint64_t max_capacity = (uint64_t)1 << 28;  // HDF5File refuses larger datasets first
// A request that takes longer is taken for a hang inside libhdf5 (a 256 MiB read from a slow
// disk takes seconds); the reader is then stopped.
static const int answer_seconds = 120;

struct request {
    uint64_t number;
    uint32_t op;
    int32_t type;
    uint64_t capacity;
    uint32_t path_size, name_size;
};

struct answer {
    uint32_t magic;
    int32_t status;
    // The request answered; for WORKER_ENDED, the request that died with the worker (0: none).
    uint64_t number;
    // The worker that answered or ended, and for WORKER_ENDED its wait status.
    int32_t worker, ended;
    int32_t rank, type;
    uint32_t error_size;
    int64_t dims[CHDF5_MAX_RANK];
    uint64_t payload;
};

// ---------------------------------------------------------------------------------------------
// The worker: libhdf5 runs here and nowhere else.

// Files kept open between requests, each known by its path and what stat said of it (a file
// copied again under the same name is opened again).
enum { OPEN_FILES = 8 };
static struct open_file {
    char *path;
    struct stat identity;
    chdf5_direct_t file;
} open_files[OPEN_FILES];
static int next_slot;

static int same_file(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

// Closes the file, so that its HDF5 lock no longer stands in a writer's way.
static void forget_file(const char *path) {
    for (int i = 0; i < OPEN_FILES; i++) {
        if (open_files[i].path && strcmp(open_files[i].path, path) == 0) {
            chdf5_direct_close(open_files[i].file);
            free(open_files[i].path);
            open_files[i].path = NULL;
        }
    }
}

static chdf5_direct_t file_at(const char *path, char *error, size_t error_size) {
    struct stat identity;
    if (stat(path, &identity) != 0) {
        snprintf(error, error_size, "cannot read the file (%s)", strerror(errno));
        return NULL;
    }
    // A FIFO or device would block or never end inside libhdf5.
    if (!S_ISREG(identity.st_mode)) {
        snprintf(error, error_size, "not a regular file");
        return NULL;
    }
    for (int i = 0; i < OPEN_FILES; i++) {
        if (open_files[i].path && strcmp(open_files[i].path, path) == 0 && same_file(&open_files[i].identity, &identity)) {
            return open_files[i].file;
        }
    }
    forget_file(path);
    chdf5_direct_t file = chdf5_direct_open(path, error, error_size);
    if (!file) return NULL;
    struct open_file *slot = &open_files[next_slot];
    next_slot = (next_slot + 1) % OPEN_FILES;
    if (slot->path) {
        chdf5_direct_close(slot->file);
        free(slot->path);
    }
    *slot = (struct open_file){strdup(path), identity, file};
    return file;
}

static int read_blocking(int fd, void *buffer, size_t size) {
    char *at = buffer;
    while (size > 0) {
        ssize_t got = read(fd, at, size);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        at += got;
        size -= (size_t)got;
    }
    return 0;
}

static int send_all(int fd, const void *buffer, size_t size) {
    const char *at = buffer;
    while (size > 0) {
        ssize_t sent = send(fd, at, size, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent <= 0) return -1;
        at += sent;
        size -= (size_t)sent;
    }
    return 0;
}

// What a worker is doing, in a page it shares with the reader: the number of the request it
// took last, and whether its answer is being sent.
static volatile struct progress {
    uint64_t taken;
    int answering;
} *progress;

// Peeks at the next `size` bytes without taking them: 0, or -1 when the socket closed.
static int peek(int fd, void *buffer, size_t size) {
    ssize_t got;
    while ((got = recv(fd, buffer, size, MSG_PEEK | MSG_WAITALL)) < 0 && errno == EINTR) {}
    return got == (ssize_t)size ? 0 : -1;
}

// Serves requests until the socket closes (the caller has gone): exit status 0.
static void work(int fd) {
    char message[sizeof(struct request) + 2 * MAX_TEXT];
    char path[MAX_TEXT + 1], name[MAX_TEXT + 1];
    for (;;) {
        // A request is taken from the socket in one recv, after peeking at all of it, so that a
        // worker killed at any moment leaves either the whole request or none of it; its number
        // goes to the shared page first (the reader looks whether it is still queued).
        struct request request;
        if (peek(fd, &request, sizeof request) != 0) _exit(0);
        if (request.path_size > MAX_TEXT || request.name_size > MAX_TEXT) _exit(2);
        size_t size = sizeof request + request.path_size + request.name_size;
        if (peek(fd, message, size) != 0) _exit(0);
        progress->taken = request.number;
        if (read_blocking(fd, message, size) != 0) _exit(0);
        memcpy(path, message + sizeof request, request.path_size);
        memcpy(name, message + sizeof request + request.path_size, request.name_size);
        path[request.path_size] = 0;
        name[request.name_size] = 0;
        if (request.op == OP_CLOSE) {
            forget_file(path);
            continue;
        }
        struct answer answer = {.magic = answer_magic, .number = request.number, .worker = getpid()};
        char error[ERROR_TEXT] = "";
        void *payload = NULL;
        chdf5_direct_t file = file_at(path, error, sizeof error);
        if (!file) {
            answer.status = 1;
        } else if (request.op == OP_INFO) {
            int rank = 0, type = 0;
            answer.status = chdf5_direct_dataset_info(file, name, &rank, answer.dims, &type, error, sizeof error);
            answer.rank = rank;
            answer.type = type;
        } else if (request.op == OP_READ) {
            if (request.capacity > max_capacity || !(payload = malloc(request.capacity ? request.capacity : 1))) {
                answer.status = 1;
                snprintf(error, sizeof error, "cannot hold %llu bytes", (unsigned long long)request.capacity);
            } else {
                answer.status = chdf5_direct_read(file, name, request.type, payload, request.capacity, error, sizeof error);
                if (answer.status == 0) answer.payload = request.capacity;
            }
        }
        if (answer.status != 0) answer.error_size = (uint32_t)strnlen(error, sizeof error - 1);
        // The header and error text go in one piece, which a kill cannot split; a dataset's bytes
        // may not, so the reader is told that a kill now would leave part of an answer behind.
        char head[sizeof answer + ERROR_TEXT];
        memcpy(head, &answer, sizeof answer);
        memcpy(head + sizeof answer, error, answer.error_size);
        if (answer.payload) progress->answering = 1;
        if (send_all(fd, head, sizeof answer + answer.error_size) != 0 ||
            (answer.payload && send_all(fd, payload, answer.payload) != 0)) {
            _exit(0);
        }
        progress->answering = 0;
        free(payload);
    }
}

// ---------------------------------------------------------------------------------------------
// The reader: forks workers and reports their deaths.

static pid_t watched_parent, current_worker;

// Neither the reader nor a worker may outlive its parent, even while libhdf5 loops on a file:
// once a second each checks that it has not been handed to another parent (a reader then takes
// its worker with it). PR_SET_PDEATHSIG would fire when the thread that started the reader
// ends, which a data-loading thread may do at any time.
static void check_parent(int signal) {
    (void)signal;
    if (getppid() == watched_parent) return;
    if (current_worker > 0) kill(current_worker, SIGKILL);
    _exit(0);
}

static void watch_parent(pid_t parent) {
    watched_parent = parent;
    struct sigaction alarm = {0};
    alarm.sa_handler = check_parent;
    alarm.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &alarm, NULL);
    struct itimerval every_second = {{1, 0}, {1, 0}};
    setitimer(ITIMER_REAL, &every_second, NULL);  // timers are not inherited by fork: set in each
    check_parent(0);
}

static void run_reader(pid_t parent, int fd) {
    close_range(READER_FD + 1, ~0U, 0);
    // Crashes must end a worker by their signal; the Swift runtime and sanitizers may have
    // installed handlers of their own before the constructor ran.
    int crashes[] = {SIGSEGV, SIGFPE, SIGBUS, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof crashes / sizeof *crashes; i++) signal(crashes[i], SIG_DFL);
    // Ctrl-C and a scheduler's SIGTERM/SIGUSR1 are for the caller, which saves a checkpoint and
    // may still need to read; the reader ends when the caller does.
    int callers[] = {SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP, SIGQUIT, SIGPIPE};
    for (size_t i = 0; i < sizeof callers / sizeof *callers; i++) signal(callers[i], SIG_IGN);
    progress = mmap(NULL, sizeof *progress, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (progress == MAP_FAILED) _exit(1);
    watch_parent(parent);
    // Seen in top and ps (the kernel would otherwise show "exe"); tests wait for it.
    prctl(PR_SET_NAME, "hdf5-reader");
    for (;;) {
        pid_t worker = fork();
        if (worker < 0) _exit(1);
        if (worker == 0) {
            current_worker = 0;
            watch_parent(getppid());
            prctl(PR_SET_NAME, "hdf5-worker");
            work(fd);
        }
        current_worker = worker;
        int ended = 0;
        while (waitpid(worker, &ended, 0) < 0 && errno == EINTR) {}
        current_worker = 0;
        if (WIFEXITED(ended) && WEXITSTATUS(ended) == 0) _exit(0);  // the caller has gone
        // A worker killed while sending a dataset's bytes leaves part of an answer in the
        // socket, which no notice can follow. The reader ends instead, with an exit status that
        // names the worker's signal: the caller sees the socket close and starts a new reader.
        if (progress->answering) _exit(ANSWER_CUT + (WIFSIGNALED(ended) ? WTERMSIG(ended) : 0));
        // Otherwise the notice follows whole messages: the worker died inside libhdf5 (before it
        // answered) or between requests. A request whose number the worker wrote down but that
        // is still first in the socket was not taken (killed between the two): the next worker
        // answers it.
        uint64_t queued = 0;
        ssize_t peeked;
        while ((peeked = recv(fd, &queued, sizeof queued, MSG_PEEK | MSG_DONTWAIT)) < 0 && errno == EINTR) {}
        uint64_t died = peeked == (ssize_t)sizeof queued && queued == progress->taken ? 0 : progress->taken;
        struct answer notice = {.magic = answer_magic, .status = WORKER_ENDED, .number = died,
                                .worker = worker, .ended = ended};
        if (send_all(fd, &notice, sizeof notice) != 0) _exit(0);
    }
}

// Runs before `main` in every process that links this library (glibc hands ELF constructors
// argc, argv and the environment). Only a process started by `start_reader` below has the
// reader's name as argv[0] and the variable naming its parent; it never reaches `main` (a test
// runner's `main` would run the whole suite again).
__attribute__((constructor)) static void serve_if_reader(int argc, char **argv, char **environment) {
    (void)environment;
    if (argc < 1 || !argv[0] || strcmp(argv[0], READER_NAME) != 0) return;
    const char *value = getenv(READER_VARIABLE);
    char *end = NULL;
    long parent = value ? strtol(value, &end, 10) : 0;
    struct stat socket_status;
    // A parent that died while the reader started has nothing left to ask.
    if (!value || *end != 0 || parent != (long)getppid() || fstat(READER_FD, &socket_status) != 0 ||
        !S_ISSOCK(socket_status.st_mode)) {
        _exit(3);
    }
    run_reader((pid_t)parent, READER_FD);
}

// ---------------------------------------------------------------------------------------------
// The caller's side.

struct chdf5_file {
    char *path;
};

static pthread_mutex_t reader_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t reader = 0, last_worker = 0;
static int reader_socket = -1;
static uint64_t last_request = 0;

static void stop_reader(void) {
    if (reader > 0) {
        kill(reader, SIGKILL);
        while (waitpid(reader, NULL, 0) < 0 && errno == EINTR) {}
    }
    // A worker left without its reader ends within a second (watch_parent); killing it by its
    // pid here could hit another process that has since been given that pid.
    if (reader_socket >= 0) close(reader_socket);
    reader_socket = -1;
    reader = 0;
    last_worker = 0;
}

static int start_reader(char *error, size_t error_size) {
    // A reader that died between requests (killed from outside) is replaced without blame.
    if (reader > 0) {
        int status;
        if (waitpid(reader, &status, WNOHANG) == 0) return 0;
        reader = 0;
        stop_reader();
    }
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        snprintf(error, error_size, "cannot start the HDF5 reader process (socketpair: %s)", strerror(errno));
        return -1;
    }
    // The reader's end becomes descriptor 3 there; dup2 onto itself would keep close-on-exec.
    if (pair[1] == READER_FD) {
        int moved = fcntl(pair[1], F_DUPFD_CLOEXEC, READER_FD + 1);
        close(pair[1]);
        pair[1] = moved;
    }
    size_t count = 0;
    while (environ[count]) count++;
    char **environment = calloc(count + 2, sizeof *environment);
    char variable[64];
    snprintf(variable, sizeof variable, "%s=%ld", READER_VARIABLE, (long)getpid());
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (strncmp(environ[i], READER_VARIABLE "=", sizeof READER_VARIABLE) != 0) environment[kept++] = environ[i];
    }
    environment[kept++] = variable;
    environment[kept] = NULL;

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pair[1], READER_FD);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    // Its own process group: a terminal's Ctrl-C goes to the caller alone.
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    char *arguments[] = {READER_NAME, NULL};
    pid_t pid = 0;
    int failed = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, arguments, environment);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    free(environment);
    close(pair[1]);
    if (failed) {
        close(pair[0]);
        snprintf(error, error_size, "cannot start the HDF5 reader process from /proc/self/exe (%s)", strerror(failed));
        return -1;
    }
    reader = pid;
    reader_socket = pair[0];
    return 0;
}

// Why a process ended mid-request: a worker (a crash inside libhdf5), or the reader itself.
static void describe_end(int status, char *error, size_t error_size) {
    if (WIFSIGNALED(status)) {
        int number = WTERMSIG(status);
        const char *name = sigabbrev_np(number);
        if (number == SIGKILL) {
            snprintf(error, error_size, "the HDF5 reader process was killed (SIGKILL) while reading it (out of memory?)");
        } else if (number == SIGXCPU) {
            snprintf(error, error_size, "the HDF5 reader process ran out of CPU time (SIGXCPU) reading it (a damaged or hostile file)");
        } else {
            snprintf(error, error_size, "libhdf5 crashed reading it (SIG%s in the HDF5 reader process): the file is damaged or hostile",
                     name ? name : "?");
        }
    } else {
        snprintf(error, error_size, "the HDF5 reader process exited with status %d while reading it", WEXITSTATUS(status));
    }
}

// 0, or -1 when the socket closed (the reader ended), -2 when the deadline passed.
static int receive(int fd, void *buffer, size_t size, const struct timespec *deadline) {
    char *at = buffer;
    while (size > 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long left = (long long)(deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
        if (left <= 0) return -2;
        struct pollfd wait = {fd, POLLIN, 0};
        int ready = poll(&wait, 1, (int)left);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return -1;
        if (ready == 0) continue;
        ssize_t got = recv(fd, at, size, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got <= 0) return -1;
        at += got;
        size -= (size_t)got;
    }
    return 0;
}

// Sends a request in one piece: a stream socket queues one send of a few kilobytes whole, so
// the worker never sees half of one.
static int send_request(uint32_t op, const char *path, const char *name, int type, size_t capacity) {
    struct request request = {++last_request, op, type, capacity, (uint32_t)strlen(path), (uint32_t)strlen(name)};
    char message[sizeof request + 2 * MAX_TEXT];
    memcpy(message, &request, sizeof request);
    memcpy(message + sizeof request, path, request.path_size);
    memcpy(message + sizeof request + request.path_size, name, request.name_size);
    return send_all(reader_socket, message, sizeof request + request.path_size + request.name_size);
}

// One request and its answer on the running reader: 0 with `status` and `error` set, or what
// went wrong: -1 the socket closed (the reader ended; `ended` is its wait status, `heard`
// whether this request's answer had begun to arrive), -2 the deadline passed, -3 an answer out
// of protocol.
static int exchange(uint32_t op, const char *path, const char *name, int type, void *out, size_t capacity,
                    struct answer *answer, int *status, int *ended, int *heard, char *error, size_t error_size) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += answer_seconds;
    int outcome = send_request(op, path, name, type, capacity);
    char text[ERROR_TEXT] = "";
    while (outcome == 0) {
        outcome = receive(reader_socket, answer, sizeof *answer, &deadline);
        if (outcome != 0) break;
        if (answer->magic != answer_magic) {
            outcome = -3;
        } else if (answer->status == WORKER_ENDED) {
            // A worker that ended before it took this request (killed from outside between
            // requests) left it to the next one: keep waiting.
            if (answer->number == last_request) {
                describe_end(answer->ended, error, error_size);
                last_worker = 0;
                return 0;
            }
        } else if (answer->number != last_request || answer->error_size >= sizeof text ||
                   (answer->payload && answer->payload != capacity)) {
            outcome = -3;
        } else {
            *heard = 1;
            last_worker = answer->worker;
            outcome = receive(reader_socket, text, answer->error_size, &deadline);
            if (outcome == 0 && answer->payload) outcome = receive(reader_socket, out, capacity, &deadline);
            if (outcome == 0) {
                *status = answer->status;
                if (*status != 0) snprintf(error, error_size, "%s", text);
                return 0;
            }
        }
    }
    if (outcome == -1 && reader > 0) {
        while (waitpid(reader, ended, 0) < 0 && errno == EINTR) {}
        reader = 0;
    }
    return outcome;
}

// One request and its answer. Returns the answer's status (0, 1 or 2 as the public functions
// do), or 1 with what ended the worker or the reader.
static int ask(uint32_t op, const char *path, const char *name, int type, void *out, size_t capacity,
               struct answer *answer, char *error, size_t error_size) {
    if (strlen(path) > MAX_TEXT || strlen(name) > MAX_TEXT) {
        snprintf(error, error_size, "path or dataset name longer than %d bytes", MAX_TEXT);
        return 1;
    }
    pthread_mutex_lock(&reader_lock);
    int status = 1;
    for (int attempt = 0; attempt < 2 && start_reader(error, error_size) == 0; attempt++) {
        int ended = 0, heard = 0;
        int outcome = exchange(op, path, name, type, out, capacity, answer, &status, &ended, &heard, error, error_size);
        if (outcome == 0) break;
        stop_reader();
        if (outcome == -3) {
            snprintf(error, error_size, "the HDF5 reader process gave an answer out of protocol and was stopped");
            break;
        }
        if (outcome == -2) {
            snprintf(error, error_size, "the HDF5 reader process gave no answer in %d s reading it and was stopped (a hang inside libhdf5, or a stalled disk)", answer_seconds);
            break;
        }
        // A reader that ended because a worker died while sending an answer: this request's, or
        // (a kill just after the last byte) the one before, in which case this request was sent
        // to a reader on its way out and goes to a new one.
        if (WIFEXITED(ended) && WEXITSTATUS(ended) >= ANSWER_CUT) {
            if (!heard) continue;
            ended = WEXITSTATUS(ended) - ANSWER_CUT;  // the wait status of a worker ended by that signal
        }
        describe_end(ended, error, error_size);
        break;
    }
    pthread_mutex_unlock(&reader_lock);
    return status;
}

chdf5_file_t chdf5_open(const char *path, char *error, size_t error_size) {
    struct answer answer;
    if (ask(OP_OPEN, path, "", 0, NULL, 0, &answer, error, error_size) != 0) return NULL;
    chdf5_file_t file = malloc(sizeof *file);
    file->path = strdup(path);
    return file;
}

void chdf5_close(chdf5_file_t file) {
    if (!file) return;
    // No answer comes back; a reader that has ended has nothing open.
    pthread_mutex_lock(&reader_lock);
    if (reader > 0 && strlen(file->path) <= MAX_TEXT) send_request(OP_CLOSE, file->path, "", 0, 0);
    pthread_mutex_unlock(&reader_lock);
    free(file->path);
    free(file);
}

int chdf5_dataset_info(chdf5_file_t file, const char *name, int *rank, int64_t *dims, int *type,
                       char *error, size_t error_size) {
    struct answer answer;
    int status = ask(OP_INFO, file->path, name, 0, NULL, 0, &answer, error, error_size);
    if (status == 0) {
        if (answer.rank < 0 || answer.rank > CHDF5_MAX_RANK) {
            snprintf(error, error_size, "the HDF5 reader process answered a rank of %d", answer.rank);
            return 1;
        }
        *rank = answer.rank;
        *type = answer.type;
        memcpy(dims, answer.dims, sizeof answer.dims);
    }
    return status;
}

int chdf5_read(chdf5_file_t file, const char *name, int type, void *out, size_t capacity,
               char *error, size_t error_size) {
    if (capacity > max_capacity) {
        snprintf(error, error_size, "dataset of %zu bytes is larger than the 256 MiB read limit", capacity);
        return 1;
    }
    struct answer answer;
    return ask(OP_READ, file->path, name, type, out, capacity, &answer, error, error_size);
}

pid_t chdf5_reader_pid(void) {
    pthread_mutex_lock(&reader_lock);
    pid_t pid = last_worker;
    pthread_mutex_unlock(&reader_lock);
    return pid;
}
