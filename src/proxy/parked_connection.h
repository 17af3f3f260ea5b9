// A keep-alive connection idle for more than one deadline tick is parked: its session, buffer
// and coroutine frames are freed, and only the socket and a readability wait remain (a few
// hundred bytes instead of kilobytes). When the client sends its next request a new session
// starts; the keep-alive timeout and shutdown close it as they would an idle session.
#pragma once

#include <asio/awaitable.hpp>

#include "proxy/client_connection.h"
#include "proxy/runtime.h"

namespace pier::proxy {

// Takes ownership of `conn` until it becomes readable (then a session serves it), its keep-alive
// timeout passes, or the server drains (then it is closed).
void park(WorkerContext& ctx, ClientConnection conn);

// Serves `conn` with sessions until it closes, parking it whenever it goes cold.
asio::awaitable<void> serve(WorkerContext& ctx, ClientConnection conn);

}  // namespace pier::proxy
