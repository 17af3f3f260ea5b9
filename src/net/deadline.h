// Coarse per-worker deadlines without a timer syscall per request.
//
// Arming an Asio timer per request would reprogram the timerfd whenever it becomes the earliest
// timer: a syscall per request. Instead each connection keeps a Deadline (a time and a callback)
// in an intrusive list, and one periodic tick per worker expires the overdue ones. Timeouts are
// therefore precise to one tick (kTick), which is plenty for timeouts measured in seconds.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <vector>

#include "net/clock.h"

namespace pier::net {

struct Deadline {
  TimePoint at = TimePoint::max();
  void (*on_expire)(void* context) = nullptr;
  void (*on_drain)(void* context) = nullptr;  // shutdown: close if idle
  // A second, softer time: when it passes, on_soft is called once (an idle session goes cold).
  TimePoint soft_at = TimePoint::max();
  void (*on_soft)(void* context) = nullptr;
  void* context = nullptr;

  // Intrusive list links, owned by DeadlineSweeper.
  Deadline* prev = nullptr;
  Deadline* next = nullptr;
  bool linked = false;

  void arm(TimePoint when) { at = when; }
  void disarm() { at = TimePoint::max(); }
};

class DeadlineSweeper {
 public:
  static constexpr std::chrono::milliseconds kTick{50};

  explicit DeadlineSweeper(asio::io_context& io) : timer_(io) {}

  void add(Deadline& d);
  void remove(Deadline& d);
  // Calls fn(deadline) for every registered deadline (used to wake idle connections on drain).
  template <class Fn>
  void for_each(Fn&& fn) {
    for (Deadline* d = head_; d != nullptr;) {
      Deadline* next = d->next;  // fn may unlink d
      fn(*d);
      d = next;
    }
  }
  // Periodic work that is not per connection (pruning idle pools), run on every tick.
  void on_tick(std::function<void(TimePoint)> fn) { tick_hooks_.push_back(std::move(fn)); }
  void start();
  void stop();

 private:
  void schedule();
  void sweep();

  asio::steady_timer timer_;
  Deadline* head_ = nullptr;
  std::vector<std::function<void(TimePoint)>> tick_hooks_;
  bool stopped_ = false;
};

}  // namespace pier::net
