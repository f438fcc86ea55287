// SPDX-License-Identifier: Apache-2.0
// The daemon's sink for supervisor events (tree_events.hpp): the index, the event stream,
// and the supervisor report as a log line in the spirit of OTP's.
#include "tree_events.hpp"

#include "vigil/os/service.hpp"
#include "vigil/term/text.hpp"

#include "event_store.hpp"
#include "state.hpp"
#include "tree_lookup.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <string_view>

namespace vigil::daemon {
namespace {

using supervision::child_event;
using supervision::exit_report;

/// How many of a program's last stderr lines a supervisor report quotes.
constexpr std::size_t report_stderr_lines = 3;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string seconds_text(std::int64_t ms) {
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

const char* decision_name(exit_report::decision d) {
  switch (d) {
  case exit_report::decision::none: return "none";
  case exit_report::decision::restart: return "restart";
  case exit_report::decision::backoff: return "backoff";
  case exit_report::decision::failed: return "failed";
  case exit_report::decision::escalate: return "escalate";
  }
  return "none";
}

/// `text` with its control characters written as \xHH (C0 and DEL as bytes, C1 as their
/// code point when they come as UTF-8), as vigilctl shows log text on a terminal. An exit
/// reason is the worker's choice (an SDK worker's {:exit, "..."}): raw, its escape sequences
/// reached whoever read vigild's log on a terminal, and a newline let it forge log lines.
std::string printable(std::string_view text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    unsigned code = c;
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80
        && static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      code = static_cast<unsigned char>(text[++i]); // a C1 control, U+0080 to U+009F
    } else if (c >= 0x20 && c != 0x7F) {
      out += text[i];
      continue;
    }
    out += "\\x";
    out += hex[code >> 4];
    out += hex[code & 15];
  }
  return out;
}

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

/// The verdict of a report as its log line says it, and the line's level.
std::pair<std::string, spdlog::level::level_enum> verdict(daemon_state& st, const child_event& e,
                                                          const std::string& reason) {
  const exit_report& r = e.report;
  switch (r.what) {
  case exit_report::decision::restart: return {"restart now", spdlog::level::warn};
  case exit_report::decision::backoff:
    return {"back off " + seconds_text(r.delay.count()), spdlog::level::warn};
  case exit_report::decision::failed:
    return {r.retry ? "failed, held; retry in " + seconds_text(r.delay.count())
                    : "failed, held; no retry until vigilctl start or a reload",
            spdlog::level::err};
  case exit_report::decision::escalate: {
    std::string sup_path = parent_of(e.path);
    if (sup_path == "root") {
      st.set_root_escalation(e.path + " exited with " + reason + ": " + std::to_string(r.restarts)
                             + " restarts in " + seconds_text(r.period.count())
                             + ", over the root's intensity " + std::to_string(r.intensity));
    }
    return {"escalate: over intensity " + std::to_string(r.intensity) + " in "
                + seconds_text(r.period.count()) + ", " + sup_path
                + " stops its children and exits",
            spdlog::level::err};
  }
  case exit_report::decision::none: break;
  }
  return {"not restarted (its restart type)", spdlog::level::warn};
}

/// A supervisor report: logged as one line, recorded for `vigilctl why`, published.
void report(daemon_state& st, const child_event& e) {
  const exit_report& r = e.report;
  nlohmann::json j{
      {"reason", r.reason.is_string() ? std::string(r.reason.as_string()) : to_string(r.reason)},
      {"restarts", r.restarts},
      {"intensity", r.intensity},
      {"period_ms", r.period.count()},
      {"decision", decision_name(r.what)},
      {"delay_ms", r.delay.count()}};
  // The log line's; the JSON keeps the reason as it is (JSON escapes it).
  const std::string reason = printable(j["reason"].get<std::string>());
  std::string where = e.path;
  if (r.process) {
    j["pid"] = to_string(term(*r.process));
    where += " pid " + to_string(term(*r.process));
    if (st.os != nullptr) {
      if (auto os_pid = st.os->os_pid(*r.process)) {
        j["os_pid"] = *os_pid;
        where += " os_pid " + std::to_string(*os_pid);
      }
    }
  }
  if (r.what == exit_report::decision::failed) {
    j["retry"] = r.retry;
  }
  std::string what = (r.process ? "exited with " : "failed to start: ") + reason;
  std::string used = "restarts " + std::to_string(r.restarts) + " of " + std::to_string(r.intensity)
                     + " in " + seconds_text(r.period.count());
  if (r.what == exit_report::decision::failed && r.restarts == 0) {
    used = "a retry of a held child"; // held again before it stayed up
  }
  auto [decided, level] = verdict(st, e, reason);
  // A program's last words: what it wrote to stderr before it died (its lines reach the
  // store before its exit does: the reactor drains a child's pipes first).
  std::string last_words;
  if (j.contains("os_pid")) {
    auto lines = st.events.last_lines(e.path, "stderr", report_stderr_lines);
    for (auto& line : lines) {
      if (line.size() > 200) {
        line.resize(200);
        line += "...";
      }
      last_words +=
          (last_words.empty() ? "; last stderr: " : " | ")
          + nlohmann::json(line).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    j["stderr"] = lines;
  }
  spdlog::log(level, "supervisor report: {} {}; {}; decision: {}{}", where, what, used, decided,
              last_words);
  st.events.decided(e.path, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void tell(daemon_state& st, const child_event& e) {
  std::int64_t os_pid = 0;
  std::shared_ptr<const supervision::child_spec> spec;
  if (e.what == child_event::kind::started || e.what == child_event::kind::updated) {
    if (e.what == child_event::kind::started && st.os != nullptr && e.process) {
      // Read at once, so that a child that dies at once is still reported with it.
      os_pid = st.os->os_pid(*e.process).value_or(0);
    }
    if (e.spec != nullptr) {
      spec = spec_for(st, e.path, *e.spec, e.dynamic);
    }
  }
  auto orphans = st.index.apply(e, os_pid, steady_ms(), std::move(spec));
  // A supervisor that was killed could not stop its children: they died with it, by its
  // link, with its reason, and only the index knows they ran.
  for (const auto& o : orphans) {
    st.events.exited(o.path, o.process, e.reason);
  }
  switch (e.what) {
  case child_event::kind::started:
    st.events.started(e.path, *e.process, e.supervisor, e.dynamic);
    return;
  case child_event::kind::exited:
  case child_event::kind::stopped: st.events.exited(e.path, *e.process, e.reason); return;
  case child_event::kind::decided: report(st, e); return;
  case child_event::kind::gave_up:
    // The root's exit is seen by the hub, which also stops the daemon; a nested supervisor
    // is restarted by its parent, or escalates.
    if (e.path != "root" && !st.stopping.load()) {
      st.events.gave_up(e.path, e.reason);
    }
    return;
  case child_event::kind::removed:
  case child_event::kind::changed:
  case child_event::kind::updated: return;
  case child_event::kind::waiting:
  case child_event::kind::ready: return;
  }
}

} // namespace

supervision::event_sink tree_sink(daemon_state& st) {
  return [&st](const child_event& e) { tell(st, e); };
}

} // namespace vigil::daemon
