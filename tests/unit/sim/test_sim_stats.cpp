#include "sim/sim_stats.h"

#include <gtest/gtest.h>

namespace tokenizer {
namespace {

TEST(SimStats, CountsOutcomesAndFaults) {
  SimStats stats;
  stats.record(201, InjectedFault::kNone);
  stats.record(201, InjectedFault::kNone);
  stats.record(503, InjectedFault::kStatus);
  stats.record(kOutcomeReset, InjectedFault::kReset);
  stats.record(kOutcomeHang, InjectedFault::kNone);
  EXPECT_EQ(stats.requests(), 5u);
  EXPECT_EQ(stats.faults_injected(), 2u);
  EXPECT_EQ(stats.count_for(201), 2u);
  const auto json = stats.stats_json();
  EXPECT_EQ(json["requests"], 5);
  EXPECT_EQ(json["faults_injected"], 2);
  EXPECT_EQ(json["by_status"]["201"], 2);
  EXPECT_EQ(json["by_status"]["503"], 1);
  EXPECT_EQ(json["by_status"]["reset"], 1);
  EXPECT_EQ(json["by_status"]["hang"], 1);
  EXPECT_FALSE(json["by_status"].contains("422"));
}

TEST(SimStats, MetricsUseTheDocumentedNames) {
  SimStats stats;
  stats.record(201, InjectedFault::kNone);
  stats.record(kOutcomeReset, InjectedFault::kReset);
  stats.record(418, InjectedFault::kStatus);
  stats.observe_reply_delay(std::chrono::milliseconds(120));
  const std::string text = stats.metrics_text();
  EXPECT_NE(text.find("upstream_sim_requests_total{status=\"201\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("upstream_sim_requests_total{status=\"reset\"} 1"), std::string::npos);
  EXPECT_NE(text.find("upstream_sim_requests_total{status=\"418\"} 1"), std::string::npos);
  EXPECT_NE(text.find("upstream_sim_faults_injected_total{mode=\"reset\"} 1"), std::string::npos);
  EXPECT_NE(text.find("upstream_sim_faults_injected_total{mode=\"status\"} 1"), std::string::npos);
  EXPECT_NE(text.find("upstream_sim_reply_delay_seconds_bucket{le=\"0.25\"} 1"), std::string::npos);
  EXPECT_NE(text.find("upstream_sim_reply_delay_seconds_bucket{le=\"0.1\"} 0"), std::string::npos);
}

TEST(SimStats, RequestLogKeepsTheNewestLastAndRedactsCredentials) {
  SimStats stats;
  for (std::size_t i = 0; i < kRequestLogSize + 5; ++i) {
    stats.log_request({"POST",
                       "/v1/payment_methods.json",
                       {{"authorization", "Basic ZGVtby1rZXk6ZGVtby1zZWNyZXQ="},
                        {"x-request-id", "r" + std::to_string(i)}}});
  }
  stats.log_request({"GET", "/v1/x", {{"authorization", "garbage-without-scheme"}}});
  const auto json = stats.requests_json()["requests"];
  ASSERT_EQ(json.size(), kRequestLogSize);
  EXPECT_EQ(json[0]["headers"]["x-request-id"], "r6");
  EXPECT_EQ(json[kRequestLogSize - 2]["headers"]["authorization"], "Basic [redacted]");
  EXPECT_EQ(json[kRequestLogSize - 1]["method"], "GET");
  EXPECT_EQ(json[kRequestLogSize - 1]["headers"]["authorization"], "[redacted]");
  EXPECT_EQ(stats.requests_json().dump().find("ZGVtby1rZXk6ZGVtby1zZWNyZXQ="), std::string::npos);
  stats.clear_request_log();
  EXPECT_TRUE(stats.requests_json()["requests"].empty());
}

}  // namespace
}  // namespace tokenizer
