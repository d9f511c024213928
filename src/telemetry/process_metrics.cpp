#include "telemetry/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <utility>

namespace tokenizer {
namespace {

Error parse_error(std::string message) { return Error{"proc_parse_error", std::move(message)}; }

std::optional<std::uint64_t> to_u64(std::string_view token) {
  std::uint64_t value = 0;
  const auto* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  if (ec != std::errc() || ptr != end || token.empty()) return std::nullopt;
  return value;
}

// Splits on runs of spaces/tabs.
std::vector<std::string_view> split_ws(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return content;
}

std::optional<std::uint64_t> count_dir_entries(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return std::nullopt;
  std::uint64_t n = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name(entry->d_name);
    if (name != "." && name != "..") ++n;
  }
  ::closedir(dir);
  return n;
}

prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return f;
}

}  // namespace

Expected<ProcStatFields> parse_proc_pid_stat(std::string_view text) {
  const auto close = text.rfind(')');
  if (close == std::string_view::npos) return parse_error("no ')' after the command name");
  auto rest = text.substr(close + 1);
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.remove_suffix(1);
  const auto fields = split_ws(rest);
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  constexpr std::size_t kRss = 24 - 3;
  if (fields.size() <= kRss) return parse_error("too few fields in stat");
  const auto utime = to_u64(fields[14 - 3]);
  const auto stime = to_u64(fields[15 - 3]);
  const auto start = to_u64(fields[22 - 3]);
  const auto vsize = to_u64(fields[23 - 3]);
  const auto rss = to_u64(fields[kRss]);
  if (!utime || !stime || !start || !vsize || !rss) return parse_error("non-numeric stat field");
  ProcStatFields out;
  out.utime_ticks = *utime;
  out.stime_ticks = *stime;
  out.start_ticks = *start;
  out.vsize_bytes = *vsize;
  out.rss_pages = *rss;
  return out;
}

Expected<std::uint64_t> parse_proc_stat_btime(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const auto fields = split_ws(text.substr(pos, eol - pos));
    if (fields.size() == 2 && fields[0] == "btime") {
      if (const auto v = to_u64(fields[1])) return *v;
      return parse_error("non-numeric btime");
    }
    pos = eol + 1;
  }
  return parse_error("no btime line");
}

Expected<std::optional<std::uint64_t>> parse_max_open_files(std::string_view text) {
  constexpr std::string_view kLimit = "Max open files";
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const auto line = text.substr(pos, eol - pos);
    if (line.substr(0, kLimit.size()) == kLimit) {
      const auto fields = split_ws(line.substr(kLimit.size()));
      if (fields.empty()) return parse_error("no soft limit for open files");
      if (fields[0] == "unlimited") return std::optional<std::uint64_t>();
      if (const auto v = to_u64(fields[0])) return std::optional<std::uint64_t>(*v);
      return parse_error("non-numeric open files limit");
    }
    pos = eol + 1;
  }
  return parse_error("no 'Max open files' line");
}

ProcessSample make_process_sample(const std::optional<ProcStatFields>& stat,
                                  std::optional<std::uint64_t> boot_time_seconds,
                                  std::optional<std::uint64_t> max_fds,
                                  std::optional<std::uint64_t> open_fds, long ticks_per_second,
                                  long page_size) {
  ProcessSample s;
  if (stat && ticks_per_second > 0) {
    const auto ticks = static_cast<double>(ticks_per_second);
    s.cpu_seconds = static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks;
    if (boot_time_seconds) {
      s.start_time_seconds =
          static_cast<double>(*boot_time_seconds) + static_cast<double>(stat->start_ticks) / ticks;
    }
  }
  if (stat) {
    s.virtual_memory_bytes = static_cast<double>(stat->vsize_bytes);
    if (page_size > 0) {
      s.resident_memory_bytes =
          static_cast<double>(stat->rss_pages) * static_cast<double>(page_size);
    }
  }
  if (max_fds) s.max_fds = static_cast<double>(*max_fds);
  if (open_fds) s.open_fds = static_cast<double>(*open_fds);
  return s;
}

std::vector<prometheus::MetricFamily> process_metric_families(const ProcessSample& sample) {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  if (sample.cpu_seconds) {
    out.push_back(family("process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.", MetricType::Counter,
                         *sample.cpu_seconds));
  }
  if (sample.resident_memory_bytes) {
    out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.",
                         MetricType::Gauge, *sample.resident_memory_bytes));
  }
  if (sample.virtual_memory_bytes) {
    out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         MetricType::Gauge, *sample.virtual_memory_bytes));
  }
  if (sample.open_fds) {
    out.push_back(family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                         *sample.open_fds));
  }
  if (sample.max_fds) {
    out.push_back(family("process_max_fds", "Maximum number of open file descriptors.",
                         MetricType::Gauge, *sample.max_fds));
  }
  if (sample.start_time_seconds) {
    out.push_back(family("process_start_time_seconds",
                         "Start time of the process since unix epoch in seconds.",
                         MetricType::Gauge, *sample.start_time_seconds));
  }
  return out;
}

ProcessCollector::ProcessCollector(std::string proc_root)
    : proc_root_(std::move(proc_root)),
      ticks_per_second_(::sysconf(_SC_CLK_TCK)),
      page_size_(::sysconf(_SC_PAGESIZE)) {}

ProcessSample ProcessCollector::sample() const {
  std::optional<ProcStatFields> stat;
  if (const auto text = read_file(proc_root_ + "/self/stat")) {
    if (auto parsed = parse_proc_pid_stat(*text)) stat = *parsed;
  }
  std::optional<std::uint64_t> boot_time;
  if (const auto text = read_file(proc_root_ + "/stat")) {
    if (auto parsed = parse_proc_stat_btime(*text)) boot_time = *parsed;
  }
  std::optional<std::uint64_t> max_fds;
  if (const auto text = read_file(proc_root_ + "/self/limits")) {
    if (auto parsed = parse_max_open_files(*text)) max_fds = *parsed;
  }
  const auto open_fds = count_dir_entries(proc_root_ + "/self/fd");
  return make_process_sample(stat, boot_time, max_fds, open_fds, ticks_per_second_, page_size_);
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  return process_metric_families(sample());
}

}  // namespace tokenizer
