// Tunables and debugfs files for sim-lctl: llapi_sim_get_param,
// llapi_sim_set_param and llapi_sim_list_param (sim_extensions.h).
#include "sim/llapi/api.h"
// (api.h first: it gives the llapi_* declarations default visibility.)

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sim/llapi/mount.h"
#include "sim/llapi/rpc.h"

namespace sim::llapi {
namespace {

char* MallocCopy(const std::string& text) {
  char* out = static_cast<char*>(malloc(text.size() + 1));
  if (out) memcpy(out, text.c_str(), text.size() + 1);
  return out;
}

// Runs one parameter call on the mount of `path`; on success stores the
// reply text in *out (when not null) as a malloc()ed string.
int ParamCall(const char* path, wire::MsgType type, std::string_view payload,
              char** out) {
  if (path == nullptr) return -EINVAL;
  Mount mount;
  int rc = FindMount(path, &mount);
  if (rc < 0) return rc;
  std::string reply;
  rc = Call(mount.root, type, payload, -1, &reply);
  if (rc < 0) return rc;
  if (out) {
    *out = MallocCopy(reply);
    if (*out == nullptr) return -ENOMEM;
  }
  return 0;
}

}  // namespace
}  // namespace sim::llapi

extern "C" {

int llapi_sim_get_param(const char* path, const char* name, char** value) {
  if (path == nullptr || name == nullptr || value == nullptr) return -EINVAL;
  *value = nullptr;
  sim::llapi::Mount mount;
  int rc = sim::llapi::FindMount(path, &mount);
  if (rc < 0) return rc;
  // Values longer than one packet come in kParamChunk pieces: "name" for
  // the first, "name\0<offset>" for the next ones.
  std::string text;
  for (;;) {
    std::string payload = name;
    if (!text.empty()) {
      payload.push_back('\0');
      payload += std::to_string(text.size());
    }
    std::string chunk;
    rc = sim::llapi::Call(mount.root, sim::wire::MsgType::kGetParam, payload,
                          -1, &chunk);
    if (rc < 0) return rc;
    text += chunk;
    if (chunk.size() < sim::wire::kParamChunk) break;
  }
  *value = sim::llapi::MallocCopy(text);
  return *value ? 0 : -ENOMEM;
}

int llapi_sim_set_param(const char* path, const char* name, const char* value) {
  if (name == nullptr || value == nullptr) return -EINVAL;
  std::string payload = std::string(name) + "=" + value;
  return sim::llapi::ParamCall(path, sim::wire::MsgType::kSetParam, payload,
                               nullptr);
}

int llapi_sim_list_param(const char* path, char** names) {
  if (names == nullptr) return -EINVAL;
  *names = nullptr;
  return sim::llapi::ParamCall(path, sim::wire::MsgType::kListParam, {}, names);
}

}  // extern "C"
