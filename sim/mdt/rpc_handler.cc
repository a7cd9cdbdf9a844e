#include "sim/mdt/rpc_handler.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <type_traits>

#include "sim/mdt/upcall.h"

namespace sim::mdt {

namespace {

template <typename T>
std::string Bytes(const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  return std::string(reinterpret_cast<const char*>(&value), sizeof(value));
}

RpcReply Bad(int32_t status, std::string complaint) {
  return RpcReply{status, {}, std::move(complaint)};
}

RpcReply Status(int32_t status) { return RpcReply{status, {}, {}}; }

// Requests bigger than this are refused by the Lustre client (docs/lustre.md,
// user requests).
constexpr size_t kMaxUserRequest = 5120 / 3;

const char* TypeName(wire::MsgType type) {
  switch (type) {
    case wire::MsgType::kCopyStart:
      return "CopyStart";
    case wire::MsgType::kProgress:
      return "Progress";
    case wire::MsgType::kCopyEnd:
      return "CopyEnd";
    case wire::MsgType::kFd2Fid:
      return "Fd2Fid";
    case wire::MsgType::kStateGet:
      return "StateGet";
    case wire::MsgType::kStateSet:
      return "StateSet";
    case wire::MsgType::kCurrentAction:
      return "CurrentAction";
    case wire::MsgType::kImport:
      return "Import";
    case wire::MsgType::kDataVersion:
      return "DataVersion";
    case wire::MsgType::kFidAlloc:
      return "FidAlloc";
    case wire::MsgType::kDataVersionSet:
      return "DataVersionSet";
    case wire::MsgType::kUpcallBegin:
      return "UpcallBegin";
    case wire::MsgType::kUpcallEnd:
      return "UpcallEnd";
    default:
      return "request";
  }
}

// The payload size each fixed-size request must have, or -1.
long FixedSize(wire::MsgType type) {
  switch (type) {
    case wire::MsgType::kCopyStart:
    case wire::MsgType::kCopyEnd:
      return sizeof(wire::CopyReq);
    case wire::MsgType::kProgress:
      return sizeof(hsm_progress);
    case wire::MsgType::kFd2Fid:
    case wire::MsgType::kStateGet:
    case wire::MsgType::kCurrentAction:
    case wire::MsgType::kDataVersion:
    case wire::MsgType::kFidAlloc:
    case wire::MsgType::kListParam:
      return 0;
    case wire::MsgType::kStateSet:
      return sizeof(hsm_state_set);
    case wire::MsgType::kDataVersionSet:
      return sizeof(uint64_t);
    case wire::MsgType::kImport:
      return sizeof(hsm_user_import);
    case wire::MsgType::kRelease:
    case wire::MsgType::kWaitRestore:
      return sizeof(lu_fid);
    case wire::MsgType::kFid2Path:
      return sizeof(wire::Fid2PathReq);
    case wire::MsgType::kUpcallBegin:
    case wire::MsgType::kUpcallEnd:
      return sizeof(wire::UpcallReq);
    default:
      return -1;
  }
}

}  // namespace

RpcReply RpcHandler::Handle(const Caller& caller, const wire::Packet& packet,
                            ParamCache* cache) {
  const wire::MsgType type = packet.type();
  const std::string& payload = packet.payload;
  long fixed = FixedSize(type);
  if (fixed >= 0 && payload.size() != static_cast<size_t>(fixed))
    return Bad(-EPROTO, fmt::format("{} payload of {} bytes, expected {}",
                                    TypeName(type), payload.size(), fixed));
  switch (type) {
    case wire::MsgType::kCopyStart: {
      wire::CopyReq req;
      memcpy(&req, payload.data(), sizeof(req));
      int rc = cdt_->CopyStart(req.copy);
      if (rc == 0)
        copies_.Started(caller.pid, req.copy.hc_hai.hai_cookie,
                        req.copy.hc_hai.hai_action);
      return Status(rc);
    }
    case wire::MsgType::kProgress: {
      hsm_progress hp;
      memcpy(&hp, payload.data(), sizeof(hp));
      return Status(cdt_->Progress(hp));
    }
    case wire::MsgType::kCopyEnd: {
      wire::CopyReq req;
      memcpy(&req, payload.data(), sizeof(req));
      copies_.Ended(req.copy.hc_hai.hai_cookie);
      return Status(cdt_->CopyEnd(req.copy, packet.fd.get()));
    }
    case wire::MsgType::kFd2Fid:
    case wire::MsgType::kStateGet:
    case wire::MsgType::kStateSet:
    case wire::MsgType::kCurrentAction:
    case wire::MsgType::kImport:
    case wire::MsgType::kDataVersion:
    case wire::MsgType::kFidAlloc:
    case wire::MsgType::kDataVersionSet:
      return FileCall(packet, caller);
    case wire::MsgType::kRelease: {
      lu_fid fid;
      memcpy(&fid, payload.data(), sizeof(fid));
      return Status(files_->Release(fid));
    }
    case wire::MsgType::kFid2Path: {
      wire::Fid2PathReq req;
      memcpy(&req, payload.data(), sizeof(req));
      RpcReply reply;
      reply.status = files_->Fid2Path(req.fid, &reply.payload);
      return reply;
    }
    case wire::MsgType::kHsmRequest: {
      if (payload.size() >= kMaxUserRequest)
        return Bad(-E2BIG, fmt::format("HsmRequest of {} bytes (limit {})",
                                       payload.size(), kMaxUserRequest - 1));
      int rc = cdt_->Request(caller, payload);
      if (rc == -EPROTO)
        return Bad(rc, fmt::format("malformed hsm_user_request of {} bytes",
                                   payload.size()));
      return Status(rc);
    }
    case wire::MsgType::kUpcallBegin:
    case wire::MsgType::kUpcallEnd: {
      // LU-10968 bypass (upcall.h): no coordinator record is involved.
      wire::UpcallReq req;
      memcpy(&req, payload.data(), sizeof(req));
      if (type == wire::MsgType::kUpcallEnd)
        return Status(UpcallEnd(files_, req, packet.fd.get()));
      uint64_t version = 0;
      int rc = UpcallBegin(files_, req, packet.fd.get(), &version);
      if (rc < 0) return Status(rc);
      return RpcReply{0, Bytes(version), {}};
    }
    case wire::MsgType::kGetParam:
      return GetParam(payload, cache);
    case wire::MsgType::kSetParam: {
      size_t eq = payload.find('=');
      if (eq == std::string::npos) return Bad(-EINVAL, "SetParam without '='");
      return Status(params_->Set(std::string_view(payload).substr(0, eq),
                                 std::string_view(payload).substr(eq + 1)));
    }
    case wire::MsgType::kListParam: {
      RpcReply reply;
      for (const std::string& name : params_->Names())
        reply.payload += name + "\n";
      return reply;
    }
    default:
      return Bad(-EPROTO,
                 fmt::format("unknown message type {}", packet.header.type));
  }
}

RpcReply RpcHandler::FileCall(const wire::Packet& packet,
                              const Caller& caller) {
  const wire::MsgType type = packet.type();
  if (!packet.fd.valid())
    return Bad(-EBADF,
               fmt::format("{} without a file descriptor", TypeName(type)));
  FileEntry* entry;
  struct stat st;
  if (type == wire::MsgType::kImport) {
    hsm_user_import hui;
    memcpy(&hui, packet.payload.data(), sizeof(hui));
    lu_fid fid{};
    int rc = files_->Import(packet.fd.get(), hui, &fid);
    if (rc < 0) return Status(rc);
    return RpcReply{0, Bytes(fid), {}};
  }
  int rc = files_->Identify(packet.fd.get(), &entry, &st);
  if (rc == -ENOTTY)
    return Bad(rc,
               fmt::format("{} on a file outside the mount", TypeName(type)));
  if (rc < 0) return Status(rc);
  switch (type) {
    case wire::MsgType::kFd2Fid:
    case wire::MsgType::kFidAlloc:
      return RpcReply{0, Bytes(entry->fid), {}};
    case wire::MsgType::kStateGet: {
      hsm_user_state hus{};
      hus.hus_states = entry->hsm.flags;
      hus.hus_archive_id = entry->hsm.archive_id;
      return RpcReply{0, Bytes(hus), {}};
    }
    case wire::MsgType::kStateSet: {
      hsm_state_set hss;
      memcpy(&hss, packet.payload.data(), sizeof(hss));
      return Status(files_->StateSet(entry, st, hss, caller.privileged()));
    }
    case wire::MsgType::kCurrentAction: {
      hsm_current_action hca;
      cdt_->CurrentAction(entry->fid, &hca);
      return RpcReply{0, Bytes(hca), {}};
    }
    case wire::MsgType::kDataVersion:
      return RpcReply{0, Bytes(DataVersion(st)), {}};
    case wire::MsgType::kDataVersionSet: {
      // mdt_hsm_data_version: the HSM attribute's archived version becomes
      // the one given (never 0), whatever the file's state.
      uint64_t version;
      memcpy(&version, packet.payload.data(), sizeof(version));
      if (version == 0) return Status(-EINVAL);
      HsmAttrs hsm = entry->hsm;
      hsm.arch_ver = version;
      files_->SetHsm(entry, hsm);
      return Status(0);
    }
    default:
      return Bad(-EPROTO, "unexpected file call");
  }
}

RpcReply RpcHandler::GetParam(const std::string& payload, ParamCache* cache) {
  // "name" or "name\0offset" (see wire::kParamChunk).
  size_t nul = payload.find('\0');
  std::string name = payload.substr(0, nul);
  uint64_t offset = 0;
  if (nul != std::string::npos &&
      !ParseU64(std::string_view(payload).substr(nul + 1), &offset))
    return Bad(-EINVAL, "GetParam with a malformed offset");
  if (offset == 0 || cache->name != name) {
    std::string value;
    int rc = params_->Get(name, &value);
    if (rc < 0) return Status(rc);
    cache->name = name;
    cache->value = std::move(value);
  }
  RpcReply reply;
  if (offset < cache->value.size())
    reply.payload = cache->value.substr(offset, wire::kParamChunk);
  return reply;
}

}  // namespace sim::mdt
