#include "model/printable.h"

#include <cstdint>
#include <cstdio>

namespace model {

namespace {

/// One decoded UTF-8 sequence: its code point and byte length, or an
/// invalid byte (length 1, `valid` false).
struct Decoded {
  char32_t code_point = 0;
  std::size_t length = 1;
  bool valid = false;
};

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF, as a JSON parser on the homeserver would insist.
Decoded decode(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) {
    return {lead, 1, true};
  }
  std::size_t length = 0;
  char32_t code_point = 0;
  char32_t minimum = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code_point = lead & 0x1F;
    minimum = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code_point = lead & 0x0F;
    minimum = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code_point = lead & 0x07;
    minimum = 0x10000;
  } else {
    return {};
  }
  if (at + length > text.size()) {
    return {};
  }
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(at + i);
    if ((next & 0xC0) != 0x80) {
      return {};
    }
    code_point = (code_point << 6) | (next & 0x3F);
  }
  if (code_point < minimum || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return {};
  }
  return {code_point, length, true};
}

bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }
bool is_bidi_control(char32_t c) { return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069); }
bool is_line_separator(char32_t c) { return c == 0x2028 || c == 0x2029; }
bool is_dangerous(char32_t c) { return is_control(c) || is_bidi_control(c) || is_line_separator(c); }

std::string code_point_name(char32_t c) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(c));
  return buffer;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const Decoded decoded = decode(text, at);
    char buffer[16];
    if (!decoded.valid) {
      std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(text[at])));
      out += buffer;
    } else if (decoded.code_point == '\n') {
      out += "\\n";
    } else if (decoded.code_point == '\t') {
      out += "\\t";
    } else if (decoded.code_point == '\r') {
      out += "\\r";
    } else if (is_dangerous(decoded.code_point)) {
      std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(decoded.code_point));
      out += buffer;
    } else {
      out.append(text.substr(at, decoded.length));
    }
    at += decoded.length;
  }
  return out;
}

std::optional<std::string> check_plain_text(std::string_view text, bool allow_line_breaks) {
  for (std::size_t at = 0; at < text.size();) {
    const Decoded decoded = decode(text, at);
    if (!decoded.valid) {
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "is not valid UTF-8 (byte 0x%02X at offset %zu)",
                    static_cast<unsigned>(static_cast<unsigned char>(text[at])), at);
      return std::string(buffer);
    }
    const char32_t c = decoded.code_point;
    if (allow_line_breaks && (c == '\n' || c == '\t')) {
      // Kept: a message's lines and indentation.
    } else if (c == '\n' || c == '\r' || is_line_separator(c)) {
      return "contains a line break (" + code_point_name(c) + ")";
    } else if (is_control(c)) {
      return "contains a control character (" + code_point_name(c) + ")";
    } else if (is_bidi_control(c)) {
      return "contains a bidirectional override (" + code_point_name(c) + ")";
    }
    at += decoded.length;
  }
  return std::nullopt;
}

std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t at = 0; at < text.size(); at += decode(text, at).length) {
    ++count;
  }
  return count;
}

}  // namespace model
