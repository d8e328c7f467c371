#include "mxsim/ids.h"

#include <chrono>
#include <mutex>
#include <random>

namespace mxsim {

namespace {

std::optional<QualifiedId> parse_sigil_id(std::string_view text, char sigil) {
  if (text.size() < 4 || text[0] != sigil) {
    return std::nullopt;
  }
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 1 || colon + 1 >= text.size()) {
    return std::nullopt;
  }
  return QualifiedId{std::string(text.substr(1, colon - 1)), std::string(text.substr(colon + 1))};
}

}  // namespace

std::optional<QualifiedId> parse_user_id(std::string_view user_id) { return parse_sigil_id(user_id, '@'); }

std::optional<QualifiedId> parse_room_alias(std::string_view alias) { return parse_sigil_id(alias, '#'); }

std::optional<std::string> localpart_problem(std::string_view localpart, std::string_view server_name) {
  if (localpart.empty()) {
    return "User ID cannot be empty";
  }
  for (char c : localpart) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '=' || c == '_' || c == '-' || c == '.' ||
              c == '/' || c == '+';
    if (!ok) {
      return "User ID can only contain characters a-z, 0-9, or '=_-./+'";
    }
  }
  if (localpart[0] == '_') {
    return "User ID may not begin with _";
  }
  if (localpart.size() + server_name.size() + 2 > 255) {
    return "User ID may not be longer than 255 characters";
  }
  return std::nullopt;
}

bool is_valid_alias_localpart(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (char c : name) {
    if (c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '#') {
      return false;
    }
  }
  return true;
}

std::string random_string(size_t length) {
  static const char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof(k_alphabet) - 2);
  std::string out;
  out.reserve(length);
  for (size_t i = 0; i < length; ++i) {
    out.push_back(k_alphabet[pick(engine)]);
  }
  return out;
}

std::string new_room_id(const std::string& server_name) { return "!" + random_string(18) + ":" + server_name; }

std::string new_event_id() { return "$" + random_string(43); }

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace mxsim
