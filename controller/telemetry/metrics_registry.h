#pragma once
// The metrics `mxctl run` exposes: counters, gauges and histograms kept in
// memory and rendered in the Prometheus text exposition format 0.0.4. Misuse
// (an undeclared family, the wrong kind, a bad name) is a bug in the caller,
// not a condition to handle at run time, so it throws std::logic_error.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace controller::telemetry {

/// Label name → value pairs of one series, in any order (the registry sorts
/// them by name). Values are any text; the exposition is read as UTF-8.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// Metric families and their series. Every method is thread-safe.
class MetricsRegistry {
 public:
  /// Declares a counter (a total that only goes up). Throws std::logic_error
  /// when `name` is not a valid metric name or clashes with another family;
  /// declaring the very same family again does nothing.
  void declare_counter(std::string name, std::string help);

  /// Declares a gauge (a value that goes up and down); throws as declare_counter().
  void declare_gauge(std::string name, std::string help);

  /// Declares a histogram with buckets `value <= bound` for each of
  /// `upper_bounds` (finite, strictly increasing) plus the implicit +Inf one.
  /// Its samples `name_bucket`, `name_sum` and `name_count` must not clash
  /// with another family's. Throws std::logic_error otherwise.
  void declare_histogram(std::string name, std::string help, std::vector<double> upper_bounds);

  /// Adds `by` (>= 0) to the series `labels` of `counter`, which starts at 0.
  /// Throws std::logic_error for an undeclared counter, a non-counter, a
  /// negative or NaN `by`, or labels that are invalid or repeat a name.
  void add(std::string_view counter, const Labels& labels = {}, double by = 1);

  /// Sets the series `labels` of `gauge` to `value`; throws as add() does.
  void set(std::string_view gauge, const Labels& labels, double value);

  /// Counts `value` into the series `labels` of `histogram`; throws as add()
  /// does, and also for a label named "le" (the bucket label).
  void observe(std::string_view histogram, const Labels& labels, double value);

  /// Every declared family in name order: its HELP and TYPE lines, then its
  /// series ordered by their sorted labels. A counter or histogram that has
  /// no series yet shows its unlabelled series at zero; a gauge shows none.
  std::string render() const;

 private:
  enum class Kind { counter, gauge, histogram };

  struct Series {
    double value = 0;                    // counter and gauge
    std::vector<std::uint64_t> buckets;  // histogram: per bucket, not cumulative; last is +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };

  struct Family {
    Kind kind = Kind::counter;
    std::string help;
    std::vector<double> upper_bounds;
    std::map<Labels, Series> series;  // keys sorted by label name
  };

  static const char* type_name(Kind kind);
  void declare(std::string name, Family family);
  Series& series_of(std::string_view name, Kind kind, const Labels& labels);
  static void render_family(std::string& out, const std::string& name, const Family& family);

  mutable std::mutex m_mutex;
  std::map<std::string, Family, std::less<>> m_families;
};

}  // namespace controller::telemetry
