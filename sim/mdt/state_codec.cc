#include "sim/mdt/state_codec.h"

#include <cstring>
#include <type_traits>

namespace sim::mdt {

namespace {

class Writer {
 public:
  explicit Writer(JournalOp op) { out_.push_back(static_cast<char>(op)); }
  template <typename T>
  Writer& Put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof(value));
    return *this;
  }
  Writer& PutString(std::string_view s) {
    Put(static_cast<uint32_t>(s.size()));
    out_.append(s);
    return *this;
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view in, JournalOp op) : in_(in) {
    ok_ = !in_.empty() &&
          static_cast<uint8_t>(in_[0]) == static_cast<uint8_t>(op);
    if (ok_) in_.remove_prefix(1);
  }
  template <typename T>
  Reader& Get(T* value) {
    if (!ok_ || in_.size() < sizeof(T)) {
      ok_ = false;
      return *this;
    }
    memcpy(static_cast<void*>(value), in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return *this;
  }
  Reader& GetString(std::string* s) {
    uint32_t len = 0;
    Get(&len);
    if (!ok_ || in_.size() < len) {
      ok_ = false;
      return *this;
    }
    s->assign(in_.data(), len);
    in_.remove_prefix(len);
    return *this;
  }
  bool Done() const { return ok_ && in_.empty(); }

 private:
  std::string_view in_;
  bool ok_;
};

}  // namespace

std::string EncodeFile(const FileEntry& e) {
  uint8_t kind = e.is_dir ? 1 : 0;
  return Writer(JournalOp::kFile)
      .Put(e.fid)
      .Put(e.dev)
      .Put(e.ino)
      .Put(e.hsm.flags)
      .Put(e.hsm.archive_id)
      .Put(e.hsm.arch_ver)
      .Put(kind)
      .PutString(e.path)
      .Take();
}

bool DecodeFile(std::string_view payload, FileEntry* e) {
  uint8_t kind = 0;
  Reader r(payload, JournalOp::kFile);
  r.Get(&e->fid)
      .Get(&e->dev)
      .Get(&e->ino)
      .Get(&e->hsm.flags)
      .Get(&e->hsm.archive_id)
      .Get(&e->hsm.arch_ver)
      .Get(&kind)
      .GetString(&e->path);
  e->is_dir = kind == 1;
  e->is_volatile = false;
  return r.Done();
}

std::string EncodeFileDrop(const lu_fid& fid) {
  return Writer(JournalOp::kFileDrop).Put(fid).Take();
}

bool DecodeFileDrop(std::string_view payload, lu_fid* fid) {
  return Reader(payload, JournalOp::kFileDrop).Get(fid).Done();
}

std::string EncodeRecord(const Record& rec) {
  return Writer(JournalOp::kRecord)
      .Put(rec.idx)
      .Put(rec.status)
      .Put(rec.archive_id)
      .Put(rec.flags)
      .Put(rec.create)
      .Put(rec.change)
      .Put(rec.hai)
      .PutString(rec.data)
      .Take();
}

bool DecodeRecord(std::string_view payload, Record* rec) {
  Reader r(payload, JournalOp::kRecord);
  r.Get(&rec->idx)
      .Get(&rec->status)
      .Get(&rec->archive_id)
      .Get(&rec->flags)
      .Get(&rec->create)
      .Get(&rec->change)
      .Get(&rec->hai)
      .GetString(&rec->data);
  return r.Done() && rec->status <= ARS_SUCCEED && rec->idx != 0;
}

std::string EncodeRecordDrop(uint32_t idx) {
  return Writer(JournalOp::kRecordDrop).Put(idx).Take();
}

bool DecodeRecordDrop(std::string_view payload, uint32_t* idx) {
  return Reader(payload, JournalOp::kRecordDrop).Get(idx).Done();
}

std::string EncodeCounters(const Counters& c) {
  return Writer(JournalOp::kCounters)
      .Put(c.last_cookie)
      .Put(c.next_idx)
      .Put(c.next_oid)
      .Take();
}

bool DecodeCounters(std::string_view payload, Counters* c) {
  return Reader(payload, JournalOp::kCounters)
      .Get(&c->last_cookie)
      .Get(&c->next_idx)
      .Get(&c->next_oid)
      .Done();
}

}  // namespace sim::mdt
