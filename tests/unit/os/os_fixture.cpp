// SPDX-License-Identifier: Apache-2.0
#include "os_fixture.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace vigil::os::test {

os_test::os_test() {
  char tmpl[] = "/tmp/vigil-os-test-XXXXXX";
  dir = ::mkdtemp(tmpl);
  ::chmod(dir.c_str(), 0755); // the privilege-drop test's child writes nothing here
  opts.logs.dir = dir / "logs";
  opts.worker_program = VIGIL_WORKER_BIN;
  box = rt.make_mailbox();
}

std::string os_test::reachable_copy(const std::string& program) {
  auto copy = dir / std::filesystem::path(program).filename();
  std::error_code ec;
  std::filesystem::copy_file(program, copy, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec || ::chmod(copy.c_str(), 0755) != 0) {
    return {};
  }
  // Every directory above the copy must let others through.
  for (auto d = copy.parent_path(); !d.empty() && d != d.root_path(); d = d.parent_path()) {
    struct stat st {};

    if (::stat(d.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) {
      return {};
    }
  }
  return copy.string();
}

os_test::~os_test() {
  for (pid sup : roots_) {
    (void)supervision::stop_supervisor(*box, sup, atoms::shutdown, 30s);
  }
  box.reset();
  rt.shutdown();
  svc_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

service& os_test::svc() {
  if (!svc_) {
    opts.router = router;
    svc_ = std::make_unique<service>(rt, opts);
  }
  return *svc_;
}

supervision::child_spec os_test::command(std::string id, std::vector<std::string> args) {
  supervision::child_spec c;
  c.id = std::move(id);
  c.mode = "command";
  c.os.command = {test_child};
  c.os.command.insert(c.os.command.end(), args.begin(), args.end());
  c.shutdown = supervision::shutdown_policy::after(5000ms);
  return c;
}

supervision::child_spec os_test::process(std::string id, std::string kind, term args) {
  supervision::child_spec c;
  c.id = std::move(id);
  c.mode = "process";
  c.kind = std::move(kind);
  c.args = std::move(args);
  c.shutdown = supervision::shutdown_policy::after(5000ms);
  return c;
}

result<pid> os_test::try_start_tree(std::vector<supervision::child_spec> children,
                                    std::uint32_t intensity) {
  supervision::supervisor_spec spec;
  spec.name = "root";
  spec.intensity = intensity;
  spec.period = 5000ms;
  spec.children = std::move(children);
  auto sup = supervision::start_supervisor(
      *box, std::move(spec), workers::make_child_factory(kinds, svc()), {.link = false});
  if (sup) {
    roots_.push_back(*sup);
  }
  return sup;
}

pid os_test::start_tree(std::vector<supervision::child_spec> children, std::uint32_t intensity) {
  auto sup = try_start_tree(std::move(children), intensity);
  EXPECT_TRUE(sup) << (sup ? "" : sup.error().message());
  return sup ? *sup : pid{};
}

pid os_test::child_pid(pid sup, const std::string& id) {
  auto rows = supervision::which_children(*box, sup);
  if (!rows) {
    return {};
  }
  for (const auto& row : *rows) {
    if (row.id == id) {
      return row.process.value_or(pid{});
    }
  }
  return {};
}

pid os_test::restarted(pid sup, const std::string& id, pid old) {
  pid now{};
  EXPECT_TRUE(eventually([&] {
    now = child_pid(sup, id);
    return now != pid{} && now != old;
  })) << "child "
      << id << " was not restarted";
  return now;
}

pid os_test::start_linked(const supervision::child_spec& spec) {
  box->ctx().trap_exit(true);
  auto port = svc().start(box->ctx(), spec);
  EXPECT_TRUE(port) << (port ? "" : port.error().message());
  return port ? *port : pid{};
}

term os_test::exit_reason(pid port) {
  auto m = box->receive(pattern::tuple({atoms::exit, term(port), pattern::bind("reason")}), guard);
  EXPECT_TRUE(m) << "the port did not exit";
  return m ? m[0] : term();
}

std::optional<std::string> os_test::line_with(const std::string& key, const std::string& text) {
  std::optional<std::string> found;
  eventually([&] {
    for (const auto& e : svc().logs(key, 100000)) {
      if (e.line.find(text) != std::string::npos) {
        found = e.line;
        return true;
      }
    }
    return false;
  });
  return found;
}

pid_t os_test::os_pid(pid port) {
  auto info = svc().info(port);
  EXPECT_TRUE(info) << "no port info";
  return info ? info->os_pid : 0;
}

bool gone(pid_t p) {
  return ::access(("/proc/" + std::to_string(p)).c_str(), F_OK) != 0;
}

int zombie_children() {
  int zombies = 0;
  DIR* d = ::opendir("/proc");
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') {
      continue;
    }
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos || close + 4 >= text.size()) {
      continue;
    }
    char state = text[close + 2];
    long ppid = std::strtol(text.c_str() + close + 4, nullptr, 10);
    zombies += state == 'Z' && ppid == ::getpid() ? 1 : 0;
  }
  ::closedir(d);
  return zombies;
}

int open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d)) {
    n += e->d_name[0] != '.' ? 1 : 0;
  }
  ::closedir(d);
  return n - 1; // the directory's own descriptor
}

} // namespace vigil::os::test
