#include "telemetry/span.h"

namespace tokenizer {

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    finish();
    backend_ = std::move(other.backend_);
  }
  return *this;
}

Span::~Span() { finish(); }

void Span::set_tag(std::string_view key, std::string_view value) {
  if (backend_) backend_->set_tag(key, value);
}

void Span::set_metric(std::string_view key, double value) {
  if (backend_) backend_->set_metric(key, value);
}

void Span::set_error(std::string_view type, std::string_view message) {
  if (backend_) backend_->set_error(type, message);
}

void Span::set_resource(std::string_view resource) {
  if (backend_) backend_->set_resource(resource);
}

void Span::finish() {
  if (backend_) backend_->finish();
}

Span Span::create_child(const SpanOptions& options) {
  if (!backend_) return Span();
  return Span(backend_->create_child(options));
}

void Span::inject(const HeaderWriter& writer) {
  if (backend_) backend_->inject(writer);
}

std::uint64_t Span::trace_id_low() const { return backend_ ? backend_->trace_id_low() : 0; }

std::string Span::trace_id_hex() const { return backend_ ? backend_->trace_id_hex() : std::string(); }

std::uint64_t Span::span_id() const { return backend_ ? backend_->span_id() : 0; }

}  // namespace tokenizer
