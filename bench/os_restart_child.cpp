// SPDX-License-Identifier: Apache-2.0
// The supervised child of the OS restart benchmark, the same as the anchors'
// restart_child.c (../shared/bench-anchors/os/): its very first action is to read
// CLOCK_MONOTONIC; then it writes "PID NS\n" (one write) to the FIFO named by argv[1] and
// sleeps. `--print-start` prints only NS on stdout and exits (the fork+exec floor);
// `--exit` exits at once. It uses libc only, so that its start costs what a C program's does.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long ns = static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
  if (argc > 1 && std::strcmp(argv[1], "--exit") == 0) {
    return 0;
  }
  char line[64];
  if (argc > 1 && std::strcmp(argv[1], "--print-start") == 0) {
    int len = std::snprintf(line, sizeof line, "%lld\n", ns);
    return write(1, line, static_cast<size_t>(len)) > 0 ? 0 : 1;
  }
  int len = std::snprintf(line, sizeof line, "%ld %lld\n", static_cast<long>(getpid()), ns);
  int fd = open(argc > 1 ? argv[1] : "./fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    (void)!write(fd, line, static_cast<size_t>(len));
    close(fd);
  }
  alarm(900);
  for (int i = 0; i < 1000000; ++i) {
    pause();
  }
  return 0;
}
