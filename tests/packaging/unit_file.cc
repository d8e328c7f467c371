#include "tests/packaging/unit_file.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

namespace packaging_test {

namespace {

std::string trim(const std::string& text) {
  std::size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) {
    return "";
  }
  std::size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

std::vector<std::string> UnitFile::values(const std::string& section, const std::string& key) const {
  std::vector<std::string> out;
  auto found = sections.find(section);
  if (found == sections.end()) {
    return out;
  }
  for (const auto& [name, value] : found->second) {
    if (name == key) {
      out.push_back(value);
    }
  }
  return out;
}

std::optional<std::string> UnitFile::value(const std::string& section, const std::string& key) const {
  auto all = values(section, key);
  if (all.size() != 1) {
    return std::nullopt;
  }
  return all.front();
}

UnitFile parse_unit_file(const std::string& text) {
  UnitFile unit;
  std::istringstream in(text);
  std::string raw;
  std::string section;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    std::string line = trim(raw);
    // A continued line is joined with a blank, as systemd does.
    while (!line.empty() && line.back() == '\\' && line[0] != '#' && line[0] != ';') {
      line.pop_back();
      std::string next;
      if (!std::getline(in, next)) {
        break;
      }
      ++number;
      line += " " + trim(next);
    }
    if (line.empty() || line[0] == '#' || line[0] == ';') {
      continue;
    }
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      unit.sections[section];
      continue;
    }
    std::size_t eq = line.find('=');
    std::string key = eq == std::string::npos ? "" : trim(line.substr(0, eq));
    bool key_ok = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
    });
    if (section.empty() || !key_ok) {
      unit.problems.push_back("line " + std::to_string(number) + ": " + line);
      continue;
    }
    unit.sections[section].emplace_back(key, trim(line.substr(eq + 1)));
  }
  return unit;
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    words.push_back(word);
  }
  return words;
}

std::optional<double> parse_time_span(const std::string& text) {
  static const std::map<std::string, double> k_units = {
      {"", 1}, {"s", 1}, {"sec", 1}, {"second", 1}, {"seconds", 1}, {"m", 60}, {"min", 60}, {"minute", 60},
      {"minutes", 60}, {"ms", 0.001}, {"msec", 0.001}, {"h", 3600}, {"hr", 3600}, {"hour", 3600}, {"hours", 3600}};
  double total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    std::size_t digits = i;
    while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) != 0 || text[digits] == '.')) {
      ++digits;
    }
    std::size_t letters = digits;
    while (letters < text.size() && std::isalpha(static_cast<unsigned char>(text[letters])) != 0) {
      ++letters;
    }
    auto unit = k_units.find(text.substr(digits, letters - digits));
    if (digits == i || unit == k_units.end()) {
      return std::nullopt;
    }
    total += std::stod(text.substr(i, digits - i)) * unit->second;
    any = true;
    i = letters;
  }
  if (!any) {
    return std::nullopt;
  }
  return total;
}

}  // namespace packaging_test
