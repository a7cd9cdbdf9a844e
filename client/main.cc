// coordinatool-client: status, queue, lock and debug receive against a
// coordinatool server (docs/operations.md, coordinatool-client; options in
// docs/configuration.md).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <iostream>
#include <iterator>

#include "client/active_requests.h"
#include "client/mover_control.h"
#include "client/reconciler.h"
#include "client/session.h"
#include "client/tls_settings.h"
#include "client/token_file.h"
#include "common/version.h"
#include "config/command_line.h"
#include "config/settings.h"
#include "config/settings_table.h"
#include "hsm/fid.h"
#include "protocol/action_item.h"
#include "protocol/byte_string.h"
#include "protocol/messages.h"

namespace json = boost::json;

namespace {

constexpr int kReplyTimeoutMs = 60'000;

void PrintJson(const json::value& value, std::ostream& out,
               const std::string& indent = "") {
  // Indented by 2, as the original CLI prints replies.
  if (value.is_object()) {
    const json::object& o = value.get_object();
    if (o.empty()) {
      out << "{}";
      return;
    }
    out << "{\n";
    size_t i = 0;
    for (const auto& kv : o) {
      out << indent << "  " << json::serialize(json::string(kv.key())) << ": ";
      PrintJson(kv.value(), out, indent + "  ");
      out << (++i < o.size() ? ",\n" : "\n");
    }
    out << indent << "}";
  } else if (value.is_array()) {
    const json::array& a = value.get_array();
    if (a.empty()) {
      out << "[]";
      return;
    }
    out << "[\n";
    for (size_t i = 0; i < a.size(); ++i) {
      out << indent << "  ";
      PrintJson(a[i], out, indent + "  ");
      out << (i + 1 < a.size() ? ",\n" : "\n");
    }
    out << indent << "]";
  } else {
    out << json::serialize(value);
  }
}

int64_t Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : 0;
}

std::string Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

void PrintStatus(const json::object& r) {
  fmt::print("{:<10}{:>10}{:>10}{:>12}\n", "", "pending", "running", "done");
  for (const char* type : {"restore", "remove", "archive"}) {
    fmt::print("{:<10}{:>10}{:>10}{:>12}\n", type,
               Field(r, fmt::format("pending_{}", type)),
               Field(r, fmt::format("running_{}", type)),
               Field(r, fmt::format("done_{}", type)));
  }
  fmt::print("{:<10}{:>10}{:>10}{:>12}\n", "cancel", Field(r, "pending_cancel"),
             "-", Field(r, "done_cancel"));
  int64_t locked = Field(r, "locked");
  fmt::print("dispatch: {}\n", locked == 0   ? "running"
                               : locked == 1 ? "locked"
                                             : "locked, quitting when idle");
  fmt::print("connections: {}\n", Field(r, "clients_connected"));
  const json::value* clients = r.if_contains("clients");
  if (!clients || !clients->is_array() || clients->get_array().empty()) return;
  fmt::print("{:<24}{:<14}{:>20}{:>20}\n", "client", "status", "running r/rm/a",
             "done r/rm/a");
  for (const json::value& c : clients->get_array()) {
    if (!c.is_object()) continue;
    const json::object& o = c.get_object();
    fmt::print(
        "{:<24}{:<14}{:>20}{:>20}\n", Text(o, "client_id"),
        Text(o, "status") + (o.contains("draining") ? ", draining" : ""),
        fmt::format("{}/{}/{}", Field(o, "current_restore"),
                    Field(o, "current_remove"), Field(o, "current_archive")),
        fmt::format("{}/{}/{}", Field(o, "done_restore"),
                    Field(o, "done_remove"), Field(o, "done_archive")));
  }
  for (const char* queue :
       {"waiting_restore", "waiting_remove", "waiting_archive"}) {
    const json::value* q = r.if_contains(queue);
    if (!q || !q->is_array()) continue;
    fmt::print("{} ({}):\n", queue, q->get_array().size());
    for (const json::value& entry : q->get_array()) {
      if (!entry.is_object()) continue;
      lu_fid fid{};
      std::string ignored;
      if (auto* f = entry.get_object().if_contains("hai_fid"))
        protocol::FidFromJson(*f, &fid, &ignored);
      std::string data, why;
      if (!protocol::GetBytes(entry.get_object(), "hai_data", &data, &why))
        data = "(" + why + ")";
      // Escaped: data may be any bytes, a terminal line must stay a line.
      fmt::print("  {} cookie={:#x} data={}\n", hsm::FormatFid(fid),
                 static_cast<uint64_t>(Field(entry.get_object(), "hai_cookie")),
                 protocol::Printable(data));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coordinatool-client: talk to a coordinatool server"};
  std::string config_path, fsname, client_id;
  std::vector<uint32_t> archives;
  bool lock = false, unlock = false, lock_quit = false, queue = false,
       recv_mode = false, mark_done = false, old_drain = false, as_json = false;
  int iters = 1, more = 0, less = 0;
  app.add_option("-c,--config", config_path,
                 std::string("configuration file (default ") +
                     config::kDefaultConfigPath + ")");
  // The settings' options, from the table (config/settings_table.cc).
  config::CommandLine<config::ClientSettings> options(
      &app, config::ClientSettingTable());
  app.add_flag("--lock", lock, "stop handing out work");
  app.add_flag("--unlock", unlock, "hand out work again");
  app.add_flag("--lock-quit", lock_quit,
               "stop handing out work, exit the server once nothing runs");
  app.add_flag(
      "-Q,--queue", queue,
      "queue the requests of Lustre's hsm/active_requests text read on stdin");
  bool reconcile = false, add_only = false;
  client::ReconcilerOptions reconcile_options;
  int reconcile_interval_sec = 60, command_timeout_sec = 300;
  auto* reconcile_opt = app.add_flag(
      "--reconcile", reconcile,
      "run as the reconciler (on the MDS): send Lustre's active requests to "
      "the server at every new server instance and every --interval "
      "seconds; the server takes back what it lost and drops what Lustre no "
      "longer has (docs/operations.md)");
  app.add_option("--active-requests-command", reconcile_options.command,
                 "with --reconcile: the command printing Lustre's active "
                 "requests")
      ->default_str(client::kDefaultActiveRequestsCommand)
      ->needs(reconcile_opt);
  app.add_option("--interval", reconcile_interval_sec,
                 "with --reconcile: seconds between passes")
      ->default_val(60)
      ->check(CLI::Range(1, 86400))
      ->needs(reconcile_opt);
  app.add_option("--command-timeout", command_timeout_sec,
                 "with --reconcile: seconds the command may run (then killed, "
                 "pass skipped)")
      ->default_val(300)
      ->check(CLI::Range(1, 86400))
      ->needs(reconcile_opt);
  app.add_flag("--add-only", add_only,
               "with --reconcile: only add what the server lacks, drop "
               "nothing (several MDS nodes each seeing their own MDTs)")
      ->needs(reconcile_opt);
  app.add_option("--fsname", fsname,
                 "filesystem name sent with -Q or --reconcile");
  app.add_flag("-R,--recv", recv_mode, "debug: receive work and print it");
  app.add_flag(
      "--recv-and-mark-done", mark_done,
      "DANGEROUS, debug only: take work as a mover and tell the server "
      "every item is done (status 0) without running it; Lustre still "
      "holds each one STARTED (docs/operations.md)");
  // The old name, refused: a script using it should stop, not do this.
  app.add_flag("--drain", old_drain)->group("");
  // Per-mover control (docs/operations.md, maintenance of one mover node).
  std::string drain_mover, resume_mover;
  int wait_sec = 0;
  auto* drain_mover_opt = app.add_option(
      "--drain-mover", drain_mover,
      "give mover ID no new work; what it runs finishes (admin role)");
  app.add_option("--resume-mover", resume_mover,
                 "give mover ID work again (admin role)");
  app.add_option("--wait", wait_sec,
                 "with --drain-mover: then wait up to SECONDS until the "
                 "mover runs nothing (exit status 2 if it still does)")
      ->check(CLI::Range(1, 7 * 86400))
      ->needs(drain_mover_opt);
  app.add_option("-I,--client-id", client_id, "id sent in ehlo");
  app.add_option("-A,--archive", archives, "archive id for ehlo (repeatable)")
      ->check(CLI::Range(1, INT32_MAX));
  app.add_option("-i,--iters", iters,
                 "replies to read with -R/--recv-and-mark-done")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--json", as_json, "print replies as JSON");
  app.add_flag("-v,--verbose", more, "more output; -vv dumps every queue");
  app.add_flag("-q,--quiet", less, "less output");
  app.set_version_flag(
      "-V,--version",
      std::string("Coordinatool client version ") + common::kVersion);
  app.footer(config::EnvironmentHelp(config::ClientSettingTable()));
  CLI11_PARSE(app, argc, argv);
  if (old_drain) {
    std::cerr << "--drain is now --recv-and-mark-done: it marks work done at "
                 "the server without running it, while Lustre still holds "
                 "it (dangerous, debug only; see docs/operations.md)\n";
    return EXIT_FAILURE;
  }
  if (reconcile && !client_id.empty()) {
    // With an id it would be taken for a mover.
    std::cerr << "--reconcile takes no -I: the reconciler is no mover\n";
    return EXIT_FAILURE;
  }
  if (!fsname.empty() && !queue && !reconcile) {
    std::cerr << "--fsname needs -Q or --reconcile\n";
    return EXIT_FAILURE;
  }
  if (lock + unlock + lock_quit + queue + recv_mode + mark_done + reconcile +
          !drain_mover.empty() + !resume_mover.empty() >
      1) {
    std::cerr << "choose one of --lock, --unlock, --lock-quit, -Q, -R, "
                 "--recv-and-mark-done, --reconcile, --drain-mover, "
                 "--resume-mover\n";
    return EXIT_FAILURE;
  }

  config::ClientSettings settings;
  std::vector<std::string> warnings;
  std::string error;
  if (!config::LoadClientSettings(config_path, config::ProcessEnvironment(),
                                  &settings, &warnings, &error)) {
    std::cerr << error << "\n";
    return EXIT_FAILURE;
  }
  if (!options.Apply(&settings, &error)) {
    std::cerr << error << "\n";
    return EXIT_FAILURE;
  }
  int verbose = std::clamp(settings.verbose + more - less, 0, 6);
  if (verbose >= 3)
    for (const std::string& warning : warnings) std::cerr << warning << "\n";

  // Parse stdin before connecting: a bad line sends nothing.
  std::vector<protocol::WireItem> items;
  if (queue) {
    std::string text((std::istreambuf_iterator<char>(std::cin)),
                     std::istreambuf_iterator<char>());
    std::vector<std::string> parse_warnings;
    if (!client::ParseActiveRequests(text, &items, &parse_warnings, &error)) {
      std::cerr << "stdin: " << error << "\n";
      return EXIT_FAILURE;
    }
    for (const std::string& w : parse_warnings)
      std::cerr << "stdin: " << w << "\n";
    if (items.empty()) return EXIT_SUCCESS;
  }

  // The token (docs/auth.md) is read before connecting: a bad file sends
  // nothing.
  std::string token;
  if (!settings.token_file.empty() &&
      !client::ReadTokenFile(settings.token_file, &token, &error)) {
    std::cerr << error << "\n";
    return EXIT_FAILURE;
  }

  // Connects, authenticates and says ehlo; *instance is the server's.
  // `definitive`: the server refused (waiting cannot fix it).
  auto open_session = [&](client::Session* session, std::string* instance,
                          bool* definitive, std::string* error) {
    *definitive = false;
    // A -vv status of a million queued items is ~100 MB of JSON.
    session->set_max_reply_bytes(SIZE_MAX);
    session->set_tls(client::TlsFromSettings(settings));
    if (!session->Connect(settings.host, settings.port, error)) return false;
    if (!token.empty() && !session->Authenticate(token, error)) {
      // A refusal is definitive; no answer is not.
      *definitive = error->starts_with("auth refused");
      return false;
    }
    protocol::EhloRequest ehlo;
    if (!client_id.empty()) ehlo.id = client_id;
    ehlo.archive_ids = archives;
    json::object ehlo_reply;
    if (!session->Call(protocol::ToJson(ehlo), &ehlo_reply, kReplyTimeoutMs,
                       error)) {
      *error = "ehlo: " + *error;
      return false;
    }
    protocol::EhloReply parsed;
    protocol::Parse(ehlo_reply, &parsed);
    if (parsed.header.status) {
      *error = "ehlo refused: " + parsed.header.error + " (" +
               strerror(parsed.header.status) + ")";
      *definitive = true;
      return false;
    }
    *instance = parsed.instance;
    return true;
  };

  if (reconcile) {
    reconcile_options.interval = std::chrono::seconds(reconcile_interval_sec);
    reconcile_options.command_timeout =
        std::chrono::seconds(command_timeout_sec);
    reconcile_options.add_only = add_only;
    reconcile_options.fsname = fsname;
    client::Reconciler reconciler(reconcile_options, open_session,
                                  [](const std::string& line) {
                                    // Unbuffered, a line at a time: journald or
                                    // a log file reads it.
                                    std::cerr << line << std::endl;
                                  });
    return reconciler.Run();
  }

  client::Session session;
  std::string instance;
  bool definitive = false;
  if (!open_session(&session, &instance, &definitive, &error)) {
    std::cerr << error << "\n";
    return EXIT_FAILURE;
  }
  json::object reply;

  if (lock || unlock || lock_quit) {
    protocol::LockRequest request{lock        ? protocol::Locked::kLocked
                                  : lock_quit ? protocol::Locked::kLockAndQuit
                                              : protocol::Locked::kUnlocked};
    if (!session.Call(protocol::ToJson(request), &reply, kReplyTimeoutMs,
                      &error)) {
      std::cerr << "lock: " << error << "\n";
      return EXIT_FAILURE;
    }
    if (protocol::ReplyHeader h = protocol::ReadReplyHeader(reply); h.status) {
      std::cerr << "error locking: " << h.error << "\n";
      return EXIT_FAILURE;
    }
    std::cout << "ok\n";
    return EXIT_SUCCESS;
  }

  if (!drain_mover.empty() || !resume_mover.empty()) {
    const bool drain = !drain_mover.empty();
    const protocol::MoverControlRequest request{
        drain, drain ? drain_mover : resume_mover};
    const char* command = drain ? "drain" : "resume";
    if (!session.Call(protocol::ToJson(request), &reply, kReplyTimeoutMs,
                      &error)) {
      std::cerr << command << ": " << error << "\n";
      return EXIT_FAILURE;
    }
    protocol::MoverControlReply done;
    protocol::Parse(reply, &done);
    if (as_json) {
      PrintJson(reply, std::cout);
      std::cout << "\n";
    }
    if (done.header.status) {
      std::cerr << command << ": " << done.header.error << "\n";
      return EXIT_FAILURE;
    }
    if (!as_json) std::cout << client::Describe(done) << std::endl;
    if (wait_sec == 0) return EXIT_SUCCESS;
    return client::WaitForDrained(session, request.client_id,
                                  std::chrono::seconds(wait_sec),
                                  kReplyTimeoutMs, std::cout, std::cerr);
  }

  if (queue) {
    protocol::QueueRequest request;
    for (auto& item : items) {
      protocol::ListEntry entry;
      entry.item = std::move(item);
      request.items.push_back(std::move(entry));
    }
    if (!fsname.empty()) request.fsnames.push_back(fsname);
    if (!session.Call(protocol::ToJson(request), &reply, kReplyTimeoutMs,
                      &error)) {
      std::cerr << "queue: " << error << "\n";
      return EXIT_FAILURE;
    }
    protocol::QueueReply queued;
    protocol::Parse(reply, &queued);
    int64_t enqueued = queued.enqueued, skipped = queued.skipped;
    if (as_json) {
      PrintJson(reply, std::cout);
      std::cout << "\n";
    } else {
      fmt::print("queued {} new requests, {} already known\n", enqueued,
                 skipped);
    }
    // Requests Lustre no longer holds ended since the list was read (or
    // were never made): nothing to give back. Named, but not a failure
    // when they are the only refusals.
    const int64_t not_live = queued.not_live;
    const bool failed = queued.header.status != 0 &&
                        static_cast<int64_t>(queued.failed.size()) != not_live;
    if (queued.header.status) {
      if (failed) std::cerr << "queue: " << queued.header.error << "\n";
      // Which items were refused and why; the others are queued.
      for (const protocol::QueueFailure& f : queued.failed)
        std::cerr << fmt::format("queue: request {}: {}\n", f.index + 1,
                                 protocol::Printable(f.error));
      if (failed) return EXIT_FAILURE;
      std::cerr << fmt::format(
          "queue: {} requests not queued: Lustre holds them no more\n",
          not_live);
    }
    if (enqueued + skipped + not_live !=
        static_cast<int64_t>(request.items.size())) {
      std::cerr << fmt::format(
          "didn't process all records (expected {}, got {}+{}+{})\n",
          request.items.size(), enqueued, skipped, not_live);
      return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
  }

  if (recv_mode || mark_done) {
    auto limit = [](uint32_t value) {
      return value == config::kUnlimited ? int64_t{-1} : int64_t{value};
    };
    const json::object request = protocol::ToJson(protocol::RecvRequest{
        limit(settings.max_archive), limit(settings.max_restore),
        limit(settings.max_remove), int64_t{settings.hal_size}});
    for (int i = 0; iters == 0 || i < iters; ++i) {
      if (!session.Call(request, &reply, -1, &error)) {
        std::cerr << "recv: " << error << "\n";
        return EXIT_FAILURE;
      }
      PrintJson(reply, std::cout);
      std::cout << std::endl;
      if (!mark_done) continue;
      protocol::RecvReply received;
      if (!protocol::Parse(reply, &received, &error)) continue;
      for (const protocol::ListEntry& entry : received.list) {
        // Every item is reported done, even one that cannot be decoded
        // whole, as long as its identity can.
        hsm_action_item hai = entry.item.item.hai;
        std::string why;
        if (!entry.ok() &&
            (!entry.raw.is_object() || !protocol::ItemIdentityFromJson(
                                           entry.raw.get_object(), &hai, &why)))
          continue;
        protocol::DoneRequest done;
        done.id = protocol::ItemId::Of(hai);
        json::object done_reply;
        if (!session.Call(protocol::ToJson(done), &done_reply, kReplyTimeoutMs,
                          &error)) {
          std::cerr << "done: " << error << "\n";
          return EXIT_FAILURE;
        }
      }
    }
    return EXIT_SUCCESS;
  }

  if (!session.Call(protocol::ToJson(protocol::StatusRequest{verbose}), &reply,
                    kReplyTimeoutMs, &error)) {
    std::cerr << "status: " << error << "\n";
    return EXIT_FAILURE;
  }
  if (as_json) {
    PrintJson(reply, std::cout);
    std::cout << "\n";
  } else {
    PrintStatus(reply);
  }
  return EXIT_SUCCESS;
}
