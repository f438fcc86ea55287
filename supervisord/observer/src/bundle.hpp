// SPDX-License-Identifier: Apache-2.0
#pragma once

// The front-end libraries the page loads (uPlot, for its restart chart), as installed by
// `npm ci` from supervisord/observer/web/package-lock.json and compiled in at build time
// (bundle.cmake): served from vigild itself, so that the page needs no network.

#include <string_view>

namespace vigil::observer {

[[nodiscard]] std::string_view uplot_js();
[[nodiscard]] std::string_view uplot_css();

} // namespace vigil::observer
