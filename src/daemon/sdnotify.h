/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two systemd protocols the daemon speaks, without libsystemd (which
 * brought seven more libraries and ~1 MB of resident memory into an idle
 * daemon, see docs/daemon.md "Memory"):
 *   - service notifications (systemd.service Type=notify, WatchdogSec=):
 *     newline-separated VAR=VALUE text in one datagram to $NOTIFY_SOCKET,
 *     a filesystem path or an abstract name written with a leading '@';
 *   - socket activation: descriptors from 3 on, $LISTEN_FDS of them, for
 *     the process named by $LISTEN_PID, named by $LISTEN_FDNAMES
 *     (colon-separated; "unknown" when absent).
 * Return conventions follow systemd's sd_notify(3) / sd_listen_fds(3) so the
 * call sites read the same: > 0 done, 0 not under systemd, < 0 -errno.
 */
#ifndef SGXQH_DAEMON_SDNOTIFY_H
#define SGXQH_DAEMON_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The first passed descriptor (sd_listen_fds(3): SD_LISTEN_FDS_START). */
#define SDNOTIFY_LISTEN_FDS_START 3
/* More passed descriptors than this is a broken environment, not a unit:
 * the daemon asks for two. */
#define SDNOTIFY_LISTEN_FDS_MAX 64
/* One notification datagram; the daemon's longest is a STATUS with a path. */
#define SDNOTIFY_MESSAGE_MAX 4096
/* The name the protocol gives a descriptor without LISTEN_FDNAMES. */
#define SDNOTIFY_UNKNOWN_NAME "unknown"

/* Sends state (e.g. "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET. 0 when
 * the variable is unset (not under systemd), 1 when sent, -errno on error.
 * unset_environment: remove NOTIFY_SOCKET afterwards. */
int sdnotify_send(bool unset_environment, const char *state);
int sdnotify_sendf(bool unset_environment, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* 1 and *usec = WATCHDOG_USEC when systemd expects keep-alive pings from
 * this process (WATCHDOG_PID unset or ours), 0 when not, -EINVAL when the
 * variables are malformed. */
int sdnotify_watchdog_usec(bool unset_environment, uint64_t *usec);

/* Number of descriptors passed to this process (fds
 * SDNOTIFY_LISTEN_FDS_START...), 0 when none or they are for another
 * process, -errno when the variables are malformed. Marks every passed
 * descriptor close-on-exec. names (may be NULL): a NULL-terminated array of
 * n malloc'd names for the caller to free (each, then the array); NULL when
 * n == 0. unset_environment: remove LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES
 * whatever the result. */
int sdnotify_listen_fds(bool unset_environment, char ***names);

/* The environment part of sdnotify_listen_fds, for tests: parses the three
 * variables' values (NULL = unset) for process self. Same returns; touches
 * no descriptor. */
int sdnotify_parse_listen_env(const char *listen_pid, const char *listen_fds,
                              const char *listen_fdnames, pid_t self, char ***names);

/* 1 when fd is a socket of AF_UNIX family and this type (SOCK_STREAM...)
 * and, for listening > 0, in the listening state (listening == 0: not
 * listening; < 0: either), 0 when not, -errno when fd cannot be examined. */
int sdnotify_is_socket_unix(int fd, int type, int listening);

/* Frees a names array from sdnotify_listen_fds (NULL is fine). */
void sdnotify_names_free(char **names);

#endif
