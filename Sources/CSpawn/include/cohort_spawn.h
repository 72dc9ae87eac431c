// Starting users' programs from an MPI rank: posix_spawn (never fork after
// MPI_Init), in a process group of their own, with a working directory, standard
// output and error sent to files, extra pipe ends at fixed descriptors, and every
// other inherited descriptor closed.
#ifndef COHORT_SPAWN_H
#define COHORT_SPAWN_H
#include <sys/types.h>

/// Starts `argv[0]` (searched in PATH) with `envp`, in `cwd`, its stdin from
/// /dev/null, stdout and stderr appended to the named files, and `fd_count` pairs
/// (`fds_from[i]` in this process appears as `fds_to[i]` in the child, for i < fd_count).
/// Returns 0 and the child's pid, or an errno value.
int cohort_spawn(const char *const argv[], const char *const envp[], const char *cwd,
                 const char *stdout_path, const char *stderr_path,
                 const int *fds_from, const int *fds_to, int fd_count, pid_t *pid);

/// A pipe whose two ends close on exec (pipe2 with O_CLOEXEC). Returns 0 or an errno value.
int cohort_pipe(int fds[2]);

#endif
