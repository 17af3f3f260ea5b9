// Completion token used by every coroutine on the data path: errors come back as values
// (std::tuple<error_code, ...>), never as exceptions.
#pragma once

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace pier::net {

inline constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace pier::net
