#pragma once
// The lexical pieces of the Prometheus text exposition format 0.0.4: which
// names are allowed, how values and strings are spelled. Pure functions,
// kept apart from the registry so each rule is tested on its own.

#include <string>
#include <string_view>

namespace controller::telemetry {

/// True when `name` matches [a-zA-Z_:][a-zA-Z0-9_:]* (a metric family name).
bool is_valid_metric_name(std::string_view name);

/// True when `name` matches [a-zA-Z_][a-zA-Z0-9_]* and does not start with
/// "__" (the prefix Prometheus reserves for its own labels).
bool is_valid_label_name(std::string_view name);

/// A sample value as the format spells it: "+Inf", "-Inf", "NaN"; integral
/// values below 2^53 in plain digits ("3", "1000000"); anything else in the
/// shortest form that parses back to the same double ("0.1", "1e+300").
std::string format_value(double value);

/// A label value for between double quotes: backslash, double quote and
/// line feed escaped as \\, \" and \n; every other byte as it is.
std::string escape_label_value(std::string_view value);

/// A HELP docstring: backslash and line feed escaped as \\ and \n (double
/// quotes are not escaped in HELP lines).
std::string escape_help(std::string_view help);

}  // namespace controller::telemetry
