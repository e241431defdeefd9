/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Peer attribution: which Kubernetes pod and container a connected client
 * runs in, from the text of /proc/PID/cgroup (PID from SO_PEERCRED).
 *
 * Understood layouts, on any line (cgroup v1 "N:controllers:/path" or v2
 * "0::/path"), anywhere in the path (so nested runtimes such as kind and
 * paths relative to a cgroup namespace root, "/../..", work too):
 *   systemd driver:  .../kubepods-<qos>-pod<uid with '_'>.slice/<rt>-<id>.scope
 *                    .../kubepods-pod<uid>.slice/...          (Guaranteed QoS)
 *   cgroupfs driver: /kubepods/<qos>/pod<uid>/<id>  or  /kubepods/pod<uid>/<id>
 *                    /kubepods/<qos>/pod<uid>/crio-<id>
 * where <rt> is cri-containerd, crio, docker or libpod (podman) and <id> is 64
 * lowercase hex digits. Outside Kubernetes a bare container id is still found
 * ("/docker/<id>", "docker-<id>.scope", "libpod-<id>.scope").
 *
 * The text is hostile: a process may sit in a cgroup whose name it chose
 * (cgroup v2 delegation), so parsing is bounded and only well-formed UIDs and
 * ids are accepted. SO_PEERCRED reports pid 0 for a peer outside the daemon's
 * PID namespace; callers must skip attribution then (see docs/operations.md).
 */
#ifndef SGXQH_OPS_PEER_H
#define SGXQH_OPS_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A pod UID is an RFC 4122 UUID in its 36-character form. */
#define PEER_POD_UID_LEN 36
/* Container ids of containerd, CRI-O, Docker and podman: 64 hex digits. */
#define PEER_CONTAINER_ID_LEN 64
/* /proc/PID/cgroup is a few hundred bytes; anything beyond this is refused. */
#define PEER_CGROUP_TEXT_MAX ((size_t)64 * 1024)

typedef enum {
    PEER_RUNTIME_UNKNOWN = 0, /* also a bare cgroupfs id under a pod: containerd or dockershim */
    PEER_RUNTIME_CONTAINERD, /* cri-containerd-<id>.scope */
    PEER_RUNTIME_CRIO,       /* crio-<id>.scope / crio-<id> */
    PEER_RUNTIME_DOCKER,     /* docker-<id>.scope / /docker/<id> */
    PEER_RUNTIME_PODMAN,     /* libpod-<id>.scope / libpod-<id> */
} peer_runtime;

typedef struct {
    char pod_uid[PEER_POD_UID_LEN + 1];           /* "" when not found; dashed, lowercase */
    char container_id[PEER_CONTAINER_ID_LEN + 1]; /* "" when not found; lowercase hex */
    peer_runtime runtime;                         /* UNKNOWN when container_id is "" or bare */
} peer_identity;

typedef enum {
    PEER_OK = 0,              /* a pod UID and/or a container id was found */
    PEER_E_NOT_FOUND = -1,    /* well-formed text, but no pod or container in it */
    PEER_E_INVALID_ARG = -2,  /* NULL output, NULL text with len > 0, bad pid */
    PEER_E_TOO_LARGE = -3,    /* text longer than PEER_CGROUP_TEXT_MAX */
    PEER_E_IO = -4,           /* /proc/<pid>/cgroup could not be read (process gone?) */
} peer_err;

const char *peer_strerror(int err);
/* "containerd", "cri-o", "docker", "podman" or "unknown". */
const char *peer_runtime_name(peer_runtime rt);

/* Parse the text of a /proc/PID/cgroup file (need not be NUL-terminated).
 * Always clears *out first; on PEER_OK at least one of pod_uid and
 * container_id is set. When several lines disagree, the first line carrying
 * both wins, then the first carrying either (the v2 "0::" line and all v1
 * controllers name the same cgroup on a sane host). */
int peer_parse_cgroup(const char *text, size_t len, peer_identity *out);

/* Read <proc_root>/<pid>/cgroup (proc_root NULL means "/proc") and parse it.
 * pid must be > 0. Returns PEER_E_IO when the file cannot be read. */
int peer_read_cgroup(const char *proc_root, pid_t pid, peer_identity *out);

/* true when process pid (> 0, as SO_PEERCRED reports it) lives in the
 * caller's own PID namespace: /proc/PID/ns/pid and /proc/self/ns/pid name
 * the same namespace (st_dev/st_ino). Always the real /proc: this decides
 * access (the daemon's own uid is let past the ACL only from its own PID
 * namespace, i.e. its container's exec probe), never a test's fake tree.
 * false when either cannot be read (another user's process, or gone). */
bool peer_in_own_pid_namespace(pid_t pid);

/* The network-namespace cookie of socket fd (SO_NETNS_COOKIE, Linux >=
 * 5.14). For an accepted AF_UNIX connection that is the namespace of the
 * client that connected: every pod without hostNetwork has its own, so it
 * tells pods of the same uid apart when SO_PEERCRED gives pid 0 (no
 * hostPID). PEER_OK, or PEER_E_IO (older kernel, not a socket). */
int peer_netns_cookie(int fd, unsigned long long *cookie);

/* The start time of process pid (> 0): field 22 of /proc/PID/stat (clock
 * ticks since boot; proc(5)), always from the real /proc. With the pid it
 * names one process: a recycled pid starts later. PEER_OK, PEER_E_IO (no
 * such process, or not readable) or PEER_E_INVALID_ARG (bad pid, or text
 * that is not a stat line). */
int peer_read_start_time(pid_t pid, unsigned long long *start);

/* Parse the text of a /proc/PID/stat line (need not be NUL-terminated):
 * field 22. The command name (field 2) is the process's own choice and may
 * hold spaces and ')': fields are counted from the last ')'. */
int peer_parse_start_time(const char *text, size_t len, unsigned long long *start);

#endif
