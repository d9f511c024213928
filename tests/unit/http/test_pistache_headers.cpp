// Pistache patch 0013: Registry::unregisterHeader() leaves a header in the raw list only,
// and refuses the headers Pistache's parser and server read in typed form.
// Its own binary: the registry is process-wide, and these tests change it.
#include <gtest/gtest.h>
#include <pistache/http.h>
#include <pistache/http_headers.h>

#include <string>

namespace {

using namespace Pistache;

// Parses one complete request; fails the test when Pistache does not finish it.
void parse(Http::Private::ParserImpl<Http::Request>& parser, const std::string& text) {
  ASSERT_TRUE(parser.feed(text.data(), text.size()));
  ASSERT_EQ(parser.parse(), Http::Private::State::Done);
}

std::string raw_value(const Http::Request& request, const std::string& name) {
  const auto& raw = request.headers().rawList();
  auto it = raw.find(name);
  return it == raw.end() ? "<absent>" : it->second.value();
}

const std::string kRequest =
    "POST /api/v1/payment_methods/tokenize HTTP/1.1\r\n"
    "Host: tokenizer.example\r\n"
    "Content-Type: Application/JSON;charset=UTF-8\r\n"
    "Content-Length: 2\r\n"
    "\r\n"
    "{}";

TEST(PistacheHeaders, AnUnregisteredHeaderIsKeptRawOnly) {
  auto& registry = Http::Header::Registry::instance();
  {
    Http::Private::ParserImpl<Http::Request> parser(4096);
    parse(parser, kRequest);
    EXPECT_NE(parser.request.headers().tryGet<Http::Header::Host>(), nullptr) << "typed by default";
    EXPECT_NE(parser.request.headers().tryGet<Http::Header::ContentType>(), nullptr);
  }

  EXPECT_TRUE(registry.unregisterHeader("Host"));
  EXPECT_TRUE(registry.unregisterHeader("content-type")) << "names are case-insensitive";
  EXPECT_FALSE(registry.unregisterHeader("Host")) << "already gone";
  EXPECT_FALSE(registry.unregisterHeader("X-Not-A-Registered-Header"));
  EXPECT_FALSE(registry.isRegistered("Host"));

  Http::Private::ParserImpl<Http::Request> parser(4096);
  parse(parser, kRequest);
  const Http::Request& request = parser.request;
  EXPECT_EQ(request.headers().tryGet<Http::Header::Host>(), nullptr);
  EXPECT_EQ(request.headers().tryGet<Http::Header::ContentType>(), nullptr);
  EXPECT_EQ(raw_value(request, "Host"), "tokenizer.example");
  EXPECT_EQ(raw_value(request, "Content-Type"), "Application/JSON;charset=UTF-8");
  EXPECT_EQ(request.body(), "{}");

  // Registered again, for whatever runs next in this process (--gtest_repeat included).
  registry.registerHeader<Http::Header::Host>();
  registry.registerHeader<Http::Header::ContentType>();
  EXPECT_TRUE(registry.isRegistered("Host"));
}

TEST(PistacheHeaders, TheHeadersTheParserReadsStayTyped) {
  auto& registry = Http::Header::Registry::instance();
  for (const char* name : {"Content-Length", "transfer-encoding", "Connection", "Expect"}) {
    EXPECT_FALSE(registry.unregisterHeader(name)) << name;
    EXPECT_TRUE(registry.isRegistered(name)) << name;
  }

  Http::Private::ParserImpl<Http::Request> by_length(4096);
  parse(by_length, "POST /x HTTP/1.1\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(by_length.request.body(), "hello");
  const auto connection = by_length.request.headers().tryGet<Http::Header::Connection>();
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(connection->control(), Http::ConnectionControl::Close);

  Http::Private::ParserImpl<Http::Request> chunked(4096);
  parse(chunked, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.request.body(), "hello");
}

}  // namespace
