#include "protocol/messages.h"

#include <fmt/format.h>

#include <cerrno>
#include <climits>

#include "hsm/fid.h"
#include "protocol/fields.h"
#include "protocol/mover_id.h"

namespace protocol {

namespace json = boost::json;

namespace {

constexpr std::pair<Command, std::string_view> kCommands[] = {
    {Command::kEhlo, "ehlo"},         {Command::kRecv, "recv"},
    {Command::kDone, "done"},         {Command::kQueue, "queue"},
    {Command::kStatus, "status"},     {Command::kLock, "lock"},
    {Command::kProgress, "progress"}, {Command::kHeartbeat, "heartbeat"},
    {Command::kAuth, "auth"},         {Command::kReconcile, "reconcile"},
    {Command::kDrain, "drain"},       {Command::kResume, "resume"},
    {Command::kShow, "show"},         {Command::kList, "list"},
    {Command::kUpcall, "upcall"},
};

json::object Request(Command command) {
  return json::object{{"command", CommandName(command)}};
}

// An entry of a list of items; `raw` is kept when `keep_raw`.
ListEntry ReadEntry(const json::value& value, bool keep_raw) {
  ListEntry entry;
  if (!value.is_object())
    entry.error = "not an object";
  else
    ItemFromJson(value.get_object(), &entry.item, &entry.error);
  if (keep_raw) entry.raw = value;
  return entry;
}

// The identity of a done or progress; false with *error.
bool ReadId(const json::object& m, std::string_view missing, ItemId* id,
            std::string* error) {
  switch (ReadItemId(m, id, error)) {
    case IdField::kMissing:
      *error = missing;
      return false;
    case IdField::kMalformed:
      return false;
    case IdField::kOk:
      break;
  }
  return true;
}

}  // namespace

std::string_view CommandName(Command command) {
  for (const auto& [c, name] : kCommands)
    if (c == command) return name;
  return "";
}

CommandRead ReadCommand(const json::object& message, Command* command,
                        std::string* name, std::string* error) {
  const json::value* value = message.if_contains("command");
  if (!value || !value->is_string()) {
    *error = "message without a string 'command'";
    return CommandRead::kMissing;
  }
  *name = std::string(value->get_string());
  for (const auto& [c, n] : kCommands) {
    if (n == *name) {
      *command = c;
      return CommandRead::kOk;
    }
  }
  // The valid ones listed: a peer speaking another version of the protocol
  // is told what this server understands.
  std::string known;
  for (const auto& [c, n] : kCommands) {
    if (!known.empty()) known += ", ";
    known += n;
  }
  *error = fmt::format("unknown command '{}' (known: {})", *name, known);
  return CommandRead::kUnknown;
}

ReplyHeader ReadReplyHeader(const json::object& reply) {
  ReplyHeader header;
  const json::value* status = reply.if_contains("status");
  if (status && status->is_int64()) {
    const int64_t value = status->get_int64();
    // A value past an int's range is no errno, but it is not a success
    // either: truncated, 2^32 would read as 0 (and llabs(INT64_MIN) is
    // undefined).
    header.status = value == 0 ? 0
                    : value < -INT32_MAX || value > INT32_MAX
                        ? EPROTO
                        : static_cast<int>(value < 0 ? -value : value);
  }
  const json::value* error = reply.if_contains("error");
  if (error && error->is_string()) header.error = error->get_string();
  return header;
}

void OmitZeros(json::object& fields, bool booleans_too) {
  for (auto it = fields.begin(); it != fields.end();) {
    const json::value& v = it->value();
    bool zero = (v.is_int64() && v.get_int64() == 0) ||
                (v.is_uint64() && v.get_uint64() == 0) ||
                (v.is_string() && v.get_string().empty()) ||
                (booleans_too && v.is_bool() && !v.get_bool());
    it = zero ? fields.erase(it) : std::next(it);
  }
}

json::object MakeReply(std::string_view command, const ReplyHeader& header,
                       json::object fields) {
  OmitZeros(fields);
  fields["command"] = command;
  if (header.status != 0) fields["status"] = header.status;
  if (!header.error.empty()) fields["error"] = header.error;
  return fields;
}

// ehlo

bool Parse(const json::object& m, EhloRequest* out, std::string* error) {
  *out = EhloRequest();
  if (const json::value* ids = m.if_contains("archive_ids")) {
    if (!ids->is_array()) {
      *error = "Bad archive id in list";
      return false;
    }
    for (const json::value& id : ids->get_array()) {
      if (!id.is_int64() || id.get_int64() < 1 || id.get_int64() > INT32_MAX) {
        *error = "Bad archive id in list";
        return false;
      }
      out->archive_ids.push_back(static_cast<uint32_t>(id.get_int64()));
    }
  }
  if (!OptionalBool(m, "progress", false, &out->progress, error)) return false;
  if (!OptionalBool(m, "upcall_worker", false, &out->upcall_worker, error))
    return false;
  const json::value* hai_list = m.if_contains("hai_list");
  if (hai_list && !hai_list->is_array()) {
    *error = "'hai_list' must be an array";
    return false;
  }
  if (const json::value* v = m.if_contains("id")) {
    if (!v->is_string()) {
      *error = "'id' must be a string";
      return false;
    }
    std::string id(v->get_string());
    // "" names the server's global queues, and ids starting with NUL are
    // the server's own (restores being located).
    if (id.empty() || id.find('\0') != std::string::npos) {
      *error = "'id' must be non-empty, without NUL";
      return false;
    }
    out->id = std::move(id);
  }
  if (const json::value* h = m.if_contains("heartbeat"))
    out->heartbeat = h->is_bool() && h->get_bool();
  if (const json::value* f = m.if_contains("fsname"); f && f->is_string())
    out->fsname = std::string(f->get_string());
  if (hai_list) {
    for (const json::value& value : hai_list->get_array()) {
      ListEntry entry = ReadEntry(value, false);
      if (entry.ok() && entry.item.archive_id == 0)
        entry.error = "'hal_archive_id' is missing or 0";
      out->hai_list.push_back(std::move(entry));
    }
  }
  return true;
}

json::object ToJson(const EhloRequest& request) {
  json::object m = Request(Command::kEhlo);
  if (request.fsname) m["fsname"] = *request.fsname;
  if (request.progress) m["progress"] = true;
  if (request.heartbeat) m["heartbeat"] = true;
  if (request.upcall_worker) m["upcall_worker"] = true;
  if (request.id) m["id"] = *request.id;
  if (!request.archive_ids.empty()) {
    json::array ids;
    for (uint32_t id : request.archive_ids) ids.push_back(id);
    m["archive_ids"] = std::move(ids);
  }
  if (!request.hai_list.empty()) {
    json::array list;
    for (const ListEntry& entry : request.hai_list)
      list.push_back(entry.raw.is_null() ? json::value(ItemToJson(entry.item))
                                         : entry.raw);
    m["hai_list"] = std::move(list);
  }
  return m;
}

void Parse(const json::object& m, EhloReply* out) {
  *out = EhloReply();
  out->header = ReadReplyHeader(m);
  const json::value* progress = m.if_contains("progress");
  out->progress = progress && progress->is_bool() && progress->get_bool();
  int64_t ms = 0;
  if (OptionalInt(m, "heartbeat_ms", 0, &ms)) out->heartbeat_ms = ms;
  if (const json::value* i = m.if_contains("instance"); i && i->is_string())
    out->instance = std::string(i->get_string());
}

json::object ToJson(const EhloReply& reply) {
  json::object fields{{"progress", reply.progress}};
  if (reply.heartbeat_ms != 0) fields["heartbeat_ms"] = reply.heartbeat_ms;
  if (!reply.instance.empty()) fields["instance"] = reply.instance;
  return MakeReply(CommandName(Command::kEhlo), reply.header,
                   std::move(fields));
}

// auth

bool Parse(const json::object& m, AuthRequest* out, std::string* error) {
  *out = AuthRequest();
  const json::value* token = m.if_contains("token");
  if (!token || !token->is_string()) {
    *error = "'token' is missing or not a string";
    return false;
  }
  if (token->get_string().empty()) {
    *error = "'token' is empty";
    return false;
  }
  if (token->get_string().size() > kMaxTokenBytes) {
    *error = "'token' is too long";
    return false;
  }
  out->token = token->get_string();
  return true;
}

json::object ToJson(const AuthRequest& request) {
  json::object m = Request(Command::kAuth);
  m["token"] = request.token;
  return m;
}

void Parse(const json::object& m, AuthReply* out) {
  *out = AuthReply();
  out->header = ReadReplyHeader(m);
  for (auto [key, field] :
       {std::pair{"role", &out->role}, std::pair{"identity", &out->identity}}) {
    const json::value* value = m.if_contains(key);
    if (value && value->is_string()) *field = value->get_string();
  }
}

json::object ToJson(const AuthReply& reply) {
  return MakeReply(CommandName(Command::kAuth), reply.header,
                   {{"role", reply.role}, {"identity", reply.identity}});
}

// recv

bool Parse(const json::object& m, RecvRequest* out, std::string* error) {
  *out = RecvRequest();
  return OptionalInt(m, "max_archive", -1, &out->max_archive, error) &&
         OptionalInt(m, "max_restore", -1, &out->max_restore, error) &&
         OptionalInt(m, "max_remove", -1, &out->max_remove, error) &&
         OptionalInt(m, "max_bytes", hsm::kHalMaxSize, &out->max_bytes, error);
}

json::object ToJson(const RecvRequest& request) {
  json::object m = Request(Command::kRecv);
  m["max_archive"] = request.max_archive;
  m["max_restore"] = request.max_restore;
  m["max_remove"] = request.max_remove;
  m["max_bytes"] = request.max_bytes;
  return m;
}

bool Parse(const json::object& m, RecvReply* out, std::string* error) {
  *out = RecvReply();
  out->header = ReadReplyHeader(m);
  if (out->header.status != 0) return true;
  const json::value* hal_value = m.if_contains("hsm_action_list");
  if (!hal_value || !hal_value->is_object()) {
    *error = "'hsm_action_list' is missing or not an object";
    return false;
  }
  const json::object& hal = hal_value->get_object();
  uint64_t archive_id = 0;
  out->hal.version = 0;
  GetU64(hal, "hal_version", &out->hal.version);
  GetU64(hal, "hal_archive_id", &archive_id);
  GetU64(hal, "hal_flags", &out->hal.flags);
  out->hal.archive_id = static_cast<uint32_t>(archive_id);
  if (out->hal.version != HAL_VERSION) {
    *error = fmt::format("'hal_version' is not {}", HAL_VERSION);
    return false;
  }
  const json::value* fsname = hal.if_contains("hal_fsname");
  if (!fsname || !fsname->is_string() ||
      fsname->get_string().size() > LUSTRE_MAXFSNAME) {
    *error = "'hal_fsname' is missing, not a string or too long";
    return false;
  }
  out->hal.fsname = fsname->get_string();
  const json::value* list = hal.if_contains("list");
  if (!list || !list->is_array()) {
    *error = "'list' must be an array";
    return false;
  }
  for (const json::value& value : list->get_array())
    out->list.push_back(ReadEntry(value, true));
  return true;
}

json::object RecvReplyToJson(const ActionListHeader& header,
                             std::span<const WireItem> cancels,
                             std::span<const WireItem> items) {
  json::array list;
  for (const WireItem& cancel : cancels) list.push_back(ItemToJson(cancel));
  for (const WireItem& item : items) list.push_back(ItemToJson(item));
  json::object hal{{"hal_version", header.version},
                   {"hal_archive_id", header.archive_id},
                   {"hal_fsname", header.fsname},
                   {"list", std::move(list)}};
  if (header.flags) hal["hal_flags"] = static_cast<int64_t>(header.flags);
  return json::object{{"command", CommandName(Command::kRecv)},
                      {"hsm_action_list", std::move(hal)}};
}

json::object ToJson(const RecvReply& reply) {
  return MakeReply(CommandName(Command::kRecv), reply.header);
}

// done

bool Parse(const json::object& m, DoneRequest* out, std::string* error) {
  *out = DoneRequest();
  if (!ReadId(m, "cookie or fid not set -- old client?", &out->id, error))
    return false;
  int64_t status = 0, end_rc = 0, begin_rc = 0, hp_flags = 0;
  if (!OptionalIntIn(m, "status", 0, INT32_MIN, INT32_MAX, &status, error) ||
      !OptionalIntIn(m, "end_rc", 0, INT32_MIN, INT32_MAX, &end_rc, error) ||
      !OptionalIntIn(m, "hp_flags", 0, 0, UINT16_MAX, &hp_flags, error))
    return false;
  out->hp_flags = static_cast<uint16_t>(hp_flags);
  std::string ignored;
  if (OptionalIntIn(m, "begin_rc", 0, INT32_MIN, INT32_MAX, &begin_rc,
                    &ignored))
    out->begin_rc = static_cast<int32_t>(begin_rc);
  out->status = static_cast<int32_t>(status);
  out->end_rc = static_cast<int32_t>(end_rc);
  return true;
}

json::object ToJson(const DoneRequest& request) {
  json::object m = Request(Command::kDone);
  PutItemId(m, request.id);
  m["status"] = request.status;
  if (request.begin_rc != 0) m["begin_rc"] = request.begin_rc;
  if (request.end_rc != 0) m["end_rc"] = request.end_rc;
  if (request.hp_flags != 0) m["hp_flags"] = request.hp_flags;
  return m;
}

// progress

bool Parse(const json::object& m, ProgressRequest* out, std::string* error) {
  *out = ProgressRequest();
  return ReadId(m, "'hai_cookie' and 'hai_dfid' are required", &out->id, error);
}

json::object ToJson(const ProgressRequest& request) {
  json::object m = Request(Command::kProgress);
  PutItemId(m, request.id);
  return m;
}

// queue

bool Parse(const json::object& m, QueueRequest* out, std::string* error) {
  *out = QueueRequest();
  const json::value* list = m.if_contains("hsm_action_items");
  if (!list || !list->is_array()) {
    *error = "No hsm_action_items set";
    return false;
  }
  for (const char* key : {"fsname", "hal_fsname"}) {
    const json::value* fsname = m.if_contains(key);
    if (!fsname) continue;
    if (!fsname->is_string()) {
      *error = "Bad fsname";
      return false;
    }
    out->fsnames.emplace_back(fsname->get_string());
  }
  out->items.reserve(list->get_array().size());
  for (const json::value& value : list->get_array()) {
    ListEntry entry = ReadEntry(value, false);
    const uint32_t action = entry.item.item.hai.hai_action;
    if (!entry.ok())
      ;
    else if (entry.item.archive_id == 0)
      entry.error = "'hal_archive_id' is missing or 0";
    else if (action != HSMA_ARCHIVE && action != HSMA_RESTORE &&
             action != HSMA_REMOVE)
      entry.error = "'hai_action' is not an archive, restore or remove";
    out->items.push_back(std::move(entry));
  }
  return true;
}

json::object ToJson(const QueueRequest& request) {
  json::array list;
  for (const ListEntry& entry : request.items) {
    json::object o = ItemToJson(entry.item);
    o.erase("timestamp");
    list.push_back(std::move(o));
  }
  json::object m = Request(Command::kQueue);
  m["hsm_action_items"] = std::move(list);
  if (!request.fsnames.empty() && !request.fsnames.front().empty())
    m["fsname"] = request.fsnames.front();
  return m;
}

void Parse(const json::object& m, QueueReply* out) {
  *out = QueueReply();
  out->header = ReadReplyHeader(m);
  OptionalInt(m, "enqueued", 0, &out->enqueued);
  OptionalInt(m, "skipped", 0, &out->skipped);
  OptionalInt(m, "not_live", 0, &out->not_live);
  const json::value* failed = m.if_contains("failed");
  if (!failed || !failed->is_array()) return;
  for (const json::value& f : failed->get_array()) {
    if (!f.is_object()) continue;
    QueueFailure failure;
    OptionalInt(f.get_object(), "index", 0, &failure.index);
    const json::value* why = f.get_object().if_contains("error");
    if (why && why->is_string()) failure.error = why->get_string();
    out->failed.push_back(std::move(failure));
  }
}

json::object ToJson(const QueueReply& reply) {
  json::object fields{{"enqueued", reply.enqueued},
                      {"skipped", reply.skipped},
                      {"not_live", reply.not_live}};
  if (!reply.failed.empty()) {
    json::array failed;
    for (const QueueFailure& f : reply.failed)
      failed.push_back(json::object{{"index", f.index}, {"error", f.error}});
    fields["failed"] = std::move(failed);
  }
  return MakeReply(CommandName(Command::kQueue), reply.header,
                   std::move(fields));
}

// reconcile

namespace {

void ReadFailures(const json::object& m, std::vector<QueueFailure>* out) {
  const json::value* failed = m.if_contains("failed");
  if (!failed || !failed->is_array()) return;
  for (const json::value& f : failed->get_array()) {
    if (!f.is_object()) continue;
    QueueFailure failure;
    OptionalInt(f.get_object(), "index", 0, &failure.index);
    const json::value* why = f.get_object().if_contains("error");
    if (why && why->is_string()) failure.error = why->get_string();
    out->push_back(std::move(failure));
  }
}

json::array WriteFailures(const std::vector<QueueFailure>& failures) {
  json::array failed;
  for (const QueueFailure& f : failures)
    failed.push_back(json::object{{"index", f.index}, {"error", f.error}});
  return failed;
}

std::string OptionalString(const json::object& m, std::string_view key) {
  const json::value* v = m.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

}  // namespace

bool Parse(const json::object& m, ReconcileRequest* out, std::string* error) {
  *out = ReconcileRequest();
  if (!Parse(m, &out->queue, error)) return false;
  if (const json::value* token = m.if_contains("pass_token")) {
    if (!token->is_string()) {
      *error = "'pass_token' must be a string";
      return false;
    }
    out->token = std::string(token->get_string());
  }
  return true;
}

json::object ToJson(const ReconcileRequest& request) {
  json::object m = ToJson(request.queue);
  m["command"] = CommandName(Command::kReconcile);
  if (request.token) m["pass_token"] = *request.token;
  return m;
}

void Parse(const json::object& m, ReconcileReply* out) {
  *out = ReconcileReply();
  out->header = ReadReplyHeader(m);
  OptionalInt(m, "added", 0, &out->added);
  OptionalInt(m, "known", 0, &out->known);
  OptionalInt(m, "dropped", 0, &out->dropped);
  OptionalInt(m, "refused", 0, &out->refused);
  OptionalInt(m, "not_live", 0, &out->not_live);
  OptionalInt(m, "running_gone", 0, &out->running_gone);
  out->instance = OptionalString(m, "instance");
  out->token = OptionalString(m, "pass_token");
  out->add_only = OptionalString(m, "add_only");
  ReadFailures(m, &out->failed);
}

json::object ToJson(const ReconcileReply& reply) {
  json::object fields{
      {"added", reply.added},       {"known", reply.known},
      {"dropped", reply.dropped},   {"refused", reply.refused},
      {"not_live", reply.not_live}, {"running_gone", reply.running_gone},
      {"instance", reply.instance}, {"pass_token", reply.token},
      {"add_only", reply.add_only}};
  if (!reply.failed.empty()) fields["failed"] = WriteFailures(reply.failed);
  return MakeReply(CommandName(Command::kReconcile), reply.header,
                   std::move(fields));
}

// status

void Parse(const json::object& m, StatusRequest* out) {
  *out = StatusRequest();
  OptionalInt(m, "verbose", 4, &out->verbose);
}

json::object ToJson(const StatusRequest& request) {
  json::object m = Request(Command::kStatus);
  m["verbose"] = request.verbose;
  return m;
}

// show, list

bool Parse(const json::object& m, ShowRequest* out, std::string* error) {
  *out = ShowRequest();
  const json::value* v = m.if_contains("fid");
  std::optional<lu_fid> fid;
  if (v && v->is_string()) fid = hsm::ParseFid(v->get_string());
  if (!fid) {
    *error = "'fid' must be a FID such as [0x200000401:0x1:0x0]";
    return false;
  }
  out->fid = *fid;
  return true;
}

json::object ToJson(const ShowRequest& request) {
  json::object m = Request(Command::kShow);
  m["fid"] = hsm::FormatFid(request.fid);
  return m;
}

namespace {

// An optional string field that must be empty or one of `allowed`.
bool OptionalChoice(const json::object& m, std::string_view key,
                    std::initializer_list<std::string_view> allowed,
                    std::string* out, std::string* error) {
  const json::value* v = m.if_contains(key);
  if (!v) return true;
  if (v->is_string()) {
    std::string_view value = v->get_string();
    if (allowed.size() == 0 && !value.empty()) {
      *out = value;
      return true;
    }
    for (std::string_view choice : allowed)
      if (value == choice) {
        *out = value;
        return true;
      }
  }
  std::string names;
  for (std::string_view choice : allowed)
    names += (names.empty() ? "" : ", ") + std::string(choice);
  *error = allowed.size() == 0
               ? fmt::format("'{}' must be a non-empty string", key)
               : fmt::format("'{}' must be one of {}", key, names);
  return false;
}

}  // namespace

bool Parse(const json::object& m, ListRequest* out, std::string* error) {
  *out = ListRequest();
  int64_t cursor = 0;
  return OptionalChoice(m, "type", {"restore", "remove", "archive"}, &out->type,
                        error) &&
         OptionalChoice(m, "mover", {}, &out->mover, error) &&
         OptionalChoice(m, "state",
                        {"waiting", "locating", "held", "oversized", "running",
                         "after_same_fid"},
                        &out->state, error) &&
         OptionalIntIn(m, "older_than", 0, 0, INT32_MAX, &out->older_than_s,
                       error) &&
         OptionalIntIn(m, "cursor", 0, 0, INT64_MAX, &cursor, error) &&
         (out->cursor = static_cast<uint64_t>(cursor), true) &&
         OptionalIntIn(m, "limit", 100, 1, kListMaxLimit, &out->limit, error);
}

json::object ToJson(const ListRequest& request) {
  json::object m = Request(Command::kList);
  if (!request.type.empty()) m["type"] = request.type;
  if (!request.mover.empty()) m["mover"] = request.mover;
  if (!request.state.empty()) m["state"] = request.state;
  if (request.older_than_s) m["older_than"] = request.older_than_s;
  if (request.cursor) m["cursor"] = static_cast<int64_t>(request.cursor);
  m["limit"] = request.limit;
  return m;
}

// lock

bool Parse(const json::object& m, LockRequest* out, std::string* error) {
  *out = LockRequest();
  int64_t locked = 0;
  if (!OptionalInt(m, "locked", 0, &locked) || locked < 0 || locked > 2) {
    *error = "invalid locked value";
    return false;
  }
  out->locked = static_cast<Locked>(locked);
  return true;
}

json::object ToJson(const LockRequest& request) {
  json::object m = Request(Command::kLock);
  m["locked"] = static_cast<int64_t>(request.locked);
  return m;
}

// drain, resume

namespace {

constexpr std::string_view kCurrentKeys[] = {
    "current_restore", "current_remove", "current_archive"};

}  // namespace

bool Parse(const json::object& m, bool drain, MoverControlRequest* out,
           std::string* error) {
  *out = MoverControlRequest();
  out->drain = drain;
  const json::value* id = m.if_contains("client_id");
  if (!id || !id->is_string()) {
    *error = "'client_id' is missing or not a string";
    return false;
  }
  out->client_id = std::string(id->get_string());
  if (auto why = MoverIdError(out->client_id)) {
    *error = "'client_id': " + *why;
    return false;
  }
  return true;
}

json::object ToJson(const MoverControlRequest& request) {
  json::object m = Request(request.drain ? Command::kDrain : Command::kResume);
  m["client_id"] = request.client_id;
  return m;
}

void Parse(const json::object& m, MoverControlReply* out) {
  *out = MoverControlReply();
  out->header = ReadReplyHeader(m);
  const json::value* command = m.if_contains("command");
  out->drain = !(command && command->is_string() &&
                 command->get_string() == CommandName(Command::kResume));
  out->client_id = OptionalString(m, "client_id");
  const json::value* draining = m.if_contains("draining");
  out->draining = draining && draining->is_bool() && draining->get_bool();
  const json::value* connected = m.if_contains("connected");
  out->connected = connected && connected->is_bool() && connected->get_bool();
  for (size_t t = 0; t < out->current.size(); ++t)
    OptionalInt(m, kCurrentKeys[t], 0, &out->current[t]);
}

json::object ToJson(const MoverControlReply& reply) {
  json::object fields{{"client_id", reply.client_id},
                      {"draining", reply.draining},
                      {"connected", reply.connected}};
  for (size_t t = 0; t < reply.current.size(); ++t)
    fields[kCurrentKeys[t]] = reply.current[t];
  return MakeReply(
      CommandName(reply.drain ? Command::kDrain : Command::kResume),
      reply.header, std::move(fields));
}

json::object HeartbeatJson() { return Request(Command::kHeartbeat); }

}  // namespace protocol
