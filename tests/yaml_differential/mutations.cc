#include "tests/yaml_differential/mutations.h"

#include <string_view>

namespace tests::yaml_differential {

namespace {

// splitmix64: tiny, fast, and the same sequence everywhere.
class Random {
 public:
  explicit Random(std::uint64_t seed) : m_state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// In [0, bound); 0 when bound is 0.
  std::size_t below(std::size_t bound) { return bound == 0 ? 0 : static_cast<std::size_t>(next() % bound); }
  template <typename T, std::size_t N>
  const T& pick(const T (&items)[N]) {
    return items[below(N)];
  }

 private:
  std::uint64_t m_state;
};

// What gets inserted: YAML's indicators alone and in the combinations that
// mean something to a scanner, document markers, and line breaks.
constexpr std::string_view k_indicators[] = {
    "-",   "- ",  "?",     "? ",      ":",       ": ",     ",",     "[",   "]",    "{",   "}",
    "#",   " #",  "&a ",   "*a",      "!",       "!!str ", "!<x> ", "|",   ">",    "|-",  ">+",
    "'",   "\"",  "%",     "@",       "`",       "\\",     "\t",    " ",   "\n",   "\r",  "\r\n",
    "---", "...", "--- ,", "\n---\n", "\n...\n", "~",      "\"\\",  "'\n", "\"\n", "[\n", "<<: *a\n"};

// Bytes no manifest should hold: not UTF-8 (stray continuation, overlong,
// surrogate, beyond U+10FFFF, cut short, never valid), C0 controls and DEL,
// NEL, a C1 control, LS, a byte order mark, U+FFFE; and for contrast valid
// text (é, an emoji).
constexpr std::string_view k_bytes[] = {
    "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\xff", "\xfe", std::string_view("\x00", 1),
    "\x01", "\x07", "\x1b", "\x7f", "\x0b", "\x0c", "\xc2\x85", "\xc2\x80", "\xe2\x80\xa8", "\xef\xbb\xbf", "\xef\xbf\xbe",
    "\xc3\xa9", "\xf0\x9f\x98\x80", "\xf5\x80\x80\x80"};  // fine, fine, too high

// Characters whose loss breaks structure: quotes, colons, brackets, dashes.
constexpr std::string_view k_structural = "\"':-[]{}#,|>&*!";

struct Line {
  std::size_t begin;
  std::size_t end;  // past the '\n', if any
};

std::vector<Line> lines_of(const std::string& text) {
  std::vector<Line> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    const std::size_t newline = text.find('\n', begin);
    const std::size_t end = newline == std::string::npos ? text.size() : newline + 1;
    lines.push_back(Line{begin, end});
    begin = end;
  }
  return lines;
}

std::string hex(unsigned char byte) {
  constexpr char digits[] = "0123456789abcdef";
  return std::string("0x") + digits[byte >> 4] + digits[byte & 15];
}

// `bytes` as a recipe shows them: quoted, anything but printable ASCII as \xNN.
std::string shown(std::string_view bytes) {
  std::string out = "\"";
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
      out += "\\x" + hex(byte).substr(2);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string replace_all(const std::string& text, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t begin = 0;
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, begin)) {
    out.append(text, begin, at - begin).append(to);
    begin = at + from.size();
  }
  return out.append(text, begin);
}

// One mutation of `text`, described in `recipe`.
void mutate(std::string& text, Random& random, std::string& recipe) {
  const std::size_t at = random.below(text.size() + 1);
  const std::vector<Line> lines = lines_of(text);
  const Line line = lines.empty() ? Line{0, 0} : lines[random.below(lines.size())];
  const std::string where = " at " + std::to_string(at);
  switch (random.below(14)) {
    case 0:
      if (at < text.size()) {
        const unsigned char flipped = static_cast<unsigned char>(text[at]) ^ (1u << random.below(8));
        recipe += "flip byte" + where + " to " + hex(flipped);
        text[at] = static_cast<char>(flipped);
        return;
      }
      break;
    case 1:
      if (at < text.size()) {
        const auto byte = static_cast<unsigned char>(random.below(256));
        recipe += "set byte" + where + " to " + hex(byte);
        text[at] = static_cast<char>(byte);
        return;
      }
      break;
    case 2: {
      const std::size_t count = 1 + random.below(4);
      recipe += "delete " + std::to_string(count) + " bytes" + where;
      text.erase(std::min(at, text.size()), count);
      return;
    }
    case 3: {
      const std::string_view token = random.pick(k_indicators);
      recipe += "insert " + shown(token) + where;
      text.insert(at, token);
      return;
    }
    case 4: {
      // After a line's indentation, where indicators mean the most.
      const std::size_t indent = text.find_first_not_of(' ', line.begin);
      const std::size_t into = indent == std::string::npos || indent > line.end ? line.begin : indent;
      const std::string_view token = random.pick(k_indicators);
      recipe += "insert " + shown(token) + " at " + std::to_string(into);
      text.insert(into, token);
      return;
    }
    case 5:
      recipe += "truncate" + where;
      text.resize(at);
      return;
    case 6:
      switch (random.below(5)) {
        case 0:
          recipe += "all line ends to crlf";
          text = replace_all(text, "\n", "\r\n");
          return;
        case 1:
          recipe += "all line ends to cr";
          text = replace_all(text, "\n", "\r");
          return;
        case 2:
          if (line.end > line.begin && text[line.end - 1] == '\n') {
            recipe += "line end at " + std::to_string(line.end - 1) + " to cr";
            text[line.end - 1] = '\r';
            return;
          }
          break;
        case 3:
          if (line.end > line.begin && text[line.end - 1] == '\n') {
            recipe += "line end at " + std::to_string(line.end - 1) + " to crlf";
            text.insert(line.end - 1, "\r");
            return;
          }
          break;
        default:
          recipe += "strip the last line end";
          while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
            text.pop_back();
          }
          return;
      }
      break;
    case 7:
      recipe += "duplicate line at " + std::to_string(line.begin);
      text.insert(line.begin, text.substr(line.begin, line.end - line.begin));
      return;
    case 8:
      recipe += "delete line at " + std::to_string(line.begin);
      text.erase(line.begin, line.end - line.begin);
      return;
    case 9:
      if (line.end < text.size()) {
        const std::size_t next_end = std::min(text.size(), text.find('\n', line.end) + 1);
        const std::string first = text.substr(line.begin, line.end - line.begin);
        const std::string second = text.substr(line.end, next_end - line.end);
        recipe += "swap lines at " + std::to_string(line.begin);
        text.replace(line.begin, next_end - line.begin, second + first);
        return;
      }
      break;
    case 10:
      switch (random.below(3)) {
        case 0:
          recipe += "indent line at " + std::to_string(line.begin);
          text.insert(line.begin, 1 + random.below(3), ' ');
          return;
        case 1:
          recipe += "tab-indent line at " + std::to_string(line.begin);
          text.insert(line.begin, "\t");
          return;
        default:
          if (line.begin < text.size() && text[line.begin] == ' ') {
            recipe += "dedent line at " + std::to_string(line.begin);
            text.erase(line.begin, 1);
            return;
          }
          break;
      }
      break;
    case 11: {
      const std::string_view bytes = random.pick(k_bytes);
      recipe += "insert " + shown(bytes) + where;
      text.insert(at, bytes);
      return;
    }
    case 12: {
      // The n-th structural character from `at` on, deleted.
      const std::size_t found = text.find_first_of(k_structural, at);
      if (found != std::string::npos) {
        recipe += "delete '" + std::string(1, text[found]) + "' at " + std::to_string(found);
        text.erase(found, 1);
        return;
      }
      break;
    }
    default: {
      constexpr std::string_view k_markers[] = {"---\n", "...\n", "--- ,\n", "--- |\n", "%YAML 1.2\n"};
      const std::string_view marker = random.pick(k_markers);
      recipe += "insert line " + shown(marker) + " at " + std::to_string(line.begin);
      text.insert(line.begin, marker);
      return;
    }
  }
  recipe += "nothing";
}

}  // namespace

std::vector<Mutant> make_mutants(const std::vector<std::string>& seeds, std::size_t count, std::uint64_t seed) {
  std::vector<Mutant> mutants;
  if (seeds.empty()) {
    return mutants;
  }
  Random random(seed);
  mutants.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    Mutant mutant{seeds[i % seeds.size()], "seed " + std::to_string(i % seeds.size()) + ": "};
    const std::size_t mutations = 1 + random.below(3) / 2 + random.below(4) / 3;
    for (std::size_t m = 0; m < mutations; ++m) {
      if (m > 0) {
        mutant.recipe += "; ";
      }
      mutate(mutant.text, random, mutant.recipe);
    }
    mutants.push_back(std::move(mutant));
  }
  return mutants;
}

}  // namespace tests::yaml_differential
