// SPDX-License-Identifier: Apache-2.0
#include "vigil/os/capabilities.hpp"

#include "vigil/worker_sdk/envelope.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace vigil::os {
namespace {

const pid hub{0, 1, 1};
const pid echo{0, 5, 1};
const pid session{0, 40, 2};

/// A worker of node 7 that may send to :echo, and sinks that record what went where.
struct fixture {
  worker_grants g;
  std::vector<pid> local;
  std::vector<pid> routed;
  send_sinks sinks;

  fixture() {
    g.node = 7;
    g.names = {atom("echo")};
    sinks.whereis = [](atom name) -> std::optional<pid> {
      if (name == atom("echo")) {
        return echo;
      }
      if (name == atom("vigil_supervisor_reports")) {
        return hub;
      }
      return std::nullopt;
    };
    sinks.is_protected = [](pid p) { return p == hub; };
    sinks.send_local = [this](pid to, const term&) { local.push_back(to); };
    sinks.route = [this](pid to, const term&) { routed.push_back(to); };
  }

  send_outcome send(const term& to) { return deliver_checked(g, to, term(atoms::ok), sinks); }
};

TEST(Capabilities, AWorkerAnswersAPidThatWasSentToIt) {
  fixture uut;
  EXPECT_EQ(uut.send(term(session)), send_outcome::refused);
  uut.g.given.grant_all(vigil::make_tuple(session, atoms::ping), 7);
  EXPECT_EQ(uut.send(term(session)), send_outcome::delivered);
  EXPECT_EQ(uut.local, std::vector<pid>{session});
  EXPECT_EQ(uut.g.refused.load(), 1U);
}

TEST(Capabilities, ASendToADaemonProcessThatIsBehindIsNotMadeOnlyOnceItIsAllowed) {
  // The pump's backpressure (docs/os-workers.md, "Backpressure") asks only about a send the
  // worker may make: any other is refused as ever, never held on a process it cannot reach.
  fixture uut;
  uut.sinks.behind = [](pid) { return true; };
  EXPECT_EQ(uut.send(term(session)), send_outcome::refused);
  EXPECT_EQ(uut.send(term(hub)), send_outcome::refused);
  uut.g.given.grant_all(vigil::make_tuple(session, atoms::ping), 7);
  EXPECT_EQ(uut.send(term(session)), send_outcome::behind);
  EXPECT_EQ(uut.send(term(atom("echo"))), send_outcome::behind);
  EXPECT_TRUE(uut.local.empty());
  EXPECT_EQ(uut.g.refused.load(), 2U);
  uut.sinks.behind = [](pid) { return false; };
  EXPECT_EQ(uut.send(term(session)), send_outcome::delivered);
  EXPECT_EQ(uut.local, std::vector<pid>{session});
}

TEST(Capabilities, PidsInsideMapsAndListsAreGrantedToo) {
  fixture uut;
  pid other{9, 2, 1};
  uut.g.given.grant_all(term::map({{atom("from"), term::list({term(other)})}}), 7);
  EXPECT_EQ(uut.send(term(other)), send_outcome::delivered);
  EXPECT_EQ(uut.routed, std::vector<pid>{other});
}

TEST(Capabilities, TheWorkersOwnProcessesNeedNoGrant) {
  fixture uut;
  EXPECT_EQ(uut.send(term(pid{7, 3, 1})), send_outcome::delivered);
  EXPECT_EQ(uut.send(term(pid{8, 3, 1})), send_outcome::refused);
  EXPECT_EQ(uut.routed, (std::vector<pid>{pid{7, 3, 1}}));
}

TEST(Capabilities, OnlyGrantedNamesAreReached) {
  fixture uut;
  EXPECT_EQ(uut.send(term(atom("echo"))), send_outcome::delivered);
  EXPECT_EQ(uut.send(term(atom("echo2"))), send_outcome::refused);
  uut.g.names.emplace_back("nobody_has_it");
  EXPECT_EQ(uut.send(term(atom("nobody_has_it"))), send_outcome::unregistered);
  EXPECT_EQ(uut.local, std::vector<pid>{echo});
  EXPECT_EQ(uut.g.refused.load(), 1U);
}

TEST(Capabilities, AProtectedProcessIsNeverReachedEvenWhenGivenOrGranted) {
  fixture uut;
  uut.g.given.grant(hub);
  uut.g.names.emplace_back("vigil_supervisor_reports");
  EXPECT_EQ(uut.send(term(hub)), send_outcome::refused);
  EXPECT_EQ(uut.send(term(atom("vigil_supervisor_reports"))), send_outcome::refused);
  EXPECT_TRUE(uut.local.empty());
  EXPECT_EQ(uut.g.refused.load(), 2U);
}

TEST(Capabilities, ATargetThatIsNeitherPidNorAtomIsCounted) {
  fixture uut;
  EXPECT_EQ(uut.send(term(42)), send_outcome::bad_target);
  EXPECT_EQ(uut.g.refused.load(), 1U);
}

TEST(Capabilities, AMessageIntoAWorkerCarriesOnlyPidsTheSenderHolds) {
  // Whatever reaches a worker's pids goes through that worker's port, which grants the pids
  // in it: the sender may pass on what it holds and its own pids, nothing it made up.
  fixture uut;
  pid made_up{0, 77, 3};
  auto send = [&](pid to, const term& message) {
    return deliver_checked(uut.g, term(to), message, uut.sinks);
  };
  EXPECT_EQ(send(pid{7, 3, 1}, vigil::make_tuple(made_up)), send_outcome::refused);
  pid other_worker{9, 2, 1};
  uut.g.given.grant(other_worker);
  EXPECT_EQ(send(other_worker, term::list({term(made_up)})), send_outcome::refused);
  EXPECT_TRUE(uut.routed.empty());
  uut.g.given.grant(made_up);
  EXPECT_EQ(send(pid{7, 3, 1}, vigil::make_tuple(made_up, pid{7, 4, 1})), send_outcome::delivered);
  EXPECT_EQ(send(other_worker, term::map({{atom("from"), term(made_up)}})),
            send_outcome::delivered);
  EXPECT_EQ(uut.routed, (std::vector<pid>{pid{7, 3, 1}, other_worker}));
  EXPECT_EQ(uut.g.refused.load(), 2U);
}

TEST(Capabilities, AMessageToADaemonProcessCarriesOnlyPidsTheSenderHolds) {
  // A worker's port is a daemon process (node 0) and grants the worker every pid in what it
  // passes on, as a port of another worker does, and a name may be a port too: a worker
  // that holds a port (its own, once it was shown it) must not grant itself, or the worker
  // behind it, a pid it made up by sending it there.
  fixture uut;
  pid made_up{0, 77, 3};
  pid port{0, 41, 2};
  uut.g.given.grant(port);
  EXPECT_EQ(uut.send(term(port)), send_outcome::delivered); // it may talk to the port
  auto send = [&](const term& to, const term& message) {
    return deliver_checked(uut.g, to, message, uut.sinks);
  };
  EXPECT_EQ(send(term(port), vigil::make_tuple(atoms::error, made_up)), send_outcome::refused);
  EXPECT_EQ(send(term(atom("echo")), term::list({term(made_up)})), send_outcome::refused);
  EXPECT_EQ(uut.local, std::vector<pid>{port});
  // What it holds and its own pids it may show anywhere.
  uut.g.given.grant(made_up);
  EXPECT_EQ(send(term(port), vigil::make_tuple(made_up, pid{7, 4, 1})), send_outcome::delivered);
  EXPECT_EQ(send(term(atom("echo")), vigil::make_tuple(made_up)), send_outcome::delivered);
  EXPECT_EQ(uut.local, (std::vector<pid>{port, port, echo}));
  EXPECT_EQ(uut.g.refused.load(), 2U);
}

TEST(Capabilities, NoWorkerSendsADaemonProcessAnExitSignalOrAVigilMessage) {
  // A port or a supervisor acts on these without knowing who sent them; so would a process
  // of another worker that traps exits.
  fixture uut;
  uut.g.given.grant(session);
  auto send = [&](const term& to, const term& message) {
    return deliver_checked(uut.g, to, message, uut.sinks);
  };
  EXPECT_EQ(send(term(session), vigil::make_tuple(atoms::exit, session, atoms::kill)),
            send_outcome::refused);
  EXPECT_EQ(
      send(term(session), vigil::make_tuple(atom("$vigil_os_exit"), atoms::normal, atoms::normal)),
      send_outcome::refused);
  EXPECT_EQ(send(term(atom("echo")), vigil::make_tuple(atom("$vigil_ready"), echo, "")),
            send_outcome::refused);
  EXPECT_EQ(send(term(session), vigil::make_tuple(atoms::down, reference{0, 1, 2, 3},
                                                  atoms::process, session, atoms::normal)),
            send_outcome::refused);
  pid other_worker{9, 2, 1};
  uut.g.given.grant(other_worker);
  EXPECT_EQ(send(term(other_worker), vigil::make_tuple(atoms::exit, other_worker, atoms::kill)),
            send_outcome::refused);
  EXPECT_TRUE(uut.local.empty());
  EXPECT_TRUE(uut.routed.empty());
  // To its own processes a worker may say what it likes.
  EXPECT_EQ(send(term(pid{7, 3, 1}), vigil::make_tuple(atoms::exit, pid{7, 4, 1}, atoms::kill)),
            send_outcome::delivered);
  // The same words inside a message, or not in first place, are only data.
  EXPECT_EQ(send(term(session), vigil::make_tuple(atoms::ok, atoms::exit)),
            send_outcome::delivered);
  EXPECT_EQ(send(term(session), term(atom("$vigil_ready"))), send_outcome::delivered);
  EXPECT_EQ(uut.g.refused.load(), 5U);
}

TEST(Capabilities, AWorkerAsksAPortForInfoOnlyToHaveItAnsweredToItself) {
  // {:port_info, from, ref} makes a port send {ref, info} to `from`.
  fixture uut;
  uut.g.given.grant(session);
  auto ask = [&](pid from) {
    return deliver_checked(uut.g, term(session),
                           vigil::make_tuple(atom("port_info"), from, std::int64_t{1}), uut.sinks);
  };
  EXPECT_EQ(ask(pid{7, 3, 1}), send_outcome::delivered);
  EXPECT_EQ(ask(hub), send_outcome::refused);
  EXPECT_EQ(ask(session), send_outcome::refused); // given, yet the port would be the sender
  EXPECT_EQ(uut.local, std::vector<pid>{session});
  EXPECT_EQ(uut.g.refused.load(), 2U);
}

TEST(Capabilities, AMessageCarriesOnlyReferencesTheWorkerWasShownOrMadeItself) {
  // A reply is {ref, value}, taken on its reference alone, and the daemon's references are a
  // counter and a salt: a worker that saw one could work out the reference of a call a
  // daemon process has out to someone else, and answer it with a value of its choosing.
  fixture uut;
  uut.g.given.grant(session);
  auto send = [&](const term& message) {
    return deliver_checked(uut.g, term(session), message, uut.sinks);
  };
  reference seen{0, 0, 100, 0xabcd};
  reference next{0, 0, 101, 0xabcd};
  uut.g.given.grant_all(vigil::make_tuple(session, seen, atom("question")), 7);
  EXPECT_EQ(send(vigil::make_tuple(seen, atom("answer"))), send_outcome::delivered);
  EXPECT_EQ(send(vigil::make_tuple(next, atom("forged"))), send_outcome::refused);
  EXPECT_EQ(send(term::map({{atom("in"), term::list({term(next)})}})), send_outcome::refused);
  // One of its own node (sdk::ref_node) it may show; one of another worker's node it may not.
  reference own{sdk::ref_node(7), 0, 1, 0};
  reference another_workers{sdk::ref_node(9), 0, 1, 0};
  EXPECT_EQ(send(vigil::make_tuple(own, atom("mine"))), send_outcome::delivered);
  EXPECT_EQ(send(vigil::make_tuple(another_workers, atom("theirs"))), send_outcome::refused);
  // Into the worker itself too: its port would grant the reference on the way back.
  EXPECT_EQ(deliver_checked(uut.g, term(pid{7, 3, 1}), vigil::make_tuple(next), uut.sinks),
            send_outcome::refused);
  EXPECT_EQ(uut.local, (std::vector<pid>{session, session}));
  EXPECT_TRUE(uut.routed.empty());
  EXPECT_EQ(uut.g.refused.load(), 4U);
}

TEST(Capabilities, ASupervisorCallFromAWorkerIsAnsweredOnlyToWhatItHoldsWithItsOwnReference) {
  // {:"$sup_call", from, ref, request} makes a supervisor send {ref, reply} to `from`: a
  // worker allowed the supervisor may call it, but not have the reply go to a pid it was not
  // given, nor carry a reference of the daemon's that it was not shown.
  fixture uut;
  pid sup{0, 30, 1};
  uut.g.given.grant(sup);
  auto call = [&](pid from, reference ref) {
    return deliver_checked(uut.g, term(sup),
                           vigil::make_tuple(atom("$sup_call"), from, ref, atom("which_children")),
                           uut.sinks);
  };
  reference own{sdk::ref_node(7), 0, 5, 0};
  EXPECT_EQ(call(pid{7, 3, 1}, own), send_outcome::delivered);
  EXPECT_EQ(call(session, own), send_outcome::refused);                        // not given
  EXPECT_EQ(call(pid{7, 3, 1}, reference{0, 0, 7, 1}), send_outcome::refused); // not shown
  EXPECT_EQ(uut.local, std::vector<pid>{sup});
  EXPECT_EQ(uut.g.refused.load(), 2U);
}

/// A call from `caller` as the port passes it on to the worker: {:"$gen_call", {caller, ref}, q}.
term call_to_worker(worker_grants& g, pid caller, reference ref) {
  term call = vigil::make_tuple(atom("$gen_call"), vigil::make_tuple(caller, ref), atom("q"));
  g.given.grant_all(call, g.node);
  return call;
}

TEST(Capabilities, AWorkerAnswersACallItDeferredAfterMoreQuickCallsThanItHolds) {
  // A server that answers one call later (a long poll, a lock, gen_server's noreply) while
  // it answers others at once: each call brings a new reference, and the deferred one must
  // not be forgotten because more calls came and went after it.
  fixture uut;
  reference deferred{0, 0, 1, 0xabcd};
  call_to_worker(uut.g, session, deferred);
  const auto quick = static_cast<std::uint32_t>(uut.g.given.capacity() + 10);
  for (std::uint32_t i = 0; i < quick; ++i) {
    reference ref{0, 1, i, 0xabcd};
    call_to_worker(uut.g, session, ref);
    ASSERT_EQ(deliver_checked(uut.g, term(session), vigil::make_tuple(ref, atoms::ok), uut.sinks),
              send_outcome::delivered);
  }
  EXPECT_EQ(
      deliver_checked(uut.g, term(session), vigil::make_tuple(deferred, atom("late")), uut.sinks),
      send_outcome::delivered);
  EXPECT_EQ(uut.g.refused.load(), 0U);
  EXPECT_EQ(uut.g.given.references(), uut.g.given.capacity()); // still bounded
}

TEST(Capabilities, AReferenceAWorkerKeepsShowingStaysHeldWhateverArrivesAfterIt) {
  // A subscription: the subscriber's reference tags every event the worker sends it. Calls
  // and their references keep coming, each shown once; the one in use must stay held.
  fixture uut;
  reference subscription{0, 0, 1, 0xabcd};
  uut.g.given.grant_all(vigil::make_tuple(atom("subscribe"), session, subscription), 7);
  const auto calls = static_cast<std::uint32_t>(uut.g.given.capacity() * 2);
  for (std::uint32_t i = 0; i < calls; ++i) {
    reference ref{0, 1, i, 0xabcd};
    call_to_worker(uut.g, session, ref);
    ASSERT_EQ(deliver_checked(uut.g, term(session), vigil::make_tuple(ref, atoms::ok), uut.sinks),
              send_outcome::delivered);
    ASSERT_EQ(deliver_checked(uut.g, term(session), vigil::make_tuple(subscription, atom("event")),
                              uut.sinks),
              send_outcome::delivered)
        << "after " << i << " calls";
  }
  EXPECT_EQ(uut.g.given.references(), uut.g.given.capacity()); // still bounded
}

TEST(CapabilitySet, ForgetsThePidUsedLeastRecentlyPastItsCapacity) {
  capability_set uut(2);
  pid a{0, 10, 1};
  pid b{0, 11, 1};
  pid c{0, 12, 1};
  uut.grant(a);
  uut.grant(b);
  EXPECT_TRUE(uut.holds(a)); // a is now the most recent
  uut.grant(c);
  EXPECT_TRUE(uut.holds(a));
  EXPECT_FALSE(uut.holds(b));
  EXPECT_TRUE(uut.holds(c));
  EXPECT_EQ(uut.size(), 2U);
}

TEST(CapabilitySet, HoldsABoundedNumberOfReferencesApartFromItsPids) {
  // A worker shown a million references makes vigild keep `capacity` of them, the last.
  capability_set uut(2);
  uut.grant(pid{0, 1, 9});
  std::vector<term> refs;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    refs.emplace_back(reference{0, 0, i, 3});
  }
  uut.grant_all(term::list(refs), 7);
  uut.grant_all(vigil::make_tuple(reference{0, 0, 5000, 3}), 7);
  EXPECT_EQ(uut.references(), 2U);
  EXPECT_EQ(uut.size(), 1U);
  EXPECT_TRUE(uut.holds(reference{0, 0, 999, 3}));
  EXPECT_TRUE(uut.holds(reference{0, 0, 5000, 3}));
  EXPECT_FALSE(uut.holds(reference{0, 0, 998, 3}));
  EXPECT_TRUE(uut.holds(pid{0, 1, 9}));
  // The worker's own references are never kept: they need no grant.
  uut.grant_all(vigil::make_tuple(reference{sdk::ref_node(7), 0, 1, 0}), 7);
  EXPECT_FALSE(uut.holds(reference{sdk::ref_node(7), 0, 1, 0}));
}

TEST(CapabilitySet, AWorkersReferenceNodeIsNeverTheDaemonsAndFitsAReference) {
  EXPECT_EQ(sdk::ref_node(0), 0U);
  EXPECT_EQ(sdk::ref_node(1), 1U);
  EXPECT_EQ(sdk::ref_node(reference::max_node), reference::max_node);
  EXPECT_EQ(sdk::ref_node(reference::max_node + 1), 1U);
  EXPECT_EQ(sdk::ref_node(0xffffffffU), ((0xffffffffU - 1) % reference::max_node) + 1);
  EXPECT_NE(sdk::ref_node(2U * reference::max_node), 0U);
}

TEST(CapabilitySet, ATermWithMorePidsThanTheCapacityKeepsTheLast) {
  capability_set uut(2);
  uut.grant_all(term::list({term(pid{0, 1, 9}), term(pid{0, 2, 9}), term(pid{0, 3, 9})}), 7);
  EXPECT_FALSE(uut.holds(pid{0, 1, 9}));
  EXPECT_TRUE(uut.holds(pid{0, 2, 9}));
  EXPECT_TRUE(uut.holds(pid{0, 3, 9}));
}

} // namespace
} // namespace vigil::os
