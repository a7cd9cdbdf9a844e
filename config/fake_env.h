// FakeEnv: an environment for the config tests, from a map instead of the
// process's own variables (test-only).
#ifndef CONFIG_FAKE_ENV_H_
#define CONFIG_FAKE_ENV_H_

#include <map>
#include <string>

#include "config/settings.h"

namespace config {

inline EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const char* name, std::string* value) {
    auto it = vars.find(name);
    if (it == vars.end()) return false;
    *value = it->second;
    return true;
  };
}

}  // namespace config

#endif  // CONFIG_FAKE_ENV_H_
