// sim-lctl: lctl get_param / set_param / list_param for the Lustre HSM
// simulator's MDT tunables and debugfs files (e.g.
// mdt.lustre-MDT0000.hsm.active_requests), through liblustreapi's simulator
// extensions. Patterns are globs as lctl takes them: '*' and '?' do not
// cross a '.'.
//
// The mount is --mount DIR, else $LUSTRE_SIM_MOUNT, else the current
// directory's mount.
#include <fnmatch.h>
#include <lustre/lustreapi.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/version.h"
#include "sim/llapi/sim_extensions.h"

namespace {

const char* g_prog = "sim-lctl";

void Usage() {
  fprintf(stderr,
          "usage: %s [--mount DIR] get_param [-n] PATTERN...\n"
          "       %s [--mount DIR] set_param [-n] NAME=VALUE...\n"
          "       %s [--mount DIR] list_param PATTERN...\n",
          g_prog, g_prog, g_prog);
}

// Takes ownership of a malloc()ed string.
std::string Adopt(char* text) {
  std::string out = text ? text : "";
  free(text);
  return out;
}

// lctl's glob: dots separate path components, so match them as '/'.
bool Matches(const std::string& pattern, const std::string& name) {
  std::string p = pattern, n = name;
  for (char& c : p)
    if (c == '.') c = '/';
  for (char& c : n)
    if (c == '.') c = '/';
  return fnmatch(p.c_str(), n.c_str(), FNM_PATHNAME) == 0;
}

bool HasGlob(const std::string& pattern) {
  return pattern.find_first_of("*?[") != std::string::npos;
}

class Lctl {
 public:
  explicit Lctl(std::string mount) : mount_(std::move(mount)) {}

  // Names matching `pattern` in the daemon's order. A pattern without glob
  // characters is returned as is when nothing lists it, so the daemon gives
  // the error for it.
  int Expand(const std::string& pattern, std::vector<std::string>* names) {
    int rc = LoadNames();
    if (rc < 0) return rc;
    for (const std::string& name : all_)
      if (Matches(pattern, name)) names->push_back(name);
    if (names->empty() && !HasGlob(pattern)) names->push_back(pattern);
    return 0;
  }

  int GetParam(int argc, char** argv) {
    bool only_value = false;
    int i = 0;
    for (; i < argc && argv[i][0] == '-'; ++i) {
      if (strcmp(argv[i], "-n") == 0) {
        only_value = true;
      } else {
        fprintf(stderr, "error: get_param: unknown option '%s'\n", argv[i]);
        return -EINVAL;
      }
    }
    if (i == argc) return Help();
    int result = 0;
    for (; i < argc; ++i) {
      std::vector<std::string> names;
      int rc = Expand(argv[i], &names);
      if (rc == 0 && names.empty()) rc = -ENOENT;
      if (rc < 0) {
        fprintf(stderr, "error: get_param: param_path '%s': %s\n", argv[i],
                strerror(-rc));
        if (result == 0) result = rc;
        continue;
      }
      for (const std::string& name : names) {
        char* raw = nullptr;
        rc = llapi_sim_get_param(mount_.c_str(), name.c_str(), &raw);
        std::string value = Adopt(raw);
        if (rc < 0) {
          fprintf(stderr, "error: get_param: read '%s': %s\n", name.c_str(),
                  strerror(-rc));
          if (result == 0) result = rc;
          continue;
        }
        Print(name, value, only_value);
      }
    }
    return result;
  }

  int SetParam(int argc, char** argv) {
    bool quiet = false;
    int i = 0;
    for (; i < argc && argv[i][0] == '-'; ++i) {
      if (strcmp(argv[i], "-n") == 0) {
        quiet = true;
      } else {
        fprintf(stderr, "error: set_param: unknown option '%s'\n", argv[i]);
        return -EINVAL;
      }
    }
    if (i == argc) return Help();
    int result = 0;
    for (; i < argc; ++i) {
      const char* eq = strchr(argv[i], '=');
      if (eq == nullptr) {
        fprintf(stderr, "error: set_param: setting %s: Invalid argument\n",
                argv[i]);
        if (result == 0) result = -EINVAL;
        continue;
      }
      std::string pattern(argv[i], static_cast<size_t>(eq - argv[i]));
      std::string value = eq + 1;
      std::vector<std::string> names;
      int rc = Expand(pattern, &names);
      if (rc == 0 && names.empty()) rc = -ENOENT;
      if (rc < 0) {
        fprintf(stderr, "error: set_param: param_path '%s': %s\n",
                pattern.c_str(), strerror(-rc));
        if (result == 0) result = rc;
        continue;
      }
      for (const std::string& name : names) {
        rc = llapi_sim_set_param(mount_.c_str(), name.c_str(), value.c_str());
        if (rc < 0) {
          fprintf(stderr, "error: set_param: setting '%s'='%s': %s\n",
                  name.c_str(), value.c_str(), strerror(-rc));
          if (result == 0) result = rc;
          continue;
        }
        if (!quiet) printf("%s=%s\n", name.c_str(), value.c_str());
      }
    }
    return result;
  }

  int ListParam(int argc, char** argv) {
    if (argc == 0) return Help();
    int result = 0;
    for (int i = 0; i < argc; ++i) {
      int rc = LoadNames();
      if (rc < 0) return Fail("list_param", argv[i], rc);
      std::vector<std::string> names;
      std::string pattern = argv[i];
      for (const std::string& name : all_)
        if (Matches(pattern, name) || Matches(pattern + ".*", name) ||
            Matches(pattern + ".*.*", name))
          names.push_back(name);
      if (names.empty()) {
        Fail("list_param", argv[i], -ENOENT);
        if (result == 0) result = -ENOENT;
      }
      for (const std::string& name : names) printf("%s\n", name.c_str());
    }
    return result;
  }

 private:
  int LoadNames() {
    if (loaded_) return 0;
    char* raw = nullptr;
    int rc = llapi_sim_list_param(mount_.c_str(), &raw);
    std::string text = Adopt(raw);
    if (rc < 0) return rc;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) all_.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    loaded_ = true;
    return 0;
  }

  static int Fail(const char* cmd, const char* pattern, int rc) {
    fprintf(stderr, "error: %s: param_path '%s': %s\n", cmd, pattern,
            strerror(-rc));
    return rc;
  }

  static int Help() {
    Usage();
    return -EINVAL;
  }

  // lctl's layout: "name=value" for one line, "name=" then the lines for
  // several; -n prints the value alone.
  static void Print(const std::string& name, std::string value,
                    bool only_value) {
    if (!value.empty() && value.back() != '\n') value.push_back('\n');
    if (only_value) {
      fputs(value.c_str(), stdout);
      return;
    }
    std::string body = value.empty() ? "" : value.substr(0, value.size() - 1);
    if (body.find('\n') != std::string::npos)
      printf("%s=\n%s", name.c_str(), value.c_str());
    else
      printf("%s=%s\n", name.c_str(), body.c_str());
  }

  std::string mount_;
  std::vector<std::string> all_;
  bool loaded_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  g_prog = program_invocation_short_name;
  std::string mount;
  int i = 1;
  for (; i < argc; ++i) {
    if (strcmp(argv[i], "--mount") == 0 && i + 1 < argc) {
      mount = argv[++i];
    } else if (strncmp(argv[i], "--mount=", 8) == 0) {
      mount = argv[i] + 8;
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      Usage();
      return 0;
    } else if (strcmp(argv[i], "--version") == 0) {
      printf("%s (coordinatool) %s\n", g_prog, common::kVersion);
      return 0;
    } else {
      break;
    }
  }
  if (mount.empty()) {
    const char* env = getenv("LUSTRE_SIM_MOUNT");
    mount = env && *env ? env : ".";
  }
  if (i == argc) {
    Usage();
    return EINVAL;
  }
  char fsname[LUSTRE_MAXFSNAME + 1];
  if (llapi_search_fsname(mount.c_str(), fsname) < 0) {
    fprintf(stderr,
            "%s: '%s' is not on a simulated Lustre mount (use --mount DIR "
            "or LUSTRE_SIM_MOUNT)\n",
            g_prog, mount.c_str());
    return ENODEV;
  }
  std::string cmd = argv[i++];
  Lctl lctl(mount);
  int rc;
  if (cmd == "get_param") {
    rc = lctl.GetParam(argc - i, argv + i);
  } else if (cmd == "set_param") {
    rc = lctl.SetParam(argc - i, argv + i);
  } else if (cmd == "list_param") {
    rc = lctl.ListParam(argc - i, argv + i);
  } else {
    fprintf(stderr, "%s: unknown command '%s'\n", g_prog, cmd.c_str());
    Usage();
    return EINVAL;
  }
  fflush(stdout);
  return rc < 0 ? -rc : rc;
}
