#include "tests/yaml_differential/describe.h"

namespace tests::yaml_differential::detail {

void append_scalar(std::string& out, std::string_view tag, std::string_view text) {
  constexpr char k_digits[] = "0123456789abcdef";
  out.append(tag).append(" \"");
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '"' || c == '\\') {
      out.append("\\x").append(1, k_digits[byte >> 4]).append(1, k_digits[byte & 15]);
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace tests::yaml_differential::detail
