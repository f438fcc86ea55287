// SPDX-License-Identifier: Apache-2.0
// The only file that sees libedit, so that the rest of vigilctl builds and links without it.
#include "line_reader.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

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

/// Loads the history file on creation and saves it when the last reader copy goes away.
class history_file {
public:
  history_file() {
    // vigilctl is single-threaded: nothing can change the environment under getenv.
    const char* home = std::getenv("HOME"); // NOLINT(concurrency-mt-unsafe)
    if (home != nullptr && *home != '\0') {
      path_ = std::string(home) + "/.vigilctl_history";
      using_history();
      read_history(path_.c_str());
    }
  }

  history_file(const history_file&) = delete;
  history_file& operator=(const history_file&) = delete;
  history_file(history_file&&) = delete;
  history_file& operator=(history_file&&) = delete;

  ~history_file() {
    if (!path_.empty()) {
      stifle_history(1000);
      write_history(path_.c_str());
    }
  }

private:
  std::string path_;
};

line_reader editline_reader() {
  auto history = std::make_shared<history_file>();
  return [history](const std::string& prompt) -> std::optional<std::string> {
    char* raw = readline(prompt.c_str());
    if (raw == nullptr) {
      return std::nullopt;
    }
    std::string line(raw);
    std::free(raw); // NOLINT(cppcoreguidelines-no-malloc): readline's buffer is malloc'd
    if (line.find_first_not_of(" \t") != std::string::npos) {
      add_history(line.c_str());
    }
    return line;
  };
}

#endif

} // namespace

line_reader make_line_reader(bool interactive) {
#ifdef VIGIL_CTL_HAVE_LIBEDIT
  if (interactive) {
    return editline_reader();
  }
#else
  (void)interactive;
#endif
  return plain_reader();
}

} // namespace vigil::ctl
