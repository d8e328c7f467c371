#include "adapters/manifests/yaml_quoted_text.h"

#include <algorithm>
#include <vector>

#include "adapters/manifests/yaml_text_check.h"

namespace adapters::manifest_yaml {

namespace {


// Whether a quote at `pos` opens a quoted scalar rather than sitting inside a
// plain one ("it's"): what comes before it on its line is indentation, an
// indicator, or a tag or anchor.
bool starts_token(std::string_view text, std::size_t pos) {
  std::size_t before = pos;
  while (before > 0 && (text[before - 1] == ' ' || text[before - 1] == '\t')) {
    --before;
  }
  if (before == 0 || text[before - 1] == '\n') {
    return true;
  }
  const char indicator = text[before - 1];
  if (std::string_view("[]{},").find(indicator) != std::string_view::npos) {
    return true;
  }
  // ':' ends a key whatever comes before it; '-' and '?' are indicators
  // only as a token of their own (`a- 'b` is a plain scalar going on).
  const bool alone = before == 1 || is_blank(text[before - 2]) ||
                     std::string_view("[{,").find(text[before - 2]) != std::string_view::npos;
  if (before < pos && (indicator == ':' || ((indicator == '-' || indicator == '?') && alone))) {
    return true;
  }
  // A tag or anchor: the word before the blank (after any flow indicator)
  // starts with '!' or '&'.
  std::size_t word = before;
  while (word > 0 && !is_blank(text[word - 1]) &&
         std::string_view("[{,").find(text[word - 1]) == std::string_view::npos) {
    --word;
  }
  return before < pos && (text[word] == '!' || text[word] == '&');
}

// Past the closing quote of the scalar opened at `pos`, or npos.
std::size_t skip_quoted(std::string_view text, std::size_t pos) {
  const char quote = text[pos];
  for (std::size_t i = pos + 1; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;
      } else {
        return i + 1;
      }
    }
  }
  return std::string_view::npos;
}

// Where the next token starts on the line from `pos`: past blanks and any
// properties (`&a`, `!t`) before it.
std::size_t next_token(std::string_view text, std::size_t pos) {
  pos = std::min(text.size(), text.find_first_not_of(" \t", pos));
  while (pos < text.size() && (text[pos] == '&' || text[pos] == '!')) {
    pos = std::min(text.size(), text.find_first_of(" \t\r\n", pos));
    pos = std::min(text.size(), text.find_first_not_of(" \t", pos));
  }
  return pos;
}

// Past the tags and anchors of the node at `pos`, and the blanks after them.
std::size_t past_properties(std::string_view text, std::size_t pos) {
  pos = std::min(pos, text.size());
  while (pos < text.size() && (text[pos] == '!' || text[pos] == '&')) {
    pos = std::min(text.size(), text.find_first_of(" \t\r\n", pos));
    pos = std::min(text.size(), text.find_first_not_of(" \t\r\n", pos));
  }
  return pos;
}

}  // namespace

std::optional<std::size_t> unclosed_quote(std::string_view text, std::size_t pos) {
  const std::size_t at = past_properties(text, pos);
  if (at >= text.size() || (text[at] != '"' && text[at] != '\'') || skip_quoted(text, at) != std::string_view::npos) {
    return std::nullopt;
  }
  return at;
}

std::optional<std::size_t> dropped_empty_lines(std::string_view text, std::size_t pos) {
  pos = past_properties(text, pos);
  const std::size_t end = pos < text.size() && (text[pos] == '"' || text[pos] == '\'') ? skip_quoted(text, pos)
                                                                                     : std::string_view::npos;
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  // The scalar's lines, from after the opening quote to the closing one.
  const std::string_view inside = text.substr(pos + 1, end - pos - 2);
  if (inside.find('\n') == std::string_view::npos) {
    return std::nullopt;
  }
  std::vector<std::string_view> lines;
  for (std::size_t at = 0; at <= inside.size();) {
    const std::size_t newline = std::min(inside.size(), inside.find('\n', at));
    lines.push_back(inside.substr(at, newline - at));
    at = newline + 1;
  }
  auto blank = [](std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; };
  if (lines.size() < 3 || !blank(lines.back())) {
    return std::nullopt;
  }
  std::size_t empty = 0;
  while (empty + 2 < lines.size() && blank(lines[lines.size() - 2 - empty])) {
    ++empty;
  }
  const std::string_view last = lines[lines.size() - 2 - empty];
  const std::size_t backslashes = last.size() - std::min(last.size(), last.find_last_not_of('\\') + 1);
  // An escaped line break (`"a\` at a line's end) keeps yaml-cpp right.
  if (text[pos] == '"' && backslashes % 2 == 1) {
    return std::nullopt;
  }
  const bool content = !(empty + 2 == lines.size() && blank(last));
  return empty >= 2 || (empty >= 1 && !content) ? std::optional<std::size_t>(end - 1) : std::nullopt;
}

std::optional<std::size_t> find_unclosed_quote(std::string_view text, std::size_t from) {
  std::size_t i = from;
  // Where a token must start: after a quoted scalar closed, the next thing
  // on the line is one even without an indicator (an error, but the quote
  // there opens a scalar as far as the scanner goes).
  std::size_t token_at = std::string_view::npos;
  // The last node read may be a quoted scalar itself, closed; or, when
  // nothing was read yet, the one that never closes.
  if (i < text.size() && (text[i] == '"' || text[i] == '\'')) {
    i = skip_quoted(text, i);
    if (i == std::string_view::npos) {
      return from;
    }
    token_at = next_token(text, i);
  }
  while (i < text.size()) {
    const char c = text[i];
    if (c == '#' && (i == 0 || is_blank(text[i - 1]))) {
      const std::size_t end = text.find('\n', i);
      i = end == std::string_view::npos ? text.size() : end;
    } else if ((c == '"' || c == '\'') && (i == token_at || starts_token(text, i))) {
      const std::size_t closed = skip_quoted(text, i);
      if (closed == std::string_view::npos) {
        return i;
      }
      i = closed;
      token_at = next_token(text, i);
    } else {
      ++i;
    }
  }
  return std::nullopt;
}

}  // namespace adapters::manifest_yaml
