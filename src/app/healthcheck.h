// `pier --healthcheck`: asks a running Pier's admin listener for /healthz, so that a container's
// HEALTHCHECK needs no curl in the image.
#pragma once

#include <chrono>

#include "proxy/options.h"

namespace pier::app {

// 0 when GET /healthz answers 200 within `timeout`, 1 otherwise (the reason on stderr): the exit
// codes Docker and podman expect of a health check. An admin listener bound to every address
// (0.0.0.0, ::) is asked on the loopback address of its family.
int healthcheck(const proxy::AdminOptions& admin, std::chrono::milliseconds timeout);

}  // namespace pier::app
