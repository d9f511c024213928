// SpanData and TraceId: the plain record of one finished span, as the Datadog agent's
// v0.4 intake sees it (see /work/shared/DATADOG-NOTES.md, "A span map"); TraceChunk: the
// spans of one trace that finished in this process, with the tags every span of the
// tracer carries (SpanDefaults).
//
// The Datadog tracer fills a SpanData while the span is open and hands a whole TraceChunk
// to a SpanExporter. Tags live in flat, insertion-ordered containers (SpanMeta,
// SpanMetrics) whose bytes sit in one buffer per span: a span costs a handful of
// allocations, not a tree node and up to two strings per tag. Tags identical for every span
// (`env`, `version`, DD_TAGS, `language`, `runtime-id`, `process_id`) are not copied into
// each span: the chunk points at its tracer's SpanDefaults and the encoder writes them.
//
// Plain data: no locking of its own; whoever owns it decides who may touch it.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokenizer {

// A 128-bit trace id. `low` is what the v0.4 intake and log correlation use; `high` travels
// in the `_dd.p.tid` trace tag (16 lower-case hex digits) and in W3C `traceparent`.
struct TraceId {
  std::uint64_t high = 0;
  std::uint64_t low = 0;

  bool is_zero() const { return high == 0 && low == 0; }
  // 32 lower-case hex digits, high then low (the W3C form).
  std::string hex() const;
  friend bool operator==(const TraceId& a, const TraceId& b) {
    return a.high == b.high && a.low == b.low;
  }
  friend bool operator!=(const TraceId& a, const TraceId& b) { return !(a == b); }
};

// `value` as exactly 16 lower-case hex digits.
std::string hex16(std::uint64_t value);
// The same into `out[0..15]` (no allocation).
void write_hex16(char* out, std::uint64_t value);

namespace detail {

// The byte store of a flat tag container: a growable buffer whose append is a capacity check
// and a memcpy, inlined (std::string's out-of-line append cost about as much as the copy for
// the dozen-byte keys and values of a tag). Copyable like the strings it replaced.
class TagBytes {
 public:
  TagBytes() = default;
  TagBytes(const TagBytes& o) { *this = o; }
  TagBytes(TagBytes&& o) noexcept
      : data_(std::move(o.data_)), size_(std::exchange(o.size_, 0)), capacity_(std::exchange(o.capacity_, 0)) {}
  TagBytes& operator=(const TagBytes& o) {
    if (this != &o) {
      size_ = 0;
      reserve(o.size_);
      if (o.size_ != 0) std::memcpy(data_.get(), o.data_.get(), o.size_);
      size_ = o.size_;
    }
    return *this;
  }
  TagBytes& operator=(TagBytes&& o) noexcept {
    data_ = std::move(o.data_);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    return *this;
  }

  const char* data() const { return data_.get(); }
  char* data() { return data_.get(); }
  std::size_t size() const { return size_; }
  void clear() { size_ = 0; }
  void reserve(std::size_t n) {
    if (n > capacity_) grow(n);
  }
  // Appends a then b; returns the offset of a.
  std::size_t append(std::string_view a, std::string_view b = {}) {
    const std::size_t offset = size_;
    const std::size_t need = size_ + a.size() + b.size();
    if (need > capacity_) grow(need);
    if (!a.empty()) std::memcpy(data_.get() + size_, a.data(), a.size());
    if (!b.empty()) std::memcpy(data_.get() + size_ + a.size(), b.data(), b.size());
    size_ = need;
    return offset;
  }

 private:
  void grow(std::size_t need) {
    std::size_t capacity = capacity_ < 64 ? 64 : capacity_ * 2;
    if (capacity < need) capacity = need;
    std::unique_ptr<char[]> bigger(new char[capacity]);
    if (size_ != 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// Keys (and, for SpanMeta, values) of a flat tag container: one byte buffer plus offsets.
// Lookups are linear, comparing lengths first: a span has a few dozen tags at most.
template <typename Slot>
class FlatTags {
 public:
  std::size_t size() const { return slots_.size(); }
  bool empty() const { return slots_.empty(); }
  std::size_t count(std::string_view key) const { return find(key) != nullptr ? 1 : 0; }
  void reserve(std::size_t tags, std::size_t bytes) {
    slots_.reserve(tags);
    bytes_.reserve(bytes);
  }
  void clear() {
    slots_.clear();
    bytes_.clear();
  }

 protected:
  std::string_view view(std::uint32_t offset, std::uint32_t size) const {
    return std::string_view(bytes_.data() + offset, size);
  }
  const Slot* find(std::string_view key) const {
    for (const Slot& s : slots_) {
      if (s.key_size == key.size() &&
          (key.empty() || std::memcmp(bytes_.data() + s.key_offset, key.data(), key.size()) == 0)) {
        return &s;
      }
    }
    return nullptr;
  }
  Slot* find(std::string_view key) { return const_cast<Slot*>(static_cast<const FlatTags&>(*this).find(key)); }
  std::uint32_t append(std::string_view bytes) { return static_cast<std::uint32_t>(bytes_.append(bytes)); }
  // Appends key then value (one capacity check); returns the key's offset.
  std::uint32_t append_pair(std::string_view key, std::string_view value) {
    return static_cast<std::uint32_t>(bytes_.append(key, value));
  }

  std::vector<Slot> slots_;
  TagBytes bytes_;
};

struct MetaSlot {
  std::uint32_t key_offset, key_size, value_offset, value_size;
};
struct MetricSlot {
  std::uint32_t key_offset, key_size;
  double value;
};

}  // namespace detail

// A span's `meta`: string tags, unique keys, in the order they were first set.
class SpanMeta : public detail::FlatTags<detail::MetaSlot> {
 public:
  // Adds the tag or replaces its value.
  void set(std::string_view key, std::string_view value) {
    if (auto* s = find(key)) {
      if (value.size() <= s->value_size) {  // fits where the old value was
        if (!value.empty()) std::memmove(bytes_.data() + s->value_offset, value.data(), value.size());
      } else {
        s->value_offset = append(value);
      }
      s->value_size = static_cast<std::uint32_t>(value.size());
      return;
    }
    detail::MetaSlot slot{};
    slot.key_offset = append_pair(key, value);
    slot.key_size = static_cast<std::uint32_t>(key.size());
    slot.value_offset = slot.key_offset + slot.key_size;
    slot.value_size = static_cast<std::uint32_t>(value.size());
    slots_.push_back(slot);
  }
  std::optional<std::string_view> get(std::string_view key) const {
    const auto* s = find(key);
    if (s == nullptr) return std::nullopt;
    return view(s->value_offset, s->value_size);
  }
  // The value; throws std::out_of_range when the tag is absent (like std::map::at).
  std::string_view at(std::string_view key) const {
    const auto* s = find(key);
    if (s == nullptr) throw std::out_of_range("span meta has no tag '" + std::string(key) + "'");
    return view(s->value_offset, s->value_size);
  }

  class const_iterator {
   public:
    using value_type = std::pair<std::string_view, std::string_view>;
    const_iterator(const SpanMeta* m, std::size_t i) : m_(m), i_(i) {}
    value_type operator*() const {
      const auto& s = m_->slots_[i_];
      return {m_->view(s.key_offset, s.key_size), m_->view(s.value_offset, s.value_size)};
    }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const SpanMeta* m_;
    std::size_t i_;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, slots_.size()}; }
};

// A span's `metrics`: numeric tags (sent as float64), unique keys, in the order first set.
class SpanMetrics : public detail::FlatTags<detail::MetricSlot> {
 public:
  void set(std::string_view key, double value) {
    if (auto* s = find(key)) {
      s->value = value;
      return;
    }
    detail::MetricSlot slot{};
    slot.key_offset = append(key);
    slot.key_size = static_cast<std::uint32_t>(key.size());
    slot.value = value;
    slots_.push_back(slot);
  }
  std::optional<double> get(std::string_view key) const {
    const auto* s = find(key);
    if (s == nullptr) return std::nullopt;
    return s->value;
  }
  double at(std::string_view key) const {
    const auto* s = find(key);
    if (s == nullptr) throw std::out_of_range("span metrics has no metric '" + std::string(key) + "'");
    return s->value;
  }

  class const_iterator {
   public:
    using value_type = std::pair<std::string_view, double>;
    const_iterator(const SpanMetrics* m, std::size_t i) : m_(m), i_(i) {}
    value_type operator*() const {
      const auto& s = m_->slots_[i_];
      return {m_->view(s.key_offset, s.key_size), s.value};
    }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const SpanMetrics* m_;
    std::size_t i_;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, slots_.size()}; }
};

struct SpanData {
  std::string name;
  std::string service;
  std::string resource;
  std::string type;  // "web", "http", or empty
  TraceId trace_id;
  std::uint64_t span_id = 0;
  std::uint64_t parent_id = 0;  // 0 for a trace's root
  std::int64_t start_ns = 0;    // wall clock, nanoseconds since the epoch
  std::int64_t duration_ns = 0;
  bool error = false;
  SpanMeta meta;
  SpanMetrics metrics;
};

// Tags a tracer gives every one of its spans, kept once per tracer (immutable once shared):
// the encoder writes them into each span map.
struct SpanDefaults {
  // DD_TAGS, `env`, `version`: a tag of the same key set on the span itself wins.
  std::vector<std::pair<std::string, std::string>> meta;
  // `language`, `runtime-id`: always these values, whatever the span set (as dd-trace-cpp
  // writes them when a trace finishes).
  std::vector<std::pair<std::string, std::string>> fixed_meta;
  // `process_id`: always this value.
  std::vector<std::pair<std::string, double>> fixed_metrics;
};

// The spans of one trace that finished in this process (one v0.4 chunk).
struct TraceChunk {
  TraceChunk() = default;
  explicit TraceChunk(std::vector<SpanData> s, std::shared_ptr<const SpanDefaults> d = nullptr)
      : spans(std::move(s)), defaults(std::move(d)) {}

  std::vector<SpanData> spans;
  std::shared_ptr<const SpanDefaults> defaults;  // null: the spans carry every tag themselves
};

}  // namespace tokenizer
