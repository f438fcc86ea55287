// SPDX-License-Identifier: Apache-2.0
// What runs: hello, status and tree (one process: commands_info.cpp).
#include "vigil/os/service.hpp"
#include "vigil/runtime/runtime.hpp"
#include "vigil/supervision/spec_names.hpp"

#include "command_handlers.hpp"
#include "event_store.hpp"
#include "json_util.hpp"
#include "port_json.hpp"
#include "protocol_vocabulary.hpp"
#include "session.hpp"
#include "state.hpp"
#include "status_rows.hpp"
#include "tree_index.hpp"
#include "tree_lookup.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <type_traits>
#include <unordered_map>
#include <vector>

#ifndef VIGIL_VERSION
#  define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::daemon {
namespace {

using supervision::child_state;
using supervision::child_type;

/// Room reserved per row of a full `status` reply.
constexpr std::size_t row_bytes = 192;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view type_name(child_type t) {
  return supervision::name_of(t);
}

std::string strategy_name(const supervision::supervisor_spec* s) {
  return s == nullptr ? std::string("?") : std::string(supervision::name_of(s->how));
}

bool simple(const supervision::supervisor_spec* s) {
  return s != nullptr && s->how == supervision::strategy::simple_one_for_one;
}

/// The config's spec of child `id` of a supervisor (its template if dynamic), or nullptr.
const supervision::child_spec* spec_in(const supervision::supervisor_spec* sup,
                                       std::string_view id) {
  if (sup == nullptr) {
    return nullptr;
  }
  if (simple(sup)) {
    return sup->children.empty() ? nullptr : &sup->children.front();
  }
  for (const auto& c : sup->children) {
    if (c.id == id) {
      return &c;
    }
  }
  return nullptr;
}

/// A child as status lists it: from its entry in the index, or, for one the config names
/// but its supervisor no longer holds, from its spec.
struct row_source {
  std::string_view path;
  std::string_view id;
  const indexed_child* entry = nullptr;          ///< nullptr: ended
  const supervision::child_spec* spec = nullptr; ///< what it runs, if known
  supervision::child_type type = child_type::worker;
};

status_row row_of(const daemon_state& st, const tree_index::view& v, const row_source& src,
                  std::int64_t now) {
  status_row row{.path = src.path,
                 .id = src.id,
                 .state = "ended",
                 .type = type_name(src.type),
                 .restarts = src.entry != nullptr ? src.entry->restarts : v.restarts(src.path)};
  if (const indexed_child* c = src.entry) {
    row.process = c->process;
    row.state = supervision::name_of(c->state);
    if (c->state == child_state::failed) {
      row.failed = true;
      row.reason = c->reason;
      if (c->retry) {
        row.retry_ms = std::max<std::int64_t>(0, c->due_ms - now);
      }
    } else if (c->state == child_state::starting || c->state == child_state::stopped) {
      row.reason = c->reason;
    }
    if (c->process) {
      row.uptime_ms = now - c->started_ms;
    }
  }
  if (src.type == child_type::supervisor) {
    row.kind = "supervisor";
  } else if (src.spec != nullptr) {
    row.kind = src.spec->kind.empty() ? std::string_view("command") : src.spec->kind;
    row.mode = src.spec->mode;
    if (src.spec->mode != "inprocess") {
      row.os_fields = true;
      if (auto port = port_info_of(st, row.process)) {
        row.os_pid = port->os_pid;
        row.rss_kb = port->rss_kb;
        row.cpu_ms = port->cpu_ms;
        auto counted = [](std::int64_t n) {
          return n < 0 ? std::nullopt : std::optional<std::int64_t>(n);
        };
        row.cgroup_memory_bytes = counted(port->cgroup_memory_bytes);
        row.cgroup_cpu_ms = counted(port->cgroup_cpu_usec < 0 ? -1 : port->cgroup_cpu_usec / 1000);
        row.cgroup_pids = counted(port->cgroup_pids);
        row.log_lines_dropped = static_cast<std::int64_t>(port->log_lines_dropped);
        if (port->health.checked) {
          row.health = port->health.summary();
        }
      }
    }
  }
  return row;
}

bool wanted(std::string_view path, std::string_view id, const std::vector<std::string>& names) {
  if (names.empty()) {
    return true;
  }
  // "root/" + name == path, compared in place: no string built per name and row.
  constexpr std::string_view root_prefix = "root/";
  const bool under_root = path.starts_with(root_prefix);
  const std::string_view below_root = under_root ? path.substr(root_prefix.size()) : path;
  for (const auto& name : names) {
    if (name == id || name == path || (under_root && name == below_root)) {
      return true;
    }
  }
  return false;
}

/// For walks that do not list the config's children a supervisor no longer holds.
struct no_ended {
  void operator()(const supervision::child_spec& /*spec*/, std::string_view /*path*/) const {}
};

/// The children of the supervisor at `path` (its process `sup`: twins share a path; none for
/// the root) that the index holds, each with its spec in the
/// config (nullptr if none), to `held`, in the supervisor's own order: the config's for a
/// static supervisor (a reload inserts a child where the file has it), start order for a
/// dynamic one. Then, to `ended`, the config's children that a static supervisor no longer
/// holds (temporary children that ended).
///
/// The index lists a supervisor's children in start order, which is the config's unless a
/// reload inserted one: the two lists are matched side by side, by id, and only the ids out
/// of step are looked up. No path is built or hashed per child (status of 10,000 children).
template <class Held, class Ended = no_ended>
void each_child(const tree_index::view& v, std::string_view path, std::optional<pid> sup,
                const supervision::supervisor_spec* spec, Held&& held, Ended&& ended = {}) {
  if (spec == nullptr || simple(spec)) {
    v.each_child(path, sup, [&](const indexed_child& c) { held(c, spec_in(spec, c.id)); });
    return;
  }
  std::vector<const indexed_child*> running;
  running.reserve(v.count(path, sup));
  v.each_child(path, sup, [&](const indexed_child& c) { running.push_back(&c); });
  std::vector<bool> matched(running.size());
  std::unordered_map<std::string_view, std::size_t> out_of_step; // made on first need
  bool indexed = false;
  std::vector<std::size_t> missing;          // the config's children it no longer holds
  constexpr std::size_t entry_distance = 12; // an entry, prefetched this many steps ahead
  constexpr std::size_t text_distance = 6;   // the row text it points to, by then in cache
  static_assert(sizeof(indexed_child) <= 6 * 64);
  std::size_t next = 0;
  for (std::size_t i = 0; i < spec->children.size(); ++i) {
    const supervision::child_spec& cs = spec->children[i];
    while (next < running.size() && matched[next]) {
      ++next;
    }
    // The entries a few steps ahead, asked for from memory before they are needed: they
    // lie wherever the index allocated them, and waiting for each in turn was most of the
    // time of a status of 10,000 children. Written out here: in a function of its own,
    // which has no effect GCC can see, the calls were dropped.
    if (next + entry_distance < running.size()) {
      const auto* entry = reinterpret_cast<const char*>(running[next + entry_distance]);
      __builtin_prefetch(entry);
      __builtin_prefetch(entry + 64);
      __builtin_prefetch(entry + 128);
      __builtin_prefetch(entry + 192);
      __builtin_prefetch(entry + 256);
      __builtin_prefetch(entry + 320);
    }
    if (next + text_distance < running.size()) {
      const char* head = running[next + text_distance]->status_head.c_str();
      __builtin_prefetch(head);
      __builtin_prefetch(head + 64);
      __builtin_prefetch(head + 128);
    }
    std::size_t at = running.size();
    if (next < running.size() && running[next]->id == cs.id) {
      at = next;
    } else {
      if (!indexed) {
        indexed = true;
        for (std::size_t j = 0; j < running.size(); ++j) {
          out_of_step.emplace(running[j]->id, j);
        }
      }
      if (auto it = out_of_step.find(cs.id); it != out_of_step.end() && !matched[it->second]) {
        at = it->second;
      }
    }
    if (at == running.size()) {
      missing.push_back(i);
      continue;
    }
    matched[at] = true;
    held(*running[at], &cs);
  }
  // Children the config does not name (started through the API): after, in start order.
  for (std::size_t j = 0; j < running.size(); ++j) {
    if (!matched[j]) {
      held(*running[j], nullptr);
    }
  }
  if constexpr (!std::is_same_v<std::remove_cvref_t<Ended>, no_ended>) {
    std::string child_path(path);
    child_path += '/';
    const std::size_t base = child_path.size();
    for (std::size_t i : missing) {
      child_path.resize(base);
      child_path += spec->children[i].id;
      ended(spec->children[i], std::string_view(child_path));
    }
  }
}

/// The status rows of the tree from the index, in the order a walk from the root lists
/// them: each child, then what runs under it; then the children the config gives a
/// supervisor that it no longer holds (temporary children that ended, listed as "ended":
/// `start` brings them back). Written straight into the reply: a json tree of 10,000 rows
/// cost more than the lookups.
struct status_walk {
  const daemon_state& st;
  const tree_index::view& v;
  const std::vector<std::string>& names;
  std::int64_t now;
  json_writer& rows;
  std::size_t count = 0;
  /// The sums of the rows' cgroup counts (`workers_total`).
  std::int64_t os_children = 0;
  std::int64_t memory_bytes = 0;
  std::int64_t cpu_ms = 0;
  std::int64_t pids = 0;

  void write(const status_row& row) {
    write_status_row(rows, row);
    ++count;
    if (row.os_pid) {
      ++os_children;
    }
    memory_bytes += row.cgroup_memory_bytes.value_or(0);
    cpu_ms += row.cgroup_cpu_ms.value_or(0);
    pids += row.cgroup_pids.value_or(0);
  }

  /// A child the index holds. Its row's head is kept in its entry while nothing in it is
  /// live (an OS worker's figures, a failed child's retry) and its spec is the entry's own
  /// (a configured spec could be freed by a reload and another made at its address).
  void write_held(const indexed_child& c, const supervision::child_spec* cs) {
    if (!c.status_head.empty()) {
      write_status_row(rows, c.status_head, uptime(c));
      ++count;
      return;
    }
    status_row row = row_of(st, v, row_source{c.path, c.id, &c, cs, c.type}, now);
    const bool own_spec = c.type == child_type::supervisor || (cs != nullptr && cs == c.spec.get());
    if (own_spec && !row.os_fields && !row.failed) {
      c.status_head = status_row_head(row);
      write_status_row(rows, c.status_head, row.uptime_ms);
      ++count;
      return;
    }
    write(row);
  }

  [[nodiscard]] std::optional<std::int64_t> uptime(const indexed_child& c) const {
    return c.process ? std::optional<std::int64_t>(now - c.started_ms) : std::nullopt;
  }

  void supervisor(std::string_view path, std::optional<pid> sup,
                  const supervision::supervisor_spec* spec) {
    const auto held = [&](const indexed_child& c, const supervision::child_spec* configured) {
      const supervision::child_spec* cs = c.spec ? c.spec.get() : configured;
      if (wanted(c.path, c.id, names)) {
        write_held(c, cs);
      }
      if (c.type == child_type::supervisor && c.process) {
        supervisor(c.path, c.process,
                   configured != nullptr ? configured->supervisor.get() : nullptr);
      }
    };
    const auto ended = [&](const supervision::child_spec& cs, std::string_view child_path) {
      if (wanted(child_path, cs.id, names)) {
        write(row_of(st, v, row_source{child_path, cs.id, nullptr, &cs, cs.type}, now));
      }
    };
    each_child(v, path, sup, spec, held, ended);
  }
};

json tree_json(const tree_index::view& v, const indexed_child* c, std::string_view path,
               std::string_view id, std::optional<pid> process,
               const supervision::supervisor_spec* sup_spec, const supervision::child_spec* spec) {
  const bool supervisor = c == nullptr || c->type == child_type::supervisor;
  json node{{"id", id},
            {"path", path},
            {"pid", pid_json(process)},
            {"type", type_name(supervisor ? child_type::supervisor : child_type::worker)},
            {"state", supervision::name_of(c != nullptr ? c->state : child_state::running)}};
  if (supervisor) {
    node["strategy"] = strategy_name(sup_spec);
  } else if (spec != nullptr) {
    node["kind"] = spec->kind;
  }
  json children = json::array();
  if (process) {
    each_child(v, path, c != nullptr ? process : std::nullopt, sup_spec,
               [&](const indexed_child& k, const supervision::child_spec* configured) {
                 const supervision::child_spec* ks = k.spec ? k.spec.get() : configured;
                 const supervision::supervisor_spec* nested =
                     configured != nullptr ? configured->supervisor.get() : nullptr;
                 children.push_back(tree_json(v, &k, k.path, k.id, k.process, nested, ks));
               });
  }
  node["children"] = std::move(children);
  return node;
}

} // namespace

task<outcome> cmd_hello(session_env& env, const request& /*req*/) {
  json r{{"daemon", "vigild"},
         {"version", VIGIL_VERSION},
         {"protocol", protocol_version},
         {"self", pid_json(env.self.self())},
         {"pid", static_cast<std::int64_t>(::getpid())}};
  co_return outcome::success(dump(r));
}

task<outcome> cmd_status(session_env& env, const request& req) {
  auto cfg = env.st.config();
  std::string text;
  if (req.names.empty()) {
    // A row takes ~160 bytes: growing 1.6 MB by doubling copied it twice over.
    text.reserve(env.st.index.size() * row_bytes + 64 + req.id.size());
  }
  // The reply line is written in place around the rows: 1.6 MB is not copied again.
  begin_reply_ok(text, req.id);
  json_writer w(text);
  w.begin_object();
  w.key("workers");
  w.begin_array();
  std::size_t count = 0;
  std::array<std::int64_t, 4> total{};
  env.st.index.read([&](const tree_index::view& v) {
    status_walk walk{env.st, v, req.names, steady_ms(), w};
    walk.supervisor("root", std::nullopt, &cfg->root); // the root's children: one family
    count = walk.count;
    total = {walk.memory_bytes, walk.cpu_ms, walk.pids, walk.os_children};
  });
  w.end_array();
  // The listed OS children's cgroups together (docs/os-workers.md, "Accounting").
  w.key("workers_total");
  w.begin_object();
  w.key("cgroup_cpu_ms");
  w.value(total[1]);
  w.key("cgroup_memory_bytes");
  w.value(total[0]);
  w.key("cgroup_pids");
  w.value(total[2]);
  w.key("os_children");
  w.value(total[3]);
  w.end_object();
  w.end_object();
  if (!req.names.empty() && count == 0) {
    co_return outcome::failure(error_code::not_found,
                               "no worker named '" + req.names.front() + "'");
  }
  end_reply_ok(text);
  co_return outcome::line(std::move(text));
}

task<outcome> cmd_tree(session_env& env, const request& /*req*/) {
  auto cfg = env.st.config();
  pid root = env.st.root();
  json top;
  env.st.index.read([&](const tree_index::view& v) {
    top = tree_json(v, nullptr, "root", "root", root == pid{} ? std::nullopt : std::optional(root),
                    &cfg->root, nullptr);
  });
  json r{{"tree", std::move(top)}};
  json spawned = json::array();
  for (const auto& d : env.st.detached()) {
    spawned.push_back({{"pid", to_string(term(d.process))}, {"kind", d.kind}, {"uid", d.uid}});
  }
  r["spawned"] = std::move(spawned);
  co_return outcome::success(dump(r));
}

} // namespace vigil::daemon
