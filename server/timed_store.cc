#include "server/timed_store.h"

#include <chrono>

namespace server {

void TimedStore::Sync(SyncCallback done) {
  if (!changed_) return inner_->Sync(std::move(done));
  changed_ = false;
  const common::Clock::TimePoint start = clock_.Now();
  // Not `this`: the callback needs only the clock and the observer.
  inner_->Sync([&clock = clock_, observe = observe_, start,
                done = std::move(done)](bool durable) {
    if (durable)
      observe(std::chrono::duration<double>(clock.Now() - start).count());
    done(durable);
  });
}

}  // namespace server
