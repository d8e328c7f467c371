#pragma once
// Where the status server listens, as given on the command line
// (`--status-listen 127.0.0.1:9464`).

#include <cstdint>
#include <string>
#include <string_view>

#include "model/result.h"

namespace controller::telemetry {

/// A literal IP address and a TCP port.
struct ListenAddress {
  /// "127.0.0.1", "0.0.0.0", "::1", "::" — always an IP, never a host name,
  /// in the canonical text of its family (IPv6 without brackets).
  std::string ip;
  /// 0 means any free port (the server tells which one it got).
  std::uint16_t port = 0;
};

/// Parses `ADDR:PORT` where ADDR is an IPv4 address or an IPv6 address in
/// brackets (`127.0.0.1:9464`, `0.0.0.0:9464`, `[::1]:9464`) and PORT is
/// 0-65535 in decimal. Host names such as `localhost` are refused rather than
/// resolved: a name can stand for several addresses (127.0.0.1 and ::1) and
/// the server must bind exactly what the operator meant. The error (kind
/// `invalid`) quotes the input and says what is wrong with it.
model::Result<ListenAddress> parse_listen_address(std::string_view text);

/// `127.0.0.1:9464`, `[::1]:9464`: the form parse_listen_address() reads.
std::string to_string(const ListenAddress& address);

}  // namespace controller::telemetry
