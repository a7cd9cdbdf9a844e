// OpenStore: the store the server settings ask for (`store` key):
//   auto      Redis when redis_host or redis_socket is set, else embedded
//   redis     RedisStore on redis_socket, or redis_host:redis_port
//   embedded  JournalStore in state_dir (default /var/lib/coordinatool/FS)
//   none      NullStore: memory only
//
// Thread-safety: call on the thread that runs `io`.
#ifndef STORE_OPEN_STORE_H_
#define STORE_OPEN_STORE_H_

#include <boost/asio.hpp>
#include <memory>
#include <string>
#include <vector>

#include "config/settings.h"
#include "store/store.h"

namespace store {

inline constexpr const char* kDefaultStateRoot = "/var/lib/coordinatool";

// Returns nullptr with *error when the store cannot be opened (Redis
// unreachable, state directory unusable). Non-fatal remarks (a torn journal
// tail) go to *warnings.
std::unique_ptr<Store> OpenStore(boost::asio::io_context& io,
                                 const config::ServerSettings& settings,
                                 const std::string& fsname,
                                 std::vector<std::string>* warnings,
                                 std::string* error);

}  // namespace store

#endif  // STORE_OPEN_STORE_H_
