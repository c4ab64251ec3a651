// avsl plugins list: what the host found, what it loaded, why anything was refused, and who registered what.
#include <iostream>

#include "absl/strings/str_format.h"
#include "cli_common.h"

namespace avsl::cli {

int RunPlugins(int argc, char** argv, int first) {
  Args args("avsl plugins [list] [--plugin-path DIR]...",
            "Lists loaded and failed plugins (with a reason code) and the components each registered.\n"
            "Search order: --plugin-path (relative to the current directory), then the absolute entries of\n"
            "$AVSL_PLUGIN_PATH, then the directory next to libavsl_core; never the current directory by itself.\n"
            "Each plugin is first opened in a child process (AVSL_PLUGIN_PROBE=0: not), so one that crashes,\n"
            "hangs or has an unresolved symbol is listed as failed instead of stopping the command.");
  args.Positional("list", "the only action (default)", false);
  AddPluginOptions(args);
  if (int rc = ParseOrExit(args, argc, argv, first); rc >= 0) return rc;
  if (args.positional_count() == 1 && args.Positional(0) != "list") {
    std::cerr << "avsl plugins: unknown action '" << args.Positional(0) << "'\n\n" << args.Usage();
    return kExitUsage;
  }
  std::vector<std::string> dirs = PluginHost::SearchPath(args.GetAll("plugin-path"));
  std::unique_ptr<PluginHost> host = LoadPlugins(args);

  std::cout << "search path:\n";
  for (const std::string& d : dirs) std::cout << "  " << d << "\n";
  for (const std::string& d : PluginHost::IgnoredSearchPathEntries())
    std::cout << "  (ignored: relative entry of AVSL_PLUGIN_PATH) " << d << "\n";
  std::cout << "\n" << absl::StrFormat("%-16s %-9s %-20s %s\n", "PLUGIN", "VERSION", "STATUS", "PATH");
  for (const PluginRecord& r : host->records())
    std::cout << absl::StrFormat("%-16s %-9s %-20s %s\n", r.name, r.version, PluginStatusCode(r.status), r.path);

  std::cout << "\ncomponents:\n";
  for (const PluginRecord& r : host->records()) {
    for (const std::string& name : r.components) {
      const ComponentInfo* info = host->registry().FindAnyKind(name);
      std::cout << absl::StrFormat("  %-10s %-30s %s\n", ComponentKindName(info->kind), name, info->doc);
    }
  }
  std::vector<const PluginRecord*> failed = host->Failed();
  if (!failed.empty()) {
    std::cout << "\nfailed:\n";
    for (const PluginRecord* r : failed)
      std::cout << "  " << r->name << " [" << PluginStatusCode(r->status) << "] " << r->message << "\n";
  }
  return kExitOk;
}

}  // namespace avsl::cli
