#include "cache/entry_codec.h"

#include <cstdint>
#include <cstring>

namespace pier::cache {
namespace {

constexpr char kMagic[2] = {'P', 'C'};
constexpr char kKindEntry = 'E';
constexpr char kKindVary = 'V';
constexpr std::size_t kHeader = 4;    // magic, version, kind
constexpr std::size_t kChecksum = 8;  // FNV-1a 64 of everything before it
constexpr std::uint32_t kMaxCount = 1 << 16;

std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

template <class T>
void put(std::string& out, T value) {
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));  // little-endian hosts only (x86-64, arm64)
  out.append(raw, sizeof(T));
}

void put_string(std::string& out, std::string_view s) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

void put_fields(std::string& out, const std::vector<StoredField>& fields) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(fields.size()));
  for (const StoredField& f : fields) {
    put_string(out, f.name);
    put_string(out, f.value);
  }
}

void begin(std::string& out, char kind) {
  out.append(kMagic, 2);
  out.push_back(static_cast<char>(kCodecVersion));
  out.push_back(kind);
}

void seal(std::string& out) {
  put<std::uint64_t>(out, fnv1a(out));
}

// Reads with bounds checks; any failure makes every later read fail too.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  template <class T>
  bool get(T& value) {
    if (s_.size() < sizeof(T)) return fail();
    std::memcpy(&value, s_.data(), sizeof(T));
    s_.remove_prefix(sizeof(T));
    return true;
  }
  bool get_string(std::string& out) {
    std::uint32_t n = 0;
    if (!get(n) || s_.size() < n) return fail();
    out.assign(s_.substr(0, n));
    s_.remove_prefix(n);
    return true;
  }
  bool get_fields(std::vector<StoredField>& out) {
    std::uint32_t n = 0;
    if (!get(n) || n > kMaxCount) return fail();
    out.resize(n);
    for (StoredField& f : out) {
      if (!get_string(f.name) || !get_string(f.value)) return false;
    }
    return true;
  }
  bool done() const { return ok_ && s_.empty(); }

 private:
  bool fail() {
    ok_ = false;
    s_ = {};
    return false;
  }
  std::string_view s_;
  bool ok_ = true;
};

bool decode_entry(Reader& r, Entry& e) {
  std::int32_t status = 0;
  bool ok = r.get(status) && r.get(e.request_time) && r.get(e.response_time) &&
            r.get(e.age_value) && r.get_string(e.reason) && r.get_fields(e.headers) &&
            r.get_fields(e.vary) && r.get_string(e.body) && r.done();
  e.status = status;
  return ok && status >= 100 && status <= 999;
}

}  // namespace

std::string encode_entry(const Entry& e) {
  std::string out;
  out.reserve(64 + e.body.size() + e.headers.size() * 48);
  begin(out, kKindEntry);
  put<std::int32_t>(out, e.status);
  put<std::int64_t>(out, e.request_time);
  put<std::int64_t>(out, e.response_time);
  put<std::int64_t>(out, e.age_value);
  put_string(out, e.reason);
  put_fields(out, e.headers);
  put_fields(out, e.vary);
  put_string(out, e.body);
  seal(out);
  return out;
}

std::string encode_vary_marker(const std::vector<std::string>& names) {
  std::string out;
  begin(out, kKindVary);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(names.size()));
  for (const std::string& n : names)
    put_string(out, n);
  seal(out);
  return out;
}

std::optional<Decoded> decode(std::string_view bytes) {
  if (bytes.size() < kHeader + kChecksum || bytes.substr(0, 2) != std::string_view(kMagic, 2) ||
      static_cast<unsigned char>(bytes[2]) != kCodecVersion) {
    return std::nullopt;
  }
  std::string_view sealed = bytes.substr(0, bytes.size() - kChecksum);
  std::uint64_t checksum = 0;
  std::memcpy(&checksum, bytes.data() + sealed.size(), kChecksum);
  if (checksum != fnv1a(sealed)) return std::nullopt;
  Reader r(sealed.substr(kHeader));
  Decoded d;
  if (bytes[3] == kKindEntry) {
    d.kind = Decoded::Kind::Entry;
    if (!decode_entry(r, d.entry)) return std::nullopt;
    return d;
  }
  if (bytes[3] == kKindVary) {
    d.kind = Decoded::Kind::VaryMarker;
    std::uint32_t n = 0;
    if (!r.get(n) || n > kMaxCount) return std::nullopt;
    d.vary_names.resize(n);
    for (std::string& name : d.vary_names) {
      if (!r.get_string(name)) return std::nullopt;
    }
    if (!r.done()) return std::nullopt;
    return d;
  }
  return std::nullopt;
}

std::string with_checksum(std::string_view bytes) {
  std::string out(bytes);
  seal(out);
  return out;
}

std::string variant_key(std::string_view key, const std::vector<StoredField>& selection) {
  std::string out(key);
  for (const StoredField& f : selection) {
    out.push_back('\x1f');  // a byte no normalised field value contains
    out.append(f.name).push_back('=');
    out.append(f.value);
  }
  return out;
}

}  // namespace pier::cache
