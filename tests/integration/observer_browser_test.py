#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The observer's page in real headless Chromium (docs/observer.md, "The page"): it loads with
no network, shows the tree, a child killed with vigilctl turns and comes back with its new
pid without a reload, a restart chart drawn with the bundled uPlot counts them, the page's kill, restart, stop and start buttons do what vigilctl's
commands do, each action is refused without the token or the action header, the process page
shows an in-process child's message queue and links and a real program's log tail, and a
wrong token is refused.

Usage: observer_browser_test.py VIGILD VIGILCTL [large]
With `large`: a supervisor of many children is drawn lazily (collapsed, then 200 at a time),
and a child that is drawn still turns and comes back from pushed events.
Needs Debian's chromium, chromium-driver and python3-selenium (scripts/setup); exits 77
(skipped) without them. VIGIL_OBSERVER_SCREENSHOT=PATH saves a screenshot of the page.
"""

import os
import shutil
import socket
import sys

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    # Debian's python3-selenium lives in the system's python, not in a pyenv's.
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("skipped: no python3-selenium", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import TICKING_LOGGER, Daemon, Failure, check  # noqa: E402

TREE = """
[observer]
listen = "tcp://127.0.0.1:{port}"
token = "s3cret"

[[supervisor.children]]
id = "echo"
kind = "echo"

[[supervisor.children]]
id = "sleeper"
command = ["sleep", "1000"]

[[supervisor.children]]
id = "jobs"
type = "supervisor"

  [[supervisor.children.children]]
  id = "dispatcher"
  kind = "dispatcher"

  [[supervisor.children.children]]
  id = "batch"
  command = ["sleep", "1000"]
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def browser():
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        return None
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-proxy-server", "--window-size=1280,720"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=opts)


# The page redraws the tree every second: read and click inside the page, in one script,
# so that no element goes stale between finding it and using it.
def text_of(b, selector):
    return b.execute_script(
        "const n = document.querySelector(arguments[0]); return n ? n.textContent : '';",
        selector)


def node_text(b, path):
    return text_of(b, 'li[data-path="%s"] > .node' % path)


def click(b, selector):
    check(b.execute_script(
        "const n = document.querySelector(arguments[0]); if (n) n.click(); return !!n;",
        selector), "nothing to click at " + selector)


def fetch_status(b, path, headers):
    """The HTTP status of a POST the page's own script sends."""
    return b.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {method: 'POST', headers: arguments[1]})"
        ".then(r => done(r.status), e => done(String(e)));", path, headers)


def state_of(d, path):
    return {r["path"]: r for r in d.ctl_json("status")["workers"]}[path]["state"]


def pid_of(d, path):
    rows = {r["path"]: r for r in d.ctl_json("status")["workers"]}
    return rows[path]["pid"]


def run(vigild, vigilctl):
    b = browser()
    if b is None:
        print("skipped: no chromium or chromedriver", file=sys.stderr)
        return 77
    port = free_port()
    d = Daemon(vigild, vigilctl, TREE.format(port=port) + TICKING_LOGGER)
    wait = WebDriverWait(b, 20, poll_frequency=0.05)
    b.set_script_timeout(20)
    try:
        d.start()
        base = "http://127.0.0.1:%d/" % port
        # A wrong token: refused, and the page shows no tree.
        b.get(base + "?token=wrong")
        check("unauthorized" in b.page_source, "a wrong token was served:\n" + b.page_source)

        b.get(base + "?token=s3cret")
        wait.until(lambda _: "live" in text_of(b, "#conn"))
        for path in ("root/echo", "root/sleeper", "root/jobs", "root/jobs/dispatcher",
                     "root/jobs/batch", "root/logger"):
            wait.until(lambda _, p=path: "running" in node_text(b, p))
        old = pid_of(d, "root/sleeper")
        check(old in node_text(b, "root/sleeper"), "the page lacks the pid " + old)
        check("os_pid" in node_text(b, "root/sleeper"), "no os_pid for the command child")
        b.execute_script("window.__not_reloaded = true;")

        d.ctl("kill", "sleeper")
        new = wait.until(lambda _: (lambda p: p if p != old else None)(pid_of(d, "root/sleeper")))
        wait.until(lambda _: new in node_text(b, "root/sleeper")
                   and "running" in node_text(b, "root/sleeper"))
        check("1 restart" in node_text(b, "root/sleeper"), node_text(b, "root/sleeper"))
        # Its new os_pid is not in the events: the page fetches the tree again for it.
        wait.until(lambda _: "os_pid" in node_text(b, "root/sleeper"))
        check(b.execute_script("return window.__not_reloaded === true;"), "the page reloaded")

        # The kill button of a nested child's details.
        old = pid_of(d, "root/jobs/dispatcher")
        click(b, 'li[data-path="root/jobs/dispatcher"] > .node')
        wait.until(lambda _: "root/jobs/dispatcher" in text_of(b, "#detail"))
        click(b, "#kill")
        wait.until(lambda _: "killed #PID<" in text_of(b, "#msg"))
        new = wait.until(
            lambda _: (lambda p: p if p != old else None)(pid_of(d, "root/jobs/dispatcher")))
        wait.until(lambda _: new in node_text(b, "root/jobs/dispatcher"))
        wait.until(lambda _: ":killed" in text_of(b, "#detail"))

        # The restart chart: uPlot, served by vigild from its build (nothing from another
        # origin), drawn, and counting the kills above.
        wait.until(lambda _: b.execute_script(
            "return typeof uPlot === 'function' && !!document.querySelector('#chart canvas');"))
        wait.until(lambda _: b.execute_script("return restartCounts.reduce((a, c) => a + c);") >= 2)
        origins = b.execute_script(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin);")
        check(set(origins) == {base.rstrip("/")}, "the page fetched from elsewhere: %r" % origins)

        # Each action is refused without the token and without the action header, and the
        # child stays as it was.
        old = pid_of(d, "root/sleeper")
        for action in ("kill", "restart", "stop", "start"):
            url = "/api/%s?path=root/sleeper" % action
            status = fetch_status(b, url, {"X-Vigil-Action": "1", "Authorization": "Bearer no"})
            check(status == 401, "%s with a wrong token: %r" % (action, status))
            status = fetch_status(b, url, {"Authorization": "Bearer s3cret"})
            check(status == 403, "%s without X-Vigil-Action: %r" % (action, status))
        check(pid_of(d, "root/sleeper") == old, "a refused action changed root/sleeper")

        # The restart, stop and start buttons.
        click(b, 'li[data-path="root/sleeper"] > .node')
        wait.until(lambda _: "root/sleeper" in text_of(b, "#detail h2"))
        click(b, "#restart")
        wait.until(lambda _: "restarted #PID<" in text_of(b, "#msg"))
        new = pid_of(d, "root/sleeper")
        check(new != old, "the restart button did not restart root/sleeper")
        wait.until(lambda _: new in node_text(b, "root/sleeper"))
        click(b, "#stop")
        wait.until(lambda _: "stopped" in text_of(b, "#msg"))
        check(state_of(d, "root/sleeper") != "running", "the stop button did not stop it")
        wait.until(lambda _: "running" not in node_text(b, "root/sleeper"))
        click(b, "#start")
        wait.until(lambda _: "started #PID<" in text_of(b, "#msg"))
        new = pid_of(d, "root/sleeper")
        check(state_of(d, "root/sleeper") == "running", "the start button did not start it")
        wait.until(lambda _: new in node_text(b, "root/sleeper")
                   and "running" in node_text(b, "root/sleeper"))

        # The process page: Process.info of an in-process child ...
        click(b, 'li[data-path="root/echo"] > .node')
        wait.until(lambda _: text_of(b, '#proc [data-key="message_queue_len"] .v').isdigit())
        wait.until(lambda _: "#PID<" in text_of(b, '#proc [data-key="links"] .v'))
        check(text_of(b, '#proc [data-key="reductions"] .v') != "", "no reductions shown")
        # ... and a real program's os_pid, restart history and log tail, kept live.
        d.ctl("kill", "logger")
        click(b, 'li[data-path="root/logger"] > .node')
        wait.until(lambda _: text_of(b, '#proc [data-key="os_pid"] .v').isdigit())
        wait.until(lambda _: ":killed" in text_of(b, "#history"))
        first = wait.until(lambda _: (lambda t: t if "tick-" in t else None)(text_of(b, "#logs")))
        wait.until(lambda _: text_of(b, "#logs") != first)
        shot = os.environ.get("VIGIL_OBSERVER_SCREENSHOT")
        if shot:
            b.set_window_size(1400, 1100)  # the tree and the whole process page
            wait.until(lambda _: "tick-" in text_of(b, "#logs"))
            b.save_screenshot(shot)
        check(d.proc.poll() is None, "vigild died")
    finally:
        b.quit()
        d.cleanup()
    return 0


LARGE = 1000


def run_large(vigild, vigilctl):
    b = browser()
    if b is None:
        print("skipped: no chromium or chromedriver", file=sys.stderr)
        return 77
    port = free_port()
    lines = ['[observer]', 'listen = "tcp://127.0.0.1:%d"' % port, 'token = "s3cret"', '',
             '[[supervisor.children]]', 'id = "pool"', 'type = "supervisor"', '']
    for i in range(LARGE):
        lines += ['  [[supervisor.children.children]]', '  id = "e%d"' % i, '  kind = "echo"', '']
    d = Daemon(vigild, vigilctl, "\n".join(lines))
    wait = WebDriverWait(b, 60, poll_frequency=0.05)
    drawn = "return document.querySelectorAll('li[data-path^=\"root/pool/\"]').length;"
    try:
        d.start()
        b.get("http://127.0.0.1:%d/?token=s3cret" % port)
        wait.until(lambda _: "%d children" % (LARGE + 1) in text_of(b, "#count"))
        check(b.execute_script(drawn) == 0, "a supervisor of %d children was drawn open" % LARGE)
        click(b, 'li[data-path="root/pool"] > .node > .caret')
        wait.until(lambda _: b.execute_script(drawn) == 200)
        click(b, 'li[data-path="root/pool"] > ul > button.more')
        wait.until(lambda _: b.execute_script(drawn) == 400)
        old = pid_of(d, "root/pool/e300")
        d.ctl("kill", "root/pool/e300")
        new = wait.until(lambda _: (lambda p: p if p != old else None)(pid_of(d, "root/pool/e300")))
        wait.until(lambda _: new in node_text(b, "root/pool/e300")
                   and "1 restart" in node_text(b, "root/pool/e300"))
        check(d.proc.poll() is None, "vigild died")
    finally:
        b.quit()
        d.cleanup()
    return 0


def main(argv):
    if len(argv) not in (3, 4) or (len(argv) == 4 and argv[3] != "large"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        code = (run_large if len(argv) == 4 else run)(argv[1], argv[2])
    except Failure as e:
        print("FAIL: observer_browser: %s" % e, file=sys.stderr)
        return 1
    if code == 0:
        print("ok: observer_browser")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
