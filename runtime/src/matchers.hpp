// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "vigil/runtime/context.hpp"

namespace vigil::detail {

// The tests behind matcher::any, none and of: named, so that the receive can tell what a
// matcher accepts (mailbox_index.hpp, heads_of) and take the oldest message at once for `any`.
int match_any(const matcher& self, const term& message, bindings& out);
int match_none(const matcher& self, const term& message, bindings& out);
int match_one(const matcher& self, const term& message, bindings& out);
int match_clauses(const matcher& self, const term& message, bindings& out);

} // namespace vigil::detail
