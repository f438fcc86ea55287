// SPDX-License-Identifier: Apache-2.0
// vigild's own log (logging.hpp): spdlog to stderr, to a file opened safely, or to journald,
// with sd-daemon priority prefixes, and the log level changed at run time.
#include "logging.hpp"

#include "vigil/common/file_trust.hpp"
#include "vigil/common/unique_fd.hpp"

#include "line_writer.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

namespace vigil::daemon {
namespace {

/// `%*`: the sd-daemon(3) priority of a message, "<3>" for an error.
class priority_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*tm*/,
              spdlog::memory_buf_t& dest) override {
    char digit = '6';
    switch (msg.level) {
    case spdlog::level::trace:
    case spdlog::level::debug: digit = '7'; break;
    case spdlog::level::info: digit = '6'; break;
    case spdlog::level::warn: digit = '4'; break;
    case spdlog::level::err: digit = '3'; break;
    case spdlog::level::critical: digit = '2'; break;
    default: break;
    }
    const char text[] = {'<', digit, '>'};
    dest.append(text, text + 3);
  }

  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<priority_flag>();
  }
};

bool set_env(const char* name) {
  const char* value = std::getenv(name); // NOLINT(concurrency-mt-unsafe): before threads
  return value != nullptr && *value != '\0';
}

/// Appends to a file vigild opened itself: never through a symlink, and only a regular file of
/// its own uid (or root's) with no other name, so that a link planted where --log-file points
/// cannot redirect root's appends (docs/security.md).
class append_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  explicit append_sink(unique_fd fd) : fd_(std::move(fd)) {}

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(fd_.get(), p, left);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return; // a full disk loses lines; the other sinks still have them
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }

  void flush_() override {}

private:
  unique_fd fd_;
};

/// Why the directory of `path` could let another user choose what vigild opens, or empty.
/// O_NOFOLLOW guards only the last name: the directories on the way must be ones no one but
/// root or vigild's user can change (file_trust's rule, as for the control socket's), else
/// their owner could point them anywhere and have root create and append to a file of that
/// name there. A sticky directory others may write (/tmp) is fine when it is itself on a
/// trusted path: no one else can rename or remove vigild's file in it, and one another user
/// made first is refused below by its owner.
std::string directory_problem(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) {
    dir = ".";
  }
  auto trusted = trusted_path(dir.string(), ::geteuid());
  if (trusted) {
    return {};
  }
  std::error_code ec;
  auto written = std::filesystem::absolute(dir, ec).lexically_normal();
  auto canonical = std::filesystem::canonical(dir, ec);

  struct stat st {};

  if (!ec && written == canonical && ::lstat(canonical.c_str(), &st) == 0 && S_ISDIR(st.st_mode)
      && ownership_problem(st, canonical.string(), ::geteuid(), true).empty()
      && (canonical == canonical.root_path()
          || trusted_path(canonical.parent_path().string(), ::geteuid()))) {
    return {};
  }
  return trusted.error().message;
}

result<unique_fd> open_log_file(const std::string& path) {
  auto fail = [&](const std::string& why) {
    return error{std::make_error_code(std::errc::io_error),
                 "unable to open the log " + path + ": " + why};
  };
  if (auto problem = directory_problem(path); !problem.empty()) {
    return fail(problem + " (another user could choose the file)");
  }
  unique_fd fd(
      ::open(path.c_str(),
             O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0640));
  if (!fd) {
    int e = errno;
    return fail(e == ELOOP ? std::string("it is a symlink (not followed)")
                           : std::error_code(e, std::generic_category()).message());
  }

  struct stat st {};

  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return fail("not a regular file");
  }
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return fail("it is owned by uid " + std::to_string(st.st_uid));
  }
  if (st.st_nlink != 1) {
    return fail("it has " + std::to_string(st.st_nlink) + " names (hard links)");
  }
  return fd;
}

/// vigild's log to journald's stream (its stderr under systemd), never waiting for it: a
/// journald that is behind must not stall the thread that logs (line_writer.hpp). spdlog's
/// stderr sink would fwrite to a blocking socket and wait as long as journald does.
class journal_stream_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  explicit journal_stream_sink(int fd) : out_(fd) {}

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    (void)out_.write_line(std::string_view(line.data(), line.size()));
  }

  void flush_() override {}

private:
  line_writer out_;
};

spdlog::sink_ptr journal_sink() {
  auto sink = std::make_shared<journal_stream_sink>(STDERR_FILENO);
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<priority_flag>('*').set_pattern("%*%v");
  sink->set_formatter(std::move(formatter));
  return sink;
}

} // namespace

bool under_systemd() {
  return set_env("JOURNAL_STREAM") || set_env("INVOCATION_ID");
}

result<void> setup_logging(const log_options& options) {
  std::vector<spdlog::sink_ptr> sinks;
  try {
    if (options.journal) {
      sinks.push_back(journal_sink());
    } else if (options.foreground) {
      auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
      sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
      sinks.push_back(sink);
    } else if (options.syslog && !options.file) {
      sinks.push_back(
          std::make_shared<spdlog::sinks::syslog_sink_mt>("vigild", LOG_PID, LOG_DAEMON, false));
    }
    if (options.file) {
      auto fd = open_log_file(*options.file);
      if (!fd) {
        return fd.error();
      }
      auto sink = std::make_shared<append_sink>(std::move(*fd));
      sink->set_pattern("%Y-%m-%d %H:%M:%S.%e [%P] %-5l %v");
      sinks.push_back(sink);
    }
  } catch (const spdlog::spdlog_ex& e) {
    return error{std::make_error_code(std::errc::io_error),
                 std::string("unable to open the log: ") + e.what()};
  }
  auto logger = std::make_shared<spdlog::logger>("vigild", sinks.begin(), sinks.end());
  // Every line reaches the file at once: vigild is quiet, and a crash loses nothing.
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
  set_log_level(options.level);
  return {};
}

bool set_log_level(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return false;
  }
  spdlog::set_level(parsed);
  return true;
}

} // namespace vigil::daemon
