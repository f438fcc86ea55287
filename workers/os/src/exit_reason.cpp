// SPDX-License-Identifier: Apache-2.0
#include "vigil/os/exit_reason.hpp"

#include <array>
#include <cctype>
#include <utility>

namespace vigil::os {
namespace {

constexpr std::array<std::pair<int, const char*>, 31> signals{{
    {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},       {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
    {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},     {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},     {SIGTERM, "SIGTERM"}, {SIGSTKFLT, "SIGSTKFLT"},
    {SIGCHLD, "SIGCHLD"}, {SIGCONT, "SIGCONT"},     {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"},
    {SIGTTIN, "SIGTTIN"}, {SIGTTOU, "SIGTTOU"},     {SIGURG, "SIGURG"},   {SIGXCPU, "SIGXCPU"},
    {SIGXFSZ, "SIGXFSZ"}, {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"}, {SIGWINCH, "SIGWINCH"},
    {SIGIO, "SIGIO"},     {SIGPWR, "SIGPWR"},       {SIGSYS, "SIGSYS"},
}};

const atom exit_status_atom("exit_status");
const atom signal_atom("signal");

} // namespace

std::string signal_name(int sig) {
  for (const auto& [n, name] : signals) {
    if (n == sig) {
      return name;
    }
  }
  return "SIG" + std::to_string(sig);
}

std::optional<int> parse_signal(std::string_view name) {
  std::string upper;
  for (char c : name) {
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (upper.rfind("SIG", 0) != 0) {
    upper = "SIG" + upper;
  }
  for (const auto& [n, text] : signals) {
    if (upper == text) {
      return n;
    }
  }
  return std::nullopt;
}

term oom_killed_reason() {
  static const atom oom_killed("oom_killed");
  return vigil::make_tuple(oom_killed);
}

term exit_reason(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) {
    if (info.si_status == 0) {
      return atoms::normal;
    }
    return vigil::make_tuple(exit_status_atom, info.si_status);
  }
  return vigil::make_tuple(signal_atom, atom(signal_name(info.si_status)));
}

} // namespace vigil::os
