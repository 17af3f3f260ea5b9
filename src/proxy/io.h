// The data path's completion token (net/io.h), under the name the proxy's code uses.
#pragma once

#include "net/io.h"

namespace pier::proxy {

using net::kNoThrow;

}  // namespace pier::proxy
