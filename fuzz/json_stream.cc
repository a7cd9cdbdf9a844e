// Fuzz target: protocol::JsonStreamReader, the framing of every byte a
// coordinatool peer sends. Input: byte 0 picks the chunk size the stream
// arrives in, byte 1 the value size limit, the rest is the stream.
// Properties: no crash or undefined behaviour; the stream cut in chunks gives
// the same objects and the same verdict as the stream in one piece (the
// framing must not depend on how TCP splits it); a reader that accepted its
// input holds at most the limit of a pending value. (Objects are not
// required to re-serialize to JSON: Boost.JSON reads 1e400 as infinity and
// writes it "Infinity"; nothing in coordinatool echoes a peer's numbers.)
#include "protocol/json_stream.h"

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"

namespace {

struct Outcome {
  bool ok = true;
  std::vector<std::string> objects;  // serialized
};

Outcome Read(std::string_view stream, size_t chunk, size_t limit) {
  protocol::JsonStreamReader reader(limit);
  Outcome out;
  while (!stream.empty() && out.ok) {
    std::string_view piece = stream.substr(0, chunk);
    stream.remove_prefix(piece.size());
    out.ok = reader.Feed(piece);
    if (!out.ok) FUZZ_CHECK(!reader.error().empty());
    if (out.ok) FUZZ_CHECK(reader.pending_bytes() <= limit);
    boost::json::object object;
    while (reader.Next(&object))
      out.objects.push_back(boost::json::serialize(object));
  }
  // A failed reader stays failed and accepts nothing more.
  if (!out.ok) FUZZ_CHECK(!reader.Feed("{}"));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t chunk = data[0] % 32 + 1;
  const size_t limit = 16 + size_t{data[1]} * 16;
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  Outcome whole = Read(stream, stream.size() + 1, limit);
  Outcome pieces = Read(stream, chunk, limit);
  FUZZ_CHECK(whole.ok == pieces.ok);
  FUZZ_CHECK(whole.objects == pieces.objects);
  return 0;
}
