// SPDX-License-Identifier: Apache-2.0
#include "vigil/ctl/terminal_text.hpp"

namespace vigil::ctl {
namespace {

void append_hex(std::string& out, unsigned code) {
  constexpr std::string_view digits = "0123456789abcdef";
  out += "\\x";
  out += digits[(code >> 4U) & 0xFU];
  out += digits[code & 0xFU];
}

} // namespace

std::string escape_control_characters(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if ((byte < 0x20U && byte != '\t' && byte != '\n') || byte == 0x7fU) {
      append_hex(out, byte);
    } else if (byte == 0xc2U && i + 1 < text.size()
               && static_cast<unsigned char>(text[i + 1]) >= 0x80U
               && static_cast<unsigned char>(text[i + 1]) <= 0x9fU) {
      // U+0080-U+009F in UTF-8: C2 followed by the code point's own byte.
      append_hex(out, static_cast<unsigned char>(text[i + 1]));
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

} // namespace vigil::ctl
