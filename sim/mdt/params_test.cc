#include "sim/mdt/params.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "sim/mdt/test_util.h"

namespace sim::mdt {
namespace {

class ParamsTest : public testing::CdtFixture {
 protected:
  std::string Get(const std::string& name) {
    std::string value;
    EXPECT_EQ(params_->Get("mdt.lustre-MDT0000." + name, &value), 0) << name;
    return value;
  }
  int Set(const std::string& name, const std::string& value) {
    return params_->Set("mdt.lustre-MDT0000." + name, value);
  }
  void SetUp() override {
    CdtFixture::SetUp();
    params_ = std::make_unique<ParamTable>(cdt_.get());
  }
  std::unique_ptr<ParamTable> params_;
};

TEST_F(ParamsTest, DefaultsReadInLustreFormats) {
  EXPECT_EQ(Get("hsm_control"), "enabled\n");
  EXPECT_EQ(Get("hsm.max_requests"), "3\n");
  EXPECT_EQ(Get("hsm.loop_period"), "10\n");
  EXPECT_EQ(Get("hsm.grace_delay"), "60\n");
  EXPECT_EQ(Get("hsm.active_request_timeout"), "3600\n");
  EXPECT_EQ(Get("hsm.default_archive_id"), "1\n");
  EXPECT_EQ(Get("hsm.remove_archive_on_last_unlink"), "0\n");
  EXPECT_EQ(Get("hsm.policy"), "NonBlockingRestore [NoRetryAction]\n");
  EXPECT_EQ(Get("hsm.user_request_mask"), "RESTORE\n");
  EXPECT_EQ(Get("hsm.group_request_mask"), "RESTORE\n");
  EXPECT_EQ(Get("hsm.other_request_mask"), "RESTORE\n");
  EXPECT_EQ(Get("hsm.archive_count"), "0\n");
  EXPECT_EQ(Get("hsm.min_scan_interval_ms"), "0\n");  // fixture sets 0
  EXPECT_EQ(Get("hsm.agents"), "");
}

TEST_F(ParamsTest, NumbersAreCheckedOnWrite) {
  EXPECT_EQ(Set("hsm.max_requests", "0"), -EINVAL);
  EXPECT_EQ(Set("hsm.max_requests", "abc"), -EINVAL);
  EXPECT_EQ(Set("hsm.max_requests", "-1"), -EINVAL);
  EXPECT_EQ(Set("hsm.max_requests", "100\n"), 0);
  EXPECT_EQ(Get("hsm.max_requests"), "100\n");
  EXPECT_EQ(Set("hsm.loop_period", "0"), -EINVAL);
  EXPECT_EQ(Set("hsm.loop_period", "99999999999"), -ERANGE);
  EXPECT_EQ(Set("hsm.active_request_timeout", "2147483648"), -ERANGE);
  EXPECT_EQ(Set("hsm.grace_delay", "5"), 0);
  EXPECT_EQ(Get("hsm.grace_delay"), "5\n");
  EXPECT_EQ(Set("hsm.min_scan_interval_ms", "0"), 0);
  EXPECT_EQ(Set("hsm.remove_archive_on_last_unlink", "1"), 0);
  EXPECT_EQ(Get("hsm.remove_archive_on_last_unlink"), "1\n");
  EXPECT_EQ(Set("hsm.remove_archive_on_last_unlink", "maybe"), -EINVAL);
  EXPECT_EQ(Set("hsm.archive_count", "1"), -EACCES);
  EXPECT_EQ(Set("hsm.actions", "1"), -EACCES);
  EXPECT_EQ(Set("hsm.nonexistent", "1"), -ENOENT);
}

TEST_F(ParamsTest, PolicyTokensReplaceAddOrRemove) {
  EXPECT_EQ(Set("hsm.policy", "NBR"), 0);
  EXPECT_EQ(Get("hsm.policy"), "[NonBlockingRestore] NoRetryAction\n");
  EXPECT_EQ(Set("hsm.policy", "+NRA"), 0);
  EXPECT_EQ(Get("hsm.policy"), "[NonBlockingRestore] [NoRetryAction]\n");
  EXPECT_EQ(Set("hsm.policy", "-NonBlockingRestore"), 0);
  EXPECT_EQ(Get("hsm.policy"), "NonBlockingRestore [NoRetryAction]\n");
  EXPECT_EQ(Set("hsm.policy", "-NRA"), 0);
  EXPECT_EQ(Get("hsm.policy"), "NonBlockingRestore NoRetryAction\n");
  EXPECT_EQ(Set("hsm.policy", "bogus"), -EINVAL);
}

TEST_F(ParamsTest, RequestMasksTakeActionNames) {
  EXPECT_EQ(Set("hsm.user_request_mask", "archive RESTORE remove"), 0);
  EXPECT_EQ(Get("hsm.user_request_mask"), "ARCHIVE RESTORE REMOVE\n");
  EXPECT_EQ(Set("hsm.other_request_mask", "RELEASE"), -EINVAL);
  EXPECT_EQ(Get("hsm.other_request_mask"), "RESTORE\n");
}

TEST_F(ParamsTest, HsmControlAndGlobs) {
  EXPECT_EQ(Set("hsm_control", "disabled"), 0);
  std::string value;
  EXPECT_EQ(params_->Get("mdt.*.hsm_control", &value), 0);
  EXPECT_EQ(value, "disabled\n");
  EXPECT_EQ(Set("hsm_control", "nonsense"), -EINVAL);
  EXPECT_EQ(Set("hsm_control", "shutdown"), 0);
  EXPECT_EQ(Get("hsm_control"), "stopped\n");
  // Starting resets the policy and the masks.
  EXPECT_EQ(Set("hsm.policy", "NBR"), 0);
  EXPECT_EQ(Set("hsm_control", "enabled"), 0);
  EXPECT_EQ(Get("hsm.policy"), "NonBlockingRestore [NoRetryAction]\n");
  EXPECT_EQ(params_->Names().size(), 21u);
  EXPECT_EQ(params_->Names()[0], "mdt.lustre-MDT0000.hsm_control");
}

TEST_F(ParamsTest, UpcallTunablesTakeArchiveAndRemoveAndFullPaths) {
  // LU-10968 (docs/upcall.md): empty by default, the coordinator takes all.
  EXPECT_EQ(Get("hsm.upcall_mask"), "\n");
  EXPECT_EQ(Get("hsm.upcall_path"), "\n");
  EXPECT_EQ(Set("hsm.upcall_mask", "ARCHIVE remove\n"), 0);
  EXPECT_EQ(Get("hsm.upcall_mask"), "ARCHIVE REMOVE\n");
  EXPECT_EQ(cdt_->tunables().upcall_mask,
            (1ULL << HSMA_ARCHIVE) | (1ULL << HSMA_REMOVE));
  // The bypass has no restore; a bad value changes nothing.
  EXPECT_EQ(Set("hsm.upcall_mask", "RESTORE"), -EINVAL);
  EXPECT_EQ(Set("hsm.upcall_mask", "ARCHIVE BOGUS"), -EINVAL);
  EXPECT_EQ(Get("hsm.upcall_mask"), "ARCHIVE REMOVE\n");
  EXPECT_EQ(Set("hsm.upcall_mask", ""), 0);
  EXPECT_EQ(cdt_->tunables().upcall_mask, 0u);
  EXPECT_EQ(Set("hsm.upcall_path", "relative/upcall"), -EINVAL);
  EXPECT_EQ(Set("hsm.upcall_path", "/usr/sbin/coordinatool-upcall\n"), 0);
  EXPECT_EQ(Get("hsm.upcall_path"), "/usr/sbin/coordinatool-upcall\n");
  EXPECT_EQ(Set("hsm.sim_upcall_timeout_s", "0"), -EINVAL);
  EXPECT_EQ(Set("hsm.sim_upcall_timeout_s", "5"), 0);
  // The coordinator's restart resets its own tunables, not these.
  EXPECT_EQ(cdt_->Control("shutdown"), 0);
  EXPECT_EQ(cdt_->Control("enabled"), 0);
  EXPECT_EQ(Get("hsm.upcall_path"), "/usr/sbin/coordinatool-upcall\n");
}

}  // namespace
}  // namespace sim::mdt
