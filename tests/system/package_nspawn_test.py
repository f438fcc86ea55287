#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The Debian package installed with dpkg in a booted Debian (tests/system/nspawn.py over the
root of scripts/nspawn-root): its unit starts with its own /etc/vigil/vigil.toml, a user the
config allows runs `vigilctl status`, the unit stops cleanly, and removing the package keeps
the conffile.

The package comes from this build tree (cpack). A sanitized build's runtimes (libasan, ...)
and the libraries a minimal Debian lacks are copied in and named by a drop-in
(LD_LIBRARY_PATH), so dpkg is told to install without them (--force-depends); a release
build's package needs only Debian's own packages.

Usage: package_nspawn_test.py BUILD_DIR SOURCE_DIR VERSION
Exit 77 (skipped) when it cannot run here: not root, or a tool is missing.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nspawn import Container, Failure, check, wait_for  # noqa: E402

SKIP = 77
LIB_DIR = "/usr/lib/vigil-test"
DROPIN = """[Service]
Environment=LD_LIBRARY_PATH=%s
Environment=ASAN_OPTIONS=abort_on_error=0:disable_coredump=1
""" % LIB_DIR
GLIBC = ("linux-vdso", "ld-linux", "libc.so", "libm.so", "libpthread.so", "libdl.so",
         "librt.so", "libresolv.so")


def build_package(build_dir, version, out):
    subprocess.run(["cpack", "--config", os.path.join(build_dir, "CPackConfig.cmake"), "-B", out],
                   check=True, capture_output=True)
    arch = subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True,
                          text=True).stdout.strip()
    deb = os.path.join(out, "vigil_%s_%s.deb" % (version, arch))
    check(os.path.exists(deb), "cpack made no " + deb)
    return deb


def stage(deb, work):
    """The .deb, the libraries its programs need beyond glibc, and the drop-in naming them."""
    staged = os.path.join(work, "stage")
    unpacked = os.path.join(work, "unpacked")
    subprocess.run(["dpkg", "-x", deb, unpacked], check=True)
    os.makedirs(staged + "/var/tmp")
    shutil.copy(deb, staged + "/var/tmp/vigil.deb")
    os.makedirs(staged + LIB_DIR)
    for prog in ("vigild", "vigilctl", "vigil-worker"):
        out = subprocess.run(["ldd", unpacked + "/usr/bin/" + prog], check=True,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split("=>")
            if len(parts) != 2 or not parts[1].strip().startswith("/"):
                continue
            path = parts[1].split("(")[0].strip()
            if not any(os.path.basename(path).startswith(g) for g in GLIBC):
                subprocess.run(["cp", "-L", path, staged + LIB_DIR], check=True)
    os.makedirs(staged + "/etc/systemd/system/vigild.service.d")
    with open(staged + "/etc/systemd/system/vigild.service.d/test.conf", "w") as f:
        f.write(DROPIN)
    return staged


def show(c, *props):
    r = c.run(["systemctl", "show", "vigild", "-p", ",".join(props)])
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def run_cases(c):
    env = {"LD_LIBRARY_PATH": LIB_DIR}
    c.run(["dpkg", "-i", "--force-depends", "/var/tmp/vigil.deb"])
    status = c.run(["dpkg-query", "-W", "-f=${Status}", "vigil"]).stdout
    check(status == "install ok installed", "dpkg status: %r" % status)
    conffiles = c.run(["dpkg-query", "-W", "-f=${Conffiles}", "vigil"]).stdout
    check("/etc/vigil/vigil.toml " in conffiles, "conffiles: %r" % conffiles)
    unit = c.run(["systemctl", "cat", "vigild"]).stdout
    check("ExecStart=/usr/bin/vigild --config /etc/vigil/vigil.toml" in unit, unit)
    # The administrator's edit: let nobody use the socket.
    c.run(["sed", "-i", 's/^\\[daemon\\]$/[daemon]\\nallowed_users = ["nobody"]/',
           "/etc/vigil/vigil.toml"])
    c.run(["vigild", "--check-config", "-c", "/etc/vigil/vigil.toml"], env=env)
    c.run(["systemctl", "daemon-reload"])
    c.run(["systemd-analyze", "verify", "vigild.service"])
    # Type=notify: start returns once vigild has sent READY=1.
    c.run(["systemctl", "start", "vigild"], timeout=120)
    check(show(c, "ActiveState")["ActiveState"] == "active", "vigild.service is not active")
    r = c.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "vigilctl",
               "--timeout", "20s", "status"], check_rc=False, env=env)
    check(r.returncode == 0 and "echo" in r.stdout and "running" in r.stdout,
          "vigilctl status as nobody: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    print(r.stdout)
    c.run(["systemctl", "stop", "vigild"], timeout=120)
    props = show(c, "ActiveState", "Result")
    check(props == {"ActiveState": "inactive", "Result": "success"}, "after stop: %r" % props)
    # Removal keeps the administrator's config (a conffile); purge would delete it.
    c.run(["dpkg", "-r", "vigil"])
    check(c.run(["test", "-f", "/etc/vigil/vigil.toml"], check_rc=False).returncode == 0,
          "dpkg -r removed the conffile")
    check(c.run(["test", "-e", "/usr/bin/vigild"], check_rc=False).returncode != 0,
          "dpkg -r left /usr/bin/vigild")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    build_dir, source, version = sys.argv[1:4]
    if os.geteuid() != 0:
        print("SKIP: needs root (systemd-nspawn, debootstrap)")
        return SKIP
    for tool in ("systemd-nspawn", "debootstrap", "nsenter", "cpack", "dpkg-deb"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed (scripts/setup installs it)" % tool)
            return SKIP
    root = subprocess.run([os.path.join(source, "scripts", "nspawn-root")], check=True,
                          capture_output=True, text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="vigil-pkg-nspawn-")
    c = Container(root, os.path.join(work, "console.log"))
    failed = None
    try:
        deb = build_package(build_dir, version, os.path.join(work, "out"))
        staged = stage(deb, work)
        c.boot()
        c.copy_in(staged)
        run_cases(c)
    except Exception as e:  # noqa: BLE001 (any failure still tears the container down)
        failed = e
        if c.init_pid:
            print("---- journal of vigild.service ----")
            print(c.run(["journalctl", "--no-pager", "-u", "vigild"], check_rc=False)
                  .stdout[-6000:])
    finally:
        if c.init_pid:
            c.run(["systemctl", "kill", "--signal=KILL", "vigild"], check_rc=False, timeout=10)
            c.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        print("FAIL: %s" % failed)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
