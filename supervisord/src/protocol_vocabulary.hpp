// SPDX-License-Identifier: Apache-2.0
#pragma once

// vigild speaks the control protocol (vigil::protocol, docs/protocol.md): its framing,
// requests, error codes and targets are the daemon's vocabulary, so the daemon's sources name
// them unqualified. The protocol itself lives below the daemon, in protocol/, where vigilctl
// links it too.

#include "vigil/protocol/framing.hpp"
#include "vigil/protocol/request.hpp"
#include "vigil/protocol/term_args.hpp"

namespace vigil::daemon {

using protocol::begin_reply_ok;
using protocol::command;
using protocol::command_from_name;
using protocol::command_name;
using protocol::end_reply_ok;
using protocol::error_code;
using protocol::error_code_name;
using protocol::line_buffer;
using protocol::max_request_line;
using protocol::parse_client_term;
using protocol::parse_request;
using protocol::parse_target;
using protocol::protocol_version;
using protocol::reply_error;
using protocol::reply_ok;
using protocol::request;
using protocol::request_error;
using protocol::split_path;
using protocol::substitute_self;
using protocol::target;

} // namespace vigil::daemon
