# SPDX-License-Identifier: Apache-2.0
"""What the chaos soak reads of the system around vigild: its descriptors, memory, children,
zombies and shared-memory segments, from /proc and /dev/shm."""

import os
import time

from vigild_harness import Failure, wait_for

MEMFD = "/memfd:vigil-ipc"
# The service keeps two spare channels (docs/os-workers.md), refilled asynchronously: they
# are the only memfds of vigild that no live child holds, and the only descriptors (one
# memfd each) that may differ between two quiet moments with the same tree. Every other kind
# of descriptor (pidfd, pipe, socket, file, eventfd...) must come back to the same count.
SPARE_CHANNELS = 2


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def stat_fields(pid):
    """(state, ppid, pgid) of a process, or None once it is gone."""
    text = read("/proc/%d/stat" % pid)
    if text is None:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    rest = text[text.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[2])


def all_processes():
    """{pid: (state, ppid, pgid)} of every process now."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = stat_fields(int(name))
            if fields is not None:
                out[int(name)] = fields
    return out


def descendants(root, procs):
    """The pids below `root` in `procs`, children first."""
    children = {}
    for pid, (_, ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def zombie_children(pid):
    return sorted(p for p, (state, ppid, _) in all_processes().items()
                  if ppid == pid and state == "Z")


def rss_kb(pid):
    for line in (read("/proc/%d/status" % pid) or "").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def fd_kinds(pid):
    """{kind: count} of a process's descriptors: pidfd, pipe, socket, memfd, file..."""
    kinds = {}
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue  # closed while we looked
        if target.startswith("anon_inode:"):
            kind = target[len("anon_inode:"):].strip("[]")
        elif target.startswith(MEMFD):
            kind = "memfd"
        elif ":" in target and not target.startswith("/"):
            kind = target.split(":")[0]
        else:
            kind = "file"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def memfd_inodes(pid):
    """The inodes of the vigil-ipc memfds a process holds open or has mapped."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)).startswith(MEMFD):
                inodes.add(os.stat(os.path.join(fd_dir, fd)).st_ino)
        except OSError:
            continue
    for line in (read("/proc/%d/maps" % pid) or "").splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith(MEMFD):
            inodes.add(int(parts[4]))
    return inodes


def shm_entries():
    try:
        return set(os.listdir("/dev/shm"))
    except OSError:
        return set()


def shm_creator(name):
    """The creator's pid in a named segment's name (vigil-PID-CHILD-INCARNATION-RANDOM, see
    ipc/vigil/ipc/segment.hpp), or None for any other entry."""
    parts = name.split("-")
    if len(parts) == 5 and parts[0] == "vigil" and parts[1].isdigit():
        return int(parts[1])
    return None


def stable_fds(pid):
    """fd_kinds once two looks 300 ms apart agree (spares refill asynchronously)."""
    last = fd_kinds(pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = fd_kinds(pid)
        if now == last:
            return now
        last = now
    return last


def process_check(vpid, live):
    """Problems with vigild's descendants: each live OS child is a direct child, and every
    descendant is in the process group of one (a stray would have left its group)."""
    procs = all_processes()
    below = descendants(vpid, procs)
    direct = {p for p in below if procs[p][1] == vpid}
    problems = []
    if direct != live:
        problems.append("children of vigild %s, live OS children %s"
                        % (sorted(direct), sorted(live)))
    strays = [p for p in below if procs[p][2] not in live]
    if strays:
        problems.append("descendants outside every live child's group: %s" % strays)
    return problems


def measure(vpid, rows):
    """vigild's descriptors, RSS, zombies, descendants and segments at a quiet moment, with
    `rows` its status then."""
    live = {r["os_pid"] for r in rows.values() if r.get("os_pid")}
    fds = stable_fds(vpid)
    out = {"fds": fds, "fd_total": sum(fds.values()), "live_os": len(live), "rows": rows}
    samples = []
    for _ in range(5):
        samples.append(rss_kb(vpid))
        time.sleep(0.2)
    out["rss_kb"] = sorted(samples)[2]
    try:
        wait_for(lambda: not zombie_children(vpid), "no zombie", timeout=5)
    except Failure:
        pass
    out["zombies"] = zombie_children(vpid)
    problems = process_check(vpid, live)
    deadline = time.monotonic() + 5
    while problems and time.monotonic() < deadline:
        time.sleep(0.2)
        problems = process_check(vpid, live)
    out["process_problems"] = problems
    held = set()
    for os_pid in live:
        held |= memfd_inodes(os_pid)
    mine = memfd_inodes(vpid)
    out["memfd_not_in_daemon"] = sorted(held - mine)
    out["memfd_unowned"] = sorted(mine - held)
    out["shm_mapped"] = shm_users(vpid)
    return out


def shm_users(vpid):
    """Processes of the daemon's tree that map or hold a /dev/shm file."""
    users = []
    for pid in [vpid] + descendants(vpid, all_processes()):
        maps = read("/proc/%d/maps" % pid) or ""
        if "/dev/shm/" in maps:
            users.append(pid)
    return users
