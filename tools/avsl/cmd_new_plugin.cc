// avsl new-plugin: writes a buildable out-of-tree method plugin folder (plugin_templates.h).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/ascii.h"
#include "avsl/core/version.h"
#include "cli_common.h"
#include "plugin_templates.h"

namespace avsl::cli {
namespace fs = std::filesystem;

int RunNewPlugin(int argc, char** argv, int first) {
  Args args(
      "avsl new-plugin NAME [--from METHOD] [--component CLASS] --out DIR",
      "Writes a method plugin that builds against the installed SDK: CMakeLists.txt, NAME.cc, NAME_test.cc (the\n"
      "method test kit), README.md (options, defaults and their source, departures) and synthetic.toml (bases on\n"
      "the installed @avsl/ezvsl/synthetic.toml). Then: cmake -S DIR -B DIR/build && cmake --build DIR/build;\n"
      "avsl plugins list --plugin-path DIR/build; avsl train DIR/synthetic.toml --plugin-path DIR/build.");
  args.Positional("NAME", "plugin name, [a-z][a-z0-9_]* (library libavsl_NAME.so, components NAME.*)");
  args.Option("out", "DIR", "folder to write (created; must be empty or absent)");
  args.Option("from", "METHOD", "start from a method's SDK blocks: ezvsl (default: a method written from scratch)");
  args.Option("component", "CLASS", "the method's class and registered name (default: NAME in CamelCase)");
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  if (!args.Has("out")) {
    std::cerr << "avsl new-plugin: --out DIR is required\n\n" << args.Usage();
    return kExitUsage;
  }
  PluginTemplateParams params;
  params.name = args.Positional(0);
  params.component = args.Get("component", ComponentNameFor(params.name));
  // "ezvsl.EZVSL" names the method; the template is its plugin's.
  const std::string from = args.Get("from");
  params.from = absl::AsciiStrToLower(from.substr(0, from.find('.')));
  params.sdk_version = AVSL_SDK_VERSION;
  if (absl::Status s = ValidatePluginTemplateParams(params); !s.ok()) return ReportError("new-plugin", s);
  // Two plugins of one name cannot be loaded together (the first found wins), so a shipped name is refused.
  for (const std::string& dir : PluginHost::SearchPath({})) {
    const fs::path existing = fs::path(dir) / ("libavsl_" + params.name + ".so");
    std::error_code ec;
    if (fs::exists(existing, ec)) {
      return ReportError("new-plugin",
                         absl::AlreadyExistsError("NAME: a plugin '" + params.name + "' already exists (" +
                                                  existing.string() + "); choose another name"));
    }
  }

  const fs::path out = args.Get("out");
  std::error_code ec;
  if (fs::exists(out, ec) && !(fs::is_directory(out, ec) && fs::is_empty(out, ec))) {
    return ReportError("new-plugin",
                       absl::AlreadyExistsError(out.string() + " exists and is not an empty folder; "
                                                               "choose another --out (nothing was written)"));
  }
  fs::create_directories(out, ec);
  if (ec) return ReportError("new-plugin", absl::InternalError("cannot create " + out.string() + ": " + ec.message()));
  for (const auto& [name, text] : RenderPluginTemplate(params)) {
    const fs::path path = out / name;
    std::ofstream file(path, std::ios::binary);
    file << text;
    file.close();
    if (!file) return ReportError("new-plugin", absl::InternalError("cannot write " + path.string()));
    std::cout << "wrote " << path.string() << "\n";
  }
  std::cout << "\nnext:\n"
            << "  cmake -S " << out.string() << " -B " << (out / "build").string() << " && cmake --build "
            << (out / "build").string() << "\n"
            << "  avsl plugins list --plugin-path " << (out / "build").string() << "\n"
            << "  avsl train " << (out / "synthetic.toml").string() << " --plugin-path " << (out / "build").string()
            << "\n";
  return kExitOk;
}

}  // namespace avsl::cli
