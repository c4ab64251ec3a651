#!/usr/bin/env python3
"""The compile step of scripts/torch_headers_check.sh: runs every compile command with -fsyntax-only against an
unpacked LibTorch header tree. Run inside the script's mount namespace, where /usr/include's LibTorch and Gloo
folders are empty, so a header the new tree lacks is an error instead of a silent fallback to 1.13's copy."""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import shlex
import subprocess
import sys
import time


def torch_version(headers):
    fields = {}
    for rel in ("torch/headeronly/version.h", "torch/csrc/api/include/torch/version.h"):
        path = os.path.join(headers, rel)
        if os.path.exists(path):
            for m in re.finditer(r"#define TORCH_VERSION_(MAJOR|MINOR|PATCH) (\d+)", open(path).read()):
                fields.setdefault(m.group(1), m.group(2))
    if len(fields) != 3:
        sys.exit(f"torch_headers_check: no TORCH_VERSION_MAJOR/MINOR/PATCH under {headers}/torch")
    return "{MAJOR}.{MINOR}.{PATCH}".format(**fields)


def cxx_standard(headers):
    # The rule of cmake/AvslDeps.cmake: C++20 where ATen.h refuses anything older.
    aten = os.path.join(headers, "ATen/ATen.h")
    if not os.path.exists(aten):
        sys.exit(f"torch_headers_check: {aten} is missing: not a LibTorch header tree")
    return "20" if "__cplusplus < 202002L" in open(aten).read() else "17"


def rewrite(entry, headers, std, pch_header=None):
    """The entry's command against `headers` in C++`std`, checking syntax only. pch_header replaces the build's
    precompiled <torch/torch.h> (which holds 1.13's declarations) in the translation units that link LibTorch."""
    args = entry.get("arguments") or shlex.split(entry["command"])
    if os.path.basename(args[0]) == "ccache":
        args = args[1:]
    uses_torch = any(a.endswith("torch/csrc/api/include") for a in args)
    out = [args[0], "-isystem", os.path.join(headers, "torch/csrc/api/include"), "-isystem", headers]
    it = iter(args[1:])
    for a in it:
        if a in ("-o", "-MT", "-MF", "-MQ"):
            next(it)
        elif a == "-include" and pch_header:
            pch = next(it)
            if not pch.endswith("cmake_pch.hxx"):
                out += [a, pch]
        elif a not in ("-c", "-MD", "-MMD"):
            out.append(re.sub(r"\d+$", std, a) if a.startswith("-std=") else a)
    if uses_torch and pch_header:
        out += ["-include", pch_header]
    return out + ["-fsyntax-only"]


def build_pch(entry, headers, std, folder):
    """CMake's precompiled-header command (a cmake_pch.hxx.cxx compiled as a header) with the new headers, into
    folder: the checked translation units then parse LibTorch once instead of once each."""
    os.makedirs(folder, exist_ok=True)
    src_dir = os.path.dirname(entry["file"])
    for name in ("cmake_pch.hxx", "cmake_pch.hxx.cxx"):
        shutil.copy(os.path.join(src_dir, name), os.path.join(folder, name))
    header = os.path.join(folder, "cmake_pch.hxx")
    args = [a for a in rewrite(entry, headers, std) if a != "-fsyntax-only"]
    args = [os.path.join(folder, "cmake_pch.hxx.cxx") if a == entry["file"] else a for a in args]
    args = [header if a.endswith("cmake_pch.hxx") else a for a in args]
    proc = subprocess.run(args + ["-c", "-o", header + ".gch"], cwd=entry["directory"], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        sys.exit("torch_headers_check: <torch/torch.h> itself does not compile as a precompiled header:\n" +
                 "\n".join(proc.stderr.splitlines()[:20]))
    return header


def check(entry, headers, std, repo, pch_header):
    cmd = rewrite(entry, headers, std, pch_header)
    proc = subprocess.run(cmd, cwd=entry["directory"], capture_output=True, text=True)
    lines = proc.stderr.splitlines()
    errors = [l for l in lines if ": error:" in l or ": fatal error:" in l]
    ours = sorted({l for l in lines if ": warning:" in l and l.startswith(repo + "/")})
    ours += [l for l in lines if "-Winvalid-pch" in l][:1]
    return entry["file"], proc.returncode, errors, ours, proc.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compile-commands", required=True)
    ap.add_argument("--headers", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--report", required=True)
    ap.add_argument("--only", default="", help="check only the sources whose path matches this regular expression")
    opt = ap.parse_args()

    for probe in ("/usr/include/ATen/ATen.h", "/usr/include/torch/csrc/api/include/torch/torch.h"):
        if os.path.exists(probe):
            sys.exit(f"torch_headers_check: {probe} is visible: the system's LibTorch is not hidden")
    version, std = torch_version(opt.headers), cxx_standard(opt.headers)
    # Each source once (a file compiled into two targets has the same text either way), the repository's only.
    entries, seen, pch_entry = [], set(), None
    for e in json.load(open(opt.compile_commands)):
        f = os.path.realpath(os.path.join(e["directory"], e["file"]))
        if f.endswith("cmake_pch.hxx.cxx") and "avsl_torch_pch" in f:
            pch_entry = dict(e, file=f)
        elif f.startswith(opt.repo + "/") and f not in seen and re.search(opt.only, f):
            seen.add(f)
            entries.append(dict(e, file=f))
    print(f"torch_headers_check: LibTorch {version} headers, C++{std}, {len(entries)} translation units, "
          f"{opt.jobs} jobs", flush=True)
    start = time.monotonic()
    pch_header = None
    if pch_entry:
        pch_header = build_pch(pch_entry, opt.headers, std, os.path.join(os.path.dirname(opt.report), "pch"))
        print(f"  <torch/torch.h> precompiled in {time.monotonic() - start:.0f} s", flush=True)
    failed, warnings = [], set()
    with concurrent.futures.ThreadPoolExecutor(opt.jobs) as pool:
        for f, rc, errors, ours, stderr in pool.map(lambda e: check(e, opt.headers, std, opt.repo, pch_header), entries):
            warnings.update(ours)
            if rc != 0:
                failed.append((f, errors or stderr.splitlines()[-5:]))
                print(f"  FAIL {os.path.relpath(f, opt.repo)}: {(errors or ['?'])[0]}", flush=True)
    seconds = time.monotonic() - start
    with open(opt.report, "w") as out:
        out.write(f"LibTorch {version} headers ({opt.headers}), C++{std}\n")
        out.write(f"{len(entries)} translation units, {len(failed)} failed, {seconds:.0f} s with {opt.jobs} jobs\n")
        for f, errors in failed:
            out.write(f"\nFAILED {os.path.relpath(f, opt.repo)}\n")
            out.writelines(f"  {l}\n" for l in errors[:15])
        if warnings:
            out.write(f"\n{len(warnings)} distinct warnings in avsl's own files:\n")
            out.writelines(f"  {os.path.relpath(w, opt.repo)}\n" for w in sorted(warnings))
    print(f"torch_headers_check: LibTorch {version}: {len(entries) - len(failed)}/{len(entries)} compile, "
          f"{len(warnings)} distinct warnings in avsl's files, {seconds:.0f} s (report: {opt.report})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
