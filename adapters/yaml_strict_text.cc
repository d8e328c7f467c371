#include "adapters/yaml_strict_text.h"

#include "adapters/yaml_split.h"

namespace adapters::manifest_yaml {

namespace {

std::size_t line_start(std::string_view text, std::size_t pos) {
  const std::size_t newline = pos == 0 ? std::string_view::npos : text.rfind('\n', pos - 1);
  return newline == std::string_view::npos ? 0 : newline + 1;
}

// A "..." line with at most a comment after it.
bool is_clean_end_marker(std::string_view line) {
  if (!is_marker_line(line, "...")) {
    return false;
  }
  const std::size_t next = line.find_first_not_of(" \t\r\n", 3);
  return next == std::string_view::npos || (line[next] == '#' && next > 3);
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

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
  if (before < pos && std::string_view(":-?").find(indicator) != std::string_view::npos) {
    return true;
  }
  // A tag or anchor: the word before the blank starts with '!' or '&'.
  std::size_t word = before;
  while (word > 0 && !is_blank(text[word - 1])) {
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

}  // namespace

std::optional<TextSpot> bare_document_problem(std::string_view text, std::size_t pos, bool first) {
  const char found = text[pos];
  const TextSpot stray{pos, std::string_view(",[]{}?:-").find(found) != std::string_view::npos
                                ? "unexpected '" + std::string(1, found) + "'"
                                : "unexpected content after the end of the document"};
  std::size_t begin = line_start(text, pos);
  if (text.substr(begin, pos - begin).find_first_not_of(" \t") != std::string_view::npos) {
    return stray;
  }
  // The directive nearest the document, if any: yaml-cpp has read it as
  // belonging to this document.
  std::optional<std::size_t> directive;
  bool after_end_marker = false;
  while (begin > 0 && !after_end_marker) {
    const std::size_t previous = line_start(text, begin - 1);
    const std::string_view line = text.substr(previous, begin - previous);
    const std::size_t first_char = line.find_first_not_of(" \t\r\n");
    begin = previous;
    if (first_char == std::string_view::npos || line[first_char] == '#') {
      continue;
    }
    if (line.front() == '%') {
      directive = directive.value_or(previous);
      continue;
    }
    if (is_clean_end_marker(line)) {
      after_end_marker = true;
      continue;
    }
    if (directive) {
      return TextSpot{*directive, "a directive inside a document (directives go before ---)"};
    }
    return stray;
  }
  if (directive) {
    return TextSpot{*directive, "a directive must be followed by ---"};
  }
  return first || after_end_marker ? std::nullopt : std::optional<TextSpot>(stray);
}

std::optional<std::size_t> find_unclosed_quote(std::string_view text, std::size_t from) {
  std::size_t i = from;
  // The last node read may be a quoted scalar itself, closed; or, when
  // nothing was read yet, the one that never closes.
  if (i < text.size() && (text[i] == '"' || text[i] == '\'')) {
    i = skip_quoted(text, i);
    if (i == std::string_view::npos) {
      return from;
    }
  }
  while (i < text.size()) {
    const char c = text[i];
    if (c == '#' && (i == 0 || is_blank(text[i - 1]))) {
      const std::size_t end = text.find('\n', i);
      i = end == std::string_view::npos ? text.size() : end;
    } else if ((c == '"' || c == '\'') && starts_token(text, i)) {
      const std::size_t closed = skip_quoted(text, i);
      if (closed == std::string_view::npos) {
        return i;
      }
      i = closed;
    } else {
      ++i;
    }
  }
  return std::nullopt;
}

}  // namespace adapters::manifest_yaml
