#!/usr/bin/python3
"""Proves that check_includes.py can fail: builds fixture trees in a temporary directory, one clean and one
with deliberately bad includes for every rule, and checks the exit status and every reported file:line.

  check_includes_test.py            (runs the check_includes.py next to this file)
"""

import os
import subprocess
import sys
import tempfile
import unittest

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_includes.py")

# Files of the clean tree. A line is a string, or (string, rule) when the line must be reported by that rule;
# the clean tree has no such lines. Everything here obeys the rules, including look-alikes that must not be
# reported: includes in comments, in strings, in build trees, and angle includes of third-party headers.
CLEAN = {
    "core/include/avsl/core/map2d.h": ["#pragma once", "#include <vector>"],
    "core/include/avsl/core/method.h": [
        "#pragma once",
        '#include "avsl/core/map2d.h"',
        '#include "map2d.h"',
        '#include "absl/status/status.h"',
        "#include <torch/torch.h>",
        '// #include "avsl/data/loader.h"   (a comment, not an include)',
        "/* a block comment",
        '#include "avsl/metrics/evaluator.h"',
        "*/",
    ],
    "core/include/avsl/core/version.h.in": ["#pragma once", "#define AVSL_VERSION \"@PROJECT_VERSION@\""],
    "core/include/avsl/core/build_config.h.in": ["#pragma once", "#cmakedefine AVSL_WITH_CUDA"],
    "core/include/avsl/data/loader.h": ["#pragma once", '#include "avsl/core/method.h"'],
    "core/src/core/registry.cc": [
        '#include "avsl/core/method.h"',
        '#include "builtins/helper.h"',
        '#include "absl/strings/str_cat.h"',
        "#include <nlohmann/json.hpp>",
        '// #include "../../../plugins/good/good_loss.h"',
        'const char* kText = "#include \\"plugins/good/good_loss.h\\"";',
    ],
    "core/src/builtins/helper.h": ["#pragma once", '#include "avsl/data/loader.h"'],
    "plugins/good/good.cc": [
        '#include "avsl/core/method.h"',
        '#include "avsl/core/version.h"',
        '#include "avsl/core/build_config.h"',  # generated from build_config.h.in
        '#include "avsl/data/loader.h"',
        '#include "absl/status/statusor.h"',
        '#include "good_loss.h"',
        '#include "detail/kernels.h"',
        "#include <torch/torch.h>",
        "#include <vector>",
    ],
    "plugins/good/good_loss.h": ["#pragma once", '#include "avsl/core/map2d.h"'],
    "plugins/good/detail/kernels.h": ["#pragma once", "#include <cmath>"],
    "datasets/plugin.cc": ['#include "pipeline.h"', '#include "avsl/core/method.h"'],
    "datasets/pipeline.h": ["#pragma once", '#include "avsl/data/loader.h"'],
    "docs/examples/minimal_plugin/minimal_plugin.cc": [
        "#include <torch/torch.h>",
        '#include "avsl/core/method.h"',
    ],
    "tools/avsl/cli_common.h": ["#pragma once", '#include "avsl/core/method.h"'],
    "tools/avsl/main.cc": ['#include "avsl/cli_common.h"', '#include "avsl/data/loader.h"', "#include <iostream>"],
    # Never scanned: build trees and folders outside the rules' reach.
    "build/generated/bad.cc": ['#include "../../plugins/good/good_loss.h"'],
    "core/build-cuda/bad.cc": ['#include "plugins/good/good_loss.h"'],
    "tests/core/registry_test.cc": ['#include "../../plugins/good/good_loss.h"'],
    "benchmarks/bench.cc": ['#include "../datasets/pipeline.h"'],
}

# Added on top of the clean tree: every rule broken, several spellings each.
BAD = {
    # Rule core-upward.
    "core/src/core/upward.cc": [
        '#include "avsl/core/method.h"',
        ('#include "plugins/good/good_loss.h"', "core-upward"),
        ('#include "../../../datasets/pipeline.h"', "core-upward"),
        ('  #  include "tools/avsl/cli_common.h"', "core-upward"),
        ("#include <plugins/good/good_loss.h>", "core-upward"),
    ],
    "core/include/avsl/data/upward.h": [
        "#pragma once",
        ('#include "../../../../plugins/good/good_loss.h"', "core-upward"),
    ],
    # Rule plugin-sdk-only, in a method plugin, the datasets plugin and the example plugin.
    "plugins/bad/bad.cc": [
        '#include "avsl/core/method.h"',
        ('#include "../good/good_loss.h"', "plugin-sdk-only"),
        ('#include "avsl/core/not_installed.h"', "plugin-sdk-only"),
        ('#include "avsl/cli_common.h"', "plugin-sdk-only"),
        ('#include "missing_local.h"', "plugin-sdk-only"),
        ('#include "good_loss.h"', "plugin-sdk-only"),  # exists, but in another plugin's folder
        ('#include "core/src/builtins/helper.h"', "plugin-sdk-only"),
        "#include <nlohmann/json.hpp>",
    ],
    "plugins/good/detail/kernels.h": [  # "../" is forbidden even when it stays inside the plugin
        "#pragma once",
        ('#include "../good_loss.h"', "plugin-sdk-only"),
    ],
    "datasets/bad.cc": [
        '#include "pipeline.h"',
        ('#include "../plugins/good/good_loss.h"', "plugin-sdk-only"),
    ],
    "docs/examples/minimal_plugin/extra.cc": [
        '#include "avsl/core/method.h"',
        ('#include "../../../core/src/builtins/helper.h"', "plugin-sdk-only"),
    ],
    # Rule sdk-core-closed.
    "core/include/avsl/core/dataset.h": [
        "#pragma once",
        '#include "avsl/core/map2d.h"',
        ('#include "avsl/data/loader.h"', "sdk-core-closed"),
        ('#include "../data/loader.h"', "sdk-core-closed"),
        ('#include "avsl/metrics/evaluator.h"', "sdk-core-closed"),
        '#include "absl/status/status.h"',
        "#include <torch/torch.h>",
    ],
    # Rule cli-no-plugin.
    "tools/avsl/cmd_bad.cc": [
        '#include "avsl/cli_common.h"',
        ('#include "plugins/good/good_loss.h"', "cli-no-plugin"),
        ('#include "../../datasets/pipeline.h"', "cli-no-plugin"),
        ("#include <datasets/pipeline.h>", "cli-no-plugin"),
    ],
}


def write_tree(root, files):
    """Writes the files and returns the expected report lines, as 'path:line: rule'."""
    expected = set()
    for rel, lines in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        text = []
        for number, line in enumerate(lines, 1):
            if isinstance(line, tuple):
                line, rule = line
                expected.add("%s:%d: %s" % (rel, number, rule))
            text.append(line)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(text) + "\n")
    return expected


def run_checker(root):
    proc = subprocess.run([sys.executable, CHECKER, root], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    reported = set()
    for line in proc.stdout.splitlines():
        parts = line.split(": ", 2)
        if len(parts) == 3 and ":" in parts[0] and not line.startswith(" "):
            reported.add("%s: %s" % (parts[0], parts[1]))
    return proc.returncode, proc.stdout, reported


class CheckIncludesTest(unittest.TestCase):
    def test_clean_tree_passes(self):
        with tempfile.TemporaryDirectory() as root:
            expected = write_tree(root, CLEAN)
            self.assertEqual(expected, set())
            code, out, reported = run_checker(root)
            self.assertEqual(code, 0, "clean fixture must pass; checker said:\n" + out)
            self.assertEqual(reported, set(), out)

    def test_every_bad_include_is_reported(self):
        with tempfile.TemporaryDirectory() as root:
            files = dict(CLEAN)
            files.update(BAD)
            expected = write_tree(root, files)
            self.assertEqual({e.rsplit(": ", 1)[1] for e in expected},
                             {"core-upward", "plugin-sdk-only", "sdk-core-closed", "cli-no-plugin"})
            code, out, reported = run_checker(root)
            self.assertEqual(code, 1, "bad fixture must fail; checker said:\n" + out)
            self.assertEqual(sorted(expected - reported), [], "not reported; checker said:\n" + out)
            self.assertEqual(sorted(reported - expected), [], "reported but fine; checker said:\n" + out)
            # The offending include line itself is printed after the rule.
            self.assertIn('core/src/core/upward.cc:2: core-upward: #include "plugins/good/good_loss.h"', out)

    def test_each_rule_alone_fails(self):
        for rel, lines in BAD.items():
            with self.subTest(file=rel), tempfile.TemporaryDirectory() as root:
                files = dict(CLEAN)
                files[rel] = lines
                expected = write_tree(root, files)
                code, out, reported = run_checker(root)
                self.assertEqual(code, 1, out)
                self.assertEqual(reported, expected, out)

    def test_rejects_a_root_without_core(self):
        with tempfile.TemporaryDirectory() as root:
            code, out, _ = run_checker(root)
            self.assertEqual(code, 2, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
