/* Reading and writing files safely: src/safe_io.h says the rules. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe_io.h"

int sb_open_regular(const char *path, FILE **f)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno;
    if (!S_ISREG(st.st_mode))
        return -1;
    /* O_NONBLOCK: should the path turn into a FIFO between stat and open,
     * the open still returns at once, and fstat refuses it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int flags = fcntl(fd, F_GETFL);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    *f = fdopen(fd, "rb");
    if (!*f) {
        int e = errno;
        close(fd);
        return e;
    }
    return 0;
}

sb_rc sb_open_input(const char *path, FILE **f, sb_err *err)
{
    int e = sb_open_regular(path, f);
    if (e < 0)
        return sb_fail(err, SB_E_INPUT, "cannot read %s: not a regular file", path);
    if (e > 0)
        return sb_fail(err, SB_E_INPUT, "cannot read %s: %s", path, strerror(e));
    return SB_OK;
}

/* ------------------------------- writing ------------------------------ */

/* What each checked output looked like when the run began (sb_check_writable),
 * so the final write can tell that another process wrote it meanwhile (two
 * runs with one --out): the later one then refuses rather than silently
 * replacing a verdict the earlier one reported. */
typedef struct out_claim {
    char real[PATH_MAX];
    int existed;
    struct stat st;
} out_claim;
static out_claim g_claims[4];
static int g_nclaims;

/* A check of a path claimed before (a second run in one process, as the
 * unit tests do) takes a fresh look: the claim is what the latest check saw. */
static void claim(const char *real)
{
    out_claim *c = NULL;
    for (int i = 0; i < g_nclaims && !c; i++)
        if (strcmp(g_claims[i].real, real) == 0)
            c = &g_claims[i];
    if (!c && g_nclaims == (int)(sizeof g_claims / sizeof g_claims[0]))
        return;
    if (!c)
        c = &g_claims[g_nclaims++];
    snprintf(c->real, sizeof c->real, "%s", real);
    c->existed = stat(real, &c->st) == 0;
}

static const out_claim *claim_of(const char *real)
{
    for (int i = 0; i < g_nclaims; i++)
        if (strcmp(g_claims[i].real, real) == 0)
            return &g_claims[i];
    return NULL;
}

/* 1 when the file at real is no longer what the claim saw. */
static int changed_since(const out_claim *c, const char *real)
{
    struct stat st;
    int exists = stat(real, &st) == 0;
    if (exists != c->existed)
        return 1;
    return exists && (st.st_dev != c->st.st_dev || st.st_ino != c->st.st_ino || st.st_size != c->st.st_size ||
                      st.st_mtim.tv_sec != c->st.st_mtim.tv_sec || st.st_mtim.tv_nsec != c->st.st_mtim.tv_nsec ||
                      st.st_ctim.tv_sec != c->st.st_ctim.tv_sec || st.st_ctim.tv_nsec != c->st.st_ctim.tv_nsec);
}

typedef enum { TARGET_STDOUT, TARGET_REPLACE, TARGET_IN_PLACE } target_kind;

/* Where a write to path goes: the path to replace (the symlink's target
 * for a link to a regular file, else path itself) or a node to write in
 * place. */
static sb_rc resolve_target(const char *path, target_kind *kind, char *real, size_t len, sb_err *err)
{
    if (strcmp(path, "-") == 0) {
        *kind = TARGET_STDOUT;
        return SB_OK;
    }
    if (strlen(path) >= PATH_MAX - 32)
        return sb_fail(err, SB_E_INPUT, "cannot write %s: path too long", path);
    struct stat st, lst;
    int have = stat(path, &st) == 0;
    if (!have && errno != ENOENT)
        return sb_fail(err, SB_E_INPUT, "cannot write %s: %s", path, strerror(errno));
    if (!have && lstat(path, &lst) == 0)
        return sb_fail(err, SB_E_INPUT, "cannot write %s: a symlink to a missing file", path);
    if (have && S_ISDIR(st.st_mode))
        return sb_fail(err, SB_E_INPUT, "cannot write %s: is a directory", path);
    if (have && !S_ISREG(st.st_mode)) {
        *kind = TARGET_IN_PLACE;
        snprintf(real, len, "%s", path);
        return SB_OK;
    }
    *kind = TARGET_REPLACE;
    if (have && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        char *r = realpath(path, NULL);
        if (!r)
            return sb_fail(err, SB_E_INPUT, "cannot write %s: %s", path, strerror(errno));
        snprintf(real, len, "%s", r);
        free(r);
        return SB_OK;
    }
    snprintf(real, len, "%s", path);
    return SB_OK;
}

static void dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* Open a node (device, FIFO) for writing in place, without creating,
 * truncating or blocking; then back to blocking writes. */
static int open_in_place(const char *path)
{
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static const char *open_error(const char *path, int e)
{
    struct stat st;
    if (e == ENXIO && stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
        return "a FIFO with no reader";
    return strerror(e);
}

sb_rc sb_check_writable(const char *path, sb_err *err)
{
    target_kind kind;
    char real[PATH_MAX];
    sb_rc rc = resolve_target(path, &kind, real, sizeof real, err);
    if (rc || kind == TARGET_STDOUT)
        return rc;
    /* A node is not opened here: opening a device can act on it, and an open
     * and close of a FIFO would end its reader's input before the write. */
    if (kind == TARGET_IN_PLACE)
        return access(real, W_OK) == 0 ? SB_OK : sb_fail(err, SB_E_INPUT, "cannot write %s: %s", path, strerror(errno));
    char dir[PATH_MAX];
    struct stat st;
    dir_of(real, dir, sizeof dir);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return sb_fail(err, SB_E_INPUT, "cannot write %s: directory %s does not exist", path, dir);
    /* Probe by creating the temp file the final write will use: access()
     * says yes to root even where the filesystem refuses (/proc, read-only). */
    char probe[PATH_MAX + 16];
    snprintf(probe, sizeof probe, "%s.tmp.XXXXXX", real);
    int fd = mkstemp(probe);
    if (fd < 0)
        return sb_fail(err, SB_E_INPUT, "cannot write %s: %s", path, strerror(errno));
    close(fd);
    unlink(probe);
    claim(real);
    return SB_OK;
}

/* Every byte of the parts to fd; 0 or an errno. */
static int write_all(int fd, const sb_wpart *parts, int nparts)
{
    for (int i = 0; i < nparts; i++) {
        const char *p = parts[i].data;
        size_t left = parts[i].len;
        while (left > 0) {
            ssize_t k = write(fd, p, left);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                return k < 0 ? errno : EIO;
            p += k;
            left -= (size_t)k;
        }
    }
    return 0;
}

/* Temp file beside real, fsync, rename, fsync of the folder. A claimed
 * output that another process wrote meanwhile is left as it is (EEXIST). */
static int replace_file(const char *real, const sb_wpart *parts, int nparts)
{
    const out_claim *c = claim_of(real);
    if (c && changed_since(c, real))
        return EEXIST;
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", real);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return errno;
    /* mkstemp creates 0600; an output is for sharing, so honour the umask
     * (read by setting it; saebench writes files from one thread). */
    mode_t um = umask(0);
    umask(um);
    (void)fchmod(fd, 0666 & ~um);
    int e = write_all(fd, parts, nparts);
    if (!e && fsync(fd) != 0 && errno != EINVAL)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    /* A path that was new when claimed must still be new: no replace. */
    if (!e && (c && !c->existed ? renameat2(AT_FDCWD, tmp, AT_FDCWD, real, RENAME_NOREPLACE) : rename(tmp, real)) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        return e;
    }
    char dir[PATH_MAX];
    dir_of(real, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd); /* best effort: the rename itself has succeeded */
        close(dfd);
    }
    return 0;
}

sb_rc sb_write_parts(const char *path, const sb_wpart *parts, int nparts, sb_err *err)
{
    target_kind kind;
    char real[PATH_MAX];
    sb_rc rc = resolve_target(path, &kind, real, sizeof real, err);
    if (rc)
        return rc;
    if (kind == TARGET_STDOUT) {
        for (int i = 0; i < nparts; i++)
            if (fwrite(parts[i].data, 1, parts[i].len, stdout) != parts[i].len)
                return sb_fail(err, SB_E_INPUT, "cannot write to stdout: %s", strerror(errno));
        if (fflush(stdout) != 0)
            return sb_fail(err, SB_E_INPUT, "cannot write to stdout: %s", strerror(errno));
        return SB_OK;
    }
    if (kind == TARGET_IN_PLACE) {
        int fd = open_in_place(real);
        if (fd < 0)
            return sb_fail(err, SB_E_INPUT, "cannot write %s: %s", path, open_error(real, errno));
        int e = write_all(fd, parts, nparts);
        if (close(fd) != 0 && !e)
            e = errno;
        return e ? sb_fail(err, SB_E_INPUT, "cannot write %s: %s", path, strerror(e)) : SB_OK;
    }
    int e = replace_file(real, parts, nparts);
    if (e == EEXIST)
        return sb_fail(err, SB_E_INPUT, "cannot write %s: another process wrote it during this run; left as it is", path);
    return e ? sb_fail(err, SB_E_INPUT, "cannot write %s: %s", path, strerror(e)) : SB_OK;
}

sb_rc sb_write_atomic(const char *path, const char *text, sb_err *err)
{
    sb_wpart parts[2] = {{text, strlen(text)}, {"\n", 1}};
    return sb_write_parts(path, parts, 2, err);
}

/* The real folder and base name of a path that may not exist yet. */
static int real_name(const char *path, char *out, size_t len)
{
    char dir[PATH_MAX];
    dir_of(path, dir, sizeof dir);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char *r = realpath(dir, NULL);
    if (!r)
        return -1;
    snprintf(out, len, "%s/%s", r, base);
    free(r);
    return 0;
}

int sb_same_file(const char *a, const char *b)
{
    if (!a || !b || strcmp(a, "-") == 0 || strcmp(b, "-") == 0)
        return 0;
    struct stat sa, sb;
    int ha = stat(a, &sa) == 0, hb = stat(b, &sb) == 0;
    if (ha && hb)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ha || hb)
        return 0;
    char ra[PATH_MAX + 256], rb[PATH_MAX + 256];
    return real_name(a, ra, sizeof ra) == 0 && real_name(b, rb, sizeof rb) == 0 && strcmp(ra, rb) == 0;
}
