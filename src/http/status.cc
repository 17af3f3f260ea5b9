#include "http/status.h"

#include "base/strings.h"
#include "http/head_writer.h"

namespace pier::http {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

void append_error_response(std::string& out, int status, std::string_view detail, Close close,
                           std::string_view via) {
  std::string_view reason = reason_phrase(status);
  std::size_t body_size = 3 + 1 + reason.size() + (detail.empty() ? 0 : 2 + detail.size()) + 1;
  HeadWriter(out)
      .status_line(status, reason)
      .field("Content-Type", "text/plain")
      .content_length(body_size)
      .via(1, via)
      .connection(close == Close::Yes ? ConnectionField::Close : ConnectionField::None)
      .end();
  append_decimal(out, status);
  out.append(" ").append(reason);
  if (!detail.empty()) out.append(": ").append(detail);
  out.append("\n");
}

}  // namespace pier::http
