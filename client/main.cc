// coordinatool-client: status, show, list, queue, lock and debug receive
// against a coordinatool server (docs/operations.md, coordinatool-client;
// options in docs/configuration.md).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <thread>

#include "client/active_requests.h"
#include "client/failover.h"
#include "client/mover_control.h"
#include "client/reconciler.h"
#include "client/session.h"
#include "client/tls_settings.h"
#include "client/token_file.h"
#include "common/version.h"
#include "config/command_line.h"
#include "config/host_list.h"
#include "config/settings.h"
#include "config/settings_table.h"
#include "hsm/fid.h"
#include "hsm/lustreapi.h"
#include "protocol/action_item.h"
#include "protocol/byte_string.h"
#include "protocol/messages.h"

namespace json = boost::json;

namespace {

constexpr int kReplyTimeoutMs = 60'000;
// How long the client goes on asking when only standbys answer (a leader
// is being chosen: a lease's time to live, 5 s by default).
constexpr int kElectionWaitMs = 10'000;

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

double Number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : 0;
}

constexpr const char* kTypes[] = {"restore", "remove", "archive"};

// The server leaves zero counters out of its replies, as the original; a
// script reading the client's --json finds every counter, zeros included.
void FillZeros(json::object& r) {
  auto fill = [](json::object& o, std::string_view key) {
    if (!o.contains(key)) o[key] = 0;
  };
  for (const char* type : kTypes)
    for (const char* what : {"running", "pending", "done", "failed"})
      fill(r, fmt::format("{}_{}", what, type));
  for (const char* key : {"pending_cancel", "done_cancel", "clients_connected",
                          "locked", "oversized"})
    fill(r, key);
  if (json::value* redispatch = r.if_contains("redispatch");
      redispatch && redispatch->is_object())
    for (const char* key : {"held", "checks", "handed_out", "forgotten",
                            "check_errors", "failed", "ended_failed"})
      fill(redispatch->get_object(), key);
  if (json::value* clients = r.if_contains("clients");
      clients && clients->is_array())
    for (json::value& c : clients->get_array()) {
      if (!c.is_object()) continue;
      for (const char* type : kTypes) {
        fill(c.get_object(), fmt::format("current_{}", type));
        if (c.get_object().contains("done_restore") ||
            Text(c.get_object(), "kind") == "mover")
          fill(c.get_object(), fmt::format("done_{}", type));
      }
    }
}

// "1h02m", "3m20s", "12s": an age an operator reads at a glance.
std::string Age(double seconds) {
  if (seconds < 0) seconds = 0;
  auto s = static_cast<int64_t>(seconds + 0.5);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  return fmt::format("{}d{:02}h", s / 86400, s % 86400 / 3600);
}

// A FID of the wire (an object or a number triple) in Lustre's form.
std::string FidText(const json::value* f) {
  lu_fid fid{};
  std::string ignored;
  if (f) protocol::FidFromJson(*f, &fid, &ignored);
  return hsm::FormatFid(fid);
}

void PrintStatus(const json::object& r) {
  fmt::print("{:<10}{:>10}{:>10}{:>12}{:>10}{:>14}\n", "", "pending", "running",
             "succeeded", "failed", "oldest");
  for (const char* type : kTypes) {
    const std::string oldest_key = fmt::format("oldest_waiting_{}_s", type);
    const int64_t done = Field(r, fmt::format("done_{}", type));
    const int64_t failed = Field(r, fmt::format("failed_{}", type));
    fmt::print("{:<10}{:>10}{:>10}{:>12}{:>10}{:>14}\n", type,
               Field(r, fmt::format("pending_{}", type)),
               Field(r, fmt::format("running_{}", type)), done - failed, failed,
               r.contains(oldest_key) ? Age(Number(r, oldest_key)) : "-");
  }
  fmt::print("{:<10}{:>10}{:>10}{:>12}\n", "cancel", Field(r, "pending_cancel"),
             "-", Field(r, "done_cancel"));
  int64_t locked = Field(r, "locked");
  fmt::print("dispatch: {}\n", locked == 0   ? "running"
                               : locked == 1 ? "locked"
                                             : "locked, quitting when idle");
  std::string store = Text(r, "store_state");
  fmt::print("store: {}{}\n", store.empty() ? "?" : store,
             Text(r, "store").empty() ? "" : " (" + Text(r, "store") + ")");
  if (const json::value* rd = r.if_contains("redispatch");
      rd && rd->is_object() && Field(rd->get_object(), "held"))
    fmt::print("held for a re-dispatch check: {}\n",
               Field(rd->get_object(), "held"));
  if (int64_t oversized = Field(r, "oversized"))
    fmt::print("set aside as oversized: {}\n", oversized);
  fmt::print("connections: {}\n", Field(r, "clients_connected"));
  const json::value* clients = r.if_contains("clients");
  if (!clients || !clients->is_array() || clients->get_array().empty()) return;
  // Movers (those the server knows by id, and clients taking work without
  // one), then the other connections (status, admin): apart.
  std::vector<const json::object*> movers, others;
  for (const json::value& c : clients->get_array()) {
    if (!c.is_object()) continue;
    const std::string kind = Text(c.get_object(), "kind");
    (kind.empty() || kind == "mover" ? movers : others)
        .push_back(&c.get_object());
  }
  if (!movers.empty()) {
    fmt::print("{:<24}{:<14}{:>16}{:>16}  {}\n", "mover", "status",
               "running r/rm/a", "done r/rm/a", "oldest own queue");
    for (const json::object* o : movers) {
      std::string oldest;
      for (const char* type : kTypes) {
        const std::string key = fmt::format("oldest_waiting_{}_s", type);
        if (o->contains(key))
          oldest += fmt::format("{}{} {}", oldest.empty() ? "" : ", ", type,
                                Age(Number(*o, key)));
      }
      std::string status = Text(*o, "status");
      if (const json::value* d = o->if_contains("draining");
          d && d->is_bool() && d->get_bool())
        status += ", draining";
      fmt::print(
          "{:<24}{:<14}{:>16}{:>16}  {}\n",
          protocol::Printable(Text(*o, "client_id")), status,
          fmt::format("{}/{}/{}", Field(*o, "current_restore"),
                      Field(*o, "current_remove"),
                      Field(*o, "current_archive")),
          fmt::format("{}/{}/{}", Field(*o, "done_restore"),
                      Field(*o, "done_remove"), Field(*o, "done_archive")),
          oldest.empty() ? "-" : oldest);
    }
  }
  if (!others.empty()) {
    fmt::print("other connections (status, admin):\n");
    for (const json::object* o : others)
      fmt::print("  {:<24}{:<10}{}\n",
                 protocol::Printable(Text(*o, "client_id")), Text(*o, "kind"),
                 Text(*o, "status"));
  }
  for (const char* queue :
       {"waiting_restore", "waiting_remove", "waiting_archive"}) {
    const json::value* q = r.if_contains(queue);
    if (!q || !q->is_array()) continue;
    fmt::print("{} ({}):\n", queue, q->get_array().size());
    for (const json::value& entry : q->get_array()) {
      if (!entry.is_object()) continue;
      std::string data, why;
      if (!protocol::GetBytes(entry.get_object(), "hai_data", &data, &why))
        data = "(" + why + ")";
      // Escaped: data may be any bytes, a terminal line must stay a line.
      fmt::print("  {} cookie={:#x} data={}\n",
                 FidText(entry.get_object().if_contains("hai_fid")),
                 static_cast<uint64_t>(Field(entry.get_object(), "hai_cookie")),
                 protocol::Printable(data));
    }
  }
}

// One request of a `show` or `list` reply, as a line.
std::string DescribeRequest(const json::object& o) {
  const std::string state = Text(o, "state");
  std::string line =
      fmt::format("{} {} cookie={:#x}: ", Text(o, "fid"), Text(o, "type"),
                  static_cast<uint64_t>(Field(o, "cookie")));
  if (state == "running") {
    line += "running on " + protocol::Printable(Text(o, "mover"));
    if (o.contains("running_s")) line += " for " + Age(Number(o, "running_s"));
    if (o.contains("last_progress_s"))
      line += ", last progress " + Age(Number(o, "last_progress_s")) + " ago";
  } else if (state == "done") {
    line += fmt::format("done ({}{}) {} ago", Text(o, "result"),
                        Field(o, "status")
                            ? fmt::format(", status {}", Field(o, "status"))
                            : "",
                        Age(Number(o, "ended_s")));
    if (o.contains("mover"))
      line += " on " + protocol::Printable(Text(o, "mover"));
  } else if (state == "locating") {
    line += "waiting for the restore locality helper's answer";
  } else if (state == "held") {
    line += "held until Lustre confirms it (re-dispatch check)";
  } else if (state == "oversized") {
    line += "set aside: larger than the buffer of the movers that reached it";
  } else {
    const std::string queue = Text(o, "queue");
    line += queue == "global"
                ? "waiting in the global queue"
                : "waiting in the own queue of " + protocol::Printable(queue);
    line += fmt::format(" (archive id {})", Field(o, "archive_id"));
    if (o.contains("position"))
      line += fmt::format(", {} ahead", Field(o, "position"));
    else if (o.contains("position_beyond"))
      line += fmt::format(", more than {} ahead", Field(o, "position_beyond"));
    if (o.contains("batch_mover"))
      line += fmt::format(", its batch held by {} slot {}",
                          protocol::Printable(Text(o, "batch_mover")),
                          Field(o, "batch_slot"));
    else if (o.contains("batch_hint"))
      line += ", its batch waits for a free slot";
  }
  if (state != "done" && o.contains("waited_s"))
    line += (state == "running" ? ", waited " : ", waiting for ") +
            Age(Number(o, "waited_s"));
  if (o.contains("estimate_s"))
    line += fmt::format("; should start in about {} (recent rate {:.2f}/s)",
                        Age(Number(o, "estimate_s")), Number(o, "rate_per_s"));
  else if (state == "waiting" && o.contains("rate_per_s"))
    line += "; no estimate: none of its type was handed out lately";
  return line;
}

void PrintRequests(const json::object& r) {
  const json::value* requests = r.if_contains("requests");
  if (!requests || !requests->is_array()) return;
  for (const json::value& v : requests->get_array())
    if (v.is_object()) fmt::print("{}\n", DescribeRequest(v.get_object()));
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
  // `show` and `list` are subcommands; every flag above keeps its meaning
  // without one, and may also come after them.
  std::string show_target;
  CLI::App* show_cmd = app.add_subcommand(
      "show",
      "where the requests of one file are, and when it should run: a FID "
      "([0x...:0x...:0x...]) or a path, resolved to its FID on this node");
  show_cmd->add_option("target", show_target, "FID or PATH")->required();
  protocol::ListRequest list_request;
  bool list_all = false;
  CLI::App* list_cmd = app.add_subcommand(
      "list", "the requests held, filtered, a page at a time");
  list_cmd->add_option("--type", list_request.type, "restore, remove, archive")
      ->check(CLI::IsMember({"restore", "remove", "archive"}));
  list_cmd->add_option("--mover", list_request.mover,
                       "running on it or waiting in its own queues");
  list_cmd
      ->add_option("--state", list_request.state,
                   "waiting, locating, held, oversized, running")
      ->check(CLI::IsMember(
          {"waiting", "locating", "held", "oversized", "running"}));
  list_cmd
      ->add_option("--older-than", list_request.older_than_s,
                   "arrived at least this many seconds ago")
      ->check(CLI::Range(0, INT32_MAX));
  list_cmd
      ->add_option("--limit", list_request.limit,
                   "requests per page (at most 1000)")
      ->check(CLI::Range(int64_t{1}, protocol::kListMaxLimit));
  list_cmd->add_option("--cursor", list_request.cursor,
                       "go on from a previous page's cursor");
  list_cmd->add_flag("--all", list_all, "every page, one after the other");
  show_cmd->fallthrough();  // the flags above, after the subcommand
  list_cmd->fallthrough();
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
  const bool show = show_cmd->parsed(), list = list_cmd->parsed();
  if (lock + unlock + lock_quit + queue + recv_mode + mark_done + reconcile +
          !drain_mover.empty() + !resume_mover.empty() + show + list >
      1) {
    std::cerr << "choose one of --lock, --unlock, --lock-quit, -Q, -R, "
                 "--recv-and-mark-done, --reconcile, --drain-mover, "
                 "--resume-mover, show, list\n";
    return EXIT_FAILURE;
  }
  // show: a FID as given, else a path whose FID this node resolves (a
  // Lustre client mount); before connecting, so a bad one sends nothing.
  protocol::ShowRequest show_request;
  if (show) {
    if (auto fid = hsm::ParseFid(show_target)) {
      show_request.fid = *fid;
    } else if (int rc = llapi_path2fid(show_target.c_str(), &show_request.fid);
               rc < 0) {
      std::cerr << show_target
                << ": neither a FID nor a path on Lustre: " << strerror(-rc)
                << "\n";
      return EXIT_FAILURE;
    }
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

  // No other command: the status.
  const bool status_mode =
      !(lock || unlock || lock_quit || queue || recv_mode || mark_done ||
        reconcile || !drain_mover.empty() || !resume_mover.empty() || show ||
        list);

  // The token (docs/auth.md) is read before connecting: a bad file sends
  // nothing.
  std::string token;
  if (!settings.token_file.empty() &&
      !client::ReadTokenFile(settings.token_file, &token, &error)) {
    std::cerr << error << "\n";
    return EXIT_FAILURE;
  }

  // Connects, authenticates and says ehlo; *instance is the server's.
  // `definitive`: the server refused (waiting cannot fix it). With several
  // servers (`host`), each is tried in order and a standby's answer is
  // followed to the leader (client/failover.h); while a leader is being
  // chosen (standbys only), rounds go on for up to kElectionWaitMs.
  auto open_session = [&](client::Session* session, std::string* instance,
                          bool* definitive, std::string* error) {
    *definitive = false;
    // A -vv status of a million queued items is ~100 MB of JSON.
    session->set_max_reply_bytes(SIZE_MAX);
    session->set_tls(client::TlsFromSettings(settings));
    protocol::EhloRequest ehlo;
    if (!client_id.empty()) ehlo.id = client_id;
    ehlo.archive_ids = archives;
    const json::object ehlo_json = protocol::ToJson(ehlo);
    json::object ehlo_reply;
    client::ServerList servers(config::ServerAddresses(settings));
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(kElectionWaitMs);
    // `status` of one server that is a standby: its own status, asked
    // again on a new connection without token nor ehlo, which a standby
    // answers with its role and leader (docs/protocol.md, "The standby's
    // answer"). With several servers the leader's status is wanted: the
    // standby's answer is followed.
    const bool own_status_of_standby = status_mode && servers.size() == 1;
    for (;;) {
      const client::Attempt::Result result = client::TryRound(
          servers,
          [&](const client::ServerAddress& to) {
            client::Attempt attempt = client::Introduce(
                *session, to, token, ehlo_json, &ehlo_reply, kReplyTimeoutMs);
            if (attempt.result == client::Attempt::Result::kStandby &&
                own_status_of_standby &&
                session->Connect(to.host, to.port, &attempt.error)) {
              attempt.result = client::Attempt::Result::kConnected;
              ehlo_reply = json::object{{"command", "ehlo"}};
            }
            return attempt;
          },
          error);
      if (result == client::Attempt::Result::kConnected) break;
      *definitive = result == client::Attempt::Result::kRefused;
      if (*definitive || !servers.standby_seen() ||
          std::chrono::steady_clock::now() >= deadline)
        return false;
      std::this_thread::sleep_for(client::kStandbyRetryCap / 4);
    }
    protocol::EhloReply parsed;
    protocol::Parse(ehlo_reply, &parsed);
    if (parsed.header.status) {
      session->Close();
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
    // A refusal of the whole command (a wrong filesystem, a store that
    // cannot persist) names no item: a failure with the server's reason.
    const int64_t not_live = queued.not_live;
    const bool failed =
        queued.header.status != 0 &&
        (queued.failed.empty() ||
         static_cast<int64_t>(queued.failed.size()) != not_live);
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

  // A request whose reply is an error is refused, with the server's words.
  auto call = [&](const json::object& request, const char* what) {
    if (!session.Call(request, &reply, kReplyTimeoutMs, &error)) {
      std::cerr << what << ": " << error << "\n";
      return false;
    }
    if (protocol::ReplyHeader h = protocol::ReadReplyHeader(reply); h.status) {
      std::cerr << what << ": " << h.error << "\n";
      return false;
    }
    return true;
  };
  if (show) {
    if (!call(protocol::ToJson(show_request), "show")) return EXIT_FAILURE;
    if (as_json) {
      PrintJson(reply, std::cout);
      std::cout << "\n";
    } else {
      const json::value* requests = reply.if_contains("requests");
      if (!requests || !requests->is_array() || requests->get_array().empty())
        fmt::print("{}: no request held nor ended lately\n",
                   hsm::FormatFid(show_request.fid));
      PrintRequests(reply);
    }
    return EXIT_SUCCESS;
  }
  if (list) {
    for (;;) {
      if (!call(protocol::ToJson(list_request), "list")) return EXIT_FAILURE;
      if (as_json) {
        PrintJson(reply, std::cout);
        std::cout << "\n";
      } else {
        PrintRequests(reply);
      }
      const int64_t cursor = Field(reply, "cursor");
      if (cursor <= 0) break;
      if (!list_all) {
        if (!as_json) fmt::print("more: --cursor {}\n", cursor);
        break;
      }
      list_request.cursor = static_cast<uint64_t>(cursor);
    }
    return EXIT_SUCCESS;
  }

  if (!session.Call(protocol::ToJson(protocol::StatusRequest{verbose}), &reply,
                    kReplyTimeoutMs, &error)) {
    std::cerr << "status: " << error << "\n";
    return EXIT_FAILURE;
  }
  if (as_json) {
    FillZeros(reply);
    PrintJson(reply, std::cout);
    std::cout << "\n";
  } else {
    PrintStatus(reply);
  }
  return EXIT_SUCCESS;
}
