#pragma once
// One spelling for a YAML node however it was parsed, so that libyaml's and
// mxctl's readings of a text compare as strings: `~` for null, `? "text"` for
// a plain scalar, `! "text"` for a quoted one (else its tag), `[a, b]` and
// `{k: v}` for collections (a map's entries in document order, repeats kept).

#include <cstddef>
#include <string>
#include <string_view>

namespace tests::yaml_differential {

enum class Kind { null, scalar, list, map };

namespace detail {

void append_scalar(std::string& out, std::string_view tag, std::string_view text);

// Depth and length are bounded: an alias inside its own anchor is a cycle,
// and aliases of aliases grow exponentially.
template <typename View>
void describe(const View& node, std::string& out, int depth) {
  constexpr std::size_t k_max_length = 1 << 20;
  if (depth > 64 || out.size() > k_max_length) {
    out += "...";
    return;
  }
  switch (node.kind()) {
    case Kind::null:
      out += "~";
      return;
    case Kind::scalar:
      append_scalar(out, node.tag(), node.text());
      return;
    case Kind::list:
    case Kind::map: {
      const bool map = node.kind() == Kind::map;
      out += map ? "{" : "[";
      for (std::size_t i = 0; i < node.size(); ++i) {
        out += i == 0 ? "" : (map && i % 2 == 1) ? ": " : ", ";
        describe(node.child(i), out, depth + 1);
      }
      out += map ? "}" : "]";
      return;
    }
  }
}

}  // namespace detail

/// `View` offers kind(), tag() and text() (scalars), size() and child(i)
/// (a map's children alternate key and value).
template <typename View>
std::string describe(const View& root) {
  std::string out;
  detail::describe(root, out, 0);
  return out;
}

}  // namespace tests::yaml_differential
