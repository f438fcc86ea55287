// SPDX-License-Identifier: Apache-2.0
// launch: an OS child cloned (clone3, into its cgroup when it can) on a stack of its own,
// the exec's failure report read back, and rlimits by name.
#include "vigil/os/launch.hpp"

#include "vigil/common/file_trust.hpp"

#include "launch_child.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>

#if defined(__SANITIZE_THREAD__)
#  define VIGIL_LAUNCH_WITH_FORK 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define VIGIL_LAUNCH_WITH_FORK 1
#  endif
#endif

namespace vigil::os {
namespace {

constexpr std::size_t child_stack_bytes = 64 * 1024;

error sys_error(int err, std::string context) {
  const char* name = ::strerrorname_np(err);
  std::string text = std::move(context) + ": " + std::strerror(err);
  if (name != nullptr) {
    text += std::string(" (") + name + ")";
  }
  return error{std::error_code(err, std::system_category()), std::move(text)};
}

const char* step_name(launch_step step) {
  switch (step) {
  case launch_step::prepare: return "prepare";
  case launch_step::cgroup: return "move into its cgroup";
  case launch_step::setsid: return "setsid";
  case launch_step::fds: return "pass descriptors to";
  case launch_step::umask: return "set the umask of";
  case launch_step::chdir: return "change directory for";
  case launch_step::rlimit: return "set resource limits for";
  case launch_step::groups: return "set the groups of";
  case launch_step::setgid: return "set the group of";
  case launch_step::setuid: return "set the user of";
  case launch_step::pdeathsig: return "set the parent-death signal of";
  case launch_step::exec: return "exec";
  }
  return "launch";
}

std::string env_value(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=') {
      return kv.substr(key.size() + 1);
    }
  }
  const char* own = std::getenv(std::string(key).c_str());
  return own != nullptr ? own : "";
}

#if !defined(VIGIL_LAUNCH_WITH_FORK)
/// A stack for the cloned child, one per thread, kept for the thread's life: the child runs
/// on it while this thread is suspended, so threads never share one.
void* child_stack_top() {
  thread_local void* base = nullptr;
  if (base == nullptr) {
    void* p = ::mmap(nullptr, child_stack_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) {
      return nullptr;
    }
    base = p;
  }
  return static_cast<char*>(base) + child_stack_bytes;
}

__attribute__((no_sanitize("address", "undefined"))) int child_entry(void* plan) {
  detail::run_child(*static_cast<const detail::child_plan*>(plan));
}
#endif

/// The kernel's struct clone_args, up to `cgroup` (CLONE_ARGS_SIZE_VER2).
struct clone3_args {
  std::uint64_t flags;
  std::uint64_t pidfd;
  std::uint64_t child_tid;
  std::uint64_t parent_tid;
  std::uint64_t exit_signal;
  std::uint64_t stack;
  std::uint64_t stack_size;
  std::uint64_t tls;
  std::uint64_t set_tid;
  std::uint64_t set_tid_size;
  std::uint64_t cgroup;
};

constexpr std::uint64_t clone_into_cgroup_flag = 0x200000000ULL; // CLONE_INTO_CGROUP

#if !defined(VIGIL_LAUNCH_WITH_FORK) && defined(__x86_64__)
#  define VIGIL_HAVE_CLONE3_VM 1

/// clone3 with the child on its own stack: the child cannot return from the system call into
/// this frame (its stack is not this one), so it calls child_entry right there, as glibc's
/// clone does. Returns the pid, or -errno.
__attribute__((no_sanitize("address", "undefined"), noinline)) long
clone3_vm(clone3_args* args, const detail::child_plan* plan) {
  long ret = 0;
  register long entry asm("r12") = reinterpret_cast<long>(&child_entry);
  register long arg asm("r13") = reinterpret_cast<long>(plan);
  asm volatile("syscall\n\t"
               "testq %%rax, %%rax\n\t"
               "jnz 1f\n\t"
               "xorl %%ebp, %%ebp\n\t"
               "movq %%r13, %%rdi\n\t"
               "callq *%%r12\n\t"
               "movl %%eax, %%edi\n\t"
               "movl $60, %%eax\n\t" // exit
               "syscall\n\t"
               "hlt\n\t"
               "1:\n\t"
               : "=a"(ret)
               : "0"(435L), "D"(args), "S"(sizeof(clone3_args)), "r"(entry), "r"(arg)
               : "rcx", "r11", "memory");
  return ret;
}
#endif

#if defined(VIGIL_HAVE_CLONE3_VM)
std::atomic<bool> clone3_usable{true};
#else
std::atomic<bool> clone3_usable{false};
#endif

/// The errors by which a kernel (or a seccomp filter) refuses clone3 or CLONE_INTO_CGROUP.
bool clone3_refused(int err) {
  return err == ENOSYS || err == EPERM || err == EOPNOTSUPP || err == E2BIG || err == EINVAL;
}

/// Clones the child (into `cgroup_fd` when it is not -1, with clone3); returns its pid and
/// pidfd, or -1 with errno set.
pid_t start_child(const detail::child_plan& plan, int& pidfd, int cgroup_fd) {
  sigset_t all;
  sigset_t old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
#if defined(VIGIL_LAUNCH_WITH_FORK)
  (void)cgroup_fd; // the child moves itself (cgroup_procs_fd)
  pid_t pid = ::fork();
  if (pid == 0) {
    detail::run_child(plan);
  }
  int saved = errno;
  if (pid > 0) {
    pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U));
  }
#else
  pid_t pid = -1;
  void* stack = child_stack_top();
  if (stack == nullptr) {
    errno = ENOMEM;
#  if defined(VIGIL_HAVE_CLONE3_VM)
  } else if (cgroup_fd >= 0) {
    clone3_args args{};
    args.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | clone_into_cgroup_flag;
    args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    args.stack = reinterpret_cast<std::uint64_t>(static_cast<char*>(stack) - child_stack_bytes);
    args.stack_size = child_stack_bytes;
    args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
    long r = clone3_vm(&args, &plan);
    if (r < 0) {
      errno = static_cast<int>(-r);
    }
    pid = r < 0 ? -1 : static_cast<pid_t>(r);
#  endif
  } else {
    pid = ::clone(child_entry, stack, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
                  const_cast<detail::child_plan*>(&plan), &pidfd);
  }
  int saved = errno;
#endif
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return pid;
}

/// Reads the child's failure report: nullopt once the exec succeeded.
std::optional<std::array<int, 2>> read_report(int fd) {
  std::array<int, 2> report{};
  for (;;) {
    ssize_t n = ::read(fd, report.data(), sizeof report);
    if (n == static_cast<ssize_t>(sizeof report)) {
      return report;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return std::nullopt;
  }
}

void reap(pid_t pid) {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED) != 0 && errno == EINTR) {
  }
}

} // namespace

bool clone_into_cgroup_works() {
  return clone3_usable.load(std::memory_order_relaxed);
}

std::optional<int> rlimit_resource(std::string_view name) {
  static constexpr std::pair<std::string_view, int> resources[] = {
      {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
      {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
      {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
      {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
      {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
      {"stack", RLIMIT_STACK},
  };
  for (const auto& [n, resource] : resources) {
    if (n == name) {
      return resource;
    }
  }
  return std::nullopt;
}

result<std::string> resolve_program(const std::string& program,
                                    const std::vector<std::string>& env) {
  if (program.empty()) {
    return error{make_error_code(errc::invalid_argument), "empty command"};
  }
  if (program.find('/') != std::string::npos) {
    return program;
  }
  std::string path = env_value(env, "PATH");
  if (path.empty()) {
    path = "/usr/local/bin:/usr/bin:/bin";
  }
  auto searched = search_path(program, path);
  if (!searched.found.empty()) {
    return searched.found;
  }
  return sys_error(searched.not_executable.empty() ? ENOENT : EACCES,
                   "command '" + program + "' not found in PATH (" + path + ")");
}

path_search search_path(const std::string& program, const std::string& path) {
  path_search out;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? end : end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;

    struct stat st {};

    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) {
        out.found = std::move(candidate);
        return out;
      }
      if (out.not_executable.empty()) {
        out.not_executable = std::move(candidate);
        out.not_executable_mode = st.st_mode;
      }
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return out;
}

result<launched> launch(const launch_spec& spec) {
  auto path = resolve_program(spec.program, spec.env);
  if (!path) {
    return path.error();
  }
  if (spec.trusted_program_only) {
    // A relative path is the child's: it runs after the chdir to `cwd`.
    std::string written = *path;
    if (written.front() != '/' && !spec.cwd.empty()) {
      written = spec.cwd + "/" + written;
    }
    auto trusted = trusted_path(written, 0);
    if (!trusted && trusted.error().error_number != 0) {
      // Not there (or not reachable): the launch itself says so, as it would unchecked.
      return sys_error(trusted.error().error_number, "exec " + written);
    }
    if (!trusted) {
      return error{make_error_code(errc::config_invalid),
                   "refusing to run " + written + " as root's child: " + trusted.error().message
                       + " (vigild --insecure-paths allows it)"};
    }
    *path = *trusted;
  }
  if (spec.argv.empty() || spec.fds.size() > detail::max_child_fds) {
    return error{make_error_code(errc::invalid_argument),
                 "launch of " + *path + ": bad argv or fds"};
  }
  std::vector<char*> argv;
  for (const auto& a : spec.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : spec.env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);

  std::vector<int> fds(spec.fds);
  fds.resize(std::max<std::size_t>(fds.size(), 3), -1);
  unique_fd devnull;
  for (int& fd : fds) {
    if (fd < 0) {
      if (!devnull) {
        devnull.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
        if (!devnull) {
          return sys_error(errno, "unable to open /dev/null");
        }
      }
      fd = devnull.get();
    }
  }
  int report_pipe[2];
  if (::pipe2(report_pipe, O_CLOEXEC) != 0) {
    return sys_error(errno, "unable to make a pipe to launch " + *path);
  }
  unique_fd report_read(report_pipe[0]);
  unique_fd report_write(report_pipe[1]);

  detail::child_plan plan;
  plan.path = path->c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.fds = fds.data();
  plan.nfds = static_cast<int>(fds.size());
  plan.err_fd = report_write.get();
  plan.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  plan.umask = spec.umask ? static_cast<int>(*spec.umask & 0777U) : -1;
  if (spec.creds) {
    plan.set_ids = true;
    plan.uid = spec.creds->uid;
    plan.gid = spec.creds->gid;
    plan.groups = spec.creds->groups.data();
    plan.ngroups = spec.creds->groups.size();
  }
  plan.rlimits = spec.rlimits.data();
  plan.nrlimits = spec.rlimits.size();
  plan.new_session = spec.new_session;
  plan.pdeathsig = spec.parent_death_signal;
  plan.parent = ::getpid();
  plan.v1_procs_fds = spec.v1_cgroup_procs.data();
  plan.nv1_procs = spec.v1_cgroup_procs.size();

  int pidfd = -1;
  unique_fd procs;
  bool into = spec.cgroup_fd >= 0 && clone3_usable.load(std::memory_order_relaxed);
  auto open_procs = [&]() -> bool {
    procs.reset(::openat(spec.cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC));
    plan.cgroup_procs_fd = procs.get();
    return static_cast<bool>(procs);
  };
  if (spec.cgroup_fd >= 0 && !into && !open_procs()) {
    return sys_error(errno, "unable to open the cgroup of " + *path);
  }
  pid_t pid = start_child(plan, pidfd, into ? spec.cgroup_fd : -1);
  if (pid < 0 && into && clone3_refused(errno)) {
    // Refused (an old kernel, a seccomp filter): the child moves itself in before exec.
    clone3_usable.store(false, std::memory_order_relaxed);
    if (!open_procs()) {
      return sys_error(errno, "unable to open the cgroup of " + *path);
    }
    pid = start_child(plan, pidfd, -1);
  }
  if (pid < 0) {
    return sys_error(errno, "unable to start " + *path);
  }
  launched out{pid, unique_fd(pidfd)};
  report_write.reset();
  if (auto report = read_report(report_read.get())) {
    reap(pid);
    auto step = static_cast<launch_step>((*report)[0]);
    std::string what = std::string(step_name(step)) + " " + *path;
    if (step == launch_step::chdir) {
      what += " (cwd " + spec.cwd + ")";
    }
    return sys_error((*report)[1], what);
  }
  if (!out.pidfd) {
    int err = errno;
    ::kill(pid, SIGKILL);
    reap(pid);
    return sys_error(err, "unable to open a pidfd for " + *path);
  }
  return out;
}

} // namespace vigil::os
