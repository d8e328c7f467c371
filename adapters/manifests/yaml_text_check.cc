#include "adapters/manifests/yaml_text_check.h"

#include <cstdint>

namespace adapters::manifest_yaml {

namespace {

std::string hex_byte(unsigned char byte) {
  constexpr char k_digits[] = "0123456789abcdef";
  return std::string("0x") + k_digits[byte >> 4] + k_digits[byte & 15];
}

std::string code_point(std::uint32_t value) {
  constexpr char k_digits[] = "0123456789ABCDEF";
  std::string digits;
  for (int shift = value > 0xffff ? 20 : 12; shift >= 0; shift -= 4) {
    digits += k_digits[(value >> shift) & 15];
  }
  return "U+" + digits;
}

// The code point of the UTF-8 sequence at the start of `text` and its
// length, or length 0 when it is not valid UTF-8 (truncated, overlong, a
// surrogate, beyond U+10FFFF).
struct Decoded {
  std::uint32_t value = 0;
  std::size_t length = 0;
};

Decoded decode(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text[0]);
  if (lead < 0x80) {
    return Decoded{lead, 1};
  }
  std::size_t length = 0;
  std::uint32_t value = 0;
  std::uint32_t minimum = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, value = lead & 0x1fu, minimum = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, value = lead & 0x0fu, minimum = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, value = lead & 0x07u, minimum = 0x10000;
  } else {
    return Decoded{};
  }
  if (text.size() < length) {
    return Decoded{};
  }
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[i]);
    if ((next & 0xc0u) != 0x80u) {
      return Decoded{};
    }
    value = (value << 6) | (next & 0x3fu);
  }
  if (value < minimum || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
    return Decoded{};
  }
  return Decoded{value, length};
}

// Why a decoded character may not appear, or empty when it may. CR and LF
// are the caller's (they depend on what follows).
std::string refusal(std::uint32_t value) {
  if (value == 0x85 || value == 0x2028 || value == 0x2029) {
    return "character " + code_point(value) + " is not allowed (yaml 1.1 reads it as a line break, yaml 1.2 as text)";
  }
  if (value == '\t' || (value >= 0x20 && value <= 0x7e) || (value >= 0xa0 && value <= 0xd7ff) ||
      (value >= 0xe000 && value <= 0xfffd && value != 0xfeff) || value >= 0x10000) {
    return "";
  }
  if (value == 0xfeff) {
    return "byte order mark U+FEFF is only allowed at the start of the file";
  }
  if (value < 0x20 || (value >= 0x7f && value <= 0x9f)) {
    return "control character " + code_point(value) + " is not allowed";
  }
  return "character " + code_point(value) + " is not allowed";
}

TextProblem problem_at(std::size_t pos, int line, int column, std::string message) {
  TextProblem problem;
  problem.mark.pos = static_cast<int>(pos);
  problem.mark.line = line;
  problem.mark.column = column;
  problem.message = std::move(message);
  return problem;
}

}  // namespace

std::optional<TextProblem> find_text_problem(std::string_view text) {
  std::size_t pos = 0;
  // yaml-cpp skips a leading byte order mark without counting it in marks.
  if (text.starts_with(k_byte_order_mark)) {
    pos = k_byte_order_mark.size();
  } else if (text.starts_with("\xfe\xff") || text.starts_with("\xff\xfe")) {
    return problem_at(0, 0, 0, "utf-16 is not supported (save the file as utf-8)");
  }
  int line = 0;
  int column = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    // ASCII text is nearly all of a manifest: the common case stays short.
    if ((c >= 0x20 && c <= 0x7e) || c == '\t') {
      ++pos, ++column;
      continue;
    }
    if (c == '\n') {
      ++pos, ++line, column = 0;
      continue;
    }
    if (c == '\r') {
      if (pos + 1 < text.size() && text[pos + 1] == '\n') {
        pos += 2, ++line, column = 0;
        continue;
      }
      return problem_at(pos, line, column, "carriage return without a line feed (use LF or CRLF line endings)");
    }
    const Decoded decoded = decode(text.substr(pos));
    if (decoded.length == 0) {
      return problem_at(pos, line, column, "invalid utf-8 byte " + hex_byte(static_cast<unsigned char>(c)));
    }
    if (std::string why = refusal(decoded.value); !why.empty()) {
      return problem_at(pos, line, column, std::move(why));
    }
    pos += decoded.length;
    column += static_cast<int>(decoded.length);
  }
  return std::nullopt;
}

}  // namespace adapters::manifest_yaml
