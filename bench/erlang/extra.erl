%% SPDX-License-Identifier: Apache-2.0
%% Erlang/OTP versions of the runtime workloads that the anchors
%% (../shared/bench-anchors/erlang/anchors.erl) lack, so that bench/compare.sh can
%% run them beside bench/runtime_bench.cpp. Same conventions as the anchors: one
%% benchmark per VM, one JSON line on stdout, exit 0 on success and 1 on failure.
%%
%% Usage:
%%   erlc -o BUILD bench/erlang/extra.erl
%%   erl -noshell +S T:T +P 4000000 -pa BUILD -run extra main BENCH [ARGS...]
%% BENCH / ARGS (defaults in brackets):
%%   oneway     [M=1000000]                 a sender sends M {msg, I}; a receiver counts
%%   selective  [JUNK=0] [ROUNDS=100000]    reported as selective_JUNK
%%   spawn_exit [N=1000000]                 N processes that return at once
%% The inner loops carry no `after`: a watchdog halts the VM after ?TIMEOUT_MS
%% instead, so that no per-message timer is measured.
-module(extra).
-export([main/1]).

-define(TIMEOUT_MS, 420000).

main(Args) ->
    spawn(fun watchdog/0),
    Code = try run(Args) of
               ok -> 0
           catch C:R:St ->
               io:format(standard_error, "extra: ~p:~p~n~p~n", [C, R, St]),
               1
           end,
    erlang:halt(Code).

watchdog() ->
    receive
    after ?TIMEOUT_MS ->
        io:format(standard_error, "extra: timeout~n", []),
        erlang:halt(1)
    end.

run(["oneway" | Rest])     -> bench_oneway(arg(Rest, 1, 1000000));
run(["selective" | Rest])  -> bench_selective(arg(Rest, 1, 0), arg(Rest, 2, 100000));
run(["spawn_exit" | Rest]) -> bench_spawn_exit(arg(Rest, 1, 1000000));
run(Other)                 -> error({unknown_bench, Other}).

arg(L, I, _Default) when length(L) >= I -> list_to_integer(lists:nth(I, L));
arg(_, _, Default) -> Default.

now_ns() -> erlang:monotonic_time(nanosecond).

%% --------------------------------------------------------------- oneway
%% The driver sends M {msg, I} to a counter process back to back; the counter
%% sums them and reports {sum, S} after the M-th. Timed from the first send
%% until the driver has the sum.
bench_oneway(M) ->
    Self = self(),
    Counter = spawn(fun() -> count(M, 0, Self) end),
    T0 = now_ns(),
    send_msgs(Counter, 0, M),
    Sum = receive {sum, S} -> S end,
    T1 = now_ns(),
    Sum =:= M * (M - 1) div 2 orelse error({oneway_bad_sum, Sum}),
    Secs = (T1 - T0) / 1.0e9,
    emit([{bench, <<"oneway">>}, {n, M}, {seconds, Secs},
          {per_op_ns, (T1 - T0) / M}, {rss_kb, rss_kb()},
          {msgs_per_sec, M / Secs}]).

send_msgs(_To, M, M) -> ok;
send_msgs(To, I, M) -> To ! {msg, I}, send_msgs(To, I + 1, M).

count(0, Sum, Report) -> Report ! {sum, Sum};
count(N, Sum, Report) -> receive {msg, I} -> count(N - 1, Sum + I, Report) end.

%% ------------------------------------------------------------ selective
%% The driver queues JUNK {junk, I} messages to itself, then ROUNDS times sends
%% {req, self(), I} to an echo process and takes the reply {tag, I} with a
%% selective receive, which has to pass the JUNK unmatched messages every time
%% (erlang-semantics note 11). Reported per match.
bench_selective(Junk, Rounds) ->
    Echo = spawn(fun echo/0),
    [self() ! {junk, I} || I <- lists:seq(1, Junk)],
    T0 = now_ns(),
    ok = select(Echo, 0, Rounds),
    T1 = now_ns(),
    {message_queue_len, Junk} = process_info(self(), message_queue_len),
    Echo ! stop,
    Secs = (T1 - T0) / 1.0e9,
    emit([{bench, iolist_to_binary(["selective_", integer_to_list(Junk)])},
          {n, Rounds}, {seconds, Secs}, {per_op_ns, (T1 - T0) / Rounds},
          {rss_kb, rss_kb()}, {junk, Junk}, {us_per_match, (T1 - T0) / Rounds / 1000}]).

select(_Echo, Rounds, Rounds) -> ok;
select(Echo, I, Rounds) ->
    Echo ! {req, self(), I},
    receive {tag, I} -> select(Echo, I + 1, Rounds) end.

echo() ->
    receive
        {req, From, I} -> From ! {tag, I}, echo();
        stop -> ok
    end.

%% ----------------------------------------------------------- spawn_exit
%% N processes that end as soon as they run; timed from before the first spawn
%% until process_count is back to its value before (polled every 1 ms, as the
%% anchors' spawn does).
bench_spawn_exit(N) ->
    Base = erlang:system_info(process_count),
    T0 = now_ns(),
    spawn_quick(N),
    wait_process_count(Base),
    T1 = now_ns(),
    emit([{bench, <<"spawn_exit">>}, {n, N}, {seconds, (T1 - T0) / 1.0e9},
          {per_op_ns, (T1 - T0) / N}, {rss_kb, rss_kb()}]).

spawn_quick(0) -> ok;
spawn_quick(I) -> spawn(fun() -> ok end), spawn_quick(I - 1).

wait_process_count(Base) ->
    case erlang:system_info(process_count) =< Base of
        true -> ok;
        false -> receive after 1 -> ok end, wait_process_count(Base)
    end.

%% ---------------------------------------------------------------- utils
rss_kb() -> status_kb(<<"VmRSS:">>).

status_kb(Key) ->
    {ok, Bin} = file:read_file("/proc/self/status"),
    find_kb(binary:split(Bin, <<"\n">>, [global]), Key).

find_kb([], _Key) -> 0;
find_kb([L | T], Key) ->
    Sz = byte_size(Key),
    case L of
        <<Key:Sz/binary, Rest/binary>> ->
            [Num | _] = binary:split(string:trim(Rest), <<" ">>),
            binary_to_integer(Num);
        _ -> find_kb(T, Key)
    end.

emit(Fields0) ->
    Fields = [{bench, proplists:get_value(bench, Fields0)},
              {impl, <<"erlang">>},
              {threads, erlang:system_info(schedulers_online)}
             | proplists:delete(bench, Fields0)]
             ++ [{peak_rss_kb, status_kb(<<"VmHWM:">>)},
                 {otp, list_to_binary(erlang:system_info(otp_release))},
                 {ts, erlang:system_time(second)}],
    io:format("~s~n", [json(Fields)]),
    ok.

json(Fields) ->
    Parts = [[$", atom_to_list(K), $", $:, val(V)] || {K, V} <- Fields],
    ["{", lists:join(",", Parts), "}"].

val(true) -> "true";
val(false) -> "false";
val(V) when is_integer(V) -> integer_to_list(V);
val(V) when is_float(V) -> float_to_list(V, [{decimals, 6}, compact]);
val(V) when is_binary(V) -> [$", V, $"].
