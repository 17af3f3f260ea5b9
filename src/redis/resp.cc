#include "redis/resp.h"

#include <hiredis/hiredis.h>

#include <charconv>

namespace pier::redis {
namespace {

void append_length(std::string& out, char kind, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.push_back(kind);
  out.append(digits, end).append("\r\n");
}

}  // namespace

void append_command(std::string& out, std::span<const std::string_view> args) {
  append_length(out, '*', args.size());
  for (std::string_view arg : args) {
    append_length(out, '$', arg.size());
    out.append(arg).append("\r\n");
  }
}

namespace {

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::String;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::Status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::Error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::Integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::Array;
      for (std::size_t i = 0; i < r->elements; ++i)
        out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = Reply::Type::Nil;
  }
  return out;
}

}  // namespace

ReplyReader::ReplyReader() : reader_(redisReaderCreate()) {}

ReplyReader::~ReplyReader() {
  redisReaderFree(reader_);
}

void ReplyReader::reset() {
  redisReaderFree(reader_);
  reader_ = redisReaderCreate();
}

bool ReplyReader::feed(std::string_view bytes) {
  return reader_ != nullptr && redisReaderFeed(reader_, bytes.data(), bytes.size()) == REDIS_OK;
}

ReplyReader::Next ReplyReader::next(Reply& out) {
  void* raw = nullptr;
  if (reader_ == nullptr || redisReaderGetReply(reader_, &raw) != REDIS_OK) {
    return Next::ProtocolError;
  }
  if (raw == nullptr) return Next::NeedMore;
  out = convert(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return Next::Reply;
}

}  // namespace pier::redis
