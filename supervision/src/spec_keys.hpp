// SPDX-License-Identifier: Apache-2.0
#pragma once

// The map keys and enum atoms of spec terms, shared by the encoder and the decoder.

#include "vigil/term/atom.hpp"

#include <array>

namespace vigil::supervision::detail {

inline const atom k_id("id");
inline const atom k_type("type");
inline const atom k_restart("restart");
inline const atom k_shutdown("shutdown");
inline const atom k_significant("significant");
inline const atom k_backoff("backoff");
inline const atom k_kind("kind");
inline const atom k_args("args");
inline const atom k_mode("mode");
inline const atom k_os("os");
inline const atom k_supervisor("supervisor");
inline const atom k_where("where");
inline const atom k_initial("initial");
inline const atom k_max("max");
inline const atom k_multiplier("multiplier");
inline const atom k_jitter("jitter");
inline const atom k_reset_after("reset_after");
inline const atom k_command("command");
inline const atom k_env("env");
inline const atom k_cwd("cwd");
inline const atom k_umask("umask");
inline const atom k_user("user");
inline const atom k_group("group");
inline const atom k_stop_signal("stop_signal");
inline const atom k_may_send("may_send");
inline const atom k_name("name");
inline const atom k_strategy("strategy");
inline const atom k_intensity("intensity");
inline const atom k_period("period");
inline const atom k_auto_shutdown("auto_shutdown");
inline const atom k_max_children("max_children");
inline const atom k_children("children");
inline const atom a_brutal_kill("brutal_kill");
// failure domains
inline const atom k_immediate("immediate");
inline const atom k_on_max_restarts("on_max_restarts");
inline const atom k_hold_retry("hold_retry");
inline const atom k_hold_retry_max("hold_retry_max");
inline const atom k_default_backoff("default_backoff");
inline const std::array<atom, 2> max_restarts_atoms{atom("escalate"), atom("hold")};

inline const std::array<atom, 4> strategy_atoms{atom("one_for_one"), atom("one_for_all"),
                                                atom("rest_for_one"), atom("simple_one_for_one")};
inline const std::array<atom, 3> restart_atoms{atom("permanent"), atom("transient"),
                                               atom("temporary")};
inline const std::array<atom, 2> type_atoms{atom("worker"), atom("supervisor")};
inline const std::array<atom, 3> auto_shutdown_atoms{atom("never"), atom("any_significant"),
                                                     atom("all_significant")};

} // namespace vigil::supervision::detail
