// One pipelined Redis connection per worker (owned by the worker, used only on its thread).
//
// Commands are queued and written together; replies come back in order. A command never waits
// longer than `timeout`: past it the caller gets an error reply and carries on without Redis
// (a cache miss, a local rate-limit decision), while the late reply is dropped when it comes.
// When the connection is down, calls fail at once, and the client reconnects in the background
// with exponential backoff. Each change of state is logged once.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "net/clock.h"
#include "net/stream.h"
#include "redis/options.h"
#include "redis/resp.h"

namespace pier::redis {

struct ClientStats {
  std::atomic<std::uint64_t> commands{0};
  std::atomic<std::uint64_t> errors{0};  // error replies, timeouts, and calls while down
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<bool> up{false};
};

class Client {
 public:
  // `name` appears in logs; with `log_state` false the client says nothing of its state (one
  // client per process logs it, so that a change is logged once, not once per worker).
  Client(asio::io_context& io, const RedisOptions& options, std::string name, bool log_state);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects in the background; calls fail until the connection is up.
  void start();

  // The reply to one command, or Reply::error("down" / "timeout" / "overloaded" / Redis's error).
  // (A span, not an initializer_list: GCC 12 miscompiles braced lists in co_await expressions.)
  asio::awaitable<Reply> call(std::span<const std::string_view> args);

  // A command whose reply nobody waits for (dropped when it comes). False when down.
  bool send(std::initializer_list<std::string_view> args);

  // Turns this connection into a subscriber: after each (re)connect it subscribes to `channel`
  // and hands every message to `on_message`. No calls on a subscriber.
  void subscribe(std::string channel, std::function<void(std::string_view)> on_message);

  bool up() const { return state_ == State::Up; }
  const ClientStats& stats() const { return stats_; }

 private:
  struct Waiter;
  struct Pending {
    std::shared_ptr<Waiter> waiter;  // null: nobody waits (send(), or the caller timed out)
    TimePoint sent;
  };
  enum class State { Down, Connecting, Up };

  asio::awaitable<void> run();
  asio::awaitable<bool> connect();
  asio::awaitable<bool> handshake();
  asio::awaitable<bool> read_once();
  void enqueue(std::span<const std::string_view> args, std::shared_ptr<Waiter> waiter);
  void deliver(Reply reply);
  void flush();
  void fail_all(std::string_view why);
  void set_down(std::string_view why);
  bool stalled(TimePoint now) const;

  asio::io_context& io_;
  const RedisOptions& options_;
  std::string name_;
  net::Stream stream_;
  ReplyReader reader_;
  State state_ = State::Down;
  bool logged_down_ = false;  // "down" was logged and "up" was not since
  bool writing_ = false;
  bool handshaking_ = false;
  bool log_state_;
  std::uint64_t connection_id_ = 0;  // tells a stale write completion from a current one
  std::vector<char> read_buffer_;
  std::string out_;        // commands not yet written
  std::string in_flight_;  // commands being written
  std::deque<Pending> pending_;
  std::string channel_;
  std::function<void(std::string_view)> on_message_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  ClientStats stats_;

  static constexpr std::size_t kMaxPending = 4096;
};

}  // namespace pier::redis
