#include "adapters/manifests/yaml_split.h"

namespace adapters::manifest_yaml {

bool is_marker_line(std::string_view line, std::string_view marker) {
  if (!line.starts_with(marker)) {
    return false;
  }
  const std::string_view rest = line.substr(marker.size());
  return rest.empty() || rest.front() == ' ' || rest.front() == '\t' || rest.front() == '\r' || rest.front() == '\n';
}

std::vector<DocumentText> split_documents(std::string_view text) {
  std::vector<DocumentText> documents;
  std::size_t begin = 0;  // of the current document
  int first_line = 0;
  bool has_content = false;
  int line_number = 0;
  std::size_t offset = 0;
  auto end_document = [&](std::size_t at) {
    documents.push_back(DocumentText{text.substr(begin, at - begin), first_line});
    begin = at;
    first_line = line_number;
    has_content = false;
  };
  while (offset < text.size()) {
    const std::size_t end = text.find('\n', offset);
    const std::string_view line = text.substr(offset, end == std::string_view::npos ? text.npos : end + 1 - offset);
    if (is_marker_line(line, "---") && has_content) {
      end_document(offset);
    }
    offset += line.size();
    // Comments and directives belong with the document that follows them.
    std::size_t first = line.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && line[first] != '#' && line[first] != '%') {
      has_content = true;
    }
    ++line_number;
    if (is_marker_line(line, "...")) {
      end_document(offset);
    }
  }
  end_document(text.size());
  return documents;
}

}  // namespace adapters::manifest_yaml
