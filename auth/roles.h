// Roles (docs/auth.md): what a peer of the server may do once the server
// authenticates its peers (the `auth_file` key). Three roles:
// - mover: ehlo with a mover id it may use, recv, done, progress, heartbeat;
// - monitor: status;
// - admin: lock, unlock, lock-and-quit, queue, reconcile, drain and resume
//   (one mover), status, and every command not named here (cancel, reload:
//   whatever is added later is admin-only until said otherwise).
// Without auth_file every peer has every role, as with the original.
//
// Thread-safety: pure functions and value types.
#ifndef AUTH_ROLES_H_
#define AUTH_ROLES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace auth {

enum class Role : uint8_t { kMover = 1, kMonitor = 2, kAdmin = 4 };

// A set of roles.
class Roles {
 public:
  constexpr Roles() = default;
  constexpr Roles(Role role) : bits_(static_cast<uint8_t>(role)) {}  // NOLINT
  static constexpr Roles All() {
    Roles all;
    all.bits_ = 7;
    return all;
  }
  constexpr bool has(Role role) const {
    return bits_ & static_cast<uint8_t>(role);
  }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr Roles& operator|=(Roles other) {
    bits_ |= other.bits_;
    return *this;
  }
  constexpr bool operator==(const Roles&) const = default;
  // "mover,monitor,admin" in that order; "none" when empty.
  std::string Names() const;

 private:
  uint8_t bits_ = 0;
};

// "mover", "monitor", "admin".
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

// What a command needs of a connection's roles.
enum class Need {
  kNothing,  // auth itself
  kAnyRole,  // ehlo without a mover id, a heartbeat of a plain client
  kMover,
  kMonitor,  // status: the monitor or the admin role
  kAdmin,
};

// What `command` needs. `ehlo_with_id`: an ehlo naming a mover id.
// `identified`: the connection introduced itself with a mover id; recv,
// done and progress of a connection without one (coordinatool-client's
// debug receive and drain) need the admin role, since nothing ties the work
// it takes to a mover id its identity may use.
Need NeedOf(std::string_view command, bool ehlo_with_id, bool identified);
bool Satisfies(Roles roles, Need need);
// "the mover role", "the monitor or admin role", "the admin role"...
std::string_view Describe(Need need);

}  // namespace auth

#endif  // AUTH_ROLES_H_
