// The token a mover or coordinatool-client presents to the server
// (docs/auth.md), read from the file the `token_file` key names: never from
// a command line or the environment, which other users of the host can
// read.
//
// Thread-safety: a pure function of the file.
#ifndef CLIENT_TOKEN_FILE_H_
#define CLIENT_TOKEN_FILE_H_

#include <string>

namespace client {

// Reads the token from `path`: its first line, blanks around it dropped.
// False with *error if the file cannot be read, is not a regular file, is
// readable by group or other (the token would be everyone's), is larger
// than 4 KiB or holds no token.
bool ReadTokenFile(const std::string& path, std::string* token,
                   std::string* error);

}  // namespace client

#endif  // CLIENT_TOKEN_FILE_H_
