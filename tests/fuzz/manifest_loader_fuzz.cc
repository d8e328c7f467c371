// libFuzzer target for the manifest loader: any bytes, read as one manifest
// file. A crash, a sanitizer report, a leak, an exception escaping or a slow
// input is a finding; so is a problem reported without a position.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/manifests/yaml_manifests.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const adapters::LoadedManifests loaded = adapters::parse_manifests(text, "fuzz.yaml", 1);
  for (const model::Diagnostic& diagnostic : loaded.diagnostics) {
    // Only "no manifests found" is about the whole file.
    const bool whole_file = diagnostic.message.starts_with("no manifests found");
    if (diagnostic.message.empty() || (!whole_file && (diagnostic.where.line < 1 || diagnostic.where.column < 1))) {
      std::abort();
    }
  }
  return 0;
}
