#include "adapters/manifests/yaml_strict_text.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "adapters/manifests/yaml_split.h"
#include "adapters/manifests/yaml_text_check.h"

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


bool is_flow_indicator(char c) { return std::string_view(",[]{}").find(c) != std::string_view::npos; }

// Past the anchor or alias name starting at `pos`. YAML 1.2 allows nearly
// any character in one, libyaml letters, digits, '-' and '_': manifests
// keep to those.
std::size_t name_end(std::string_view text, std::size_t pos) {
  while (pos < text.size() &&
         (std::isalnum(static_cast<unsigned char>(text[pos])) || text[pos] == '-' || text[pos] == '_')) {
    ++pos;
  }
  return pos;
}

// Where in `uri` a '%' is not followed by two hex digits, or npos.
std::size_t bad_escape(std::string_view uri) {
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && (i + 2 >= uri.size() || !std::isxdigit(static_cast<unsigned char>(uri[i + 1])) ||
                          !std::isxdigit(static_cast<unsigned char>(uri[i + 2])))) {
      return i;
    }
  }
  return std::string_view::npos;
}

// The words of a directive line, without its comment.
std::vector<std::string_view> directive_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t at = 0;
  while (at < line.size()) {
    at = line.find_first_not_of(" \t\r\n", at);
    if (at == std::string_view::npos || (line[at] == '#' && at > 0 && is_blank(line[at - 1]))) {
      break;
    }
    const std::size_t end = std::min(line.size(), line.find_first_of(" \t\r\n", at));
    words.push_back(line.substr(at, end - at));
    at = end;
  }
  return words;
}

bool is_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A number's digits without leading zeros ("0" stays).
std::string_view without_leading_zeros(std::string_view digits) {
  while (digits.size() > 1 && digits.front() == '0') {
    digits.remove_prefix(1);
  }
  return digits;
}

// YAML 1.2's ns-uri-char without '#' (which libyaml refuses in tags and no
// manifest needs), less %-escapes' digits (any '%' passes).
bool is_uri_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-;/?:@&=+$,_.!~*'()[]%").find(c) != std::string_view::npos;
}

// Where the directive `line` (starting with '%') is wrong, as an offset in
// it: %YAML takes a version ("1.2"), %TAG a handle ("!", "!!", "!name!")
// and a prefix of URI characters; no other directive is known.
std::optional<std::size_t> bad_directive(std::string_view line) {
  const std::vector<std::string_view> words = directive_words(line);
  auto offset = [&](std::size_t word) {
    return word < words.size() ? static_cast<std::size_t>(words[word].data() - line.data()) : line.size();
  };
  if (words.front() == "%YAML") {
    const std::size_t dot = words.size() > 1 ? words[1].find('.') : std::string_view::npos;
    if (words.size() != 2 || dot == std::string_view::npos || !is_digits(words[1].substr(0, dot)) ||
        !is_digits(words[1].substr(dot + 1))) {
      return offset(words.size() == 2 ? 1 : std::min<std::size_t>(words.size(), 2));
    }
    // Only the versions whose syntax yaml-cpp reads: 1.2 and 1.1, numbers
    // of at most 9 digits (libyaml takes no other either). 1.2 would read a
    // 1.3 document with a warning, which a cron job's operator never sees.
    const std::string_view major = without_leading_zeros(words[1].substr(0, dot));
    const std::string_view minor = without_leading_zeros(words[1].substr(dot + 1));
    if (major != "1" || (minor != "1" && minor != "2") || dot > 9 || words[1].size() - dot - 1 > 9) {
      return offset(1);
    }
    return std::nullopt;
  }
  if (words.front() == "%TAG") {
    if (words.size() != 3) {
      return offset(std::min<std::size_t>(words.size(), 3));
    }
    const std::string_view handle = words[1];
    const bool named = handle.size() > 2 && std::all_of(handle.begin() + 1, handle.end() - 1, [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
                       });
    if (!(handle == "!" || handle == "!!" || (named && handle.front() == '!' && handle.back() == '!'))) {
      return offset(1);
    }
    const std::string_view prefix = words[2];
    const bool uri = std::all_of(prefix.begin(), prefix.end(), is_uri_char);
    if (!uri || is_flow_indicator(prefix.front()) || bad_escape(prefix) != std::string_view::npos) {
      return offset(2);
    }
    return std::nullopt;
  }
  return 0;
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

std::optional<TextSpot> directive_problem(std::string_view text, std::size_t pos) {
  std::optional<TextSpot> found;
  std::size_t begin = line_start(text, pos);
  while (begin > 0) {
    const std::size_t previous = line_start(text, begin - 1);
    const std::string_view line = text.substr(previous, begin - previous);
    const std::size_t first_char = line.find_first_not_of(" \t\r\n");
    begin = previous;
    if (first_char == std::string_view::npos || line[first_char] == '#') {
      continue;
    }
    if (line.front() != '%') {
      break;
    }
    if (std::optional<std::size_t> bad = bad_directive(line)) {
      const std::string_view name = line.substr(1, line.find_first_of(" \t\r\n") - 1);
      found = TextSpot{previous + *bad, name == "YAML" || name == "TAG"
                                            ? "invalid %" + std::string(name) + " directive"
                                            : "unknown directive \"%" + std::string(name) +
                                                  "\" (only %YAML and %TAG are known)"};
    }
  }
  return found;
}

std::optional<TextSpot> trailing_directive(std::string_view text) {
  std::optional<std::size_t> directive;
  std::size_t end = text.size();
  while (end > 0) {
    const std::size_t begin = line_start(text, end - 1);
    const std::string_view line = text.substr(begin, end - begin);
    const std::size_t first_char = line.find_first_not_of(" \t\r\n");
    end = begin;
    if (first_char == std::string_view::npos || line[first_char] == '#') {
      continue;
    }
    if (line.front() == '%') {
      directive = begin;
      continue;
    }
    if (directive && !is_clean_end_marker(line)) {
      return TextSpot{*directive, "a directive after a document needs a line with ... before it"};
    }
    break;
  }
  if (directive) {
    return TextSpot{*directive, "a directive must be followed by ---"};
  }
  return std::nullopt;
}

std::optional<TextSpot> alias_problem(std::string_view text, std::size_t pos) {
  if (pos >= text.size() || text[pos] != '*') {
    return std::nullopt;
  }
  const std::size_t end = name_end(text, pos + 1);
  if (end == pos + 1 ||
      (end < text.size() && !is_blank(text[end]) && !is_flow_indicator(text[end]) && text[end] != ':')) {
    return TextSpot{end, "invalid character in an alias name (letters, digits, '-' and '_' only)"};
  }
  return std::nullopt;
}

std::optional<TextSpot> properties_problem(std::string_view text, std::size_t pos) {
  while (pos < text.size() && (text[pos] == '!' || text[pos] == '&')) {
    std::size_t end = pos + 1;
    if (text[pos] == '&') {
      end = name_end(text, end);
      if (end == pos + 1 || (end < text.size() && !is_blank(text[end]) && !is_flow_indicator(text[end]))) {
        return TextSpot{end, "invalid character in an anchor name (letters, digits, '-' and '_' only)"};
      }
    } else if (text.substr(pos).starts_with("!<")) {
      end = pos + 2;
      while (end < text.size() && is_uri_char(text[end])) {
        ++end;
      }
      if (end >= text.size() || text[end] != '>') {
        return TextSpot{end, "invalid character in a tag"};
      }
      if (end == pos + 2) {
        return TextSpot{pos, "empty tag"};
      }
      if (const std::size_t escape = bad_escape(text.substr(pos, end - pos)); escape != std::string_view::npos) {
        return TextSpot{pos + escape, "invalid character in a tag"};
      }
      ++end;
    } else {
      // A handle ("!", "!!" or "!name!"), then the suffix.
      std::size_t name = end;
      while (name < text.size() && (std::isalnum(static_cast<unsigned char>(text[name])) || text[name] == '-')) {
        ++name;
      }
      if (name < text.size() && text[name] == '!') {
        end = name + 1;
      }
      while (end < text.size() && is_uri_char(text[end]) && text[end] != '!' && !is_flow_indicator(text[end])) {
        ++end;
      }
      if (end < text.size() && !is_blank(text[end]) && !is_flow_indicator(text[end])) {
        return TextSpot{end, "invalid character in a tag"};
      }
      if (const std::size_t escape = bad_escape(text.substr(pos, end - pos)); escape != std::string_view::npos) {
        return TextSpot{pos + escape, "invalid character in a tag"};
      }
    }
    if (end < text.size() && !is_blank(text[end]) &&
        std::string_view(",]}").find(text[end]) == std::string_view::npos) {
      return TextSpot{end, text[pos] == '!' ? "expected a space after the tag" : "expected a space after the anchor"};
    }
    pos = end;
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) {
      ++pos;
    }
  }
  return std::nullopt;
}

std::optional<std::size_t> final_tag(std::string_view text) {
  std::size_t end = text.size();
  while (end > 0 || !text.empty()) {
    // The line ending at `end`, less its comment.
    const std::size_t begin = line_start(text, end);
    std::size_t content_end = end;
    for (std::size_t i = begin; i < end; ++i) {
      if (text[i] == '#' && (i == begin || is_blank(text[i - 1]))) {
        content_end = i;
        break;
      }
    }
    const std::size_t last = text.substr(0, content_end).find_last_not_of(" \t\r\n");
    if (last != std::string_view::npos && last >= begin) {
      // The words that end the line while they are properties (`!t &a`).
      std::optional<std::size_t> tag;
      std::size_t before = last + 1;
      while (before > begin) {
        std::size_t word = before;
        while (word > begin && !is_blank(text[word - 1])) {
          --word;
        }
        if (text[word] != '!' && text[word] != '&') {
          break;
        }
        tag = text[word] == '!' ? word : tag;
        before = word;
        while (before > begin && is_blank(text[before - 1])) {
          --before;
        }
      }
      // They start a node unless they end a plain scalar (`a: b !c`).
      const bool node = before == begin || std::string_view(":-?[{,").find(text[before - 1]) != std::string_view::npos;
      return node ? tag : std::nullopt;
    }
    if (begin == 0) {
      break;
    }
    end = begin - 1;
  }
  return std::nullopt;
}

std::size_t node_content(std::string_view text, std::size_t pos) {
  while (pos < text.size() && (text[pos] == '!' || text[pos] == '&')) {
    pos = std::min(text.size(), text.find_first_of(" \t\r\n", pos));
    // Blanks, line breaks and comments up to the content.
    while (pos < text.size() && (is_blank(text[pos]) || text[pos] == '#')) {
      pos = text[pos] == '#' ? std::min(text.size(), text.find('\n', pos)) : pos + 1;
    }
  }
  return pos;
}

bool indented_with_tab(std::string_view text, std::size_t pos) {
  pos = std::min(pos, text.size());
  const std::string_view indentation = text.substr(line_start(text, pos), pos - line_start(text, pos));
  return indentation.find('\t') != std::string_view::npos &&
         indentation.find_first_not_of(" \t") == std::string_view::npos;
}

std::string excerpt(std::string_view text) {
  constexpr std::size_t k_shown = 40;
  std::size_t shown = std::min(text.size(), k_shown);
  while (shown < text.size() && shown > 0 && (static_cast<unsigned char>(text[shown]) & 0xc0u) == 0x80u) {
    --shown;
  }
  std::string out = "\"";
  for (const char c : text.substr(0, shown)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out + (shown < text.size() ? "...\"" : "\"");
}


}  // namespace adapters::manifest_yaml
