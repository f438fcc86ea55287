// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>

namespace vigil::observer {

/// The observer's page (GET /): one self-contained HTML file, its script and style inline,
/// compiled into vigild, so that it works with no network and nothing installed.
[[nodiscard]] std::string_view observer_page();

} // namespace vigil::observer
