#include "store/open_store.h"

#include "config/config_file.h"
#include "store/journal_store.h"
#include "store/null_store.h"
#include "store/redis_store.h"

namespace store {

bool UsesRedis(const config::ServerSettings& settings) {
  std::string kind(config::Name(settings.store));
  if (kind == "auto")
    return settings.redis_configured &&
           (!settings.redis_host.empty() || !settings.redis_socket.empty() ||
            !settings.redis_sentinels.empty());
  return kind == "redis";
}

bool RedisOptionsOf(const config::ServerSettings& settings,
                    RedisOptions* options, std::string* error) {
  options->host = settings.redis_host;
  options->port = settings.redis_port;
  options->socket = settings.redis_socket;
  options->user = settings.redis_user;
  options->password = settings.redis_password;
  for (const std::string& word : settings.redis_sentinels) {
    auto sentinel = config::ParseHostPort(word);  // checked by config
    if (sentinel)
      options->sentinels.push_back({sentinel->first, sentinel->second});
  }
  options->master_name = settings.redis_master_name;
  if (!options->sentinels.empty() && options->master_name.empty()) {
    *error =
        "redis_sentinels needs redis_master_name: the name the "
        "sentinels monitor the master under";
    return false;
  }
  options->wait_replicas = settings.redis_wait_replicas;
  options->wait_timeout_ms = settings.redis_wait_timeout_ms;
  return true;
}

std::unique_ptr<Store> OpenStore(boost::asio::io_context& io,
                                 const config::ServerSettings& settings,
                                 const std::string& fsname,
                                 std::vector<std::string>* warnings,
                                 std::string* error, uint64_t fence_epoch) {
  if (settings.store == config::StoreKind::kNone)
    return std::make_unique<NullStore>();
  if (UsesRedis(settings)) {
    RedisOptions options;
    if (!RedisOptionsOf(settings, &options, error)) return nullptr;
    options.fence_epoch = fence_epoch;
    return RedisStore::Open(io, options, error);
  }
  JournalOptions options;
  options.dir = settings.state_dir.empty()
                    ? std::string(kDefaultStateRoot) + "/" + fsname
                    : settings.state_dir;
  return JournalStore::Open(io, options, warnings, error);
}

}  // namespace store
