// SPDX-License-Identifier: Apache-2.0
// The one declaration of every option of vigil.toml (redis's standardConfig table): section,
// name, type, default, choices, documentation, validator and the field it sets. The loader,
// docs/config.md and the tests all read this table.
#include "vigil/supervision/spec_names.hpp"

#include "option_table.hpp"
#include "validators.hpp"

#include <array>

namespace vigil::config::detail {
namespace {

using namespace std::chrono_literals;
using namespace validators;
using supervision::restart_type;
using supervision::strategy;

// -- choices ------------------------------------------------------------------------------

constexpr std::array<std::string_view, 7> log_levels{"trace", "debug",    "info", "warn",
                                                     "error", "critical", "off"};
// The spec's enums, spelled once in vigil/supervision/spec_names.hpp.
constexpr const auto& strategies = supervision::enum_names<strategy>::values;
constexpr const auto& auto_shutdowns = supervision::enum_names<supervision::auto_shutdown>::values;
constexpr const auto& max_restarts_actions =
    supervision::enum_names<supervision::max_restarts_action>::values;
constexpr const auto& child_types = supervision::enum_names<supervision::child_type>::values;
constexpr const auto& restart_types = supervision::enum_names<restart_type>::values;
constexpr const auto& modes = supervision::modes::of_kinds;
// supervisord's list: the signals a program may reasonably treat as "please stop".
constexpr std::array<std::string_view, 7> stop_signals{"SIGTERM", "SIGINT",  "SIGQUIT", "SIGHUP",
                                                       "SIGKILL", "SIGUSR1", "SIGUSR2"};
// setrlimit's resources, RLIMIT_ dropped and in lower case (prlimit(1)'s and systemd's names).
constexpr std::array<std::string_view, 4> cgroup_limit_names{"memory", "memory_high", "cpus",
                                                             "pids"};

constexpr std::array<std::string_view, 16> rlimit_names{
    "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
    "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};

/// The enum value an option's choice names; the decoder accepted only listed choices.
template <class E>
E choice(const value& v) {
  return supervision::enum_from_name<E>(std::get<std::string>(v)).value_or(E{});
}

// -- the table ----------------------------------------------------------------------------

const option table[] = {
    // [daemon]
    {{section::daemon,
      "socket",
      option_type::path,
      "",
      {},
      false,
      "The control socket vigilctl connects to. When unset, vigild uses "
      "$RUNTIME_DIRECTORY/control.sock, else /run/vigil/control.sock as root, else "
      "$XDG_RUNTIME_DIR/vigil/control.sock. A change takes effect when vigild restarts."},
     socket_path,
     [](const value& v, targets& t) { t.daemon->socket = std::get<std::string>(v); }},
    {{section::daemon, "log_level", option_type::choice, "\"info\"", log_levels, false,
      "The least severe message vigild logs."},
     nullptr,
     [](const value& v, targets& t) { t.daemon->log_level = std::get<std::string>(v); }},
    {{section::daemon,
      "allowed_users",
      option_type::string_list,
      "[]",
      {},
      false,
      "Users (names or numeric uids) allowed to use the control socket, besides root and the "
      "user vigild runs as. Each request is checked against the peer's credentials."},
     non_empty_strings,
     [](const value& v, targets& t) {
       t.daemon->allowed_users = std::get<std::vector<std::string>>(v);
     }},
    {{section::daemon,
      "allowed_groups",
      option_type::string_list,
      "[]",
      {},
      false,
      "Groups (names or numeric gids) whose members may use the control socket."},
     non_empty_strings,
     [](const value& v, targets& t) {
       t.daemon->allowed_groups = std::get<std::vector<std::string>>(v);
     }},
    {{section::daemon,
      "plugins",
      option_type::string_list,
      "[]",
      {},
      false,
      "Shared objects loaded at start, in order, each registering worker kinds. A relative "
      "path is relative to the config file's directory. One that does not load is an error "
      "at start and for --check-config. A reload neither loads nor unloads plugins: a "
      "change takes effect when vigild restarts."},
     non_empty_strings,
     [](const value& v, targets& t) { t.daemon->plugins = std::get<std::vector<std::string>>(v); }},
    {{section::daemon,
      "log_dir",
      option_type::path,
      "",
      {},
      false,
      "The directory of the OS-process children's output logs, one file per child named "
      "after its path (root%2Fweb.log), rotated at 10 MiB. When unset: "
      "$STATE_DIRECTORY/logs, else /var/lib/vigil/logs as root, else "
      "$XDG_STATE_HOME/vigil/logs. A change takes effect when vigild restarts."},
     nullptr,
     [](const value& v, targets& t) { t.daemon->log_dir = std::get<std::string>(v); }},
    {{section::daemon,
      "max_connections_per_user",
      option_type::integer,
      "64",
      {},
      false,
      "The most control connections one user (one uid) may hold at once; the next one is "
      "refused with `failed`. vigild serves 1024 connections in all, of which the last 32 "
      "are kept for root and the user vigild runs as, who are not held to this cap: an "
      "allowed user who opens connections without end cannot lock the administrator out. "
      "The observer's Unix socket holds each user to the same cap, of its own 256 "
      "connections (the last 32 kept for root and vigild's user). Takes effect for new "
      "connections."},
     in_range<1, 1024>,
     [](const value& v, targets& t) {
       t.daemon->max_connections_per_user = static_cast<std::uint32_t>(std::get<std::int64_t>(v));
     }},
    {{section::daemon,
      "first_request_timeout",
      option_type::duration,
      "\"30s\"",
      {},
      false,
      "A control connection that has not sent a whole request line this long after it was "
      "accepted is closed (as sshd's LoginGraceTime). Connections that have sent a request are "
      "never closed for being idle: a `vigilctl shell` may wait hours for its user, and "
      "`logs -f` for a line. Takes effect at once."},
     positive_duration,
     [](const value& v, targets& t) {
       t.daemon->first_request_timeout = std::get<std::chrono::milliseconds>(v);
     }},
    {{section::daemon,
      "slow_reader_timeout",
      option_type::duration,
      "\"30s\"",
      {},
      false,
      "A control connection with replies waiting that reads none of them for this long is "
      "disconnected. A reply of any size is streamed to a client that keeps reading; events "
      "and log lines alone (logs -f, events -f) never start this clock, they are bounded at "
      "4 MiB unread instead. Takes effect at once."},
     positive_duration,
     [](const value& v, targets& t) {
       t.daemon->slow_reader_timeout = std::get<std::chrono::milliseconds>(v);
     }},
    {{section::daemon,
      "cgroup",
      option_type::string,
      "\"auto\"",
      {},
      false,
      "Where each OS-process child gets a cgroup (v2) of its own, so that stopping it ends "
      "everything it started, setsid and double forks included (docs/os-workers.md, "
      "\"cgroups\"). \"auto\": vigild's own cgroup when systemd started it (Delegate=yes) or "
      "when it is a container's PID 1, else a vigil-<pid> cgroup under the cgroup2 mount that "
      "vigild makes and removes; vigild moves itself into a vigild/ leaf and its children "
      "get siblings. A path: that cgroup2 directory, delegated to vigild. \"off\": process "
      "groups only, as when no cgroup2 is usable (vigild says so once). A change takes "
      "effect when vigild restarts."},
     cgroup_base,
     [](const value& v, targets& t) { t.daemon->cgroup = std::get<std::string>(v); }},
    {{section::daemon,
      "default_pids",
      option_type::tasks,
      "\"15%\"",
      {},
      false,
      "The pids limit (pids.max, TasksMax=) of each OS-process child without a limits.pids of "
      "its own, so that a fork bomb in one child cannot take the host's pid space, and with "
      "it vigild's restarts of the others; systemd's DefaultTasksMax=. A number of processes "
      "and threads, or a percentage of the least of kernel.pid_max, kernel.threads-max and the "
      "pids.max of the cgroup the children are made in and those above it (a systemd unit's "
      "TasksMax=, a container's limit), read once at start, rounded down, "
      "at least 1. \"infinity\" or 0: none. It needs cgroups (daemon.cgroup) and the pids "
      "controller; where they are missing it is skipped, with one warning at start unless it "
      "is the default (docs/os-workers.md, \"Limits\"). A change takes effect when vigild "
      "restarts."},
     nullptr,
     [](const value& v, targets& t) { t.daemon->default_pids = std::get<pids_default>(v); }},

    // [observer]
    {{section::observer,
      "listen",
      option_type::string,
      "",
      {},
      false,
      "Where vigild serves the web observer and Prometheus metrics (docs/observer.md): an "
      "absolute Unix socket path, open to the users the control socket allows, or "
      "\"tcp://127.0.0.1:9100\". A TCP address other than loopback needs `token`. Off when "
      "unset. A change takes effect when vigild restarts."},
     listen_address,
     [](const value& v, targets& t) { t.observer->listen = std::get<std::string>(v); }},
    {{section::observer,
      "token",
      option_type::string,
      "",
      {},
      false,
      "A secret every request to the observer must carry as \"Authorization: Bearer "
      "<token>\". Without it a TCP listener serves only reads (the page, its events and "
      "/metrics), and its buttons are refused. Keep the file readable by root only."},
     not_empty,
     [](const value& v, targets& t) { t.observer->token = std::get<std::string>(v); }},
    {{section::observer,
      "mailbox_threshold",
      option_type::integer,
      "1000",
      {},
      false,
      "/metrics has a vigil_process_mailbox_length series for each process of vigild whose "
      "mailbox holds at least this many messages (a process falling behind), the longest "
      "100 of them, labelled with its pid, registered name and tree path. Takes effect at "
      "the next scrape after a reload."},
     in_range<1, 100'000'000>,
     [](const value& v, targets& t) {
       t.observer->mailbox_threshold = static_cast<std::uint32_t>(std::get<std::int64_t>(v));
     }},
    // [[hook]]
    {{section::hook,
      "on",
      option_type::string_list,
      "",
      {},
      true,
      "The events that run the hook: child_failed (a child exited other than normally), "
      "child_restarted (a child started again), supervisor_gave_up (a supervisor exceeded "
      "its restart intensity)."},
     hook_events,
     [](const value& v, targets& t) { t.hook->on = std::get<std::vector<std::string>>(v); }},
    {{section::hook,
      "command",
      option_type::string_list,
      "",
      {},
      false,
      "A program and its arguments, run as vigild's user with the event's JSON on stdin. "
      "Exactly one of `command` and `post`."},
     command_line,
     [](const value& v, targets& t) { t.hook->command = std::get<std::vector<std::string>>(v); }},
    {{section::hook,
      "post",
      option_type::string,
      "",
      {},
      false,
      "An http:// URL on loopback the event's JSON is POSTed to (Content-Type "
      "application/json)."},
     loopback_url,
     [](const value& v, targets& t) { t.hook->post = std::get<std::string>(v); }},
    {{section::hook,
      "timeout",
      option_type::duration,
      "\"5s\"",
      {},
      false,
      "A hook still running after this is killed (its POST abandoned) and logged."},
     positive_duration,
     [](const value& v, targets& t) { t.hook->timeout = std::get<std::chrono::milliseconds>(v); }},
    // [supervisor] and children with type = "supervisor"
    {{section::supervisor, "strategy", option_type::choice, "\"one_for_one\"", strategies, false,
      "Which children are restarted when one exits: only that child (one_for_one), all of "
      "them (one_for_all), or that child and those after it (rest_for_one). "
      "simple_one_for_one holds one child template from which vigilctl starts dynamic "
      "children."},
     nullptr,
     [](const value& v, targets& t) { t.supervisor->how = choice<strategy>(v); }},
    {{section::supervisor,
      "intensity",
      option_type::integer,
      "3",
      {},
      false,
      "At most this many restarts within `period`. One more and `on_max_restarts` decides: "
      "the supervisor stops its children and exits (escalate), or holds the child as "
      "failed (hold). 0 means a child that exits is never restarted."},
     in_range<0, 1'000'000>,
     [](const value& v, targets& t) {
       t.supervisor->intensity = static_cast<std::uint32_t>(std::get<std::int64_t>(v));
     }},
    {{section::supervisor,
      "period",
      option_type::duration,
      "\"5s\"",
      {},
      false,
      "The sliding window over which `intensity` counts restarts."},
     positive_duration,
     [](const value& v, targets& t) {
       t.supervisor->period = std::get<std::chrono::milliseconds>(v);
     }},
    {{section::supervisor, "auto_shutdown", option_type::choice, "\"never\"", auto_shutdowns, false,
      "Whether the supervisor stops itself when significant children exit on their own: "
      "never, when any significant child exits (any_significant), or when all have "
      "(all_significant). At the root, this ends vigild: useful in a container."},
     nullptr,
     [](const value& v, targets& t) {
       t.supervisor->auto_shutdown = choice<supervision::auto_shutdown>(v);
     }},
    {{section::supervisor, "on_max_restarts", option_type::choice, "\"hold\"", max_restarts_actions,
      false,
      "What happens when a child's restart goes over intensity in period. escalate is "
      "OTP's: the supervisor stops its children and exits, and its parent decides (when "
      "the root does, vigild exits). hold makes each child a failure domain: the child is "
      "failed, stays in the tree with its reason, and is tried again on hold_retry's "
      "schedule while its siblings run on; each child has its own budget, and a child that "
      "fails to start is held too. The default is hold at the root and escalate in a "
      "nested supervisor."},
     nullptr,
     [](const value& v, targets& t) {
       t.supervisor->on_max_restarts = choice<supervision::max_restarts_action>(v);
     }},
    {{section::supervisor,
      "hold_retry",
      option_type::duration,
      "\"10s\"",
      {},
      false,
      "With on_max_restarts = \"hold\": the wait before a failed child is tried again. It "
      "doubles each time the child fails again soon after, up to hold_retry_max, and "
      "starts over once the child stays up. \"0s\" never tries again: only vigilctl "
      "start/restart or a reload that changes the child does."},
     nullptr,
     [](const value& v, targets& t) {
       t.supervisor->hold_retry = std::get<std::chrono::milliseconds>(v);
     }},
    {{section::supervisor,
      "hold_retry_max",
      option_type::duration,
      "\"5m\"",
      {},
      false,
      "The longest wait between two tries of a failed child."},
     positive_duration,
     [](const value& v, targets& t) {
       t.supervisor->hold_retry_max = std::get<std::chrono::milliseconds>(v);
     }},
    {{section::supervisor,
      "crash_backoff",
      option_type::boolean,
      "true",
      {},
      false,
      "Whether children without a backoff of their own back off in a streak of quick "
      "deaths: the first restart is immediate, the next ones wait 1s, 2s, 4s ... up to "
      "30s, give or take 10%, and the streak ends once the child has stayed up for 10s. "
      "false restarts at once every time, as OTP does."},
     nullptr,
     [](const value& v, targets& t) {
       t.supervisor->default_backoff =
           std::get<bool>(v) ? std::optional(crash_backoff()) : std::nullopt;
     }},
    {{section::supervisor,
      "max_children",
      option_type::integer,
      "0",
      {},
      false,
      "For simple_one_for_one only: the most dynamic children alive at once; 0 means no "
      "limit."},
     in_range<0, 4'194'304>,
     [](const value& v, targets& t) {
       t.supervisor->max_children = static_cast<std::uint32_t>(std::get<std::int64_t>(v));
     }},
    {{section::supervisor,
      "children",
      option_type::table_array,
      "[]",
      {},
      false,
      "The children, in start order ([[supervisor.children]], or [[...children.children]] "
      "inside a nested supervisor). They stop in reverse order."},
     nullptr,
     nullptr},

    // every child
    {{section::child,
      "id",
      option_type::name,
      "",
      {},
      true,
      "Names the child among its siblings, in vigilctl, logs and events. Unique among "
      "siblings."},
     nullptr,
     [](const value& v, targets& t) { t.child->id = std::get<std::string>(v); }},
    {{section::child, "type", option_type::choice, "\"worker\"", child_types, false,
      "A worker runs a kind or a command; a supervisor has its own strategy, intensity, "
      "period and children."},
     nullptr,
     [](const value& v, targets& t) { t.child->type = choice<supervision::child_type>(v); }},
    {{section::child, "restart", option_type::choice, "\"permanent\"", restart_types, false,
      "When the child is restarted: always (permanent), only after an abnormal exit, that "
      "is one other than normal or shutdown (transient), or never (temporary)."},
     nullptr,
     [](const value& v, targets& t) { t.child->restart = choice<restart_type>(v); }},
    {{section::child,
      "shutdown",
      option_type::shutdown,
      "\"5s\"",
      {},
      false,
      "How the child is stopped: asked to stop (exit reason shutdown, or stop_signal for an "
      "OS process), then killed if still alive after this duration; \"brutal_kill\" kills at "
      "once and \"infinity\" waits forever. The default is 5s for a worker and \"infinity\" "
      "for a supervisor."},
     positive_shutdown,
     [](const value& v, targets& t) {
       t.child->shutdown = std::get<supervision::shutdown_policy>(v);
     }},
    {{section::child,
      "significant",
      option_type::boolean,
      "false",
      {},
      false,
      "Whether this child's own exit counts for its supervisor's auto_shutdown. A "
      "significant child must be transient or temporary."},
     nullptr,
     [](const value& v, targets& t) { t.child->significant = std::get<bool>(v); }},
    {{section::child,
      "backoff",
      option_type::table,
      "",
      {},
      false,
      "Delays this child's restarts: after the first `immediate` ones, the n-th consecutive "
      "restart waits min(max, initial * multiplier^(n-1)), give or take jitter. Without it "
      "the supervisor's crash_backoff applies. Every restart still counts against "
      "intensity."},
     nullptr,
     nullptr},

    {{section::child,
      "ready",
      option_type::probe,
      "\"started\"",
      {},
      false,
      "When the child counts as started; its supervisor starts the next child only then "
      "(docs/readiness.md). \"started\": once its start returned; \"notify\": once it says "
      "so (sd_notify READY=1 for commands, ready() for workers); or a table with one check "
      "that is tried every `interval` until it succeeds, for OS children: { tcp = "
      "\"127.0.0.1:6379\" }, { http = \"http://127.0.0.1:8080/healthz\", status = 200 }, "
      "{ exec = [\"pg_isready\", \"-q\"] }, { log = \"regex\" } (commands only; ECMAScript without "
      "back-references or lookaheads), each with "
      "optional interval (\"1s\") and timeout (\"5s\")."},
     nullptr,
     [](const value& v, targets& t) { t.child->ready = std::get<supervision::probe_spec>(v); }},
    {{section::child,
      "ready_timeout",
      option_type::duration,
      "\"90s\"",
      {},
      false,
      "A child not ready this long after its start is killed: a failed start with the "
      "reason {:not_ready, detail}, counted as any failed start."},
     positive_duration,
     [](const value& v, targets& t) {
       t.child->ready_timeout = std::get<std::chrono::milliseconds>(v);
     }},
    {{section::child,
      "health",
      option_type::probe,
      "",
      {},
      false,
      "A liveness check of an OS child: { tcp | http | exec = ..., interval = \"10s\", "
      "timeout = \"2s\", failures = 3 }. After `failures` failed checks in a row the child "
      "is killed with the reason {:unhealthy, detail} and restarted as its restart type says."},
     nullptr,
     [](const value& v, targets& t) { t.child->health = std::get<supervision::probe_spec>(v); }},
    {{section::child,
      "watchdog",
      option_type::duration,
      "",
      {},
      false,
      "With ready = \"notify\": the longest silence between two WATCHDOG=1 before the child "
      "is killed as unhealthy. Unset: no watchdog."},
     positive_duration,
     [](const value& v, targets& t) {
       t.child->watchdog = std::get<std::chrono::milliseconds>(v);
     }},

    // backoff = { ... }
    {{section::backoff,
      "initial",
      option_type::duration,
      "\"100ms\"",
      {},
      false,
      "The delay before the first restart."},
     positive_duration,
     [](const value& v, targets& t) {
       t.backoff->initial = std::get<std::chrono::milliseconds>(v);
     }},
    {{section::backoff,
      "max",
      option_type::duration,
      "\"30s\"",
      {},
      false,
      "The longest delay; at least `initial`."},
     positive_duration,
     [](const value& v, targets& t) { t.backoff->max = std::get<std::chrono::milliseconds>(v); }},
    {{section::backoff,
      "multiplier",
      option_type::number,
      "2.0",
      {},
      false,
      "The factor between one delay and the next."},
     multiplier_range,
     [](const value& v, targets& t) { t.backoff->multiplier = std::get<double>(v); }},
    {{section::backoff,
      "jitter",
      option_type::number,
      "0.1",
      {},
      false,
      "A random share of the delay added or taken away, so that children that failed "
      "together do not restart together."},
     fraction,
     [](const value& v, targets& t) { t.backoff->jitter = std::get<double>(v); }},
    {{section::backoff,
      "immediate",
      option_type::integer,
      "0",
      {},
      false,
      "How many restarts of a streak are immediate before the delays begin."},
     in_range<0, 1'000'000>,
     [](const value& v, targets& t) {
       t.backoff->immediate = static_cast<std::uint32_t>(std::get<std::int64_t>(v));
     }},
    {{section::backoff,
      "reset_after",
      option_type::duration,
      "\"10s\"",
      {},
      false,
      "After the child has run this long, the next restart is a first restart again."},
     positive_duration,
     [](const value& v, targets& t) {
       t.backoff->reset_after = std::get<std::chrono::milliseconds>(v);
     }},

    // workers
    {{section::worker,
      "kind",
      option_type::name,
      "",
      {},
      false,
      "The worker kind to run: a built-in one (echo, dispatcher) or one a plugin registers. "
      "A worker has either kind or command."},
     nullptr,
     [](const value& v, targets& t) { t.child->kind = std::get<std::string>(v); }},
    {{section::worker,
      "args",
      option_type::term_table,
      "{}",
      {},
      false,
      "Arguments for the kind, as a term map: args = { delay = \"200ms\" } arrives as "
      "%{delay: \"200ms\"}. Keys become atoms; strings, integers, floats, booleans, arrays "
      "(lists) and tables (maps) keep their shape. They are checked against the arguments "
      "the kind declares (an unknown one, or a value of the wrong type, is an error); a "
      "duration argument takes a string with units like every duration here, or an integer "
      "of milliseconds. Only with kind."},
     nullptr,
     [](const value& v, targets& t) { t.child->args = std::get<term>(v); }},
    {{section::worker, "mode", option_type::choice, "\"inprocess\"", modes, false,
      "Where a kind runs: as a lightweight process inside vigild (inprocess), or isolated "
      "in its own vigil-worker OS process (process). Only with kind."},
     nullptr,
     [](const value& v, targets& t) { t.child->mode = std::get<std::string>(v); }},
    {{section::worker,
      "command",
      option_type::string_list,
      "",
      {},
      false,
      "A program and its arguments, run without a shell; a program name without '/' is "
      "looked up in PATH. Exit status 0 is exit reason normal, N is {:exit_status, N}, and "
      "death by a signal is {:signal, :SIGKILL}. A worker has either kind or command."},
     command_line,
     [](const value& v, targets& t) {
       t.child->os.command = std::get<std::vector<std::string>>(v);
     }},

    // OS processes: mode = "process" or command
    {{section::process,
      "env",
      option_type::string_table,
      "{}",
      {},
      false,
      "Environment variables added to those vigild passes on."},
     environment,
     [](const value& v, targets& t) {
       t.child->os.env = std::get<std::map<std::string, std::string>>(v);
     }},
    {{section::process,
      "cwd",
      option_type::path,
      "",
      {},
      false,
      "The working directory; vigild's own when unset."},
     nullptr,
     [](const value& v, targets& t) { t.child->os.cwd = std::get<std::string>(v); }},
    {{section::process,
      "umask",
      option_type::umask,
      "",
      {},
      false,
      "The file mode creation mask; vigild's own when unset."},
     nullptr,
     [](const value& v, targets& t) {
       t.child->os.umask = static_cast<std::uint32_t>(std::get<std::int64_t>(v));
     }},
    {{section::process,
      "user",
      option_type::string,
      "",
      {},
      false,
      "Run as this user (a name or numeric uid); vigild must run as root. vigild's own "
      "user when unset."},
     not_empty,
     [](const value& v, targets& t) { t.child->os.user = std::get<std::string>(v); }},
    {{section::process,
      "group",
      option_type::string,
      "",
      {},
      false,
      "Run with this group (a name or numeric gid). When unset: the primary group of `user` "
      "if that is set, else vigild's group."},
     not_empty,
     [](const value& v, targets& t) { t.child->os.group = std::get<std::string>(v); }},
    {{section::process, "stop_signal", option_type::signal, "\"SIGTERM\"", stop_signals, false,
      "The signal sent to the child's process group to stop it, followed by SIGCONT so that "
      "a stopped (SIGSTOP) process acts on it; SIGKILL follows after `shutdown`."},
     nullptr,
     [](const value& v, targets& t) { t.child->os.stop_signal = std::get<std::string>(v); }},
    {{section::process, "rlimits", option_type::rlimits, "{}", rlimit_names, false,
      "Resource limits set in the child before it starts, by setrlimit's names (as, core, "
      "cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, "
      "sigpending, stack): rlimits = { nofile = 1024, core = 0 }. A number sets both the soft "
      "and the hard limit, [soft, hard] sets them apart, and \"unlimited\" lifts one. Unset "
      "limits are inherited from vigild; raising a hard limit needs CAP_SYS_RESOURCE."},
     nullptr,
     [](const value& v, targets& t) {
       t.child->os.rlimits = std::get<std::map<std::string, supervision::resource_limit>>(v);
     }},
    {{section::process, "limits", option_type::limits, "{}", cgroup_limit_names, false,
      "Limits on the child's own cgroup, named after systemd's: memory (MemoryMax=: past it "
      "the kernel's OOM killer ends the child, reported as {:oom_killed}), memory_high "
      "(MemoryHigh=: past it the child is throttled), a size in bytes or with a K, M, G or T "
      "suffix (powers of 1024); cpus (CPUQuota= / 100%: 1.5 is 150 ms of CPU per 100 ms); "
      "pids (TasksMax=: processes and threads at once; \"infinity\" for none, whatever "
      "daemon.default_pids says). limits = { memory = \"512M\", cpus = 1.5, pids = 100 }. "
      "They need cgroups ([daemon] cgroup) and the controller: cgroup "
      "v2's, or on a hybrid host v1's; where one is missing, vigild says so once and the "
      "child runs without that limit (docs/os-workers.md, \"Limits\")."},
     nullptr,
     [](const value& v, targets& t) {
       t.child->os.limits = std::get<supervision::cgroup_limits>(v);
     }},
    {{section::process,
      "may_send",
      option_type::string_list,
      "[]",
      {},
      false,
      "Registered names the worker may send to: may_send = [\"echo\"]. An OS worker is "
      "untrusted: besides these names it reaches only pids that appeared in messages sent to "
      "it and its own processes, never vigild's own; any other send is dropped and counted "
      "(`refused` in the info of its port; docs/security.md)."},
     send_grants,
     [](const value& v, targets& t) {
       t.child->os.may_send = std::get<std::vector<std::string>>(v);
     }},
    {{section::process,
      "success_exit_codes",
      option_type::exit_codes,
      "[]",
      {},
      false,
      "Exit statuses that count as a normal exit: success_exit_codes = [0, 3]. A transient "
      "child that exits so is not restarted."},
     nullptr,
     [](const value& v, targets& t) {
       t.child->os.success_exit_codes = std::get<std::vector<std::int64_t>>(v);
     }},
    {{section::process,
      "no_restart_exit_codes",
      option_type::exit_codes,
      "[]",
      {},
      false,
      "Exit statuses after which the child is not restarted, whatever its restart type: it "
      "stays stopped with its exit reason until `vigilctl start` or `restart`."},
     nullptr,
     [](const value& v, targets& t) {
       t.child->os.no_restart_exit_codes = std::get<std::vector<std::int64_t>>(v);
     }},
};

} // namespace

std::span<const option> option_table() {
  return table;
}

const option* find_option(section s, std::string_view name) {
  for (const auto& o : table) {
    if (o.info.where == s && o.info.name == name) {
      return &o;
    }
  }
  return nullptr;
}

} // namespace vigil::config::detail
