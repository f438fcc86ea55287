// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/render.hpp"

#include "vigil/ctl/iex_format.hpp"

#include "utc_time_zone.hpp"

#include <gtest/gtest.h>

namespace {

using vigil::ctl::json;

json parse(std::string_view text) {
  return json::parse(text);
}

TEST(CtlRender, StatusIsATableWithUptimeAndDashesForMissingFields) {
  json result = parse(R"({"workers":[
    {"path":"root/echo","id":"echo","pid":"#PID<0.74.0>","state":"running","restarts":0,
     "uptime_ms":303000,"kind":"echo","mode":"task"},
    {"path":"root/web","id":"web","pid":null,"state":"backoff","restarts":12,
     "uptime_ms":null,"kind":"command","mode":"process","os_pid":4242}]})");
  EXPECT_EQ(vigil::ctl::render_status(result),
            "PATH       PID           STATE    RESTARTS  UPTIME  KIND     MODE     OS_PID\n"
            "root/echo  #PID<0.74.0>  running         0   5m03s  echo     task          -\n"
            "root/web   -             backoff        12       -  command  process    4242\n");
}

TEST(CtlRender, StatusSaysWhyAChildFailedAndWhenItIsTriedAgain) {
  json result = parse(R"({"workers":[
    {"path":"root/db","id":"db","pid":"#PID<0.74.0>","state":"running","restarts":0,
     "uptime_ms":303000,"kind":"command","mode":"command","os_pid":4242},
    {"path":"root/web","id":"web","pid":null,"state":"failed","restarts":4,"uptime_ms":null,
     "kind":"command","mode":"command","os_pid":null,"reason":"{:exit_status, 1}",
     "retry_ms":9000},
    {"path":"root/bad","id":"bad","pid":null,"state":"failed","restarts":0,"uptime_ms":null,
     "kind":"command","mode":"command","os_pid":null,"reason":"exec bad: ENOENT",
     "retry_ms":null}]})");
  EXPECT_EQ(vigil::ctl::render_status(result),
            "PATH      PID           STATE    RESTARTS  UPTIME  KIND     MODE     OS_PID  REASON\n"
            "root/db   #PID<0.74.0>  running         0   5m03s  command  command    4242\n"
            "root/web  -             failed          4       -  command  command       -  "
            "{:exit_status, 1}; retry in 9s\n"
            "root/bad  -             failed          0       -  command  command       -  "
            "exec bad: ENOENT; no retry\n");
}

TEST(CtlRender, StatusShowsWhatEachCgroupCountsAndTheTotal) {
  json result = parse(R"({"workers":[
    {"path":"root/db","id":"db","pid":"#PID<0.74.0>","state":"running","restarts":0,
     "uptime_ms":303000,"kind":"command","mode":"command","os_pid":4242,
     "cgroup_memory_bytes":12897484,"cgroup_cpu_ms":850,"cgroup_pids":3},
    {"path":"root/echo","id":"echo","pid":"#PID<0.75.0>","state":"running","restarts":0,
     "uptime_ms":1000,"kind":"echo","mode":"inprocess"}],
    "workers_total":{"cgroup_cpu_ms":850,"cgroup_memory_bytes":12897484,"cgroup_pids":3,
     "os_children":1}})");
  EXPECT_EQ(vigil::ctl::render_status(result),
            "PATH       PID           STATE    RESTARTS  UPTIME  KIND     MODE       OS_PID  MEM"
            "    CPU  PIDS\n"
            "root/db    #PID<0.74.0>  running         0   5m03s  command  command      4242  12M"
            "  850ms     3\n"
            "root/echo  #PID<0.75.0>  running         0      1s  echo     inprocess       -    -"
            "      -     -\n"
            "total: 1 OS children, memory 12M, CPU 850ms, 3 processes\n");
}

TEST(CtlRender, AReloadWithFailedStepsSaysSo) {
  json result = parse(R"({"plan":[{"path":"root/web","action":"start","reason":"new"}],
    "applied":true,"warnings":["start root/web: exec web: ENOENT"]})");
  std::string text = vigil::ctl::render_plan(result);
  EXPECT_NE(text.find("plan applied, but 1 step(s) failed:\n  start root/web: exec web: ENOENT\n"),
            std::string::npos)
      << text;
}

TEST(CtlRender, TreeDrawsBranchesAsTheObserverShowsThem) {
  json result = parse(R"({"tree":{"id":"root","pid":"#PID<0.50.0>","type":"supervisor",
    "strategy":"one_for_one","state":"running","children":[
      {"id":"echo","pid":"#PID<0.74.0>","type":"worker","state":"running","children":[]},
      {"id":"pool","pid":"#PID<0.60.0>","type":"supervisor","strategy":"one_for_all",
       "state":"running","children":[
         {"id":"w1","pid":"#PID<0.61.0>","type":"worker","state":"running"},
         {"id":"w2","pid":null,"type":"worker","state":"stopped"}]},
      {"id":"web","pid":"#PID<0.70.0>","type":"worker","state":"running"}]}})");
  EXPECT_EQ(vigil::ctl::render_tree(result),
            "root      #PID<0.50.0>  supervisor  one_for_one  running\n"
            "├─ echo   #PID<0.74.0>  worker      -            running\n"
            "├─ pool   #PID<0.60.0>  supervisor  one_for_all  running\n"
            "│  ├─ w1  #PID<0.61.0>  worker      -            running\n"
            "│  └─ w2  -             worker      -            stopped\n"
            "└─ web    #PID<0.70.0>  worker      -            running\n");
}

TEST(CtlRender, InfoListsOneKeyALineAndOneMessageALine) {
  json result = parse(R"({"info":{"pid":"#PID<0.74.0>","status":"waiting",
    "message_queue_len":2,"messages":["{#PID<0.57.0>, :ping}","{#PID<0.57.0>, :ping}"],
    "links":[],"trap_exit":false}})");
  EXPECT_EQ(vigil::ctl::render_info(result), "pid                #PID<0.74.0>\n"
                                             "status             waiting\n"
                                             "message_queue_len  2\n"
                                             "messages           {#PID<0.57.0>, :ping}\n"
                                             "                   {#PID<0.57.0>, :ping}\n"
                                             "links              []\n"
                                             "trap_exit          false\n");
}

TEST(CtlRender, StatusShowsTheHealthOfChildrenWithChecksOnly) {
  json result = parse(R"({"workers":[
    {"path":"root/db","id":"db","pid":"#PID<0.74.0>","state":"running","restarts":0,
     "uptime_ms":1000,"kind":"command","mode":"command","os_pid":10,"health":"ready"},
    {"path":"root/web","id":"web","pid":"#PID<0.75.0>","state":"running","restarts":1,
     "uptime_ms":1000,"kind":"command","mode":"command","os_pid":11,
     "health":"unhealthy 2/3: http http://127.0.0.1:8080/: status 503"},
    {"path":"root/echo","id":"echo","pid":"#PID<0.76.0>","state":"running","restarts":0,
     "uptime_ms":1000,"kind":"echo","mode":"inprocess"}]})");
  EXPECT_EQ(vigil::ctl::render_status(result),
            "PATH       PID           STATE    RESTARTS  UPTIME  KIND     MODE       OS_PID  "
            "HEALTH\n"
            "root/db    #PID<0.74.0>  running         0      1s  command  command        10  "
            "ready\n"
            "root/web   #PID<0.75.0>  running         1      1s  command  command        11  "
            "unhealthy 2/3: http http://127.0.0.1:8080/: status 503\n"
            "root/echo  #PID<0.76.0>  running         0      1s  echo     inprocess       -\n");
  // Coloured: unhealthy is red, ready green.
  std::string coloured = vigil::ctl::render_status(result, true);
  EXPECT_NE(coloured.find("\x1b[31munhealthy 2/3"), std::string::npos) << coloured;
}

TEST(CtlRender, InfoListsAGroupOfFieldsOneRowEach) {
  json result = parse(R"({"info":{"pid":"#PID<0.74.0>","health":{"summary":"healthy",
    "consecutive_failures":0,"status_text":"Ready to accept connections"}}})");
  EXPECT_EQ(vigil::ctl::render_info(result),
            "pid                          #PID<0.74.0>\n"
            "health.summary               healthy\n"
            "health.consecutive_failures  0\n"
            "health.status_text           Ready to accept connections\n");
}

TEST(CtlRender, PlanSaysWhetherItWasApplied) {
  json result = parse(R"({"plan":[{"path":"root/web","action":"restart","reason":"command changed"},
    {"path":"root/echo","action":"unchanged","reason":""}],"applied":false})");
  EXPECT_EQ(vigil::ctl::render_plan(result), "PATH       ACTION     REASON\n"
                                             "root/web   restart    command changed\n"
                                             "root/echo  unchanged\n"
                                             "plan not applied\n");
  EXPECT_EQ(vigil::ctl::render_plan(parse(R"({"plan":[],"applied":true})")),
            "nothing to change\nplan applied\n");
}

TEST(CtlRender, RegisteredNamesAreATableOfNameAndPid) {
  EXPECT_EQ(
      vigil::ctl::render_registered(parse(R"({"names":[{"name":"echo","pid":"#PID<0.74.0>"}]})")),
      "NAME  PID\necho  #PID<0.74.0>\n");
}

TEST(CtlRender, EventsAreOneLineEach) {
  vigil::ctl::testing::utc_time_zone utc;
  EXPECT_EQ(vigil::ctl::render_event(parse(
                R"({"v":1,"event":"process_exited","ts":1795698010123,"path":"root/echo",
                    "pid":"#PID<0.74.0>","reason":":killed"})")),
            "2026-11-26 13:00:10.123  process_exited      root/echo  #PID<0.74.0>  "
            "reason=:killed\n");
  EXPECT_EQ(vigil::ctl::render_event(parse(
                R"({"v":1,"event":"process_restarted","ts":0,"path":"root/echo",
                    "pid":"#PID<0.80.0>","restarts":1})")),
            "1970-01-01 00:00:00.000  process_restarted   root/echo  #PID<0.80.0>  restarts=1\n");
  EXPECT_EQ(vigil::ctl::render_event(parse(
                R"({"v":1,"event":"log","ts":0,"path":"root/web","stream":"stdout",
                    "line":"listening on :8080"})")),
            "1970-01-01 00:00:00.000  log                 root/web  [stdout] listening on :8080\n");
  EXPECT_EQ(vigil::ctl::render_log_line(parse(R"({"ts":0,"stream":"stderr","line":"oops"})")),
            "1970-01-01 00:00:00.000  stderr  oops\n");
  EXPECT_EQ(vigil::ctl::render_log_line(parse(R"({"ts":"12:00","stream":"stdout","line":"x"})")),
            "12:00  stdout  x\n");
}

TEST(CtlRender, EscapesLogTextOnlyWhenAsked) {
  auto line = parse(R"({"ts":"12:00","stream":"stdout","line":"\u001b]0;owned\u0007\u001b[2J"})");
  EXPECT_EQ(vigil::ctl::render_log_line(line, true), "12:00  stdout  \\x1b]0;owned\\x07\\x1b[2J\n");
  EXPECT_EQ(vigil::ctl::render_log_line(line), "12:00  stdout  \x1b]0;owned\x07\x1b[2J\n");
  auto result = parse(R"({"lines":[{"ts":"12:00","stream":"stderr","line":"\u009b2J"}]})");
  EXPECT_EQ(vigil::ctl::render_logs(result, true), "12:00  stderr  \\x9b2J\n");
}

TEST(CtlRender, NeverFailsOnMistypedReplies) {
  // A reply of the wrong shape (a bug, another version of vigild) prints as an empty one...
  const std::string no_workers = vigil::ctl::render_status(parse(R"({"workers":[]})"));
  EXPECT_EQ(no_workers,
            "PATH  PID  STATE  RESTARTS  UPTIME  KIND  MODE  OS_PID\n"); // the header alone
  for (const char* text : {"{}", "[]", "null", "7", R"({"workers":7})", R"({"tree":[1]})",
                           R"({"info":"x"})", R"({"plan":{}})", R"({"lines":"x"})"}) {
    SCOPED_TRACE(text);
    json bad = parse(text);
    EXPECT_EQ(vigil::ctl::render_status(bad), no_workers);
    EXPECT_EQ(vigil::ctl::render_tree(bad), "");
    EXPECT_EQ(vigil::ctl::render_info(bad), "");
    EXPECT_EQ(vigil::ctl::render_plan(bad), "nothing to change\nplan not applied\n");
    EXPECT_EQ(vigil::ctl::render_logs(bad), "");
    // An event without a time or a name: dashes for both, other fields as key=value.
    std::string event = vigil::ctl::render_event(bad);
    EXPECT_TRUE(event.starts_with("-  -")) << event;
    EXPECT_EQ(event.find('\n'), event.size() - 1) << "one line: " << event;
  }
  // ...and an entry of the wrong shape as a row of dashes.
  EXPECT_EQ(vigil::ctl::render_status(parse(R"({"workers":[1,"a",null]})")),
            "PATH  PID  STATE  RESTARTS  UPTIME  KIND  MODE  OS_PID\n"
            "-     -    -             -       -  -     -          -\n"
            "-     -    -             -       -  -     -          -\n"
            "-     -    -             -       -  -     -          -\n");
}

TEST(IexFormat, PrintsReplyValuesAsTerms) {
  using vigil::ctl::json_as_term;
  EXPECT_EQ(json_as_term(nullptr), "nil");
  EXPECT_EQ(json_as_term(true), "true");
  EXPECT_EQ(json_as_term(42), "42");
  EXPECT_EQ(json_as_term(1.5), "1.5");
  EXPECT_EQ(json_as_term("waiting"), ":waiting");
  EXPECT_EQ(json_as_term("file.cpp:42 (loop)"), "\"file.cpp:42 (loop)\"");
  EXPECT_EQ(json_as_term(parse(R"(["{:ok, :pong}", "#PID<0.1.0>"])")),
            "[{:ok, :pong}, #PID<0.1.0>]");
  EXPECT_EQ(json_as_term(parse(R"({"id":"echo","n":1,"odd key":2})")),
            "%{id: :echo, n: 1, \"odd key\": 2}");
}

TEST(IexFormat, InfoIsAKeywordListWrappedAt80Columns) {
  json info = parse(R"j({"current_function":"echo.cpp:42 (loop)","initial_call":"echo",
    "status":"waiting","message_queue_len":0,"messages":[],"links":[],"trap_exit":false,
    "memory":1024,"reductions":1})j");
  EXPECT_EQ(vigil::ctl::keyword_list(info),
            "[current_function: \"echo.cpp:42 (loop)\", initial_call: :echo, status: :waiting,\n"
            " message_queue_len: 0, messages: [], links: [], trap_exit: false, memory: 1024,\n"
            " reductions: 1]");
  EXPECT_EQ(vigil::ctl::keyword_list(parse("{}")), "[]");
}

TEST(IexFormat, WrapsItemsGreedily) {
  EXPECT_EQ(vigil::ctl::wrap_items("[", {"aaaa", "bbbb", "cccc"}, "]", 12), "[aaaa, bbbb,\n cccc]");
  EXPECT_EQ(vigil::ctl::wrap_items("[", {}, "]", 12), "[]");
}

} // namespace
