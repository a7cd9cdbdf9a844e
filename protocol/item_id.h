// ItemId: the identity of one HSM request on the wire and in every
// component that names one (server, stores, preload library, client):
// Lustre's cookie and the dfid, as in the original. Cookies are unique only
// per MDT, so the cookie alone is not an identity.
//
// Thread-safety: value type.
#ifndef PROTOCOL_ITEM_ID_H_
#define PROTOCOL_ITEM_ID_H_

#include <cstddef>
#include <cstdint>

#include "hsm/fid.h"
#include "hsm/hal.h"

namespace protocol {

struct ItemId {
  uint64_t cookie = 0;
  lu_fid dfid{};

  static ItemId Of(const hsm_action_item& hai) {
    return {hai.hai_cookie, hai.hai_dfid};
  }
  bool operator==(const ItemId& other) const {
    return cookie == other.cookie && hsm::operator==(dfid, other.dfid);
  }
};

struct ItemIdHash {
  size_t operator()(const ItemId& id) const {
    return hsm::FidHash()(id.dfid) ^ (id.cookie * 0x9E3779B97F4A7C15ULL);
  }
};

}  // namespace protocol

#endif  // PROTOCOL_ITEM_ID_H_
