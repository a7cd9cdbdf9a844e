// MoverName: a mover id interned as a 4-byte handle, so that a million
// queued items do not each carry two 32-byte strings (the mover running the
// item and the one it must run on). It reads as a `const std::string&`.
// Items intern their fair-share owner or batch hint the same way.
//
// Names are reference counted: a name no item or queue uses any more is
// forgotten and its slot reused, so anonymous clients ("host:port" ids, one
// per connection) do not grow the table forever.
//
// Thread-safety: the table is not locked; every MoverName lives on one
// thread (the server's event loop, a test's or a benchmark's main thread).
#ifndef SERVER_MOVER_NAME_H_
#define SERVER_MOVER_NAME_H_

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace server {

class MoverName {
 public:
  MoverName() = default;             // ""
  MoverName(const std::string& id);  // NOLINT: reads and converts as a string
  MoverName(const MoverName& other) : index_(other.index_) { Ref(); }
  MoverName& operator=(const MoverName& other);
  MoverName& operator=(const std::string& id) { return *this = MoverName(id); }
  ~MoverName() { Unref(); }

  const std::string& str() const;
  operator const std::string&() const { return str(); }  // NOLINT
  bool empty() const { return index_ == 0; }
  void clear() { *this = MoverName(); }

  friend bool operator==(const MoverName& a, const MoverName& b) {
    return a.index_ == b.index_;
  }
  friend bool operator==(const MoverName& a, const std::string& b) {
    return a.str() == b;
  }

  // Names in use (tests).
  static size_t TableSize();

 private:
  void Ref() const;
  void Unref() const;

  uint32_t index_ = 0;  // 0: ""
};

}  // namespace server

template <>
struct fmt::formatter<server::MoverName> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const server::MoverName& name, Context& context) const {
    return fmt::formatter<std::string_view>::format(name.str(), context);
  }
};

#endif  // SERVER_MOVER_NAME_H_
