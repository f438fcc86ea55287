// SPDX-License-Identifier: Apache-2.0
#include "vigil/common/error.hpp"

namespace vigil {
namespace {

class category final : public std::error_category {
public:
  [[nodiscard]] const char* name() const noexcept override { return "vigil"; }

  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
    case errc::invalid_argument: return "invalid argument";
    case errc::parse_error: return "parse error";
    case errc::decode_error: return "decode error";
    case errc::limit_exceeded: return "limit exceeded";
    case errc::not_found: return "not found";
    case errc::already_exists: return "already exists";
    case errc::config_invalid: return "invalid config";
    }
    return "unknown vigil error";
  }
};

} // namespace

const std::error_category& vigil_category() noexcept {
  static const category instance;
  return instance;
}

std::string error::message() const {
  if (context.empty()) {
    return code.message();
  }
  return context + ": " + code.message();
}

} // namespace vigil
