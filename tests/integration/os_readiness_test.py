#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Readiness and health checks of real OS children through the real vigild and vigilctl
(docs/readiness.md): redis-server speaking sd_notify, nginx with an
HTTP health check (and, SIGSTOPped, killed as unhealthy and restarted), a chain of commands
db -> app -> proxy started in order, and a reload that adds a health check. Every wait is
on an event or a state; no case asserts a wall-clock figure. A case whose program is not
installed is skipped (77).

Usage: os_readiness_test.py VIGILD VIGILCTL SOURCE_DIR CASE
"""

import json
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import Client, Daemon, check, run_case, wait_for  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77


class Logged(Daemon):
    """A Daemon whose log is printed when a check fails, to see why."""

    def cleanup(self):
        if sys.exc_info()[0] is not None and os.path.exists(self.log):
            print("vigild's log:\n" + self.read_log()[-4000:], file=sys.stderr)
        super().cleanup()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def row(d, name):
    return d.ctl_json("status", name)["workers"][0]


def row_where(d, name, pred):
    r = row(d, name)
    return r if pred(r) else False


def nginx_child(d, name, port, extra=""):
    """A [[supervisor.children]] table running nginx on `port` from files in d.dir: /
    answers 200."""
    root = os.path.join(d.dir, "nginx-" + name)
    os.makedirs(os.path.join(root, "tmp"))
    os.chmod(d.dir, 0o755)  # nginx's workers run as nobody and read nothing else here
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write("daemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
                "events { worker_connections 64; }\nhttp {\n  access_log off;\n"
                "  client_body_temp_path %s/tmp;\n  server {\n    listen 127.0.0.1:%d;\n"
                "    location / { return 200 \"ok\\n\"; }\n  }\n}\n" % (root, root, root, port))
    return """
[[supervisor.children]]
id = "%s"
command = ["/usr/sbin/nginx", "-p", "%s", "-c", "%s", "-e", "%s/error.log"]
%s
""" % (name, root, conf, root, extra)


def http_health(port):
    return ('health = { http = "http://127.0.0.1:%d/", interval = "100ms", timeout = "500ms", '
            'failures = 2 }' % port)


def case_redis_notify(vigild, vigilctl, source):
    """redis-server --supervised systemd with ready = "notify" runs once it says READY=1;
    status says it is ready and info shows its STATUS=."""
    if not os.access("/usr/bin/redis-server", os.X_OK):
        print("redis-server is not installed (scripts/setup installs it)")
        return SKIP
    d = Logged(vigild, vigilctl, "")
    d.write_config("""
[[supervisor.children]]
id = "redis"
command = ["/usr/bin/redis-server", "--port", "%d", "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--supervised", "systemd", "--daemonize", "no",
           "--dir", "%s"]
ready = "notify"
ready_timeout = "30s"
""" % (free_port(), d.dir))
    try:
        d.start()
        r = wait_for(lambda: row_where(d, "redis", lambda r: r["state"] == "running"),
                     "redis to run")
        check(r.get("health") == "ready", "status says redis is ready: %r" % r)
        info = d.ctl_json("info", "redis")["info"]
        health = info.get("health", {})
        check(health.get("ready") is True, "info: %r" % health)
        check(health.get("status_text"), "redis's STATUS= is shown: %r" % health)
        check(health.get("notify_ignored") == 0, "nothing ignored: %r" % health)
        text = d.ctl("status").stdout
        check("HEALTH" in text and "ready" in text, "the table has a health column:\n" + text)
    finally:
        d.cleanup()


def case_nginx_unhealthy(vigild, vigilctl, source):
    """nginx with an HTTP health check is healthy; SIGSTOPped (master and worker, its process
    group), its checks time out and it is
    killed with {:unhealthy, ...}, which info's last exits show, and restarted."""
    if not os.access("/usr/sbin/nginx", os.X_OK):
        print("nginx is not installed (scripts/setup installs it)")
        return SKIP
    port = free_port()
    d = Logged(vigild, vigilctl, "")
    d.write_config(nginx_child(d, "web", port, http_health(port)))
    try:
        d.start()
        r = wait_for(lambda: row_where(d, "web", lambda r: r.get("health") == "healthy"),
                     "nginx to be healthy")
        old = r["os_pid"]
        follower = Client(d.socket, timeout=30)
        follower.call("events", {"follow": True, "last": 0})
        # The master and its worker: stopping only the master leaves the worker answering.
        # The kernel still accepts connections; nobody answers them.
        os.killpg(old, signal.SIGSTOP)
        seen = []
        while not any(e.get("event") == "process_restarted" and e.get("path") == "root/web"
                      for e in seen):
            e = follower.read_line()
            check(e is not None, "the event stream ended: %r" % seen)
            seen.append(e)
        follower.close()
        exited = [e for e in seen if e.get("event") == "process_exited"]
        check(exited and "unhealthy" in exited[0]["reason"], "killed as unhealthy: %r" % seen)
        info = d.ctl_json("info", "web")["info"]
        check("unhealthy" in json.dumps(info.get("exits")), "info's last exits: %r" % info)
        r = wait_for(lambda: row_where(d, "web", lambda r: r.get("health") == "healthy"),
                     "the new nginx to be healthy")
        check(r["os_pid"] != old, "a new nginx runs: %r" % r)
    finally:
        d.cleanup()


def case_chain(vigild, vigilctl, source):
    """db -> app -> proxy (commands, rest_for_one): db is ready through a tcp check, app
    through READY=1. Each starts only once the one before it is ready (a child started early
    exits 3); a killed db restarts app and proxy, again only after db is ready."""
    child = os.path.join(HERE, "chain_child.py")
    db_port, app_port = free_port(), free_port()
    d = Logged(vigild, vigilctl, """
[supervisor]
strategy = "rest_for_one"
intensity = 10

[[supervisor.children]]
id = "db"
command = ["python3", "%s", "db", "%d"]
ready = { tcp = "127.0.0.1:%d", interval = "50ms" }

[[supervisor.children]]
id = "app"
command = ["python3", "%s", "app", "%d", "%d"]
ready = "notify"

[[supervisor.children]]
id = "proxy"
command = ["python3", "%s", "proxy", "%d"]
""" % (child, db_port, db_port, child, db_port, app_port, child, app_port))
    try:
        d.start()
        follower = Client(d.socket, timeout=30)
        first = follower.call("events", {"follow": True, "last": 1000})
        seen = list(first["result"]["events"])

        def until(pred, what):
            while not pred():
                e = follower.read_line()
                check(e is not None, "the event stream ended waiting for %s: %r" % (what, seen))
                seen.append(e)

        def started(path):
            return [i for i, e in enumerate(seen)
                    if e.get("event") in ("process_started", "process_restarted")
                    and e.get("path") == path]

        until(lambda: started("root/proxy"), "proxy to start")
        check(started("root/db")[0] < started("root/app")[0] < started("root/proxy")[0],
              "started in order: %r" % seen)
        status = {r["id"]: r for r in d.ctl_json("status")["workers"]}
        for name in ("db", "app", "proxy"):
            check(status[name]["state"] == "running", "%s: %r" % (name, status[name]))
        check(status["db"].get("health") == "ready", "db: %r" % status["db"])
        check(status["app"].get("health") == "ready", "app: %r" % status["app"])
        check("health" not in status["proxy"], "proxy has no checks: %r" % status["proxy"])

        mark = len(seen)
        d.ctl("kill", "db")
        until(lambda: len([i for i in started("root/proxy") if i >= mark]) >= 1,
              "proxy to start again")
        db = [i for i in started("root/db") if i >= mark]
        app = [i for i in started("root/app") if i >= mark]
        proxy = [i for i in started("root/proxy") if i >= mark]
        check(db and app and db[0] < app[0] < proxy[0], "restarted in order: %r" % seen[mark:])
        early = [e for e in seen if e.get("event") == "process_exited"
                 and "exit_status, 3" in e.get("reason", "")]
        check(not early, "a child started before the one it needs was ready: %r" % early)
        follower.close()
    finally:
        d.cleanup()


def case_reload_adds_health(vigild, vigilctl, source):
    """A reload that gives a running nginx a health check makes status show its health."""
    if not os.access("/usr/sbin/nginx", os.X_OK):
        print("nginx is not installed (scripts/setup installs it)")
        return SKIP
    port = free_port()
    d = Logged(vigild, vigilctl, "")
    d.write_config(nginx_child(d, "web", port))
    try:
        d.start()
        r = wait_for(lambda: row_where(d, "web", lambda r: r["state"] == "running"),
                     "nginx to run")
        check("health" not in r, "no checks yet: %r" % r)
        with open(d.config) as f:
            text = f.read()
        d.write_config(text.rstrip() + "\n" + http_health(port) + "\n")
        applied = d.ctl_json("reload")
        check(applied["applied"] is True, "reload: %r" % applied)
        wait_for(lambda: row_where(d, "web", lambda r: r.get("health") == "healthy"),
                 "nginx's new health check to pass")
        info = d.ctl_json("info", "web")["info"]
        check(info["health"]["check"].startswith("http http://127.0.0.1:%d" % port),
              "info names the check: %r" % info["health"])
    finally:
        d.cleanup()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


if __name__ == "__main__":
    sys.exit(run_case(sys.argv, CASES, __doc__))
