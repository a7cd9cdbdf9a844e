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
#include "store/redis_connect.h"
#include "store/store.h"

namespace store {

inline constexpr const char* kDefaultStateRoot = "/var/lib/coordinatool";

// Whether the settings choose the Redis store (store redis, or auto with
// a redis_* key naming a host, a socket or sentinels).
bool UsesRedis(const config::ServerSettings& settings);

// The Redis options of the settings; false with *error when they do not
// hold together (sentinels without a master name).
bool RedisOptionsOf(const config::ServerSettings& settings,
                    RedisOptions* options, std::string* error);

// Returns nullptr with *error when the store cannot be opened (Redis
// unreachable, state directory unusable). Non-fatal remarks (a torn journal
// tail) go to *warnings. `fence_epoch` (Redis only; 0: none): the
// leader's epoch its writes are fenced with (store/redis_fence.h).
std::unique_ptr<Store> OpenStore(boost::asio::io_context& io,
                                 const config::ServerSettings& settings,
                                 const std::string& fsname,
                                 std::vector<std::string>* warnings,
                                 std::string* error, uint64_t fence_epoch = 0);

}  // namespace store

#endif  // STORE_OPEN_STORE_H_
