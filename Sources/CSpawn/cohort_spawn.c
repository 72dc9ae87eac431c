#define _GNU_SOURCE
#include "cohort_spawn.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

int cohort_spawn(const char *const argv[], const char *const envp[], const char *cwd,
                 const char *stdout_path, const char *stderr_path,
                 const int *fds_from, const int *fds_to, int fd_count, pid_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) return rc;
    rc = posix_spawnattr_init(&attr);
    if (rc != 0) { posix_spawn_file_actions_destroy(&actions); return rc; }

    // Its own process group, so a timeout ends the program and everything it started;
    // default signal dispositions and an empty mask, whatever the launcher set.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (rc == 0) rc = posix_spawnattr_setflags(&attr, flags);
    if (rc == 0) rc = posix_spawnattr_setpgroup(&attr, 0);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &none);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &all);

    if (rc == 0) rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0) rc = posix_spawn_file_actions_addopen(&actions, 1, stdout_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (rc == 0) rc = posix_spawn_file_actions_addopen(&actions, 2, stderr_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    // Sources are first copied above every target, so that no dup2 overwrites a
    // source still to be moved and none is a no-op that keeps close-on-exec.
    int copies[16];
    int copied = 0;
    if (fd_count > 16) rc = EINVAL;
    int highest = 2;
    for (int i = 0; rc == 0 && i < fd_count; i++) {
        if (fds_to[i] > highest) highest = fds_to[i];
    }
    for (int i = 0; rc == 0 && i < fd_count; i++) {
        copies[i] = fcntl(fds_from[i], F_DUPFD_CLOEXEC, highest + 1);
        if (copies[i] < 0) { rc = errno; break; }
        copied++;
        rc = posix_spawn_file_actions_adddup2(&actions, copies[i], fds_to[i]);
    }
    // MPI's sockets and shared-memory descriptors stay with the rank.
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions, highest + 1);
    if (rc == 0 && cwd != NULL) rc = posix_spawn_file_actions_addchdir_np(&actions, cwd);
    if (rc == 0) rc = posix_spawnp(pid, argv[0], &actions, &attr, (char *const *)argv, (char *const *)envp);

    for (int i = 0; i < copied; i++) close(copies[i]);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    return rc;
}

int cohort_pipe(int fds[2]) {
    return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno;
}
