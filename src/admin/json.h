// A small JSON writer for the admin API: appends to a string, escapes strings, places commas.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/strings.h"

namespace pier::admin {

class Json {
 public:
  explicit Json(std::string& out) : out_(out) {}

  Json& begin_object() { return open('{'); }
  Json& end_object() { return close('}'); }
  Json& begin_array() { return open('['); }
  Json& end_array() { return close(']'); }
  Json& key(std::string_view k) {
    comma();
    string_raw(k);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  Json& value(std::string_view s) {
    comma();
    string_raw(s);
    return *this;
  }
  Json& value(const char* s) { return value(std::string_view(s)); }
  Json& value(bool b) {
    comma();
    out_.append(b ? "true" : "false");
    return *this;
  }
  Json& value(std::uint64_t n) { return number(n); }
  Json& value(std::int64_t n) { return number(n); }
  Json& value(int n) { return number(static_cast<std::int64_t>(n)); }
  Json& value(unsigned n) { return number(static_cast<std::uint64_t>(n)); }
  Json& value(double d) {
    comma();
    if (!std::isfinite(d)) {
      out_.append("null");
      return *this;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    out_.append(buf, static_cast<std::size_t>(end - buf));
    return *this;
  }
  Json& null() {
    comma();
    out_.append("null");
    return *this;
  }
  template <class T>
  Json& field(std::string_view k, T v) {
    key(k);
    return value(v);
  }

 private:
  template <class N>
  Json& number(N n) {
    comma();
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, static_cast<std::size_t>(end - buf));
    return *this;
  }
  Json& open(char c) {
    comma();
    out_.push_back(c);
    first_ = true;
    return *this;
  }
  Json& close(char c) {
    out_.push_back(c);
    first_ = false;
    return *this;
  }
  void comma() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  void string_raw(std::string_view s) { append_json_string(out_, s); }

  std::string& out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace pier::admin
