#include "telemetry/tracer_config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tokenizer {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Error setting_error(std::string_view name, std::string_view what) {
  return Error{"invalid_tracer_config", std::string(name) + ": " + std::string(what)};
}

Expected<bool> parse_bool(std::string_view name, std::string_view text) {
  const std::string v = lower(trim(text));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return setting_error(name, "expected true or false, got '" + std::string(text.substr(0, 32)) + "'");
}

Expected<double> parse_double(std::string_view name, std::string_view text) {
  const std::string v(trim(text));
  if (v.empty()) return setting_error(name, "empty value");
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(v.c_str(), &end);
  if (errno != 0 || end != v.c_str() + v.size() || !std::isfinite(d)) {
    return setting_error(name, "not a number: '" + v.substr(0, 32) + "'");
  }
  return d;
}

Expected<double> parse_rate(std::string_view name, std::string_view text) {
  auto d = parse_double(name, text);
  if (!d) return d;
  if (*d < 0.0 || *d > 1.0) return setting_error(name, "must be between 0 and 1");
  return d;
}

// Picks the environment value when set (and non-empty), else the option.
std::optional<std::string> pick(const EnvLookup& env, std::string_view name,
                                const std::optional<std::string>& option) {
  if (auto v = env(name); v && !trim(*v).empty()) return std::string(trim(*v));
  return option;
}

bool valid_port(long long port) { return port >= 1 && port <= 65535; }

}  // namespace

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const std::string key(name);
    if (const char* v = std::getenv(key.c_str())) return std::string(v);
    return std::nullopt;
  };
}

Expected<std::map<std::string, std::string>> parse_dd_tags(std::string_view text) {
  std::map<std::string, std::string> tags;
  // Comma separated when there is a comma, else space separated (Datadog's convention).
  const char sep = text.find(',') != std::string_view::npos ? ',' : ' ';
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const auto end = std::min(text.find(sep, begin), text.size());
    const auto item = trim(text.substr(begin, end - begin));
    begin = end + 1;
    if (item.empty()) continue;
    const auto colon = item.find(':');
    const auto key = trim(item.substr(0, colon));
    const auto value = colon == std::string_view::npos ? std::string_view() : trim(item.substr(colon + 1));
    if (key.empty()) return setting_error("DD_TAGS", "a tag has an empty key");
    tags[std::string(key)] = std::string(value);
  }
  return tags;
}

Expected<AgentEndpoint> parse_agent_url(std::string_view url) {
  url = trim(url);
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return setting_error("DD_TRACE_AGENT_URL", "expected scheme://..., e.g. http://localhost:8126");
  }
  const std::string scheme = lower(url.substr(0, scheme_end));
  const auto rest = url.substr(scheme_end + 3);
  AgentEndpoint endpoint;
  if (scheme == "unix") {
    if (rest.empty() || rest.front() != '/') {
      return setting_error("DD_TRACE_AGENT_URL", "unix:// needs an absolute socket path");
    }
    endpoint.unix_socket = std::string(rest);
    endpoint.traces_url = "http://localhost/v0.4/traces";
    return endpoint;
  }
  if (scheme != "http" && scheme != "https") {
    return setting_error("DD_TRACE_AGENT_URL", "unsupported scheme '" + scheme + "' (http, https, unix)");
  }
  auto authority = rest.substr(0, rest.find('/'));
  const auto path = rest.substr(authority.size());
  if (!path.empty() && path != "/") {
    return setting_error("DD_TRACE_AGENT_URL", "must not have a path (the tracer adds /v0.4/traces)");
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty() || authority.front() == ':') {
    return setting_error("DD_TRACE_AGENT_URL", "missing host");
  }
  // A port, if any, must be valid ("[::1]:8126", "host:8126").
  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    const auto port = parse_decimal_u64(authority.substr(colon + 1));
    if (!port || !valid_port(static_cast<long long>(*port))) {
      return setting_error("DD_TRACE_AGENT_URL", "invalid port");
    }
  }
  endpoint.traces_url = std::string(url.substr(0, scheme_end + 3 + (rest.size() - path.size())));
  endpoint.traces_url += "/v0.4/traces";
  return endpoint;
}

Expected<std::vector<SamplingRule>> parse_sampling_rules(std::string_view text) {
  constexpr std::string_view kName = "DD_TRACE_SAMPLING_RULES";
  const auto json = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (json.is_discarded() || !json.is_array()) return setting_error(kName, "expected a JSON array");
  std::vector<SamplingRule> rules;
  for (const auto& item : json) {
    if (!item.is_object()) return setting_error(kName, "each rule must be a JSON object");
    SamplingRule rule;
    bool has_rate = false;
    for (const auto& [key, value] : item.items()) {
      if (key == "sample_rate") {
        if (!value.is_number() || value.get<double>() < 0.0 || value.get<double>() > 1.0) {
          return setting_error(kName, "sample_rate must be a number between 0 and 1");
        }
        rule.sample_rate = value.get<double>();
        has_rate = true;
      } else if (key == "service" || key == "name" || key == "resource") {
        if (!value.is_string()) return setting_error(kName, key + " must be a string");
        (key == "service" ? rule.service : key == "name" ? rule.name : rule.resource) = value.get<std::string>();
      } else {
        return setting_error(kName, "unsupported rule property '" + key.substr(0, 32) + "'");
      }
    }
    if (!has_rate) return setting_error(kName, "a rule has no sample_rate");
    rules.push_back(std::move(rule));
  }
  return rules;
}

Expected<FinalizedTracerConfig> finalize_tracer_config(const TracerOptions& options, const EnvLookup& env) {
  FinalizedTracerConfig config;

  config.enabled = options.enabled.value_or(true);
  if (auto v = env("DD_TRACE_ENABLED"); v && !trim(*v).empty()) {
    auto b = parse_bool("DD_TRACE_ENABLED", *v);
    if (!b) return b.error();
    config.enabled = *b;
  }

  // DD_TAGS first: env, service and version in it are fallbacks for the dedicated settings.
  config.tags = options.tags;
  if (auto v = env("DD_TAGS"); v && !trim(*v).empty()) {
    auto tags = parse_dd_tags(*v);
    if (!tags) return tags.error();
    for (auto& [k, val] : *tags) config.tags[k] = val;
  }
  auto take_tag = [&](const char* key) -> std::optional<std::string> {
    const auto it = config.tags.find(key);
    if (it == config.tags.end()) return std::nullopt;
    std::string value = it->second;
    config.tags.erase(it);
    return value;
  };
  const auto tag_service = take_tag("service");
  const auto tag_env = take_tag("env");
  const auto tag_version = take_tag("version");

  config.service = pick(env, "DD_SERVICE", options.service).value_or(tag_service.value_or("tokenizer"));
  if (config.service.empty()) return setting_error("DD_SERVICE", "must not be empty");
  config.env = pick(env, "DD_ENV", options.env).value_or(tag_env.value_or(""));
  config.version = pick(env, "DD_VERSION", options.version).value_or(tag_version.value_or(""));

  // Agent endpoint: DD_TRACE_AGENT_URL wins over host and port.
  if (auto url = pick(env, "DD_TRACE_AGENT_URL", options.agent_url)) {
    auto endpoint = parse_agent_url(*url);
    if (!endpoint) return endpoint.error();
    config.agent = std::move(*endpoint);
  } else {
    std::string host = pick(env, "DD_AGENT_HOST", options.agent_host).value_or("localhost");
    long long port = options.agent_port.value_or(8126);
    if (auto v = env("DD_TRACE_AGENT_PORT"); v && !trim(*v).empty()) {
      const auto p = parse_decimal_u64(*v);
      if (!p || *p > 65535) return setting_error("DD_TRACE_AGENT_PORT", "invalid port '" + v->substr(0, 16) + "'");
      port = static_cast<long long>(*p);
    }
    if (!valid_port(port)) return setting_error("DD_TRACE_AGENT_PORT", "port must be 1-65535");
    if (host.find_first_of("/@ ?#") != std::string::npos) {
      return setting_error("DD_AGENT_HOST", "not a host name or address");
    }
    if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";  // IPv6
    config.agent.traces_url = "http://" + host + ":" + std::to_string(port) + "/v0.4/traces";
  }

  // Sampling: explicit rules, then DD_TRACE_SAMPLE_RATE as a catch-all rule.
  config.sampling_rules = options.sampling_rules;
  if (auto v = env("DD_TRACE_SAMPLING_RULES"); v && !trim(*v).empty()) {
    auto rules = parse_sampling_rules(*v);
    if (!rules) return rules.error();
    config.sampling_rules = std::move(*rules);
  }
  std::optional<double> sample_rate = options.sample_rate;
  if (sample_rate && (*sample_rate < 0.0 || *sample_rate > 1.0)) {
    return setting_error("DD_TRACE_SAMPLE_RATE", "must be between 0 and 1");
  }
  if (auto v = env("DD_TRACE_SAMPLE_RATE"); v && !trim(*v).empty()) {
    auto rate = parse_rate("DD_TRACE_SAMPLE_RATE", *v);
    if (!rate) return rate.error();
    sample_rate = *rate;
  }
  if (sample_rate) {
    SamplingRule catch_all;
    catch_all.sample_rate = *sample_rate;
    config.sampling_rules.push_back(catch_all);
  }
  config.rate_limit = options.rate_limit.value_or(100.0);
  if (auto v = env("DD_TRACE_RATE_LIMIT"); v && !trim(*v).empty()) {
    auto limit = parse_double("DD_TRACE_RATE_LIMIT", *v);
    if (!limit) return limit.error();
    config.rate_limit = *limit;
  }
  if (!(config.rate_limit > 0.0)) return setting_error("DD_TRACE_RATE_LIMIT", "must be greater than 0");

  // Propagation styles: specific variables, then the shared one, then options, then default.
  const std::vector<PropagationStyle> kDefaultStyles{PropagationStyle::datadog, PropagationStyle::tracecontext};
  config.extraction_styles = options.extraction_styles.value_or(kDefaultStyles);
  config.injection_styles = options.injection_styles.value_or(kDefaultStyles);
  for (const char* name : {"DD_TRACE_PROPAGATION_STYLE", "DD_TRACE_PROPAGATION_STYLE_EXTRACT",
                           "DD_TRACE_PROPAGATION_STYLE_INJECT"}) {
    const auto v = env(name);
    if (!v || trim(*v).empty()) continue;
    auto styles = parse_propagation_styles(*v);
    if (!styles) return setting_error(name, styles.error().message);
    const std::string_view n(name);
    if (n != "DD_TRACE_PROPAGATION_STYLE_INJECT") config.extraction_styles = *styles;
    if (n != "DD_TRACE_PROPAGATION_STYLE_EXTRACT") config.injection_styles = *styles;
  }

  config.trace_id_128_bit = options.trace_id_128_bit.value_or(true);
  if (auto v = env("DD_TRACE_128_BIT_TRACEID_GENERATION_ENABLED"); v && !trim(*v).empty()) {
    auto b = parse_bool("DD_TRACE_128_BIT_TRACEID_GENERATION_ENABLED", *v);
    if (!b) return b.error();
    config.trace_id_128_bit = *b;
  }

  config.tags_header_max_size = options.tags_header_max_size.value_or(kDefaultTagsHeaderMaxSize);
  if (auto v = env("DD_TRACE_X_DATADOG_TAGS_MAX_LENGTH"); v && !trim(*v).empty()) {
    const auto n = parse_decimal_u64(*v);
    if (!n || *n > 65536) return setting_error("DD_TRACE_X_DATADOG_TAGS_MAX_LENGTH", "invalid length");
    config.tags_header_max_size = static_cast<std::size_t>(*n);
  }

  using std::chrono::milliseconds;
  if (options.flush_interval <= milliseconds(0)) return setting_error("flush_interval", "must be positive");
  if (options.connect_timeout <= milliseconds(0) || options.request_timeout <= milliseconds(0) ||
      options.shutdown_timeout < milliseconds(0)) {
    return setting_error("export timeouts", "must be positive");
  }
  if (options.max_buffered_spans == 0) return setting_error("max_buffered_spans", "must be positive");
  config.flush_interval = options.flush_interval;
  config.connect_timeout = options.connect_timeout;
  config.request_timeout = options.request_timeout;
  config.shutdown_timeout = options.shutdown_timeout;
  config.max_buffered_spans = options.max_buffered_spans;
  config.tracer_version = options.tracer_version;
  return config;
}

std::vector<std::pair<std::string, std::string>> FinalizedTracerConfig::describe() const {
  auto styles = [](const std::vector<PropagationStyle>& s) {
    std::string out;
    for (const auto style : s) {
      if (!out.empty()) out += ",";
      out += propagation_style_name(style);
    }
    return out.empty() ? std::string("none") : out;
  };
  std::string where = agent.unix_socket.empty() ? agent.traces_url : "unix://" + agent.unix_socket;
  if (const auto scheme = where.find("://"), at = where.find('@');
      scheme != std::string::npos && at != std::string::npos && at < where.find('/', scheme + 3)) {
    where.replace(scheme + 3, at - scheme - 3, "REDACTED");
  }
  std::ostringstream rules;
  for (const auto& r : sampling_rules) {
    rules << (rules.tellp() > 0 ? ";" : "") << "service=" << r.service << " name=" << r.name
          << " resource=" << r.resource << " rate=" << r.sample_rate;
  }
  return {
      {"enabled", enabled ? "true" : "false"},
      {"service", service},
      {"env", env},
      {"version", version},
      {"agent", where},
      {"sampling_rules", rules.str()},
      {"rate_limit", std::to_string(rate_limit)},
      {"propagation_extract", styles(extraction_styles)},
      {"propagation_inject", styles(injection_styles)},
      {"trace_id_128_bit", trace_id_128_bit ? "true" : "false"},
      {"flush_interval_ms", std::to_string(flush_interval.count())},
      {"max_buffered_spans", std::to_string(max_buffered_spans)},
  };
}

}  // namespace tokenizer
