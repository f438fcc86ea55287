#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration tests of vigild's reload in place: a changed child is stopped and started from
its new spec at its place in the start order, an updated one keeps its process and takes its
new spec, unchanged siblings are left alone, a new child takes its place in the file's
order. Also: a nested supervisor that gives up is
reported as supervisor_gave_up, as the root is.

Usage: reload_test.py VIGILD VIGILCTL SOURCE_DIR CASE
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import Daemon, check, run_case, wait_for  # noqa: E402

TREE = """
[supervisor]
strategy = "one_for_one"
intensity = 10

[[supervisor.children]]
id = "steady"
command = ["sleep", "1000"]
shutdown = "2s"

[[supervisor.children]]
id = "worker"
command = ["sleep", "1001"]
shutdown = "2s"

[[supervisor.children]]
id = "echo"
kind = "echo"

[[supervisor.children]]
id = "chain"
type = "supervisor"
strategy = "rest_for_one"

  [[supervisor.children.children]]
  id = "a"
  kind = "echo"

  [[supervisor.children.children]]
  id = "b"
  kind = "echo"
  args = { delay = 100 }

  [[supervisor.children.children]]
  id = "c"
  kind = "echo"
"""


def status_rows(d):
    return {row["path"]: row for row in d.ctl_json("status")["workers"]}


def cmdline(os_pid):
    with open("/proc/%d/cmdline" % os_pid, "rb") as f:
        return f.read().split(b"\0")[:-1]


def running_os_pid(d, path):
    row = status_rows(d).get(path, {})
    return row.get("os_pid") if row.get("state") == "running" else None


def child_ids(tree, path):
    node = tree
    for part in path:
        node = [c for c in node["children"] if c["id"] == part][0]
    return [c["id"] for c in node["children"]]


def case_inplace(vigild, vigilctl, source):
    """A reload that changes a command and an echo's args restarts exactly those children
    (and, under rest_for_one, those after them) from their new spec, at their place; an update
    changes how a child is supervised without restarting it."""
    d = Daemon(vigild, vigilctl, TREE).start()
    try:
        wait_for(lambda: running_os_pid(d, "root/worker") and running_os_pid(d, "root/steady"),
                 "the command children to run")
        before = status_rows(d)
        old_os = before["root/worker"]["os_pid"]
        check(cmdline(old_os) == [b"sleep", b"1001"], "cmdline %r" % cmdline(old_os))

        changed = (TREE.replace('command = ["sleep", "1001"]', 'command = ["sleep", "1002"]')
                   .replace("args = { delay = 100 }", "args = { delay = 200 }")
                   .replace('id = "echo"\nkind = "echo"\n',
                            'id = "echo"\nkind = "echo"\nrestart = "temporary"\n'))
        d.write_config(changed)
        plan = {p["path"]: p["action"] for p in d.ctl_json("reload", "--dry-run")["plan"]}
        check(plan == {"root/worker": "restart", "root/echo": "update",
                       "root/chain/b": "restart", "root/chain/c": "restart"}, "plan %r" % plan)
        applied = d.ctl_json("reload")
        check(applied["applied"] is True, "reload: %r" % applied)
        check(not applied.get("warnings"), "warnings: %r" % applied.get("warnings"))

        # The changed command runs, in a new OS process.
        new_os = wait_for(lambda: running_os_pid(d, "root/worker"), "worker to run again")
        check(new_os != old_os, "worker's OS process was not replaced")
        check(cmdline(new_os) == [b"sleep", b"1002"], "cmdline %r" % cmdline(new_os))
        check(not os.path.exists("/proc/%d" % old_os)
              or open("/proc/%d/stat" % old_os).read().split(")")[-1].split()[0] == "Z",
              "the old OS process still runs")

        after = status_rows(d)
        for path in ("root/steady", "root/echo", "root/chain", "root/chain/a"):
            check(after[path]["pid"] == before[path]["pid"], "%s was restarted" % path)
        check(after["root/steady"]["os_pid"] == before["root/steady"]["os_pid"],
              "steady's OS process was replaced")
        for path in ("root/worker", "root/chain/b", "root/chain/c"):
            check(after[path]["pid"] != before[path]["pid"], "%s was not restarted" % path)

        # Replaced in place: the start order is the config's, not "changed ones last".
        tree = d.ctl_json("tree")["tree"]
        check(child_ids(tree, []) == ["steady", "worker", "echo", "chain"],
              "root's order %r" % child_ids(tree, []))
        check(child_ids(tree, ["chain"]) == ["a", "b", "c"], "chain's order")

        # rest_for_one still sees b before c and after a: a crash of b restarts b and c only.
        d.ctl("kill", "root/chain/b")
        wait_for(lambda: (lambda r: r["root/chain/c"]["pid"] not in (after["root/chain/c"]["pid"],
                                                                     None))(status_rows(d)),
                 "c to restart after b")
        check(status_rows(d)["root/chain/a"]["pid"] == after["root/chain/a"]["pid"],
              "a restarted with b: the order is wrong")

        # echo's update (now temporary) applies to the running process: killed, it stays down.
        d.ctl("kill", "echo")
        wait_for(lambda: status_rows(d).get("root/echo", {}).get("state") != "running",
                 "echo to go down")
        rows = status_rows(d)
        check("root/echo" not in rows or rows["root/echo"].get("pid") is None,
              "temporary echo came back: %r" % rows.get("root/echo"))

        events = d.ctl_json("events")["events"]
        restarted = [e for e in events if e["event"] == "process_restarted"
                     and e.get("path") == "root/worker"]
        check(restarted, "no process_restarted event for root/worker")
    finally:
        d.cleanup()


def case_subtree(vigild, vigilctl, source):
    """A nested supervisor restarted after a reload starts its new subtree, not the one it
    was first started with: its parent got the new spec."""
    d = Daemon(vigild, vigilctl, TREE).start()
    try:
        changed = TREE.replace("args = { delay = 100 }", "args = { delay = 100 }\n\n"
                               '  [[supervisor.children.children]]\n  id = "added"\n'
                               '  kind = "echo"\n')
        d.write_config(changed)
        applied = d.ctl_json("reload")
        check(not applied.get("warnings"), "warnings: %r" % applied.get("warnings"))
        wait_for(lambda: "root/chain/added" in status_rows(d), "the added child")
        chain = status_rows(d)["root/chain"]["pid"]
        d.ctl("kill", "root/chain")
        wait_for(lambda: (lambda r: r.get("root/chain", {}).get("pid") not in (chain, None)
                          and "root/chain/added" in r)(status_rows(d)),
                 "chain to restart with its added child")
        tree = d.ctl_json("tree")["tree"]
        check(child_ids(tree, ["chain"]) == ["a", "b", "added", "c"],
              "the restarted chain's order %r" % child_ids(tree, ["chain"]))
    finally:
        d.cleanup()


def case_inserted(vigild, vigilctl, source):
    """A child new in the config between two running siblings takes that place in the start
    order at once, without restarting anyone: under rest_for_one a crash of the sibling before
    it restarts it too, and a crash of it restarts the sibling after it."""
    d = Daemon(vigild, vigilctl, TREE).start()
    try:
        wait_for(lambda: all(status_rows(d).get("root/chain/" + c, {}).get("pid")
                             for c in "abc"), "the chain to run")
        changed = TREE.replace("args = { delay = 100 }", "args = { delay = 100 }\n\n"
                               '  [[supervisor.children.children]]\n  id = "x"\n'
                               '  kind = "echo"\n')
        d.write_config(changed)
        plan = {p["path"]: p["action"] for p in d.ctl_json("reload", "--dry-run")["plan"]}
        check(plan == {"root/chain/x": "start"}, "plan %r" % plan)
        before = status_rows(d)
        applied = d.ctl_json("reload")
        check(applied["applied"] is True, "reload: %r" % applied)
        check(not applied.get("warnings"), "warnings: %r" % applied.get("warnings"))
        wait_for(lambda: status_rows(d).get("root/chain/x", {}).get("pid"), "x to run")

        after = status_rows(d)
        for path in ("root/chain", "root/chain/a", "root/chain/b", "root/chain/c"):
            check(after[path]["pid"] == before[path]["pid"], "%s was restarted" % path)
        tree = d.ctl_json("tree")["tree"]
        check(child_ids(tree, ["chain"]) == ["a", "b", "x", "c"],
              "chain's order %r" % child_ids(tree, ["chain"]))
        order = [r["path"] for r in d.ctl_json("status")["workers"]
                 if r["path"].startswith("root/chain/")]
        check(order == ["root/chain/a", "root/chain/b", "root/chain/x", "root/chain/c"],
              "status order %r" % order)

        def all_restarted(since, ids):
            rows = status_rows(d)
            return all(rows.get("root/chain/" + c, {}).get("pid")
                       not in (since["root/chain/" + c]["pid"], None) for c in ids)

        # b comes before x: rest_for_one restarts b, x and c, and leaves a alone.
        d.ctl("kill", "root/chain/b")
        wait_for(lambda: all_restarted(after, "bxc"), "b, x and c to restart")
        rows = status_rows(d)
        check(rows["root/chain/a"]["pid"] == after["root/chain/a"]["pid"], "a restarted with b")

        # x comes before c: its crash restarts c, and leaves a and b alone.
        d.ctl("kill", "root/chain/x")
        wait_for(lambda: all_restarted(rows, "xc"), "x and c to restart")
        last = status_rows(d)
        for path in ("root/chain/a", "root/chain/b"):
            check(last[path]["pid"] == rows[path]["pid"], "%s restarted with x" % path)
    finally:
        d.cleanup()


def case_nested_gave_up(vigild, vigilctl, source):
    """A nested supervisor over its intensity reports supervisor_gave_up with its path; its
    parent restarts it and vigild goes on."""
    d = Daemon(vigild, vigilctl, """
[[supervisor.children]]
id = "pool"
type = "supervisor"
intensity = 0

  [[supervisor.children.children]]
  id = "member"
  kind = "echo"
""").start()
    try:
        pool = wait_for(lambda: status_rows(d).get("root/pool", {}).get("pid"), "the pool")
        d.ctl("kill", "root/pool/member")
        wait_for(lambda: status_rows(d).get("root/pool", {}).get("pid") not in (pool, None),
                 "the root to restart the pool")
        events = d.ctl_json("events")["events"]
        gave_up = [e for e in events if e["event"] == "supervisor_gave_up"]
        check([e["path"] for e in gave_up] == ["root/pool"], "events %r" % gave_up)
        check(gave_up[0]["reason"] == ":shutdown", "reason %r" % gave_up[0])
        check(d.proc.poll() is None, "vigild stopped")
    finally:
        d.cleanup()


CASES = {"inplace": case_inplace, "subtree": case_subtree, "inserted": case_inserted,
         "nested_gave_up": case_nested_gave_up}


if __name__ == "__main__":
    sys.exit(run_case(sys.argv, CASES, __doc__))
