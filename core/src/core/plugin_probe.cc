#include "plugin_probe.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace avsl {
namespace {

// What the child writes to the pipe: a stage byte before each step, and kOpenError followed by dlerror()'s text.
constexpr char kOpening = 'o';
constexpr char kRegistering = 'r';
constexpr char kDone = 'd';
constexpr char kOpenError = 'E';

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

[[noreturn]] void RunChild(int fd, const std::string& path,
                           const std::function<bool(const PluginInfo&)>& safe_to_register) {
  WriteAll(fd, &kOpening, 1);
  dlerror();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    const std::string text = std::string(1, kOpenError) + (why ? why : "dlopen failed");
    WriteAll(fd, text.data(), text.size());
    ::_exit(0);
  }
  auto* entry = reinterpret_cast<PluginEntryPoint*>(::dlsym(handle, AVSL_PLUGIN_ENTRY_POINT));
  const PluginInfo* info = entry ? entry() : nullptr;
  if (info != nullptr && safe_to_register(*info)) {
    WriteAll(fd, &kRegistering, 1);
    Registrar registrar(info->name);
    try {
      info->register_components(registrar);
    } catch (...) {
    }
  }
  WriteAll(fd, &kDone, 1);
  ::_exit(0);
}

}  // namespace

PluginProbeResult ProbePluginFile(const std::string& path,
                                  const std::function<bool(const PluginInfo&)>& safe_to_register, int timeout_seconds) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  std::fflush(nullptr);  // nothing buffered here may be written twice by the child
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return {};
  }
  if (pid == 0) {
    ::close(fds[0]);
    RunChild(fds[1], path, safe_to_register);
  }
  ::close(fds[1]);
  std::string said;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (true) {
    const long long left_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left_ms, 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buffer[512];
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child exited (or closed the pipe by exec'ing, which it does not)
    said.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }

  PluginProbeResult result;
  const size_t error_at = said.find(kOpenError);
  const std::string stages = said.substr(0, error_at);
  const bool registering = !stages.empty() && stages.back() == kRegistering;
  const char* stage = registering ? "registering its components" : "being opened";
  result.registering = registering;
  if (error_at != std::string::npos) {
    result.ok = false;
    result.message = absl::StrCat("cannot open ", path, ": ", said.substr(error_at + 1));
  } else if (timed_out) {
    result.ok = false;
    result.message = absl::StrCat("plugin file ", path, " did not finish ", stage, " in ", timeout_seconds,
                                  " s (a probe process was stopped); not loaded");
  } else if (WIFSIGNALED(status)) {
    result.ok = false;
    result.message = absl::StrCat("plugin file ", path, " crashed while ", stage, " (signal ", WTERMSIG(status), ", ",
                                  strsignal(WTERMSIG(status)), ", in a probe process); not loaded");
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || stages.empty() || stages.back() != kDone) {
    result.ok = false;
    result.message = absl::StrCat("plugin file ", path, " ended the probe process while ", stage, " (exit status ",
                                  WIFEXITED(status) ? WEXITSTATUS(status) : -1, "); not loaded");
  }
  return result;
}

}  // namespace avsl
