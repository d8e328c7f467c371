#include "model/diagnostic.h"

#include <algorithm>
#include <tuple>

namespace model {

std::string SourceLocation::to_string() const {
  if (line <= 0) {
    return file;
  }
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const SourceLocation& Origin::of(std::string_view field) const {
  auto it = fields.find(field);
  return it == fields.end() ? object : it->second;
}

std::string Diagnostic::to_string() const {
  return where.to_string() + ": " + message;
}

void sort_diagnostics(Diagnostics& diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.file, a.where.line, a.where.column) <
           std::tie(b.where.file, b.where.line, b.where.column);
  });
}

}  // namespace model
