// Integration: a tokenize request with `Transfer-Encoding: chunked` gets the same reply
// however TCP splits it across the server's reads (Pistache patch 0007). Each piece of a
// request is sent only once the tokenizer process has read everything before it, as the
// kernel reports for the server's end of the connection (sock_diag: bytes received, none
// left unread), so every split below reaches Pistache's parser as a read of its own.
// Without 0007 a chunk whose CR and LF came in different reads was refused with a 400
// (before patch 0006 it spun a worker thread forever), and a final CRLF that came after
// the last-chunk "0\r\n" was taken for the start of the connection's next request.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.h"
#include "support/service.h"
#include "support/sock_diag.h"

namespace tokenizer::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

constexpr char kTokenizePath[] = "/api/v1/payment_methods/tokenize";

// A client connection that sends a request in pieces, each one only after the server
// process has read all the bytes sent before it.
class SplitConnection {
 public:
  explicit SplitConnection(int port) : conn_(port), server_port_(static_cast<uint16_t>(port)) {
    const int one = 1;  // no Nagle: a piece leaves at once, whether or not the last was ACKed
    client_port_ = conn_.ok() ? local_port(conn_.fd()) : 0;
    ok_ = client_port_ != 0 &&
          setsockopt(conn_.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
  }

  bool ok() const { return ok_; }

  // Sends `piece`, then waits until the server process has read every byte sent so far.
  // False when the send fails or the server has not read them within `timeout`.
  bool send_piece(const std::string& piece, milliseconds timeout = seconds(5)) {
    if (!conn_.send_all(piece)) return false;
    sent_ += piece.size();
    const auto deadline = SteadyClock::now() + timeout;
    while (true) {
      const auto side = server_side(server_port_, client_port_);
      if (side && side->bytes_received == sent_ && side->unread == 0) return true;
      if (SteadyClock::now() >= deadline) return false;
      std::this_thread::yield();
    }
  }

  // Sends the pieces in order (see send_piece); false at the first that fails.
  bool send_pieces(const std::vector<std::string>& pieces) {
    for (const auto& piece : pieces) {
      if (!send_piece(piece)) return false;
    }
    return true;
  }

  // One HTTP response (head and Content-Length body); empty on EOF or timeout.
  std::string read_response(milliseconds timeout = seconds(10)) {
    return conn_.read_response(timeout);
  }

 private:
  RawConnection conn_;
  bool ok_ = false;
  uint16_t server_port_ = 0;
  uint16_t client_port_ = 0;
  uint64_t sent_ = 0;
};

std::string request_head(const std::string& request_id, const std::string& framing) {
  return std::string("POST ") + kTokenizePath + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         kClientAuthorization + "\r\nContent-Type: application/json\r\nX-Request-Id: " + request_id +
         "\r\n" + framing + "\r\n\r\n";
}

std::string plain_request(const std::string& request_id, const std::string& body) {
  return request_head(request_id, "Content-Length: " + std::to_string(body.size())) + body;
}

// One chunk of a chunked body: hex size line, data, CRLF.
std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return std::string(size) + "\r\n" + data + "\r\n";
}

constexpr char kLastChunk[] = "0\r\n\r\n";

// A reply's status line and its JSON body without the token and the creation time (new for
// every request).
struct Reply {
  std::string status_line;
  json body;
};

void strip_per_request_fields(json& body) {
  if (!body.is_object()) return;
  for (const char* name : {"payment_method_token", "created_at"}) {
    if (!body.contains(name)) continue;
    EXPECT_TRUE(body[name].is_string() && !body[name].get<std::string>().empty()) << name;
    body.erase(name);
  }
}

Reply parse_reply(const std::string& response) {
  Reply r;
  r.status_line = response.substr(0, response.find("\r\n"));
  const auto body_at = response.find("\r\n\r\n");
  if (body_at != std::string::npos) {
    r.body = json::parse(response.substr(body_at + 4), nullptr, false);
  }
  strip_per_request_fields(r.body);
  return r;
}

// The pieces of `request` cut at the given offsets (ascending).
std::vector<std::string> cut(const std::string& request, std::vector<size_t> offsets) {
  std::vector<std::string> pieces;
  size_t from = 0;
  offsets.push_back(request.size());
  for (const size_t to : offsets) {
    if (to > from) pieces.push_back(request.substr(from, to - from));
    from = to;
  }
  return pieces;
}

class ChunkedBodyTest : public SharedServiceTest {
 protected:
  void SetUp() override {
    SharedServiceTest::SetUp();
    if (HasFatalFailure()) return;
    // The reply to the same card sent with Content-Length, through curl (which also
    // registers the card number for the suite's leak scan of the service's output).
    const auto plain = service_->tokenize(card_body(), {"X-Request-Id: chunked-test"});
    ASSERT_EQ(plain.status, 200) << plain.body;
    expected_ = json::parse(plain.body, nullptr, false);
    ASSERT_TRUE(expected_.is_object()) << plain.body;
    strip_per_request_fields(expected_);
  }

  int port() const { return service_->tokenizer().port(); }

  // Sends `pieces` (one chunked tokenize request with X-Request-Id "chunked-test") on a new
  // connection and expects the Content-Length request's reply; then, on the same connection,
  // a Content-Length request and a chunked one sent whole, and one on a new connection: all
  // answered alike.
  void expect_same_reply(const std::vector<std::string>& pieces) {
    SplitConnection conn(port());
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn.send_pieces(pieces)) << "the server did not read the request";
    const Reply r = parse_reply(conn.read_response());
    EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(r.body, expected_);

    ASSERT_TRUE(conn.send_piece(plain_request("chunked-test", card_body())));
    const Reply next = parse_reply(conn.read_response());
    EXPECT_EQ(next.status_line, "HTTP/1.1 200 OK") << "next request on the same connection";
    EXPECT_EQ(next.body, expected_);

    ASSERT_TRUE(conn.send_piece(request_head("chunked-test", "Transfer-Encoding: chunked") +
                                chunk(card_body()) + kLastChunk));
    const Reply again = parse_reply(conn.read_response());
    EXPECT_EQ(again.status_line, "HTTP/1.1 200 OK") << "chunked request after it";
    EXPECT_EQ(again.body, expected_);

    SplitConnection fresh(port());
    ASSERT_TRUE(fresh.ok());
    ASSERT_TRUE(fresh.send_piece(plain_request("chunked-test", card_body())));
    const Reply other = parse_reply(fresh.read_response());
    EXPECT_EQ(other.status_line, "HTTP/1.1 200 OK") << "a new connection";
    EXPECT_EQ(other.body, expected_);
  }

  // Sends `pieces` and expects a 400 within the read's timeout.
  void expect_bad_request(const std::vector<std::string>& pieces) {
    SplitConnection conn(port());
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn.send_pieces(pieces));
    const std::string response = conn.read_response();
    EXPECT_EQ(response.substr(0, response.find("\r\n")), "HTTP/1.1 400 Bad Request") << response;
  }

  static std::string chunked_head() {
    return request_head("chunked-test", "Transfer-Encoding: chunked");
  }

  json expected_;
};

TEST_F(ChunkedBodyTest, OneChunkSentWhole) {
  expect_same_reply({chunked_head() + chunk(card_body()) + kLastChunk});
}

TEST_F(ChunkedBodyTest, SentAByteAtATime) {
  const std::string request = chunked_head() + chunk(card_body()) + kLastChunk;
  std::vector<std::string> bytes;
  for (const char c : request) bytes.emplace_back(1, c);
  expect_same_reply(bytes);
}

// Every CR of the chunked framing (size line, after the data, last-chunk, final CRLF) ends
// a read, and its LF starts the next.
TEST_F(ChunkedBodyTest, SplitBetweenEachCrAndLf) {
  const std::string head = chunked_head();
  const std::string request = head + chunk(card_body()) + kLastChunk;
  std::vector<size_t> offsets;
  for (size_t i = head.size(); i < request.size(); ++i) {
    if (request[i] == '\r') offsets.push_back(i + 1);
  }
  ASSERT_EQ(offsets.size(), 4u);
  expect_same_reply(cut(request, offsets));
}

// Three chunks (sizes 0x1a, 0x40 and the rest): reads end inside each size line, inside
// each chunk's data, between a chunk's data and its CRLF, inside the last-chunk and between
// the last-chunk and the final CRLF.
TEST_F(ChunkedBodyTest, SeveralChunksSplitInsideSizeLinesAndData) {
  const std::string body = card_body();
  ASSERT_GT(body.size(), 0x1au + 0x40u + 0x10u);
  const std::string head = chunked_head();
  const std::string first = chunk(body.substr(0, 0x1a));
  const std::string second = chunk(body.substr(0x1a, 0x40));
  const std::string third = chunk(body.substr(0x1a + 0x40));
  ASSERT_EQ(first.substr(0, 4), "1a\r\n");
  ASSERT_EQ(second.substr(0, 4), "40\r\n");
  const std::string request = head + first + second + third + kLastChunk;

  size_t at = head.size();
  std::vector<size_t> offsets;
  for (const std::string* c : {&first, &second, &third}) {
    const size_t data_at = at + c->find("\r\n") + 2;
    const size_t data_end = at + c->size() - 2;
    offsets.push_back(at + 1);                              // inside the size line
    offsets.push_back(data_at + (data_end - data_at) / 2);  // inside the data
    offsets.push_back(data_end);                            // data | CRLF
    at += c->size();
  }
  offsets.push_back(at + 1);  // "0" | "\r\n\r\n"
  offsets.push_back(at + 3);  // "0\r\n" | "\r\n"
  expect_same_reply(cut(request, offsets));
}

TEST_F(ChunkedBodyTest, ABadChunkSizeIsA400) {
  const std::string body = card_body();
  char size[32];
  std::snprintf(size, sizeof size, "%zxg\r\n", body.size());
  expect_bad_request({chunked_head() + size + body + "\r\n" + kLastChunk});
}

TEST_F(ChunkedBodyTest, AMissingCrlfAfterTheDataIsA400WhateverTheSplit) {
  const std::string c = chunk(card_body());
  const std::string without_crlf = c.substr(0, c.size() - 2);
  const std::string request = chunked_head() + without_crlf + kLastChunk;
  expect_bad_request({request});
  std::vector<std::string> bytes;
  for (const char ch : request) bytes.emplace_back(1, ch);
  expect_bad_request(bytes);
}

TEST_F(ChunkedBodyTest, OtherBytesInPlaceOfTheCrlfAfterTheDataAreA400) {
  const std::string c = chunk(card_body());
  expect_bad_request({chunked_head() + c.substr(0, c.size() - 2) + "XY" + kLastChunk});
}

}  // namespace
}  // namespace tokenizer::testing
