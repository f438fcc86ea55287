// SPDX-License-Identifier: Apache-2.0
// The loader's edge: reading the file, and toml++'s exceptions, which stop here.
#include "vigil/common/file_trust.hpp"
#include "vigil/config/config.hpp"

#include "reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>

namespace vigil::config {
namespace {

// Far above any real config; stops a mistaken path (a log, a device) from being slurped.
constexpr off_t max_file_size = off_t{16} * 1024 * 1024;

config_error file_error(const std::string& file, std::string message) {
  return {{file, 0, 0}, "", std::move(message)};
}

std::string errno_text(int e) {
  return std::error_code(e, std::system_category()).message();
}

// Reads the whole file at `fd`; false with errno set on failure.
bool read_all(int fd, std::string& out) {
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return false;
    }
    if (n == 0) {
      return true;
    }
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > static_cast<std::size_t>(max_file_size)) {
      errno = EFBIG;
      return false;
    }
  }
}

// The file's text, checked on the descriptor that is read so that the file checked is the
// file loaded.
result<std::string, config_error_list> read_config_file(const std::string& file,
                                                        bool strict_modes) {
  // As root, a file that another user could change (itself or by replacing a directory on
  // its way) would let that user run anything as root through `command`: refuse it, and read
  // the canonical path, which no one but root can make lead elsewhere.
  std::string opened = file;
  std::string unchecked;
  if (strict_modes && ::geteuid() == 0) {
    auto trusted = trusted_path(file, 0);
    if (trusted) {
      opened = *trusted;
    } else if (trusted.error().error_number == 0) {
      return config_error_list{file_error(file, refusal(trusted.error().message))};
    } else {
      unchecked = trusted.error().message; // the open below says why it cannot be read
    }
  }
  int fd = ::open(opened.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return config_error_list{file_error(file, "unable to open: " + errno_text(errno))};
  }
  if (!unchecked.empty()) { // it appeared between the check and the open
    ::close(fd);
    return config_error_list{file_error(file, refusal(unchecked))};
  }

  struct stat st {};

  std::string problem;
  std::string text;
  if (::fstat(fd, &st) != 0) {
    problem = "unable to stat: " + errno_text(errno);
  } else if (!S_ISREG(st.st_mode)) {
    problem = "not a regular file";
  } else if (st.st_size > max_file_size) {
    problem = "larger than 16 MiB: not a config file";
  } else if (strict_modes && ::geteuid() == 0) {
    problem = ownership_problem(st, "the file " + opened, 0);
    if (!problem.empty()) {
      problem = refusal(problem);
    }
  }
  if (problem.empty() && !read_all(fd, text)) {
    problem = "unable to read: " + errno_text(errno);
  }
  ::close(fd); // no EINTR retry: Linux has released the descriptor either way
  if (!problem.empty()) {
    return config_error_list{file_error(file, std::move(problem))};
  }
  return text;
}

} // namespace

std::string config_error::to_string() const {
  std::string out = where.file;
  if (where.line != 0) {
    out += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
  }
  out += ": ";
  if (level == severity::warning) {
    out += "warning: ";
  }
  if (!option.empty()) {
    out += option + ": ";
  }
  return out + message;
}

std::string to_string(const config_error_list& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += e.to_string();
    out += '\n';
  }
  return out;
}

std::string refusal(const std::string& problem) {
  return "refusing to load as root: " + problem
         + " (root runs what this file says; vigild --insecure-paths allows it)";
}

result<config_tree, config_error_list> load_config(const std::filesystem::path& path,
                                                   bool strict_modes) {
  return load_config(path, checks{}, strict_modes);
}

result<config_tree, config_error_list> load_config(const std::filesystem::path& path,
                                                   const checks& with, bool strict_modes) {
  auto text = read_config_file(path.string(), strict_modes);
  if (!text) {
    return text.error();
  }
  return load_config_string(*text, path.string(), with);
}

result<config_tree, config_error_list> load_config_string(std::string_view text,
                                                          std::string_view file_name) {
  return load_config_string(text, file_name, checks{});
}

result<config_tree, config_error_list>
load_config_string(std::string_view text, std::string_view file_name, const checks& with) {
  toml::table doc;
  try {
    doc = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return config_error_list{{{std::string(file_name), at.line, at.column},
                              "",
                              "TOML syntax error: " + std::string(e.description())}};
  }
  detail::reader reader{std::string(file_name), &with};
  config_tree tree = reader.read(doc);
  auto problems = reader.take_errors();
  bool any_error = std::any_of(problems.begin(), problems.end(),
                               [](const config_error& e) { return e.level == severity::error; });
  if (any_error) {
    return problems;
  }
  tree.warnings = std::move(problems);
  return tree;
}

} // namespace vigil::config
