// JSON forms of FIDs and action items on the coordinatool wire
// (docs/protocol.md): FID = {"f_seq","f_oid","f_ver"}; an item carries the
// eight hai_* keys plus hal_archive_id, hal_flags and timestamp. The data
// is a byte string (protocol/byte_string.h): `hai_data` when it is valid
// UTF-8, else `hai_data_base64`.
// Unsigned 64-bit values travel as their two's complement signed value
// (an extent length of 0xffffffffffffffff is written -1); readers accept
// both forms.
//
// Thread-safety: pure functions.
#ifndef PROTOCOL_ACTION_ITEM_H_
#define PROTOCOL_ACTION_ITEM_H_

#include <boost/json.hpp>
#include <cstdint>
#include <string>

#include "hsm/hal.h"

namespace protocol {

// An action item as movers, the server and the CLI exchange it.
struct WireItem {
  uint32_t archive_id = 0;  // hal_archive_id of the list it came in
  // Never on the wire: the server's store handle of the item it was made
  // from (store::Handle, store/store.h), ~0 for none. In what was padding.
  uint32_t store_handle = ~uint32_t{0};
  uint64_t hal_flags = 0;
  int64_t timestamp_ns = 0;  // when the server first saw it; 0 = unset
  // Last: hsm_action_item ends with a flexible array member.
  hsm::ActionItem item;  // hai_len is 72 + data size
};

boost::json::object FidToJson(const lu_fid& fid);
// Requires exactly the three keys, as the original does.
bool FidFromJson(const boost::json::value& value, lu_fid* fid,
                 std::string* error);

// Every key is written, zeros included (items are never abbreviated).
boost::json::object ItemToJson(const WireItem& item);
// Requires the eight hai_* keys (the data as exactly one of hai_data and
// hai_data_base64); hal_archive_id, hal_flags and timestamp are
// optional (0). Other keys are ignored. On failure names the bad key.
bool ItemFromJson(const boost::json::object& object, WireItem* item,
                  std::string* error);

// What can be read of an item ItemFromJson refused, to end it at Lustre:
// requires hai_cookie and hai_dfid; hai_fid (default: the dfid), hai_action
// and the extent (default: whole file) when readable; no data. False with
// *error if the identity itself is unreadable.
bool ItemIdentityFromJson(const boost::json::object& object,
                          hsm_action_item* hai, std::string* error);

// Reads an integer field as the 64-bit pattern it denotes (signed or
// unsigned JSON number). False if absent or not an integer.
bool GetU64(const boost::json::object& object, std::string_view key,
            uint64_t* out);

}  // namespace protocol

#endif  // PROTOCOL_ACTION_ITEM_H_
