#include "model/diagnostic.h"

#include <algorithm>
#include <tuple>

#include "model/printable.h"

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
  // Messages quote the input, which may be hostile: never raw to a terminal.
  return printable(where.to_string() + ": " + message);
}

void sort_diagnostics(Diagnostics& diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.file, a.where.line, a.where.column) <
           std::tie(b.where.file, b.where.line, b.where.column);
  });
}

}  // namespace model
