#include "auth/roles.h"

namespace auth {

namespace {

constexpr std::pair<Role, std::string_view> kRoleNames[] = {
    {Role::kMover, "mover"},
    {Role::kMonitor, "monitor"},
    {Role::kAdmin, "admin"},
};

}  // namespace

std::string Roles::Names() const {
  std::string names;
  for (const auto& [role, name] : kRoleNames) {
    if (!has(role)) continue;
    if (!names.empty()) names += ',';
    names += name;
  }
  return names.empty() ? "none" : names;
}

std::string_view RoleName(Role role) {
  for (const auto& [r, name] : kRoleNames)
    if (r == role) return name;
  return "?";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (const auto& [role, n] : kRoleNames)
    if (n == name) return role;
  return std::nullopt;
}

Need NeedOf(std::string_view command, bool ehlo_with_id, bool identified) {
  if (command == "auth") return Need::kNothing;
  // Per-mover control changes what every user's requests wait for.
  if (command == "drain" || command == "resume") return Need::kAdmin;
  if (command == "ehlo") return ehlo_with_id ? Need::kMover : Need::kAnyRole;
  if (command == "heartbeat") return identified ? Need::kMover : Need::kAnyRole;
  if (command == "recv" || command == "done" || command == "progress")
    return identified ? Need::kMover : Need::kAdmin;
  if (command == "status" || command == "show" || command == "list")
    return Need::kMonitor;
  // lock (unlock, lock-and-quit), queue, upcall (docs/upcall.md), and
  // anything added later.
  return Need::kAdmin;
}

bool Satisfies(Roles roles, Need need) {
  switch (need) {
    case Need::kNothing:
      return true;
    case Need::kAnyRole:
      return !roles.empty();
    case Need::kMover:
      return roles.has(Role::kMover);
    case Need::kMonitor:
      return roles.has(Role::kMonitor) || roles.has(Role::kAdmin);
    case Need::kAdmin:
      return roles.has(Role::kAdmin);
  }
  return false;
}

std::string_view Describe(Need need) {
  switch (need) {
    case Need::kNothing:
      return "nothing";
    case Need::kAnyRole:
      return "a role (mover, monitor or admin)";
    case Need::kMover:
      return "the mover role";
    case Need::kMonitor:
      return "the monitor or admin role";
    case Need::kAdmin:
      return "the admin role";
  }
  return "?";
}

}  // namespace auth
