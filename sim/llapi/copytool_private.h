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

#include <cstdint>
#include <mutex>
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

// Lustre's fields and size, but `copy` comes last: it ends with the HAI's
// flexible array member, which C++ allows only at the end of a struct.
struct hsm_copyaction_private {
  uint32_t magic;
  int32_t source_fd;
  int32_t data_fd;
  const struct hsm_copytool_private* ct_priv;
  struct statx statx;  // the file's attributes at begin (RESTORE)
  struct hsm_copy copy;
};
static_assert(offsetof(hsm_copyaction_private, statx) == 24);
static_assert(offsetof(hsm_copyaction_private, copy) == 280);
static_assert(sizeof(hsm_copyaction_private) == 368);

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
