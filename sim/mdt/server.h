// Server: the sim-mdt daemon around the coordinator. Owns the mount's
// .lustre directory, the journal, the listening SOCK_SEQPACKET socket and
// one single-threaded Boost.Asio loop:
//  * each connection is read when readable (wire::RecvPacket, which takes
//    the SCM_RIGHTS descriptor) and answered with one reply per request;
//  * output that meets a full socket is queued and flushed when writable;
//    a client whose queue passes `max_queued_bytes` is dropped, so a slow
//    client never blocks the others;
//  * after a kRegister reply the connection is a KUC channel: it only
//    receives HALs, and closing it unregisters its agent;
//  * at the end of each loop turn the coordinator's due work runs, the
//    journal is written with one write() (group commit) and compacted when
//    large, and the timer is set to the coordinator's next deadline.
//
// Thread-safety: everything runs on the io_context's one thread.
#ifndef SIM_MDT_SERVER_H_
#define SIM_MDT_SERVER_H_

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "sim/mdt/coordinator.h"
#include "sim/mdt/file_table.h"
#include "sim/mdt/fuse_mount.h"
#include "sim/mdt/journal.h"
#include "sim/mdt/params.h"
#include "sim/mdt/rpc_handler.h"

namespace sim::mdt {

struct ServerOptions {
  std::string mount;
  std::string fsname = "lustre";
  bool sync = false;
  // --set NAME=VALUE, in order. NAME is a full lctl name or relative to
  // mdt.<fsname>-MDT0000 ("hsm.max_requests", "hsm_control").
  std::vector<std::string> settings;
  size_t max_queued_bytes = 64u << 20;
  // FUSE mode (--fuse BACKING): `mount` is the backing directory and this
  // is the mount point served through FUSE over it. Empty: directory mode.
  std::string fuse_mountpoint;
};

class Server final : public AgentChannel {
 public:
  Server(boost::asio::io_context* io, ServerOptions options);
  ~Server() override;

  // Prepares the mount, replays the journal, applies the settings and
  // starts listening. Returns "" or what went wrong.
  std::string Start();
  // Writes what the journal still buffers (at SIGTERM).
  void Flush();

  // AgentChannel.
  int SendToAgent(const std::string& uuid, const std::string& kuc) override;
  void RestoreReleased(const lu_fid& fid) override;

 private:
  struct Connection {
    uint64_t id = 0;
    std::unique_ptr<boost::asio::posix::stream_descriptor> socket;
    Caller caller;
    std::deque<std::string> out;
    size_t out_bytes = 0;
    bool write_armed = false;
    bool closed = false;
    std::string agent_uuid;  // set once registered: a KUC channel
    ParamCache param_cache;
  };
  using ConnPtr = std::shared_ptr<Connection>;
  struct Waiter {
    std::weak_ptr<Connection> conn;
    uint32_t seq;
  };

  std::string PrepareMount();
  std::string ApplySettings(bool* stay_stopped);
  std::string Listen();
  void AcceptLoop();
  void OnAccept();
  void ArmRead(const ConnPtr& conn);
  void OnReadable(const ConnPtr& conn);
  void HandlePacket(const ConnPtr& conn, wire::Packet& packet);
  void HandleRegister(const ConnPtr& conn, const wire::Packet& packet);
  // LU-10968 (upcall.h): true when the request went to the upcall (or was
  // refused on its way there) and is answered here.
  bool DivertToUpcall(const ConnPtr& conn, const wire::Packet& packet);
  void RunUpcall(const ConnPtr& conn, uint32_t seq,
                 const std::vector<std::string>& argv);
  void Reply(const ConnPtr& conn, uint32_t seq, int32_t status,
             std::string_view payload);
  // Returns false if the connection had to be dropped.
  bool Send(const ConnPtr& conn, std::string bytes);
  void FlushOutput(const ConnPtr& conn);
  void Drop(const ConnPtr& conn, const std::string& why);
  void EndOfTurnSoon();
  void EndOfTurn();
  void ArmTimer();
  std::string Who(const Connection& conn) const;

  boost::asio::io_context* io_;
  ServerOptions options_;
  common::SteadyClock clock_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<FileTable> files_;
  std::unique_ptr<Coordinator> cdt_;
  std::unique_ptr<ParamTable> params_;
  std::unique_ptr<RpcHandler> rpc_;
  std::unique_ptr<FuseMount> fuse_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> listener_;
  boost::asio::steady_timer timer_;
  std::optional<common::Clock::TimePoint> timer_deadline_;
  bool turn_pending_ = false;
  uint64_t next_conn_id_ = 1;
  std::unordered_map<uint64_t, ConnPtr> conns_;
  // Client side of each agent: every registration with that uuid.
  std::unordered_map<std::string, std::vector<ConnPtr>> kuc_groups_;
  std::unordered_map<lu_fid, std::vector<Waiter>, hsm::FidHash, FidEq> waiters_;
  // Upcalls running, by pid: each answers its request when it exits.
  struct Upcall;
  std::unordered_map<int, std::shared_ptr<Upcall>> upcalls_;
};

}  // namespace sim::mdt

#endif  // SIM_MDT_SERVER_H_
