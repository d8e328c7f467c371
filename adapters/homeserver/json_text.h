#pragma once
// JSON text written faster than nlohmann's dump(), byte for byte the same:
// a full /sync read writes tens of megabytes of room snapshots, and the
// snapshots' digests must not change with the writer.

#include <string>

#include <nlohmann/json.hpp>

namespace adapters {

/// Appends `value` to `out` exactly as `value.dump()` writes it (no
/// whitespace, keys in the object's order, the same escapes, UTF-8 kept).
/// Strings must be valid UTF-8 (as the parser leaves them); dump() would
/// throw on others, this writes them through.
void append_json_text(std::string& out, const nlohmann::json& value);

}  // namespace adapters
