#include "controller/telemetry/listen_address.h"

#include <boost/asio/ip/address.hpp>

#include <charconv>

namespace controller::telemetry {
namespace {

using model::Error;

tl::unexpected<Error> refuse(std::string_view text, const std::string& why) {
  return model::fail(Error::Kind::invalid, "listen address \"" + std::string(text) + "\": " + why +
                                               " (expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)");
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

model::Result<ListenAddress> parse_listen_address(std::string_view text) {
  if (text.empty()) {
    return refuse(text, "empty");
  }
  std::string_view host;
  std::string_view rest;
  const bool bracketed = text.front() == '[';
  if (bracketed) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return refuse(text, "missing ']' after the IPv6 address");
    }
    host = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return refuse(text, "expected ':' and a port after ']'");
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return refuse(text, "missing port");
    }
    host = text.substr(0, colon);
    rest = text.substr(colon);
    if (host.find(':') != std::string_view::npos) {
      return refuse(text, "an IPv6 address must be in brackets, as in [::1]:9464");
    }
  }
  if (rest.size() <= 1) {
    return refuse(text, "missing port");
  }
  const std::string_view port_text = rest.substr(1);
  if (host.empty()) {
    return refuse(text, "missing address before the port (0.0.0.0 listens on every IPv4 interface)");
  }
  if (!all_digits(port_text)) {
    return refuse(text, "port \"" + std::string(port_text) + "\" is not a number");
  }
  unsigned long port = 0;
  const auto parsed = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (parsed.ec != std::errc() || port > 65535) {
    return refuse(text, "port " + std::string(port_text) + " is out of range (0-65535)");
  }

  boost::system::error_code error;
  const std::string host_text(host);
  if (bracketed) {
    const auto ip = boost::asio::ip::make_address_v6(host_text, error);
    if (error) {
      return refuse(text, "\"" + host_text + "\" is not an IPv6 address");
    }
    return ListenAddress{ip.to_string(), static_cast<std::uint16_t>(port)};
  }
  const auto ip = boost::asio::ip::make_address_v4(host_text, error);
  if (error) {
    return refuse(text, "\"" + host_text + "\" is not an IP address (host names are not resolved: use 127.0.0.1 or [::1])");
  }
  return ListenAddress{ip.to_string(), static_cast<std::uint16_t>(port)};
}

std::string to_string(const ListenAddress& address) {
  const bool ipv6 = address.ip.find(':') != std::string::npos;
  return (ipv6 ? "[" + address.ip + "]" : address.ip) + ":" + std::to_string(address.port);
}

}  // namespace controller::telemetry
