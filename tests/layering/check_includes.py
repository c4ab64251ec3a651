#!/usr/bin/python3
"""Checks the layering invariants of docs/architecture.md ('Layering rules') against the #include lines.

  check_includes.py [REPO_ROOT]      (default: the repository that holds this script)

Rules (each violation is printed as `file:line: rule: include line`; exit status 1 when there is any):

  core-upward       a file under core/ includes something from plugins/, datasets/ or tools/
                    (a quoted include whose path names such a folder or resolves into one, relative to the
                    file or to core/include and core/src; an angle include that starts with such a folder).
  plugin-sdk-only   a plugin (plugins/<name>/, the datasets plugin datasets/, an example plugin under
                    docs/examples/<name>/) has a quoted include that is not an installed SDK header
                    ("avsl/..." that exists under core/include/avsl/, or is generated there from a .in file),
                    not "absl/...", and not a header of the plugin's own folder (a path without "..", found
                    next to the including file and inside the plugin). Any "../" include is a violation.
  sdk-core-closed   a header under core/include/avsl/core/ includes a quoted avsl header outside avsl/core/.
  cli-no-plugin     a file under tools/ (the CLI) includes something that resolves into plugins/ or datasets/.

Angle-bracket includes are system or third-party headers and are allowed (except by core-upward and
cli-no-plugin when they start with a plugin/app folder). Lines inside /* */ comments are ignored. Only stdlib.
"""

import os
import re
import sys

SOURCE_EXTENSIONS = (".h", ".hpp", ".cc", ".cpp")
# Directories never scanned, at any depth: build trees (build, build-cuda, ...), VCS and vendored code.
SKIP_DIR_RE = re.compile(r"^(build.*|\..*|third_party|__pycache__)$")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')
# SDK headers that exist only in the build tree, generated from core/include/<path>.in.
GENERATED_SDK_HEADERS = {"avsl/core/version.h"}

RULE_HELP = {
    "core-upward": "core/ must not include plugins/, datasets/ or tools/",
    "plugin-sdk-only": "a plugin may include only installed SDK headers (avsl/...), absl/... and its own headers",
    "sdk-core-closed": "core/include/avsl/core/ headers may include only avsl/core/ among the avsl headers",
    "cli-no-plugin": "tools/ (the CLI) must not include plugin files (plugins/, datasets/)",
}


def norm(path):
    """Normalizes a repo-relative path with forward slashes; a path escaping the root keeps its '..'."""
    return os.path.normpath(path).replace(os.sep, "/")


def top(path):
    return path.split("/", 1)[0]


def plugin_root(rel):
    """The plugin folder that holds rel (repo-relative), or None when rel is not plugin code."""
    parts = rel.split("/")
    if parts[0] == "plugins" and len(parts) >= 3:
        return "plugins/" + parts[1]
    if parts[0] == "datasets" and len(parts) >= 2:
        return "datasets"
    if parts[:2] == ["docs", "examples"] and len(parts) >= 4:
        return "docs/examples/" + parts[2]
    return None


def include_lines(path):
    """Yields (line number, bracket, included path, stripped line) for each #include outside /* */ comments."""
    in_comment = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            text = line
            if in_comment:
                end = text.find("*/")
                if end < 0:
                    continue
                text = text[end + 2:]
                in_comment = False
            # Drop complete /* */ pairs, then note an opening one left unclosed on this line.
            text = re.sub(r"/\*.*?\*/", " ", text)
            m = INCLUDE_RE.match(text)
            if m:
                yield number, m.group(1), m.group(2).strip(), line.strip()
            code = text.split("//", 1)[0]
            if "/*" in code:
                in_comment = True


class Checker:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.violations = []  # (rel, line, rule, text)

    def exists(self, rel):
        return not rel.startswith("../") and rel != ".." and os.path.isfile(os.path.join(self.root, rel))

    def resolve(self, rel_dir, inc, search_dirs):
        """Repo-relative candidate paths for a quoted include: next to the file, then in the search dirs.

        The first existing candidate wins; when none exists, the relative-to-file candidate is returned so
        that a '../plugins/x.h' pointing at a missing file is still judged by where it points."""
        candidates = [norm(os.path.join(rel_dir, inc))] + [norm(os.path.join(d, inc)) for d in search_dirs]
        for c in candidates:
            if self.exists(c):
                return c
        return candidates[0]

    def sdk_header_exists(self, inc):
        if inc in GENERATED_SDK_HEADERS:
            return True
        rel = norm("core/include/" + inc)
        return rel.startswith("core/include/avsl/") and (self.exists(rel) or self.exists(rel + ".in"))

    def report(self, rel, number, rule, text):
        self.violations.append((rel, number, rule, text))

    def check_file(self, rel):
        rel_dir = os.path.dirname(rel)
        area = top(rel)
        proot = plugin_root(rel)
        for number, bracket, inc, text in include_lines(os.path.join(self.root, rel)):
            inc_norm = norm(inc)
            components = inc_norm.split("/")
            if area == "core":
                self.check_core(rel, rel_dir, number, bracket, inc, components, text)
            if proot is not None and bracket == '"':
                self.check_plugin(rel, rel_dir, proot, number, inc, text)
            if area == "tools":
                self.check_cli(rel, rel_dir, number, bracket, inc, components, text)

    def check_core(self, rel, rel_dir, number, bracket, inc, components, text):
        app = {"plugins", "datasets", "tools"}
        if bracket == "<":
            bad = components[0] in app
        else:
            resolved = self.resolve(rel_dir, inc, ["core/include", "core/src"])
            bad = top(resolved) in app or any(c in app for c in components[:-1])
        if bad:
            self.report(rel, number, "core-upward", text)
        if bracket == '"' and rel.startswith("core/include/avsl/core/") and rel.endswith((".h", ".hpp")):
            # Judge by the SDK path the include names (after resolving relative spellings like "../data/x.h").
            sdk = norm(inc)
            if top(sdk) != "avsl":
                beside = norm(os.path.join(rel_dir, inc))
                sdk = beside[len("core/include/"):] if beside.startswith("core/include/") else None
            if sdk is not None and sdk.startswith("avsl/") and not sdk.startswith("avsl/core/"):
                self.report(rel, number, "sdk-core-closed", text)

    def check_plugin(self, rel, rel_dir, proot, number, inc, text):
        components = inc.replace("\\", "/").split("/")
        if ".." in components:
            self.report(rel, number, "plugin-sdk-only", text)
            return
        if components[0] == "absl":
            return
        if components[0] == "avsl" and self.sdk_header_exists(norm(inc)):
            return
        own = norm(os.path.join(rel_dir, inc))
        if (own + "/").startswith(proot + "/") and self.exists(own):
            return
        self.report(rel, number, "plugin-sdk-only", text)

    def check_cli(self, rel, rel_dir, number, bracket, inc, components, text):
        plugin_dirs = {"plugins", "datasets"}
        if bracket == "<":
            bad = components[0] in plugin_dirs
        else:
            resolved = self.resolve(rel_dir, inc, ["tools", "core/include"])
            bad = top(resolved) in plugin_dirs or any(c in plugin_dirs for c in components[:-1])
        if bad:
            self.report(rel, number, "cli-no-plugin", text)

    def sources(self):
        for area in ("core", "plugins", "datasets", "tools", "docs/examples"):
            base = os.path.join(self.root, area)
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = sorted(d for d in dirnames if not SKIP_DIR_RE.match(d))
                for name in sorted(filenames):
                    if name.endswith(SOURCE_EXTENSIONS):
                        yield norm(os.path.relpath(os.path.join(dirpath, name), self.root))

    def run(self):
        count = 0
        for rel in self.sources():
            count += 1
            self.check_file(rel)
        return count


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__)
        return 0 if len(argv) == 2 else 2
    default_root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    root = argv[1] if len(argv) == 2 else default_root
    if not os.path.isdir(os.path.join(root, "core")):
        print("check_includes: %s has no core/ folder; pass the repository root" % root, file=sys.stderr)
        return 2
    checker = Checker(root)
    count = checker.run()
    for rel, number, rule, text in checker.violations:
        print("%s:%d: %s: %s" % (rel, number, rule, text))
    if checker.violations:
        rules = sorted({v[2] for v in checker.violations})
        print("check_includes: %d violation(s) in %d file(s) scanned" % (len(checker.violations), count))
        for rule in rules:
            print("  %s: %s" % (rule, RULE_HELP[rule]))
        return 1
    print("check_includes: %d files, layering rules hold" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
