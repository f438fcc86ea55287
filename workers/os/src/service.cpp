// SPDX-License-Identifier: Apache-2.0
// service_core, the OS-worker service: an OS child started for a spec (pipes, channel and
// environment, launch, port), spare channels kept ready, and children found by port, node
// and log key.
#include "vigil/os/credentials.hpp"
#include "vigil/os/exit_reason.hpp"
#include "vigil/os/reaper.hpp"
#include "vigil/term/text.hpp"
#include "vigil/worker_sdk/envelope.hpp"

#include "checks.hpp"
#include "notify.hpp"
#include "port.hpp"
#include "service_core.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

extern char** environ; // NOLINT: POSIX

namespace vigil::os {
namespace detail {
namespace {

constexpr std::size_t max_remembered_ports = 4096;
/// The channel descriptor in every OS child (VIGIL_CHANNEL_FD).
constexpr int channel_fd = 3;
/// The eventfd that wakes the daemon's reader, in every OS child (VIGIL_WAKE_FD).
constexpr int wake_fd = 4;

/// Whether `l` asks for a limit: "infinity" for pids asks for none (limits.pids).
bool asks_limits(const supervision::cgroup_limits& l) {
  return l.memory || l.memory_high || l.cpus
         || (l.pids && *l.pids != supervision::resource_limit::unlimited);
}

error system_error(std::string context) {
  int err = errno;
  return error{std::error_code(err, std::system_category()),
               std::move(context) + ": " + std::strerror(err)};
}

struct pipe_pair {
  unique_fd read;
  unique_fd write;
};

result<pipe_pair> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return system_error("unable to make a pipe");
  }
  pipe_pair p{unique_fd(fds[0]), unique_fd(fds[1])};
  ::fcntl(p.read.get(), F_SETFL, O_NONBLOCK);
  return p;
}

void set_var(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  for (auto& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=') {
      kv = key + "=" + value;
      return;
    }
  }
  env.push_back(key + "=" + value);
}

} // namespace

service_core::service_core(runtime& runtime_ref, service_options opts)
    : rt(runtime_ref), options(std::move(opts)), logs([this] {
        log_options l = options.logs;
        if (l.dir.empty()) {
          l.dir = default_log_dir();
        }
        return l;
      }()) {
  if (options.worker_program.empty()) {
    options.worker_program = default_worker_program();
  }
  // Interned before any frame arrives: the daemon's side never creates atoms for commands.
  (void)sdk::send_tag();
  (void)sdk::exit_tag();
  (void)sdk::main_tag();
  (void)os_exit_tag();
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    // vigild's own sd_notify socket (systemd's) is not its children's: each one that speaks
    // sd_notify gets its own.
    if (kv.starts_with("NOTIFY_SOCKET=") || kv.starts_with("WATCHDOG_USEC=")
        || kv.starts_with("WATCHDOG_PID=")) {
      continue;
    }
    base_env_.emplace_back(*e);
  }
  hooks_.rt = &rt;
  hooks_.route = [this](pid to, term message) { route(to, message); };
  hooks_.is_protected = options.is_protected;
  hooks_.attach_timeout = options.attach_timeout;
  refill_spares();
  reactor_ = std::make_unique<reactor>(
      rt,
      [this](const os_child& c, std::string_view stream, std::span<const std::string_view> lines) {
        on_lines(c, stream, lines);
      },
      [this](os_child& c) { on_exited(c); }, [this] { refill_spares(); }, options.reap_orphans);
}

service_core::~service_core() {
  reactor_.reset();
  if (notify_dir_made_) {
    std::error_code ec;
    std::filesystem::remove_all(notify_dir_, ec);
  }
}

result<std::string> service_core::notify_dir() {
  std::lock_guard lock(notify_mutex_);
  if (!notify_dir_.empty()) {
    return notify_dir_;
  }
  if (!options.notify_dir.empty()) {
    notify_dir_ = options.notify_dir.string();
    std::error_code ec;
    std::filesystem::create_directories(notify_dir_, ec);
    return notify_dir_;
  }
  std::string base;
  for (const char* var : {"RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"}) {
    const char* v = std::getenv(var); // NOLINT(concurrency-mt-unsafe): read, never written
    if (v != nullptr && *v == '/') {
      base = std::string(v).substr(0, std::string(v).find(':'));
      break;
    }
  }
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR"); // NOLINT(concurrency-mt-unsafe)
    base = ::geteuid() == 0 && ::access("/run", W_OK) == 0 ? "/run"
           : tmp != nullptr && *tmp == '/'                 ? tmp
                                                           : "/tmp";
  }
  std::string templ = base + "/vigil-notify.XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return system_error("unable to make a directory for notify sockets under " + base);
  }
  // Searchable by children that run as another user; listable and writable by no one else.
  (void)::chmod(templ.c_str(), 0711);
  notify_dir_ = templ;
  notify_dir_made_ = true;
  return notify_dir_;
}

result<void> service_core::setup_notify(const supervision::child_spec& spec, os_child& c,
                                        launch_parts& parts) {
  if (spec.ready.kind != supervision::probe_kind::notify && spec.watchdog.count() <= 0) {
    return {};
  }
  auto dir = notify_dir();
  if (!dir) {
    return dir.error();
  }
  c.notify_path = *dir + "/" + std::to_string(c.node) + ".sock";
  auto fd = open_notify_socket(c.notify_path);
  if (!fd) {
    return fd.error();
  }
  c.notify_fd = std::move(*fd);
  set_var(parts.spec.env, "NOTIFY_SOCKET", c.notify_path);
  if (spec.watchdog.count() > 0) {
    // No WATCHDOG_PID: the pid is known only after the launch, and without it sd_notify's
    // libraries accept the watchdog for any process of the child.
    set_var(parts.spec.env, "WATCHDOG_USEC", std::to_string(spec.watchdog.count() * 1000));
  }
  return {};
}

std::vector<std::string> service_core::environment(const supervision::child_spec& spec,
                                                   const std::optional<credentials>& creds,
                                                   std::uint32_t node) const {
  std::vector<std::string> env = base_env_;
  if (creds && !spec.os.user.empty()) {
    auto who = lookup_user(creds->uid);
    if (!who.name.empty()) {
      set_var(env, "USER", who.name);
      set_var(env, "LOGNAME", who.name);
      set_var(env, "HOME", who.home);
    }
  }
  for (const auto& [key, value] : spec.os.env) {
    set_var(env, key, value);
  }
  set_var(env, "VIGIL_CHANNEL_FD", std::to_string(channel_fd));
  set_var(env, "VIGIL_WAKE_FD", std::to_string(wake_fd));
  set_var(env, "VIGIL_NODE", std::to_string(node));
  set_var(env, "VIGIL_WORKER_ID", spec.id);
  return env;
}

result<launch_parts> service_core::prepare(const supervision::child_spec& spec,
                                           std::uint32_t node) const {
  launch_parts parts;
  auto sig = parse_signal(spec.os.stop_signal.empty() ? "SIGTERM" : spec.os.stop_signal);
  if (!sig) {
    return error{make_error_code(errc::invalid_argument),
                 "unknown stop_signal '" + spec.os.stop_signal + "'"};
  }
  parts.stop_signal = *sig;
  if (spec.health.kind == supervision::probe_kind::log
      || spec.health.kind == supervision::probe_kind::notify) {
    return error{make_error_code(errc::invalid_argument),
                 "health: a check is tcp, http or exec (a notify child's liveness is its "
                 "watchdog)"};
  }
  for (const auto* probe : {&spec.ready, &spec.health}) {
    if (auto problem = probe_problem(*probe)) {
      return error{make_error_code(errc::invalid_argument), *problem};
    }
  }
  auto creds = resolve_credentials(spec.os.user, spec.os.group);
  if (!creds) {
    return creds.error();
  }
  auto& ls = parts.spec;
  if (spec.mode == "command") {
    if (spec.os.command.empty()) {
      return error{make_error_code(errc::invalid_argument), "empty command"};
    }
    ls.program = spec.os.command.front();
    ls.argv = spec.os.command;
    parts.program_label = spec.os.command.front();
  } else {
    parts.is_worker = true;
    ls.program = options.worker_program;
    ls.argv = {options.worker_program, "--kind", spec.kind};
    if (!spec.args.is(atoms::nil)) {
      ls.argv.insert(ls.argv.end(), {"--args", to_string(spec.args)});
    }
    for (const auto& plugin : options.plugins) {
      ls.argv.insert(ls.argv.end(), {"--plugin", plugin});
    }
    if (!options.strict_modes) {
      ls.argv.emplace_back("--insecure-paths");
    }
    parts.program_label = "vigil-worker " + spec.kind;
  }
  ls.env = environment(spec, *creds, node);
  ls.trusted_program_only = options.strict_modes && ::geteuid() == 0;
  ls.cwd = spec.os.cwd;
  ls.umask = spec.os.umask;
  ls.creds = *creds;
  ls.rlimits = options.rlimits;
  // The child's own limit replaces the service's for the same resource: set one after the
  // other, a hard limit the service lowered could not be raised again without privilege.
  for (const auto& [name, limit] : spec.os.rlimits) {
    auto resource = rlimit_resource(name);
    if (!resource) {
      return error{make_error_code(errc::invalid_argument),
                   "unknown resource limit '" + name + "'"};
    }
    std::erase_if(ls.rlimits, [&](const rlimit_setting& r) { return r.resource == *resource; });
    ls.rlimits.push_back({*resource, limit.soft, limit.hard});
  }
  return parts;
}

std::uint32_t service_core::count_start(pid sup, const std::string& id) {
  std::lock_guard lock(mutex_);
  if (starts_.size() > 100000) {
    starts_.clear(); // supervisors come and go; forget old ones rather than grow forever
  }
  auto& n = starts_[{sup, id}];
  return n++;
}

std::shared_ptr<atom_budget> service_core::atom_budget_for(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto& budget = atom_budgets_[id];
  if (!budget) {
    budget = std::make_shared<atom_budget>(worker_atoms_limit, &atom_budget::outside());
  }
  return budget;
}

result<std::shared_ptr<os_child>> service_core::make_child(const supervision::child_spec& spec,
                                                           std::uint32_t node) {
  auto ch = take_spare();
  if (!ch) {
    return ch.error();
  }
  auto c = std::make_shared<os_child>();
  c->node = node;
  c->grants.node = node;
  for (const auto& name : spec.os.may_send) {
    // Names come from the config, which the administrator wrote: interning them is safe.
    c->grants.names.emplace_back(name);
  }
  c->sdk_atoms = spec.mode != "command";
  if (c->sdk_atoms) {
    c->new_atoms = atom_budget_for(spec.id);
  }
  c->channel = std::move(*ch);
  // Non-blocking for both sides (the flag belongs to the open file, which the child shares):
  // the reactor drains it and a child that overflows it only gets EAGAIN.
  c->wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!c->wake) {
    return system_error("unable to make the channel's wake eventfd");
  }
  auto mem = c->channel.memory();
  c->handshake = reinterpret_cast<ipc::channel_header*>(mem.data());
  auto to = ipc::ring_view::attach(mem.subspan(c->handshake->to_attacher_offset));
  auto from = ipc::ring_view::attach(mem.subspan(c->handshake->to_creator_offset));
  if (!to || !from) {
    return !to ? to.error() : from.error();
  }
  c->to_view = *to;
  c->from_view = *from;
  c->to_worker = &to->header();
  c->from_worker = &from->header();
  return c;
}

result<pid> service_core::start(context& sup, const supervision::child_spec& spec) {
  std::uint32_t node = next_node_.fetch_add(1, std::memory_order_relaxed);
  auto parts = prepare(spec, node);
  if (!parts) {
    return parts.error();
  }
  auto made = make_child(spec, node);
  if (!made) {
    return made.error();
  }
  std::shared_ptr<os_child> c = std::move(*made);
  c->supervisor = sup.self();
  c->ready = spec.ready;
  c->health = spec.health;
  c->watchdog = spec.watchdog;
  {
    using supervision::probe_kind;
    auto& r = c->health_report; // not shared yet
    bool health_check = spec.health.kind == probe_kind::tcp || spec.health.kind == probe_kind::http
                        || spec.health.kind == probe_kind::exec;
    r.awaits_ready = spec.ready.kind != probe_kind::started;
    r.ready_check = describe(spec.ready);
    r.health_failures = health_check ? std::max<std::uint32_t>(1, spec.health.failures) : 0;
    r.health_check = health_check ? describe(spec.health) : std::string();
    r.checked = r.awaits_ready || health_check || spec.watchdog.count() > 0;
  }
  if (auto n = setup_notify(spec, *c, *parts); !n) {
    return n.error();
  }
  // Only an exec probe runs a command as the child: kept for every child, the copy of its
  // environment was about 3 KB of the daemon's heap per child.
  if (spec.ready.kind == supervision::probe_kind::exec
      || spec.health.kind == supervision::probe_kind::exec) {
    c->probe_launch = parts->spec;
  }
  auto out = make_pipe();
  if (!out) {
    return out.error();
  }
  auto err = make_pipe();
  if (!err) {
    return err.error();
  }
  parts->spec.fds = {-1, out->write.get(), err->write.get(), c->channel.fd(), c->wake.get()};
  std::vector<unique_fd> v1_procs; // open until the child has written itself into them
  std::vector<std::string> refused;
  if (options.cgroups) {
    auto cg = options.cgroups->make(spec.id + "-" + std::to_string(node), spec.os.limits);
    if (cg) {
      c->cgroup_path = std::move(cg->path);
      c->cgroup_dir = std::move(cg->dir);
      c->cgroup_v1 = std::move(cg->v1);
      v1_procs = std::move(cg->v1_procs);
      refused = std::move(cg->refused);
      parts->spec.cgroup_fd = c->cgroup_dir.get();
      // Exec probes start in it too, so that what they leave (setsid, double fork) is
      // killed with the child rather than left in vigild's own cgroup.
      c->probe_launch.cgroup_fd = c->cgroup_dir.get();
      for (const auto& fd : v1_procs) {
        parts->spec.v1_cgroup_procs.push_back(fd.get());
      }
    } else {
      refused.push_back(cg.error().message());
      if (options.on_warning) {
        options.on_warning(cg.error().message() + "; " + spec.id + " runs without one");
      }
    }
  } else if (asks_limits(spec.os.limits)) {
    refused.push_back("vigild runs without cgroups ([daemon] cgroup, and its warning at start)");
  }
  // Only the child's own limits are worth a warning: the default pids limit is skipped
  // quietly where it cannot be set (said once at start when configured).
  if (asks_limits(spec.os.limits) && !refused.empty()) {
    warn_limits_once(spec.id, refused);
  }
  {
    launch_guard guard;
    auto l = launch(parts->spec);
    if (c->cgroup_dir && !clone_into_cgroup_works() && options.on_warning
        && !clone3_warned_.exchange(true)) {
      options.on_warning("cgroups: clone3 with CLONE_INTO_CGROUP is not available here (refused "
                         "by the kernel or a seccomp filter, or not built in); each OS child "
                         "moves itself into its cgroup before exec instead");
    }
    v1_procs.clear();
    if (!l) {
      if (!c->cgroup_path.empty()) {
        (void)cgroup_tree::remove(c->cgroup_path);
        cgroup_tree::remove_v1(c->cgroup_v1);
      }
      return l.error();
    }
    adopt(l->pid);
    c->os_pid = l->pid;
    c->pidfd = std::move(l->pidfd);
  }
  out->write.reset();
  err->write.reset();
  c->started = std::chrono::steady_clock::now();
  c->key = options.log_key ? options.log_key(sup.self(), spec) : spec.id;
  c->log_lines_dropped = logs.lines_dropped_counter(c->key);
  c->program = parts->program_label;
  c->restarts = count_start(sup.self(), spec.id);

  port_setup setup{c, std::make_shared<port_lease>(c), sup.self(), parts->stop_signal,
                   spec.shutdown};
  spawn_options so{.trap_exit = true, .initial_call = "vigil:port/1"};
  auto port = sup.spawn_opt(so, port_process, std::move(setup));
  if (port) {
    c->port = *port;
    (void)sup.link(*port);
    std::lock_guard lock(mutex_);
    ports_[*port] = c;
    nodes_[node] = c;
  } else {
    c->signal_group(SIGKILL);
  }
  if (port) {
    remember_key(*port, c->key, c->os_pid);
  }
  pump_hooks hooks = hooks_;
  hooks.must_attach = parts->is_worker;
  reactor_->watch(c, std::move(out->read), std::move(err->read), std::move(hooks));
  if (!port) {
    return port.error();
  }
  return *port;
}

void service_core::warn_limits_once(const std::string& id, const std::vector<std::string>& why) {
  {
    std::lock_guard lock(mutex_);
    if (limits_warned_.size() > 10000 || !limits_warned_.insert(id).second) {
      return;
    }
  }
  if (options.on_warning) {
    std::string text = "cgroups: " + id + " runs without some of its limits:";
    for (const auto& w : why) {
      text += " " + w + ";";
    }
    text.back() = '.';
    options.on_warning(text + " Said once for this child (docs/os-workers.md, \"Limits\")");
  }
}

result<ipc::channel> service_core::new_channel() const {
  ipc::channel_options co;
  co.ring_capacity = options.ring_capacity;
  // The daemon never waits in the channel (the reactor polls its handshake and reads its
  // ring when the child's wake eventfd fires), so no liveness interval applies.
  co.liveness_interval = std::chrono::hours(24 * 365);
  co.prefault = false;
  return ipc::channel::create(co);
}

result<ipc::channel> service_core::take_spare() {
  {
    std::lock_guard lock(spare_mutex_);
    if (!spares_.empty()) {
      ipc::channel ch = std::move(spares_.back());
      spares_.pop_back();
      return ch;
    }
  }
  return new_channel();
}

void service_core::refill_spares() {
  for (;;) {
    {
      std::lock_guard lock(spare_mutex_);
      if (spares_.size() >= spare_channels) {
        return;
      }
    }
    auto ch = new_channel();
    if (!ch) {
      return;
    }
    std::lock_guard lock(spare_mutex_);
    spares_.push_back(std::move(*ch));
  }
}

void service_core::remember_key(pid port, const std::string& key, pid_t os_pid) {
  std::lock_guard lock(mutex_);
  port_keys_[port] = key;
  port_os_pids_[port] = os_pid;
  port_key_order_.push_back(port);
  if (port_key_order_.size() > max_remembered_ports) {
    port_keys_.erase(port_key_order_.front());
    port_os_pids_.erase(port_key_order_.front());
    port_key_order_.pop_front();
  }
}

void service_core::route(pid to, const term& message) {
  if (to.node == 0) {
    rt.send(to, message);
    return;
  }
  if (auto c = by_node(to.node)) {
    rt.send(c->port, make_route(to, message));
  }
}

std::shared_ptr<os_child> service_core::by_port(pid port) const {
  std::lock_guard lock(mutex_);
  auto it = ports_.find(port);
  return it == ports_.end() ? nullptr : it->second;
}

std::shared_ptr<os_child> service_core::by_node(std::uint32_t node) const {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : it->second.lock();
}

std::optional<std::string> service_core::key_of(pid port) const {
  std::lock_guard lock(mutex_);
  auto it = port_keys_.find(port);
  return it == port_keys_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::optional<pid_t> service_core::os_pid_of(pid port) const {
  std::lock_guard lock(mutex_);
  auto it = port_os_pids_.find(port);
  return it == port_os_pids_.end() ? std::nullopt : std::optional<pid_t>(it->second);
}

std::size_t service_core::live() const {
  return reactor_->watched();
}

void service_core::on_lines(const os_child& c, std::string_view stream,
                            std::span<const std::string_view> lines) {
  logs.append(c.key, stream, lines);
  if (options.on_line) {
    for (auto line : lines) {
      options.on_line(output_line{c.port, c.key, stream, line});
    }
  }
}

void service_core::on_exited(os_child& c) {
  std::lock_guard lock(mutex_);
  if (auto it = ports_.find(c.port); it != ports_.end() && it->second.get() == &c) {
    ports_.erase(it);
  }
  if (auto it = nodes_.find(c.node); it != nodes_.end()) {
    nodes_.erase(it);
  }
}

} // namespace detail
} // namespace vigil::os
