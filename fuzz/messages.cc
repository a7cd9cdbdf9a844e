// Fuzz target: the typed messages (protocol/messages.h) on any JSON object.
// Input: JSON text (one object; anything else is skipped).
// Properties: every reader either accepts or refuses with an error text;
// for what it accepts, writing and reading again is a fixed point: the
// message written from the read one reads back to a message that writes
// the same bytes. A reader and a writer that disagree on a field (its key,
// its type, its default) would lose it between the server and a mover.
#include "protocol/messages.h"

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "protocol/done_items.h"
#include "protocol/upcall.h"

namespace {

namespace json = boost::json;

json::object Reparse(const json::object& o) {
  return json::parse(json::serialize(o)).as_object();
}

// Requests whose Parse can refuse.
template <typename T>
void CheckStrict(const json::object& input) {
  T first;
  std::string error;
  if (!protocol::Parse(input, &first, &error)) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  const json::object written = protocol::ToJson(first);
  T second;
  FUZZ_CHECK(protocol::Parse(Reparse(written), &second, &error));
  const json::object again = protocol::ToJson(second);
  T third;
  FUZZ_CHECK(protocol::Parse(Reparse(again), &third, &error));
  FUZZ_CHECK(json::serialize(protocol::ToJson(third)) ==
             json::serialize(again));
}

// Messages read leniently (never refused).
template <typename T>
void CheckLenient(const json::object& input) {
  T first;
  protocol::Parse(input, &first);
  const json::object written = protocol::ToJson(first);
  T second;
  protocol::Parse(Reparse(written), &second);
  FUZZ_CHECK(json::serialize(protocol::ToJson(second)) ==
             json::serialize(written));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  boost::system::error_code ec;
  json::value value = json::parse(
      std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec || !value.is_object()) return 0;
  const json::object& m = value.get_object();
  protocol::Command command;
  std::string name, error;
  protocol::CommandRead read =
      protocol::ReadCommand(m, &command, &name, &error);
  FUZZ_CHECK(read == protocol::CommandRead::kOk || !error.empty());
  CheckStrict<protocol::EhloRequest>(m);
  CheckStrict<protocol::RecvRequest>(m);
  CheckStrict<protocol::DoneRequest>(m);
  CheckStrict<protocol::DoneItemsRequest>(m);
  CheckStrict<protocol::ProgressRequest>(m);
  CheckStrict<protocol::QueueRequest>(m);
  CheckStrict<protocol::LockRequest>(m);
  CheckStrict<protocol::AuthRequest>(m);
  CheckStrict<protocol::UpcallRequest>(m);
  CheckLenient<protocol::StatusRequest>(m);
  CheckLenient<protocol::EhloReply>(m);
  CheckLenient<protocol::QueueReply>(m);
  CheckLenient<protocol::DoneItemsReply>(m);
  CheckLenient<protocol::AuthReply>(m);
  CheckLenient<protocol::UpcallReply>(m);
  protocol::RecvReply recv;
  if (!protocol::Parse(m, &recv, &error)) FUZZ_CHECK(!error.empty());
  return 0;
}
