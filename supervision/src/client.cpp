// SPDX-License-Identifier: Apache-2.0
// The supervisor API as calls (which_children, count_children; start, terminate, restart,
// delete, replace and update a child; update flags; stop), each from a process and from a
// mailbox: a request sent, its reply awaited with a timeout and read into a result.
#include "vigil/supervision/client.hpp"

#include "vigil/supervision/protocol.hpp"
#include "vigil/term/text.hpp"

#include "helper.hpp"

#include <array>
#include <span>
#include <system_error>

namespace vigil::supervision {
namespace {

error noproc(pid sup, const term& reason) {
  return error{make_error_code(errc::not_found),
               "supervisor " + to_string(term(sup)) + " is not alive (" + to_string(reason) + ")"};
}

error timed_out(pid sup) {
  return error{std::make_error_code(std::errc::timed_out),
               "no reply from supervisor " + to_string(term(sup))};
}

result<pid> pid_reply(result<term> r, std::string_view what) {
  if (!r) {
    return r.error();
  }
  const term& t = *r;
  if (t.is_tuple() && t.size() == 2 && t[0].is(atoms::ok) && t[1].is_pid()) {
    return t[1].as_pid();
  }
  return protocol::reply_error(t.is_tuple() && t.size() == 2 ? t[1] : t, what);
}

result<void> ok_reply(result<term> r, std::string_view what) {
  if (!r) {
    return r.error();
  }
  if (r->is(atoms::ok)) {
    return {};
  }
  const term& t = *r;
  return protocol::reply_error(t.is_tuple() && t.size() == 2 ? t[1] : t, what);
}

request make(request::kind what, std::string id = {}) {
  request req;
  req.what = what;
  req.id = std::move(id);
  return req;
}

} // namespace

task<result<term>> call(context& self, pid sup, request req, timeout after) {
  reference ref = self.monitor(sup);
  self.send(sup, vigil::make_tuple(protocol::call_tag(), self.self(), ref, protocol::encode(req)));
  const std::array<pattern, 2> clauses{pattern::tuple({term(ref), pattern::bind("reply")}),
                                       pattern::tuple({atoms::down, term(ref), pattern::any(),
                                                       pattern::any(), pattern::bind("reason")})};
  auto r = co_await self.receive(std::span<const pattern>(clauses), after);
  if (!r) {
    self.demonitor(ref, true);
    co_return timed_out(sup);
  }
  if (r.clause == 1) {
    co_return noproc(sup, r[0]);
  }
  self.demonitor(ref, true);
  co_return r[0];
}

result<term> call(mailbox& caller, pid sup, request req, timeout after) {
  return detail::run_helper<term>(caller, [sup, req = std::move(req), after](context& self) {
    return call(self, sup, req, after);
  });
}

task<result<std::vector<child_info>>> which_children(context& self, pid sup, timeout after) {
  auto r = co_await call(self, sup, make(request::kind::which_children), after);
  if (!r) {
    co_return r.error();
  }
  co_return protocol::children_from_term(*r);
}

result<std::vector<child_info>> which_children(mailbox& caller, pid sup, timeout after) {
  auto r = call(caller, sup, make(request::kind::which_children), after);
  if (!r) {
    return r.error();
  }
  return protocol::children_from_term(*r);
}

task<result<child_counts>> count_children(context& self, pid sup, timeout after) {
  auto r = co_await call(self, sup, make(request::kind::count_children), after);
  if (!r) {
    co_return r.error();
  }
  co_return protocol::counts_from_term(*r);
}

result<child_counts> count_children(mailbox& caller, pid sup, timeout after) {
  auto r = call(caller, sup, make(request::kind::count_children), after);
  if (!r) {
    return r.error();
  }
  return protocol::counts_from_term(*r);
}

namespace {

request start_spec(child_spec spec) {
  request req = make(request::kind::start_child);
  req.spec = std::move(spec);
  return req;
}

request start_before(child_spec spec, std::string before_id) {
  request req = start_spec(std::move(spec));
  req.before = std::move(before_id);
  return req;
}

request start_args(term args) {
  request req = make(request::kind::start_child);
  req.args = std::move(args);
  return req;
}

request terminate_pid(pid child) {
  request req = make(request::kind::terminate_child);
  req.child = child;
  return req;
}

} // namespace

task<result<pid>> start_child(context& self, pid sup, child_spec spec, std::string before_id,
                              timeout after) {
  auto req = start_before(std::move(spec), std::move(before_id));
  co_return pid_reply(co_await call(self, sup, std::move(req), after), "start_child");
}

result<pid> start_child(mailbox& caller, pid sup, child_spec spec, std::string before_id,
                        timeout after) {
  auto req = start_before(std::move(spec), std::move(before_id));
  return pid_reply(call(caller, sup, std::move(req), after), "start_child");
}

task<result<pid>> start_child(context& self, pid sup, child_spec spec, timeout after) {
  co_return pid_reply(co_await call(self, sup, start_spec(std::move(spec)), after), "start_child");
}

result<pid> start_child(mailbox& caller, pid sup, child_spec spec, timeout after) {
  return pid_reply(call(caller, sup, start_spec(std::move(spec)), after), "start_child");
}

task<result<pid>> start_dynamic_child(context& self, pid sup, term args, timeout after) {
  co_return pid_reply(co_await call(self, sup, start_args(std::move(args)), after), "start_child");
}

result<pid> start_dynamic_child(mailbox& caller, pid sup, term args, timeout after) {
  return pid_reply(call(caller, sup, start_args(std::move(args)), after), "start_child");
}

task<result<void>> terminate_child(context& self, pid sup, std::string id, timeout after) {
  auto req = make(request::kind::terminate_child, id);
  co_return ok_reply(co_await call(self, sup, std::move(req), after), "terminate_child " + id);
}

result<void> terminate_child(mailbox& caller, pid sup, std::string id, timeout after) {
  auto req = make(request::kind::terminate_child, id);
  return ok_reply(call(caller, sup, std::move(req), after), "terminate_child " + id);
}

task<result<void>> terminate_child(context& self, pid sup, pid child, timeout after) {
  co_return ok_reply(co_await call(self, sup, terminate_pid(child), after), "terminate_child");
}

result<void> terminate_child(mailbox& caller, pid sup, pid child, timeout after) {
  return ok_reply(call(caller, sup, terminate_pid(child), after), "terminate_child");
}

task<result<pid>> restart_child(context& self, pid sup, std::string id, timeout after) {
  auto req = make(request::kind::restart_child, id);
  co_return pid_reply(co_await call(self, sup, std::move(req), after), "restart_child " + id);
}

result<pid> restart_child(mailbox& caller, pid sup, std::string id, timeout after) {
  auto req = make(request::kind::restart_child, id);
  return pid_reply(call(caller, sup, std::move(req), after), "restart_child " + id);
}

task<result<void>> delete_child(context& self, pid sup, std::string id, timeout after) {
  auto req = make(request::kind::delete_child, id);
  co_return ok_reply(co_await call(self, sup, std::move(req), after), "delete_child " + id);
}

result<void> delete_child(mailbox& caller, pid sup, std::string id, timeout after) {
  auto req = make(request::kind::delete_child, id);
  return ok_reply(call(caller, sup, std::move(req), after), "delete_child " + id);
}

namespace {

request with_spec(request::kind what, child_spec spec) {
  request req = make(what, spec.id);
  req.spec = std::move(spec);
  return req;
}

request with_flags(supervisor_spec flags) {
  request req = make(request::kind::update_flags);
  if (flags.how != strategy::simple_one_for_one) {
    flags.children.clear(); // not needed, and a big tree would make a big message
  }
  req.flags = std::move(flags);
  return req;
}

} // namespace

task<result<pid>> replace_child(context& self, pid sup, child_spec spec, timeout after) {
  std::string what = "replace_child " + spec.id;
  auto req = with_spec(request::kind::replace_child, std::move(spec));
  co_return pid_reply(co_await call(self, sup, std::move(req), after), what);
}

result<pid> replace_child(mailbox& caller, pid sup, child_spec spec, timeout after) {
  std::string what = "replace_child " + spec.id;
  auto req = with_spec(request::kind::replace_child, std::move(spec));
  return pid_reply(call(caller, sup, std::move(req), after), what);
}

task<result<void>> update_child(context& self, pid sup, child_spec spec, timeout after) {
  std::string what = "update_child " + spec.id;
  auto req = with_spec(request::kind::update_child, std::move(spec));
  co_return ok_reply(co_await call(self, sup, std::move(req), after), what);
}

result<void> update_child(mailbox& caller, pid sup, child_spec spec, timeout after) {
  std::string what = "update_child " + spec.id;
  auto req = with_spec(request::kind::update_child, std::move(spec));
  return ok_reply(call(caller, sup, std::move(req), after), what);
}

task<result<void>> update_flags(context& self, pid sup, supervisor_spec flags, timeout after) {
  co_return ok_reply(co_await call(self, sup, with_flags(std::move(flags)), after), "update_flags");
}

result<void> update_flags(mailbox& caller, pid sup, supervisor_spec flags, timeout after) {
  return ok_reply(call(caller, sup, with_flags(std::move(flags)), after), "update_flags");
}

task<result<void>> stop_supervisor(context& self, pid sup, term reason, timeout after) {
  reference ref = self.monitor(sup);
  self.send(sup, vigil::make_tuple(protocol::call_tag(), self.self(), ref,
                                   vigil::make_tuple(protocol::stop_tag(), std::move(reason))));
  const auto down = pattern::tuple(
      {atoms::down, term(ref), pattern::any(), pattern::any(), pattern::bind("reason")});
  auto r = co_await self.receive(down, after);
  if (!r) {
    self.demonitor(ref, true);
    co_return timed_out(sup);
  }
  if (r[0].is(atoms::noproc)) {
    co_return noproc(sup, r[0]);
  }
  co_return result<void>{};
}

result<void> stop_supervisor(mailbox& caller, pid sup, term reason, timeout after) {
  return detail::run_helper<void>(caller, [sup, reason, after](context& self) {
    return stop_supervisor(self, sup, reason, after);
  });
}

} // namespace vigil::supervision
