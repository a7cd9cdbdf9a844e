#include "server/mover_name.h"

#include <unordered_map>
#include <vector>

namespace server {

namespace {

struct Entry {
  std::string name;
  uint64_t refs = 0;
};

struct Table {
  std::vector<Entry> entries{Entry{}};  // [0]: "", never counted
  std::unordered_map<std::string, uint32_t> index;
  std::vector<uint32_t> free;
  size_t used = 0;
};

Table& TheTable() {
  static Table* table = new Table;  // outlives every static MoverName
  return *table;
}

}  // namespace

MoverName::MoverName(const std::string& id) {
  if (id.empty()) return;
  Table& t = TheTable();
  auto [it, inserted] = t.index.try_emplace(id, 0);
  if (inserted) {
    if (!t.free.empty()) {
      it->second = t.free.back();
      t.free.pop_back();
      t.entries[it->second].name = id;
    } else {
      it->second = static_cast<uint32_t>(t.entries.size());
      t.entries.push_back({id, 0});
    }
    ++t.used;
  }
  index_ = it->second;
  Ref();
}

MoverName& MoverName::operator=(const MoverName& other) {
  if (index_ != other.index_) {
    other.Ref();
    Unref();
    index_ = other.index_;
  }
  return *this;
}

const std::string& MoverName::str() const {
  return TheTable().entries[index_].name;
}

void MoverName::Ref() const {
  if (index_) ++TheTable().entries[index_].refs;
}

void MoverName::Unref() const {
  if (!index_) return;
  Table& t = TheTable();
  Entry& entry = t.entries[index_];
  if (--entry.refs > 0) return;
  t.index.erase(entry.name);
  entry.name = std::string();
  t.free.push_back(index_);
  --t.used;
}

size_t MoverName::TableSize() { return TheTable().used; }

}  // namespace server
