#include "net/deadline.h"

namespace pier::net {

void DeadlineSweeper::add(Deadline& d) {
  if (d.linked) return;
  d.prev = nullptr;
  d.next = head_;
  if (head_ != nullptr) head_->prev = &d;
  head_ = &d;
  d.linked = true;
}

void DeadlineSweeper::remove(Deadline& d) {
  if (!d.linked) return;
  if (d.prev != nullptr) d.prev->next = d.next;
  if (d.next != nullptr) d.next->prev = d.prev;
  if (head_ == &d) head_ = d.next;
  d.prev = d.next = nullptr;
  d.linked = false;
}

void DeadlineSweeper::start() {
  stopped_ = false;
  schedule();
}

void DeadlineSweeper::stop() {
  stopped_ = true;
  timer_.cancel();
}

void DeadlineSweeper::schedule() {
  timer_.expires_after(kTick);
  timer_.async_wait([this](const std::error_code& ec) {
    if (ec || stopped_) return;
    sweep();
    schedule();
  });
}

void DeadlineSweeper::sweep() {
  TimePoint now = Clock::now();
  for_each([now](Deadline& d) {
    if (d.soft_at <= now) {
      d.soft_at = TimePoint::max();
      if (d.on_soft != nullptr) d.on_soft(d.context);
    }
    if (d.at > now) return;
    d.at = TimePoint::max();  // fire once; the owner re-arms if it goes on
    if (d.on_expire != nullptr) d.on_expire(d.context);
  });
  for (auto& hook : tick_hooks_)
    hook(now);
}

}  // namespace pier::net
