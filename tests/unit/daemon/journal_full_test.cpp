// SPDX-License-Identifier: Apache-2.0
// A journald that is behind never stalls vigild: workers' lines it has no room for are
// dropped for it (they are in the workers' logs) and counted, in a rate-limited report, and
// vigild's own log to journald's stream never waits for it. Against a real datagram socket
// nobody reads (journald's, full) and a real stream socket nobody reads (vigild's stderr
// under systemd). These are the forwarder and the log writer that os_wiring.cpp and
// logging.cpp put on the reactor's path; tests/integration/journal_full_test.py proves the same
// on the whole daemon (root only: it needs a mount namespace for journald's fixed path).
#include "vigil/common/unique_fd.hpp"

#include "journal_forwarder.hpp"
#include "line_writer.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace vigil::daemon {
namespace {

using namespace std::chrono_literals;

/// journald's datagram socket, bound in a temporary path and never read: it fills.
class unread_journal {
public:
  unread_journal()
      : path_("/tmp/vigil-journal-full-" + std::to_string(::getpid()) + "-"
              + std::to_string(counter_++) + ".sock") {
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    (void)::unlink(path_.c_str());
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
    bound_ = ::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0;
  }

  unread_journal(const unread_journal&) = delete;
  unread_journal& operator=(const unread_journal&) = delete;

  ~unread_journal() { (void)::unlink(path_.c_str()); }

  [[nodiscard]] bool bound() const { return bound_; }

  [[nodiscard]] const std::string& path() const { return path_; }

  /// Sends lines until journald has no room for one; false if it never fills.
  bool fill() {
    for (int i = 0; i < 100000; ++i) {
      auto r = send_to_journal({"filler", "root/filler", "stdout", "x", 0}, path_.c_str());
      if (r == journal_send::full) {
        return true;
      }
      if (r != journal_send::sent) {
        return false;
      }
    }
    return false;
  }

  /// Reads everything queued: journald catches up.
  void drain() {
    std::array<char, 65536> buf{};
    while (::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT) > 0) {
    }
  }

private:
  static inline int counter_ = 0;
  std::string path_;
  unique_fd fd_;
  bool bound_ = false;
};

/// vigild's stderr under systemd: a stream socket to journald, here one nobody reads.
struct unread_stream {
  unread_stream() {
    std::array<int, 2> fds{-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) == 0) {
      ours.reset(fds[0]);
      journald.reset(fds[1]);
    }
  }

  /// All that journald's end has queued.
  std::string read_all() const {
    std::string out;
    std::array<char, 65536> buf{};
    for (;;) {
      auto n = ::recv(journald.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n <= 0) {
        return out;
      }
      out.append(buf.data(), static_cast<std::size_t>(n));
    }
  }

  unique_fd ours;
  unique_fd journald;
};

/// Runs `work` on a thread of its own and tells whether it ended within `limit` (a hang, not
/// a speed, is what the limit catches). On a hang, `unstick` frees the thread so that it can
/// be joined and the test fail rather than hang.
bool ends_in_time(const std::function<void()>& work, const std::function<void()>& unstick,
                  std::chrono::seconds limit = 60s) {
  std::packaged_task<void()> task(work);
  auto done = task.get_future();
  std::thread t(std::move(task));
  bool ended = done.wait_for(limit) == std::future_status::ready;
  if (!ended) {
    unstick();
  }
  t.join();
  return ended;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (start < text.size()) {
    out.push_back(text.substr(start)); // an unfinished line: a cut one
  }
  return out;
}

const worker_line chatty{"chatty", "root/chatty", "stdout", "a line the journal has no room for",
                         0};

TEST(JournalFull, TheSendTellsAFullJournalFromAnAbsentOne) {
  unread_journal journal;
  ASSERT_TRUE(journal.bound());
  EXPECT_EQ(send_to_journal(chatty, journal.path().c_str()), journal_send::sent);
  EXPECT_TRUE(journal.fill());
  EXPECT_EQ(send_to_journal(chatty, journal.path().c_str()), journal_send::full);
  journal.drain();
  EXPECT_EQ(send_to_journal(chatty, journal.path().c_str()), journal_send::sent);
  EXPECT_EQ(send_to_journal(chatty, "/nonexistent/journal.sock"), journal_send::absent);
}

TEST(JournalFull, AChattyWorkerNeverStallsTheReactorWhenJournaldIsBehind) {
  // journald behind on both its sockets: the datagram one full, vigild's stderr stream unread.
  unread_journal journal;
  ASSERT_TRUE(journal.bound());
  ASSERT_TRUE(journal.fill());
  unread_stream stderr_stream;
  ASSERT_TRUE(stderr_stream.ours);
  line_writer vigild_log(stderr_stream.ours.get());
  journal_forwarder forwarder(
      journal.path(), [&](const std::string& l) { vigild_log.write_line("<6>" + l); },
      [&](const std::string& w) { vigild_log.write_line("<4>" + w); });
  // Far more lines than both sockets hold: any of them waiting for journald would hang here.
  constexpr int lines = 20000;
  bool ended = ends_in_time(
      [&] {
        for (int i = 0; i < lines; ++i) {
          forwarder.forward(chatty, journal_forwarder::clock::now());
        }
      },
      [&] { ::shutdown(stderr_stream.journald.get(), SHUT_RDWR); });
  ASSERT_TRUE(ended) << "the reactor's thread waited for journald";
  EXPECT_EQ(forwarder.dropped(), static_cast<std::uint64_t>(lines));
  // The lines were not written to vigild's log instead: only the reports of the drops were.
  auto logged = stderr_stream.read_all();
  EXPECT_EQ(logged.find("a line the journal has no room for"), std::string::npos);
  EXPECT_NE(logged.find("the journal is full"), std::string::npos);
}

TEST(JournalFull, DroppedLinesAreCountedAndToldAtMostOnceAPeriod) {
  unread_journal journal;
  ASSERT_TRUE(journal.bound());
  ASSERT_TRUE(journal.fill());
  std::vector<std::string> warned;
  std::vector<std::string> fallback;
  journal_forwarder forwarder(
      journal.path(), [&](const std::string& l) { fallback.push_back(l); },
      [&](const std::string& w) { warned.push_back(w); }, 1s);
  auto t0 = journal_forwarder::clock::time_point{} + 1h;
  for (int i = 0; i < 1000; ++i) {
    forwarder.forward(chatty, t0 + std::chrono::microseconds(i));
  }
  // The burst's start is told at once; the rest of the period's drops only counted.
  ASSERT_EQ(warned.size(), 1U);
  EXPECT_NE(warned[0].find("dropped 1 line "), std::string::npos) << warned[0];
  EXPECT_TRUE(fallback.empty()) << "a full journal's lines went to vigild's own log";
  forwarder.forward(chatty, t0 + 1s);
  ASSERT_EQ(warned.size(), 2U);
  EXPECT_NE(warned[1].find("dropped 1000 lines"), std::string::npos) << warned[1];
  EXPECT_NE(warned[1].find("1001 in all"), std::string::npos) << warned[1];
  EXPECT_EQ(forwarder.dropped(), 1001U);
  // journald catches up: the burst's last drops are told by the first line it takes after
  // the period, and nothing is told after that.
  forwarder.forward(chatty, t0 + 1500ms);
  EXPECT_EQ(warned.size(), 2U);
  journal.drain();
  forwarder.forward(chatty, t0 + 1500ms);
  forwarder.forward(chatty, t0 + 3s);
  ASSERT_EQ(warned.size(), 3U);
  EXPECT_NE(warned[2].find("dropped 1 line "), std::string::npos) << warned[2];
  forwarder.forward(chatty, t0 + 5s);
  EXPECT_EQ(warned.size(), 3U);
  EXPECT_TRUE(fallback.empty());
}

TEST(JournalFull, WithoutAJournaldALineGoesToVigildsOwnLog) {
  std::vector<std::string> warned;
  std::vector<std::string> fallback;
  journal_forwarder forwarder(
      "/nonexistent/journal.sock", [&](const std::string& l) { fallback.push_back(l); },
      [&](const std::string& w) { warned.push_back(w); });
  forwarder.forward({"web", "root/web", "stderr", "listening", 0}, journal_forwarder::clock::now());
  ASSERT_EQ(fallback.size(), 1U);
  EXPECT_EQ(fallback[0], "root/web stderr: listening");
  EXPECT_TRUE(warned.empty());
  EXPECT_EQ(forwarder.dropped(), 0U);
}

TEST(JournalFull, VigildsLogNeverWaitsForAnUnreadJournalStreamAndKeepsLinesWhole) {
  unread_stream stream;
  ASSERT_TRUE(stream.ours);
  line_writer writer(stream.ours.get());
  // Lines of uneven lengths, so that the socket takes some only in part.
  constexpr int lines = 20000;
  std::string body(97, 'x');
  int written = 0;
  bool ended = ends_in_time(
      [&] {
        for (int i = 0; i < lines; ++i) {
          written +=
              writer.write_line("<6>line " + std::to_string(i) + " " + body.substr(0, i % 97)) ? 1
                                                                                               : 0;
        }
      },
      [&] { ::shutdown(stream.journald.get(), SHUT_RDWR); });
  ASSERT_TRUE(ended) << "vigild's log waited for journald";
  ASSERT_LT(written, lines) << "the stream never filled: the test proves nothing";
  EXPECT_EQ(writer.unreported(), static_cast<std::uint64_t>(lines - written));
  auto first = stream.read_all();
  // Once journald reads again, the next line is preceded by the count of those dropped.
  ASSERT_TRUE(writer.write_line("<6>after"));
  auto text = first + stream.read_all();
  auto got = lines_of(text);
  ASSERT_GE(got.size(), 2U);
  EXPECT_EQ(got.back(), "<6>after");
  EXPECT_EQ(got[got.size() - 2], "<4>vigild: dropped " + std::to_string(lines - written)
                                     + " lines of its log: the journal was not reading");
  // Every line whole: none cut by a partial write, none glued to another.
  ASSERT_EQ(text.back(), '\n');
  for (std::size_t i = 0; i + 2 < got.size(); ++i) {
    ASSERT_TRUE(got[i].starts_with("<6>line ")) << got[i];
    auto n = std::stoi(got[i].substr(8));
    ASSERT_EQ(got[i], "<6>line " + std::to_string(n) + " " + body.substr(0, n % 97));
  }
}

} // namespace
} // namespace vigil::daemon
