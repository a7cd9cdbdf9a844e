// ParamTable: the coordinator's tunables and debugfs files under their lctl
// names, `mdt.<fsname>-MDT0000.hsm_control` and
// `mdt.<fsname>-MDT0000.hsm.<name>` (docs/lustre.md, tunables), with
// Lustre's read formats and write rules. Names given to Get/Set may be
// fnmatch(3) patterns ("mdt.*.hsm.max_requests"); the first matching name is
// used.
//
// A read returns the file's whole content (single values end with "\n").
// Errors: -ENOENT unknown name, -EINVAL bad value, -ERANGE value too large,
// -EACCES read-only name.
//
// Thread-safety: none.
#ifndef SIM_MDT_PARAMS_H_
#define SIM_MDT_PARAMS_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/mdt/coordinator.h"

namespace sim::mdt {

class ParamTable {
 public:
  explicit ParamTable(Coordinator* cdt);

  std::vector<std::string> Names() const;
  int Get(std::string_view name, std::string* value) const;
  int Set(std::string_view name, std::string_view value);
  // Adds a read-only parameter "mdt.<fs>-MDT0000.<suffix>".
  void AddReadOnly(std::string suffix, std::function<std::string()> get) {
    Add(std::move(suffix), std::move(get));
  }

 private:
  struct Param {
    std::string name;
    std::function<std::string()> get;
    std::function<int(std::string_view)> set;  // null: read-only
  };
  const Param* Match(std::string_view pattern) const;
  void Add(std::string suffix, std::function<std::string()> get,
           std::function<int(std::string_view)> set = nullptr);

  Coordinator* cdt_;
  std::vector<Param> params_;
};

}  // namespace sim::mdt

#endif  // SIM_MDT_PARAMS_H_
