// SPDX-License-Identifier: Apache-2.0
#include "vigil/worker_sdk/envelope.hpp"

namespace vigil::sdk {

atom send_tag() {
  static const atom tag("send");
  return tag;
}

atom exit_tag() {
  static const atom tag("exit");
  return tag;
}

atom ready_tag() {
  static const atom tag("ready");
  return tag;
}

atom main_tag() {
  static const atom tag("main");
  return tag;
}

term make_send(const term& to, const term& message) {
  return term::tuple({send_tag(), to, message});
}

term make_exit(const term& reason) {
  return term::tuple({exit_tag(), reason});
}

term make_ready(std::string_view status_text) {
  return term::tuple({ready_tag(), term(status_text.substr(0, max_ready_text))});
}

std::optional<delivery> as_send(const term& frame) {
  if (frame.is_tuple() && frame.size() == 3 && frame[0].is(send_tag())
      && (frame[1].is_pid() || frame[1].is_atom())) {
    return delivery{frame[1], frame[2]};
  }
  return std::nullopt;
}

std::optional<term> as_exit(const term& frame) {
  if (frame.is_tuple() && frame.size() == 2 && frame[0].is(exit_tag())) {
    return frame[1];
  }
  return std::nullopt;
}

std::optional<std::string> as_ready(const term& frame) {
  if (frame.is_tuple() && frame.size() == 2 && frame[0].is(ready_tag()) && frame[1].is_string()
      && frame[1].as_string().size() <= max_ready_text) {
    return std::string(frame[1].as_string());
  }
  return std::nullopt;
}

} // namespace vigil::sdk
