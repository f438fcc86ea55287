// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/term/term.hpp"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#if defined(__SANITIZE_THREAD__)
#  define VIGIL_TEST_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define VIGIL_TEST_TSAN 1
#  endif
#endif

/// Tests that fork() a real child skip under ThreadSanitizer, which does not support fork in
/// a process that has run threads; the dev build runs them.
#if defined(VIGIL_TEST_TSAN)
#  define VIGIL_SKIP_FORK_UNDER_TSAN()                                                             \
    GTEST_SKIP() << "fork() is not supported under ThreadSanitizer; the dev build runs this"
#else
#  define VIGIL_SKIP_FORK_UNDER_TSAN() static_cast<void>(0)
#endif

namespace vigil::ipc::ipc_test {

inline std::uint64_t fnv1a(std::string_view bytes, std::uint64_t seed) {
  std::uint64_t h = 14695981039346656037ULL ^ seed;
  for (char c : bytes) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  return h;
}

/// `{seq, payload, checksum}`: a term that carries its own checksum, so that a torn copy
/// cannot pass for a whole one. Payloads vary from 0 to 199 bytes.
inline term checked_term(std::int64_t seq) {
  std::string payload(static_cast<std::size_t>(seq % 200), static_cast<char>('a' + seq % 26));
  auto sum = static_cast<std::int64_t>(fnv1a(payload, static_cast<std::uint64_t>(seq)));
  return vigil::make_tuple(seq, payload, sum);
}

inline bool is_checked_term(const term& t, std::int64_t seq) {
  return t.is_tuple() && t.size() == 3 && t[0] == term(seq) && t[1].is_string()
         && t[2]
                == term(static_cast<std::int64_t>(
                    fnv1a(t[1].as_string(), static_cast<std::uint64_t>(seq))));
}

/// Forks a child that runs `body` and exits with its return value, never returning into
/// the test framework.
template <class Body>
pid_t fork_child(Body body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::_exit(body());
  }
  return pid;
}

/// Reaps `pid`; its exit status, or 128 + signal, or -1.
inline int reap(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) {
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Lines of /proc/self/maps that map an anonymous segment (memfd "vigil-ipc").
inline int mapped_segments() {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);) {
    n += line.find("memfd:vigil-ipc") != std::string::npos ? 1 : 0;
  }
  return n;
}

/// Descriptors of this process that refer to an anonymous segment.
inline int open_segments() {
  int n = 0;
  for (int fd = 0; fd < 1024; ++fd) {
    char target[256] = {};
    auto path = "/proc/self/fd/" + std::to_string(fd);
    ssize_t len = ::readlink(path.c_str(), target, sizeof target - 1);
    n += len > 0 && std::string_view(target).find("memfd:vigil-ipc") != std::string_view::npos;
  }
  return n;
}

} // namespace vigil::ipc::ipc_test
