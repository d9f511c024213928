// ProcessCollector: the standard Prometheus process metrics, read from /proc at scrape time.
//
//   process_cpu_seconds_total       counter  user + system CPU time
//   process_resident_memory_bytes   gauge    resident set size
//   process_virtual_memory_bytes    gauge    virtual memory size
//   process_open_fds                gauge    entries of /proc/self/fd (the directory handle
//                                            used to list it included, as in the Go and
//                                            Python clients)
//   process_max_fds                 gauge    soft RLIMIT_NOFILE (omitted when unlimited)
//   process_start_time_seconds      gauge    start time since the Unix epoch
//
// Usage: `Metrics` owns one and appends `Collect()` to its scrape; nothing else needs it.
// The parsing is exposed as pure functions over file contents so tests feed canned text.
// A file that cannot be read or parsed makes only its own metrics disappear from the scrape;
// collection never throws.
//
// Thread-safety: `Collect()` is const and may run concurrently (it only reads /proc).
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace tokenizer {

// Fields of /proc/<pid>/stat that the process metrics need (see proc(5)).
struct ProcStatFields {
  std::uint64_t utime_ticks = 0;  // field 14
  std::uint64_t stime_ticks = 0;  // field 15
  std::uint64_t start_ticks = 0;  // field 22: clock ticks after boot
  std::uint64_t vsize_bytes = 0;  // field 23
  std::uint64_t rss_pages = 0;    // field 24
};

// Parses the single line of /proc/<pid>/stat. The command name (field 2) may contain spaces
// and parentheses; parsing resumes after its last ')'.
Expected<ProcStatFields> parse_proc_pid_stat(std::string_view text);

// The `btime` line of /proc/stat: boot time in seconds since the epoch.
Expected<std::uint64_t> parse_proc_stat_btime(std::string_view text);

// The soft limit of "Max open files" in /proc/<pid>/limits; std::nullopt when "unlimited".
Expected<std::optional<std::uint64_t>> parse_max_open_files(std::string_view text);

// What one scrape found; a missing value is an unavailable metric.
struct ProcessSample {
  std::optional<double> cpu_seconds;
  std::optional<double> resident_memory_bytes;
  std::optional<double> virtual_memory_bytes;
  std::optional<double> open_fds;
  std::optional<double> max_fds;
  std::optional<double> start_time_seconds;
};

// Combines parsed /proc contents into a sample. `ticks_per_second` is sysconf(_SC_CLK_TCK),
// `page_size` sysconf(_SC_PAGESIZE).
ProcessSample make_process_sample(const std::optional<ProcStatFields>& stat,
                                  std::optional<std::uint64_t> boot_time_seconds,
                                  std::optional<std::uint64_t> max_fds,
                                  std::optional<std::uint64_t> open_fds, long ticks_per_second,
                                  long page_size);

// The metric families of a sample (present values only), with HELP and TYPE.
std::vector<prometheus::MetricFamily> process_metric_families(const ProcessSample& sample);

class ProcessCollector final : public prometheus::Collectable {
 public:
  // `proc_root` stands in for /proc (tests); the collector reads `<proc_root>/self/...` and
  // `<proc_root>/stat`.
  explicit ProcessCollector(std::string proc_root = "/proc");

  // Reads /proc now.
  ProcessSample sample() const;
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::string proc_root_;
  const long ticks_per_second_;
  const long page_size_;
};

}  // namespace tokenizer
