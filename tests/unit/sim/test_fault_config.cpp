#include "sim/fault_config.h"

#include <gtest/gtest.h>

namespace tokenizer {
namespace {

TEST(FaultConfig, EmptyObjectMeansNoFaults) {
  auto config = parse_fault_config("{}");
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->latency.count(), 0);
  EXPECT_FALSE(config->status.has_value());
  EXPECT_DOUBLE_EQ(config->error_rate, 1.0);
  EXPECT_EQ(config->mode, FaultMode::kNone);
  EXPECT_FALSE(config->injects_errors());
}

TEST(FaultConfig, ParsesEveryKey) {
  auto config = parse_fault_config(
      R"({"latency_ms": 50, "status": 503, "error_rate": 0.5, "retry_after": 2})");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->latency.count(), 50);
  EXPECT_EQ(config->status, 503);
  EXPECT_DOUBLE_EQ(config->error_rate, 0.5);
  EXPECT_EQ(config->retry_after_seconds, 2);
  EXPECT_TRUE(config->injects_errors());
}

TEST(FaultConfig, ParsesEachMode) {
  const std::pair<const char*, FaultMode> cases[] = {{"none", FaultMode::kNone},
                                                     {"reset", FaultMode::kReset},
                                                     {"garbage", FaultMode::kGarbage},
                                                     {"hang", FaultMode::kHang}};
  for (const auto& [name, mode] : cases) {
    auto config = parse_fault_config(std::string(R"({"mode": ")") + name + "\"}");
    ASSERT_TRUE(config.has_value()) << name;
    EXPECT_EQ(config->mode, mode);
    EXPECT_EQ(fault_mode_name(mode), name);
    EXPECT_EQ(config->injects_errors(), mode != FaultMode::kNone);
  }
}

TEST(FaultConfig, LatencyAloneIsNotAnErrorAndZeroRateInjectsNothing) {
  EXPECT_FALSE(parse_fault_config(R"({"latency_ms": 100})")->injects_errors());
  EXPECT_FALSE(parse_fault_config(R"({"status": 500, "error_rate": 0})")->injects_errors());
}

TEST(FaultConfig, NullMeansAbsentAndIntegralFloatsAreIntegers) {
  auto config = parse_fault_config(R"({"status": null, "mode": null, "latency_ms": 20.0})");
  ASSERT_TRUE(config.has_value());
  EXPECT_FALSE(config->status.has_value());
  EXPECT_EQ(config->latency.count(), 20);
}

TEST(FaultConfig, RejectsInvalidDocumentsNamingTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "JSON"},
      {"[]", "object"},
      {R"({"latency_ms": -1})", "latency_ms"},
      {R"({"latency_ms": 60001})", "latency_ms"},
      {R"({"latency_ms": 1.5})", "latency_ms"},
      {R"({"latency_ms": "50"})", "latency_ms"},
      {R"({"status": 99})", "status"},
      {R"({"status": 600})", "status"},
      {R"({"error_rate": 1.5})", "error_rate"},
      {R"({"error_rate": -0.1})", "error_rate"},
      {R"({"error_rate": "half"})", "error_rate"},
      {R"({"retry_after": 2})", "retry_after"},
      {R"({"status": 503, "retry_after": -1})", "retry_after"},
      {R"({"mode": "explode"})", "mode"},
      {R"({"mode": 1})", "mode"},
      {R"({"status": 503, "mode": "reset"})", "mutually exclusive"},
      {R"({"latency": 5})", "unknown key \"latency\""},
  };
  for (const auto& [text, fragment] : cases) {
    auto config = parse_fault_config(text);
    ASSERT_FALSE(config.has_value()) << text;
    EXPECT_EQ(config.error().code, "invalid_faults");
    EXPECT_NE(config.error().message.find(fragment), std::string::npos)
        << text << " -> " << config.error().message;
  }
}

TEST(FaultConfig, RoundTripsThroughItsJsonForm) {
  auto config = parse_fault_config(
      R"({"latency_ms": 7, "status": 429, "error_rate": 0.25, "retry_after": 3})");
  ASSERT_TRUE(config.has_value());
  const auto json = fault_config_to_json(*config);
  EXPECT_EQ(json["mode"], "none");
  auto again = fault_config_from_json(json);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->latency, config->latency);
  EXPECT_EQ(again->status, config->status);
  EXPECT_DOUBLE_EQ(again->error_rate, config->error_rate);
  EXPECT_EQ(again->retry_after_seconds, config->retry_after_seconds);
  EXPECT_TRUE(fault_config_to_json(FaultConfig{})["status"].is_null());
}

}  // namespace
}  // namespace tokenizer
