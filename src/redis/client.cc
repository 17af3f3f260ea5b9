#include "redis/client.h"

#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/write.hpp>

#include "net/io.h"

namespace pier::redis {
namespace {

using namespace std::chrono_literals;

using net::kNoThrow;
constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr Duration kMinBackoff = 100ms;
constexpr Duration kMaxBackoff = 5s;

}  // namespace

struct Client::Waiter {
  explicit Waiter(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  Reply reply;
  bool done = false;  // the reply (or a failure) is in
  bool gone = false;  // the caller stopped waiting (timeout): drop the reply
};

Client::Client(asio::io_context& io, const RedisOptions& options, std::string name, bool log_state)
    : io_(io),
      options_(options),
      name_(std::move(name)),
      stream_(io),
      log_state_(log_state),
      read_buffer_(kReadBuffer) {}

Client::~Client() {
  *alive_ = false;
  stream_.close();
}

void Client::start() {
  asio::co_spawn(io_, run(), asio::detached);
}

void Client::subscribe(std::string channel, std::function<void(std::string_view)> on_message) {
  channel_ = std::move(channel);
  on_message_ = std::move(on_message);
}

// Connect, handshake, read replies until the connection fails; then back off and start over.
asio::awaitable<void> Client::run() {
  auto alive = alive_;
  Duration backoff = kMinBackoff;
  bool ever_up = false;
  for (;;) {
    state_ = State::Connecting;
    if (co_await connect() && co_await handshake() && *alive) {
      state_ = State::Up;
      stats_.up = true;
      backoff = kMinBackoff;
      if (log_state_ && (logged_down_ || !ever_up)) {
        spdlog::info("{}: {} {}", name_, ever_up ? "up again at" : "connected to", options_.url);
      }
      logged_down_ = false;
      ever_up = true;
      while (co_await read_once()) {
      }
    }
    if (!*alive) co_return;
    state_ = State::Down;
    stats_.up = false;
    fail_all("down");
    stream_.close();
    if (log_state_ && !logged_down_) {
      spdlog::warn("{}: down ({} unreachable or failing); serving without it, reconnecting", name_,
                   options_.url);
      logged_down_ = true;
    }
    ++stats_.reconnects;
    asio::steady_timer pause(io_, backoff);
    co_await pause.async_wait(kNoThrow);
    if (!*alive) co_return;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

asio::awaitable<bool> Client::connect() {
  stream_ = net::Stream(io_);
  ++connection_id_;
  reader_.reset();
  asio::steady_timer limit(io_, options_.connect_timeout);
  limit.async_wait([this, alive = alive_](const std::error_code& ec) {
    if (!ec && *alive && state_ == State::Connecting) stream_.close();
  });
  auto [ec] = co_await stream_.async_connect(options_.endpoint, kNoThrow);
  limit.cancel();
  if (ec) co_return false;
  stream_.no_delay();
  co_return true;
}

// AUTH and SELECT when configured, and SUBSCRIBE for a subscriber, before anyone may call.
asio::awaitable<bool> Client::handshake() {
  handshaking_ = true;
  std::vector<std::shared_ptr<Waiter>> waiters;
  auto ask = [&](std::initializer_list<std::string_view> args) {
    waiters.push_back(std::make_shared<Waiter>(io_));
    enqueue(args, waiters.back());
  };
  if (!options_.password.empty()) ask({"AUTH", options_.password});
  if (options_.db != 0) {
    std::string db = std::to_string(options_.db);
    ask({"SELECT", db});
  }
  if (!channel_.empty()) {
    append_command(out_, {"SUBSCRIBE", channel_});  // answered by a push, not a reply
    flush();
  }
  asio::steady_timer limit(io_, options_.connect_timeout);
  limit.async_wait([this, alive = alive_](const std::error_code& ec) {
    if (!ec && *alive && handshaking_) stream_.close();
  });
  bool ok = true;
  while (ok && !pending_.empty())
    ok = co_await read_once();
  handshaking_ = false;
  limit.cancel();
  for (const auto& w : waiters) {
    if (!w->done || w->reply.is_error()) {
      if (log_state_ && ok) spdlog::error("{}: handshake refused: {}", name_, w->reply.str);
      co_return false;
    }
  }
  co_return ok;
}

asio::awaitable<bool> Client::read_once() {
  auto [ec, n] = co_await stream_.async_read_some(
      asio::buffer(read_buffer_.data(), read_buffer_.size()), kNoThrow);
  if (ec) co_return false;
  if (!reader_.feed(std::string_view(read_buffer_.data(), n))) co_return false;
  for (;;) {
    Reply reply;
    ReplyReader::Next next = reader_.next(reply);
    if (next == ReplyReader::Next::ProtocolError) co_return false;
    if (next == ReplyReader::Next::NeedMore) break;
    deliver(std::move(reply));
  }
  co_return true;
}

void Client::deliver(Reply reply) {
  if (!channel_.empty() && reply.type == Reply::Type::Array) {
    if (reply.elements.size() == 3 && reply.elements[0].str == "message" && on_message_) {
      on_message_(reply.elements[2].str);
    }
    return;  // subscribe confirmations and other pushes
  }
  if (pending_.empty()) return;
  std::shared_ptr<Waiter> waiter = std::move(pending_.front().waiter);
  pending_.pop_front();
  if (!waiter || waiter->gone) return;
  waiter->reply = std::move(reply);
  waiter->done = true;
  waiter->timer.cancel();
}

asio::awaitable<Reply> Client::call(std::span<const std::string_view> args) {
  ++stats_.commands;
  TimePoint now = Clock::now();
  if (state_ != State::Up || pending_.size() >= kMaxPending || stalled(now)) {
    ++stats_.errors;
    if (state_ == State::Up && stalled(now)) set_down("no reply for too long");
    co_return Reply::error(state_ == State::Up ? "overloaded" : "down");
  }
  auto waiter = std::make_shared<Waiter>(io_);
  waiter->timer.expires_after(options_.timeout);
  enqueue(args, waiter);
  co_await waiter->timer.async_wait(kNoThrow);
  if (!waiter->done) {
    waiter->gone = true;
    ++stats_.timeouts;
    ++stats_.errors;
    co_return Reply::error("timeout");
  }
  if (waiter->reply.is_error()) ++stats_.errors;
  co_return std::move(waiter->reply);
}

bool Client::send(std::initializer_list<std::string_view> args) {
  ++stats_.commands;
  if (state_ != State::Up || pending_.size() >= kMaxPending) {
    ++stats_.errors;
    return false;
  }
  enqueue(std::span<const std::string_view>(args.begin(), args.size()), nullptr);
  return true;
}

void Client::enqueue(std::span<const std::string_view> args, std::shared_ptr<Waiter> waiter) {
  append_command(out_, args);
  pending_.push_back(Pending{std::move(waiter), Clock::now()});
  flush();
}

// One write at a time; what is queued meanwhile goes out together with the next one.
void Client::flush() {
  if (writing_ || out_.empty()) return;
  writing_ = true;
  in_flight_.swap(out_);
  asio::async_write(
      stream_, asio::buffer(in_flight_),
      [this, alive = alive_, id = connection_id_](const std::error_code& ec, std::size_t) {
        if (!*alive) return;
        writing_ = false;
        in_flight_.clear();
        if (ec && id == connection_id_) {
          stream_.close();  // the read fails next, and run() reconnects
          return;
        }
        flush();
      });
}

void Client::fail_all(std::string_view why) {
  out_.clear();
  for (Pending& p : pending_) {
    if (!p.waiter || p.waiter->gone) continue;
    p.waiter->reply = Reply::error(why);
    p.waiter->done = true;
    p.waiter->timer.cancel();
  }
  pending_.clear();
}

// A connection whose oldest command has had no reply for many timeouts is taken for dead.
bool Client::stalled(TimePoint now) const {
  Duration limit = std::max<Duration>(options_.timeout * 20, std::chrono::seconds(1));
  return !pending_.empty() && now - pending_.front().sent > limit;
}

void Client::set_down(std::string_view why) {
  if (log_state_) spdlog::warn("{}: {}; reconnecting", name_, why);
  stream_.close();
}

}  // namespace pier::redis
