// SPDX-License-Identifier: Apache-2.0
// Worker kinds in vigil-worker (mode = "process") and SDK programs: messages both ways,
// exit reasons, plugins, node pids and routing, a child that corrupts its channel.
#include "vigil/worker_sdk/envelope.hpp"
#include "vigil/workers/plugin.hpp"

#include "os_fixture.hpp"

#include <cstdlib>

namespace vigil::os::test {
namespace {

using ProcessMode = os_test;
using Sdk = os_test;

class Plugins : public os_test {
public:
  Plugins() {
    opts.plugins = {VIGIL_GREETER_PLUGIN, VIGIL_WHOAMI_PLUGIN};
    for (const auto& p : opts.plugins) {
      auto loaded = workers::load_plugin(p, kinds);
      EXPECT_TRUE(loaded) << (loaded ? "" : loaded.error().message());
    }
  }
};

/// Sends {self, what} to `to` and returns the reply.
term ask(os_test& t, pid to, const term& what) {
  t.box->ctx().send(to, vigil::make_tuple(t.me_pid(), what));
  auto r = t.box->receive(os_test::guard);
  EXPECT_TRUE(r) << "no answer";
  return r.message;
}

TEST_F(ProcessMode, AKindRunsInVigilWorkerAndAnswersThroughItsPort) {
  pid sup = start_tree({process("echo", "echo")});
  pid port = child_pid(sup, "echo");
  EXPECT_EQ(ask(*this, port, atoms::ping), vigil::make_tuple(atoms::ok, atoms::pong));
  EXPECT_EQ(ask(*this, port, atoms::ping), vigil::make_tuple(atoms::ok, atoms::pong));
  auto info = svc().info(port);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->attached);
  EXPECT_EQ(info->sent, 2U);
  // Its {:ready, ""} once the kind had started (docs/worker-sdk.md, "Readiness"), then the
  // two answers.
  EXPECT_EQ(info->received, 3U);
  EXPECT_EQ(info->program, "vigil-worker echo");
}

TEST_F(ProcessMode, TheWorkersExitReasonBecomesThePorts) {
  pid port = start_linked(process("crasher", "crasher"));
  EXPECT_EQ(ask(*this, port, atoms::ping), vigil::make_tuple(atoms::ok, atoms::pong));
  box->ctx().send(port, atom("crash"));
  EXPECT_EQ(exit_reason(port), term(atom("crashed")));
}

TEST_F(ProcessMode, AKilledWorkerIsRestartedAndAnswersAgain) {
  pid sup = start_tree({process("echo", "echo", term::map({{atom("delay"), 1}}))});
  pid port = child_pid(sup, "echo");
  ASSERT_EQ(ask(*this, port, atoms::ping), vigil::make_tuple(atoms::ok, atoms::pong));
  ASSERT_EQ(::kill(os_pid(port), SIGKILL), 0);
  pid port2 = restarted(sup, "echo", port);
  EXPECT_EQ(ask(*this, port2, atoms::ping), vigil::make_tuple(atoms::ok, atoms::pong));
}

TEST(WorkerProgram, AProgramRunFromTheBuildTreeFindsTheTreesVigilWorker) {
  if (std::getenv("VIGIL_WORKER_PROGRAM") != nullptr) {
    GTEST_SKIP() << "VIGIL_WORKER_PROGRAM is set";
  }
  EXPECT_EQ(default_worker_program(), VIGIL_WORKER_BIN);
}

TEST_F(ProcessMode, AnUnknownKindFailsBeforeAnythingStarts) {
  auto sup = try_start_tree({process("x", "no_such_kind")});
  ASSERT_FALSE(sup);
  EXPECT_NE(sup.error().context.find("unknown worker kind 'no_such_kind'"), std::string::npos);
}

TEST_F(Plugins, APluginKindRunsInTheWorkerWithItsAtoms) {
  pid port =
      start_linked(process("greeter", "greeter", term::map({{atom("greeting"), term("Dear")}})));
  EXPECT_EQ(ask(*this, port, term("Ann")), vigil::make_tuple(atom("hello"), term("Dear Ann")));
}

TEST_F(Plugins, WorkerPidsCarryTheNodeAndCanBeRoutedTo) {
  pid port = start_linked(process("who", "whoami"));
  auto me = ask(*this, port, atom("whoami"));
  ASSERT_TRUE(me.is_tuple() && me.size() == 2 && me[1].is_pid()) << me;
  pid worker_main = me[1].as_pid();
  auto info = svc().info(port);
  ASSERT_TRUE(info);
  EXPECT_EQ(worker_main.node, info->node);
  EXPECT_EQ(svc().port_of_node(info->node), port);
  svc().route(worker_main, vigil::make_tuple(me_pid(), atom("routed")));
  auto r = box->receive(guard);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.message, vigil::make_tuple(atom("got"), atom("routed"), worker_main));
  // A pid inside a message comes back as the same pid: proxies are invisible.
  auto again = ask(*this, port, term(me_pid()));
  EXPECT_EQ(again, vigil::make_tuple(atom("got"), me_pid(), worker_main));
}

TEST_F(Plugins, AKindsReferencesCarryItsNodeAndReachTheDaemon) {
  // vigild lets a worker show only references it was shown or made itself: those a kind
  // makes in vigil-worker carry the worker's node, so its calls and requests get through.
  pid port = start_linked(process("who", "whoami"));
  auto made = ask(*this, port, atom("make_ref"));
  ASSERT_TRUE(made.is_tuple() && made.size() == 2 && made[1].is_reference()) << made;
  auto info = svc().info(port);
  ASSERT_TRUE(info);
  EXPECT_EQ(made[1].as_reference().node, sdk::ref_node(info->node));
  EXPECT_EQ(info->refused, 0U);
}

/// Sends {self, message} to `to` with a plain send, then passes the reply on to `report`.
task<> ask_and_report(context& self, pid to, term message, pid report) {
  self.send(to, vigil::make_tuple(self.self(), std::move(message)));
  auto reply = co_await self.receive(20s);
  self.send(report, reply ? reply.message : term(atoms::timeout));
}

TEST_F(Plugins, InProcessCodeReachesAWorkersPidWithAPlainSend) {
  pid port = start_linked(process("who", "whoami"));
  auto me = ask(*this, port, atom("whoami"));
  ASSERT_TRUE(me.is_tuple() && me.size() == 2 && me[1].is_pid()) << me;
  pid worker_main = me[1].as_pid();
  ASSERT_NE(worker_main.node, 0U);
  // From a process on a scheduler thread: the runtime's remote_send hook routes it.
  pid asker = rt.spawn(ask_and_report, worker_main, term(atom("from_process")), me_pid());
  auto r = box->receive(guard);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.message, vigil::make_tuple(atom("got"), atom("from_process"), worker_main));
  EXPECT_NE(asker, pid{});
  // From the test's own mailbox, a thread outside the schedulers.
  box->ctx().send(worker_main, vigil::make_tuple(me_pid(), atom("from_mailbox")));
  r = box->receive(guard);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.message, vigil::make_tuple(atom("got"), atom("from_mailbox"), worker_main));
}

TEST_F(Plugins, ASendToAPidOfAWorkerThatIsGoneIsDropped) {
  pid port = start_linked(process("who", "whoami"));
  auto me = ask(*this, port, atom("whoami"));
  ASSERT_TRUE(me.is_tuple() && me.size() == 2 && me[1].is_pid()) << me;
  pid worker_main = me[1].as_pid();
  box->ctx().exit(port, atoms::kill);
  ASSERT_EQ(exit_reason(port), term(atoms::killed));
  ASSERT_TRUE(eventually([&] { return !svc().port_of_node(worker_main.node); }));
  box->ctx().send(worker_main, vigil::make_tuple(me_pid(), atom("too_late")));
  EXPECT_FALSE(box->receive(100ms)) << "a dead node answered";
}

TEST_F(Sdk, TheExampleProgramAnswersThroughItsPort) {
  auto c = command("sdk", {});
  c.os.command = {VIGIL_SDK_ECHO_BIN};
  pid port = start_linked(c);
  EXPECT_EQ(ask(*this, port, atoms::ping), vigil::make_tuple(atoms::ok, atoms::pong));
  EXPECT_EQ(ask(*this, port, atom("count")), vigil::make_tuple(atoms::ok, 2));
  ASSERT_TRUE(line_with("sdk", "sdk_echo: got"));
  box->ctx().send(port, vigil::make_tuple(me_pid(), atom("stop")));
  EXPECT_EQ(exit_reason(port), vigil::make_tuple(atoms::shutdown, term("asked")));
}

TEST_F(Sdk, AnAtomTheDaemonDoesNotKnowBreaksACommandsChannel) {
  // A command may not create atoms in the daemon (they are never freed): the channel breaks
  // and the child is stopped with the reason, instead of the atom table filling up.
  pid port = start_linked(command("atoms", {"unknown-atom", ""}));
  term reason = exit_reason(port);
  ASSERT_TRUE(reason.is_tuple() && reason.size() == 2) << reason;
  EXPECT_EQ(reason[0], term(atom("channel_error")));
}

TEST_F(Sdk, AChildThatCorruptsItsChannelIsKilledWithTheReason) {
  pid port = start_linked(command("vandal", {"ring-garbage", ""}));
  term reason = exit_reason(port);
  ASSERT_TRUE(reason.is_tuple() && reason.size() == 2) << reason;
  EXPECT_EQ(reason[0], term(atom("channel_error")));
  EXPECT_NE(std::string(reason[1].as_string()).find("ring position"), std::string::npos) << reason;
}

/// Counts the integers it receives; answers {from, :count} with the count so far.
task<> count_sink(context& self) {
  std::int64_t n = 0;
  for (;;) {
    auto r = co_await self.receive();
    if (r.message.is_integer()) {
      ++n;
    } else if (r.message.is_tuple() && r.message.size() == 2 && r.message[0].is_pid()) {
      self.send(r.message[0].as_pid(), term(n));
    }
  }
}

TEST_F(Sdk, AChildFloodingItsRingStallsNeitherTheDaemonNorItsOwnStop) {
  pid sink = rt.spawn(count_sink);
  pid flooder = start_linked(command("flood", {"flood", ""}));
  auto echo = command("sdk", {});
  echo.os.command = {VIGIL_SDK_ECHO_BIN};
  pid echo_port = start_linked(echo);
  box->ctx().send(flooder, vigil::make_tuple(sink, atom("go")));
  // The flood is on: thousands of messages have crossed the ring.
  ASSERT_TRUE(eventually([&] {
    term n = ask(*this, sink, atom("count"));
    return n.is_integer() && n.as_integer() >= 20'000;
  })) << "the flood did not get through";
  // Meanwhile another child's traffic and the runtime keep going.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(ask(*this, echo_port, atoms::ping), vigil::make_tuple(atoms::ok, atoms::pong));
  }
  term before = ask(*this, sink, atom("count"));
  EXPECT_TRUE(eventually([&] {
    return ask(*this, sink, atom("count")).as_integer() > before.as_integer();
  })) << "the flood stopped";
  // Killing the flooder ends its port promptly, though its pump never saw an empty ring.
  box->ctx().exit(flooder, atoms::kill);
  EXPECT_EQ(exit_reason(flooder), term(atoms::killed));
  box->ctx().exit(sink, atoms::kill);
}

TEST_F(Sdk, AChildHammeringItsWakeEventfdStarvesNeitherAFloodingChildNorAnEcho) {
  // One reactor thread reads every child's channel. A child that signals its wake eventfd
  // without end (before and after attaching) while flooding its ring, beside a plain
  // flooder, gets its bounded turn and no more: the other channels keep flowing.
  pid hammer_sink = rt.spawn(count_sink);
  pid flood_sink = rt.spawn(count_sink);
  pid hammer = start_linked(command("hammer", {"wake-flood", ""}));
  pid flooder = start_linked(command("flood", {"flood", ""}));
  auto echo = command("sdk", {});
  echo.os.command = {VIGIL_SDK_ECHO_BIN};
  pid echo_port = start_linked(echo);
  box->ctx().send(hammer, vigil::make_tuple(hammer_sink, atom("go")));
  box->ctx().send(flooder, vigil::make_tuple(flood_sink, atom("go")));
  auto count = [&](pid sink) { return ask(*this, sink, atom("count")).as_integer(); };
  ASSERT_TRUE(eventually([&] { return count(hammer_sink) >= 20'000; }))
      << "the hammering child's own frames did not get through";
  ASSERT_TRUE(eventually([&] { return count(flood_sink) >= 20'000; })) << "the flooder was starved";
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(ask(*this, echo_port, atoms::ping), vigil::make_tuple(atoms::ok, atoms::pong));
  }
  auto hammered = count(hammer_sink);
  auto flooded = count(flood_sink);
  EXPECT_TRUE(eventually([&] { return count(flood_sink) > flooded; })) << "the flood stopped";
  EXPECT_TRUE(eventually([&] { return count(hammer_sink) > hammered; })) << "the hammer stopped";
  box->ctx().exit(hammer, atoms::kill);
  EXPECT_EQ(exit_reason(hammer), term(atoms::killed));
  box->ctx().exit(flooder, atoms::kill);
  EXPECT_EQ(exit_reason(flooder), term(atoms::killed));
  box->ctx().exit(hammer_sink, atoms::kill);
  box->ctx().exit(flood_sink, atoms::kill);
}

TEST_F(Sdk, FramesOfAChildThatNeverWakesTheDaemonArriveInOrderBeforeItsExit) {
  // The child attaches and sends without signalling the wake eventfd, then exits: the
  // reactor reads its ring when it reaps it, before the port hears of the exit.
  const atom before_exit("before_exit"); // known to the daemon: a command creates no atoms
  pid port = start_linked(command("silent", {"silent-then-exit", ""}));
  box->ctx().send(port, vigil::make_tuple(me_pid(), atom("go")));
  for (std::int64_t i = 0; i < 100; ++i) {
    auto m = box->receive(guard);
    ASSERT_FALSE(m.timed_out()) << "frame " << i << " never came";
    ASSERT_EQ(m.message, vigil::make_tuple(before_exit, term(i))) << "frame " << i;
  }
  EXPECT_EQ(exit_reason(port), term(atoms::normal));
}

/// After a "launder" worker on `port` has tried to grant itself `sink`'s pid: `sink` was
/// never reached, and the port refused both the laundering send and the send to `sink`.
void expect_made_up_pid_unreached(os_test& t, pid port, pid sink) {
  ASSERT_TRUE(t.box->receive(atoms::ok, os_test::guard)) << "the worker never finished";
  // The worker's sends reach the runtime in order: its 1 would be queued before its :ok.
  EXPECT_EQ(ask(t, sink, atom("count")), term(std::int64_t{0})) << "the made-up pid was reached";
  auto info = t.svc().info(port);
  ASSERT_TRUE(info);
  EXPECT_GE(info->refused, 2U);
  t.box->ctx().exit(sink, atoms::kill);
}

TEST_F(Sdk, AWorkerCannotGrantItselfAPidByShowingItToItself) {
  // A send to a pid of the worker's own node goes back through its port, and the port grants
  // every pid in what it passes on: a worker that puts a made-up pid in such a send must not
  // come out of it allowed to reach that pid (docs/security.md, "Workers").
  pid sink = rt.spawn(count_sink);
  pid port = start_linked(command("launder", {"launder", ""}));
  box->ctx().send(port,
                  vigil::make_tuple(me_pid(), std::int64_t{sink.index}, std::int64_t{sink.serial}));
  expect_made_up_pid_unreached(*this, port, sink);
}

TEST_F(Sdk, AWorkerCannotGrantItselfAPidByShowingItToItsOwnPort) {
  // A worker's port passes what it is sent on into the worker and grants every pid in it. A
  // worker shown its own port (in a message, as any pid) must not come out of sending that
  // port a made-up pid allowed to reach it.
  pid sink = rt.spawn(count_sink);
  pid port = start_linked(command("launder-port", {"launder", "port"}));
  box->ctx().send(
      port, vigil::make_tuple(me_pid(), std::int64_t{sink.index}, std::int64_t{sink.serial}, port));
  expect_made_up_pid_unreached(*this, port, sink);
}

TEST_F(Sdk, AWorkerGivenAnotherChildsPortCannotStopItNorSayItIsReady) {
  // A port takes a few messages only from the daemon's own code: the reactor's word that its
  // child exited, its checks' word that the child is ready, the exit signal of its parent.
  // A worker that was given another child's port (to talk to that child) must not be able to
  // send them: none may end the victim or reach its supervisor as its readiness.
  auto echo = command("victim", {});
  echo.os.command = {VIGIL_SDK_ECHO_BIN};
  pid victim = start_linked(echo);
  const pattern forged_ready = pattern::tuple({atom("$vigil_ready"), term(victim), pattern::any()});
  for (std::string how : {"ready", "exit-signal", "os-exit"}) {
    pid attacker = start_linked(command("forger-" + how, {"forge-port", how}));
    box->ctx().send(attacker, vigil::make_tuple(me_pid(), victim));
    ASSERT_TRUE(box->receive(atoms::ok, guard)) << how << ": the worker never finished";
    // The victim's port handles the forged message before this ping, and anything it sent
    // its parent (this mailbox) is here before the child's answer.
    box->ctx().send(victim, vigil::make_tuple(me_pid(), atoms::ping));
    ASSERT_TRUE(box->receive(vigil::make_tuple(atoms::ok, atoms::pong), guard))
        << how << ": the victim no longer answers";
    EXPECT_FALSE(box->receive(forged_ready, 0ms)) << how << ": the forged readiness got through";
    auto info = svc().info(attacker);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->refused, 1U) << how;
    box->ctx().exit(attacker, atoms::kill);
    EXPECT_EQ(exit_reason(attacker), term(atoms::killed));
  }
}

TEST_F(Sdk, AWorkerCannotHaveAPortAnswerAPidItWasNotGiven) {
  // A port answers {:port_info, from, ref} with {ref, info} to `from`: a worker that names a
  // pid it was not given (a daemon process, a client's session) would reach it through the
  // port, with a term of its choosing in first place.
  auto echo = command("victim", {});
  echo.os.command = {VIGIL_SDK_ECHO_BIN};
  pid victim = start_linked(echo);
  auto other = rt.make_mailbox();
  pid target = other->self();
  pid attacker = start_linked(command("reflector", {"reflect", ""}));
  box->ctx().send(attacker, vigil::make_tuple(me_pid(), victim, std::int64_t{target.index},
                                              std::int64_t{target.serial}));
  ASSERT_TRUE(box->receive(atoms::ok, guard)) << "the worker never finished";
  // The victim's port handles the request before this ping, and would answer it first.
  box->ctx().send(victim, vigil::make_tuple(me_pid(), atoms::ping));
  ASSERT_TRUE(box->receive(vigil::make_tuple(atoms::ok, atoms::pong), guard));
  EXPECT_FALSE(other->receive(0ms)) << "the port answered a pid the worker was not given";
  auto info = svc().info(attacker);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->refused, 1U);
  // The daemon's own code still gets its answer.
  reference ref = box->ctx().make_ref();
  box->ctx().send(victim, vigil::make_tuple(atom("port_info"), me_pid(), ref));
  EXPECT_TRUE(box->receive(pattern::tuple({term(ref), pattern::any()}), guard));
}

/// A daemon process with a call out to `callee`: sends it {self, ref, :ask}, tells `report`
/// {:calling, ref}, then takes the first {ref, reply} and tells `report` {:took, reply}.
task<> call_and_report(context& self, pid callee, pid report) {
  reference ref = self.make_ref();
  self.send(callee, vigil::make_tuple(self.self(), ref, atom("ask")));
  self.send(report, vigil::make_tuple(atom("calling"), ref));
  const pattern reply = pattern::tuple({term(ref), pattern::bind("reply")});
  auto r = co_await self.receive(reply, 20s);
  self.send(report, vigil::make_tuple(atom("took"), r ? r[0] : term(atoms::timeout)));
}

TEST_F(Sdk, AWorkerCannotForgeTheReplyToACallADaemonProcessMadeToSomeoneElse) {
  // A reply is {ref, value}, matched on the reference alone; references are a counter and a
  // salt, so a worker that saw one can work out the next. One given a daemon process's pid
  // (a supervisor, a client's session) must not answer that process's call to another with
  // a value of its choosing (docs/security.md, "Workers").
  pid callee = rt.spawn(count_sink); // never answers a call
  pid attacker = start_linked(command("forger", {"forge-reply", ""}));
  reference seen = box->ctx().make_ref();
  pid caller = rt.spawn(call_and_report, callee, me_pid());
  auto calling = box->receive(pattern::tuple({atom("calling"), pattern::bind("ref")}), guard);
  ASSERT_TRUE(calling);
  const std::int64_t guesses = 64;
  box->ctx().send(attacker, vigil::make_tuple(me_pid(), caller, seen, guesses));
  ASSERT_TRUE(box->receive(atoms::ok, guard)) << "the worker never finished";
  // Whatever of the worker's got through is in the caller's mailbox before the real reply.
  box->ctx().send(caller, vigil::make_tuple(calling[0], term("genuine")));
  auto took = box->receive(pattern::tuple({atom("took"), pattern::bind("reply")}), guard);
  ASSERT_TRUE(took);
  EXPECT_EQ(took[0], term("genuine")) << "the caller took a forged reply";
  auto info = svc().info(attacker);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->refused, static_cast<std::uint64_t>(guesses));
  box->ctx().exit(callee, atoms::kill);
}

TEST_F(Sdk, AWorkerRepliesToACallWithItsReferenceAndShowsReferencesOfItsOwn) {
  // A call's reference reaches the worker in the request, and the reply carries it back;
  // a reference the worker made (sdk::worker::make_ref) is its own to show.
  pid port = start_linked(command("answerer", {"answer-calls", ""}));
  reference ref = box->ctx().make_ref();
  box->ctx().send(port, vigil::make_tuple(me_pid(), ref));
  EXPECT_TRUE(box->receive(vigil::make_tuple(ref, term("answer")), guard));
  auto own = box->receive(pattern::tuple({pattern::bind("ref"), term("mine")}), guard);
  ASSERT_TRUE(own);
  ASSERT_TRUE(own[0].is_reference()) << own[0];
  auto info = svc().info(port);
  ASSERT_TRUE(info);
  EXPECT_EQ(own[0].as_reference().node, sdk::ref_node(info->node));
  EXPECT_EQ(info->refused, 0U);
}

TEST_F(Sdk, APortHoldsBackABoundedAmountForAWorkerThatNeverReads) {
  // A worker that never reads its ring and sends itself large terms (each goes back through
  // its port, into its full ring) must not make the daemon keep them all: past the backlog's
  // byte bound the port drops and counts them, as past its count bound.
  pid port = start_linked(command("hoard", {"hoard", ""}));
  box->ctx().send(port, vigil::make_tuple(me_pid(), std::int64_t{3000})); // 90 MB in all
  ASSERT_TRUE(box->receive(atoms::ok, guard)) << "the worker never finished";
  EXPECT_TRUE(eventually([&] {
    auto info = svc().info(port);
    return info && info->dropped > 0;
  })) << "the port kept every term of a worker that never reads";
  box->ctx().exit(port, atoms::kill);
  EXPECT_EQ(exit_reason(port), term(atoms::killed));
}

TEST_F(Sdk, APlainCommandNeverAttachesAndIsOnlySupervised) {
  pid port = start_linked(command("plain", {"quit-on-term", ""}));
  box->ctx().send(port, atom("into_the_void"));
  ASSERT_TRUE(line_with("plain", "ready"));
  // The port writes the term into the ring on its own thread, maybe after the child's line.
  EXPECT_TRUE(eventually([&] {
    auto info = svc().info(port);
    return info && info->ring_to_worker_bytes > 0;
  })) << "the term never waited in the ring";
  auto info = svc().info(port);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->attached);
}

} // namespace
} // namespace vigil::os::test
