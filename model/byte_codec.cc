#include "model/byte_codec.h"

namespace model {

void ByteWriter::unsigned_int(std::uint64_t value) {
  while (value >= 0x80) {
    m_bytes.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  m_bytes.push_back(static_cast<char>(value));
}

void ByteWriter::signed_int(std::int64_t value) {
  const auto bits = static_cast<std::uint64_t>(value);
  unsigned_int((bits << 1) ^ (value < 0 ? ~std::uint64_t{0} : 0));
}

void ByteWriter::text(std::string_view value) {
  unsigned_int(value.size());
  m_bytes.append(value);
}

std::uint64_t ByteReader::unsigned_int() {
  std::uint64_t value = 0;
  for (int shift = 0; !m_failed; shift += 7) {
    if (m_at == m_bytes.size() || shift > 63) {
      m_failed = true;
      break;
    }
    const auto byte = static_cast<unsigned char>(m_bytes[m_at++]);
    const std::uint64_t part = byte & 0x7f;
    if (shift == 63 && part > 1) {
      m_failed = true;  // more than 64 bits
      break;
    }
    value |= part << shift;
    if ((byte & 0x80) == 0) {
      if (byte == 0 && shift > 0) {
        m_failed = true;  // not the shortest form: no encoder of ours wrote it
        break;
      }
      return value;
    }
  }
  return 0;
}

std::int64_t ByteReader::signed_int() {
  const std::uint64_t bits = unsigned_int();
  return static_cast<std::int64_t>((bits >> 1) ^ (~(bits & 1) + 1));
}

bool ByteReader::boolean() {
  const std::uint64_t value = unsigned_int();
  if (value > 1) {
    m_failed = true;
  }
  return !m_failed && value == 1;
}

std::string ByteReader::text() {
  const std::uint64_t size = unsigned_int();
  if (m_failed || size > m_bytes.size() - m_at) {
    m_failed = true;
    return {};
  }
  std::string value(m_bytes.substr(m_at, static_cast<std::size_t>(size)));
  m_at += static_cast<std::size_t>(size);
  return value;
}

int ByteReader::bounded_int(int low, int high) {
  const std::int64_t value = signed_int();
  if (m_failed || value < low || value > high) {
    m_failed = true;
    return low;
  }
  return static_cast<int>(value);
}

std::size_t ByteReader::count() {
  const std::uint64_t value = unsigned_int();
  if (m_failed || value > m_bytes.size() - m_at) {
    m_failed = true;
    return 0;
  }
  return static_cast<std::size_t>(value);
}

}  // namespace model
