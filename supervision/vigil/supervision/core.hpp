// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/common/result.hpp"
#include "vigil/supervision/restart.hpp"
#include "vigil/supervision/spec.hpp"
#include "vigil/term/term.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vigil::supervision {

/// Where a child stands, as which_children reports it.
enum class child_state : std::uint8_t {
  running,    ///< it has a pid
  restarting, ///< being restarted, or a failed start waits for its retry
  backoff,    ///< waits out a restart delay; `backoff_left` says how long
  stopped,    ///< not running and not due to restart (terminated, or exited for good)
  failed,     ///< held past its restart budget (on_max_restarts = hold); `reason` says why
  starting,   ///< started, not ready yet (docs/readiness.md); `waiting_for` says for what
  stopping,   ///< asked to stop, not dead yet; `process` is the pid being stopped
};

/// The states' one spelling, as status, info, the observer and metrics show them.
template <>
struct enum_names<child_state> {
  static constexpr std::array<std::string_view, 7> values{
      "running", "restarting", "backoff", "stopped", "failed", "starting", "stopping"};
};

/// One row of which_children.
struct child_info {
  std::string id;
  std::optional<pid> process; ///< set while running, starting or stopping
  child_type type = child_type::worker;
  child_state state = child_state::stopped;
  milliseconds backoff_left{0}; ///< time until the restart, in state backoff or failed
  /// In state failed: its last exit reason or start error, and whether a retry is scheduled.
  /// In state stopped after an exit status of no_restart_exit_codes: that exit reason.
  std::string reason;
  bool retry = false;
  /// In state starting: what the supervisor waits for ("notify", "tcp 127.0.0.1:6379", or
  /// the child's own last `$vigil_waiting` detail).
  std::string waiting_for;
  friend bool operator==(const child_info&, const child_info&) = default;
};

/// What a supervisor decided after a child's exit or failed start: OTP's supervisor report.
struct exit_report {
  enum class decision : std::uint8_t {
    none,     ///< a crash not restarted: its restart type says so (normal ends: no report)
    restart,  ///< restarted at once
    backoff,  ///< restarted after `delay`
    failed,   ///< held as failed; retried after `delay` unless `retry` is false
    escalate, ///< over the intensity: the supervisor stops its children and exits
  };
  std::string id;
  std::optional<pid> process; ///< empty for a failed start
  term reason;                ///< the exit reason, or the start error as a string
  std::uint32_t restarts = 0; ///< restarts in the window, this one included
  std::uint32_t intensity = 0;
  milliseconds period{0};
  decision what = decision::none;
  milliseconds delay{0};
  bool retry = false;
};

/// What happened to one child of a supervisor, as the supervisor saw it: the events that a
/// daemon's index and its event stream are fed from (no one has to ask the tree). The
/// driver hands them on in order, each before it acts on the next message, so an exit is
/// told before the supervisor itself can exit.
struct child_event {
  enum class kind : std::uint8_t {
    started, ///< `process` came up; `spec` says what it runs
    exited,  ///< `process` exited on its own with `reason`; a `decided` may follow
    decided, ///< what the supervisor decided after an exit or a failed start: `report`
    stopped, ///< the supervisor stopped `process` itself, and it is dead now
    gave_up, ///< the supervisor exits over its intensity with `reason`; `path` is its own
    removed, ///< the supervisor forgot the child (a temporary or dynamic child that ended, a
             ///< deleted one, a start through the API that failed)
    changed, ///< the child, not running, moved to `state` (due at `due`) without an exit or a
             ///< decision of its own: a sibling's restart made it wait, a failed start left
             ///< it waiting for its retry, a stop or a shutdown dropped its pending restart
    updated, ///< its spec changed in place (update_child): `spec`; its process is left alone
    ready,   ///< a gated child (ready.kind != started) said it is ready; `reason` is its status
    waiting, ///< a gated child still starting: `reason` is what it waits for (a string)
  };
  kind what = kind::started;
  std::string path; ///< the supervisor's path + "/" + `id` ("root/jobs/worker")
  std::string id;
  /// Which child of its supervisor it is, for as long as the supervisor holds it: dynamic
  /// children share a path, and keep their key across restarts.
  std::uint64_t key = 0;
  std::optional<pid> process;
  /// The supervisor's own pid: set by the process that drives the core.
  pid supervisor;
  child_type type = child_type::worker;
  term reason;
  /// started, updated: the child's spec, valid until the next call to the core.
  const child_spec* spec = nullptr;
  /// stopped, changed: where the child stands afterwards (a sibling's restart stops it into
  /// restarting or backoff); backoff and failed: when its start is due.
  child_state state = child_state::stopped;
  time_point due{};
  /// A child of a simple_one_for_one supervisor (its siblings share its path).
  bool dynamic = false;
  exit_report report; ///< decided
};

/// count_children: child specs, running children, and specs by type.
struct child_counts {
  std::uint32_t specs = 0;
  std::uint32_t active = 0;
  std::uint32_t supervisors = 0;
  std::uint32_t workers = 0;
  friend bool operator==(const child_counts&, const child_counts&) = default;
};

/// Step: start this child, then report with `supervisor_core::start_result`. `spec` stays
/// valid until that call.
struct start_step {
  std::uint64_t key = 0;
  const child_spec* spec = nullptr;
};

struct stop_target {
  pid child;
  shutdown_policy shutdown;
  std::string id;        ///< the child's, for its `stopped` event
  std::uint64_t key = 0; ///< the same
  child_type type = child_type::worker;
  /// Where the child stands once stopped, and when its start is due (for its event).
  child_state then = child_state::stopped;
  time_point due{};
};

/// Step: stop these children, one after the other in the listed order (static children,
/// already in reverse start order), or all at once (dynamic children). A stop ends only
/// once the child is dead.
///
/// An `async` step (one child, stopped through the API under one_for_one or
/// simple_one_for_one) is not waited for: the driver sends the exit signal, arms the
/// shutdown timer and goes back to its mailbox, and tells the child's death with
/// `supervisor_core::child_stopped`. The rest of the job (a reply, a replace's start) waits
/// for that call, and the core serves other events meanwhile.
struct stop_step {
  std::vector<stop_target> targets;
  bool concurrently = false;
  bool async = false;
};

/// Step: send `value` as the reply to the request whose reply tag is `to`.
struct reply_step {
  term to;
  term value;
};

using step = std::variant<start_step, stop_step, reply_step>;

/// A call of the supervisor API, decoded.
struct request {
  enum class kind : std::uint8_t {
    which_children,
    count_children,
    start_child,
    terminate_child,
    restart_child,
    delete_child,
    replace_child, ///< stop the child `spec.id`, give it `spec`, start it again
    update_child,  ///< give the child `spec.id` its `spec`; its process is left alone
    update_flags,  ///< the supervisor's own strategy, intensity, ... (and template) from `flags`
  };
  kind what = kind::which_children;
  std::string id;                 ///< terminate/restart/delete by id
  std::optional<pid> child;       ///< terminate by pid (dynamic children)
  std::optional<child_spec> spec; ///< start_child, replace_child, update_child
  std::optional<term> args;       ///< start_child from the simple_one_for_one template
  /// update_flags: the new flags; `children` only matters for simple_one_for_one (the
  /// template), a static supervisor's children change one by one.
  std::optional<supervisor_spec> flags;
  /// start_child of a static supervisor: the new child takes its place in the start order
  /// just before the child of this id (a reload inserting a child in the middle); empty
  /// appends it.
  std::string before;
};

/// A supervisor's decisions, without the process: OTP's supervisor as a state machine that
/// takes events (a child exited at t, the timer fired at t, an API request) and produces
/// steps for a driver (start child, stop children, reply). It never reads a clock or
/// touches a process, so tests drive it with a fake clock and a fake driver.
///
/// Protocol: after each event call `next()` until it returns nothing, executing each step;
/// after a start step, report the outcome with `start_result` before calling `next()`
/// again. Events may only be given while idle (after `next()` returned nothing). An async
/// stop step leaves the core idle: its end is one more event, `child_stopped`. Once
/// `exiting()` and idle, the driver ends its pending async stops, then the supervisor with
/// `exit_reason()`.
class supervisor_core {
public:
  /// A uniform sample from [0, 1), for backoff jitter; empty means always 0.5 (no jitter).
  using random_source = std::function<double()>;

  /// `spec` must have passed `validate`. `path` names the supervisor in its events: "root"
  /// for a root, its parent's path + "/" + its id for a nested one.
  explicit supervisor_core(supervisor_spec spec, random_source random = {},
                           std::string path = "root");

  // -- events ----------------------------------------------------------------------------

  /// Starts the children in order. A failed start stops those started, in reverse, and
  /// exits with {:shutdown, {:failed_to_start_child, id, reason}}; see `start_error`.
  void start(time_point now);
  /// A child's EXIT; false if `child` is not a current child (a stale or foreign pid).
  bool child_exited(pid child, const term& reason, time_point now);
  /// Restarts whose time has come (see `next_deadline`).
  void timer(time_point now);
  /// An API call; the reply goes to `reply_to`, after the steps it needs.
  void handle(const request& req, term reply_to, time_point now);
  /// Stops every child (in reverse order) and exits with `reason`: the parent's EXIT, a stop
  /// request, escalation. Pending restarts are dropped.
  void shutdown(term reason);
  /// A child's `{:"$vigil_ready", pid, status}` (readiness.hpp): a child still starting is
  /// ready, and the starts its gate held go on. False if `child` is no child waited for.
  bool child_ready(pid child, const term& status, time_point now);
  /// A child's `{:"$vigil_waiting", pid, detail}`: what it says it waits for, shown in
  /// which_children. False if `child` is no child waited for.
  bool child_waiting(pid child, std::string detail);
  /// A child an async stop step stopped is dead, with `reason` (its DOWN's): its `stopped`
  /// event goes out, and the rest of the stop's job and the calls that waited for it go on.
  /// False if no async stop of `child` is pending. Also while exiting: the driver finishes
  /// its pending stops before the supervisor exits.
  bool child_stopped(pid child, const term& reason, time_point now);

  // -- steps -----------------------------------------------------------------------------

  /// The next step, or nothing once idle.
  [[nodiscard]] std::optional<step> next();
  /// The outcome of the last start step; `now` is when the child came up.
  void start_result(result<pid> started, time_point now);

  // -- state -----------------------------------------------------------------------------

  [[nodiscard]] bool idle() const noexcept { return ops_.empty() && awaiting_ == 0; }

  [[nodiscard]] bool exiting() const noexcept { return exiting_; }

  [[nodiscard]] const term& exit_reason() const noexcept { return exit_reason_; }

  /// The initial start is not over: a child it started is not ready yet. The supervisor
  /// process acknowledges its start only after, so a parent's start order follows readiness
  /// all the way down.
  [[nodiscard]] bool initializing() const noexcept;

  /// It exits because a restart went over its intensity (not asked to, nor auto_shutdown).
  [[nodiscard]] bool gave_up() const noexcept { return gave_up_; }

  /// What happened to the children since the last call, oldest first (see child_event). A
  /// stop's `stopped` events come with its step, so a driver that takes them after it
  /// carried out the step tells them once the children are dead.
  [[nodiscard]] std::vector<child_event> take_events() { return std::exchange(events_, {}); }

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// Why the initial start failed, naming the child.
  [[nodiscard]] const std::optional<error>& start_error() const noexcept { return start_error_; }

  /// When `timer` has work: the earliest pending restart or readiness deadline (possibly
  /// already past).
  [[nodiscard]] std::optional<time_point> next_deadline() const;
  [[nodiscard]] std::vector<child_info> which_children(time_point now) const;
  [[nodiscard]] child_counts count_children() const;

  /// The flags. A static supervisor's children move into its entries at `start` (see
  /// `which_children`); a simple_one_for_one supervisor's keep its template.
  [[nodiscard]] const supervisor_spec& spec() const noexcept { return spec_; }

private:
  enum class job_kind : std::uint8_t { none, init, restart, api_start, api_restart };

  struct entry {
    std::uint64_t key = 0;
    child_spec spec;
    std::optional<pid> process;
    child_state state = child_state::stopped;
    time_point started_at{};
    time_point restart_at{};
    std::uint32_t backoff_count = 0;
    bool retry = false;  ///< when due, a failed start counts as a new restart
    bool queued = false; ///< a start for it is queued
    /// on_max_restarts = hold: its own restart budget, how often it was held in a row,
    /// why, and whether it is being retried from failed.
    restart_intensity window{0, milliseconds{1}};
    std::uint32_t holds = 0;
    std::string reason;
    bool from_failed = false;
    /// Stopped for good by an exit status of no_restart_exit_codes: that exit reason.
    std::string stop_reason;
  };

  struct start_op {
    std::uint64_t key = 0;
  };

  /// A gated child not ready in time: its failed start is decided once it has been killed,
  /// so that its `stopped` event comes before the decision.
  struct not_ready_op {
    std::uint64_t key = 0;
    term reason;
    time_point at{};
  };

  /// A temporary or dynamic child stopped through the API: forgotten once it is dead.
  struct forget_op {
    std::uint64_t key = 0;
  };

  using op = std::variant<start_op, stop_step, reply_step, not_ready_op, forget_op>;

  /// A started child that is not ready yet (docs/readiness.md): the starts of its job wait
  /// behind it, out of `ops_`, so the supervisor stays idle and serves calls and exits.
  struct gate {
    std::uint64_t key = 0;
    pid process;
    time_point deadline{};
    std::string waiting_for;
    job_kind job{};
    term reply_to;
    std::deque<op> held; ///< the rest of its job, in order
  };

  /// A child whose async stop is pending (stop_step::async): the rest of its job waits
  /// behind it, out of `ops_`, as behind a gate; calls that name it wait in `deferred_`.
  struct stopping {
    stop_target target;
    job_kind job{};
    term reply_to;
    std::deque<op> held;
  };

  /// A call that names a child being stopped: handled once that stop is over, as if it
  /// had waited in the supervisor's mailbox (OTP's terminate_child is synchronous).
  struct deferred_call {
    request req;
    term reply_to;
  };

  [[nodiscard]] bool dynamic() const noexcept { return spec_.how == strategy::simple_one_for_one; }

  /// A restart time and the child it is for; stale ones are skipped when they surface.
  using deadline = std::pair<time_point, std::uint64_t>;

  entry* find_key(std::uint64_t key);
  entry* find_pid(pid p);
  entry* find_id(const std::string& id);
  void erase_key(std::uint64_t key);
  std::uint64_t add(child_spec spec);
  std::uint64_t insert_before(child_spec spec, std::uint64_t before);
  void set_running(entry& c, pid p);
  /// An exit of a running child that was ready (reason after the exit-code policy);
  /// `final_exit`: not restarted whatever its restart type.
  bool child_ended(entry* c, pid child, const term& reason, bool final_exit, time_point now);
  void clear_running(entry& c);
  void wait_until(entry& c, child_state state, time_point at);
  [[nodiscard]] static bool waiting(const entry& c) noexcept;
  void queue_start(entry& c);
  void reply(term to, term value);
  [[nodiscard]] std::vector<std::uint64_t> group_of(const entry& c) const;
  /// `async`: a single child stopped through the API, see `async_stops`.
  void stop_keys(const std::vector<std::uint64_t>& keys, bool async = false);

  /// Stops through the API are async under one_for_one and simple_one_for_one: no sibling
  /// stop or restart depends on them there. A group strategy's order (semantics 23) keeps
  /// them synchronous, as does the supervisor's own shutdown.
  [[nodiscard]] bool async_stops() const noexcept {
    return !exiting_
           && (spec_.how == strategy::one_for_one || spec_.how == strategy::simple_one_for_one);
  }

  /// The async stop of `key` or of `process`, if one is pending.
  [[nodiscard]] const stopping* stopping_of(std::uint64_t key) const;
  [[nodiscard]] stopping* stopping_pid(pid process);
  /// A call that must wait for a pending stop (it names the child being stopped, or it
  /// changes the flags that decided the stop was async): kept in `deferred_`.
  bool defer(const request& req, term& reply_to);
  [[nodiscard]] bool blocked(const request& req);
  void dispatch(const request& req, term reply_to, time_point now);
  /// Hands the first deferred call no stop holds any more to `dispatch`; false if none.
  bool release_deferred();
  void tell_stopped(const stop_target& t, child_state then, term reason);

  [[nodiscard]] bool holding() const noexcept {
    return spec_.on_max_restarts == max_restarts_action::hold;
  }

  [[nodiscard]] const backoff_policy* backoff_of(const entry& c) const noexcept {
    return c.spec.backoff ? &*c.spec.backoff
                          : (spec_.default_backoff ? &*spec_.default_backoff : nullptr);
  }

  void emit(child_event::kind what, const entry& c, std::optional<pid> process,
            term reason = term());
  /// Tells that `c`, not running, now stands in its state without an exit or a decision.
  void tell_state(const entry& c);
  void report(const entry& c, std::optional<pid> process, term reason, exit_report::decision what,
              milliseconds delay = milliseconds{0});
  /// Holds `c` as failed for `reason` and schedules its retry.
  void hold(entry& c, std::optional<pid> process, const term& reason, time_point now);
  void begin_restart(std::uint64_t key, time_point now, std::optional<pid> process = {},
                     const term& reason = term());
  /// Restarts `group` at `at`; `decided` is the child whose decision was told with `at`.
  void restart_group(const std::vector<std::uint64_t>& group, time_point at, time_point now,
                     std::uint64_t decided);
  void check_auto_shutdown();
  void start_failed(entry& c, const error& why, time_point now);
  void fail_init(const entry& c, const error& why);

  // Readiness (core_ready.cpp).
  /// After a start: true if `c` must say it is ready first; the rest of the job waits.
  bool open_gate(entry& c, pid p, time_point now);
  [[nodiscard]] gate* gate_of(std::uint64_t key);
  /// The gate's job is current again, its held starts queued again: for the failed start.
  entry* resume_gate(std::uint64_t key);
  /// The supervisor stops a child that was not ready yet: its gate goes, and the starts it
  /// held are due at once (a restart of a group queues them again in order).
  void drop_gate(std::uint64_t key);
  /// A gated child that exited or timed out is a failed start.
  void fail_gate(std::uint64_t key, const term& reason, time_point now);
  /// Gates whose ready_timeout passed.
  bool expire_gates(time_point now);
  [[nodiscard]] std::string waiting_for(std::uint64_t key) const;
  [[nodiscard]] std::optional<time_point> ready_deadline() const;
  [[nodiscard]] std::optional<time_point> next_restart() const;
  /// Exit-code policy: what an OS child's exit reason means to its restart.
  [[nodiscard]] static term effective_reason(const entry& c, const term& reason);
  [[nodiscard]] static bool prevents_restart(const entry& c, const term& reason);

  void start_child(const request& req, term reply_to);
  void terminate_child(const request& req, term reply_to);
  /// The stopped static child `req.id` names, or nullptr after replying why there is none
  /// (a simple_one_for_one supervisor, no such child, running, or restarting).
  entry* stopped_child(const request& req, term& reply_to);
  void restart_child(const request& req, term reply_to);
  void delete_child(const request& req, term reply_to);
  [[nodiscard]] std::optional<term> refuse_spec_change(const request& req);
  void replace_child(const request& req, term reply_to);
  void update_child(const request& req, term reply_to);
  void update_flags(const request& req, term reply_to);

  supervisor_spec spec_;
  std::optional<child_spec> template_; ///< simple_one_for_one
  random_source random_;
  restart_intensity intensity_;
  std::map<std::uint64_t, entry> children_; ///< by key: keys grow, so in start order
  std::map<pid, std::uint64_t> by_pid_;     ///< running children
  mutable std::priority_queue<deadline, std::vector<deadline>, std::greater<>> deadlines_;
  std::uint64_t next_key_ = 1;

  std::deque<op> ops_;
  std::vector<gate> gates_;
  std::vector<stopping> stops_;
  std::deque<deferred_call> deferred_;
  time_point last_now_{}; ///< for deferred calls: when the stop they waited for ended
  job_kind job_ = job_kind::none;
  term reply_to_;
  std::uint64_t awaiting_ = 0;

  bool exiting_ = false;
  bool gave_up_ = false;
  term exit_reason_;
  std::optional<error> start_error_;
  std::string path_;
  std::vector<child_event> events_;
  bool told_gave_up_ = false;
};

} // namespace vigil::supervision
