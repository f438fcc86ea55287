#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The Debian package (cmake/VigilPackage.cmake), built with CPack from the build tree.

Checks the file name, the contents (programs, unit, config, man pages, completions, the worker
SDK, its example, the docs), that /etc/vigil/vigil.toml is a conffile, that lintian reports no
error, that the unpacked unit names /usr/bin and /etc/vigil, that the packaged config passes
`vigild --check-config`, and that a program builds against the unpacked SDK with
find_package(Vigil) and with pkg-config, and runs.

Usage: package_test.py BUILD_DIR SOURCE_DIR VERSION
Exit 77 (skipped) when a tool it needs is missing.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

build, source, version = sys.argv[1:4]
source = pathlib.Path(source)

for tool in ("cpack", "dpkg-deb", "dpkg", "lintian", "pkg-config", "c++", "cmake", "ninja"):
    if not shutil.which(tool):
        print(f"SKIP: {tool} is missing (scripts/setup installs it)")
        sys.exit(77)

failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


def run(*command, **kwargs):
    print("+", " ".join(str(c) for c in command), flush=True)
    return subprocess.run([str(c) for c in command], check=True, stdout=subprocess.PIPE,
                          text=True, **kwargs).stdout


arch = run("dpkg", "--print-architecture").strip()
tmp = pathlib.Path(tempfile.mkdtemp(prefix="vigil-package-"))
try:
    # -- build ----------------------------------------------------------------------------
    out = tmp / "out"
    run("cpack", "--config", pathlib.Path(build) / "CPackConfig.cmake", "-B", out)
    deb = out / f"vigil_{version}_{arch}.deb"
    if not deb.exists():
        print("FAIL: no", deb, "among", sorted(p.name for p in out.iterdir()))
        sys.exit(1)

    # -- contents -------------------------------------------------------------------------
    listing = run("dpkg-deb", "-c", deb)
    paths = {line.split()[-1].lstrip(".") for line in listing.splitlines() if line.strip()}
    expected = [
        "/usr/bin/vigild", "/usr/bin/vigilctl", "/usr/bin/vigil-worker",
        "/usr/lib/systemd/system/vigild.service",
        "/etc/vigil/vigil.toml", "/etc/vigil/vigil.toml.example",
        "/usr/share/man/man8/vigild.8.gz", "/usr/share/man/man1/vigilctl.1.gz",
        "/usr/share/man/man5/vigil.toml.5.gz",
        "/usr/share/bash-completion/completions/vigilctl",
        "/usr/share/bash-completion/completions/vigild",
        "/usr/share/zsh/vendor-completions/_vigilctl", "/usr/share/zsh/vendor-completions/_vigild",
        "/usr/share/fish/vendor_completions.d/vigilctl.fish",
        "/usr/share/fish/vendor_completions.d/vigild.fish",
        "/usr/include/vigil/worker_sdk/worker.hpp", "/usr/include/vigil/ipc/channel.hpp",
        "/usr/include/vigil/term/term.hpp", "/usr/include/vigil/common/result.hpp",
        "/usr/lib/libvigil_worker_sdk.a", "/usr/lib/libvigil_ipc.a", "/usr/lib/libvigil_term.a",
        "/usr/lib/libvigil_common.a",
        "/usr/lib/pkgconfig/vigil-worker-sdk.pc",
        "/usr/lib/cmake/Vigil/VigilConfig.cmake", "/usr/lib/cmake/Vigil/VigilConfigVersion.cmake",
        "/usr/lib/vigil/examples/vigil_sdk_echo",
        "/usr/share/doc/vigil/copyright", "/usr/share/doc/vigil/changelog.gz",
        "/usr/share/doc/vigil/README.md", "/usr/share/doc/vigil/worker-sdk.md",
        "/usr/share/doc/vigil/config.md", "/usr/share/doc/vigil/examples/sdk_echo.cpp",
    ]
    for path in expected:
        if path not in paths:
            fail(f"the package lacks {path}")
    if any(p.startswith("/usr/local") or "/build/" in p for p in paths):
        fail("the package holds build-tree or /usr/local paths")

    control = tmp / "control"
    run("dpkg-deb", "-e", deb, control)
    conffiles = (control / "conffiles").read_text().split() if (control / "conffiles").exists() \
        else []
    if "/etc/vigil/vigil.toml" not in conffiles:
        fail(f"conffiles {conffiles} lack /etc/vigil/vigil.toml")
    for path in paths:
        if path.startswith("/etc/") and not path.endswith("/") and path not in conffiles:
            fail(f"{path} is not a conffile")
    fields = run("dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends")
    print(fields)
    if "libc6" not in fields:
        fail("Depends lacks libc6 (dpkg-shlibdeps did not run?)")

    # -- lintian --------------------------------------------------------------------------
    # Errors fail; warnings are printed.
    result = subprocess.run(["lintian", "--tag-display-limit", "0", str(deb)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(result.stdout)
    errors = [l for l in result.stdout.splitlines() if l.startswith("E:")]
    if errors:
        fail(f"lintian reports {len(errors)} error(s)")

    # -- unpacked -------------------------------------------------------------------------
    root = tmp / "root"
    run("dpkg", "-x", deb, root)
    unit = (root / "usr/lib/systemd/system/vigild.service").read_text()
    for line in ("ExecStart=/usr/bin/vigild --config /etc/vigil/vigil.toml",
                 "ExecReload=/usr/bin/vigilctl reload"):
        if line not in unit.splitlines():
            fail(f"the packaged unit lacks {line!r}")
    check = subprocess.run([root / "usr/bin/vigild", "--check-config", "--insecure-paths",
                            "-c", root / "etc/vigil/vigil.toml"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=dict(os.environ, VIGIL_WORKER_PROGRAM=str(root / "usr/bin/vigil-worker")))
    if check.returncode != 0:
        print(check.stdout)
        fail(f"vigild --check-config on the packaged config exits {check.returncode}")

    # -- the SDK, as a user builds against it ---------------------------------------------
    consumer = source / "tests/package/consumer"
    cm_build = tmp / "cmake-consumer"
    run("cmake", "-S", consumer, "-B", cm_build, "-G", "Ninja",
        f"-DCMAKE_PREFIX_PATH={root / 'usr'}", "-DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF")
    run("cmake", "--build", cm_build)
    pc_flags = run("pkg-config", "--cflags", "--libs", "vigil-worker-sdk",
                   env=dict(os.environ, PKG_CONFIG_PATH=str(root / "usr/lib/pkgconfig"),
                            PKG_CONFIG_LIBDIR=str(root / "usr/lib/pkgconfig"))).split()
    run("c++", "-o", tmp / "pc-consumer", consumer / "main.cpp", *pc_flags)
    for program in (cm_build / "consumer", tmp / "pc-consumer"):
        printed = run(program, "--term").strip()
        if printed != "{:ok, {:ok, 42}}":
            fail(f"{program} --term printed {printed!r}")
        # Outside vigild the SDK reports that it has no channel (exit 3 in the consumer).
        result = subprocess.run([program], stdout=subprocess.PIPE, text=True,
                                env={k: v for k, v in os.environ.items()
                                     if not k.startswith("VIGIL_")})
        if result.returncode != 3 or "VIGIL_CHANNEL_FD" not in result.stdout:
            fail(f"{program} outside vigild: exit {result.returncode}, {result.stdout!r}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

if failures:
    sys.exit(1)
print("PASS")
