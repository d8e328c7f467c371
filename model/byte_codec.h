#pragma once
// The primitives of mxctl's binary encodings: unsigned and zigzag varints,
// length-prefixed strings, counts. The reader never trusts a length or a
// count beyond the bytes left, so a damaged input stops it instead of
// making it allocate or read past the end; once failed it stays failed.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace model {

/// Appends values to a byte string.
class ByteWriter {
 public:
  /// An unsigned LEB128 varint (the reader takes only the shortest form).
  void unsigned_int(std::uint64_t value);
  /// A signed integer, zigzag-encoded.
  void signed_int(std::int64_t value);
  void boolean(bool value) { m_bytes.push_back(value ? '\1' : '\0'); }
  /// The length, then the bytes.
  void text(std::string_view value);
  /// The bytes written so far.
  std::string take() && { return std::move(m_bytes); }

 private:
  std::string m_bytes;
};

/// Reads what a ByteWriter wrote, in the same order. Every read on a failed
/// reader returns a zero value; ok() says whether all reads succeeded.
class ByteReader {
 public:
  /// Reads `bytes`, which must outlive the reader.
  explicit ByteReader(std::string_view bytes) : m_bytes(bytes) {}
  explicit ByteReader(std::string&&) = delete;  // would read a destroyed temporary

  std::uint64_t unsigned_int();
  std::int64_t signed_int();
  bool boolean();
  std::string text();
  /// An int that must lie in [low, high].
  int bounded_int(int low = std::numeric_limits<int>::min(), int high = std::numeric_limits<int>::max());
  /// A count of items that each take at least one byte: never more than
  /// the bytes left, so a hostile count cannot make the caller allocate.
  std::size_t count();
  /// An enum whose values are 0..`last`.
  template <typename Enum>
  Enum enumerator(Enum last) {
    return static_cast<Enum>(bounded_int(0, static_cast<int>(last)));
  }
  /// Marks the input broken (a value the caller found invalid).
  void fail() { m_failed = true; }

  bool ok() const { return !m_failed; }
  /// All bytes read, and every read succeeded.
  bool finished() const { return !m_failed && m_at == m_bytes.size(); }

 private:
  std::string_view m_bytes;
  std::size_t m_at = 0;
  bool m_failed = false;
};

}  // namespace model
