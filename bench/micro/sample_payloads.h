// Payloads shared by the micro-benchmarks: the vault's 201 reply exactly as upstream-sim sends
// it for a Visa test card (848 bytes, the shape of /work/shared/VAULT-API.md's example).
#pragma once

namespace tokenizer {
namespace bench {

inline constexpr const char kVaultCreatedReply[] =
    R"({"transaction":{"token":"PIf4NSsb9xHad8EbMrQKZKl9sY","created_at":"2026-11-23T21:35:00Z",)"
    R"("updated_at":"2026-11-23T21:35:00Z","succeeded":true,"state":"succeeded",)"
    R"("transaction_type":"AddPaymentMethod","retained":true,"message_key":"messages.transaction_succeeded",)"
    R"("message":"Succeeded!","payment_method":{"token":"5Ac30ym85IM9eXUGXUwQbz9Auv",)"
    R"("created_at":"2026-11-23T21:35:00Z","updated_at":"2026-11-23T21:35:00Z","email":"ada@example.com",)"
    R"("data":null,"storage_state":"retained","test":true,"metadata":null,"callback_url":null,)"
    R"("last_four_digits":"1111","first_six_digits":"411111","card_type":"visa","first_name":"Ada",)"
    R"("last_name":"Lovelace","month":12,"year":2031,"full_name":"Ada Lovelace",)"
    R"("number":"XXXX-XXXX-XXXX-1111","verification_value":"XXX",)"
    R"("fingerprint":"497f4013e70675a49d6b018a246c3794","payment_method_type":"credit_card","errors":[]}}})";

}  // namespace bench
}  // namespace tokenizer
