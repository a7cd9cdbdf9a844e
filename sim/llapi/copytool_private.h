// Internal: the private copytool and copy-action handles behind
// llapi_hsm_copytool_register() and llapi_hsm_action_begin(). Their first
// fields keep Lustre's layout and magics (docs/lustre.md, private handles);
// simulator-only state follows.
//
// In the simulator the KUC channel is the registering socket itself, so
// kuc->lk_rfd is that socket (kuc->lk_wfd is LK_NOFD).
//
// Thread-safety: llapi_hsm_copytool_recv() serialises on recv_mu; the other
// copytool calls only read the handle. A handle must not be unregistered
// while another thread uses it.
#ifndef SIM_LLAPI_COPYTOOL_PRIVATE_H_
#define SIM_LLAPI_COPYTOOL_PRIVATE_H_

#include <linux/lustre/lustre_kernelcomm.h>
#include <linux/lustre/lustre_user.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <string>
#include <vector>

inline constexpr int CT_PRIV_MAGIC = static_cast<int>(0xC0BE2001);
inline constexpr uint32_t CP_PRIV_MAGIC = 0x19880429;

struct hsm_copytool_private {
  // Lustre's fields.
  int magic = 0;
  char* mnt = nullptr;
  struct kuc_hdr* kuch = nullptr;  // receive buffer, HAL_MAXSIZE + 8 bytes
  int mnt_fd = -1;
  int open_by_fid_fd = -1;
  struct lustre_kernelcomm* kuc = nullptr;
  // Simulator-only.
  std::string root;  // the mount, as given to register
  std::string fsname;
  std::string uuid;                // agent uuid sent with kRegister
  std::vector<uint32_t> archives;  // empty: all archives
  std::mutex recv_mu;              // serialises recv and re-registration

  int kuc_fd() const { return static_cast<int>(kuc->lk_rfd); }
};

// Lustre's field order and size (the same in 2.15 and master: magic,
// source_fd, data_fd, ct_priv, copy, statx). Lustre embeds `struct hsm_copy
// copy` before `statx`; C++ allows a struct ending in a flexible array member
// (hsm_action_item::hai_data) only at the end of another struct, so `copy`
// is kept here as suitably aligned bytes and reached through Copy().
//
// Allocated with calloc() and freed with free(), as Lustre does: a library
// wrapping liblustreapi (the original coordinatool's preload library) may
// realloc() the handle it gets from llapi_hsm_action_begin().
struct hsm_copyaction_private {
  uint32_t magic;
  int32_t source_fd;
  int32_t data_fd;
  const struct hsm_copytool_private* ct_priv;
  alignas(struct hsm_copy) unsigned char copy[sizeof(struct hsm_copy)];
  struct statx statx;  // the file's attributes at begin (RESTORE)
};
static_assert(offsetof(hsm_copyaction_private, ct_priv) == 16);
static_assert(offsetof(hsm_copyaction_private, copy) == 24);
static_assert(sizeof(struct hsm_copy) == 88);
static_assert(offsetof(hsm_copyaction_private, statx) == 112);
static_assert(sizeof(hsm_copyaction_private) == 368);

// The handle's `struct hsm_copy` (its storage holds one from begin on).
inline struct hsm_copy& Copy(hsm_copyaction_private* hcp) {
  return *std::launder(reinterpret_cast<struct hsm_copy*>(hcp->copy));
}
inline const struct hsm_copy& Copy(const hsm_copyaction_private* hcp) {
  return *std::launder(reinterpret_cast<const struct hsm_copy*>(hcp->copy));
}

namespace sim::llapi {

// Frees a copytool handle and closes its descriptors.
void FreeCopytool(hsm_copytool_private* ct);

// Test hook: a registered-looking handle whose KUC channel is `kuc_fd`
// (owned by the handle) on mount `root`, filtering on `archives` (empty:
// all), so tests feed recv crafted packets through a socketpair. At end of
// stream recv re-registers on `root` as usual (give a directory without a
// daemon and a short LUSTRE_SIM_TIMEOUT to see -EPIPE). Free it with
// llapi_hsm_copytool_unregister().
hsm_copytool_private* TEST_MakeCopytool(int kuc_fd, const std::string& root,
                                        std::vector<uint32_t> archives);

}  // namespace sim::llapi

#endif  // SIM_LLAPI_COPYTOOL_PRIVATE_H_
