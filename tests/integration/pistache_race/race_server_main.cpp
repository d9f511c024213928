// pistache-race-server: the smallest Pistache server that shows the reply-to-the-wrong-client
// race of Pistache 0.4.26 (see third_party/pistache/README.md).
//
// Every request is answered by a DelayedResponder thread a few milliseconds later or, for
// a --sync-share of them, at once by the handler (as a validation error would be): status
// 200, `X-Request-Id: <the request's id>`, a JSON body `{"request_id":"<id>"}` and
// `Connection: keep-alive`. It prints `pistache-race-server listening on 127.0.0.1:<port>`
// on stdout once it accepts connections, and stops on SIGTERM or SIGINT.
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/net.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "common/random.h"
#include "delayed_responder.h"
#include "race_reply.h"

namespace tokenizer::pistache_race {
namespace {

namespace Http = Pistache::Http;

class RaceHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(RaceHandler)

  // `sync_share` of the requests (0..1) are answered in the handler, the others by
  // `responder`. `random` must be thread-safe (it is used by every worker's clone).
  RaceHandler(std::shared_ptr<DelayedResponder> responder, double sync_share, Random& random)
      : responder_(std::move(responder)), sync_share_(sync_share), random_(&random) {}

  void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
    // Copy what the reply needs now: the Request is gone once this returns.
    auto raw = request.headers().tryGetRaw("X-Request-Id");
    std::string request_id = raw ? raw->value() : std::string();
    if (random_->next_unit() >= sync_share_) {
      responder_->schedule(std::move(response), std::move(request_id));
      return;
    }
    send_race_reply(response, request_id);
  }

 private:
  std::shared_ptr<DelayedResponder> responder_;
  double sync_share_;
  Random* random_;
};

int run(int argc, char** argv) {
  CLI::App app{"Pistache server answering each request with its own X-Request-Id"};
  std::string listen = "127.0.0.1:0";
  int threads = 2;
  long min_delay_us = 1000;
  long max_delay_us = 4000;
  std::size_t max_request_size = 4096;
  double sync_share = 0.0;
  app.add_option("--listen", listen, "address:port to listen on (port 0: any free port)");
  app.add_option("--threads", threads, "Pistache worker threads")->check(CLI::Range(1, 64));
  app.add_option("--min-delay-us", min_delay_us, "shortest reply delay")->check(CLI::NonNegativeNumber);
  app.add_option("--max-delay-us", max_delay_us, "longest reply delay")->check(CLI::NonNegativeNumber);
  app.add_option("--max-request-size", max_request_size, "Pistache maxRequestSize (headers + body)");
  app.add_option("--sync-share", sync_share,
                 "share of requests answered at once by the handler instead of a later thread")
      ->check(CLI::Range(0.0, 1.0));
  CLI11_PARSE(app, argc, argv);

  // Stop signals are taken by sigwait below, not by whichever thread they hit.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto responder = std::make_shared<DelayedResponder>(std::chrono::microseconds(min_delay_us),
                                                      std::chrono::microseconds(max_delay_us),
                                                      SystemRandom::instance());

  Http::Endpoint endpoint{Pistache::Address(listen)};
  endpoint.init(Http::Endpoint::options()
                    .threads(threads)
                    .maxRequestSize(max_request_size)
                    .flags(Pistache::Tcp::Options::ReuseAddr));
  endpoint.setHandler(std::make_shared<RaceHandler>(responder, sync_share, SystemRandom::instance()));
  endpoint.serveThreaded();

  std::cout << "pistache-race-server listening on 127.0.0.1:" << endpoint.getPort() << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  responder->stop();
  endpoint.shutdown();
  return 0;
}

}  // namespace
}  // namespace tokenizer::pistache_race

int main(int argc, char** argv) { return tokenizer::pistache_race::run(argc, argv); }
