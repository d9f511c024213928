// send_race_reply(): the race server's reply, shared by its synchronous and delayed paths.
//
// Status 200, `Connection: keep-alive`, `X-Request-Id: <id>` and the JSON body
// `{"request_id":"<id>"}`; 400 when the request carried no id. Pistache 0.4.26 does not
// write raw headers into responses, so X-Request-Id is a small typed header (deliberately
// not registered, so that requests still expose it through tryGetRaw()).
// Thread-safety: call from one thread per writer; the returned promise may be ignored.
#pragma once

#include <pistache/http.h>

#include <string>

namespace tokenizer::pistache_race {

Pistache::Async::Promise<ssize_t> send_race_reply(Pistache::Http::ResponseWriter& writer,
                                                  const std::string& request_id);

}  // namespace tokenizer::pistache_race
