#pragma once
// How the state store writes times: ISO-8601 UTC text with milliseconds, in
// both engines, so the audit trail reads well in a database shell, sorts in
// time order, and rows move between engines as they are.

#include <chrono>
#include <string>

namespace adapters {

/// `at` as ISO-8601 UTC, "2024-05-01T12:00:00.123Z", or without the
/// milliseconds ("2024-05-01T12:00:00Z") for messages.
std::string format_store_time(std::chrono::system_clock::time_point at, bool with_millis = true);

/// Inverse of format_store_time (milliseconds optional); the epoch for text
/// that does not parse, which only hand-editing can produce.
std::chrono::system_clock::time_point parse_store_time(const std::string& text);

}  // namespace adapters
