// LD_PRELOADed into ct-posix by copytool_test: a liblustreapi stand-in
// whose llapi_hsm_copytool_get_fd always fails, as when a wrapping library
// (the original coordinatool's preload library) does not provide it and
// the call reaches a liblustreapi that does not know the handle.
#include <lustre/lustreapi.h>

#include <cerrno>

extern "C" __attribute__((visibility("default"))) int llapi_hsm_copytool_get_fd(
    struct hsm_copytool_private*) {
  return -EINVAL;
}
