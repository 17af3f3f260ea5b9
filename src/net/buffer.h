// Fixed-size byte blocks recycled per worker, and a read buffer built on them.
//
// A parked (idle) connection holds no block at all (proxy/parked_connection.h); a busy worker
// reuses its blocks without a syscall or malloc.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

namespace pier::net {

class BufferPool {
 public:
  // Blocks come straight from mmap, not from malloc: a burst of connections then leaves no
  // fragmented heap behind, and trim() gives memory back to the system exactly.
  BufferPool(std::size_t block_size, std::size_t max_cached)
      : block_size_(block_size), max_cached_(max_cached) {}
  ~BufferPool() {
    for (char* b : free_)
      unmap(b);
  }
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  char* acquire() {
    if (free_.empty()) {
      low_water_ = 0;
      return map();
    }
    char* b = free_.back();
    free_.pop_back();
    if (free_.size() < low_water_) low_water_ = free_.size();
    return b;
  }
  void release(char* block) {
    if (free_.size() < max_cached_) {
      free_.push_back(block);
    } else {
      unmap(block);
    }
  }
  std::size_t block_size() const { return block_size_; }

  // Called periodically (every 250 ms): unmaps the blocks that stayed unused for the whole period
  // (the low-water mark of the free list), keeping at least `keep` spares. Memory a burst needed
  // returns to the system within half a second, while a steady load keeps its working set
  // and maps nothing.
  void trim(std::size_t keep) {
    std::size_t surplus = low_water_ > keep ? low_water_ - keep : 0;
    for (; surplus > 0 && !free_.empty(); --surplus) {
      unmap(free_.back());
      free_.pop_back();
    }
    low_water_ = free_.size();
  }

 private:
  char* map() {
    void* p =
        mmap(nullptr, block_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<char*>(p);
  }
  void unmap(char* block) { munmap(block, block_size_); }

  std::size_t block_size_;
  std::size_t max_cached_;
  std::vector<char*> free_;
  std::size_t low_water_ = 0;  // the fewest free blocks since the last trim
};

// Bytes [begin, end) are received and not yet consumed; [end, capacity) is free for reading.
class Buffer {
 public:
  explicit Buffer(BufferPool& pool) : pool_(&pool) {}
  ~Buffer() { release(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void ensure_block() {
    if (data_ == nullptr) data_ = pool_->acquire();
  }
  void release() {
    if (data_ != nullptr) pool_->release(data_);
    data_ = nullptr;
    begin_ = end_ = 0;
  }
  void clear() { begin_ = end_ = 0; }

  std::string_view readable() const { return {data_ + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  char* write_ptr() { return data_ + end_; }
  std::size_t write_space() const { return capacity() - end_; }
  void commit(std::size_t n) { end_ += n; }
  std::size_t capacity() const { return pool_->block_size(); }
  // Moves pending bytes to the front so a message head can grow to the whole capacity.
  void compact() {
    if (begin_ == 0) return;
    std::memmove(data_, data_ + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }

 private:
  BufferPool* pool_;
  char* data_ = nullptr;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace pier::net
