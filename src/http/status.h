// Reason phrases and the proxy's own short responses (errors, 100 Continue).
#pragma once

#include <string>
#include <string_view>

namespace pier::http {

std::string_view reason_phrase(int status);

enum class Close { No, Yes };

// A complete response with a one-line text/plain body, e.g. "502 Bad Gateway: <detail>\n".
void append_error_response(std::string& out, int status, std::string_view detail, Close close,
                           std::string_view via);

}  // namespace pier::http
