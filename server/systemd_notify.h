// The server's state for systemd (sd_notify(3)), so that a Type=notify unit
// counts the server as started only once it serves: its store recovered,
// registered on Lustre, listening. Units ordered after it (a recovery step,
// movers on the same node) then find it answering.
//
// Outside systemd (NOTIFY_SOCKET unset) every call does nothing.
#ifndef SERVER_SYSTEMD_NOTIFY_H_
#define SERVER_SYSTEMD_NOTIFY_H_

#include <string>

namespace server {

// "READY=1" with `status` (a line `systemctl status` shows).
void NotifyReady(const std::string& status);
// "STOPPING=1" with `status`: a stop in progress (draining, store closing).
void NotifyStopping(const std::string& status);

}  // namespace server

#endif  // SERVER_SYSTEMD_NOTIFY_H_
