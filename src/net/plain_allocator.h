// An allocator that is just operator new/delete, for handlers whose operation lives long.
//
// Asio allocates an operation through the handler's associated allocator, and when that is
// std::allocator (the default) it substitutes a per-thread recycling cache that hands out any
// cached block large enough. That suits short operations; a wait held by an idle connection
// for minutes would keep a 320-byte block left by an accept for its 184 bytes. Binding this
// allocator (asio::bind_allocator) gets a block of the operation's own size class.
#pragma once

#include <cstddef>
#include <new>

namespace pier::net {

template <typename T>
struct PlainAllocator {
  using value_type = T;
  PlainAllocator() noexcept = default;
  template <typename U>
  PlainAllocator(const PlainAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
  template <typename U>
  bool operator==(const PlainAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace pier::net
