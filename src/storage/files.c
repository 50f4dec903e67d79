/* storage/files — see files.h. */
#include "storage/files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define FETCH_MAX_BYTES ((off_t)64 * 1024 * 1024) /* the ceiling of oa.storage.max-bytes */
#define TMP_PREFIX      ".upload-"

const char *storage_error_text(int err, char *buf, size_t size)
{
    return strerror_r(err, buf, size); /* GNU variant: returns the text */
}

/* dir/name into out; false when it does not fit. */
static bool path_join(char out[PATH_MAX], const char *dir, const char *prefix, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s%s", dir, prefix, name);
    return n > 0 && n < PATH_MAX;
}

/* mkdir -p dir; directories it creates get mode 0755 whatever the umask. */
static int ensure_dir(const char *dir)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) == 0)
            chmod(path, 0755);
        else if (errno != EEXIST)
            return -1;
        path[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes bytes as dir/key through a temporary file and rename(2). 0, or -1 with errno and *step. */
int storage_file_write(const char *dir, const char *key, const uint8_t *bytes, size_t len, const char **step)
{
    char tmp[PATH_MAX], final[PATH_MAX];
    *step = "create the directory";
    if (ensure_dir(dir) != 0)
        return -1;
    *step = "name the file";
    if (!path_join(tmp, dir, TMP_PREFIX, key) || !path_join(final, dir, "", key)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    *step = "create the file";
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -1;
    *step = "write the file";
    int rc = fchmod(fd, 0644) == 0 && write_all(fd, bytes, len) == 0 && fsync(fd) == 0 ? 0 : -1;
    int err = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        err = errno;
    }
    if (rc == 0) {
        *step = "rename the file";
        if ((rc = rename(tmp, final)) != 0)
            err = errno;
    }
    if (rc != 0) {
        unlink(tmp);
        errno = err;
    }
    return rc;
}

static int read_all(int fd, uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO; /* the file shrank while it was read */
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads dir/key whole into a malloc'd *bytes. */
fetch_outcome_t storage_file_read(const char *dir, const char *key, uint8_t **bytes, size_t *len)
{
    char path[PATH_MAX], why[128];
    if (!path_join(path, dir, "", key))
        return FETCH_MISSING;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            return FETCH_MISSING;
        log_error("cannot open %s: %s", path, storage_error_text(errno, why, sizeof(why)));
        return FETCH_ERROR;
    }
    fetch_outcome_t outcome = FETCH_ERROR;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        log_error("cannot stat %s: %s", path, storage_error_text(errno, why, sizeof(why)));
    } else if (!S_ISREG(st.st_mode) || st.st_size > FETCH_MAX_BYTES) {
        log_warn("%s is not a regular file of at most 64 MiB: not served", path);
        outcome = FETCH_MISSING;
    } else if ((*bytes = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)) == NULL) {
        log_error("out of memory reading %s", path);
    } else if (read_all(fd, *bytes, (size_t)st.st_size) != 0) {
        log_error("cannot read %s: %s", path, storage_error_text(errno, why, sizeof(why)));
        free(*bytes);
        *bytes = NULL;
    } else {
        *len = (size_t)st.st_size;
        outcome = FETCH_FOUND;
    }
    close(fd);
    return outcome;
}

bool storage_file_exists(const char *dir, const char *key)
{
    char path[PATH_MAX];
    struct stat st;
    return path_join(path, dir, "", key) && lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int storage_file_remove(const char *dir, const char *key)
{
    char path[PATH_MAX];
    if (!path_join(path, dir, "", key)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}
