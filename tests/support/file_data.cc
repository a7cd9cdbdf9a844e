#include "tests/support/file_data.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace testing_support {
namespace {

constexpr size_t kChunk = 1 << 20;

// Incremental 64-bit digest over a byte stream (FNV-1a over 8-byte words,
// with the tail bytes and the length mixed in at the end).
class Digester {
 public:
  void Update(const char* data, size_t len) {
    length_ += len;
    while (len > 0) {
      const size_t take = std::min(len, sizeof(word_) - filled_);
      std::memcpy(reinterpret_cast<char*>(&word_) + filled_, data, take);
      filled_ += take;
      data += take;
      len -= take;
      if (filled_ == sizeof(word_)) {
        Mix(word_);
        word_ = 0;
        filled_ = 0;
      }
    }
  }
  uint64_t Finish() {
    Mix(word_);
    Mix(length_);
    return hash_;
  }

 private:
  void Mix(uint64_t v) {
    hash_ ^= v;
    hash_ *= 0x100000001b3ULL;
    hash_ ^= hash_ >> 29;
  }
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  uint64_t word_ = 0;
  size_t filled_ = 0;
  uint64_t length_ = 0;
};

// Fills `buf` with the bytes of the stream at `offset` (a multiple of 8).
void Generate(uint64_t seed, uint64_t offset, char* buf, size_t len) {
  for (size_t i = 0; i < len; i += 8) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + (offset + i) / 8 + 1;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    std::memcpy(buf + i, &x, std::min<size_t>(8, len - i));
  }
}

bool WriteAll(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n <= 0) return false;
    buf += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool WriteStream(int fd, uint64_t size, uint64_t seed, Digester* d) {
  std::vector<char> buf(kChunk);
  for (uint64_t off = 0; off < size; off += kChunk) {
    const size_t len =
        static_cast<size_t>(std::min<uint64_t>(kChunk, size - off));
    Generate(seed, off, buf.data(), len);
    if (!WriteAll(fd, buf.data(), len)) return false;
    if (d != nullptr) d->Update(buf.data(), len);
  }
  return true;
}

}  // namespace

std::optional<uint64_t> WriteTestFile(const std::string& path, uint64_t size,
                                      uint64_t seed) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::nullopt;
  Digester d;
  const bool ok = WriteStream(fd, size, seed, &d);
  return close(fd) == 0 && ok ? std::optional<uint64_t>(d.Finish())
                              : std::nullopt;
}

bool AppendTestData(const std::string& path, uint64_t size, uint64_t seed) {
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = WriteStream(fd, size, seed, nullptr);
  return close(fd) == 0 && ok;
}

std::optional<uint64_t> DigestFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::vector<char> buf(kChunk);
  Digester d;
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) {
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    d.Update(buf.data(), static_cast<size_t>(n));
  }
  close(fd);
  return d.Finish();
}

uint64_t Digest(const std::string& data) {
  Digester d;
  d.Update(data.data(), data.size());
  return d.Finish();
}

}  // namespace testing_support
