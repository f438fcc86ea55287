// SPDX-License-Identifier: Apache-2.0
// The only file that sees libedit, so that the rest of vigilctl builds and links without it.
#include "line_reader.hpp"

#include <signal.h>
#include <string.h>

#include <csetjmp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#ifdef VIGIL_CTL_HAVE_LIBEDIT
#  include <editline/readline.h>
#endif

namespace vigil::ctl {
namespace {

line_reader plain_reader() {
  return [](const std::string& prompt) -> std::optional<std::string> {
    if (!prompt.empty()) {
      std::cout << prompt << std::flush;
    }
    std::string line;
    if (!std::getline(std::cin, line)) {
      return std::nullopt;
    }
    return line;
  };
}

#ifdef VIGIL_CTL_HAVE_LIBEDIT

/// The history file, loaded on creation. Saved after every line, so that a shell ended
/// by a signal or a lost terminal keeps what was typed.
class history_file {
public:
  history_file() {
    // vigilctl is single-threaded: nothing can change the environment under getenv.
    const char* home = std::getenv("HOME"); // NOLINT(concurrency-mt-unsafe)
    if (home != nullptr && *home != '\0') {
      path_ = std::string(home) + "/.vigilctl_history";
      using_history();
      stifle_history(1000);
      read_history(path_.c_str());
    }
  }

  void add(const std::string& line) {
    add_history(line.c_str());
    if (!path_.empty()) {
      write_history(path_.c_str());
    }
  }

private:
  std::string path_;
};

// Ctrl-C while a line is read: jump out of readline back to the reader, as iex drops the
// line and prompts again. libedit's own signal handling is off (rl_catch_signals), and
// only C frames (libedit's) lie between the handler and the jump target.
sigjmp_buf interrupted_read;                 // NOLINT: the handler's only way back
volatile std::sig_atomic_t reading_line = 0; // NOLINT

extern "C" void on_interrupt(int /*signo*/) {
  if (reading_line != 0) {
    reading_line = 0;
    siglongjmp(interrupted_read, 1); // NOLINT(cert-err52-cpp): leaves only C frames
  }
}

// Tab: what the session offers for the word before the cursor.
completer* active_completer = nullptr; // NOLINT: libedit's callbacks take no context
std::vector<std::string> candidates;   // NOLINT

char* next_candidate(const char* /*text*/, int state) {
  static std::size_t next = 0;
  if (state == 0) {
    next = 0;
  }
  if (next >= candidates.size()) {
    return nullptr;
  }
  return ::strdup(candidates[next++].c_str()); // libedit frees it
}

char** complete_word(const char* text, int /*start*/, int /*end*/) {
  rl_attempted_completion_over = 1; // never fall back to file names
  candidates = active_completer != nullptr && *active_completer ? (*active_completer)(text)
                                                                : std::vector<std::string>{};
  return rl_completion_matches(text, next_candidate);
}

line_reader editline_reader(completer complete) {
  auto history = std::make_shared<history_file>();
  auto owned = std::make_shared<completer>(std::move(complete));
  rl_catch_signals = 0;
  rl_attempted_completion_function = complete_word;
  rl_completion_append_character = '\0'; // no space after a pid or a function
  // Pids (#PID<0.1.2>), names (:echo) and Process.info are single words.
  rl_basic_word_break_characters = " \t\n(),{}[]";

  struct sigaction on_int {};

  on_int.sa_handler = on_interrupt;
  sigemptyset(&on_int.sa_mask);
  ::sigaction(SIGINT, &on_int, nullptr);
  return [history, owned](const std::string& prompt) -> std::optional<std::string> {
    active_completer = owned.get();
    if (sigsetjmp(interrupted_read, 1) != 0) {
      // The terminal may still be raw: return the carriage ourselves.
      std::fputs("^C\r\n", stdout);
      std::fflush(stdout);
      return cancelled_line;
    }
    reading_line = 1;
    char* raw = readline(prompt.c_str());
    reading_line = 0;
    if (raw == nullptr) {
      return std::nullopt;
    }
    std::string line(raw);
    std::free(raw); // NOLINT(cppcoreguidelines-no-malloc): readline's buffer is malloc'd
    if (line.find_first_not_of(" \t") != std::string::npos) {
      history->add(line);
    }
    return line;
  };
}

#endif

} // namespace

line_reader make_line_reader(bool interactive, completer complete) {
#ifdef VIGIL_CTL_HAVE_LIBEDIT
  if (interactive) {
    return editline_reader(std::move(complete));
  }
#else
  (void)interactive;
  (void)complete;
#endif
  return plain_reader();
}

} // namespace vigil::ctl
