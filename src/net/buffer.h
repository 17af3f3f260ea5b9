// Fixed-size byte blocks recycled per worker, and a read buffer built on them.
//
// An idle keep-alive connection gives its block back (Buffer::release_if_empty), so thousands of
// idle clients hold no buffer memory; a busy worker reuses a handful of blocks without malloc.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace pier::net {

class BufferPool {
 public:
  BufferPool(std::size_t block_size, std::size_t max_cached)
      : block_size_(block_size), max_cached_(max_cached) {}
  ~BufferPool() {
    for (char* b : free_)
      delete[] b;
  }
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  char* acquire() {
    if (free_.empty()) return new char[block_size_];
    char* b = free_.back();
    free_.pop_back();
    return b;
  }
  void release(char* block) {
    if (free_.size() < max_cached_) {
      free_.push_back(block);
    } else {
      delete[] block;
    }
  }
  std::size_t block_size() const { return block_size_; }

 private:
  std::size_t block_size_;
  std::size_t max_cached_;
  std::vector<char*> free_;
};

// Bytes [begin, end) are received and not yet consumed; [end, capacity) is free for reading.
class Buffer {
 public:
  explicit Buffer(BufferPool& pool) : pool_(&pool) {}
  ~Buffer() { release(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  bool has_block() const { return data_ != nullptr; }
  void ensure_block() {
    if (data_ == nullptr) data_ = pool_->acquire();
  }
  void release() {
    if (data_ != nullptr) pool_->release(data_);
    data_ = nullptr;
    begin_ = end_ = 0;
  }
  void clear() { begin_ = end_ = 0; }
  // Gives the block back when nothing is pending, e.g. before waiting on an idle connection.
  void release_if_empty() {
    if (begin_ == end_) release();
  }

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
