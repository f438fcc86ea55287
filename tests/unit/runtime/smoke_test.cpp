// SPDX-License-Identifier: Apache-2.0
#include "vigil/runtime/runtime.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace vigil {
namespace {

using namespace std::chrono_literals;

task<> echo(context& self) {
  for (;;) {
    auto m = co_await self.receive();
    if (m.message.is_tuple() && m.message.size() == 2 && m.message[0].is_pid()) {
      self.send(m.message[0].as_pid(), make_tuple(atoms::ok, atoms::pong));
    }
  }
}

TEST(RuntimeSmoke, EchoAnswersAMailbox) {
  runtime rt({.schedulers = 2});
  auto box = rt.make_mailbox();
  pid worker = rt.spawn(echo);
  EXPECT_TRUE(rt.alive(worker));
  rt.send(worker, make_tuple(box->self(), atoms::ok));
  auto reply = box->receive(5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply.message, make_tuple(atoms::ok, atoms::pong));
  rt.exit(worker, atoms::kill);
  box.reset();
}

} // namespace
} // namespace vigil
