#include "race_reply.h"

#include <pistache/http_header.h>
#include <pistache/http_headers.h>
#include <pistache/mime.h>

#include <memory>
#include <ostream>

namespace tokenizer::pistache_race {
namespace {

namespace Http = Pistache::Http;

class RequestIdHeader : public Http::Header::Header {
 public:
  NAME("X-Request-Id")

  RequestIdHeader() = default;
  explicit RequestIdHeader(std::string value) : value_(std::move(value)) {}

  void parse(const std::string& data) override { value_ = data; }
  void write(std::ostream& os) const override { os << value_; }

 private:
  std::string value_;
};

}  // namespace

Pistache::Async::Promise<ssize_t> send_race_reply(Http::ResponseWriter& writer, const std::string& request_id) {
  auto& headers = writer.headers();
  headers.remove<Http::Header::Connection>();
  headers.add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
  if (request_id.empty()) return writer.send(Http::Code::Bad_Request, "missing X-Request-Id\n");
  headers.add(std::make_shared<RequestIdHeader>(request_id));
  return writer.send(Http::Code::Ok, "{\"request_id\":\"" + request_id + "\"}\n", MIME(Application, Json));
}

}  // namespace tokenizer::pistache_race
