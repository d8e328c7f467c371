#include "controller/telemetry/metrics_registry.h"

#include "controller/telemetry/exposition_text.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace controller::telemetry {
namespace {

// The sample names a family writes: two families must never share one, or a
// scraper would file one family's samples under the other.
std::vector<std::string> sample_names(const std::string& name, bool histogram) {
  if (histogram) {
    return {name + "_bucket", name + "_sum", name + "_count"};
  }
  return {name};
}

// `labels` checked and sorted by name, so {a,b} and {b,a} are one series.
Labels normalized(std::string_view family, const Labels& labels, bool histogram) {
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const std::string& name = sorted[i].first;
    if (!is_valid_label_name(name)) {
      throw std::logic_error("metric " + std::string(family) + ": invalid label name \"" + name + "\"");
    }
    if (histogram && name == "le") {
      throw std::logic_error("histogram " + std::string(family) + ": the label \"le\" is reserved for buckets");
    }
    if (i > 0 && sorted[i - 1].first == name) {
      throw std::logic_error("metric " + std::string(family) + ": label \"" + name + "\" given twice");
    }
  }
  return sorted;
}

// `{a="1",b="2"}`, with `le` (already formatted) last when given; empty when
// there is nothing to show.
std::string label_text(const Labels& labels, const std::string* le = nullptr) {
  if (labels.empty() && le == nullptr) {
    return {};
  }
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) {
      out += ',';
    }
    out += name + "=\"" + escape_label_value(value) + "\"";
  }
  if (le != nullptr) {
    out += (out.size() > 1 ? ",le=\"" : "le=\"") + *le + "\"";
  }
  return out + "}";
}

}  // namespace

const char* MetricsRegistry::type_name(Kind kind) {
  switch (kind) {
    case Kind::counter:
      return "counter";
    case Kind::gauge:
      return "gauge";
    case Kind::histogram:
      return "histogram";
  }
  return "?";
}

void MetricsRegistry::declare_counter(std::string name, std::string help) {
  declare(std::move(name), Family{Kind::counter, std::move(help), {}, {}});
}

void MetricsRegistry::declare_gauge(std::string name, std::string help) {
  declare(std::move(name), Family{Kind::gauge, std::move(help), {}, {}});
}

void MetricsRegistry::declare_histogram(std::string name, std::string help, std::vector<double> upper_bounds) {
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i])) {
      throw std::logic_error("histogram " + name + ": bucket bounds must be finite (+Inf is implicit)");
    }
    if (i > 0 && !(upper_bounds[i - 1] < upper_bounds[i])) {
      throw std::logic_error("histogram " + name + ": bucket bounds must be strictly increasing");
    }
  }
  declare(std::move(name), Family{Kind::histogram, std::move(help), std::move(upper_bounds), {}});
}

void MetricsRegistry::declare(std::string name, Family family) {
  if (!is_valid_metric_name(name)) {
    throw std::logic_error("invalid metric name \"" + name + "\"");
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  if (auto same = m_families.find(name); same != m_families.end()) {
    const Family& old = same->second;
    if (old.kind == family.kind && old.help == family.help && old.upper_bounds == family.upper_bounds) {
      return;
    }
    throw std::logic_error("metric " + name + " is already declared differently");
  }
  const auto mine = sample_names(name, family.kind == Kind::histogram);
  for (const auto& [other_name, other] : m_families) {
    for (const auto& theirs : sample_names(other_name, other.kind == Kind::histogram)) {
      if (std::find(mine.begin(), mine.end(), theirs) != mine.end()) {
        throw std::logic_error("metric " + name + " clashes with " + other_name + " on the sample name " + theirs);
      }
    }
  }
  m_families.emplace(std::move(name), std::move(family));
}

MetricsRegistry::Series& MetricsRegistry::series_of(std::string_view name, Kind kind, const Labels& labels) {
  const auto found = m_families.find(name);
  if (found == m_families.end()) {
    throw std::logic_error("metric " + std::string(name) + " is not declared");
  }
  Family& family = found->second;
  if (family.kind != kind) {
    throw std::logic_error("metric " + std::string(name) + " is a " + type_name(family.kind) +
                           ", not a " + type_name(kind));
  }
  auto [at, inserted] = family.series.try_emplace(normalized(name, labels, kind == Kind::histogram));
  if (inserted && kind == Kind::histogram) {
    at->second.buckets.assign(family.upper_bounds.size() + 1, 0);
  }
  return at->second;
}

void MetricsRegistry::add(std::string_view counter, const Labels& labels, double by) {
  if (!(by >= 0)) {
    throw std::logic_error("counter " + std::string(counter) + ": increment " + format_value(by) +
                           " is not >= 0 (counters only go up)");
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  series_of(counter, Kind::counter, labels).value += by;
}

void MetricsRegistry::set(std::string_view gauge, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(m_mutex);
  series_of(gauge, Kind::gauge, labels).value = value;
}

void MetricsRegistry::observe(std::string_view histogram, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(m_mutex);
  Series& series = series_of(histogram, Kind::histogram, labels);
  const auto& bounds = m_families.find(histogram)->second.upper_bounds;
  // The first bucket whose bound is >= value; NaN is <= no bound, so +Inf only.
  const auto bucket = std::isnan(value) ? bounds.end() : std::lower_bound(bounds.begin(), bounds.end(), value);
  ++series.buckets[static_cast<std::size_t>(bucket - bounds.begin())];
  series.sum += value;
  ++series.count;
}

std::string MetricsRegistry::render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(m_mutex);
  for (const auto& [name, family] : m_families) {
    render_family(out, name, family);
  }
  return out;
}

void MetricsRegistry::render_family(std::string& out, const std::string& name, const Family& family) {
  out += "# HELP " + name + (family.help.empty() ? "" : " " + escape_help(family.help)) + "\n";
  out += "# TYPE " + name + " " + type_name(family.kind) + "\n";
  std::map<Labels, Series> zero;
  const std::map<Labels, Series>* series = &family.series;
  // A total nothing was counted into yet is a true 0, and showing it lets
  // rate() and alerts see the series from the first scrape on.
  if (series->empty() && family.kind != Kind::gauge) {
    zero[{}].buckets.assign(family.upper_bounds.size() + 1, 0);
    series = &zero;
  }
  for (const auto& [labels, one] : *series) {
    if (family.kind != Kind::histogram) {
      out += name + label_text(labels) + " " + format_value(one.value) + "\n";
      continue;
    }
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < one.buckets.size(); ++i) {
      cumulative += one.buckets[i];
      const std::string le = i < family.upper_bounds.size() ? format_value(family.upper_bounds[i]) : "+Inf";
      out += name + "_bucket" + label_text(labels, &le) + " " + std::to_string(cumulative) + "\n";
    }
    out += name + "_sum" + label_text(labels) + " " + format_value(one.sum) + "\n";
    out += name + "_count" + label_text(labels) + " " + std::to_string(one.count) + "\n";
  }
}

}  // namespace controller::telemetry
