// Internal: the HSM event log (llapi_hsm_register_event_fifo) as seen from
// the rest of the library: copytool calls report REGISTER, UNREGISTER and
// per-action events as one JSON object per line.
//
// Thread-safety: all functions may be called from any thread.
#ifndef SIM_LLAPI_LOG_H_
#define SIM_LLAPI_LOG_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace sim::llapi {

// Builds one flat JSON object, members in the order added, formatted as
// Lustre's llapi_json_write_list() writes them ("key": value, ", " between).
class JsonObject {
 public:
  JsonObject& Add(std::string_view key, std::string_view value);
  JsonObject& Add(std::string_view key, int64_t value);
  JsonObject& AddUnsigned(std::string_view key, uint64_t value);
  // Appends the members of `other`, in their order.
  JsonObject& Append(const JsonObject& other);
  // The object, "{...}", without a newline.
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void Key(std::string_view key);
  std::string body_;
};

// Appends `s` to *out as a JSON string literal (quotes included), escaped
// as Lustre escapes it where that is valid JSON (see log.cc).
void AppendJsonString(std::string_view s, std::string* out);

// True when an event FIFO is registered.
bool EventsEnabled();

// Writes "event_time" (Lustre's format) then the members of `event` to the
// event FIFO, if one is registered. Never blocks and never raises SIGPIPE: an
// event that does not fit or has no reader is dropped, as Lustre drops it.
void WriteEvent(JsonObject event);

}  // namespace sim::llapi

#endif  // SIM_LLAPI_LOG_H_
