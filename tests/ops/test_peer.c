/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peer.c: /proc/PID/cgroup text → pod UID and container id. Samples are the
 * files as runtimes write them (cgroup v1 with every controller line, v2's
 * single "0::" line, containerd / CRI-O / Docker / podman, systemd and
 * cgroupfs drivers, kind); expected values are read off the sample text by
 * eye, not computed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops/peer.h"

static void expect_identity(const char *text, const char *pod, const char *ctr, peer_runtime rt)
{
    peer_identity id;
    int rc = peer_parse_cgroup(text, strlen(text), &id);
    assert_int_equal(rc, PEER_OK);
    assert_string_equal(id.pod_uid, pod);
    assert_string_equal(id.container_id, ctr);
    assert_int_equal(id.runtime, rt);
}

static void expect_none(const char *text)
{
    peer_identity id;
    memset(&id, 0x55, sizeof id);
    assert_int_equal(peer_parse_cgroup(text, strlen(text), &id), PEER_E_NOT_FOUND);
    assert_string_equal(id.pod_uid, "");
    assert_string_equal(id.container_id, "");
    assert_int_equal(id.runtime, PEER_RUNTIME_UNKNOWN);
}

/* cgroup v2, systemd driver, containerd, BestEffort pod. */
static void test_v2_systemd_containerd(void **state)
{
    (void)state;
    expect_identity(
        "0::/kubepods.slice/kubepods-besteffort.slice/"
        "kubepods-besteffort-pod05b3ee07_a2bd_47e7_9599_7961201f20dd.slice/"
        "cri-containerd-1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119.scope\n",
        "05b3ee07-a2bd-47e7-9599-7961201f20dd",
        "1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119",
        PEER_RUNTIME_CONTAINERD);
}

/* Guaranteed QoS pods have no QoS slice: kubepods-pod<uid>.slice. */
static void test_v2_systemd_guaranteed(void **state)
{
    (void)state;
    expect_identity(
        "0::/kubepods.slice/kubepods-podccf19bc6_503b_4dd0_b33d_e5717fe6613c.slice/"
        "cri-containerd-a7638fe3934b37419cc56bca73465a02b354ba6e98e10272542d84eb2014dd62.scope\n",
        "ccf19bc6-503b-4dd0-b33d-e5717fe6613c",
        "a7638fe3934b37419cc56bca73465a02b354ba6e98e10272542d84eb2014dd62",
        PEER_RUNTIME_CONTAINERD);
}

/* cgroup v1, cgroupfs driver (GKE-style), containerd: every controller. */
static void test_v1_cgroupfs_containerd(void **state)
{
    (void)state;
    const char *p = "/kubepods/besteffort/pod74c13223-5a00-11e9-b385-42010a80018d/"
                    "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376";
    char text[4096];
    snprintf(text, sizeof text,
             "12:hugetlb:%s\n11:devices:%s\n10:perf_event:%s\n9:memory:%s\n8:freezer:%s\n"
             "7:pids:%s\n6:cpuset:%s\n5:net_cls,net_prio:%s\n4:blkio:%s\n3:cpu,cpuacct:%s\n"
             "2:rdma:/\n1:name=systemd:%s\n0::/\n",
             p, p, p, p, p, p, p, p, p, p, p);
    expect_identity(text, "74c13223-5a00-11e9-b385-42010a80018d",
                    "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376",
                    PEER_RUNTIME_UNKNOWN);
}

/* cgroupfs, Guaranteed: /kubepods/pod<uid>/<id> (no QoS directory). */
static void test_v1_cgroupfs_guaranteed(void **state)
{
    (void)state;
    expect_identity(
        "4:memory:/kubepods/pod8dbc5577-d0e2-4706-8787-57d52c03ddf2/"
        "14011c7d92a9e513dfd69211da0413dbf319a5e45a02b354ba6e98e10272542d\n",
        "8dbc5577-d0e2-4706-8787-57d52c03ddf2",
        "14011c7d92a9e513dfd69211da0413dbf319a5e45a02b354ba6e98e10272542d", PEER_RUNTIME_UNKNOWN);
}

/* CRI-O, systemd driver, cgroup v1 (OpenShift 4.x style), Burstable. */
static void test_v1_systemd_crio(void **state)
{
    (void)state;
    const char *p = "/kubepods.slice/kubepods-burstable.slice/"
                    "kubepods-burstable-pod2c5e0d3b_91a4_4f1e_8d55_0b7e4c3a2f10.slice/"
                    "crio-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope";
    char text[2048];
    snprintf(text, sizeof text, "11:pids:%s\n10:memory:%s\n3:cpu,cpuacct:%s\n1:name=systemd:%s\n",
             p, p, p, p);
    expect_identity(text, "2c5e0d3b-91a4-4f1e-8d55-0b7e4c3a2f10",
                    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    PEER_RUNTIME_CRIO);
}

/* CRI-O with the cgroupfs driver: crio-<id> without ".scope". */
static void test_cgroupfs_crio(void **state)
{
    (void)state;
    expect_identity(
        "0::/kubepods/burstable/pod2c5e0d3b-91a4-4f1e-8d55-0b7e4c3a2f10/"
        "crio-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
        "2c5e0d3b-91a4-4f1e-8d55-0b7e4c3a2f10",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", PEER_RUNTIME_CRIO);
}

/* CRI-O's conmon runs in crio-conmon-<id>.scope: the pod, not a container. */
static void test_crio_conmon_is_pod_only(void **state)
{
    (void)state;
    expect_identity(
        "0::/kubepods.slice/kubepods-burstable.slice/"
        "kubepods-burstable-pod2c5e0d3b_91a4_4f1e_8d55_0b7e4c3a2f10.slice/"
        "crio-conmon-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope\n",
        "2c5e0d3b-91a4-4f1e-8d55-0b7e4c3a2f10", "", PEER_RUNTIME_UNKNOWN);
}

/* Docker (dockershim) under the systemd driver (Ubuntu 20.04 node). */
static void test_systemd_docker_in_pod(void **state)
{
    (void)state;
    expect_identity(
        "1:name=systemd:/kubepods.slice/kubepods-besteffort.slice/"
        "kubepods-besteffort-poddc380811_8168_4a9e_9b4a_56ded1b6fe9c.slice/"
        "docker-fa7f0ec4fbcbb70c69565a5b2d269926e04ec5601dff59235199d6e60198e95c.scope\n",
        "dc380811-8168-4a9e-9b4a-56ded1b6fe9c",
        "fa7f0ec4fbcbb70c69565a5b2d269926e04ec5601dff59235199d6e60198e95c", PEER_RUNTIME_DOCKER);
}

/* kind: the node's kubelet puts pods under kubelet.slice. */
static void test_kind(void **state)
{
    (void)state;
    expect_identity(
        "0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
        "kubelet-kubepods-besteffort-pod26a1a59b_8013_459b_9a20_a611facb1888.slice/"
        "cri-containerd-1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119.scope\n",
        "26a1a59b-8013-459b-9a20-a611facb1888",
        "1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119",
        PEER_RUNTIME_CONTAINERD);
}

/* Seen from a daemon in its own cgroup namespace: relative to our root. */
static void test_cgroupns_relative(void **state)
{
    (void)state;
    expect_identity(
        "0::/../../../kubepods-besteffort.slice/"
        "kubepods-besteffort-pod05b3ee07_a2bd_47e7_9599_7961201f20dd.slice/"
        "cri-containerd-1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119.scope\n",
        "05b3ee07-a2bd-47e7-9599-7961201f20dd",
        "1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119",
        PEER_RUNTIME_CONTAINERD);
    /* Sibling container of the same pod: only "../" then the container. */
    expect_identity(
        "0::/../cri-containerd-a7638fe3934b37419cc56bca73465a02b354ba6e98e10272542d84eb2014dd62"
        ".scope\n",
        "", "a7638fe3934b37419cc56bca73465a02b354ba6e98e10272542d84eb2014dd62",
        PEER_RUNTIME_CONTAINERD);
}

/* Plain Docker and podman outside Kubernetes: container id, no pod. */
static void test_no_kubernetes_containers(void **state)
{
    (void)state;
    expect_identity(
        "2:cpuacct,cpu:/system.slice/"
        "docker-9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d.scope\n"
        "1:name=systemd:/system.slice/"
        "docker-9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d.scope\n",
        "", "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d",
        PEER_RUNTIME_DOCKER);
    expect_identity("9:memory:/docker/"
                    "4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970\n",
                    "", "4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970",
                    PEER_RUNTIME_DOCKER);
    /* Older Docker placed each container at the root of every hierarchy. */
    expect_identity("10:net_prio:/4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970\n",
                    "", "4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970",
                    PEER_RUNTIME_UNKNOWN);
    /* Rootful podman with the cgroupfs manager (captured on the CI host). */
    expect_identity(
        "9:name=systemd:/libpod_parent/"
        "libpod-12ae81e06dd9a44f0bea46622148f709388ab25ac28d144b864018bd82bfba07\n"
        "0::/libpod_parent/libpod-12ae81e06dd9a44f0bea46622148f709388ab25ac28d144b864018bd82bfba07\n",
        "", "12ae81e06dd9a44f0bea46622148f709388ab25ac28d144b864018bd82bfba07",
        PEER_RUNTIME_PODMAN);
    /* podman with the systemd manager. */
    expect_identity(
        "0::/machine.slice/"
        "libpod-5d41402abc4b2a76b9719d911017c592b7e2a1f8bba8b0b4f0d5b9e8d1c5a4f3.scope\n",
        "", "5d41402abc4b2a76b9719d911017c592b7e2a1f8bba8b0b4f0d5b9e8d1c5a4f3",
        PEER_RUNTIME_PODMAN);
}

/* Host processes: nothing to attribute. */
static void test_host_processes(void **state)
{
    (void)state;
    expect_none("0::/user.slice/user-1000.slice/session-3.scope\n");
    expect_none("0::/init.scope\n");
    expect_none("0::/\n");
    expect_none("12:memory:/\n1:name=systemd:/system.slice/containerd.service\n0::/\n");
    expect_none("");
}

/* A delegated subtree can name cgroups freely: it must not pass for a pod. */
static void test_spoofing_rejected(void **state)
{
    (void)state;
    expect_none("0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                "kubepods-pod05b3ee07_a2bd_47e7_9599_7961201f20dd.slice/"
                "cri-containerd-1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119"
                ".scope\n");
    /* Rootless podman lives under user.slice too: not attributed. */
    expect_none("0::/user.slice/user-1000.slice/user@1000.service/user.slice/"
                "libpod-12ae81e06dd9a44f0bea46622148f709388ab25ac28d144b864018bd82bfba07.scope\n");
    /* A second pod-looking segment below the first does not replace it. */
    expect_identity("0::/kubepods/burstable/pod74c13223-5a00-11e9-b385-42010a80018d/"
                    "kubepods-pod26a1a59b_8013_459b_9a20_a611facb1888.slice/"
                    "cri-containerd-1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119"
                    ".scope\n",
                    "74c13223-5a00-11e9-b385-42010a80018d",
                    "1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119",
                    PEER_RUNTIME_CONTAINERD);
    /* A container that creates child cgroups inside its own: the real
     * (outermost) pod and container win. */
    expect_identity(
        "0::/kubepods.slice/kubepods-besteffort.slice/"
        "kubepods-besteffort-pod05b3ee07_a2bd_47e7_9599_7961201f20dd.slice/"
        "cri-containerd-1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119.scope/"
        "kubepods-pod26a1a59b_8013_459b_9a20_a611facb1888.slice/"
        "cri-containerd-a7638fe3934b37419cc56bca73465a02b354ba6e98e10272542d84eb2014dd62.scope\n",
        "05b3ee07-a2bd-47e7-9599-7961201f20dd",
        "1207db63eaeb133a85d2b614d12d95d4dff3f29af60d7a7b3c7d39abdf4bd119",
        PEER_RUNTIME_CONTAINERD);
}

static void test_malformed_ids(void **state)
{
    (void)state;
    /* 63 hex digits. */
    expect_identity("0::/kubepods/besteffort/pod74c13223-5a00-11e9-b385-42010a80018d/"
                    "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea0337\n",
                    "74c13223-5a00-11e9-b385-42010a80018d", "", PEER_RUNTIME_UNKNOWN);
    /* Upper-case container id: no runtime writes that. */
    expect_none("0::/system.slice/"
                "docker-9EC39B91F3D70E1BEFF50A308F77067065EA6BE0D91A3378375056CD4422CF3D.scope\n");
    /* UID with a separator in the wrong place, and with a non-hex digit. */
    expect_none("0::/kubepods/besteffort/pod74c132235-a00-11e9-b385-42010a80018d\n");
    expect_none("0::/kubepods/besteffort/pod74c13223-5a00-11e9-b385-42010a80018g\n");
    /* Missing "-" before "pod" in a systemd slice name. */
    expect_none("0::/kubepods.slice/kubepods_pod05b3ee07_a2bd_47e7_9599_7961201f20dd.slice\n");
    /* Upper-case pod UID is normalised. */
    expect_identity("0::/kubepods/pod8DBC5577-D0E2-4706-8787-57D52C03DDF2\n",
                    "8dbc5577-d0e2-4706-8787-57d52c03ddf2", "", PEER_RUNTIME_UNKNOWN);
    /* Lines without two colons or without a leading '/' are skipped. */
    expect_none("garbage\n12\n3:memory\n4:cpu:kubepods/pod8dbc5577-d0e2-4706-8787-57d52c03ddf2\n");
}

/* First line with both parts wins over an earlier partial line. */
static void test_line_preference(void **state)
{
    (void)state;
    expect_identity("3:memory:/kubepods/pod8dbc5577-d0e2-4706-8787-57d52c03ddf2\n"
                    "2:cpu:/kubepods/pod74c13223-5a00-11e9-b385-42010a80018d/"
                    "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376\n",
                    "74c13223-5a00-11e9-b385-42010a80018d",
                    "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376",
                    PEER_RUNTIME_UNKNOWN);
    /* Only partial lines: the first one. */
    expect_identity("3:memory:/kubepods/pod8dbc5577-d0e2-4706-8787-57d52c03ddf2\n"
                    "2:cpu:/kubepods/pod74c13223-5a00-11e9-b385-42010a80018d\n",
                    "8dbc5577-d0e2-4706-8787-57d52c03ddf2", "", PEER_RUNTIME_UNKNOWN);
}

static void test_unterminated_and_embedded(void **state)
{
    (void)state;
    /* No trailing newline. */
    expect_identity("0::/kubepods/pod8dbc5577-d0e2-4706-8787-57d52c03ddf2", 
                    "8dbc5577-d0e2-4706-8787-57d52c03ddf2", "", PEER_RUNTIME_UNKNOWN);
    /* len bounds the parse even when the text continues. */
    const char *t = "0::/kubepods/pod8dbc5577-d0e2-4706-8787-57d52c03ddf2";
    peer_identity id;
    assert_int_equal(peer_parse_cgroup(t, strlen(t) - 1, &id), PEER_E_NOT_FOUND);
    /* An embedded NUL ends nothing: the path simply does not match. */
    const char nul[] = "0::/kubepods/pod8dbc5577-d0e2-4706\0-8787-57d52c03ddf2\n";
    assert_int_equal(peer_parse_cgroup(nul, sizeof nul - 1, &id), PEER_E_NOT_FOUND);
}

static void test_arguments(void **state)
{
    (void)state;
    peer_identity id;
    assert_int_equal(peer_parse_cgroup(NULL, 0, &id), PEER_E_NOT_FOUND);
    assert_int_equal(peer_parse_cgroup(NULL, 5, &id), PEER_E_INVALID_ARG);
    assert_int_equal(peer_parse_cgroup("0::/", 4, NULL), PEER_E_INVALID_ARG);
    char *big = calloc(1, PEER_CGROUP_TEXT_MAX + 1);
    assert_non_null(big);
    memset(big, '\n', PEER_CGROUP_TEXT_MAX + 1);
    assert_int_equal(peer_parse_cgroup(big, PEER_CGROUP_TEXT_MAX + 1, &id), PEER_E_TOO_LARGE);
    assert_int_equal(peer_parse_cgroup(big, PEER_CGROUP_TEXT_MAX, &id), PEER_E_NOT_FOUND);
    free(big);
    assert_int_equal(peer_read_cgroup(NULL, 0, &id), PEER_E_INVALID_ARG);
    assert_int_equal(peer_read_cgroup(NULL, -3, &id), PEER_E_INVALID_ARG);
    assert_string_equal(peer_runtime_name(PEER_RUNTIME_CRIO), "cri-o");
    assert_string_equal(peer_runtime_name(PEER_RUNTIME_UNKNOWN), "unknown");
    assert_string_not_equal(peer_strerror(PEER_E_IO), peer_strerror(PEER_E_NOT_FOUND));
}

/* A fake /proc: <root>/<pid>/cgroup, as a test client in a fake cgroup
 * path would present it. */
static void test_read_under_proc_root(void **state)
{
    (void)state;
    char root[] = "/tmp/sqh-peer-XXXXXX";
    assert_non_null(mkdtemp(root));
    char dir[256], file[300];
    snprintf(dir, sizeof dir, "%s/4242", root);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(file, sizeof file, "%s/cgroup", dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fputs("0::/kubepods.slice/kubepods-burstable.slice/"
          "kubepods-burstable-pod2c5e0d3b_91a4_4f1e_8d55_0b7e4c3a2f10.slice/"
          "cri-containerd-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.scope\n",
          fp);
    fclose(fp);

    peer_identity id;
    assert_int_equal(peer_read_cgroup(root, 4242, &id), PEER_OK);
    assert_string_equal(id.pod_uid, "2c5e0d3b-91a4-4f1e-8d55-0b7e4c3a2f10");
    assert_string_equal(id.container_id,
                        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    assert_int_equal(id.runtime, PEER_RUNTIME_CONTAINERD);
    /* A pid that does not exist under the root. */
    assert_int_equal(peer_read_cgroup(root, 4243, &id), PEER_E_IO);
    assert_string_equal(id.pod_uid, "");

    /* A file larger than the reader's cap. */
    snprintf(dir, sizeof dir, "%s/77", root);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(file, sizeof file, "%s/cgroup", dir);
    fp = fopen(file, "w");
    assert_non_null(fp);
    for (int i = 0; i < 2000; i++)
        fputs("1:x:/a/b\n", fp);
    fclose(fp);
    assert_int_equal(peer_read_cgroup(root, 77, &id), PEER_E_TOO_LARGE);
    unlink(file);
    rmdir(dir);

    snprintf(file, sizeof file, "%s/4242/cgroup", root);
    unlink(file);
    snprintf(dir, sizeof dir, "%s/4242", root);
    rmdir(dir);
    rmdir(root);

    /* The real /proc: this test process has some cgroup file. */
    int rc = peer_read_cgroup("/proc", getpid(), &id);
    assert_true(rc == PEER_OK || rc == PEER_E_NOT_FOUND);
}

/* proc(5): field 22 of /proc/PID/stat is the start time; the command name
 * (field 2) may hold spaces and ')' and is skipped to its last ')'. */
static void test_start_time(void **state)
{
    (void)state;
    unsigned long long st = 1;
    /* Fields 3..21 are 3..21 here, so field 22 is the value to find. */
    static const char line[] = "4242 (a) b) (c) 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
                               "987654321 23 24\n";
    assert_int_equal(peer_parse_start_time(line, strlen(line), &st), PEER_OK);
    assert_true(st == 987654321ull);
    /* The line cut right after field 22 (no separator after it). */
    assert_int_equal(peer_parse_start_time(line, strlen(line) - 7, &st), PEER_OK);
    assert_true(st == 987654321ull);
    /* Cut inside field 21, or before it: not a stat line. */
    assert_int_equal(peer_parse_start_time(line, strlen(line) - 17, &st), PEER_E_INVALID_ARG);
    assert_true(st == 0);
    static const char noparen[] = "4242 a S 1 2 3";
    assert_int_equal(peer_parse_start_time(noparen, strlen(noparen), &st), PEER_E_INVALID_ARG);
    static const char notnum[] = "1 (x) 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 x9 23";
    assert_int_equal(peer_parse_start_time(notnum, strlen(notnum), &st), PEER_E_INVALID_ARG);
    static const char huge[] = "1 (x) 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
                               "99999999999999999999999 23";
    assert_int_equal(peer_parse_start_time(huge, strlen(huge), &st), PEER_E_INVALID_ARG);
    assert_int_equal(peer_parse_start_time(NULL, 3, &st), PEER_E_INVALID_ARG);
    assert_int_equal(peer_read_start_time(0, &st), PEER_E_INVALID_ARG);

    /* The real /proc: our own start time, read independently with stdio. */
    FILE *fp = fopen("/proc/self/stat", "r");
    assert_non_null(fp);
    char buf[2048];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    assert_non_null(p);
    unsigned long long want = 0;
    assert_int_equal(sscanf(p + 2, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                                   "%*s %*s %*s %*s %*s %llu", &want), 1);
    assert_int_equal(peer_read_start_time(getpid(), &st), PEER_OK);
    assert_true(st == want);
    /* A process that has exited and been reaped has no start time. */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    assert_int_equal(peer_read_start_time(child, &st), PEER_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v2_systemd_containerd),
        cmocka_unit_test(test_v2_systemd_guaranteed),
        cmocka_unit_test(test_v1_cgroupfs_containerd),
        cmocka_unit_test(test_v1_cgroupfs_guaranteed),
        cmocka_unit_test(test_v1_systemd_crio),
        cmocka_unit_test(test_cgroupfs_crio),
        cmocka_unit_test(test_crio_conmon_is_pod_only),
        cmocka_unit_test(test_systemd_docker_in_pod),
        cmocka_unit_test(test_kind),
        cmocka_unit_test(test_cgroupns_relative),
        cmocka_unit_test(test_no_kubernetes_containers),
        cmocka_unit_test(test_host_processes),
        cmocka_unit_test(test_spoofing_rejected),
        cmocka_unit_test(test_malformed_ids),
        cmocka_unit_test(test_line_preference),
        cmocka_unit_test(test_unterminated_and_embedded),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_read_under_proc_root),
        cmocka_unit_test(test_start_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
