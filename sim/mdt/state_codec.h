// Encoding of the journal's records (see journal.h for the framing): file
// entries, request records, their deletions and the coordinator's counters.
// Decoders check every length against the payload and return false on a
// malformed payload.
//
// Thread-safety: pure functions.
#ifndef SIM_MDT_STATE_CODEC_H_
#define SIM_MDT_STATE_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/mdt/file_table.h"
#include "sim/mdt/request.h"

namespace sim::mdt {

enum class JournalOp : uint8_t {
  kFile = 1,
  kFileDrop = 2,
  kRecord = 3,
  kRecordDrop = 4,
  kCounters = 5,
};

struct Counters {
  uint64_t last_cookie = 0;
  uint32_t next_idx = 1;
  uint32_t next_oid = 1;
};

std::string EncodeFile(const FileEntry& entry);
std::string EncodeFileDrop(const lu_fid& fid);
std::string EncodeRecord(const Record& record);
std::string EncodeRecordDrop(uint32_t idx);
std::string EncodeCounters(const Counters& counters);

// The op of a payload, or 0 if it is empty.
inline uint8_t PeekOp(std::string_view payload) {
  return payload.empty() ? 0 : static_cast<uint8_t>(payload[0]);
}
bool DecodeFile(std::string_view payload, FileEntry* entry);
bool DecodeFileDrop(std::string_view payload, lu_fid* fid);
bool DecodeRecord(std::string_view payload, Record* record);
bool DecodeRecordDrop(std::string_view payload, uint32_t* idx);
bool DecodeCounters(std::string_view payload, Counters* counters);

}  // namespace sim::mdt

#endif  // SIM_MDT_STATE_CODEC_H_
