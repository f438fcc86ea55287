// SPDX-License-Identifier: Apache-2.0
#pragma once

// The config's "did you mean" comes from vigil::common, which vigilctl shares.
#include "vigil/common/suggest.hpp"

namespace vigil::config::detail {
using vigil::closest;
using vigil::edit_distance;
} // namespace vigil::config::detail
