#include "store/outbox.h"

#include <memory>

namespace store {

void Outbox::Send(const void* channel, bool needs_durable,
                  std::function<void()> send) {
  Submit(next_++, Message{channel, needs_durable, std::move(send)});
}

void Outbox::Submit(uint64_t seq, Message message) {
  auto shared = std::make_shared<Message>(std::move(message));
  store_.Sync([this, seq, shared](bool durable) {
    if (durable || (!shared->needs_durable && !HeldOn(shared->channel))) {
      shared->send();
      return;
    }
    held_.emplace(seq, std::move(*shared));
  });
}

void Outbox::OnWritable() {
  // Synced again in their order: each leaves once durable (at once if
  // nothing is outstanding), or is held again if the store fails again.
  std::map<uint64_t, Message> held = std::move(held_);
  held_.clear();
  for (auto& [seq, message] : held) Submit(seq, std::move(message));
}

bool Outbox::HeldOn(const void* channel) const {
  for (const auto& [seq, message] : held_)
    if (message.channel == channel) return true;
  return false;
}

}  // namespace store
