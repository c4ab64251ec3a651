#!/usr/bin/env python3
"""Can this machine run the libraries of an unpacked GPU bundle? (scripts/gpu_check.sh --bundle, docs/gpu.md)

The bundle leaves out what every Linux with a C++ toolchain has (glibc, libstdc++, zlib, OpenSSL, ...), so its
libraries need those from the machine, in versions at least as new as Debian 12's. This reads, with objdump, every
shared library under PREFIX: the libraries each one loads (DT_NEEDED) and the symbol versions it requires of them
(GLIBC_2.35, GLIBCXX_3.4.30, ...). A library the bundle does not hold must be on the machine (ldconfig's cache) and
define every version asked of it. Otherwise the check names the library, what it lacks and who needs it, and exits 1:
before a build that would otherwise fail minutes later, or a run that fails at load time.

    bundle_runtime_check.py PREFIX [--machine-libs DIR]
      --machine-libs DIR   the machine's libraries are the files of DIR (tests) instead of ldconfig's cache
"""

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys


def elf_dynamic(path):
    """(soname, needed sonames, {soname: required versions}, defined versions) of a shared library, or None."""
    proc = subprocess.run(["objdump", "-p", path], capture_output=True, text=True)
    if proc.returncode != 0:
        return None  # not ELF (a linker script such as libc.so) or not readable
    soname, needed, defined = None, [], set()
    required = collections.defaultdict(set)
    section, current = None, None
    for line in proc.stdout.splitlines():
        if line.startswith("Version definitions:"):
            section = "def"
        elif line.startswith("Version References:"):
            section = "ref"
        elif not line.strip():
            section = None
        fields = line.split()
        if fields[:1] == ["NEEDED"]:
            needed.append(fields[1])
        elif fields[:1] == ["SONAME"]:
            soname = fields[1]
        elif section == "def" and len(fields) >= 4 and fields[0].isdigit():
            defined.add(fields[3])
        elif section == "ref":
            m = re.match(r"\s+required from (\S+):", line)
            if m:
                current = m.group(1)
            elif current and len(fields) >= 4 and fields[0].startswith("0x"):
                if not int(fields[1], 16) & 0x2:  # a weak reference (VER_FLG_WEAK): the loader does without it
                    required[current].add(fields[3])
    return soname, needed, required, defined


def machine_libraries(machine_dir):
    """soname -> path of the machine's copy: ldconfig's cache (64-bit entries), or the files of machine_dir."""
    if machine_dir:
        return {name: os.path.join(machine_dir, name) for name in os.listdir(machine_dir)}
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    out = subprocess.run([ldconfig, "-p"], capture_output=True, text=True).stdout
    libs = {}
    for line in out.splitlines():
        m = re.match(r"\s+(\S+) \(([^)]*)\) => (\S+)", line)
        if m and ("x86-64" in m.group(2) or "64bit" in m.group(2) or "AArch64" in m.group(2)):
            libs.setdefault(m.group(1), m.group(3))
    return libs


def version_key(v):
    return [(0, int(x), "") if x.isdigit() else (1, 0, x) for x in re.split(r"[._]", v)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefix")
    ap.add_argument("--machine-libs")
    opt = ap.parse_args()
    for tool in ("objdump",) + (() if opt.machine_libs else ("ldconfig",)):
        if shutil.which(tool) is None and not os.path.exists("/sbin/" + tool):
            sys.exit(f"bundle_runtime_check: needs {tool} (binutils, libc-bin)")

    bundle = {}  # soname or file name -> parsed library
    for root, _, files in os.walk(opt.prefix):
        for name in files:
            path = os.path.join(root, name)
            if ".so" in name and not os.path.islink(path):
                info = elf_dynamic(path)
                if info:
                    bundle[name] = (path, info)
                    if info[0]:
                        bundle[info[0]] = (path, info)
    machine = machine_libraries(opt.machine_libs)
    needs = collections.defaultdict(lambda: collections.defaultdict(set))  # soname -> version -> users
    for name, (path, (soname, needed, required, _)) in bundle.items():
        if name != (soname or name):
            continue  # each library once, under its soname
        for dep in needed:
            if dep not in bundle:
                needs[dep].setdefault("", set()).add(soname or name)
        for dep, versions in required.items():
            if dep not in bundle:
                for v in versions:
                    needs[dep][v].add(soname or name)

    problems, have = [], []
    for dep in sorted(needs):
        users = sorted(set().union(*needs[dep].values()))
        if dep not in machine:
            problems.append(f"{dep}: not on this machine and not in the bundle; needed by {', '.join(users[:4])}"
                            + (f" and {len(users) - 4} more" if len(users) > 4 else ""))
            continue
        info = elf_dynamic(machine[dep])
        defined = info[3] if info else set()
        wanted = sorted((v for v in needs[dep] if v), key=version_key)
        missing = [v for v in wanted if v not in defined]
        for v in missing:
            who = sorted(needs[dep][v])
            problems.append(f"{dep} ({machine[dep]}) lacks {v}, needed by {', '.join(who[:4])}"
                            + (f" and {len(who) - 4} more" if len(who) > 4 else ""))
        newest = {}
        for v in wanted:  # the newest of each version family (GLIBC_, GLIBCXX_, CXXABI_ ...)
            newest[re.sub(r"_[\d.]+$", "", v)] = v
        have.append(dep + (f" ({', '.join(newest.values())})" if newest else ""))

    libs = len({p for p, _ in bundle.values()})
    if problems:
        print(f"bundle_runtime_check: this machine cannot run the bundle's {libs} libraries (the bundle is built "
              f"from Debian 12 packages: glibc 2.36, GCC 12's libstdc++):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(f"bundle_runtime_check: the bundle's {libs} libraries need from this machine, which has them: "
          + "; ".join(have))
    return 0


if __name__ == "__main__":
    sys.exit(main())
